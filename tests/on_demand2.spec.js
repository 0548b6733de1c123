// More of the app out of the first download (scripts/split-wasm.sh, app/src/on_demand.rs):
// the catch-up card, the hand-over form, the timeline's CSV reader, the list of incidents
// (home page) and the playbooks list. A first visit through an invite link fetches none of
// them, and the service worker (which copies every module) starts only once the incident
// shows, so neither takes a slow network's bandwidth from the app and the incident; after
// that one visit they all work with no network, though none was opened online.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, keptForOffline as keptOffline, section, shareLink } from './support/app.js';
import { storedMark } from './support/state.js';

/** The on-demand modules this page has fetched so far (resource timing). */
function lazyFetched(page) {
  return page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((e) => new URL(e.name).pathname)
      .filter((p) => /^\/(split|chunk)_.*\.wasm$/.test(p)));
}

/** Waits until the service worker keeps every on-demand module, this change's among them. */
async function keptForOffline(page) {
  const lazy = await keptOffline(page);
  expect(lazy.some((p) => p.includes('split_catch_up_card'))).toBe(true);
  expect(lazy.some((p) => p.includes('split_handover_panel'))).toBe(true);
  expect(lazy.some((p) => p.includes('split_read_into'))).toBe(true);
  expect(lazy.some((p) => p.includes('split_home_page'))).toBe(true);
}

test('an invite link: nothing on demand and no service worker before the incident shows, then everything kept', async ({ person, relay }) => {
  const a = await person('Alice');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Phone on a train' });
  await section(a.page, 'summary').fill('Opened from a link.');
  await expectSynced(a.page);
  const link = await shareLink(a.page, { name: 'Bob' });

  const b = await person('Bob');
  await b.page.goto(link);
  const join = b.page.getByRole('button', { name: 'Open the incident' });
  await expect(join).toBeVisible();
  // The join screen says what the invite opens (asked beside the token's check).
  await expect(b.page.locator('#join-preview')).toContainText('Phone on a train');
  const onJoinScreen = await b.page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration()));
  expect(onJoinScreen, 'a service worker registered before the incident shows').toBe(false);
  expect(await lazyFetched(b.page)).toEqual([]);

  await join.click();
  await expect(section(b.page, 'summary')).toHaveValue('Opened from a link.');
  await keptForOffline(b.page);
  // Of the modules, only the catch-up card's (and what it shares) was fetched by the page.
  const fetched = await lazyFetched(b.page);
  expect(fetched.filter((p) => p.startsWith('/split_'))).toEqual([
    expect.stringMatching(/^\/split_catch_up_card[-_]/),
  ]);
});

test('after one visit, the catch-up card, the hand-over, a CSV import and the list of incidents work with no network', async ({ person, relay }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-on-demand-'));
  try {
    const a = await person('Alice');
    const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Ferry crossing' });
    await section(a.page, 'summary').fill('Written before boarding.');
    await expectSynced(a.page);
    await keptForOffline(a.page);
    expect((await lazyFetched(a.page)).filter((p) => /^\/split_(handover_panel|read_into)[-_]/.test(p))).toEqual([]);
    await expect.poll(async () => (await storedMark(a.page, id))?.size ?? 0).toBeGreaterThan(0);

    await relay.stop();
    await a.link.cut({ offline: true });
    await a.page.reload();
    await expect(section(a.page, 'summary')).toHaveValue('Written before boarding.');

    // The catch-up card runs: an edit made here goes into the read mark it stores.
    const markBefore = (await storedMark(a.page, id))?.size ?? 0;
    await section(a.page, 'summary').fill('Written before boarding, and more on the ferry with no network at all.');
    await expect.poll(async () => (await storedMark(a.page, id))?.size ?? 0, { timeout: 20_000 }).toBeGreaterThan(markBefore);

    // The hand-over form opens (its default start is the read mark's time).
    await a.page.getByRole('button', { name: 'Hand over', exact: true }).click();
    await expect(a.page.locator('#handover-start')).toHaveValue(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);

    // A timeline CSV is read into the incident.
    const sheet = path.join(dir, 'sheet.csv');
    fs.writeFileSync(sheet, 'What,Occurred At\r\nBoarded the ferry,2026-11-30 03:00\r\n');
    await a.page.locator('.tl-import summary').click();
    await a.page.locator('#tl-import-file').setInputFiles(sheet);
    await expect(a.page.locator('#tl-import-result')).toContainText('Added 1 event.');
    await expect(a.page.locator('[data-testid="timeline-event"]').filter({ hasText: 'Boarded the ferry' })).toHaveCount(1);

    // The list of incidents on this device.
    await a.page.goto(new URL('/', relay.url).href);
    await expect(a.page.getByLabel('Incident title')).toBeVisible();
    await expect(a.page.getByRole('link', { name: /Ferry crossing/ })).toBeVisible();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
