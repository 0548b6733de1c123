// Playwright Test runs every cross-part test of Firebreak: the stock-Yjs interop tests
// (no browser) and the real-browser app tests. Each test starts its own relay on a free
// port with its own data directory (see support/fixtures.js), so tests never share state.
import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './support/chromium.js';

// The specs that need no browser (and no built app): they form the `interop` project.
const NO_BROWSER = ['interop.spec.js', 'access.spec.js'];

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.js',
  outputDir: './test-results',
  // 2 cores: one relay + two browser contexts per test already keep both busy.
  workers: Number(process.env.FIREBREAK_TEST_WORKERS || 1),
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    headless: true,
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    screenshot: 'only-on-failure',
    launchOptions: chromiumLaunchOptions,
  },
  projects: [
    // Stock Yjs clients, raw sockets and HTTP calls against the relay; no browser is launched.
    { name: 'interop', testMatch: NO_BROWSER },
    // Real browsers against the relay serving the built app (dist/): every other spec.
    { name: 'app', testIgnore: NO_BROWSER, use: { trace: 'retain-on-failure' } },
  ],
});
