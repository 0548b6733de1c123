// Mentions between two people, in real Chromium against the real relay: Ana types "@Be" in
// a new timeline event, the picker offers Ben (an invited person) and she picks him with the
// keyboard; Ben, who was away (his read mark set on his first open, as the catch-up spec
// does), sees "You were mentioned by Ana" first in "Since you were last here", a count on his
// incident list, and makes it a next step owned by himself. Ana also mentions him in a
// comment on the event, picking him with a tap, and that shows too. Someone whose invite was revoked
// is never offered, and a name typed by hand for someone not invited mentions no one.
// In a comment thread, a comment that mentions someone offers owners and editors "Make this
// a next step for NAME"; a viewer is offered nothing.
import { test, expect } from './support/fixtures.js';
import {
  createIncident,
  expectSynced,
  incidentUrl,
  openIncident,
  revokeInvite,
  shareLink,
} from './support/app.js';
import { storedMark } from './support/state.js';

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/** The names the picker under `field` offers now. */
function offered(field) {
  return field.locator('xpath=ancestor::div[contains(@class,"mention-picker")][1]').locator('[role="option"]');
}

test('Ana mentions Ben; Ben sees it since he was last here and on his list, and makes it his next step', async ({
  person,
  relay,
}) => {
  test.setTimeout(120_000);
  const a = await person('Ana');
  const b = await person('Ben', phone);
  const id = await createIncident(a.page, relay.url, { name: 'Ana', title: 'Ransomware on the file server' });
  await expectSynced(a.page);
  const benLink = await shareLink(a.page, { name: 'Ben' });
  // Carol is invited, then revoked: she must never be offered.
  await shareLink(a.page, { name: 'Carol' });
  await revokeInvite(a.page, 'Carol');
  await a.page.keyboard.press('Escape');

  // Ben opens the incident once (his mark is set there) and goes away.
  await openIncident(b.page, benLink, { name: 'Ben' });
  await expectSynced(b.page);
  await expect.poll(async () => (await storedMark(b.page, id))?.size ?? 0).toBeGreaterThan(0);
  const url = incidentUrl(b.page);
  await b.page.close();

  // Ana: "@Ca" offers no one (Carol was revoked), "@Be" offers Ben.
  const what = a.page.locator('#tl-new-what');
  await expect
    .poll(async () => {
      await what.fill('');
      await what.pressSequentially('Ask @Ca');
      return offered(what).count();
    }, { timeout: 40_000 })
    .toBe(0);
  await what.fill('');
  await what.pressSequentially('Ransom note found, @Be');
  await expect(offered(what)).toHaveText(['Ben']);
  await what.press('Enter');
  await expect(offered(what)).toHaveCount(0);
  await expect(what).toHaveValue('Ransom note found, @Ben ');
  await what.pressSequentially('please check the backups');
  // A name typed by hand for someone not invited stays plain text.
  await what.pressSequentially(' with @Mallory');
  await expect(offered(what)).toHaveCount(0);
  await a.page.getByRole('form', { name: 'Add a timeline event' }).getByRole('button', { name: 'Add event' }).click();
  await expect(a.page.locator('main')).toContainText('Ransom note found, @Ben please check the backups with @Mallory');
  // And in a comment on that event, Ana picks Ben with a tap on the list.
  const row = a.page.getByTestId('timeline-event').filter({ hasText: 'Ransom note found, @Ben please' });
  await row.getByTestId('comment-button').click();
  const commentBox = row.getByTestId('comment-input').last();
  await commentBox.pressSequentially('@be');
  await expect(offered(commentBox)).toHaveText(['Ben']);
  await offered(commentBox).first().click();
  await expect(commentBox).toHaveValue('@Ben ');
  await commentBox.pressSequentially('can you take this?');
  await row.getByTestId('comment-send').last().click();
  await expect(row.getByTestId('comment-thread').filter({ hasText: '@Ben can you take this?' })).toHaveCount(1);
  await expectSynced(a.page);

  // Ben comes back: the mention comes first, by Ana, with what she wrote.
  b.page = await b.context.newPage();
  const started = Date.now();
  await b.page.goto(url);
  const card = b.page.locator('#catch-up');
  const mentions = card.locator('.catch-up-mention');
  await expect(mentions).toHaveCount(2, { timeout: 15_000 });
  console.log(`mentions shown ${Date.now() - started} ms after Ben came back (phone)`);
  await expect(mentions.getByRole('link', { name: 'You were mentioned by Ana' })).toHaveCount(2);
  // The comment first, then the event.
  await expect(mentions.nth(0)).toContainText('@Ben can you take this?');
  const mention = mentions.nth(1);
  await expect(mention).toContainText('Ransom note found, @Ben please check the backups');
  await expect(card.locator('h3').first()).toHaveText('You were mentioned');
  await expectSynced(b.page);

  // His incident list counts it (the device's copy against his mark).
  b.page.on('console', (m) => {
    if (m.text().startsWith('mention counts')) console.log(`Ben's list: ${m.text()}`);
  });
  await b.page.goto(new URL('/', url).href);
  const listed = b.page.getByTestId('known-incident').filter({ hasText: 'Ransomware on the file server' });
  await expect(listed.getByTestId('mention-count')).toHaveText('@ 2 mentions', { timeout: 15_000 });

  // Back on the incident, he makes it a next step owned by himself.
  await b.page.goto(url);
  const make = b.page
    .locator('.catch-up-mention')
    .filter({ hasText: 'please check the backups' })
    .getByRole('button', { name: 'Make this a next step for Ben' });
  await expect(make).toBeVisible({ timeout: 15_000 });
  const box = await make.boundingBox();
  expect(Math.min(box.width, box.height), 'the button is at least 44 px each way').toBeGreaterThanOrEqual(44);
  await make.click();
  await expect(b.page.getByRole('button', { name: 'Made a next step' })).toBeDisabled();
  const title = 'Ransom note found, @Ben please check the backups with @Mallory';
  const steps = b.page.getByTestId('next-step');
  await expect(steps.and(b.page.locator(`[data-title="${title}"]`))).toHaveCount(1);
  // It is his: "Only mine" (which follows the invite) keeps it.
  await b.page.getByLabel('Only mine').check();
  await expect(steps).toHaveCount(1);
  await expect(steps.first()).toHaveAttribute('data-title', title);
  await expectSynced(b.page);
  // Ana sees it, owned by Ben.
  const onAna = a.page.locator(`[data-testid="next-step"][data-title="${title}"]`);
  await expect(onAna).toHaveCount(1, { timeout: 15_000 });
  await expect(onAna.locator('input[id$="-owner"]')).toHaveValue('Ben');
});

