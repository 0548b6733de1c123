// Invite-only incidents in real Chromium against the real relay: the owner shares a link per
// person from the Share panel, the person joins from it (asked for a name), a viewer reads
// live but cannot change anything, a revoked person is told and cut off, and an incident made
// offline is published once the device is back online.
import { test, expect } from './support/fixtures.js';
import { invite } from './support/access.js';
import {
  createIncident,
  expectSynced,
  incidentUrl,
  joinFromLink,
  openIncident,
  openSharePanel,
  revokeInvite,
  section,
  setDisplayName,
  shareLink,
  status,
} from './support/app.js';
import { addIndicator, indicatorRow } from './support/evidence.js';

const clipboard = { permissions: ['clipboard-read', 'clipboard-write'] };

/** Every enabled form control in the incident itself (not the page's own buttons). */
function enabledControls(page) {
  return page.evaluate(
    () =>
      [...document.querySelectorAll('.incident-body :is(input, textarea, select, button)')].filter(
        (el) => !el.matches(':disabled'),
      ).length,
  );
}

test('the owner invites by name; the person joins from the link, names themselves and edits', async ({
  person,
  relay,
}) => {
  const a = await person('Alice', clipboard);
  const b = await person('Bob');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Invite only' });
  await expectSynced(a.page);

  const link = await shareLink(a.page, { name: 'Bob Example', keepOpen: true });
  expect(link).toMatch(new RegExp(`^${relay.url}/incident/${id}#invite=[0-9a-f]{16}\\.[0-9a-f]{32}$`));
  const panel = a.page.locator('#share-panel');
  await expect(panel.getByTestId('new-invite')).toContainText('Link for Bob Example (editor)');
  // A QR code of the link, drawn in the page, for a phone standing next to the laptop.
  const qr = panel.getByRole('img', { name: 'QR code of the invite link for Bob Example' });
  await expect(qr).toBeVisible();
  expect(await qr.locator('path').getAttribute('d')).toMatch(/^M\d+ \d+h\d+/);
  await panel.getByRole('button', { name: 'Copy link' }).click();
  await expect(panel).toContainText('Copied the link.');
  expect(await a.page.evaluate(() => navigator.clipboard.readText())).toBe(link);
  // Who is invited: the owner first, then Bob, who has not been here yet.
  const rows = panel.getByTestId('invite');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('Alice');
  await expect(rows.nth(0)).toContainText('owner');
  await expect(rows.nth(1)).toContainText('Bob Example');
  await expect(rows.nth(1)).toContainText('never connected');
  await expect(panel).toContainText('cannot be un-seen');

  // Bob's device has no name yet: the app asks, offering the name he was invited as.
  const prefilled = await joinFromLink(b.page, link);
  expect(prefilled).toBe('Bob Example');
  // The secret left the address bar at once.
  await expect(b.page).toHaveURL(`${relay.url}/incident/${id}`);
  await expectSynced(b.page);
  await expect(b.page.locator('#incident-title')).toHaveValue('Invite only');
  await expect(b.page.locator('main')).toHaveAttribute('data-access', 'editor');
  // An editor changes the incident but does not share it.
  await expect(b.page.getByRole('button', { name: 'Share', exact: true })).toHaveCount(0);

  await section(b.page, 'summary').pressSequentially('Bob was here. ', { delay: 10 });
  await expect(section(a.page, 'summary')).toHaveValue('Bob was here. ');
  await expect(a.page.locator('#presence')).toContainText('Bob Example');
  await expect(rows.nth(1)).toContainText('connected now');

  // The incident is on Bob's list of incidents on his device.
  await b.page.goto(`${relay.url}/`);
  await expect(b.page.locator('[data-testid="known-incident"]').filter({ hasText: 'Invite only' })).toBeVisible();
});

