// Benchmark helper: what the time from "Open the incident" (cold) or from the reload (warm)
// until the first screen of the big incident is made of. Not a test: it prints a timeline.
// Run from tests/ after a release build:
//   node bench/open-steps.js [events=5000] [indicators=2000] [runs=3] [--cpu=4]
// Opens the incident of bench/render.js through an editor's invite (cold), then reloads it
// (warm), with the page's own calls watched from an init script, nothing added to the app:
// the relay API (`fetch`: /me, /people …), the sync socket (opened, each message received and
// how long the app's handler took), IndexedDB (each transaction's stores, mode and when it
// completed), the wasm start (`TrunkApplicationStarted`), when the first timeline and
// indicator rows were put in the page, and the long tasks (PerformanceObserver). Times are
// milliseconds from the click (cold) or from the navigation's start (warm); the medians of
// the runs' main marks close the output.
import { chromium } from '@playwright/test';
import { startRelay } from '../support/relay.js';
import { chromiumLaunchOptions } from '../support/chromium.js';
import { YClient } from '../support/yjs-client.js';
import { registeredIncident } from '../support/incidents.js';
import { invite } from '../support/access.js';
import { fill } from './big-incident.js';

const args = process.argv.slice(2);
const [events = 5000, indicators = 2000, runs = 3] = args.filter((a) => !a.startsWith('--')).map(Number);
const cpu = Number((args.find((a) => a.startsWith('--cpu=')) || '--cpu=1').slice(6));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Runs in the page before its own scripts: records what it does in `window.__steps`.
function watch() {
  const steps = [];
  window.__steps = steps;
  const note = (what, at = performance.now(), took) => steps.push({ at, what, took });
  addEventListener('TrunkApplicationStarted', () => note('wasm started'));
  const realFetch = window.fetch;
  window.fetch = async function (input, init) {
    const url = String(input.url || input).replace(/^https?:\/\/[^/]+/, '').replace(/\/incidents\/[^/]+/, '/incidents/ID');
    const start = performance.now();
    const res = await realFetch.call(this, input, init);
    note(`fetch ${url} ${res.status}`, start, performance.now() - start);
    return res;
  };
  const RealSocket = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const ws = new RealSocket(url, protocols);
    const start = performance.now();
    note('socket: created');
    ws.addEventListener('open', () => note('socket: open', start, performance.now() - start));
    let handler = null;
    ws.addEventListener('message', (e) => {
      const t = performance.now();
      if (handler) handler.call(ws, e);
      note(`socket: message ${e.data.byteLength ?? e.data.length} B, handled`, t, performance.now() - t);
    });
    Object.defineProperty(ws, 'onmessage', { get: () => handler, set: (f) => { handler = f; } });
    return ws;
  };
  Object.assign(window.WebSocket, RealSocket);
  window.WebSocket.prototype = RealSocket.prototype;
  const realTx = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (stores, mode) {
    const tx = realTx.apply(this, arguments);
    const start = performance.now();
    const name = `idb ${mode || 'readonly'} ${[].concat(stores).join('+')}`;
    tx.addEventListener('complete', () => note(name, start, performance.now() - start));
    return tx;
  };
  const realOpen = IDBFactory.prototype.open;
  IDBFactory.prototype.open = function () {
    const req = realOpen.apply(this, arguments);
    const start = performance.now();
    req.addEventListener('success', () => note('idb open', start, performance.now() - start));
    return req;
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) note('long task', e.startTime, e.duration);
  }).observe({ type: 'longtask', buffered: true });
  const seen = new Set();
  new MutationObserver(() => {
    for (const [sel, what] of [['[data-testid="timeline-event"]', 'first timeline row'], ['[data-testid="indicator"]', 'first indicator row'], ['#text-summary', 'summary field']]) {
      if (!seen.has(what) && document.querySelector(sel)) {
        seen.add(what);
        note(`${what} in the page`);
        requestAnimationFrame(() => setTimeout(() => note(`${what}: frame drawn`), 0));
      }
    }
  }).observe(document, { subtree: true, childList: true });
  addEventListener('keydown', () => note('keydown'), true);
}

