// Benchmark: how long the incident page takes to become usable with a large incident.
// Not a test: it prints numbers. Run from tests/ after a release build:
//   node bench/render.js [events=5000] [indicators=2000] [runs=3] [--cpu=4]
// The incident is registered through the access API and a stock Yjs client writes it through
// the relay with the owner's token; then a fresh Chromium context opens an editor's invite
// link (cold: nothing on the device; timed from the join screen's "Open the incident") and,
// after a reload, from its own storage (warm).
// `--cpu=N` slows the page's CPU N times (CDP Emulation.setCPUThrottlingRate), about a
// mid-range phone at 4.
// "Interactive" is the time until the first timeline row and the first indicator row are in
// the page and a keystroke (in the summary) has been taken; "rows" the time until every
// timeline and indicator row is in the page ("windowed" when the lists draw only the rows
// near the viewport, so that never happens); "keystroke" the main-thread time one keystroke
// costs, measured in the page, in the summary and in the timeline's "What happened" field;
// "memory" the JS heap and the wasm memory once the page has settled (see `memory` below).
import { chromium } from '@playwright/test';
import * as Y from 'yjs';
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

// The main-thread time of one keystroke in the field `selector`: from the key going down until
// the frame after the input was handled has been drawn (all the work the keystroke causes).
async function keystroke(page, selector) {
  const field = page.locator(selector);
  await field.scrollIntoViewIfNeeded();
  await field.focus();
  await page.evaluate((sel) => {
    const area = document.querySelector(sel);
    window.__keys = [];
    area.addEventListener('keydown', () => { window.__down = performance.now(); });
    area.addEventListener('input', () => {
      requestAnimationFrame(() => setTimeout(() => window.__keys.push(performance.now() - window.__down), 0));
    });
  }, selector);
  for (let i = 0; i < 5; i++) {
    await field.press('x');
    await page.waitForTimeout(150);
  }
  const times = await page.evaluate(() => window.__keys);
  for (let i = 0; i < 5; i++) await field.press('Backspace');
  return Math.round(median(times));
}

// The tab's memory once the page has settled: the JS heap (CDP Runtime.getHeapUsage, after a
// garbage collection) and the wasm module's linear memory (its `memory` export, which
// public/boot.js hands out with the TrunkApplicationStarted event), in MiB.
async function memory(page, cdp) {
  await page.waitForTimeout(3000 * cpu);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const wasm = await page.evaluate(() => window.__wasm?.memory?.buffer.byteLength ?? 0);
  const mib = (n) => Math.round((n / 1048576) * 10) / 10;
  return { heap: mib(heap.usedSize), wasm: mib(wasm) };
}