test('revoking a link cuts the person off at once: they are told, and nothing more syncs', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  const b = await person('Bob');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Revocation' });
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page);
  await section(b.page, 'summary').pressSequentially('Before the revoke. ', { delay: 10 });
  await expect(section(a.page, 'summary')).toHaveValue('Before the revoke. ');

  const row = await revokeInvite(a.page, 'Bob');
  await expect(row).toHaveClass(/revoked/);

  // Bob's page says so, keeps what it has, and stops offering to edit.
  await expect(status(b.page)).toContainText(
    'Your access was revoked by Alice. What is on this device stays here; nothing more will sync.',
  );
  await expect(status(b.page)).toHaveAttribute('data-state', 'refused');
  await expect(section(b.page, 'summary')).toHaveValue('Before the revoke. ');
  await expect(section(b.page, 'summary')).toBeDisabled();
  await expect(a.page.locator('#presence')).not.toContainText('Bob');

  // Alice goes on; none of it reaches Bob.
  await section(a.page, 'summary').press('End');
  await section(a.page, 'summary').pressSequentially('After the revoke. ', { delay: 10 });
  await expectSynced(a.page);

  // Even a page whose fields are forced back on sends nothing: the relay no longer talks to it.
  await b.page.evaluate(() => {
    document.querySelector('fieldset.incident-body').disabled = false;
  });
  await section(b.page, 'theories').pressSequentially('Written after being revoked.', { delay: 5 });
  await b.page.reload();
  await expect(status(b.page)).toContainText('Your access was revoked');
  await expect(section(b.page, 'summary')).toHaveValue('Before the revoke. ');
  await a.page.waitForTimeout(1500);
  await expect(section(a.page, 'theories')).toHaveValue('');
  await expect(section(a.page, 'summary')).toHaveValue('Before the revoke. After the revoke. ');
});

test('a viewer copies an indicator, with the mouse or the keyboard, though it can change nothing', async ({ person, relay }) => {
  const a = await person('Alice');
  const v = await person('Val', clipboard);
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'IOCs for the SOC' });
  await addIndicator(a.page, 'hxxps://evil[.]example/login');
  const link = await shareLink(a.page, { name: 'Val', role: 'viewer' });
  await openIncident(v.page, link, { name: 'Val' });
  const row = indicatorRow(v.page, 'hxxps://evil[.]example/login');
  await expect(row).toHaveCount(1);
  expect(await enabledControls(v.page), 'the viewer still changes nothing').toBe(0);

  const raw = row.getByRole('button', { name: 'Copy raw' });
  await expect(raw).toBeEnabled();
  await raw.click();
  await expect(row).toContainText('Copied the raw value.');
  await expect.poll(() => v.page.evaluate(() => navigator.clipboard.readText())).toBe('https://evil.example/login');
  // From the keyboard: Tab to it, Enter.
  await row.getByRole('button', { name: 'Copy defanged' }).focus();
  await v.page.keyboard.press('Enter');
  await expect
    .poll(() => v.page.evaluate(() => navigator.clipboard.readText()))
    .toBe('hxxps://evil[.]example/login');
  // Nothing else in the row acts for a viewer.
  await expect(row.getByRole('button', { name: /Edit|Correct/ })).toBeDisabled();
});

test('a viewer sees edits live but cannot change anything', async ({ person, relay }) => {
  const a = await person('Alice');
  const v = await person('Val');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Read only for Val' });
  const link = await shareLink(a.page, { name: 'Val', role: 'viewer' });
  await openIncident(v.page, link, { name: 'Val' });
  await expectSynced(v.page);

  await expect(v.page.locator('main')).toHaveAttribute('data-access', 'viewer');
  await expect(v.page.locator('#read-only-note')).toContainText(
    'You can read this incident; only editors can change it',
  );
  await expect(section(v.page, 'summary')).toBeDisabled();
  await expect(v.page.locator('#incident-title')).toBeDisabled();
  await expect(v.page.locator('select#tlp')).toBeDisabled();
  expect(await enabledControls(v.page), 'enabled controls in a viewer’s incident').toBe(0);
  await expect(v.page.getByRole('button', { name: 'Share', exact: true })).toHaveCount(0);

  // Live: what Alice does shows at once.
  await section(a.page, 'summary').pressSequentially('Contained at 10:05. ', { delay: 10 });
  await expect(section(v.page, 'summary')).toHaveValue('Contained at 10:05. ');
  await a.page.locator('select#tlp').selectOption('RED');
  await expect(v.page.locator('select#tlp')).toHaveValue('RED');
  await expect(a.page.locator('#presence')).toContainText('Val');
  // Still connected and in step: the relay never had to refuse anything.
  await expectSynced(v.page);
  await expect(status(v.page)).toHaveAttribute('data-state', 'synced');
});

