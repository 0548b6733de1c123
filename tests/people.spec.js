// Handing out the work, in real Chromium against the real relay: the commander gives a role
// to an invited person, who sees it on their own device; an owner makes an invited editor
// co-owner, who then shares from their own device and revokes someone (who is told by whom);
// a demoted editor turns read-only at once; next-step owners are picked from the invited
// people and "only mine" follows the invite, not the name shown; an expiring invite counts
// down in the owner's share panel while it stays open.
import { test, expect } from './support/fixtures.js';
import { invite } from './support/access.js';
import {
  createIncident,
  expectSynced,
  openIncident,
  openSharePanel,
  section,
  shareLink,
  status,
} from './support/app.js';

/** This device's stored grant for the incident (localStorage), as the app keeps it. */
function deviceGrant(page, id) {
  return page.evaluate((key) => JSON.parse(localStorage.getItem(key) || 'null'), `firebreak.access.${id}`);
}

function roleRow(page, key) {
  return page.locator(`[data-testid="role"][data-role="${key}"]`);
}

function access(page) {
  return page.locator('main');
}

test('the commander gives Deputy to an invited person, who sees it on their own device', async ({ person, relay }) => {
  const a = await person('Alice');
  const b = await person('Bob');
  const c = await person('Carol');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Handing out roles' });
  const bobLink = await shareLink(a.page, { name: 'Bob' });
  const carolLink = await shareLink(a.page, { name: 'Carol Ng' });
  await openIncident(b.page, bobLink, { name: 'Bob' });
  await openIncident(c.page, carolLink, { name: 'Carol' });
  await expectSynced(b.page);
  await expectSynced(c.page);

  // Bob, an editor, takes command; an editor who is not commander gives nothing.
  await expect(roleRow(b.page, 'deputy').getByTestId('role-give')).toHaveCount(0);
  await roleRow(b.page, 'commander').getByRole('button', { name: 'Take this role' }).click();
  const give = roleRow(b.page, 'deputy').getByRole('combobox', { name: 'Give the role to Deputy' });
  await expect(give).toBeVisible();
  // Picked from the people invited, by the names they were invited as.
  await expect(give.locator('option')).toHaveText(['Give to…', 'Alice', 'Bob', 'Carol Ng']);
  await give.selectOption({ label: 'Carol Ng' });

  // Carol sees it on her device: her name on the role, and it is hers to step down from.
  await expect(roleRow(c.page, 'deputy').getByTestId('role-holder')).toContainText('Carol Ng');
  await expect(roleRow(c.page, 'deputy').getByRole('button', { name: 'Step down' })).toBeVisible();
  await expect(roleRow(c.page, 'deputy').getByTestId('role-give')).toHaveCount(0);
  // The hand-off is on the timeline, written by the commander.
  await expect(a.page.locator('main')).toContainText('Bob gave the role of Deputy to Carol Ng');
  // The owner may give roles too, without holding one.
  await roleRow(a.page, 'scribe').getByRole('combobox', { name: 'Give the role to Scribe' }).selectOption({ label: 'Bob' });
  await expect(roleRow(b.page, 'scribe').getByTestId('role-holder')).toContainText('Bob');
  await expect(roleRow(b.page, 'scribe').getByRole('button', { name: 'Step down' })).toBeVisible();
});

test('an owner makes an invited editor co-owner, who shares from their own device and revokes someone, named', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  const b = await person('Bob');
  const c = await person('Carol');
  const d = await person('Dave');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Co-owners' });
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await openIncident(c.page, await shareLink(a.page, { name: 'Carol' }), { name: 'Carol' });
  await expectSynced(b.page);
  await expectSynced(c.page);
  await expect(b.page.getByRole('button', { name: 'Share', exact: true })).toHaveCount(0);

  const panel = await openSharePanel(a.page);
  const bobRow = panel.getByTestId('invite').filter({ hasText: 'Bob' });
  await expect(bobRow).toContainText('connected now');
  await bobRow.getByRole('combobox', { name: 'Access for Bob' }).selectOption('owner');
  await expect(bobRow).toHaveAttribute('data-role', 'owner');

  // Bob's page learns its new role without a reload, and he shares from his own device.
  await expect(access(b.page)).toHaveAttribute('data-access', 'owner', { timeout: 15_000 });
  await expectSynced(b.page);
  const daveLink = await shareLink(b.page, { name: 'Dave', role: 'viewer', keepOpen: true });
  const bobPanel = b.page.locator('#share-panel');
  await expect(bobPanel.getByTestId('invite').filter({ hasText: 'Bob' })).toContainText('owner (you)');
  await expect(bobPanel.getByTestId('invite').filter({ hasText: 'Alice' })).toContainText('owner');
  await openIncident(d.page, daveLink, { name: 'Dave' });
  await expect(access(d.page)).toHaveAttribute('data-access', 'viewer');
  await expect(panel.getByTestId('invite').filter({ hasText: 'Dave' })).toBeVisible({ timeout: 10_000 });

  // Bob revokes Carol; she is told who did.
  const carolRow = bobPanel.getByTestId('invite').filter({ hasText: 'Carol' });
  await carolRow.getByRole('button', { name: 'Revoke', exact: true }).click();
  await carolRow.getByRole('button', { name: 'Revoke access' }).click();
  await expect(status(c.page)).toContainText('Your access was revoked by Bob.');
  await expect(status(c.page)).toHaveAttribute('data-state', 'refused');
  // And still after a reload.
  await c.page.reload();
  await expect(status(c.page)).toContainText('Your access was revoked by Bob.');
});

