// A team's playbook in real Chromium with a real relay: adopted from the ransomware starter
// on a phone, it is a document like an incident. Offline, an incident started from it
// proposes a lesson; back online, a second browser invited to the incident and to the
// playbook accepts the lesson on the playbook's page; the next incident started from the
// playbook has it. A file that is not a playbook is refused with a message and changes
// nothing. The phone pages have no sideways scroll and 44 px controls.
import { test, expect } from './support/fixtures.js';
import { caretTo, openIncident, section, setDisplayName, shareLink } from './support/app.js';

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };

/** Nothing wider than the phone, and every visible control in `scope` at least 44 px tall. */
async function fitsPhone(page, what, scope = 'main') {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, `${what}: no sideways scroll`).toBeLessThanOrEqual(390);
  const small = await page.evaluate((scope) =>
    [...document.querySelectorAll(scope)]
      .flatMap((el) => [...el.querySelectorAll('button, input:not([type="checkbox"]):not([type="radio"]), select, textarea')])
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ el: el.id || el.textContent.trim() || el.outerHTML.slice(0, 60), h: el.getBoundingClientRect().height }))
      .filter(({ h }) => h < 44),
  scope);
  expect(small, `${what}: controls at least 44 px tall`).toEqual([]);
}

test('a playbook adopted, a lesson proposed offline, accepted from another browser, in the next incident', async ({ person, relay }) => {
  const a = await person('Alice on a phone', PHONE);
  await a.page.goto(`${relay.url}/`);
  await setDisplayName(a.page, 'Alice');
  await a.page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => a.page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);

  // The playbooks page lists the starters; adopting one makes the team's own playbook.
  await a.page.getByRole('link', { name: "Your team's playbooks" }).click();
  await a.page.waitForURL(/\/playbooks$/);
  await expect(a.page.getByTestId('starter')).toHaveCount(8);
  await expect(a.page.getByTestId('known-playbook')).toHaveCount(0);
  await fitsPhone(a.page, 'playbooks page');
  await a.page.getByRole('button', { name: 'Adopt the Ransomware starter' }).click();
  await a.page.waitForURL(/\/playbook\/[^/?#]+$/);
  const playbookUrl = a.page.url();
  await expect(a.page.getByLabel('Name', { exact: true })).toHaveValue('Ransomware');
  await expect(a.page.locator('#playbook-version')).toContainText('Adopted from the Ransomware starter (v1)');
  await expect(a.page.getByTestId('pb-step')).toHaveCount(7);
  // On the relay, owned by this device, like an incident made here.
  await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });
  await a.page.getByLabel('Name', { exact: true }).fill('Ransomware (ours)');
  await a.page.getByLabel('Name', { exact: true }).blur();
  await expect(a.page.locator('#playbook-version')).toHaveAttribute('data-version', '2');
  await expect(a.page.locator('#sync-status')).toHaveAttribute('data-state', 'synced');
  await expect(a.page.locator('#sync-status')).toHaveAttribute('data-pending', '0');
  await fitsPhone(a.page, 'playbook page');

  // No network: an incident started from the team's playbook, and a lesson proposed.
  await a.link.cut({ offline: true });
  await a.page.goto(`${relay.url}/`);
  await a.page.getByLabel('Start from').selectOption({ label: 'Ransomware (ours)' });
  await a.page.getByLabel('Incident title').fill('File shares encrypted');
  await a.page.getByRole('button', { name: 'Create incident' }).click();
  await a.page.waitForURL(/\/incident\/[^/?#]+/);
  const incidentUrl = a.page.url();
  await expect(a.page.getByTestId('started-from')).toHaveText('Started from the Ransomware (ours) playbook (v2)');
  const lesson = 'Keep an offline copy of the backup encryption keys';
  await a.page.getByLabel('Propose a lesson for the Ransomware (ours) playbook').fill(lesson);
  await a.page.getByRole('button', { name: 'Propose lesson' }).click();
  await expect(a.page.getByTestId('proposed-lesson')).toHaveText([lesson]);
  // The post-mortem lists it with the playbook, and asks about the playbook.
  const isolate = a.page.locator('[data-testid="next-step"][data-title^="Isolate affected hosts"]');
  await isolate.getByRole('button', { name: 'Propose for playbook' }).click();
  await expect(isolate.getByTestId('step-proposed')).toHaveText('Proposed for the playbook');
  const review = a.page.getByTestId('review-proposal');
  await expect(review).toHaveCount(2);
  await expect(review.filter({ hasText: `Lesson learned: ${lesson} (proposed by Alice)` })).toHaveCount(1);
  await expect(review.filter({ hasText: /^Next step: Isolate affected hosts.* \(proposed by Alice\)$/ })).toHaveCount(1);
  await expect(a.page.getByTestId('proposals-review')).toContainText('Started from the Ransomware (ours) playbook (v2)');
  const appropriate = a.page.locator('[data-testid="question"]').filter({ hasText: 'Was the playbook appropriate?' });
  await expect(appropriate).toHaveCount(1);
  await appropriate.getByLabel('Status').selectOption({ label: 'Partly' });
  await expect(a.page.locator('[data-testid="question"]').filter({ hasText: 'What adjustments need to be made?' })).toHaveCount(1);
  await fitsPhone(a.page, 'incident page from a playbook', '.propose-lesson, .proposals-review, [data-testid="next-step"] .row-actions');

  // Online again: the incident goes on the relay; Bob is invited to it and to the playbook.
  await a.link.restore();
  await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });
  const incidentLink = await shareLink(a.page, { name: 'Bob' });
  await a.page.goto(playbookUrl);
  await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });
  const playbookLink = await shareLink(a.page, { name: 'Bob' });
  expect(playbookLink).toContain('/playbook/');

  const b = await person('Bob');
  await openIncident(b.page, incidentLink, { name: 'Bob' });
  await expect(b.page.getByTestId('review-proposal')).toHaveCount(2);
  await b.page.goto(playbookLink);
  await b.page.getByRole('button', { name: 'Open the playbook' }).click();
  await expect(b.page.locator('main')).toHaveAttribute('data-access', 'editor', { timeout: 20_000 });
  await expect(b.page.getByLabel('Name', { exact: true })).toHaveValue('Ransomware (ours)');
  await expect(b.page.getByTestId('pb-proposal')).toHaveCount(2);
  const proposal = b.page.getByTestId('pb-proposal').filter({ hasText: lesson });
  await expect(proposal).toHaveCount(1);
  await expect(proposal).toContainText(lesson);
  await expect(proposal).toContainText('File shares encrypted');
  await proposal.getByRole('button', { name: `Accept “${lesson}”` }).click();
  await expect(proposal).toHaveAttribute('data-accepted', 'true');
  await expect(proposal).toContainText('Accepted');
  await expect(b.page.getByTestId('pb-lesson')).toContainText(lesson);

  // Alice's copy has it, from Bob, and the next incident started from it too.
  await expect(a.page.getByTestId('pb-lesson')).toContainText(lesson, { timeout: 20_000 });
  await expect(a.page.getByTestId('pb-lesson')).toContainText('accepted by Bob');
  await expect(a.page.locator('#playbook-version')).toHaveAttribute('data-version', '3');

  // Edited together: Bob's new step and his line in the summary show on Alice's phone.
  await b.page.locator('#pb-new-step').fill('Call the cyber insurer');
  await b.page.locator('#pb-new-step-role').selectOption('comms');
  await b.page.locator('#pb-new-step-due').fill('120');
  await b.page.getByRole('button', { name: 'Add step' }).click();
  await expect(a.page.getByTestId('pb-step')).toHaveCount(8);
  const titles = () => a.page.locator('[data-testid="pb-step"] input[id$="-title"]').evaluateAll((els) => els.map((e) => e.value));
  await expect.poll(titles).toContain('Call the cyber insurer');
  // Alice's caret at the very start stays there while Bob's line arrives at the end.
  await caretTo(a.page.locator('#pb-summary'), 'start');
  const summary = await b.page.locator('#pb-summary').inputValue();
  await b.page.locator('#pb-summary').fill(`${summary}\nInsurer: [policy number]`);
  await expect(a.page.locator('#pb-summary')).toHaveValue(/\nInsurer: \[policy number\]$/);
  await expect(a.page.locator('#playbook-version')).toHaveAttribute('data-version', '5');
  await a.page.keyboard.type('Z');
  await expect(a.page.locator('#pb-summary')).toHaveValue(/^Z.*\nInsurer: \[policy number\]$/s);
  await expect(b.page.locator('#pb-summary')).toHaveValue(/^Z.*\nInsurer: \[policy number\]$/s);
  await expect(a.page.locator('#playbook-version')).toHaveAttribute('data-version', '6');

  await a.page.goto(`${relay.url}/`);
  await a.page.getByLabel('Start from').selectOption({ label: 'Ransomware (ours)' });
  await a.page.getByLabel('Incident title').fill('Second wave');
  await a.page.getByRole('button', { name: 'Create incident' }).click();
  await a.page.waitForURL(/\/incident\/[^/?#]+/);
  expect(a.page.url()).not.toBe(incidentUrl);
  await expect(a.page.getByTestId('started-from')).toHaveText('Started from the Ransomware (ours) playbook (v6)');
  await expect(section(a.page, 'background')).toHaveValue(new RegExp(lesson));
  await expect(section(a.page, 'summary')).toHaveValue(/^Z.*\nInsurer: \[policy number\]$/s);
  await expect(a.page.locator('[data-testid="next-step"][data-title="Call the cyber insurer"]')).toHaveCount(1);

  // A file that is not a playbook: refused with the reason, nothing changed.
  await a.page.goto(playbookUrl);
  await expect(a.page.getByTestId('pb-lesson')).toHaveCount(1);
  await a.page.getByLabel('Merge a copy of this playbook (.json)').setInputFiles({
    name: 'notes.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ format: 'something-else', version: 1 })),
  });
  await expect(a.page.locator('#pb-file-problem')).toContainText('notes.json was not opened:');
  await expect(a.page.locator('#playbook-version')).toHaveAttribute('data-version', '6');
  await a.page.goto(`${relay.url}/playbooks`);
  await expect(a.page.getByTestId('known-playbook')).toHaveCount(1);
  await a.page.getByLabel('Playbook file (.json)').setInputFiles({
    name: 'broken.firebreak-playbook.json',
    mimeType: 'application/json',
    buffer: Buffer.from('{"format": "firebreak-playbook", "version": 99, "state": ""}'),
  });
  await expect(a.page.locator('#open-playbook-problem')).toContainText('broken.firebreak-playbook.json was not opened:');
  await expect(a.page).toHaveURL(/\/playbooks$/);
  await expect(a.page.getByTestId('known-playbook')).toHaveCount(1);
  await fitsPhone(a.page, 'playbooks page with a refusal');
});
