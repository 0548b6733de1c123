// The windowed timeline counts the rows it has not drawn yet at a height learned from the
// rows it has drawn (issue 19): a fling to the end of a long list lands on its last row, on a
// phone whose rows (with their Comment and Edit buttons) are much taller than a fixed guess.
import { test, expect as baseExpect } from './support/fixtures.js';
import { createIncident, expectSynced, shareLink, tokenOf } from './support/app.js';
import { editEvent, seedTimeline } from './support/evidence.js';
import { Y } from './support/yjs-client.js';

const expect = baseExpect.configure({ timeout: 30_000 });
test.use({ actionTimeout: 60_000 });
test.setTimeout(240_000);

const N = 1000;
const phone = { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** Lets the window follow the page: a few frames. */
async function settled(page) {
  for (let i = 0; i < 3; i++) await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
}

/** Scrolls the page at once so that the timeline's end (as the page has it now) is mid-screen. */
async function flingToEnd(page) {
  await page.locator('#timeline-list').evaluate((list) => {
    const bottom = list.getBoundingClientRect().bottom + window.scrollY;
    window.scrollTo(0, bottom - window.innerHeight / 2);
  });
}

test('a fling to the end of 1,000 events on a phone shows the last one, even with a row open and growing', async ({
  person,
  relay,
  yclients,
}) => {
  const a = await person('A', phone);
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Long import' });
  await expectSynced(a.page);
  const token = tokenOf(await shareLink(a.page, { name: 'Importer' }));
  const importer = yclients(relay.wsUrl, id, { name: 'importer', params: { token } });
  await importer.synced();
  seedTimeline(importer, Y, N);
  const list = a.page.locator('#timeline-list');
  await expect(list).toHaveAttribute('aria-label', 'Timeline — 1,000 events', { timeout: 60_000 });
  await list.locator('li').first().scrollIntoViewIfNeeded();
  await settled(a.page);
  const heights = await a.page.locator('#timeline-list > li').evaluateAll((rows) =>
    rows.map((r) => r.getBoundingClientRect().height).sort((x, y) => x - y),
  );
  console.log(`rows drawn: ${heights.length}, median height ${Math.round(heights[heights.length >> 1])} px`);

  // A row near the top is open for editing, its notes grown tall: the rows not drawn stay
  // where they were (the height they are counted at is not learned from a row being edited).
  const first = a.page.locator('#timeline-list > li[aria-posinset="2"]');
  const editor = await editEvent(first);
  const notes = editor.getByLabel('Notes');
  await notes.fill('line\n'.repeat(40));
  await settled(a.page);

  await flingToEnd(a.page);
  const last = a.page.locator(`#timeline-list > li[aria-posinset="${N}"]`);
  await expect(last).toBeAttached();
  await settled(a.page);
  await expect(last).toBeInViewport();
  importer.destroy?.();
});
