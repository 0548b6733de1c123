// Benchmark: what the app costs to download, and how long a phone on a slow network waits
// before it can type into an incident. Not a test: it prints numbers. Run from tests/ after
// a release build (`trunk build --release`, `cargo build --release -p sync-server`):
//   node bench/download.js [runs=5] [plain] [waterfall]
// (`plain`: the copy is not precompressed, so everything goes out uncompressed, as before
// the relay served precompressed files. `waterfall`: also print the first run's first visit
// request by request, as the page's CDP Network events saw them. The service worker's own
// requests are not among them, nor throttled: the profile is set on the page's session.)
// The built app is copied and precompressed (`sync-server precompress`) so the sizes are
// those the relay sends whatever state dist/ is in. Sizes: every wasm, js and css file the
// page loads, as sent for `Accept-Encoding: identity`, `gzip` and `br`.
// Times: a stock Yjs client writes a small incident through the relay; a fresh Chromium
// context opens an editor's invite link with CDP network throttling ("slow 4G": 1.6 Mbit/s
// down, 750 kbit/s up, 150 ms round trip) and the clock runs until the summary shows the
// incident's text and accepts typing (first visit: nothing on the device; the join screen's
// "Open the incident" is clicked as soon as it shows). Then the page is
// closed and the incident opened again in the same context, still throttled (return visit:
// the service worker has the app, the device has the incident). Median of the runs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { startRelay, relayBinary, distDir } from '../support/relay.js';
import { chromiumLaunchOptions } from '../support/chromium.js';
import { YClient } from '../support/yjs-client.js';
import { registeredIncident } from '../support/incidents.js';
import { invite } from '../support/access.js';

const runs = Number(process.argv[2] || 5);
const plain = process.argv.includes('plain');
// `waterfall`: print the first run's first-visit requests (CDP Network events of the page:
// start, first byte, end, ms from navigation) to see which round trips wait on which.
const waterfall = process.argv.includes('waterfall');
const SLOW_4G = {
  offline: false,
  latency: 150,
  downloadThroughput: (1.6 * 1000 * 1000) / 8,
  uploadThroughput: (750 * 1000) / 8,
};
const SUMMARY = 'Slow-network benchmark: the summary a responder opens on a train.';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** GET `url` with an Accept-Encoding; resolves to the bytes on the wire and the encoding. */
function sent(url, acceptEncoding) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'accept-encoding': acceptEncoding } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.length; });
      res.on('end', () => resolve({ bytes, encoding: res.headers['content-encoding'] || 'identity' }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function sizes(baseUrl, dist) {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const files = new Set();
  for (const m of html.matchAll(/(?:href|src|data-js|data-wasm)="\/([^"]+\.(?:wasm|js|css))"/g)) files.add(m[1]);
  const rows = [];
  for (const file of [...files].sort()) {
    const row = { file };
    for (const [label, ae] of [['raw', 'identity'], ['gzip', 'gzip'], ['br', 'br']]) {
      const got = await sent(`${baseUrl}/${file}`, ae);
      row[label] = got.bytes;
      row[`${label}Encoding`] = got.encoding;
    }
    rows.push(row);
  }
  return rows;
}

async function throttle(page, log) {
  const cdp = await page.context().newCDPSession(page);
  if (log) {
    const seen = new Map();
    cdp.on('Network.requestWillBeSent', (e) => {
      seen.set(e.requestId, { url: e.request.url, type: e.type, start: e.timestamp });
    });
    cdp.on('Network.responseReceived', (e) => {
      const r = seen.get(e.requestId);
      if (r) Object.assign(r, { ttfb: e.timestamp, status: e.response.status, sw: e.response.fromServiceWorker });
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = seen.get(e.requestId);
      if (r) Object.assign(r, { end: e.timestamp, bytes: e.encodedDataLength });
    });
    cdp.on('Network.webSocketCreated', (e) => seen.set(e.requestId, { url: e.url, type: 'WebSocket', start: null }));
    cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => {
      const r = seen.get(e.requestId);
      if (r) r.start = e.timestamp;
    });
    cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
      const r = seen.get(e.requestId);
      if (r) r.ttfb = e.timestamp;
    });
    log.requests = seen;
  }
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  return cdp;
}

function printWaterfall(log) {
  const rows = [...log.requests.values()].filter((r) => r.start != null).sort((a, b) => a.start - b.start);
  if (!rows.length) return;
  const t0 = rows[0].start;
  const ms = (t) => (t == null ? '' : Math.round((t - t0) * 1000));
  console.log('| request | type | start (ms) | first byte | end | bytes |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const r of rows) {
    const name = new URL(r.url).pathname.replace(/-[0-9a-f]{15,16}/, '-…').slice(0, 60);
    console.log(`| ${name}${r.sw ? ' (sw)' : ''} | ${r.type} | ${ms(r.start)} | ${ms(r.ttfb)} | ${ms(r.end)} | ${r.bytes ?? ''} |`);
  }
  console.log('');
}

