// Secrets and invite links on the internet, in real Chromium against the real relay: the
// app's sync connection carries its token outside the URL and the relay logs no secret; an
// invite link works only on the first device that opens it, and the owner sees a forwarded
// link tried elsewhere and re-issues it; the owner sees wrong secrets tried for a link.
import { test, expect } from './support/fixtures.js';
import { request, secretOf } from './support/access.js';
import {
  createIncident,
  expectSynced,
  openIncident,
  openSharePanel,
  section,
  setDisplayName,
  shareLink,
  status,
  tokenOf,
} from './support/app.js';

/** The token this device holds for the incident (the app keeps it in localStorage). */
function heldToken(page, id) {
  return page.evaluate((key) => JSON.parse(localStorage.getItem(key) || 'null')?.token, `firebreak.access.${id}`);
}

test.describe('a relay logging everything', () => {
  test.use({ relayOptions: { env: { RUST_LOG: 'trace' } } });

  test('the app sends its token outside the URL, and no secret reaches the relay log', async ({ person, relay }) => {
    const a = await person('Alice');
    const b = await person('Bob');
    const urls = [];
    for (const p of [a, b]) p.page.on('websocket', (ws) => urls.push(ws.url()));
    const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Tokens in headers' });
    await expectSynced(a.page);
    const link = await shareLink(a.page, { name: 'Bob' });
    await openIncident(b.page, link, { name: 'Bob' });
    await expectSynced(b.page);
    await section(b.page, 'summary').pressSequentially('Seen by Bob. ', { delay: 5 });
    await expect(section(a.page, 'summary')).toHaveValue('Seen by Bob. ');

    const secrets = [secretOf(await heldToken(a.page, id)), secretOf(tokenOf(link))];
    expect(secrets.every((s) => /^[0-9a-f]{32}$/.test(s))).toBe(true);
    // Both devices synced, so the relay read both tokens; neither travelled in a URL.
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) {
      expect(url).toBe(`${relay.wsUrl}/${id}`);
      for (const secret of secrets) expect(url).not.toContain(secret);
    }
    const logged = relay.log();
    expect(logged.split('\n').length, 'the relay logged at trace level').toBeGreaterThan(50);
    for (const secret of secrets) expect(logged.includes(secret), 'a secret in the relay log').toBe(false);
    test.info().annotations.push({
      type: 'tokens',
      description: `${urls.length} sync connections, URLs without tokens; ${logged.length} bytes of trace log, no secret`,
    });
  });
});

test('a forwarded invite link works only on the first device; the owner sees the attempt and re-issues it', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  const b = await person('Bob');
  const m = await person('Mallory');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'For Bob only' });
  const link = await shareLink(a.page, { name: 'Bob' });
  await openIncident(b.page, link, { name: 'Bob' });
  await expectSynced(b.page);
  await section(b.page, 'summary').pressSequentially('Bob was here. ', { delay: 5 });
  await expect(section(a.page, 'summary')).toHaveValue('Bob was here. ');

  // Bob forwards his link; it is opened on another device, under another name.
  const sockets = [];
  m.page.on('websocket', (ws) => sockets.push(ws.url()));
  await m.page.goto(new URL('/', link).href);
  await setDisplayName(m.page, 'Mallory');
  await m.page.goto(link);
  await expect(m.page.getByRole('heading', { name: 'This invite is already in use on another device' })).toBeVisible();
  await expect(m.page.locator('main')).toContainText(
    'This invite is already in use on another device — ask for your own link.',
  );
  await expect(status(m.page)).toHaveAttribute('data-state', 'refused');
  await expect(section(m.page, 'summary')).toHaveCount(0);
  await m.page.waitForTimeout(1_500);
  expect(sockets, 'the other device never opened a sync connection').toEqual([]);
  await expect(a.page.locator('#presence')).not.toContainText('Mallory');

  // Bob is undisturbed.
  await section(b.page, 'summary').press('End');
  await section(b.page, 'summary').pressSequentially('Still Bob. ', { delay: 5 });
  await expect(section(a.page, 'summary')).toHaveValue('Bob was here. Still Bob. ');
  await expectSynced(b.page);

  // The owner sees the attempt on Bob's row, and re-issues his link.
  const panel = await openSharePanel(a.page);
  const row = panel.getByTestId('invite').filter({ hasText: 'Bob' });
  await expect(row.getByTestId('other-device')).toContainText(
    /Another device tried to open this link once, last \d{4}-\d\d-\d\d \d\d:\d\d UTC\./,
    { timeout: 10_000 },
  );
  await row.getByRole('button', { name: 'Re-issue link for Bob' }).click();
  await expect(panel.getByTestId('new-invite')).toContainText('Link for Bob (editor)');
  const reissued = await panel.getByLabel('Invite link', { exact: true }).inputValue();
  expect(tokenOf(reissued)).not.toBe(tokenOf(link));
  await expect(panel.getByTestId('invite').filter({ hasText: 'Bob' })).toHaveCount(2);
  await expect(panel.locator('[data-testid="invite"].revoked')).toContainText('Bob');
  // The old link is revoked: Bob's device is told, and opens the new one.
  await expect(status(b.page)).toContainText('Your access was revoked');
  await b.page.goto(reissued);
  await expect(b.page.locator('main')).toHaveAttribute('data-access', 'editor');
  await expectSynced(b.page);
  await expect(section(b.page, 'summary')).toHaveValue('Bob was here. Still Bob. ');
});

test('the owner sees wrong secrets tried for a link, and its holder is never locked out', async ({ person, relay }) => {
  const a = await person('Alice');
  const b = await person('Bob');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Guessed at' });
  const link = await shareLink(a.page, { name: 'Bob' });
  const invite = tokenOf(link).split('.')[0];
  // Twelve wrong secrets for Bob's invite from this machine: its address is over its budget.
  const statuses = [];
  for (let n = 0; n < 12; n++) {
    const wrong = `${invite}.${n.toString(16).padStart(32, '0')}`;
    statuses.push((await request(relay.url, 'GET', `/api/incidents/${id}/me`, { token: wrong })).status);
  }
  expect(statuses).toEqual([403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 429, 429]);
  // Bob, from the same address, opens his link all the same.
  await openIncident(b.page, link, { name: 'Bob' });
  await expectSynced(b.page);
  const panel = await openSharePanel(a.page);
  const row = panel.getByTestId('invite').filter({ hasText: 'Bob' });
  await expect(row.getByTestId('failed-attempts')).toHaveText('12 wrong secrets tried for this link');
  await expect(row).toContainText('connected now');
  await expect(panel.getByTestId('invite').filter({ hasText: 'Alice' }).getByTestId('failed-attempts')).toHaveCount(0);
});
