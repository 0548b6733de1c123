// The timeline and the indicators of compromise, as a person uses them: what they type,
// which buttons they press, and what the page shows back. The DOM contract of those two
// sections (test ids, field ids, labels) lives here and in evidence.spec.js only.
import { expect } from '@playwright/test';

/** Every timeline row, in the order shown. */
export function events(page) {
  return page.locator('[data-testid="timeline-event"]');
}

/** The timeline row whose "what" is exactly `what`. */
export function eventRow(page, what) {
  return events(page).filter({
    has: page.getByTestId('event-what').getByText(what, { exact: true }),
  });
}

/** The "what" of every event, in the order shown. */
export async function eventWhats(page) {
  return events(page).getByTestId('event-what').allTextContents();
}

/** The shown time of every event, in the order shown. */
export async function eventTimes(page) {
  return events(page).getByTestId('event-time').allTextContents();
}

/**
 * Adds an event through the form at the top of the timeline: "What happened", optionally
 * "When", then "Add event". With `details`, opens "More details" and fills those too:
 * { source, link, discovered, phase (a key), indicators: [indicator ids], inReport }.
 */
export async function addEvent(page, { what, when = '', details } = {}) {
  await page.locator('#tl-new-what').fill(what);
  await page.locator('#tl-new-when').fill(when);
  if (details) {
    const more = page.locator('.tl-more');
    if (!(await more.evaluate((d) => d.open))) await more.locator('summary').click();
    if (details.source !== undefined) await page.locator('#tl-new-source').fill(details.source);
    if (details.link !== undefined) await page.locator('#tl-new-link').fill(details.link);
    if (details.discovered !== undefined) await page.locator('#tl-new-discovered').fill(details.discovered);
    if (details.phase !== undefined) await page.locator('#tl-new-phase').selectOption(details.phase);
    for (const id of details.indicators || []) {
      await page.locator(`#tl-new-ioc-${cssId(id)}`).check();
    }
    if (details.inReport !== undefined) await page.locator('#tl-new-report').setChecked(details.inReport);
  }
  await page.getByRole('form', { name: 'Add a timeline event' }).getByRole('button', { name: 'Add event' }).click();
}

/** Opens a row's fields for correcting; returns the row's editor. */
export async function editEvent(row) {
  const button = row.locator('button.tl-edit');
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
  const editor = row.getByRole('group', { name: 'Correct this event' });
  await expect(editor).toBeVisible();
  return editor;
}

/** Types into a field and leaves it, which is when a correction is written. */
export async function correct(field, value) {
  await field.fill(value);
  await field.blur();
}

/** Every indicator row, in the order shown. */
export function indicators(page) {
  return page.locator('[data-testid="indicator"]');
}

/** The indicator row whose (defanged) shown value is exactly `shown`. */
export function indicatorRow(page, shown) {
  return indicators(page).filter({
    has: page.getByTestId('indicator-value').getByText(shown, { exact: true }),
  });
}

export async function addIndicator(page, value, kind = '') {
  await page.locator('#ioc-new-value').fill(value);
  if (kind) await page.locator('#ioc-new-kind').selectOption(kind);
  await page.getByRole('button', { name: 'Add indicator' }).click();
}

export async function pasteIndicators(page, text) {
  await page.getByLabel('Paste indicators, one per line').fill(text);
  await page.getByRole('button', { name: 'Add pasted indicators' }).click();
}

/** (shown value, type label) of every indicator, in the order shown. */
export async function indicatorList(page) {
  return indicators(page).evaluateAll((rows) =>
    rows.map((r) => [
      r.querySelector('[data-testid="indicator-value"]').textContent,
      r.querySelector('[data-testid="indicator-kind"]').textContent,
    ]),
  );
}

/** An id as it appears inside a CSS id selector. */
export function cssId(id) {
  return id.replace(/[^a-zA-Z0-9_-]/g, (c) => `\\${c}`);
}

/** No sideways scrolling on the page as laid out now. */
export async function pageWidth(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    innerWidth: window.innerWidth,
  }));
}

/**
 * Writes `count` timeline events into an incident through a stock Yjs client, the way a
 * bulk import or another Yjs application would: the model's layout (`timeline` map of
 * event id → map of fields, times as RFC 3339 UTC). Times are spread over `count` minutes
 * from 2020-01-01 in a shuffled order; every sixth event has no kill-chain phase.
 */
export function seedTimeline(yclient, Y, count) {
  const timeline = yclient.map('timeline');
  const phases = ['reconnaissance', 'delivery', 'exploitation', 'installation', 'command_and_control', ''];
  yclient.doc.transact(() => {
    for (let i = 0; i < count; i++) {
      const event = new Y.Map();
      timeline.set(`seed-${String(i).padStart(6, '0')}`, event);
      const minute = (i * 7919) % count; // 7919 is prime: a shuffle that hits every minute once
      event.set('occurred_at', new Date(Date.UTC(2020, 0, 1) + minute * 60_000).toISOString().replace('.000Z', 'Z'));
      event.set('what', `Seeded event ${i}`);
      event.set('source', i % 3 ? 'EDR' : '');
      event.set('data_link', '');
      event.set('author', 'importer');
      event.set('include_in_report', i % 2 === 0);
      if (phases[i % 6]) event.set('phase', phases[i % 6]);
    }
  });
}

/**
 * Before the page loads: records when the first timeline row appears and every long task
 * (main thread busy > 50 ms), in window.__evidencePerf.
 */
export async function watchTimelineRendering(page) {
  await page.addInitScript(() => {
    const perf = { firstRow: null, rowsAtFirst: null, longTasks: [] };
    window.__evidencePerf = perf;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) perf.longTasks.push(Math.round(e.duration));
    }).observe({ type: 'longtask' });
    const watch = new MutationObserver(() => {
      const rows = document.querySelectorAll('[data-testid="timeline-event"]').length;
      if (perf.firstRow === null && rows > 0) {
        perf.firstRow = Math.round(performance.now());
        perf.rowsAtFirst = rows;
        watch.disconnect();
      }
    });
    document.addEventListener('DOMContentLoaded', () =>
      watch.observe(document.body, { childList: true, subtree: true }),
    );
  });
}
