// The windowed timeline and indicators (issue 19), in real Chromium against the real relay:
// an incident of 5,000 events and 2,000 indicators written by a stock Yjs client. Only the
// rows near the screen are in the page, every row stays reachable (the filter, "Go to" a
// time, the keyboard), the first, middle and last events are found, corrected and deleted,
// the filters work on the model (text, phase; text, type, TLP), a remote change to an event
// off screen is there when scrolled to and re-renders that row only, and all of it on a
// 375 px phone.
import { test, expect as baseExpect } from './support/fixtures.js';
import { createIncident, expectSynced, incidentUrl, openIncident, shareLink, tokenOf } from './support/app.js';
import { correct, editEvent, eventRow, events, indicators, pageWidth, seedTimeline } from './support/evidence.js';
import { Y } from './support/yjs-client.js';

// The page keeps its main thread busy for seconds after a 5,000-event incident arrives (not
// the lists: the device copy, the read mark); on a loaded machine the defaults are short.
const expect = baseExpect.configure({ timeout: 30_000 });
test.use({ actionTimeout: 60_000 });

const N = 5000;
const IOCS = 2000;
const phone = { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** The seed index of the event at `minute` (seedTimeline puts event i at minute i·7919 mod N). */
function seedAt(minute) {
  for (let i = 0; i < N; i++) if ((i * 7919) % N === minute) return i;
  throw new Error(`no event at minute ${minute}`);
}

/** 2,000 indicators: even ones IPv4 addresses, odd ones domains; every fifth marked RED. */
function seedIndicators(yclient) {
  const iocs = yclient.map('indicators');
  yclient.doc.transact(() => {
    for (let i = 0; i < IOCS; i++) {
      const m = new Y.Map();
      iocs.set(`ioc-seed-${i}`, m);
      m.set('value', i % 2 ? `bad-${i}.example.com` : `198.51.${Math.floor(i / 250)}.${i % 250}`);
      m.set('kind', i % 2 ? 'domain' : 'ipv4');
      m.set('sightings', 1);
      m.set('added_by', 'importer');
      m.set('added_at', '2020-01-01T00:00:00Z');
      if (i % 5 === 0) m.set('tlp', 'RED');
    }
  });
}

/** Alice's incident with the big import in it, open on her page (and its link and importer). */
async function bigIncident(person, relay, yclients, options = {}) {
  const a = await person('A', options);
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Big import' });
  await expectSynced(a.page);
  const link = incidentUrl(a.page);
  const token = tokenOf(await shareLink(a.page, { name: 'Importer' }));
  const importer = yclients(relay.wsUrl, id, { name: 'importer', params: { token } });
  await importer.synced();
  seedTimeline(importer, Y, N);
  seedIndicators(importer);
  await expect(timelineList(a.page)).toHaveAttribute('aria-label', 'Timeline — 5,000 events', { timeout: 60_000 });
  await expect(indicatorList(a.page)).toHaveAttribute('aria-label', 'Indicators — 2,000', { timeout: 60_000 });
  return { a, id, link, importer };
}

const timelineList = (page) => page.locator('#timeline-list');
const indicatorList = (page) => page.locator('#indicator-list');

/** Filters the timeline by text. */
async function findEvent(page, text) {
  await page.locator('#tl-filter-text').fill(text);
}

/** Lets the window follow the page: a few frames. */
async function settled(page) {
  // Rows drawn while scrolling are light and made whole once it stops, one a frame; being
  // measured then, they may move the window once more.
  await expect(page.locator('[data-light]')).toHaveCount(0);
  for (let i = 0; i < 3; i++) await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
}

/** The focused element's row attribute (`data-event-id` or `data-indicator-id`). */
function focusedRow(page, attribute) {
  return page.evaluate((a) => document.activeElement?.closest(`[${a}]`)?.getAttribute(a) ?? null, attribute);
}

test.describe('a big incident, windowed', () => {
  test.setTimeout(240_000);

  test('only rows near the screen are in the page; first, middle and last events are found, corrected and deleted', async ({
    person,
    relay,
    yclients,
  }) => {
    const { a } = await bigIncident(person, relay, yclients);
    const page = a.page;
    // Windowed: far fewer rows than events, each telling its place in the whole list.
    const drawn = await events(page).count();
    expect(drawn).toBeGreaterThan(0);
    expect(drawn).toBeLessThan(200);
    expect(await indicators(page).count()).toBeLessThan(200);
    await expect(events(page).first()).toHaveAttribute('aria-setsize', String(N));
    await expect(events(page).first()).toHaveAttribute('aria-posinset', '1');
    await expect(page.locator('#timeline-zone')).toContainText('5,000 events');

    const targets = [
      ['first', seedAt(0)],
      ['middle', seedAt(2500)],
      ['last', seedAt(N - 1)],
    ];
    for (const [where, i] of targets) {
      const what = `Seeded event ${i}`;
      // Not in the page until looked for (the first is: the window starts there).
      if (where !== 'first') await expect(eventRow(page, what)).toHaveCount(0);
      await findEvent(page, what);
      const row = eventRow(page, what);
      await expect(row, `${where} found by the filter`).toHaveCount(1);
      const editor = await editEvent(row);
      await correct(editor.getByLabel('What happened'), `${what}, corrected (${where})`);
      const corrected = eventRow(page, `${what}, corrected (${where})`);
      // The filter still matches the corrected text, so the row stays shown.
      await expect(corrected).toHaveCount(1);
      const again = await editEvent(corrected);
      await again.getByRole('button', { name: 'Delete' }).click();
      await again.getByRole('button', { name: 'Yes', exact: true }).click();
      await expect(corrected).toHaveCount(0);
      await expect(page.locator('#tl-filter-count')).toContainText(/of 4,99\d/);
    }
    await page.locator('#tl-filter-clear').click();
    await expect(timelineList(page)).toHaveAttribute('aria-label', 'Timeline — 4,997 events');
    await expectSynced(page);

    // The keyboard reaches every row: End goes to the last (brought into the page first),
    // ↑ to the one before, Home back to the first.
    await events(page).first().focus();
    await page.keyboard.press('End');
    await expect.poll(() => focusedRow(page, 'data-event-id')).toBe(`seed-${String(seedAt(N - 2)).padStart(6, '0')}`);
    await expect(page.locator('#timeline-list > li:focus')).toHaveAttribute('aria-posinset', '4997');
    await expect(page.locator('#timeline-list > li:focus')).toBeInViewport();
    await page.keyboard.press('ArrowUp');
    await expect(page.locator('#timeline-list > li:focus')).toHaveAttribute('aria-posinset', '4996');
    await page.keyboard.press('Home');
    await expect(page.locator('#timeline-list > li:focus')).toHaveAttribute('aria-posinset', '1');
    // Tab moves through the rows' controls; the window follows the focus down the list.
    const before = await focusedRow(page, 'data-event-id');
    for (let k = 0; k < 40; k++) await page.keyboard.press('Tab');
    const after = await focusedRow(page, 'data-event-id');
    expect(after, 'Tab stayed in the timeline').not.toBeNull();
    expect(after).not.toBe(before);
    await expect(page.locator('#timeline-list > li:focus-within')).toBeInViewport();

    // Scrolling draws the rows that come into view (and drops those that leave).
    await page.locator('#h-indicators').scrollIntoViewIfNeeded();
    await timelineList(page).evaluate((list) => window.scrollBy(0, list.getBoundingClientRect().top + list.offsetHeight / 2));
    await expect.poll(async () => Number(await events(page).first().getAttribute('aria-posinset'))).toBeGreaterThan(1000);
    expect(await events(page).count()).toBeLessThan(200);
  });

  test('filters work on the model: events by text and phase, indicators by text, type and TLP; Go to a time', async ({
    person,
    relay,
    yclients,
  }) => {
    const { a, link } = await bigIncident(person, relay, yclients);
    const page = a.page;
    // Phase: seedTimeline gives every sixth event from the second on "delivery".
    const delivery = Array.from({ length: N }, (_, i) => i).filter((i) => i % 6 === 1).length;
    await page.locator('#tl-filter-phase').selectOption('delivery');
    await expect(page.locator('#tl-filter-count')).toContainText(`Showing ${delivery.toLocaleString('en')} of 5,000 events.`);
    await expect(timelineList(page)).toHaveAttribute('aria-label', `Timeline — ${delivery.toLocaleString('en')} of 5,000 events`);
    const phases = await events(page).locator('.tl-phase').evaluateAll((p) => [...new Set(p.map((x) => x.dataset.phase))]);
    expect(phases).toEqual(['delivery']);
    // Text and phase together.
    await findEvent(page, `Seeded event ${seedAt(7)}`);
    await expect(page.locator('#tl-filter-count')).toContainText(/Showing \d+ of 5,000 events|No event/);

    // The filter is this device's: it is there after a reload, and not on the relay.
    await page.reload();
    await expect(page.locator('#tl-filter-phase')).toHaveValue('delivery');
    await expect(page.locator('#tl-filter-text')).toHaveValue(`Seeded event ${seedAt(7)}`);
    await page.locator('#tl-filter-clear').click();
    await expect(page.locator('#tl-filter-text')).toHaveValue('');
    await expect(timelineList(page)).toHaveAttribute('aria-label', 'Timeline — 5,000 events');

    // Go to a time: the first event at or after it, in the incident's zone (UTC here).
    await page.locator('#tl-jump').fill('2020-01-03 10:00');
    await page.locator('#tl-jump-go').click();
    const at = new Date(Date.UTC(2020, 0, 3, 10, 0)).toISOString().replace('.000Z', 'Z');
    const minute = (Date.UTC(2020, 0, 3, 10, 0) - Date.UTC(2020, 0, 1)) / 60_000;
    await expect(page.locator('#timeline-list > li:focus')).toHaveAttribute('data-at', at);
    await expect(page.locator('#timeline-list > li:focus')).toHaveAttribute('aria-posinset', String(minute + 1));
    await expect(page.locator('#timeline-list > li:focus')).toBeInViewport();
    await expect(page.locator('#timeline-list > li:focus').getByTestId('event-what')).toHaveText(`Seeded event ${seedAt(minute)}`);
    // Between two events (seconds in): the next one.
    await page.locator('#tl-jump').fill('2020-01-02 00:00:30');
    await page.locator('#tl-jump-go').click();
    await expect(page.locator('#timeline-list > li:focus')).toHaveAttribute('data-at', '2020-01-02T00:01:00Z');
    // Nonsense is refused with a reason.
    await page.locator('#tl-jump').fill('next tuesday-ish');
    await page.locator('#tl-jump-go').click();
    await expect(page.locator('#tl-jump-problem')).toBeVisible();

    // Indicators: by type, by TLP (an indicator's own level, else the incident's), by text.
    await page.locator('#ioc-filter-kind').selectOption('ipv4');
    await expect(page.locator('#ioc-filter-count')).toHaveText(/Showing 1,000 of 2,000 indicators\./);
    expect(await indicators(page).evaluateAll((r) => [...new Set(r.map((x) => x.dataset.kind))])).toEqual(['ipv4']);
    await page.locator('#ioc-filter-tlp').selectOption('RED');
    await expect(page.locator('#ioc-filter-count')).toHaveText(/Showing 200 of 2,000 indicators\./);
    await expect(indicatorList(page)).toHaveAttribute('aria-label', 'Indicators — 200 of 2,000');
    await page.locator('#ioc-filter-clear').click();
    await page.locator('#ioc-filter-text').fill('bad-1999.example');
    await expect(page.locator('#ioc-filter-count')).toHaveText(/Showing 1 of 2,000 indicators\./);
    await expect(indicators(page)).toHaveCount(1);
    await expect(indicators(page).getByTestId('indicator-value')).toHaveText('bad-1999[.]example[.]com');
    // Defanged as typed finds it too.
    await page.locator('#ioc-filter-text').fill('bad-1999[.]example');
    await expect(indicators(page)).toHaveCount(1);

    // The filters are not in the document: another device sees everything.
    const b = await person('B');
    await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob', timeout: 60_000 });
    await expect(timelineList(b.page)).toHaveAttribute('aria-label', 'Timeline — 5,000 events', { timeout: 60_000 });
    await expect(b.page.locator('#ioc-filter-text')).toHaveValue('');
    expect(link).toContain('/incident/');
  });

  test('a remote change to an event off screen is there when scrolled to, and re-renders that row only', async ({
    person,
    relay,
    yclients,
  }) => {
    const { a } = await bigIncident(person, relay, yclients);
    const b = await person('B');
    await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob', timeout: 60_000 });
    await expect(timelineList(b.page)).toHaveAttribute('aria-label', 'Timeline — 5,000 events', { timeout: 60_000 });

    // Alice's rows in the page now, each marked on its DOM node.
    await timelineList(a.page).scrollIntoViewIfNeeded();
    await settled(a.page);
    const drawn = await events(a.page).evaluateAll((rows) =>
      rows.map((r) => {
        r.__mark = true;
        return [r.dataset.eventId, r.dataset.at];
      }),
    );
    const lastId = `seed-${String(seedAt(N - 1)).padStart(6, '0')}`;
    const [visibleId, visibleAt] = drawn[2];
    expect(drawn.map(([id]) => id)).not.toContain(lastId);

    // Bob goes to the last event (off Alice's screen) and to one Alice has in the page, and
    // corrects each.
    for (const [at, text] of [['2020-01-04T11:19:00Z', 'Changed by Bob, far down'], [visibleAt, 'Changed by Bob, in view']]) {
      await b.page.locator('#tl-jump').fill(at.replace('T', ' ').slice(0, 16));
      await b.page.locator('#tl-jump-go').click();
      const focused = b.page.locator('#timeline-list > li:focus');
      await expect(focused).toHaveAttribute('data-at', at);
      const id = await focused.getAttribute('data-event-id');
      const editor = await editEvent(b.page.locator(`#timeline-list > li[data-event-id="${id}"]`));
      await correct(editor.getByLabel('What happened'), text);
      await expect(b.page.locator(`#timeline-list > li[data-event-id="${id}"]`).getByTestId('event-what')).toHaveText(text);
    }
    await expectSynced(b.page);

    // Alice: the row in the page changed in place, the others were left alone.
    await expect(a.page.locator(`#timeline-list > li[data-event-id="${visibleId}"]`).getByTestId('event-what')).toHaveText('Changed by Bob, in view');
    // Every row drawn before that is still in the page is the same element, except the one Bob
    // changed. (The changed row's new height can move the window's edges by a row: a row
    // leaving at an edge is not a re-render.)
    const now = await events(a.page).evaluateAll((rows) => rows.map((r) => [r.dataset.eventId, r.__mark === true]));
    const before = new Set(drawn.map(([id]) => id));
    const redrawn = now.filter(([id, marked]) => before.has(id) && !marked).map(([id]) => id);
    expect(redrawn).toEqual([visibleId]);
    const ids = drawn.map(([id]) => id);
    const stayed = ids.filter((id) => now.some(([n]) => n === id));
    expect(stayed.length).toBeGreaterThanOrEqual(drawn.length - 2);
    // Whatever left is at an edge of the window, not in its middle.
    const left = ids.filter((id) => !stayed.includes(id));
    for (const id of left) expect([0, 1, ids.length - 2, ids.length - 1]).toContain(ids.indexOf(id));
    // The last one is there when she goes to it.
    await expect(a.page.locator(`li[data-event-id="${lastId}"]`)).toHaveCount(0);
    // Scrolled down to the end of the list, as a person would.
    await timelineList(a.page).evaluate((list) => {
      const bottom = list.getBoundingClientRect().bottom + window.scrollY;
      window.scrollTo(0, bottom - window.innerHeight / 2);
    });
    const last = a.page.locator(`#timeline-list > li[data-event-id="${lastId}"]`);
    await expect(last.getByTestId('event-what')).toHaveText('Changed by Bob, far down');
    // Rows not drawn yet count at an estimated height, so the end of the list may still be a
    // little further down: she scrolls on to it.
    await last.scrollIntoViewIfNeeded();
    await expect(last).toBeInViewport();
  });

  test('on a 375 px phone: the filter, Go to and editing the last event, nothing sideways', async ({
    person,
    relay,
    yclients,
  }) => {
    const { a } = await bigIncident(person, relay, yclients, phone);
    const page = a.page;
    await page.locator('#tl-filter-text').scrollIntoViewIfNeeded();
    const width = await pageWidth(page);
    expect(width.scrollWidth).toBeLessThanOrEqual(width.innerWidth);
    await page.locator('#tl-jump').fill('2020-01-04 11:19');
    await page.locator('#tl-jump-go').click();
    const focused = page.locator('#timeline-list > li:focus');
    await expect(focused).toHaveAttribute('aria-posinset', '5000');
    await expect(focused).toBeInViewport();
    const last = page.locator(`#timeline-list > li[data-event-id="${await focused.getAttribute('data-event-id')}"]`);
    const editor = await editEvent(last);
    await correct(editor.getByLabel('What happened'), 'Last one, from the phone');
    await expect(eventRow(page, 'Last one, from the phone')).toBeVisible();
    await page.locator('#ioc-filter-kind').selectOption('domain');
    await expect(page.locator('#ioc-filter-count')).toHaveText(/Showing 1,000 of 2,000 indicators\./);
    const after = await pageWidth(page);
    expect(after.scrollWidth).toBeLessThanOrEqual(after.innerWidth);
    await expectSynced(page);
  });
});