test('a comment that mentions Ben offers "Make this a next step for Ben" in its thread, to editors only', async ({
  person,
  relay,
}) => {
  const a = await person('Ana');
  const v = await person('Val');
  await createIncident(a.page, relay.url, { name: 'Ana', title: 'Credential stuffing' });
  await shareLink(a.page, { name: 'Ben' });
  const valLink = await shareLink(a.page, { name: 'Val', role: 'viewer' });
  const what = a.page.locator('#tl-new-what');
  await what.fill('Login spike from one ASN');
  await a.page.getByRole('form', { name: 'Add a timeline event' }).getByRole('button', { name: 'Add event' }).click();
  const row = a.page.getByTestId('timeline-event').filter({ hasText: 'Login spike from one ASN' });
  await row.getByTestId('comment-button').click();
  await row.getByTestId('comment-input').last().fill('@Ben   please block\nthe ASN');
  await row.getByTestId('comment-send').last().click();
  // A comment that mentions no one offers nothing.
  await row.getByLabel('Reply', { exact: true }).fill('Agreed');
  await row.getByRole('button', { name: 'Reply', exact: true }).click();
  await expect(row.getByTestId('comment')).toHaveCount(2);

  const make = row.getByTestId('comment-make-step');
  await expect(make).toHaveCount(1, { timeout: 15_000 });
  await expect(make).toHaveText('Make this a next step for Ben');
  await expect(row.getByTestId('comment').filter({ hasText: 'Agreed' }).getByTestId('comment-make-step')).toHaveCount(0);
  await make.click();
  await expect(make).toHaveText('Made a next step');
  await expect(make).toBeDisabled();
  const title = '@Ben please block the ASN';
  const step = a.page.locator(`[data-testid="next-step"][data-title="${title}"]`);
  await expect(step).toHaveCount(1);
  await expect(step.locator('input[id$="-owner"]')).toHaveValue('Ben');
  await expectSynced(a.page);

  // Val, a viewer, reads the thread but is offered nothing.
  await openIncident(v.page, valLink, { name: 'Val' });
  const onVal = v.page.getByTestId('timeline-event').filter({ hasText: 'Login spike from one ASN' });
  await expect(onVal.getByTestId('comment').filter({ hasText: 'please block' })).toHaveCount(1, { timeout: 15_000 });
  await expect(onVal.getByTestId('comment-make-step')).toHaveCount(0);
});
