// Benchmark helper: where the main thread's time goes while the big incident opens. Not a
// test: it prints a profile. Run from tests/ after a release build:
//   node bench/profile.js [events=5000] [indicators=2000] [--cpu=4] [--warm]
// Opens the incident of bench/render.js through an editor's invite (cold) — or, with
// `--warm`, reloads it from this device's storage — with the CDP sampling profiler running
// from "Open the incident" until the main thread has had no long task for 2 s, then prints
// the long tasks (start and length, from the click) and the functions that took the most
// time (inclusive and self). The wasm of `dist/` has no function names (wasm-opt drops
// them): for a readable profile point FIREBREAK_DIST at a copy of `dist/` whose wasm is
// wasm-bindgen's output with its name section (see docs/benchmarks.md, "Rendering big
// incidents").
import { chromium } from '@playwright/test';
import { startRelay } from '../support/relay.js';
import { chromiumLaunchOptions } from '../support/chromium.js';
import { invitedPage, quiet } from './big-incident.js';
import { printProfile } from './profile-summary.js';

const args = process.argv.slice(2);
const [events = 5000, indicators = 2000] = args.filter((a) => !a.startsWith('--')).map(Number);
const cpu = Number((args.find((a) => a.startsWith('--cpu=')) || '--cpu=1').slice(6));
const warm = args.includes('--warm');

const relay = await startRelay();
const browser = await chromium.launch(chromiumLaunchOptions);
try {
  const { page, cdp, writer } = await invitedPage(relay, browser, { events, indicators, cpu });
  const join = page.getByRole('button', { name: 'Open the incident' });
  await join.waitFor({ timeout: 120_000 });
  if (warm) {
    await join.click();
    await page.locator('[data-testid="timeline-event"]').first().waitFor({ state: 'attached', timeout: 300_000 });
    await page.waitForTimeout(5000 * cpu);
  }
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const t0 = await page.evaluate(() => performance.now());
  const started = Date.now();
  if (warm) await page.reload();
  else await join.click();
  await page.locator('[data-testid="timeline-event"]').first().waitFor({ state: 'attached', timeout: 300_000 });
  await page.locator('[data-testid="indicator"]').first().waitFor({ state: 'attached', timeout: 300_000 });
  await page.locator('#text-summary').press('x', { timeout: 300_000 });
  const ready = Date.now() - started;
  await quiet(page);
  const { profile } = await cdp.send('Profiler.stop');
  const long = warm ? [] : await page.evaluate(() => window.__long);
  writer.destroy();

  console.log(`incident: ${events} events, ${indicators} indicators; CPU ${cpu}×; ${warm ? 'warm (reload)' : 'cold (invite)'}; interactive ${ready} ms`);
  const after = long.filter(([s]) => s >= t0 - 1);
  console.log(`long tasks after the click: ${after.length}, ${Math.round(after.reduce((a, [, d]) => a + d, 0))} ms in all`);
  for (const [s, d] of after) console.log(`  at ${Math.round(s - t0)} ms: ${Math.round(d)} ms`);

  printProfile(profile);
} finally {
  await browser.close();
  await relay.cleanup();
}
