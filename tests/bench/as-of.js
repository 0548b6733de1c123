// Benchmark: the incident as of a time, in the app, on a large incident. Not a test: it prints
// numbers. Run from tests/ after a release build (trunk build --release, the relay):
//   node bench/as-of.js [events=5000] [edits=20000] [runs=3]
// A stock Yjs client writes the incident through the relay with the owner's token, one edit
// an update (so one record each): the events one by one, then corrections of events' text
// and source and the summary typed and cut, in 20 bursts a little over a second apart (so the
// record spans about 25 seconds). Then an editor opens it in Chromium from an invite link
// and opens History. Printed, each the median of `runs`, timed inside the page from the
// click (or the slider's release) to the frame the heading names the new time:
//   - the slider's record read: from opening the panel to the slider drawn (GET …/history,
//     all pages);
//   - "Show" at a typed time in the middle of the record (half the edits), and at the end;
//   - the slider released at its first stop and at its last.
import { chromium } from '@playwright/test';
import * as Y from 'yjs';
import { startRelay } from '../support/relay.js';
import { chromiumLaunchOptions } from '../support/chromium.js';
import { YClient } from '../support/yjs-client.js';
import { registeredIncident } from '../support/incidents.js';
import { deviceFor, invite, request } from '../support/access.js';

const [events = 5000, edits = 20000, runs = 3] = process.argv.slice(2).map(Number);
const BURSTS = 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The i-th edit as its own transaction (one update, one record). */
function edit(doc, i) {
  const timeline = doc.getMap('timeline');
  const id = (n) => `ev${String(n).padStart(6, '0')}`;
  if (i === 0) {
    doc.transact(() => {
      const meta = doc.getMap('meta');
      meta.set('schema', 1);
      meta.set('title', `Benchmark: ${events} events, ${edits} edits`);
      meta.set('created_at', '2026-11-01T00:00:00Z');
      meta.set('classification', 'Confidential – specific individuals only');
      meta.set('tlp', 'AMBER');
    });
    return;
  }
  if (i <= events) {
    const n = i - 1;
    doc.transact(() => {
      const e = new Y.Map();
      e.set('occurred_at', new Date(Date.parse('2026-11-01T00:00:00Z') + n * 60_000).toISOString().replace('.000Z', 'Z'));
      e.set('what', `event ${n}: host-${n % 97} talked to 198.51.100.${n % 250}`);
      e.set('source', 'EDR');
      e.set('author', 'bench');
      e.set('include_in_report', n % 10 === 0);
      timeline.set(id(n), e);
    });
    return;
  }
  const k = i - events - 1;
  doc.transact(() => {
    const summary = doc.getText('summary');
    switch (k % 4) {
      case 0:
        timeline.get(id((k * 7919) % events))?.set('what', `event corrected at edit ${i}`);
        break;
      case 1:
        timeline.get(id((k * 104_729) % events))?.set('source', `source ${k % 13}`);
        break;
      case 2:
        summary.insert(summary.length, `Edit ${i} adds a line to the summary.\n`);
        break;
      default:
        if (summary.length > 200) summary.delete(0, 40);
        else summary.insert(0, 'x');
    }
  });
}

/** Every record's metadata, through the history API with the owner's token. */
async function records(relay, id, token) {
  const out = [];
  let after = 0;
  for (;;) {
    const res = await request(relay.url, 'GET', `/api/incidents/${id}/history?after=${after}`, {
      token,
      headers: { 'x-firebreak-device': deviceFor(token) },
    });
    if (res.status !== 200) throw new Error(`history: ${res.status} ${res.text}`);
    out.push(...res.json.records);
    if (res.json.next == null) return out;
    after = res.json.next;
  }
}

/** `ms` as the heading shows it, in UTC: to the minute, with seconds when it has them. */
function shown(ms) {
  const t = new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  return `${ms % 60_000 ? t : t.slice(0, 16)} UTC`;
}

/** Runs `act` in the page and times it until the as-of heading names `expected` (ms). */
function timed(page, act, expected) {
  return page.evaluate(
    async ({ act, expected }) => {
      const t0 = performance.now();
      if (act.click) document.querySelector(act.click).click();
      if (act.slide !== undefined) {
        const slider = document.querySelector('#history-slider');
        slider.value = String(act.slide === 'end' ? slider.max : 0);
        slider.dispatchEvent(new Event('input', { bubbles: true }));
        slider.dispatchEvent(new Event('change', { bubbles: true }));
      }
      await new Promise((resolve, reject) => {
        const give_up = setTimeout(() => {
          const said = document.querySelector('#history-problem')?.textContent;
          const h = document.querySelector('#h-as-of')?.textContent;
          const sl = document.querySelector('#history-slider');
          reject(new Error(`no view for ${expected}: ${said || 'no problem shown'}; heading: ${h}; slider ${sl?.value}/${sl?.max} ${sl?.getAttribute('aria-valuetext')} field ${document.querySelector('#history-at')?.value}`));
        }, 60_000);
        const check = () => {
          const h = document.querySelector('#h-as-of');
          if (h && h.textContent.includes(expected)) {
            clearTimeout(give_up);
            resolve();
          } else requestAnimationFrame(check);
        };
        check();
      });
      return Math.round(performance.now() - t0);
    },
    { act, expected },
  );
}

