// "Who wrote what", in real Chromium against the real relay: a second person (own browser,
// invited as editor) adds a timeline event and writes part of the summary; the first turns
// on "Who wrote what" and sees that person's name on the event and on their part of the
// summary. An event written while offline and synced later says "written offline at …,
// synced at …". On a phone (390×844) the bylines fit without sideways scrolling. Viewers
// are not offered the toggle; offline, it says it needs the relay.
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, openIncident, section, shareLink } from './support/app.js';
import { addEvent, eventRow } from './support/evidence.js';

/** Turns "Who wrote what" on from the History panel. */
async function whoWrote(page) {
  const panel = page.locator('#history-panel');
  if (!(await panel.isVisible())) await page.getByRole('button', { name: 'History', exact: true }).click();
  const started = Date.now();
  const toggle = page.getByRole('button', { name: 'Who wrote what', exact: true });
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  return started;
}

/** Alice's incident with Bob in it as an editor (his own browser context). */
async function aliceAndBob(person, relay, alice = {}, bob = {}) {
  const a = await person('Alice', alice.context);
  const b = await person('Bob', bob.context);
  if (bob.before) await bob.before(b);
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Who wrote what' });
  await section(a.page, 'summary').fill('Payroll mail was phished. ');
  await expectSynced(a.page);
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page);
  await expect(section(b.page, 'summary')).toHaveValue('Payroll mail was phished. ');
  return { a, b };
}

test('the second person’s name is on the event they added and on their part of the summary; an offline edit says when it was written', async ({
  person,
  relay,
}) => {
  const { a, b } = await aliceAndBob(person, relay, {}, {
    // Bob's laptop clock runs ten minutes behind the relay's: what he writes offline is
    // stamped with it, as a real offline edit is stamped with the time it was made.
    before: async (b) => {
      await b.page.clock.install({ time: Date.now() - 10 * 60_000 });
      await b.page.clock.resume();
    },
  });

  await addEvent(b.page, { what: 'Bob locked the mailbox' });
  await section(b.page, 'summary').fill('Payroll mail was phished. Two accounts are locked.');
  await expectSynced(b.page);
  await expect(section(a.page, 'summary')).toHaveValue('Payroll mail was phished. Two accounts are locked.');

  const started = await whoWrote(a.page);
  const byline = eventRow(a.page, 'Bob locked the mailbox').getByTestId('byline');
  await expect(byline).toContainText('Added by Bob', { timeout: 15_000 });
  console.log(`bylines shown ${Date.now() - started} ms after the toggle`);
  // Online, nothing is said about the device's time.
  await expect(byline).not.toContainText('offline');

  const summary = a.page.locator('section.prose').filter({ has: section(a.page, 'summary') });
  const authorship = summary.getByTestId('authorship');
  await expect(authorship.getByTestId('byline')).toContainText('Started by Alice');
  await expect(authorship.getByTestId('byline')).toContainText('changed by Bob');
  await expect(authorship.locator('.run[data-by="Alice"]')).toHaveText('Payroll mail was phished. ');
  await expect(authorship.locator('.run[data-by="Bob"]')).toHaveText('Two accounts are locked.');
  await expect(authorship.locator('.run[data-by="Bob"]')).toHaveAttribute('title', 'Written by Bob');
  await expect(authorship.locator('.authorship-legend')).toContainText('Alice');
  await expect(authorship.locator('.authorship-legend')).toContainText('Bob');
  // Alice's own event says her name.
  await addEvent(a.page, { what: 'Alice called the bank' });
  await expect(eventRow(a.page, 'Alice called the bank').getByTestId('byline')).toContainText('Added by Alice', {
    timeout: 20_000,
  });

  // Bob, offline, adds an event; back online it goes up, and Alice's byline says when he
  // wrote it (his clock) and when the relay got it.
  await b.link.cut();
  await expect(b.page.locator('#sync-status')).not.toHaveAttribute('data-state', 'synced');
  await addEvent(b.page, { what: 'Written on the train' });
  await expect(b.page.locator('#sync-status')).not.toHaveAttribute('data-pending', '0');
  await b.link.restore();
  await expectSynced(b.page, 30_000);
  const offline = eventRow(a.page, 'Written on the train').getByTestId('byline');
  await expect(offline).toContainText('Added by Bob', { timeout: 20_000 });
  await expect(offline).toContainText(/written offline at .+, synced at .+/);
  const text = await offline.textContent();
  const [, written, synced] = text.match(/written offline at (?:\S+ )?(\d\d:\d\d) \S+, synced at (?:\S+ )?(\d\d:\d\d)/) || [];
  const minutes = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const gap = (minutes(synced) - minutes(written) + 24 * 60) % (24 * 60);
  expect(gap, `about ten minutes between writing and syncing: ${text}`).toBeGreaterThanOrEqual(9);
  expect(gap).toBeLessThanOrEqual(11);

  // Off again: no bylines.
  await a.page.getByRole('button', { name: 'Who wrote what', exact: true }).click();
  await expect(a.page.getByTestId('byline')).toHaveCount(0);
});

test('on a phone the bylines and the summary’s authorship fit without sideways scrolling', async ({ person, relay }) => {
  const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
  const { a, b } = await aliceAndBob(person, relay, { context: phone });
  await addEvent(b.page, {
    what: 'Bob found the forwarding rule to an outside address on the finance mailbox',
  });
  await section(b.page, 'summary').fill(
    'Payroll mail was phished. Bob_wrote_a_very_long_word_without_spaces_that_must_wrap_somewhere_on_a_phone.',
  );
  await expectSynced(b.page);
  await whoWrote(a.page);
  const row = eventRow(a.page, 'Bob found the forwarding rule to an outside address on the finance mailbox');
  await expect(row.getByTestId('byline')).toContainText('Added by Bob', { timeout: 15_000 });
  await expect(a.page.locator('.run[data-by="Bob"]')).toBeVisible();
  const widths = await a.page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
  expect(widths.page, 'nothing scrolls sideways').toBeLessThanOrEqual(widths.screen);
  const toggle = await a.page.getByRole('button', { name: 'Who wrote what', exact: true }).boundingBox();
  expect(Math.min(toggle.width, toggle.height), 'the toggle is at least 44 px each way').toBeGreaterThanOrEqual(44);
  for (const box of [row.getByTestId('byline'), a.page.getByTestId('authorship').first()]) {
    const r = await box.boundingBox();
    expect(r.x + r.width, 'inside the screen').toBeLessThanOrEqual(390);
  }
});

test('viewers are not offered "Who wrote what"; offline it says it needs the relay', async ({ person, relay }) => {
  const a = await person('Alice');
  const v = await person('Vera');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Not for viewers' });
  await expectSynced(a.page);
  await openIncident(v.page, await shareLink(a.page, { name: 'Vera', role: 'viewer' }), { name: 'Vera' });
  await expect(v.page.locator('main')).toHaveAttribute('data-access', 'viewer');
  await v.page.getByRole('button', { name: 'History', exact: true }).click();
  await expect(v.page.locator('#history-panel')).toBeVisible();
  await expect(v.page.getByRole('button', { name: 'Who wrote what', exact: true })).toHaveCount(0);
  await expect(v.page.getByTestId('byline')).toHaveCount(0);

  await a.link.cut();
  await whoWrote(a.page);
  await expect(a.page.locator('#who-wrote-status')).toContainText('needs the relay');
  await expect(a.page.getByTestId('byline')).toHaveCount(0);
});