test('a demoted editor turns read-only at once, and writes again when made editor, without a new link', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  const b = await person('Bob');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Demotion' });
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page);
  await section(b.page, 'summary').pressSequentially('Bob wrote this. ', { delay: 10 });
  await expect(section(a.page, 'summary')).toHaveValue('Bob wrote this. ');

  const panel = await openSharePanel(a.page);
  const bobRow = panel.getByTestId('invite').filter({ hasText: 'Bob' });
  await bobRow.getByRole('combobox', { name: 'Access for Bob' }).selectOption('viewer');
  await expect(access(b.page)).toHaveAttribute('data-access', 'viewer', { timeout: 15_000 });
  await expect(section(b.page, 'summary')).toBeDisabled();
  await expectSynced(b.page);
  // Back to editor, the same way, without a new link.
  await bobRow.getByRole('combobox', { name: 'Access for Bob' }).selectOption('editor');
  await expect(access(b.page)).toHaveAttribute('data-access', 'editor', { timeout: 15_000 });
  await expect(section(b.page, 'summary')).toBeEnabled();
  // Alice's own row has no role choice; the relay keeps the last owner (tested in coowners.rs).
  await expect(panel.getByTestId('invite').filter({ hasText: 'Alice' }).getByTestId('invite-role')).toHaveCount(0);
});

test('next-step owners are picked from the invited people, and "only mine" follows the invite', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  const b = await person('Bob');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Next steps for people' });
  // Bob was invited as "Bob Example" and calls himself "Robert" on his device.
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob Example' }), { name: 'Robert' });
  await expectSynced(b.page);

  const suggestions = a.page.locator('#invited-people option');
  // The share panel's own changes reach the list at once.
  await expect(suggestions).toHaveCount(2);
  expect(await suggestions.evaluateAll((options) => options.map((o) => o.value))).toEqual(['Alice', 'Bob Example']);
  await expect(a.page.locator('#step-new-owner')).toHaveAttribute('list', 'invited-people');

  const addStep = async (title, owner) => {
    await a.page.getByLabel('What needs doing').fill(title);
    await a.page.locator('#step-new-owner').fill(owner);
    await a.page.getByRole('button', { name: 'Add step' }).click();
  };
  await addStep('Call the bank', 'bob example');
  await addStep('Ask the vendor for logs', 'Outside Vendor');

  const steps = b.page.getByTestId('next-step');
  await expect(steps).toHaveCount(2);
  await b.page.getByLabel('Only mine').check();
  await expect(steps).toHaveCount(1);
  await expect(steps.first()).toHaveAttribute('data-title', 'Call the bank');

  // Given to Bob afterwards, in the step's own owner field: it follows him too.
  const vendorOwner = a.page.locator('[data-title="Ask the vendor for logs"] input[id$="-owner"]');
  await expect(vendorOwner).toHaveAttribute('list', 'invited-people');
  await vendorOwner.fill('Bob Example');
  await vendorOwner.blur();
  await expect(steps).toHaveCount(2);
  // On Alice's device, none of them is hers.
  await a.page.getByLabel('Only mine').check();
  await expect(a.page.getByTestId('next-step')).toHaveCount(0);
});

test('an expiring invite counts down in the open share panel, then says expired', async ({ person, relay }) => {
  const a = await person('Alice');
  await a.page.clock.install({ time: new Date() });
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Expiring links' });
  await expectSynced(a.page);
  const owner = await deviceGrant(a.page, id);
  await invite(relay.url, id, owner.token, { name: 'Temp', role: 'viewer', expiresInHours: 40 / 60 });

  const panel = await openSharePanel(a.page);
  const row = panel.getByTestId('invite').filter({ hasText: 'Temp' });
  await expect(row).toContainText(/expires in (40|39|38) min/);
  await a.page.clock.fastForward('30:00');
  await expect(row).toContainText(/expires in (10|9|8) min/);
  await a.page.clock.fastForward('11:00');
  await expect(row).toContainText(/expired \d{4}-\d\d-\d\d/);
  await expect(row).not.toContainText('expires in');
});
