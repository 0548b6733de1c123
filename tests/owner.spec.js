// What only an incident's owner does to the incident itself, in real Chromium against the
// real relay: deleting it for everyone (typed confirmation; the owner's device forgets it,
// the others are told and keep their copy until they remove it) and rotating their own link
// (the device keeps syncing with the new one; the old one is refused).
import { test, expect } from './support/fixtures.js';
import { me } from './support/access.js';
import {
  createIncident,
  expectSynced,
  incidentUrl,
  openIncident,
  openSharePanel,
  section,
  shareLink,
  status,
} from './support/app.js';
import { storedUpdates } from './support/state.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** This device's stored grant for the incident (localStorage), as the app keeps it. */
function deviceGrant(page, id) {
  return page.evaluate((key) => JSON.parse(localStorage.getItem(key) || 'null'), `firebreak.access.${id}`);
}

function knownIncident(page, title) {
  return page.locator('[data-testid="known-incident"]').filter({ hasText: title });
}

test('the owner deletes an incident for everyone; the others are told and remove their copy when they choose', async ({
  person,
  relay,
  yclients,
}) => {
  const a = await person('Alice');
  const b = await person('Bob');
  const c = await person('Carol');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Doomed incident' });
  await section(a.page, 'summary').fill('Sensitive notes.');
  await expectSynced(a.page);
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expect(section(b.page, 'summary')).toHaveValue('Sensitive notes.');
  // Carol opened it once, then closed the page: she learns of the deletion later.
  await openIncident(c.page, await shareLink(a.page, { name: 'Carol', role: 'viewer' }), { name: 'Carol' });
  await expect(section(c.page, 'summary')).toHaveValue('Sensitive notes.');
  await c.page.goto(`${relay.url}/`);
  await expect(knownIncident(c.page, 'Doomed incident')).toBeVisible();
  // A stock client connected with the owner's token.
  const ownerToken = (await deviceGrant(a.page, id)).token;
  const stock = yclients(relay.wsUrl, id, { name: 'stock', params: { token: ownerToken } });
  await stock.synced();

  const panel = await openSharePanel(a.page);
  await panel.getByRole('button', { name: 'Delete incident' }).click();
  const confirmButton = panel.getByRole('button', { name: 'Delete for everyone' });
  await expect(panel).toContainText('Copies already on other devices stay there');
  const typed = panel.getByLabel("Type the incident's title, or DELETE");
  await typed.fill('Doomed');
  await expect(confirmButton).toBeDisabled();
  // Offline, nothing is deleted.
  await typed.fill('Doomed incident');
  await a.link.cut({ offline: true });
  await confirmButton.click();
  await expect(panel).toContainText('You are offline: deleting the incident needs the relay. Nothing was deleted.');
  expect((await me(relay.url, id, ownerToken)).role).toBe('owner');
  await a.link.restore();
  await confirmButton.click();

  // The owner's device: back on the list of incidents, which no longer has it; nothing of it
  // is kept on the device.
  await expect(a.page).toHaveURL(`${relay.url}/`);
  await expect(knownIncident(a.page, 'Doomed incident')).toHaveCount(0);
  expect(await storedUpdates(a.page, id)).toEqual([]);
  expect(await deviceGrant(a.page, id)).toBeNull();

  // Bob, connected: told at once; his copy stays, read-only, until he removes it.
  const notice = b.page.locator('#deleted-notice');
  await expect(notice).toContainText('This incident was deleted by its owner');
  await expect(b.page.locator('main')).toHaveAttribute('data-access', 'refused-deleted');
  await expect(status(b.page)).toContainText('This incident was deleted by its owner.');
  await expect(section(b.page, 'summary')).toHaveValue('Sensitive notes.');
  await expect(section(b.page, 'summary')).toBeDisabled();
  expect((await storedUpdates(b.page, id)).length).toBeGreaterThan(0);

  // The stock client got 4404 and does not try again.
  const closed = await stock.nextClose(5_000, 0);
  expect(closed).toEqual({ code: 4404, reason: 'this incident was deleted by its owner' });
  await sleep(700);
  expect(stock.closeEvents).toHaveLength(1);

  // Carol, connecting later: told the same, and her copy is there until she removes it.
  await c.page.goto(`${relay.url}/incident/${id}`);
  await expect(c.page.locator('#deleted-notice')).toContainText('This incident was deleted by its owner');
  await expect(section(c.page, 'summary')).toHaveValue('Sensitive notes.');
  await c.page.goto(`${relay.url}/`);
  await expect(knownIncident(c.page, 'Doomed incident')).toBeVisible();

  // Bob removes his copy: asked first, then gone from the device and the list.
  await notice.getByRole('button', { name: 'Remove from this device' }).click();
  await expect(notice).toContainText('it cannot be brought back');
  await notice.getByRole('button', { name: 'Remove it' }).click();
  await expect(b.page).toHaveURL(`${relay.url}/`);
  await expect(knownIncident(b.page, 'Doomed incident')).toHaveCount(0);
  expect(await storedUpdates(b.page, id)).toEqual([]);
  // Reopening the address shows no copy any more.
  await b.page.goto(`${relay.url}/incident/${id}`);
  await expect(b.page.locator('#text-summary')).toHaveCount(0);
});

