// The parts of the app cut out of the first download (the history panel, exports, sharing,
// the playbook editor, team pages; scripts/split-wasm.sh) are still there with no network
// after one online visit on which none of them was opened: the service worker keeps them.
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, section } from './support/app.js';

test('after one visit, history and exports open with no network though they were never opened online', async ({ person, relay }) => {
  const a = await person('Alice');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Opened on a plane' });
  await section(a.page, 'summary').fill('Written before boarding.');
  await expectSynced(a.page);
  await a.page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => a.page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);

  // The page names the modules fetched on first use; the service worker keeps every one.
  const lazy = await a.page.evaluate(() => document.getElementById('firebreak-boot').dataset.lazy.split(' '));
  expect(lazy.length).toBeGreaterThan(5);
  const loaded = await a.page.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => p.endsWith('.wasm')));
  expect(loaded.filter((p) => lazy.includes(p) && p.includes('split_history'))).toEqual([]);
  await expect.poll(() => a.page.evaluate(async (paths) => {
    const files = await caches.open('firebreak-files-v1');
    const kept = await Promise.all(paths.map((p) => files.match(p)));
    return kept.filter((r) => !r).length;
  }, lazy), { timeout: 30_000 }).toBe(0);

  await relay.stop();
  await a.link.cut({ offline: true });
  await a.page.reload();
  await expect(section(a.page, 'summary')).toHaveValue('Written before boarding.');
  await a.page.locator('#history-button').click();
  await expect(a.page.locator('#history-panel')).toBeVisible();
  await a.page.locator('#export-button').click();
  await expect(a.page.locator('#export-panel')).toBeVisible();
});
