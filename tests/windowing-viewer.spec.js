// A viewer finds their way in a windowed timeline, in real Chromium against the real relay:
// the filter (text, phase) and "Go to" a time change nothing in the incident, so a viewer
// may use them, while every control that would change it stays disabled.
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, openIncident, shareLink, tokenOf } from './support/app.js';
import { events, seedTimeline } from './support/evidence.js';
import { Y } from './support/yjs-client.js';

const N = 300;

/** Every enabled form control in the incident itself (as share.spec.js counts them). */
function enabledControls(page) {
  return page.evaluate(
    () =>
      [...document.querySelectorAll('.incident-body :is(input, textarea, select, button)')].filter(
        (el) => !el.matches(':disabled'),
      ).length,
  );
}

test('a viewer filters the timeline by text and phase and goes to a time, and still edits nothing', async ({
  person,
  relay,
  yclients,
}) => {
  test.setTimeout(120_000);
  const a = await person('Alice');
  const v = await person('Val');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Read and find' });
  await expectSynced(a.page);
  const token = tokenOf(await shareLink(a.page, { name: 'Importer' }));
  const importer = yclients(relay.wsUrl, id, { name: 'importer', params: { token } });
  await importer.synced();
  seedTimeline(importer, Y, N);
  await expect(a.page.locator('#timeline-list')).toHaveAttribute('aria-label', `Timeline — ${N} events`);

  const link = await shareLink(a.page, { name: 'Val', role: 'viewer' });
  await openIncident(v.page, link, { name: 'Val' });
  const page = v.page;
  await expect(page.locator('main')).toHaveAttribute('data-access', 'viewer');
  await expect(page.locator('#timeline-list')).toHaveAttribute('aria-label', `Timeline — ${N} events`);

  // By text: "Seeded event 7" is in events 7 and 70–79.
  const byText = Array.from({ length: N }, (_, i) => i).filter((i) => `Seeded event ${i}`.includes('Seeded event 7'));
  const text = page.locator('#tl-filter-text');
  await expect(text).toBeEnabled();
  await text.fill('Seeded event 7');
  await expect(page.locator('#tl-filter-count')).toContainText(`Showing ${byText.length} of ${N} events.`);
  await expect(events(page)).toHaveCount(byText.length);

  // And by phase: seedTimeline gives every sixth event from the second on "delivery".
  const both = byText.filter((i) => i % 6 === 1);
  await page.locator('#tl-filter-phase').selectOption('delivery');
  await expect(page.locator('#tl-filter-count')).toContainText(`Showing ${both.length} of ${N} events.`);
  const phases = await events(page).locator('.tl-phase').evaluateAll((p) => [...new Set(p.map((x) => x.dataset.phase))]);
  expect(phases).toEqual(['delivery']);
  await page.locator('#tl-filter-clear').click();
  await expect(text).toHaveValue('');
  await expect(page.locator('#timeline-list')).toHaveAttribute('aria-label', `Timeline — ${N} events`);

  // Go to a time: the first event at or after it.
  await page.locator('#tl-jump').fill('2020-01-01 04:00');
  await page.locator('#tl-jump-go').click();
  const focused = page.locator('#timeline-list > li:focus');
  await expect(focused).toHaveAttribute('data-at', '2020-01-01T04:00:00Z');
  await expect(focused).toBeInViewport();
  // The event gone to can be read, not corrected.
  await expect(focused.locator('button.tl-edit')).toBeDisabled();
  await page.locator('#tl-jump').fill('next tuesday-ish');
  await page.locator('#tl-jump-go').click();
  await expect(page.locator('#tl-jump-problem')).toBeVisible();

  // Still nothing in the incident can be changed: not an event, not the form to add one.
  expect(await enabledControls(page), 'enabled controls in a viewer’s incident').toBe(0);
  await expect(page.locator('#tl-new-what')).toBeDisabled();
  await expect(page.locator('#text-summary')).toBeDisabled();

  // The editor's own filter is where it was, in the timeline, and Val's filtering reached
  // nobody: Alice still sees every event.
  await expect(a.page.locator('section.timeline #tl-filter-text')).toBeEnabled();
  await expect(a.page.locator('#timeline-list')).toHaveAttribute('aria-label', `Timeline — ${N} events`);
});
