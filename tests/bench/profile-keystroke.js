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
import { invitedPage, quiet } from './big-incident.js';
import { printProfile } from './profile-summary.js';

const args = process.argv.slice(2);
const [events = 5000, indicators = 2000] = args.filter((a) => !a.startsWith('--')).map(Number);
const cpu = Number((args.find((a) => a.startsWith('--cpu=')) || '--cpu=1').slice(6));
const field = (args.find((a) => a.startsWith('--field=')) || '--field=#text-summary').slice(8);
const warm = args.includes('--warm');

const relay = await startRelay();
const browser = await chromium.launch(chromiumLaunchOptions);
try {
  const { page, cdp, writer } = await invitedPage(relay, browser, { events, indicators, cpu });
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
