// Joining and time in real Chromium against the real relay (issue 15, items 3 and 6): the join
// screen says what an invite opens (title, TLP, role, who invited) before it is opened, and
// works without the relay; a step due soon says so and turns late while the page is open;
// offline, the sync status says how long ago it last synced, counting on live and across a
// reload.
import { test, expect } from './support/fixtures.js';
import {
  createIncident,
  expectSynced,
  incidentUrl,
  section,
  shareLink,
  revokeInvite,
  setDisplayName,
} from './support/app.js';

function steps(page) {
  return page.locator('[data-testid="next-step"]');
}

async function addStep(page, { title, due }) {
  await page.getByLabel('What needs doing').fill(title);
  await page.locator('#step-new-due').fill(due);
  await page.getByRole('button', { name: 'Add step' }).click();
}

test('the join screen shows the title, TLP, role and who invited before the incident is opened', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  const title = 'Payroll mailbox phished';
  await createIncident(a.page, relay.url, { name: 'Alice', title });
  await a.page.locator('select#tlp').selectOption('AMBER');
  await a.page.locator('#classification-label').fill('Confidential — HR only');
  await section(a.page, 'summary').fill('The CFO entered her password at 08:12.');
  await expectSynced(a.page);
  const link = await shareLink(a.page, { role: 'viewer', name: 'Dana' });

  const d = await person('Dana');
  await d.page.goto(link);
  const preview = d.page.locator('#join-preview');
  await expect(preview).toHaveAttribute('data-state', 'shown');
  await expect(preview).toContainText(title);
  await expect(preview).toContainText('TLP:AMBER');
  await expect(preview).toContainText('Confidential — HR only');
  await expect(preview).toContainText('You can read');
  await expect(preview).toContainText('Invited by Alice');
  await expect(d.page.locator('main')).toHaveAttribute('data-access', 'naming');
  // Before it is opened the page shows none of the incident itself.
  await expect(d.page.getByText('The CFO entered her password')).toHaveCount(0);

  await d.page.getByRole('button', { name: 'Open the incident' }).click();
  await expect(d.page.locator('main')).toHaveAttribute('data-access', 'viewer');
  await expect(section(d.page, 'summary')).toHaveValue('The CFO entered her password at 08:12.');

  // An editor's invite says so.
  const editorLink = await shareLink(a.page, { role: 'editor', name: 'Erin' });
  const e = await person('Erin');
  await e.page.goto(editorLink);
  await expect(e.page.locator('#join-preview')).toContainText('You can edit');
  await expect(e.page.locator('#join-preview')).toContainText('Invited by Alice');

  // A revoked link gets the page's usual refusal, and no preview.
  const revokedLink = await shareLink(a.page, { role: 'viewer', name: 'Frank' });
  await revokeInvite(a.page, 'Frank');
  const f = await person('Frank');
  await f.page.goto(revokedLink);
  await expect(f.page.locator('#sync-status')).toHaveAttribute('data-refusal', 'revoked');
  await expect(f.page.locator('#join-preview')).toHaveCount(0);
  await expect(f.page.getByText(title)).toHaveCount(0);
});

test('a device that already has a name sees what a new invite opens too, its name prefilled', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Second incident of the night' });
  await expectSynced(a.page);
  const link = await shareLink(a.page, { role: 'editor', name: 'Bob from the SOC' });

  // Bob's phone has been used with Firebreak before: it has a name.
  const b = await person('Bob');
  await b.page.goto(new URL('/', link).href);
  await setDisplayName(b.page, 'Bob');
  await b.page.goto(link);
  const preview = b.page.locator('#join-preview');
  await expect(preview).toHaveAttribute('data-state', 'shown');
  await expect(preview).toContainText('Second incident of the night');
  await expect(preview).toContainText('You can edit');
  await expect(preview).toContainText('Invited by Alice');
  await expect(b.page.getByLabel('Your name')).toHaveValue('Bob');
  await b.page.getByRole('button', { name: 'Open the incident' }).click();
  await expect(b.page.locator('main')).toHaveAttribute('data-access', 'editor');

  // Opening it again (the same link, a reload): straight in, no join screen.
  await b.page.goto(link);
  await expect(section(b.page, 'summary')).toBeVisible();
  await expect(b.page.locator('main')).toHaveAttribute('data-access', 'editor');
  await expect(b.page.locator('#join-preview')).toHaveCount(0);
});

