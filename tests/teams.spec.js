// A playbook shared with a whole team, in real Chromium with a real relay. Alice adopts a
// playbook, makes a team on the playbooks page and shares the playbook with it; Dana, invited
// to the team only after the sharing, opens her team link on a phone, sees the team's
// playbooks, opens the playbook and edits it live with Alice. Revoking Dana from the team
// shows her a clear message on the playbook's page and on the team's page.
import { test, expect } from './support/fixtures.js';
import { setDisplayName } from './support/app.js';

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };

/** Nothing wider than the phone, and every visible control in `main` at least 44 px tall. */
async function fitsPhone(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, `${what}: no sideways scroll`).toBeLessThanOrEqual(390);
  const small = await page.evaluate(() =>
    [...document.querySelectorAll('main')]
      .flatMap((el) => [...el.querySelectorAll('button, input:not([type="checkbox"]):not([type="radio"]), select, textarea')])
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ el: el.id || el.textContent.trim() || el.outerHTML.slice(0, 60), h: el.getBoundingClientRect().height }))
      .filter(({ h }) => h < 44));
  expect(small, `${what}: controls at least 44 px tall`).toEqual([]);
}

test('a playbook shared with a team: a member added later edits it live on a phone, and is told when revoked', async ({ person, relay }) => {
  const a = await person('Alice');
  await a.page.goto(`${relay.url}/`);
  await setDisplayName(a.page, 'Alice');
  await a.page.goto(`${relay.url}/playbooks`);
  await a.page.getByRole('button', { name: 'Adopt the Phishing starter' }).click();
  await a.page.waitForURL(/\/playbook\/[^/?#]+$/);
  const playbookUrl = a.page.url();
  await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });

  // A team, made on the playbooks page; too long a name is refused and makes nothing.
  await a.page.goto(`${relay.url}/playbooks`);
  await a.page.getByLabel("New team's name").evaluate((el) => el.removeAttribute('maxlength'));
  await a.page.getByLabel("New team's name").fill('x'.repeat(81));
  await a.page.getByRole('button', { name: 'Create team' }).click();
  await expect(a.page.locator('#team-area-problem')).toContainText('at most 80 characters');
  await expect(a.page.getByTestId('team')).toHaveCount(0);
  await a.page.getByLabel("New team's name").fill('IR team');
  await a.page.getByRole('button', { name: 'Create team' }).click();
  const team = a.page.getByTestId('team');
  await expect(team).toHaveCount(1);
  await expect(team.locator('h3')).toHaveText('IR team (owner)');
  await expect(team.getByTestId('team-member')).toHaveCount(1);

  // Shared with the team from the playbook's page, before anyone else is on it.
  await a.page.goto(playbookUrl);
  await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });
  await a.page.getByRole('button', { name: 'Share with team' }).click();
  await expect(a.page.locator('#team-share-note')).toContainText('Shared with IR team');
  await expect(a.page.getByTestId('team-share')).toContainText('IR team');

  // Dana is invited to the team afterwards, by her own team link.
  await a.page.goto(`${relay.url}/playbooks`);
  await team.getByLabel("Member's name").fill('Dana');
  await team.getByRole('button', { name: 'Invite to team' }).click();
  const link = await a.page.getByTestId('team-link').inputValue();
  expect(link).toMatch(/\/team\/[A-Za-z0-9_-]+#invite=[0-9a-f]{16}\.[0-9a-f]{32}$/);
  await expect(team.getByTestId('team-member')).toHaveCount(2);
  await a.page.goto(playbookUrl);
  await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });

  // On her phone: the team's page lists the playbook, and she opens it as an editor.
  const d = await person('Dana on a phone', PHONE);
  await d.page.goto(`${relay.url}/`);
  await setDisplayName(d.page, 'Dana');
  await d.page.goto(link);
  await expect(d.page.locator('#team-name')).toHaveText('IR team');
  await expect(d.page.locator('#team-me')).toContainText('Dana (editor)');
  expect(d.page.url()).not.toContain('#invite=');
  await expect(d.page.getByTestId('team-playbook')).toHaveCount(1);
  await expect(d.page.getByTestId('team-playbook')).toContainText('Phishing');
  await fitsPhone(d.page, 'team page');
  await d.page.getByTestId('team-playbook').getByRole('link').click();
  await d.page.waitForURL(/\/playbook\/[^/?#]+$/);
  expect(d.page.url()).toBe(playbookUrl);
  await expect(d.page.locator('main')).toHaveAttribute('data-access', 'editor', { timeout: 20_000 });
  await expect(d.page.getByLabel('Name', { exact: true })).toHaveValue('Phishing');
  // A team member shares nothing and invites nobody to the playbook.
  await expect(d.page.locator('#h-team-share')).toHaveCount(0);
  await expect(d.page.locator('#share-button')).toHaveCount(0);
  await fitsPhone(d.page, 'playbook page opened through the team');

  // Edited live, both ways.
  await d.page.getByLabel('Name', { exact: true }).fill('Phishing (team)');
  await d.page.getByLabel('Name', { exact: true }).blur();
  await expect(a.page.getByLabel('Name', { exact: true })).toHaveValue('Phishing (team)');
  await a.page.locator('#pb-new-step').fill('Tell the help desk');
  await a.page.getByRole('button', { name: 'Add step' }).click();
  const titles = () => d.page.locator('[data-testid="pb-step"] input[id$="-title"]').evaluateAll((els) => els.map((e) => e.value));
  await expect.poll(titles).toContain('Tell the help desk');

  // Revoked from the team: Dana's playbook page says who did it, and so does the team's page.
  await a.page.goto(`${relay.url}/playbooks`);
  await team.getByRole('button', { name: 'Revoke Dana' }).click();
  await expect(team.getByTestId('team-member').filter({ hasText: 'Dana' })).toContainText('revoked');
  const status = d.page.locator('#sync-status');
  await expect(status).toContainText('Your access was revoked by Alice.', { timeout: 10_000 });
  await expect(status).toHaveAttribute('data-refusal', 'revoked');
  await expect(d.page.getByLabel('Name', { exact: true })).toBeDisabled();
  await expect(d.page.getByLabel('Name', { exact: true })).toHaveValue('Phishing (team)');
  await d.page.goto(`${relay.url}/team/${link.split('/team/')[1].split('#')[0]}`);
  await expect(d.page.locator('#team-problem')).toHaveText('Your place on this team was revoked by Alice.');
  await expect(d.page.getByTestId('team-playbook')).toHaveCount(0);
});