const relay = await startRelay();
const browser = await chromium.launch(chromiumLaunchOptions);
try {
  const { incident: id, token, auth } = await registeredIncident(relay, { prefix: 'bench' });
  const writer = new YClient(`${relay.wsUrl}`, id, { name: 'bench', ...auth });
  await writer.synced();
  const started = Date.now();
  const per = Math.ceil(edits / BURSTS);
  for (let i = 0; i < edits; i++) {
    edit(writer.doc, i);
    if ((i + 1) % per === 0) await sleep(1100);
  }
  let marks = [];
  for (let tries = 0; tries < 240 && marks.length < edits; tries++) {
    await sleep(500);
    marks = await records(relay, id, token);
  }
  console.log(`wrote ${edits} edits in ${((Date.now() - started) / 1000).toFixed(1)} s; the record holds ${marks.length} records over ${((marks.at(-1).received_at - marks[0].received_at) / 1000).toFixed(1)} s`);

  const editor = await invite(relay.url, id, token, { name: 'Bench', role: 'editor' });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${relay.url}/`);
  await page.evaluate(() => localStorage.setItem('firebreak.name', JSON.stringify('Bench')));
  await page.goto(`${relay.url}/incident/${id}#invite=${editor.token}`);
  const join = page.getByRole('button', { name: 'Open the incident' });
  await page.locator('#text-summary').or(join).waitFor({ timeout: 120_000 });
  if (await join.isVisible()) await join.click();
  await page.locator('#sync-status[data-state="synced"]').waitFor({ timeout: 120_000 });
  await page.locator('[data-testid="timeline-event"]').nth(events - 1).waitFor({ state: 'attached', timeout: 120_000 });

  const middle = Math.ceil(marks[Math.floor(marks.length / 2)].received_at / 1000) * 1000;
  const first = Math.ceil(marks[0].received_at / 1000) * 1000;
  const times = { read: [], middle: [], end: [], slideFirst: [], slideEnd: [] };
  for (let run = 0; run < runs; run++) {
    // The panel afresh: a new page load, so the slider reads the whole record again.
    await page.reload();
    await page.locator('[data-testid="timeline-event"]').nth(events - 1).waitFor({ state: 'attached', timeout: 120_000 });
    times.read.push(
      await page.evaluate(async () => {
        const t0 = performance.now();
        document.querySelector('#history-button').click();
        await new Promise((resolve) => {
          const check = () => (document.querySelector('#history-slider') ? resolve() : requestAnimationFrame(check));
          check();
        });
        return Math.round(performance.now() - t0);
      }),
    );
    // The end: the slider's last stop (each visit's first sync may add a record).
    const end = Number(await page.locator('#history-slider').getAttribute('data-at'));
    await page.locator('#history-at').fill(`${new Date(middle).toISOString().slice(0, 19).replace('T', ' ')} UTC`);
    times.middle.push(await timed(page, { click: '#history-show' }, `As it stood at ${shown(middle)}`));
    await page.locator('#history-at').fill(`${new Date(end).toISOString().slice(0, 19).replace('T', ' ')} UTC`);
    times.end.push(await timed(page, { click: '#history-show' }, `As it stood at ${shown(end)}`));
    times.slideFirst.push(await timed(page, { slide: 'first' }, `As it stood at ${shown(first)}`));
    times.slideEnd.push(await timed(page, { slide: 'end' }, `As it stood at ${shown(end)}`));
    await page.getByRole('button', { name: 'Back to now' }).click();
  }
  const stops = await page.locator('#history-slider').getAttribute('max');
  writer.destroy();
  await context.close();
  const line = (label, xs) => console.log(`${label.padEnd(58)} ${String(median(xs)).padStart(6)} ms (runs: ${xs.join(', ')})`);
  console.log(`incident: ${events} timeline events, ${marks.length} records; the slider has ${Number(stops) + 1} stops`);
  line('History opened → slider drawn (the record read)', times.read);
  line('"Show" at the middle (half the edits) → view shown', times.middle);
  line('"Show" at the end (every edit) → view shown', times.end);
  line('slider released at its first stop → view shown', times.slideFirst);
  line('slider released at its last stop → view shown', times.slideEnd);
} finally {
  await browser.close();
  await relay.cleanup();
}
