// Benchmark: does scrolling the timeline stay smooth on a phone? Not a test: it prints
// numbers. Run from tests/ after a release build:
//   node bench/scroll.js [events=500] [indicators=0] [runs=3] [--cpu=4]
// The phone profile: a 390 × 844 viewport (device scale 3, touch), CDP CPU throttling ×4 by
// default. An editor opens the incident of bench/render.js through an invite; once the page
// has been quiet (no long task) for 2 s, the timeline is scrolled from its first row to its
// last with the mouse wheel (100 px a step, a step every 16 ms, as a finger's fling feels),
// and a PerformanceObserver counts the long tasks (main-thread tasks over 50 ms) from the
// first step until 1 s after the last. Prints their count, the longest, and the rows drawn.
// (`--profile`: see below; the wasm needs its names, as for bench/profile.js.)
import { chromium } from '@playwright/test';
import { startRelay } from '../support/relay.js';
import { chromiumLaunchOptions } from '../support/chromium.js';
import { YClient } from '../support/yjs-client.js';
import { registeredIncident } from '../support/incidents.js';
import { invite } from '../support/access.js';
import { fill, quiet } from './big-incident.js';
import { printProfile } from './profile-summary.js';

const args = process.argv.slice(2);
const [events = 500, indicators = 0, runs = 3] = args.filter((a) => !a.startsWith('--')).map(Number);
const cpu = Number((args.find((a) => a.startsWith('--cpu=')) || '--cpu=4').slice(6));
// `--profile`: the CDP profiler runs over the first 150 steps, and its summary is printed.
const profiling = args.includes('--profile');

const relay = await startRelay();
const browser = await chromium.launch(chromiumLaunchOptions);
const results = [];
try {
  const { incident: id, token, auth } = await registeredIncident(relay, { prefix: 'bench' });
  const writer = new YClient(`${relay.wsUrl}`, id, { name: 'bench', ...auth });
  await writer.synced();
  fill(writer, events, indicators);
  await new Promise((r) => setTimeout(r, 1500));
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      hasTouch: true,
    });
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
    const editor = await invite(relay.url, id, token, { name: `Bench ${run}`, role: 'editor' });
    await page.goto(`${relay.url}/incident/${id}#invite=${editor.token}`);
    await page.getByRole('button', { name: 'Open the incident' }).click();
    const rows = page.locator('[data-testid="timeline-event"]');
    await rows.first().waitFor({ state: 'attached', timeout: 300_000 });
    await quiet(page);
    // From the first row to the end of the list.
    await rows.first().scrollIntoViewIfNeeded();
    await page.mouse.move(195, 400);
    if (profiling) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    const t0 = await page.evaluate(() => performance.now());
    let steps = 0;
    let drawn = new Set();
    for (;;) {
      await page.mouse.wheel(0, 100);
      await page.waitForTimeout(16);
      steps++;
      if (profiling && steps === 150) printProfile((await cdp.send('Profiler.stop')).profile, { inclusive: 40 });
      if (steps % 10 === 0) {
        const seen = await page.evaluate(() => {
          const list = document.querySelector('ol.tl-list');
          const ids = [...document.querySelectorAll('[data-testid="timeline-event"]')].map((r) => r.dataset.eventId);
          const bottom = list ? list.getBoundingClientRect().bottom : 0;
          return { ids, past: bottom < window.innerHeight };
        });
        for (const i of seen.ids) drawn.add(i);
        if (seen.past || steps > 5000) break;
      }
    }
    const t1 = await page.evaluate(() => performance.now());
    await page.waitForTimeout(1000);
    const long = await page.evaluate((t) => window.__long.filter(([s]) => s >= t).map(([, d]) => d), t0);
    const lastRow = await page.locator(`[data-event-id]`).last().getAttribute('data-event-id');
    results.push({
      steps,
      ms: Math.round(t1 - t0),
      long: long.length,
      max: Math.round(Math.max(0, ...long)),
      total: Math.round(long.reduce((a, b) => a + b, 0)),
      rowsSeen: drawn.size,
      lastRow,
    });
    await context.close();
  }
  writer.destroy();
  console.log(`incident: ${events} timeline events, ${indicators} indicators; phone 390×844, CPU slowed ${cpu}×`);
  for (const [i, r] of results.entries()) {
    console.log(`run ${i + 1}: ${r.steps} wheel steps of 100 px in ${r.ms} ms; long tasks while scrolling: ${r.long} (longest ${r.max} ms, ${r.total} ms in all); ${r.rowsSeen} different rows drawn on the way`);
  }
} finally {
  await browser.close();
  await relay.cleanup();
}