// A remote edit to the first event on screen, made by the stock Yjs client: which of the
// timeline's drawn rows changed in the page (a MutationObserver on the list, each mutation
// charged to the row it is in), and how many rows were put in or taken out.
async function remoteEdit(page, writer) {
  const id = await page.locator('[data-testid="timeline-event"]').first().getAttribute('data-event-id');
  await page.evaluate(() => {
    const list = document.getElementById('timeline-list');
    window.__touched = new Set();
    window.__moved = [];
    window.__observer = new MutationObserver((records) => {
      for (const r of records) {
        if (r.target === list) {
          for (const n of r.addedNodes) window.__moved.push(`+${n.dataset?.eventId ?? n.nodeName}`);
          for (const n of r.removedNodes) window.__moved.push(`-${n.dataset?.eventId ?? n.nodeName}`);
          continue;
        }
        const row = (r.target.nodeType === 1 ? r.target : r.target.parentElement)?.closest('[data-event-id]');
        if (row) window.__touched.add(row.dataset.eventId);
      }
    });
    window.__observer.observe(list, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  writer.doc.getMap('timeline').get(id).set('what', 'edited remotely');
  await page.locator(`[data-event-id="${id}"]`).getByText('edited remotely').first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1000);
  const found = await page.evaluate(() => {
    window.__observer.disconnect();
    return { touched: [...window.__touched], moved: window.__moved };
  });
  const drawn = await page.locator('[data-testid="timeline-event"]').count();
  return { id, drawn, ...found };
}

async function interactive(page, url, cdp) {
  let t0 = Date.now();
  await page.goto(url);
  // An invite on a device without the incident shows the join screen first: timed from its
  // "Open the incident".
  const join = page.getByRole('button', { name: 'Open the incident' });
  await page.locator('#text-summary').or(join).first().waitFor({ timeout: 300_000 });
  if (await join.isVisible()) {
    t0 = Date.now();
    await join.click();
  }
  if (events > 0) {
    await page.locator('[data-testid="timeline-event"]').first().waitFor({ state: 'attached', timeout: 300_000 });
  }
  if (indicators > 0) {
    await page.locator('[data-testid="indicator"]').first().waitFor({ state: 'attached', timeout: 300_000 });
  }
  await page.locator('#text-summary').press('x', { timeout: 300_000 });
  const ready = Date.now() - t0;
  await page.locator('#text-summary').press('Backspace');
  // Every row, unless the lists are windowed.
  const windowed = await page.locator('ol.tl-list[data-windowed]').count() > 0;
  let rows = 'windowed';
  if (!windowed) {
    if (events > 0) {
      await page.locator('[data-testid="timeline-event"]').nth(events - 1).waitFor({ state: 'attached', timeout: 300_000 });
    }
    if (indicators > 0) {
      await page.locator('[data-testid="indicator"]').nth(indicators - 1).waitFor({ state: 'attached', timeout: 300_000 });
    }
    rows = Date.now() - t0;
  }
  const mem = await memory(page, cdp);
  return {
    ready,
    rows,
    heap: mem.heap,
    wasm: mem.wasm,
    summary: await keystroke(page, '#text-summary'),
    what: await keystroke(page, '#tl-new-what'),
  };
}


const relay = await startRelay();
const browser = await chromium.launch(chromiumLaunchOptions);
try {
  const { incident: id, token, auth } = await registeredIncident(relay, { prefix: 'bench' });
  const writer = new YClient(`${relay.wsUrl}`, id, { name: 'bench', ...auth });
  await writer.synced();
  fill(writer, events, indicators);
  const bytes = Y.encodeStateAsUpdate(writer.doc).length;
  // Let the relay store it before anyone opens it.
  await new Promise((r) => setTimeout(r, 1500));
  // The page joins with an editor's link (`/incident/ID#invite=TOKEN`): the app keeps the
  // token on the device and drops the fragment, so the warm run opens the plain address.
  // One invite a run: an invite is bound to the first device that uses it.
  const url = `${relay.url}/incident/${id}`;
  const cold = [];
  const warm = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      addEventListener('TrunkApplicationStarted', (e) => { window.__wasm = e.detail.wasm; });
    });
    const cdp = await context.newCDPSession(page);
    if (cpu > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpu });
    await page.goto(`${relay.url}/`);
    await page.evaluate(() => localStorage.setItem('firebreak.name', JSON.stringify('Bench')));
    const editor = await invite(relay.url, id, token, { name: `Bench ${i}`, role: 'editor' });
    cold.push(await interactive(page, `${url}#invite=${editor.token}`, cdp));
    if (i === 0) {
      const edit = await remoteEdit(page, writer);
      console.log(`remote edit to event ${edit.id}: ${edit.drawn} rows drawn; rows changed in the page: ${edit.touched.length} (${edit.touched.join(', ')}); rows put in (+) or taken out (-) of the list: ${edit.moved.length} (${edit.moved.join(', ')})`);
    }
    warm.push(await interactive(page, url, cdp));
    await context.close();
  }
  writer.destroy();
  const figure = (xs, key) => {
    const all = xs.map((x) => x[key]);
    if (all.some((x) => typeof x !== 'number')) return all[0];
    return `${median(all)}${unit} (${all.join(', ')})`;
  };
  let unit = ' ms';
  const show = (label, xs) => {
    unit = ' ms';
    const times = `interactive ${figure(xs, 'ready')}   rows ${figure(xs, 'rows')}   keystroke: summary ${figure(xs, 'summary')}, what happened ${figure(xs, 'what')}`;
    unit = ' MiB';
    console.log(`${label.padEnd(32)} ${times}   memory: JS heap ${figure(xs, 'heap')}, wasm ${figure(xs, 'wasm')}`);
  };
  console.log(`incident: ${events} timeline events, ${indicators} indicators, ${(bytes / 1024).toFixed(0)} KiB as one Yjs update; CPU slowed ${cpu}×`);
  show('cold (from the relay)', cold);
  show('warm (from this device, reload)', warm);
} finally {
  await browser.close();
  await relay.cleanup();
}
