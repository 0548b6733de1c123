// Benchmark: landing after a long offline stretch. How long after the network comes back
// does the page say "Synced" with nothing pending, after N changes made offline?
// Not a test: it prints numbers. Run from tests/ after a release build:
//   node bench/offline-merge.js [edits=1000,10000] [runs=5]
// Each run: a fresh incident made in the app and synced; the network is cut (sync socket
// closed, browser offline); N separate changes are made in the summary, each one an `input`
// event as a keystroke makes it (the app diffs the field and commits one Yjs change per
// event); then the network comes back. Timed inside the page, from the browser's `online`
// event to the status showing data-state="synced" and data-pending="0". A stock Yjs client
// on the relay times when it holds the whole text (same machine clock).
import { chromium } from '@playwright/test';
import { startRelay } from '../support/relay.js';
import { chromiumLaunchOptions } from '../support/chromium.js';
import { YClient } from '../support/yjs-client.js';
import { createIncident, expectSynced, shareLink, syncLink, tokenOf } from '../support/app.js';
import { storedUpdates } from '../support/state.js';

const sizes = (process.argv[2] || '1000,10000').split(',').map(Number);
const runs = Number(process.argv[3] || 5);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const stats = (xs) => `median ${median(xs)} (min ${Math.min(...xs)}, max ${Math.max(...xs)})`;

async function once(browser, relay, edits) {
  const context = await browser.newContext();
  const link = await syncLink(context);
  const page = await context.newPage();
  try {
    const id = await createIncident(page, relay.url, { name: 'Bench', title: `Offline ${edits}` });
    const token = tokenOf(await shareLink(page, { name: 'Relay watcher' }));
    await expectSynced(page);
    const watcher = new YClient(relay.wsUrl, id, { name: 'watcher', params: { token } });
    await watcher.synced();

    await link.cut({ offline: true });
    const made = Date.now();
    await page.evaluate((n) => {
      const area = document.querySelector('#text-summary');
      for (let i = 0; i < n; i++) {
        area.value += 'abcdefghij'[i % 10];
        area.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText' }));
      }
    }, edits);
    await page.waitForFunction((n) => Number(document.querySelector('#sync-status').dataset.pending) >= n, edits);
    const makeMs = Date.now() - made;
    // What the device holds while offline, before the landing compacts it.
    const offline = await storedUpdates(page, id);

    await page.evaluate(() => {
      window.__landed = new Promise((resolve) => {
        addEventListener('online', () => {
          const onlineAt = performance.now();
          const onlineWall = Date.now();
          const status = document.querySelector('#sync-status');
          const check = () => {
            if (status.dataset.state === 'synced' && status.dataset.pending === '0') {
              observer.disconnect();
              resolve({ ms: performance.now() - onlineAt, onlineWall });
            }
          };
          const observer = new MutationObserver(check);
          observer.observe(status, { attributes: true, attributeFilter: ['data-state', 'data-pending'] });
          check();
        }, { once: true });
      });
    });
    await link.restore();
    const landed = await page.evaluate(() => window.__landed);
    while (watcher.text('summary').length < edits) await new Promise((r) => setTimeout(r, 2));
    const relayMs = Date.now() - landed.onlineWall;
    watcher.destroy();
    // What the device keeps once the writes have settled (compacted past 200 records).
    await page.waitForTimeout(500);
    const records = await storedUpdates(page, id);
    const storedBytes = records.reduce((sum, r) => sum + r.length, 0);
    return {
      synced: Math.round(landed.ms), relay: relayMs, makeMs, storedBytes, records: records.length,
      offlineBytes: offline.reduce((sum, r) => sum + r.length, 0), offlineRecords: offline.length,
    };
  } finally {
    await context.close();
  }
}

const relay = await startRelay();
const browser = await chromium.launch(chromiumLaunchOptions);
try {
  console.log(`offline edits → synced, ${runs} runs each (ms; timed in the page from the 'online' event)`);
  for (const edits of sizes) {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await once(browser, relay, edits));
    const last = results[results.length - 1];
    console.log(`${String(edits).padStart(6)} edits: synced ${stats(results.map((r) => r.synced))}; ` +
      `stock client has it all ${stats(results.map((r) => r.relay))}; ` +
      `making the edits ${median(results.map((r) => r.makeMs))} ms; ` +
      `IndexedDB offline ${last.offlineRecords} records, ${(last.offlineBytes / 1024).toFixed(1)} KiB; ` +
      `settled ${last.records} records, ${(last.storedBytes / 1024).toFixed(1)} KiB`);
    console.log(`        each run, synced: ${results.map((r) => r.synced).join(', ')} ms`);
  }
} finally {
  await browser.close();
  await relay.cleanup();
}
