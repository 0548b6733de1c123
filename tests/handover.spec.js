// The shift hand-off, in real Chromium against the real relay: Alice's "Hand over" writes a
// timeline event whose note lists what Bob changed during her shift (from the relay's record
// online, from her device's read mark offline), opened for editing; her edit of the note
// reaches Bob and survives a reload, and a note goes into the Markdown export. On a phone
// (390×844) nothing scrolls sideways. A viewer has no "Hand over".
import fs from 'node:fs';
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, openIncident, section, shareLink } from './support/app.js';
import { addEvent, eventRow } from './support/evidence.js';
import { storedMark } from './support/state.js';

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/** Alice's incident with Bob in it as an editor; Alice's read mark is set (her shift starts). */
async function aliceAndBob(person, relay, aliceOptions = {}) {
  const a = await person('Alice', aliceOptions);
  const b = await person('Bob');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Night shift' });
  await expectSynced(a.page);
  await expect.poll(async () => (await storedMark(a.page, id))?.size ?? 0).toBeGreaterThan(0);
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page);
  return { a, b, id };
}

/** Bob works during Alice's shift, and Alice's device has it. */
async function bobWorks(a, b) {
  await addEvent(b.page, { what: 'Ransom note found on FS02' });
  await section(b.page, 'summary').fill('Two file servers encrypted.');
  await expectSynced(b.page);
  await expect(eventRow(a.page, 'Ransom note found on FS02')).toHaveCount(1, { timeout: 15_000 });
  await expect(section(a.page, 'summary')).toHaveValue('Two file servers encrypted.', { timeout: 15_000 });
}

/** `ms` as the time field takes it, in UTC to the second. */
function typedUtc(ms) {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Alice writes the hand-off (for a shift from `start`, else the default); returns its row. */
async function handOver(page, start) {
  await page.getByRole('button', { name: 'Hand over', exact: true }).click();
  const field = page.locator('#handover-start');
  // Prefilled with her read mark's time, in the display zone.
  await expect(field).toHaveValue(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  if (start) await field.fill(start);
  const started = Date.now();
  await page.locator('#handover-write').click();
  await expect(page.locator('#handover-result')).toBeVisible({ timeout: 15_000 });
  const row = page.locator('[data-testid="timeline-event"]').filter({ hasText: 'Shift hand-off — Alice' });
  await expect(row).toHaveCount(1);
  console.log(`hand-off event written ${Date.now() - started} ms after "Write the hand-off"`);
  return row;
}

test('what a second person changed during the shift is in the hand-off; the note is edited and kept', async ({
  person,
  relay,
}) => {
  const { a, b } = await aliceAndBob(person, relay);
  // Alice's shift starts now (the next whole second: the field takes seconds), after the
  // incident is on the relay and before Bob's work.
  const shift = Math.ceil((Date.now() + 1) / 1000) * 1000;
  while (Date.now() < shift + 700) await a.page.waitForTimeout(100);
  await bobWorks(a, b);

  const row = await handOver(a.page, typedUtc(shift));
  await expect(a.page.locator('#handover-result')).toContainText("the relay's record");
  const notes = row.getByTestId('event-notes');
  await expect(notes).toContainText('Shift hand-off, ');
  await expect(notes).toContainText('Timeline event added: Ransom note found on FS02');
  await expect(notes).toContainText('Summary changed');
  await expect(notes).toContainText('Next steps by owner');

  // Opened for editing, the note's field focused.
  const field = row.getByLabel('Notes');
  await expect(field).toBeFocused();
  const written = await field.inputValue();
  expect(written).toContain('What changed during the shift');
  await field.fill(`${written}\nBackups isolated at 06:10; Bob has the restore.`);
  await field.blur();
  await expect(notes).toContainText('Backups isolated at 06:10');
  await expectSynced(a.page);

  // Bob has it, with its lines; and it survives Alice's reload.
  const bobs = eventRow(b.page, 'Shift hand-off — Alice');
  await expect(bobs.getByTestId('event-notes')).toContainText('Backups isolated at 06:10', { timeout: 15_000 });
  const lines = await bobs.getByTestId('event-notes').evaluate((el) => el.getBoundingClientRect().height);
  const line = await bobs.getByTestId('event-what').evaluate((el) => el.getBoundingClientRect().height);
  expect(lines, 'the note keeps its lines').toBeGreaterThan(5 * line);
  await a.page.reload();
  await expect(eventRow(a.page, 'Shift hand-off — Alice').getByTestId('event-notes')).toContainText(
    'Backups isolated at 06:10',
    { timeout: 15_000 },
  );

  // The Markdown export carries the note after the timeline table.
  await a.page.locator('#export-button').click();
  const [file] = await Promise.all([a.page.waitForEvent('download'), a.page.locator('#export-markdown').click()]);
  const markdown = fs.readFileSync(await file.path(), 'utf8');
  expect(markdown).toContain('## Timeline notes');
  expect(markdown).toMatch(/ — Shift hand-off — Alice:\\\nShift hand-off, /);
  expect(markdown).toContain('Backups isolated at 06:10; Bob has the restore.');
});

test('offline on a phone, the hand-off counts from the device’s read mark; nothing scrolls sideways', async ({
  person,
  relay,
}) => {
  const { a, b } = await aliceAndBob(person, relay, phone);
  await bobWorks(a, b);
  await a.context.setOffline(true);

  const row = await handOver(a.page);
  await expect(a.page.locator('#handover-result')).toContainText("this device's copy at your mark");
  await expect(row.getByTestId('event-notes')).toContainText('Timeline event added: Ransom note found on FS02');
  await expect(row.getByLabel('Notes')).toBeFocused();

  const widths = await a.page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
  expect(widths.page, 'nothing scrolls sideways').toBeLessThanOrEqual(widths.screen);
  const small = await a.page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('#handover-button, #handover-panel :is(button, input)')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.width < 44 || r.height < 44)) out.push(`${el.id || el.textContent}: ${r.width}×${r.height}`);
    }
    return out;
  });
  expect(small, 'controls smaller than 44×44 px').toEqual([]);

  // Back online, the event reaches Bob.
  await a.context.setOffline(false);
  await expect(eventRow(b.page, 'Shift hand-off — Alice')).toHaveCount(1, { timeout: 20_000 });
});

test('a viewer has no "Hand over"', async ({ person, relay }) => {
  const a = await person('Alice');
  const v = await person('Vera');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Not for viewers' });
  await expect(a.page.getByRole('button', { name: 'Hand over', exact: true })).toBeVisible();
  await openIncident(v.page, await shareLink(a.page, { name: 'Vera', role: 'viewer' }), { name: 'Vera' });
  await expect(v.page.locator('main')).toHaveAttribute('data-access', 'viewer');
  await expect(v.page.getByRole('button', { name: 'History', exact: true })).toBeVisible();
  await expect(v.page.getByRole('button', { name: 'Hand over', exact: true })).toHaveCount(0);
});
