// The incident as of a time, moved with the slider over the record, compared between two
// times, and restored from: in real Chromium against the real relay, on a laptop and on a
// 390×844 phone. Alice adds "Alpha seen", then "Bravo seen", then deletes "Alpha seen", each
// in its own second. The slider moved to between the first two edits shows Alpha and not
// Bravo (the field follows it); let go at the end it shows Bravo and not Alpha; comparing
// the first time with a typed later one lists Bravo added and Alpha deleted, marked in words;
// "Restore this" on the deleted Alpha brings it back in the live page, as a new edit that
// Bob's browser receives and the relay records after the others.
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, openIncident, shareLink } from './support/app.js';
import { addEvent, editEvent, eventRow, eventWhats } from './support/evidence.js';

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 };

/** `ms` as the time field shows it in UTC, to the second: "2026-11-30 03:12:05". */
function fieldTime(ms) {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** `ms` as headings show it: to the minute, with the seconds when it has them. */
function shownTime(ms) {
  const t = fieldTime(ms);
  return `${ms % 60_000 ? t : t.slice(0, 16)} UTC`;
}

/** Waits until the next whole second is 700 ms past, and returns that second (ms). */
async function nextSecond(page) {
  const second = Math.ceil((Date.now() + 1) / 1000) * 1000;
  while (Date.now() < second + 700) await page.waitForTimeout(100);
  return second;
}

/** The three edits; returns T1 (between the first and second) and T3 (after the third). */
async function threeEdits(a) {
  await addEvent(a.page, { what: 'Alpha seen', when: '2026-11-30 01:00' });
  await expectSynced(a.page);
  const t1 = await nextSecond(a.page);
  await addEvent(a.page, { what: 'Bravo seen', when: '2026-11-30 02:00' });
  await expectSynced(a.page);
  await nextSecond(a.page);
  const editor = await editEvent(eventRow(a.page, 'Alpha seen'));
  await editor.getByRole('button', { name: 'Delete' }).click();
  await editor.getByRole('button', { name: 'Yes', exact: true }).click();
  await expect.poll(() => eventWhats(a.page)).toEqual(['Bravo seen']);
  await expectSynced(a.page);
  const t3 = await nextSecond(a.page);
  return { t1, t3 };
}

async function noSidewaysScroll(page, where) {
  const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
  expect(widths.page, `nothing scrolls sideways (${where})`).toBeLessThanOrEqual(widths.screen);
}

/** Presses `key` on the slider and waits until it names another stop; returns its time. */
async function step(slider, key) {
  const before = await slider.getAttribute('aria-valuetext');
  await slider.press(key);
  await expect(slider).not.toHaveAttribute('aria-valuetext', before);
  return Number(await slider.getAttribute('data-at'));
}

async function scenario(person, relay, contextOptions) {
  const a = await person('Alice', contextOptions);
  const b = await person('Bob', contextOptions);
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Moving through time' });
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(a.page);
  const { t1, t3 } = await threeEdits(a);
  await expect.poll(() => eventWhats(b.page)).toEqual(['Bravo seen']);

  const page = a.page;
  await page.getByRole('button', { name: 'History', exact: true }).click();
  const slider = page.locator('#history-slider');
  await expect(slider).toBeVisible({ timeout: 15_000 });
  await expect(slider).toHaveAccessibleName('Time: move through the record');
  if (contextOptions) await noSidewaysScroll(page, 'the History panel');
  const report = page.locator('#as-of-report');

  // Dragged to the end without letting go (input events only): once it rests, the incident
  // there is shown — Bravo, and Alpha already deleted.
  const last = await slider.getAttribute('max');
  await slider.evaluate((el, max) => {
    el.value = max;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, last);
  await expect(report).toContainText('Bravo seen', { timeout: 15_000 });
  await expect(report).not.toContainText('Alpha seen');
  // The stop names its time and who wrote there; the field follows the slider.
  await expect(slider).toHaveAttribute('aria-valuetext', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC — Alice/);
  await expect(page.locator('#history-at')).toHaveValue(fieldTime(Number(await slider.getAttribute('data-at'))));

  // Stepped back by keyboard to the last stop before T1: Alpha, not Bravo.
  await slider.focus();
  let at = Number(await slider.getAttribute('data-at'));
  while (at > t1) at = await step(slider, 'ArrowLeft');
  await expect(page.locator('#history-at')).toHaveValue(fieldTime(at));
  await expect(page.locator('#h-as-of')).toHaveText(`As it stood at ${shownTime(at)} — read-only`);
  await expect(report).toContainText('Alpha seen');
  await expect(report).not.toContainText('Bravo seen');

  // Compared with a typed later time: Bravo added, Alpha deleted, each marked in words.
  await page.getByRole('button', { name: 'Compare with…' }).click();
  await expect(page.locator('#history-compare-slider')).toBeVisible();
  await page.locator('#history-compare-at').fill(`${fieldTime(t3)} UTC`);
  await page.locator('#history-compare').click();
  const list = page.locator('#as-of-changes');
  await expect(list.getByRole('heading')).toHaveText(`Changes from ${shownTime(at)} to ${shownTime(t3)}`);
  const added = list.locator('li.change-added');
  const deleted = list.locator('li.change-deleted');
  await expect(added).toHaveCount(1);
  await expect(added).toContainText('added');
  await expect(added).toContainText('Bravo seen');
  await expect(deleted).toHaveCount(1);
  await expect(deleted).toContainText('deleted');
  await expect(deleted).toContainText('Alpha seen');
  // Restoring is from a past state to now, not between two past times.
  await expect(list.getByRole('button', { name: 'Restore this' })).toHaveCount(0);
  if (contextOptions) await noSidewaysScroll(page, 'the comparison');

  // Back to "since then": the deleted Alpha can be restored.
  await page.getByRole('button', { name: 'Compare with…' }).click();
  await expect(page.locator('#history-compare-at')).toHaveCount(0);
  await page.locator('#history-show').click();
  await expect(list.getByRole('heading')).toHaveText('Changes since then');
  const gone = list.locator('li.change-deleted').filter({ hasText: 'Alpha seen' });
  await expect(gone).toHaveCount(1);
  await expect(list.locator('li.change-added').filter({ hasText: 'Bravo seen' })).toHaveCount(1);
  // Nothing to put back for an entry added since.
  await expect(list.locator('li.change-added').getByRole('button', { name: 'Restore this' })).toHaveCount(0);
  await gone.getByRole('button', { name: 'Restore this' }).click();
  await expect(page.locator('#as-of-restored')).toContainText('Restored “Alpha seen”');
  await expect(list.locator('li.change-deleted')).toHaveCount(0);
  if (contextOptions) await noSidewaysScroll(page, 'the as-of view');

  const stopsBefore = Number(await slider.getAttribute('max'));
  await page.getByRole('button', { name: 'Back to now' }).click();
  await expect.poll(() => eventWhats(page)).toEqual(['Alpha seen', 'Bravo seen']);
  await expectSynced(page);
  await expect.poll(() => eventWhats(b.page), { timeout: 15_000 }).toEqual(['Alpha seen', 'Bravo seen']);
  // It came back as it was: its time too.
  await expect(eventRow(b.page, 'Alpha seen').getByTestId('event-time')).toHaveText('2026-11-30 01:00 UTC');

  // The restore is one more record on the relay, after the others; the past is unchanged.
  const history = page.getByRole('button', { name: 'History', exact: true });
  await history.click();
  await history.click();
  await expect.poll(async () => Number(await slider.getAttribute('max')), { timeout: 15_000 }).toBeGreaterThan(stopsBefore);
  await slider.focus();
  await slider.press('End');
  await expect(slider).toHaveAttribute('aria-valuetext', /— Alice$/);
  await expect(report).toContainText('Alpha seen');
  await expect(report).toContainText('Bravo seen');
  await expect(list.locator('li')).toHaveCount(0);
  await step(slider, 'ArrowLeft');
  await expect(report).not.toContainText('Alpha seen');
}

test('the slider, a comparison and "Restore this" on a laptop', async ({ person, relay }) => {
  test.setTimeout(90_000);
  await scenario(person, relay, undefined);
});

test('the slider, a comparison and "Restore this" on a 390×844 phone, without sideways scroll', async ({
  person,
  relay,
}) => {
  test.setTimeout(90_000);
  await scenario(person, relay, phone);
});
