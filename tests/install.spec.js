// Installable: after one visit Chromium itself judges the app installable (web manifest,
// icons, a service worker that serves the app offline), and the icons the home screen uses
// are kept on the device with the rest of the app.
import { test, expect } from './support/fixtures.js';

test('Chromium finds the app installable, and its home-screen icons are there offline', async ({ person, relay }) => {
  const a = await person('Alice installing');
  await a.page.goto(`${relay.url}/`);
  await a.page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => a.page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);

  const cdp = await a.context.newCDPSession(a.page);
  const manifest = await cdp.send('Page.getAppManifest');
  expect(manifest.errors, 'the manifest parses cleanly').toEqual([]);
  const parsed = JSON.parse(manifest.data);
  expect(parsed.display).toBe('standalone');
  const sizes = parsed.icons.map((icon) => icon.sizes);
  expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512']));
  expect(parsed.icons.some((icon) => icon.purpose === 'maskable')).toBe(true);
  // Playwright's contexts are incognito-like, which Chromium never installs from; every other
  // check (manifest, icons, service worker with an offline answer) must pass.
  const blockers = async () =>
    (await cdp.send('Page.getInstallabilityErrors')).installabilityErrors
      .map((e) => e.errorId)
      .filter((id) => id !== 'in-incognito');
  await expect.poll(blockers, { message: 'Chromium reports no installability errors' }).toEqual([]);

  // Every icon (and the phone's apple-touch-icon) is a real image, served from the device
  // with no network.
  const appleIcon = await a.page.locator('link[rel="apple-touch-icon"]').getAttribute('href');
  const icons = [...parsed.icons.map((icon) => icon.src), appleIcon];
  await a.link.cut({ offline: true });
  await relay.stop();
  const fetched = await a.page.evaluate(async (srcs) => {
    const out = [];
    for (const src of srcs) {
      const response = await fetch(src);
      const blob = await response.blob();
      let size = null;
      if (blob.type.startsWith('image/png')) {
        const bitmap = await createImageBitmap(blob);
        size = `${bitmap.width}x${bitmap.height}`;
      }
      out.push({ src, ok: response.ok, type: blob.type, size });
    }
    return out;
  }, icons);
  for (const icon of fetched) {
    expect(icon.ok, `${icon.src} offline`).toBe(true);
    expect(icon.type, icon.src).toMatch(/^image\//);
  }
  expect(fetched.find((i) => i.src === '/icon-192.png').size).toBe('192x192');
  expect(fetched.find((i) => i.src === '/icon-512.png').size).toBe('512x512');
  expect(fetched.find((i) => i.src === appleIcon).size).toBe('180x180');
});
