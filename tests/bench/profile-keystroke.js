// Benchmark helper: where the main thread's time goes while typing into the big incident.
// Not a test: it prints a profile. Run from tests/ after a release build:
//   node bench/profile-keystroke.js [events=5000] [indicators=2000] [--cpu=4] [--warm] [--field=#text-summary]
// Opens the incident of bench/render.js through an editor's invite (and, with `--warm`,
// reloads it), waits until the page has had no long task for 2 s, then runs the CDP sampling
// profiler (200 µs) over 10 keystrokes into the field (150 ms apart, ×CPU) and prints the
// functions that took the time (bench/profile-summary.js). For names, point FIREBREAK_DIST at
// a copy of `dist/` with a named wasm (see docs/benchmarks.md, "Rendering big incidents").
import { chromium } from '@playwright/test';
import { startRelay } from '../support/relay.js';
import { chromiumLaunchOptions } from '../support/chromium.js';
import { YClient } from '../support/yjs-client.js';
import { registeredIncident } from '../support/incidents.js';
import { invite } from '../support/access.js';
import { fill } from './big-incident.js';
import { printProfile } from './profile-summary.js';

const args = process.argv.slice(2);
const [events = 5000, indicators = 2000] = args.filter((a) => !a.startsWith('--')).map(Number);
const cpu = Number((args.find((a) => a.startsWith('--cpu=')) || '--cpu=1').slice(6));
const field = (args.find((a) => a.startsWith('--field=')) || '--field=#text-summary').slice(8);
const warm = args.includes('--warm');

async function quiet(page) {
  for (;;) {
    await page.waitForTimeout(500);
    const last = await page.evaluate(() => {
      const l = window.__long[window.__long.length - 1];
      return l ? performance.now() - (l[0] + l[1]) : 1e9;
    });
    if (last > 2000) return;
  }
}

const relay = await startRelay();
const browser = await chromium.launch(chromiumLaunchOptions);
try {
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
  await page.getByRole('button', { name: 'Open the incident' }).click();
  await page.locator('[data-testid="timeline-event"]').first().waitFor({ state: 'attached', timeout: 300_000 });
  await quiet(page);
  if (warm) {
    await page.reload();
    await page.locator('[data-testid="timeline-event"]').first().waitFor({ state: 'attached', timeout: 300_000 });
    await quiet(page);
  }
  const box = page.locator(field);
  await box.scrollIntoViewIfNeeded();
  await box.focus();
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  for (let i = 0; i < 10; i++) {
    await box.press('x');
    await page.waitForTimeout(150 * cpu);
  }
  await page.waitForTimeout(1000);
  const { profile } = await cdp.send('Profiler.stop');
  writer.destroy();
  console.log(`incident: ${events} events, ${indicators} indicators; CPU ${cpu}×; ${warm ? 'warm' : 'cold'}; 10 keystrokes into ${field}`);
  printProfile(profile);
} finally {
  await browser.close();
  await relay.cleanup();
}