/** From navigation to the summary showing the incident's text, ready for typing. */
async function timeToEditable(page, url) {
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'commit', timeout: 120_000 });
  // An invite link first shows who invited whom: the click on "Open the incident" is made
  // as soon as the button is there (the return visit goes straight to the incident).
  page
    .getByRole('button', { name: 'Open the incident' })
    .click({ timeout: 120_000 })
    .catch(() => {});
  // Polled from here (every 50 ms) rather than inside the page, which may be replaced
  // while it loads.
  const deadline = t0 + 120_000;
  for (;;) {
    const ready = await page
      .evaluate((text) => {
        const area = document.querySelector('#text-summary');
        return !!area && area.value === text && !area.readOnly && !area.disabled && area.offsetParent !== null;
      }, SUMMARY)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      const seen = await page.evaluate(() => {
        const area = document.querySelector('#text-summary');
        return area ? JSON.stringify({ value: area.value, readOnly: area.readOnly }) : document.body.innerText.slice(0, 300);
      });
      throw new Error(`the incident was not editable within 120 s at ${url}: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

const kib = (n) => (n / 1024).toFixed(1);

const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-bench-dist-'));
fs.cpSync(distDir(), dist, { recursive: true });
if (!plain) execFileSync(relayBinary(), ['precompress', dist], { stdio: 'ignore' });
const relay = await startRelay({ dist });
const browser = await chromium.launch(chromiumLaunchOptions);
try {
  const table = await sizes(relay.url, dist);

  const { incident: id, token, auth } = await registeredIncident(relay, { prefix: 'bench' });
  const writer = new YClient(`${relay.wsUrl}`, id, { name: 'bench', ...auth });
  await writer.synced();
  writer.doc.transact(() => {
    const meta = writer.doc.getMap('meta');
    meta.set('schema', 1);
    meta.set('title', 'Download benchmark');
    meta.set('created_at', '2026-11-01T00:00:00Z');
    writer.doc.getText('summary').insert(0, SUMMARY);
  });
  await new Promise((r) => setTimeout(r, 1500));
  const url = `${relay.url}/incident/${id}`;

  const first = [];
  const again = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    await context.addInitScript(() => localStorage.setItem('firebreak.name', JSON.stringify('Bench')));
    // An invite binds to the first device that opens it: one per run.
    const editor = await invite(relay.url, id, token, { name: `Bench ${i + 1}`, role: 'editor' });
    let page = await context.newPage();
    const log = waterfall && i === 0 ? {} : null;
    await throttle(page, log);
    first.push(await timeToEditable(page, `${url}#invite=${editor.token}`));
    if (log) {
      console.log(`First visit, run 1: editable after ${first[0]} ms`);
      printWaterfall(log);
    }
    // The service worker keeps the app once it is installed and has fetched the page's files.
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      while (!navigator.serviceWorker.controller || !registration.active) {
        await new Promise((r) => setTimeout(r, 100));
      }
      for (;;) {
        const names = await caches.keys();
        const kept = [];
        for (const name of names) kept.push(...(await (await caches.open(name)).keys()));
        if (kept.some((r) => r.url.endsWith('.wasm'))) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    await page.close();
    page = await context.newPage();
    await throttle(page);
    again.push(await timeToEditable(page, url));
    await context.close();
  }
  writer.destroy();

  const total = { raw: 0, gzip: 0, br: 0 };
  console.log(`| file | raw | gzip | br |`);
  console.log(`|---|---:|---:|---:|`);
  for (const row of table) {
    const name = row.file.replace(/-[0-9a-f]{16}/, '-…');
    console.log(`| ${name} | ${row.raw} (${kib(row.raw)} KiB) | ${row.gzip} (${kib(row.gzip)} KiB, ${row.gzipEncoding}) | ${row.br} (${kib(row.br)} KiB, ${row.brEncoding}) |`);
    for (const k of Object.keys(total)) total[k] += row[k];
  }
  console.log(`| **wasm + js + css** | ${total.raw} (${kib(total.raw)} KiB) | ${total.gzip} (${kib(total.gzip)} KiB) | ${total.br} (${kib(total.br)} KiB) |`);
  console.log('');
  console.log(`| slow 4G (1.6 Mbit/s down, 150 ms RTT), median of ${runs}${plain ? ', uncompressed' : ''} | ms | runs |`);
  console.log(`|---|---:|---|`);
  console.log(`| first visit: invite link to an editable summary | ${median(first)} | ${first.join(', ')} |`);
  console.log(`| return visit (service worker, stored incident) | ${median(again)} | ${again.join(', ')} |`);
} finally {
  await browser.close();
  await relay.cleanup();
  fs.rmSync(dist, { recursive: true, force: true });
}
