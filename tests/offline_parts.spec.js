// A part of the app fetched on demand (scripts/split-wasm.sh, app/src/on_demand.rs) that is
// not on this device yet never leaves an empty space: offline it says so and opens by itself
// once the network is back; a relay that cannot be reached, or a new version deployed since
// the page opened, is said too. The page around it keeps working and keeps what it holds.
// The service worker is blocked in most of these browsers: it is what keeps the parts for
// offline, and these are the cases where it has not (yet). The last test is the worker's
// own: a registration the network took away is made again once the network is back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, keptForOffline, section } from './support/app.js';
import { distDir, startRelay } from './support/relay.js';

const NO_WORKER = { serviceWorkers: 'block' };

/**
 * The line shown in place of a part that could not be fetched, in `place` (a selector):
 * other parts may be missing at the same time (the catch-up card's module is fetched once
 * the incident has synced, and may still be on its way when the network goes).
 */
function missingPart(page, place) {
  return page.locator(`${place} > .part-missing`);
}

/** Where the panels of the incident's top bar (share, export, history) are mounted. */
const PANELS = 'main.incident-page';
/** Where the hand-over form is mounted, in the timeline. */
const HANDOVER = '.tl-handover';
/** A page fetched on demand (home, playbooks, a team). */
const PAGE = 'main.page';

/** Requests for a module of the app fetched on demand whose name starts with `name`. */
function countRequests(page, name) {
  const seen = [];
  page.on('request', (request) => {
    const file = new URL(request.url()).pathname.slice(1);
    if (file.startsWith(`split_${name}`)) seen.push(file);
  });
  return seen;
}

/** Marks the page, to tell later that it was not reloaded. */
async function mark(page) {
  await page.evaluate(() => {
    window.firebreakTestMark = 'not reloaded';
  });
}

async function expectNotReloaded(page) {
  expect(await page.evaluate(() => window.firebreakTestMark)).toBe('not reloaded');
}

test('offline, a panel not on this device says so; back online it opens by itself, the page untouched', async ({ person, relay }) => {
  const a = await person('Alice', NO_WORKER);
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Plane at 2 a.m.' });
  await section(a.page, 'summary').fill('Boarded.');
  await expectSynced(a.page);
  await mark(a.page);
  const fetches = countRequests(a.page, 'handover_panel');

  await a.link.cut({ offline: true });
  await a.page.getByRole('button', { name: 'Hand over', exact: true }).click();
  const missing = missingPart(a.page, HANDOVER);
  await expect(missing).toBeVisible();
  await expect(missing).toHaveAttribute('data-why', 'offline');
  await expect(missing).toContainText('not on this device yet');
  await expect(missing).toContainText('back online');
  await expect(missing.getByRole('button', { name: 'Try again' })).toBeVisible();
  await expect(a.page.locator('#handover-start')).toHaveCount(0);

  // The rest of the page works meanwhile, and what is typed there stays.
  await section(a.page, 'summary').fill('Boarded. Typed over the sea.');
  // "Try again" with no network: still missing, asked again all the same.
  const asked = fetches.length;
  await missing.getByRole('button', { name: 'Try again' }).click();
  await expect.poll(() => fetches.length).toBeGreaterThan(asked);
  await expect(missing).toHaveAttribute('data-why', 'offline');

  // Back online: the panel arrives without a reload and works.
  await a.link.restore();
  await expect(a.page.locator('#handover-start')).toHaveValue(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, { timeout: 20_000 });
  await expect(missing).toHaveCount(0);
  await a.page.locator('#handover-write').click();
  await expect(a.page.locator('#handover-result')).toBeVisible({ timeout: 15_000 });
  await expectNotReloaded(a.page);
  await expect(section(a.page, 'summary')).toHaveValue('Boarded. Typed over the sea.');
  await expectSynced(a.page);

  // The network going and coming back later does not mount the part anew (it keeps what it
  // shows: the hand-off just written).
  await a.link.cut({ offline: true });
  await a.link.restore();
  await expectSynced(a.page);
  await expect(a.page.locator('#handover-result')).toBeVisible();
});

test('a relay that cannot be reached is said; the part opens by itself once the relay answers again', async ({ person, relay }) => {
  const a = await person('Alice', NO_WORKER);
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Relay restarting' });
  await expectSynced(a.page);
  await mark(a.page);
  const fetches = countRequests(a.page, 'export_panel');

  await relay.stop();
  await a.page.getByRole('button', { name: 'Export', exact: true }).click();
  const missing = missingPart(a.page, PANELS);
  await expect(missing).toHaveAttribute('data-why', 'unreachable');
  await expect(missing).toContainText('relay cannot be reached');
  await expect(missing).toContainText('opens by itself');
  expect(fetches.length).toBeGreaterThan(0);

  // "Try again" while the relay is still down: asked again, and still said.
  const asked = fetches.length;
  await missing.getByRole('button', { name: 'Try again' }).click();
  await expect.poll(() => fetches.length).toBeGreaterThan(asked);
  await expect(missing).toHaveAttribute('data-why', 'unreachable');

  // The relay comes back: nobody presses anything, the panel arrives (the page asks the
  // relay again 5 s after the failure, then at doubling waits).
  const before = fetches.length;
  await relay.restart();
  await expect(a.page.locator('#export-panel')).toBeVisible({ timeout: 30_000 });
  await expect(missing).toHaveCount(0);
  // The failed fetch was not kept as failed: the module was really asked for again.
  expect(fetches.length).toBeGreaterThan(before);
  await expectNotReloaded(a.page);
});

