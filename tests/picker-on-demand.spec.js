// The row editor's indicator picker on a big incident: with more than 50 indicators an opened
// event's editor draws only the indicators that event links, plus a filter box and "Show all";
// the full list is drawn on demand, and a link made from it reaches the other person.
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, openIncident, shareLink } from './support/app.js';
import { addEvent, editEvent, eventRow, pasteIndicators } from './support/evidence.js';

const COUNT = 60;
const value = (i) => `host-${i}.evil.example`;
const shown = (i) => `host-${i}[.]evil[.]example`;

test('an event editor on 60 indicators draws its linked ones, then all on demand; a link from the full list syncs', async ({
  person,
  relay,
}) => {
  const a = await person('A');
  const b = await person('B');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Many indicators' });
  await expectSynced(a.page);
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page);

  await pasteIndicators(a.page, Array.from({ length: COUNT }, (_, i) => value(i)).join('\n'));
  await expect(a.page.locator('#ioc-paste-result')).toHaveText(`Added ${COUNT}, already known 0`);
  await expect(a.page.locator('#indicator-list')).toHaveAttribute('aria-label', `Indicators — ${COUNT}`);
  // The indicators' list is windowed: their ids are read off the add form's picker.
  const more = a.page.locator('.tl-more');
  if (!(await more.evaluate((d) => d.open))) await more.locator('summary').click();
  const ids = {};
  for (const i of [7, 42]) {
    ids[i] = await more.getByRole('checkbox', { name: shown(i) }).getAttribute('data-indicator-id');
  }

  // Linked to one indicator while adding (the add form's picker draws every indicator).
  await addEvent(a.page, { what: 'Beacon seen', when: '2020-03-02 08:00', details: { indicators: [ids[7]] } });
  await expect(a.page.locator('.tl-more input[id^="tl-new-ioc-"]')).toHaveCount(COUNT);

  // Bob opens the event's editor: only the linked indicator is drawn.
  const editor = await editEvent(eventRow(b.page, 'Beacon seen'));
  const boxes = editor.locator('.ev-iocs input[type="checkbox"]');
  await expect(boxes).toHaveCount(1);
  await expect(editor.getByRole('checkbox', { name: shown(7) })).toBeChecked();
  await expect(editor.getByTestId('picker-summary')).toHaveText(
    `Showing the 1 linked of ${COUNT} indicators. Find one to link, or show them all.`,
  );

  // The filter draws the matches next to the linked one, and no more.
  await editor.getByLabel('Find an indicator').fill('host-4');
  await expect(boxes).toHaveCount(1 + 11); // host-4 and host-40 … host-49
  await expect(editor.getByTestId('picker-summary')).toHaveText('11 more match.');
  await editor.getByLabel('Find an indicator').fill('');
  await expect(boxes).toHaveCount(1);

  // "Show all" draws every one; linking one from the full list reaches Alice.
  await editor.getByRole('button', { name: `Show all ${COUNT} indicators` }).click();
  await expect(boxes).toHaveCount(COUNT);
  await expect(editor.getByRole('button', { name: /Show all/ })).toHaveCount(0);
  await editor.getByRole('checkbox', { name: shown(42) }).check();
  for (const page of [a.page, b.page]) {
    await expect(eventRow(page, 'Beacon seen').getByTestId('event-indicators')).toHaveText(
      `Indicators: ${shown(7)}, ${shown(42)}`,
    );
  }
  await expect(b.page.locator('#indicator-list')).toHaveAttribute('aria-label', `Indicators — ${COUNT}`);
});
