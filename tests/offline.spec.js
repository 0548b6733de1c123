// Offline first: after one online visit the app opens with no network at all, shows the
// incidents on the device, keeps edits made offline across closed pages, and lands them
// when the network is back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect } from './support/fixtures.js';
import { caretTo, createIncident, expectSynced, incidentUrl, openIncident, section, shareLink, status, tokenOf } from './support/app.js';
import { addEvent, eventWhats } from './support/evidence.js';
import { fullState, storedDoc } from './support/state.js';
import { distDir, startRelay } from './support/relay.js';

/** Waits until the page is controlled by the service worker (it has kept the app). */
async function appKeptForOffline(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
}

for (const device of ['laptop', 'phone']) {
  test(`${device}: opens with no network after one visit, edits offline survive closing, then land`, async ({ person, relay }) => {
    const options = device === 'phone'
      ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true }
      : {};
    const a = await person(`Alice on a ${device}`, options);
    const b = await person('Bob');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Edited on a plane' });
    const link = incidentUrl(a.page);
    const invite = await shareLink(a.page, { name: 'Bob' });
    await section(a.page, 'summary').fill('Boarding now. ');
    await expectSynced(a.page);
    await appKeptForOffline(a.page);

    // The network is gone: no relay, and the browser itself offline.
    await relay.stop();
    await a.link.cut({ offline: true });
    await a.page.reload();
    await expect(section(a.page, 'summary')).toHaveValue('Boarding now. ');
    await expect(a.page.locator('#sync-status')).toHaveAttribute('data-state', 'offline');
    await section(a.page, 'summary').press('End');
    await section(a.page, 'summary').pressSequentially('Wrote this over the Atlantic.', { delay: 5 });
    await section(a.page, 'theories').fill('Insider with a badge clone.');

    // Close every page of the app; open it again, still offline, from the home screen.
    await a.page.close();
    a.page = await a.context.newPage();
    await a.page.goto(new URL('/', link).href);
    await expect(a.page.locator('[data-testid="known-incident"]').filter({ hasText: 'Edited on a plane' })).toBeVisible();
    await a.page.goto(link);
    await expect(section(a.page, 'summary')).toHaveValue('Boarding now. Wrote this over the Atlantic.');
    await expect(section(a.page, 'theories')).toHaveValue('Insider with a badge clone.');
    await expect(a.page.locator('#sync-status')).not.toHaveAttribute('data-pending', '0');
    // It says how old the copy on the relay is: the last time everything was there.
    await expect(a.page.locator('#sync-status')).toContainText('not on the relay yet');
    await expect(a.page.locator('#last-synced')).toContainText(/last synced (less than a minute|\d+ min) ago/);

    // Landed: everything reaches the relay with no action, and Bob sees it all.
    await relay.restart();
    await a.link.restore();
    await expectSynced(a.page, 30_000);
    await expect(a.page.locator('#last-synced')).toHaveText('');
    await openIncident(b.page, invite, { name: 'Bob' });
    await expect(section(b.page, 'summary')).toHaveValue('Boarding now. Wrote this over the Atlantic.');
    await expect(section(b.page, 'theories')).toHaveValue('Insider with a badge clone.');
  });
}

test('a new version deployed while the page is open is offered as a reload, and nothing is lost', async ({ person }) => {
  // A relay serving its own copy of the app, so the test can "deploy" a new version.
  const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-deploy-'));
  fs.cpSync(distDir(), dist, { recursive: true });
  const relay = await startRelay({ dist });
  try {
    const a = await person('Alice');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Mid-incident deploy' });
    await section(a.page, 'summary').fill('Typed before the deploy.');
    await expectSynced(a.page);
    await a.page.evaluate(() => dispatchEvent(new Event('online')));
    await a.page.waitForTimeout(500);
    await expect(a.page.locator('#new-version'), 'no offer while nothing changed').toHaveCount(0);

    // Deploy: the same app under a new hashed name, as a new build would be.
    const index = path.join(dist, 'index.html');
    const html = fs.readFileSync(index, 'utf8');
    const old = html.match(/data-wasm="\/([^"]+)"/)[1];
    const renamed = old.replace(/-[0-9a-f]+_bg\.wasm$/, '-0123456789abcdef_bg.wasm');
    expect(renamed, 'the wasm file has a hashed name').not.toBe(old);
    fs.copyFileSync(path.join(dist, old), path.join(dist, renamed));
    fs.writeFileSync(index, html.replaceAll(old, renamed));

    await a.page.evaluate(() => dispatchEvent(new Event('online')));
    const offer = a.page.locator('#new-version');
    await expect(offer).toContainText('A new version of Firebreak is available');
    await offer.getByRole('button', { name: 'Reload now' }).click();
    await expect(a.page.locator('#firebreak-boot')).toHaveAttribute('data-wasm', `/${renamed}`);
    await expect(section(a.page, 'summary')).toHaveValue('Typed before the deploy.');
    await expect(a.page.locator('#new-version')).toHaveCount(0);
  } finally {
    await relay.cleanup();
    fs.rmSync(dist, { recursive: true, force: true });
  }
});