test('an incident made offline is published when back online, with everything written meanwhile', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  await a.page.goto(`${relay.url}/`);
  await setDisplayName(a.page, 'Alice');
  await a.link.cut({ offline: true });

  await a.page.getByLabel('Incident title').fill('Made on a plane');
  await a.page.getByRole('button', { name: 'Create incident' }).click();
  await a.page.waitForURL(/\/incident\/[^/?#]+/);
  await expect(section(a.page, 'summary')).toBeVisible();
  await expect(status(a.page)).toHaveAttribute('data-state', 'unpublished');
  await expect(status(a.page)).toContainText('Not on the relay yet — it will be published when you are online');
  // Nothing to share until the relay knows the incident.
  await expect(a.page.getByRole('button', { name: 'Share', exact: true })).toHaveCount(0);

  await section(a.page, 'summary').pressSequentially('Written offline. ', { delay: 5 });
  await section(a.page, 'theories').fill('Typed before it was published.');
  await a.page.waitForTimeout(500);
  await expect(status(a.page)).toHaveAttribute('data-state', 'unpublished');

  await a.link.restore();
  await expectSynced(a.page, 20_000);

  // Someone invited afterwards sees all of it.
  const b = await person('Bob');
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expect(b.page.locator('#incident-title')).toHaveValue('Made on a plane');
  await expect(section(b.page, 'summary')).toHaveValue('Written offline. ');
  await expect(section(b.page, 'theories')).toHaveValue('Typed before it was published.');
});

test('without an invite the page says one is needed and does not keep trying', async ({ person, relay }) => {
  const a = await person('Alice');
  const c = await person('Carol');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Not for Carol' });
  await section(a.page, 'summary').fill('Secret summary.');
  await expectSynced(a.page);

  const sockets = [];
  c.page.on('websocket', (ws) => sockets.push(ws.url()));
  await c.page.goto(incidentUrl(a.page));
  await expect(c.page.getByRole('heading', { name: 'You need an invite link to open this incident' })).toBeVisible();
  await expect(status(c.page)).toHaveAttribute('data-state', 'refused');
  await expect(section(c.page, 'summary')).toHaveCount(0);
  await c.page.waitForTimeout(1500);
  expect(sockets, 'no connection attempts without a token').toEqual([]);
  // Not listed as one of Carol's incidents.
  await c.page.goto(`${relay.url}/`);
  await expect(c.page.locator('[data-testid="known-incident"]')).toHaveCount(0);

  // A link cut short when it was copied says so.
  await c.page.goto(`${relay.url}/incident/${id}#invite=0123abcd`);
  await expect(c.page.getByRole('heading', { name: 'This invite link is incomplete' })).toBeVisible();
  await expect(c.page).toHaveURL(`${relay.url}/incident/${id}`);

  // A made-up token is refused by the relay, and nothing of the incident shows.
  await c.page.goto(`${relay.url}/incident/${id}#invite=0123456789abcdef.0123456789abcdef0123456789abcdef`);
  await expect(status(c.page)).toContainText("does not know this device's invite");
  await expect(c.page.getByText('Secret summary.')).toHaveCount(0);
  await expect(section(c.page, 'summary')).toHaveCount(0);
  await c.page.goto(`${relay.url}/`);
  await expect(c.page.locator('[data-testid="known-incident"]')).toHaveCount(0);
});

test('names from the relay are shown as text, never as markup', async ({ person, relay }) => {
  const a = await person('Alice');
  const b = await person('B');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Names as text' });
  const name = '<img src=x onerror="window.__pwned=1">';
  const link = await shareLink(a.page, { name, keepOpen: true });
  const panel = await openSharePanel(a.page);
  await expect(panel.getByTestId('invite').nth(1)).toContainText(name);
  expect(await joinFromLink(b.page, link)).toBe(name);
  await expectSynced(b.page);
  await expect(a.page.locator('#presence')).toContainText(name);
  for (const page of [a.page, b.page]) {
    await expect(page.locator('img[src="x"]')).toHaveCount(0);
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  }
});

test('an invite whose time ran out says so, on the joining device and in the owner\'s list', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  const b = await person('Bob');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Short-lived invite' });
  await expectSynced(a.page);
  // The panel makes links that do not expire; one that does is made through the API with the
  // owner's token, as kept on the owner's device.
  const owner = await a.page.evaluate((key) => JSON.parse(localStorage.getItem(key)), `firebreak.access.${id}`);
  expect(owner.role).toBe('owner');
  const brief = await invite(relay.url, id, owner.token, { name: 'Bob', role: 'editor', expiresInHours: 0.0005 });
  await a.page.waitForTimeout(2500);

  await b.page.goto(`${relay.url}/incident/${id}#invite=${brief.token}`);
  await expect(status(b.page)).toContainText('Your invite has expired. Ask the incident commander for a new link.');
  await expect(section(b.page, 'summary')).toHaveCount(0);

  const panel = await openSharePanel(a.page);
  await expect(panel.getByTestId('invite').filter({ hasText: 'Bob' })).toContainText(/expired \d{4}-\d\d-\d\d/);
});