test('the owner rotates their link: the device syncs on with the new one, the old one is refused', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  const b = await person('Bob');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Rotating' });
  await expectSynced(a.page);
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  const old = await deviceGrant(a.page, id);
  // A second tab of the same browser, with the incident open on the old token.
  const tab = await a.context.newPage();
  await tab.goto(incidentUrl(a.page));
  await expectSynced(tab);

  const panel = await openSharePanel(a.page);
  await panel.getByRole('button', { name: 'Rotate owner link' }).click();
  await expect(panel).toContainText('The old one stops working at once');
  await panel.getByRole('button', { name: 'Rotate it' }).click();
  await expect(panel).toContainText('Owner link rotated: the old one no longer works.');

  const fresh = await deviceGrant(a.page, id);
  expect(fresh.role).toBe('owner');
  expect(fresh.token).not.toBe(old.token);
  await expectSynced(a.page);
  await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner');
  await section(a.page, 'summary').fill('Written with the new link.');
  await expect(section(b.page, 'summary')).toHaveValue('Written with the new link.');
  await expectSynced(a.page);
  // The other tab was cut off with the old token and went on with the new one.
  await expect(section(tab, 'summary')).toHaveValue('Written with the new link.');
  await expect(tab.locator('main')).toHaveAttribute('data-access', 'owner');
  await section(tab, 'summary').fill('And from the other tab.');
  await expect(section(b.page, 'summary')).toHaveValue('And from the other tab.');
  await expectSynced(tab);

  await expect(me(relay.url, id, old.token)).rejects.toMatchObject({ status: 410 });
  expect((await me(relay.url, id, fresh.token)).role).toBe('owner');
  // After a reload the device still is the owner, with the new token.
  await a.page.reload();
  await expectSynced(a.page);
  await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner');
  await expect(section(a.page, 'summary')).toHaveValue('And from the other tab.');
});

test.describe('a relay run with --create-secret', () => {
  test.use({ relayOptions: { args: ['--create-secret', 'open sesame'] } });

  test('asks for its creation secret once, and the device publishes with it from then on', async ({ person, relay }) => {
    const a = await person('Alice');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Needs the secret' });
    const ask = a.page.locator('section.creation-secret');
    await expect(ask).toContainText('This relay asks for its creation secret');
    await expect(a.page.locator('main')).toHaveAttribute('data-access', 'creation-secret');
    // Still the device's own incident: it can be written while it waits.
    await section(a.page, 'summary').fill('Written before it was published.');

    await ask.getByLabel("The relay's creation secret").fill('open sesam');
    await ask.getByRole('button', { name: 'Publish the incident' }).click();
    await expect(ask).toContainText('The relay did not accept that secret.');
    await ask.getByLabel("The relay's creation secret").fill('open sesame');
    await ask.getByRole('button', { name: 'Publish the incident' }).click();
    await expectSynced(a.page);
    await expect(ask).toHaveCount(0);
    await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner');
    expect(await a.page.evaluate(() => JSON.parse(localStorage.getItem('firebreak.create_secret')))).toBe('open sesame');

    // The next incident made on this device is published without asking.
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Second one' });
    await expectSynced(a.page);
    await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner');
    await expect(a.page.locator('section.creation-secret')).toHaveCount(0);
  });
});