test('two tabs on one incident stay in step with no network, and the relay gets both later', async ({ person, relay }) => {
  const a = await person('Alice, two tabs');
  const b = await person('Bob');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Two tabs on a plane' });
  const link = incidentUrl(a.page);
  const invite = await shareLink(a.page, { name: 'Bob' });
  const second = await a.context.newPage();
  await second.goto(link);
  await expect(section(second, 'summary')).toBeVisible();
  await expectSynced(second);

  await a.link.cut({ offline: true });
  await relay.stop();
  await section(a.page, 'summary').pressSequentially('First tab writes. ', { delay: 5 });
  // The other tab shows it as it is typed, with no relay in between.
  await expect(section(second, 'summary')).toHaveValue('First tab writes. ');
  await section(second, 'summary').press('End');
  await section(second, 'summary').pressSequentially('Second tab adds.', { delay: 5 });
  await section(second, 'theories').fill('Typed in the second tab.');
  await expect(section(a.page, 'summary')).toHaveValue('First tab writes. Second tab adds.');
  await expect(section(a.page, 'theories')).toHaveValue('Typed in the second tab.');

  // Both tabs closed and one reopened, still offline: the stored copy has both tabs' work.
  await second.close();
  await a.page.close();
  a.page = await a.context.newPage();
  await a.page.goto(link);
  await expect(section(a.page, 'summary')).toHaveValue('First tab writes. Second tab adds.');
  await expect(section(a.page, 'theories')).toHaveValue('Typed in the second tab.');

  await relay.restart();
  await a.link.restore();
  await expectSynced(a.page, 30_000);
  await openIncident(b.page, invite, { name: 'Bob' });
  await expect(section(b.page, 'summary')).toHaveValue('First tab writes. Second tab adds.');
  await expect(section(b.page, 'theories')).toHaveValue('Typed in the second tab.');
});

test('1,000 offline edits and new timeline events merge with what others wrote meanwhile: every copy ends up identical', async ({ person, relay, yclients }) => {
  test.setTimeout(180_000);
  const a = await person('Alice, long flight');
  const b = await person('Bob, on the ground');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'A long flight' });
  const invite = await shareLink(a.page, { name: 'Bob' });
  const checker = tokenOf(await shareLink(a.page, { name: 'Checker' }));
  await openIncident(b.page, invite, { name: 'Bob' });
  await section(a.page, 'summary').fill('Before take-off. ');
  await expect(section(b.page, 'summary')).toHaveValue('Before take-off. ');
  await expectSynced(a.page);

  await a.link.cut({ offline: true });
  // 1,000 separate changes in one section: 980 keystrokes typed, 20 taken back.
  const typed = Array.from({ length: 980 }, (_, i) => 'offline-edits '[i % 14]).join('');
  await caretTo(section(a.page, 'summary'), 'end');
  // In short bursts, so no single action runs into the action timeout on a busy machine.
  for (let i = 0; i < typed.length; i += 49) await section(a.page, 'summary').pressSequentially(typed.slice(i, i + 49));
  for (let i = 0; i < 20; i++) await section(a.page, 'summary').press('Backspace');
  const aliceSummary = `Before take-off. ${typed.slice(0, -20)}`;
  await expect(section(a.page, 'summary')).toHaveValue(aliceSummary);
  for (let i = 1; i <= 5; i++) await addEvent(a.page, { what: `In flight ${i}`, when: `2026-11-20 0${i}:00` });
  await expect.poll(async () => Number(await status(a.page).getAttribute('data-pending'))).toBeGreaterThanOrEqual(1_005);

  // Meanwhile Bob writes in the same section, elsewhere, and in the timeline.
  await caretTo(section(b.page, 'summary'), 'start');
  await section(b.page, 'summary').pressSequentially('Bob: ', { delay: 5 });
  await section(b.page, 'theories').fill('Bob suspects the VPN appliance.');
  await addEvent(b.page, { what: 'Ground team isolates the VPN', when: '2026-11-20 03:30' });
  await expectSynced(b.page);

  await a.link.restore();
  await expectSynced(a.page, 60_000);
  await expectSynced(b.page, 60_000);
  const merged = `Bob: ${aliceSummary}`;
  await expect(section(a.page, 'summary')).toHaveValue(merged);
  await expect(section(b.page, 'summary')).toHaveValue(merged);
  const whats = ['In flight 1', 'In flight 2', 'In flight 3', 'Ground team isolates the VPN', 'In flight 4', 'In flight 5'];
  await expect.poll(() => eventWhats(a.page)).toEqual(expect.arrayContaining(whats));
  await expect.poll(() => eventWhats(b.page)).toEqual(await eventWhats(a.page));
  await expect(section(a.page, 'theories')).toHaveValue('Bob suspects the VPN appliance.');

  // In full: what each browser stored, and what a stock Yjs client gets from the relay, are
  // the same document (state vector, deletions and every root's content).
  const relayCopy = yclients(relay.wsUrl, id, { name: 'checker', params: { token: checker } });
  await relayCopy.synced();
  const expected = fullState(relayCopy.doc);
  expect(JSON.parse(expected.content).summary).toBe(merged);
  await expect.poll(async () => fullState(await storedDoc(a.page, id)), { timeout: 20_000 }).toEqual(expected);
  await expect.poll(async () => fullState(await storedDoc(b.page, id)), { timeout: 20_000 }).toEqual(expected);
});
