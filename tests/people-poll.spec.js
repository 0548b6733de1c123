// One poll of the invited people per incident page, in real Chromium against the real relay:
// with the timeline form, next steps and several comment boxes open (each of them offering
// the invited people in its @ picker), the page asks `GET …/people` once a period (30 s), not
// once per box; and someone invited from another tab is offered in this tab's picker within
// that period.
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, incidentUrl, shareLink } from './support/app.js';
import { addEvent, eventRow } from './support/evidence.js';

/** The names the picker under `field` offers now. */
function offered(field) {
  return field.locator('xpath=ancestor::div[contains(@class,"mention-picker")][1]').locator('[role="option"]');
}

test('the page asks for its people once a period however many comment boxes are open', async ({
  person,
  relay,
}) => {
  test.setTimeout(150_000);
  const a = await person('Ana');
  await createIncident(a.page, relay.url, { name: 'Ana', title: 'Phishing wave' });
  const whats = ['Mail reported by finance', 'Link clicked on LT-07', 'Password reset for LT-07'];
  for (const what of whats) await addEvent(a.page, { what });
  await expectSynced(a.page);
  // A comment box open under each event: three more @ pickers on the page.
  for (const what of whats) {
    const row = eventRow(a.page, what);
    await row.getByTestId('comment-button').click();
    await expect(row.getByTestId('comment-input')).toHaveCount(1);
  }
  await expect(a.page.getByTestId('comment-input')).toHaveCount(3);

  const asked = [];
  a.page.on('request', (r) => {
    if (new URL(r.url()).pathname.endsWith('/people')) asked.push(Date.now());
  });
  const started = Date.now();

  // Meanwhile, in another tab of the same browser, Ana invites Dan.
  const other = await a.context.newPage();
  await other.goto(incidentUrl(a.page));
  await expectSynced(other);
  await shareLink(other, { name: 'Dan' });
  await other.close();

  // This tab offers Dan within the period (its poll, not its own invite, brings him).
  const box = eventRow(a.page, whats[0]).getByTestId('comment-input');
  await expect
    .poll(
      async () => {
        await box.fill('');
        await box.pressSequentially('@Da');
        return offered(box).allTextContents();
      },
      { timeout: 40_000, intervals: [1_000] },
    )
    .toEqual(['Dan']);
  const shownAfter = Date.now() - started;

  // Count the asks over a whole period and a little more from when counting started.
  const period = 31_000;
  const left = started + period - Date.now();
  if (left > 0) await a.page.waitForTimeout(left);
  const inPeriod = asked.filter((t) => t - started <= period).length;
  console.log(
    `GET …/people asked ${inPeriod} times in ${period / 1000} s with 3 comment boxes open; ` +
      `Dan (invited in another tab) offered after ${shownAfter} ms`,
  );
  // One timer for the page: at most two ticks fit in 31 s; one per picker would be six or more.
  expect(inPeriod).toBeGreaterThanOrEqual(1);
  expect(inPeriod).toBeLessThanOrEqual(2);
});