/**
 * What a new build does to the files a relay serves: every hashed name changes (the old
 * ones are gone) and the page names the new ones. Here the files keep their content and
 * get new hashes in their names, the way `trunk build` would name a changed build.
 */
function redeploy(dir) {
  const renamed = new Map();
  for (const file of fs.readdirSync(dir)) {
    const m = file.match(/-([0-9a-f]{16})(_bg)?\.(wasm|js)$/);
    if (!m) continue;
    const fresh = [...m[1]].reverse().join('');
    renamed.set(m[1], fresh);
  }
  for (const file of fs.readdirSync(dir)) {
    if (!/\.(html|js)$/.test(file)) continue;
    let text = fs.readFileSync(path.join(dir, file), 'utf8');
    // Not the main wasm's own import module (`./app-HASH_bg.js`): that name is in the wasm.
    for (const [old, fresh] of renamed) text = text.replace(new RegExp(`-${old}(?!_bg\\.js)`, 'g'), `-${fresh}`);
    fs.writeFileSync(path.join(dir, file), text);
  }
  for (const file of fs.readdirSync(dir)) {
    let name = file;
    for (const [old, fresh] of renamed) name = name.split(old).join(fresh);
    if (name !== file) fs.renameSync(path.join(dir, file), path.join(dir, name));
  }
  // The relay's precompressed copies (.br, .gz) of the old files would be stale: drop them.
  for (const file of fs.readdirSync(dir)) {
    if (/\.(br|gz)$/.test(file)) fs.rmSync(path.join(dir, file));
  }
}

test('after a new version is deployed, a part of the old one says so, and "Reload now" gets the new one', async ({ person }) => {
  const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-dist-'));
  fs.cpSync(distDir(), dist, { recursive: true });
  const relay = await startRelay({ dist });
  try {
    const a = await person('Alice', NO_WORKER);
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Deployed mid-incident' });
    await section(a.page, 'summary').fill('Written before the deploy.');
    await expectSynced(a.page);
    const before = await a.page.locator('#firebreak-boot').getAttribute('data-wasm');

    redeploy(dist);
    await a.page.getByRole('button', { name: 'History', exact: true }).click();
    const missing = missingPart(a.page, PANELS);
    await expect(missing).toHaveAttribute('data-why', 'updated');
    await expect(missing).toContainText('Firebreak was updated');
    await missing.getByRole('button', { name: 'Reload now' }).click();

    await expect(section(a.page, 'summary')).toHaveValue('Written before the deploy.');
    expect(await a.page.locator('#firebreak-boot').getAttribute('data-wasm')).not.toBe(before);
    await a.page.getByRole('button', { name: 'History', exact: true }).click();
    await expect(a.page.locator('#history-at')).toBeVisible();
    await expect(a.page.locator('.part-missing')).toHaveCount(0);
  } finally {
    await relay.cleanup();
    fs.rmSync(dist, { recursive: true, force: true });
  }
});

test('a first visit to / that loses the network before the list of incidents arrives says so, then shows it', async ({ person, relay }) => {
  const a = await person('Alice', NO_WORKER);
  // The home page's module is the first request to fail: the network goes as it is asked.
  let dropped = false;
  await a.context.route(/\/split_home_page[-_]/, async (route) => {
    if (dropped) return route.fallback();
    dropped = true;
    await a.context.setOffline(true);
    return route.abort('internetdisconnected');
  });
  await a.page.goto(`${relay.url}/`);
  await mark(a.page);
  const missing = missingPart(a.page, PAGE);
  await expect(missing).toHaveAttribute('data-why', 'offline');
  await expect(missing).toContainText('not on this device yet');
  await expect(a.page.getByText('Opening your incidents…')).toHaveCount(0);

  await a.context.setOffline(false);
  await expect(a.page.getByLabel('Incident title')).toBeVisible({ timeout: 20_000 });
  await expect(missing).toHaveCount(0);
  await expectNotReloaded(a.page);
  await a.page.getByLabel('Your name').fill('Alice');
  await a.page.getByLabel('Incident title').fill('Opened after the drop');
  await a.page.getByRole('button', { name: 'Create incident' }).click();
  await expect(a.page.locator('#text-summary')).toBeVisible();
});

test('a service worker that could not be registered (network gone) is registered when the network is back, and keeps every part', async ({ person, relay }) => {
  const a = await person('Alice');
  let networkGone = true;
  await a.context.route(/\/sw\.js$/, (route) => (networkGone ? route.abort('internetdisconnected') : route.fallback()));
  await a.page.goto(`${relay.url}/`);
  await expect(a.page.getByLabel('Incident title')).toBeVisible();
  await expect.poll(() => a.log.some((line) => line.includes('offline use is not available'))).toBe(true);
  expect(await a.page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration()))).toBe(false);

  networkGone = false;
  await a.context.setOffline(true);
  await a.context.setOffline(false);
  const lazy = await keptForOffline(a.page);
  expect(lazy.some((p) => p.includes('split_history_panel'))).toBe(true);
});
