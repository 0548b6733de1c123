// The big incident the render, profile and scroll benchmarks open: `events` timeline events
// (out of time order on purpose: the page sorts) and `indicators` indicators, written by a
// stock Yjs client in one transaction.
import * as Y from 'yjs';
import { YClient } from '../support/yjs-client.js';
import { registeredIncident } from '../support/incidents.js';
import { invite } from '../support/access.js';

const PHASES = ['reconnaissance', 'weaponization', 'delivery', 'exploitation', 'installation',
  'command_and_control', 'actions_on_objectives'];

export function fill(client, events, indicators) {
  const doc = client.doc;
  doc.transact(() => {
    const meta = doc.getMap('meta');
    meta.set('schema', 1);
    meta.set('title', `Benchmark: ${events} events, ${indicators} indicators`);
    meta.set('created_at', '2026-11-01T00:00:00Z');
    meta.set('classification', 'Confidential – specific individuals only');
    meta.set('tlp', 'AMBER');
    const timeline = doc.getMap('timeline');
    const start = Date.parse('2026-11-01T00:00:00Z');
    for (let i = 0; i < events; i++) {
      const e = new Y.Map();
      // Out of order on purpose: the page sorts.
      const at = new Date(start + ((i * 7919) % events) * 60_000).toISOString().replace('.000Z', 'Z');
      e.set('occurred_at', at);
      e.set('what', `event ${i}: host-${i % 97} talked to 198.51.100.${i % 250}`);
      e.set('source', 'EDR');
      e.set('data_link', `https://siem.example/q/${i}`);
      e.set('phase', PHASES[i % PHASES.length]);
      e.set('author', 'bench');
      e.set('include_in_report', i % 10 === 0);
      timeline.set(`ev${String(i).padStart(6, '0')}`, e);
    }
    const iocs = doc.getMap('indicators');
    for (let i = 0; i < indicators; i++) {
      const m = new Y.Map();
      m.set('value', `bad-${i}.example.com`);
      m.set('kind', 'domain');
      m.set('sightings', 1);
      m.set('added_by', 'bench');
      m.set('added_at', '2026-11-01T00:00:00Z');
      iocs.set(`ioc-bench-${i}`, m);
    }
  });
}

/** Writes the big incident on `relay` (a stock Yjs client, kept as `writer`) and opens an
 *  editor's invite link to it in a new page of `browser` with the CPU slowed `cpu` times and
 *  its long tasks kept in `window.__long` ([start, duration]); the page shows the join
 *  screen. */
export async function invitedPage(relay, browser, { events, indicators, cpu }) {
  const { incident: id, token, auth } = await registeredIncident(relay, { prefix: 'bench' });
  const writer = new YClient(`${relay.wsUrl}`, id, { name: 'bench', ...auth });
  await writer.synced();
  fill(writer, events, indicators);
  await new Promise((r) => setTimeout(r, 1500));
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__long = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__long.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  });
  const cdp = await context.newCDPSession(page);
  if (cpu > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpu });
  await page.goto(`${relay.url}/`);
  await page.evaluate(() => localStorage.setItem('firebreak.name', JSON.stringify('Bench')));
  const editor = await invite(relay.url, id, token, { name: 'Bench', role: 'editor' });
  await page.goto(`${relay.url}/incident/${id}#invite=${editor.token}`);
  return { page, cdp, writer };
}

/** Waits until the page has had no long task for 2 s (see `invitedPage`). */
export async function quiet(page) {
  for (;;) {
    await page.waitForTimeout(500);
    const last = await page.evaluate(() => {
      const l = window.__long[window.__long.length - 1];
      return l ? performance.now() - (l[0] + l[1]) : 1e9;
    });
    if (last > 2000) return;
  }
}