test('without the relay the join screen still works and says the preview is missing', async ({ person, relay }) => {
  const a = await person('Alice');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Lost laptop' });
  await expectSynced(a.page);
  const link = await shareLink(a.page, { role: 'viewer', name: 'Gus' });

  const g = await person('Gus');
  // The app itself loads; every call to the relay's API fails as with no network.
  await g.page.route(/\/api\//, (route) => route.abort('internetdisconnected'));
  await g.page.goto(link);
  const preview = g.page.locator('#join-preview');
  await expect(preview).toHaveAttribute('data-state', 'unavailable');
  await expect(preview).toContainText('cannot be shown right now');
  await expect(g.page.getByLabel('Your name')).toBeVisible();
  await g.page.getByLabel('Your name').fill('Gus');
  // The relay is back: opening checks the invite and joins.
  await g.page.unroute(/\/api\//);
  await g.page.getByRole('button', { name: 'Open the incident' }).click();
  await expect(g.page.locator('main')).toHaveAttribute('data-access', 'viewer', { timeout: 20_000 });
  await expect(g.page.locator('#incident-title')).toHaveValue('Lost laptop');
});

test('a step due in 10 min says so and turns late while the page is open', async ({ person, relay }) => {
  const a = await person('Alice');
  await a.page.clock.install({ time: new Date('2026-11-30T09:00:00Z') });
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Deadline' });
  await addStep(a.page, { title: 'Tell the regulator', due: '2026-11-30 09:10 UTC' });
  await addStep(a.page, { title: 'Board briefing', due: '2026-11-30 11:00 UTC' });
  await expect(steps(a.page)).toHaveCount(2);
  const soon = a.page.locator('[data-testid="next-step"][data-title="Tell the regulator"]');
  const later = a.page.locator('[data-testid="next-step"][data-title="Board briefing"]');
  await expect(soon).toContainText(/Due in (10|9) min/);
  await expect(soon).toHaveClass(/due-soon/);
  await expect(later).not.toContainText('Due in');

  await a.page.clock.fastForward('06:00');
  await expect(soon).toContainText(/Due in (4|3) min/, { timeout: 20_000 });
  await expect(soon).not.toHaveClass(/overdue/);

  await a.page.clock.fastForward('05:00');
  await expect(soon).toHaveClass(/overdue/, { timeout: 20_000 });
  await expect(soon).toContainText('Overdue');
  await expect(soon).not.toContainText('Due in');
  await expect(later).not.toContainText('Due in');
});

test('offline, the sync status counts the minutes since it last synced, live and after a reload', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  await a.page.clock.install({ time: new Date('2026-11-30T09:00:00Z') });
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Plane' });
  const link = incidentUrl(a.page);
  await expectSynced(a.page);
  await expect(a.page.locator('#last-synced')).toHaveText('');
  // Still in sync an hour later: "last synced" moves on with it.
  await a.page.clock.fastForward('01:00:00');
  await expectSynced(a.page);
  await a.page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => a.page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);

  await relay.stop();
  await a.link.cut({ offline: true });
  const since = a.page.locator('#last-synced');
  await expect(a.page.locator('#sync-status')).toHaveAttribute('data-state', 'offline');
  await expect(since).toContainText('last synced less than a minute ago');

  await a.page.clock.fastForward('12:00');
  await expect(since).toContainText(/last synced 1[23] min ago/, { timeout: 20_000 });

  // Reloaded with no network: the time is kept on the device.
  await a.page.goto(link);
  await expect(a.page.locator('#sync-status')).toHaveAttribute('data-state', 'offline');
  await expect(since).toContainText(/last synced 1[23] min ago/);
  await a.page.clock.fastForward('10:00');
  await expect(since).toContainText(/last synced 2[23] min ago/, { timeout: 20_000 });
});