async function run(page, { click }) {
  const t0 = await page.evaluate(() => performance.now());
  const started = Date.now();
  await click();
  await page.locator('[data-testid="timeline-event"]').first().waitFor({ state: 'attached', timeout: 300_000 });
  await page.locator('[data-testid="indicator"]').first().waitFor({ state: 'attached', timeout: 300_000 });
  await page.locator('#text-summary').press('x', { timeout: 300_000 });
  const ready = Date.now() - started;
  await page.locator('#text-summary').press('Backspace');
  // Until quiet: no long task in the last 2 s (×CPU).
  for (;;) {
    await page.waitForTimeout(500);
    const quiet = await page.evaluate(() => {
      const l = window.__steps.filter((s) => s.what === 'long task').pop();
      return l ? performance.now() - (l.at + l.took) : 1e9;
    });
    if (quiet > 2000 * cpu) break;
  }
  const steps = await page.evaluate(() => window.__steps);
  return { ready, t0, steps };
}

function print(label, { ready, t0, steps }, base) {
  const zero = base ?? t0;
  const after = steps.filter((s) => s.at + (s.took ?? 0) >= zero - 1).sort((a, b) => a.at - b.at);
  const busy = after.filter((s) => s.what === 'long task').reduce((a, s) => a + s.took, 0);
  console.log(`${label}: interactive ${ready} ms (seen by the bench); long tasks ${Math.round(busy)} ms in all`);
  for (const s of after) {
    const took = s.took !== undefined ? ` (${Math.round(s.took)} ms)` : '';
    console.log(`  ${String(Math.round(s.at - zero)).padStart(6)} ms  ${s.what}${took}`);
  }
}

// The main marks of one run, from its zero: socket open, the big message handled, rows.
function marks({ ready, t0, steps }, base) {
  const zero = base ?? t0;
  const first = (re) => steps.filter((s) => re.test(s.what) && s.at >= zero - 1).sort((a, b) => a.at - b.at)[0];
  const end = (s) => (s ? Math.round(s.at + (s.took ?? 0) - zero) : null);
  const big = steps.filter((s) => /^socket: message/.test(s.what) && s.at >= zero - 1).sort((a, b) => b.took - a.took)[0];
  return {
    ready,
    wasm: end(first(/^wasm started/)),
    stored: end(first(/^idb readonly updates/)),
    socket: end(first(/^socket: open/)),
    update: big ? Math.round(big.at - zero) : null,
    applied: end(big),
    rows: end(first(/^first timeline row in the page/)),
    drawn: end(first(/^first timeline row: frame drawn/)),
  };
}

const relay = await startRelay();
const browser = await chromium.launch(chromiumLaunchOptions);
try {
  const { incident: id, token, auth } = await registeredIncident(relay, { prefix: 'bench' });
  const writer = new YClient(`${relay.wsUrl}`, id, { name: 'bench', ...auth });
  await writer.synced();
  fill(writer, events, indicators);
  await new Promise((r) => setTimeout(r, 1500));
  const cold = [];
  const warm = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(watch);
    const cdp = await context.newCDPSession(page);
    if (cpu > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpu });
    await page.goto(`${relay.url}/`);
    await page.evaluate(() => localStorage.setItem('firebreak.name', JSON.stringify('Bench')));
    const editor = await invite(relay.url, id, token, { name: `Bench ${i}`, role: 'editor' });
    await page.goto(`${relay.url}/incident/${id}#invite=${editor.token}`);
    const join = page.getByRole('button', { name: 'Open the incident' });
    await join.waitFor({ timeout: 120_000 });
    const c = await run(page, { click: () => join.click() });
    cold.push(c);
    const w = await run(page, { click: () => page.reload() });
    warm.push(w);
    if (i === 0) {
      print('cold (invite, from the relay), CPU ' + cpu + '×', c);
      print('warm (reload, from this device), CPU ' + cpu + '×', w, 0);
    }
    await context.close();
  }
  writer.destroy();
  const table = (label, xs, base) => {
    const ms = xs.map((x) => marks(x, base));
    const keys = Object.keys(ms[0]);
    console.log(`${label} (median of ${xs.length}; each run in brackets):`);
    for (const k of keys) {
      const all = ms.map((m) => m[k]);
      const known = all.filter((v) => v !== null);
      console.log(`  ${k.padEnd(8)} ${known.length ? median(known) : '—'} ms (${all.map((v) => v ?? '—').join(', ')})`);
    }
  };
  console.log(`incident: ${events} events, ${indicators} indicators; CPU ${cpu}×`);
  table('cold', cold);
  table('warm', warm, 0);
} finally {
  await browser.close();
  await relay.cleanup();
}
