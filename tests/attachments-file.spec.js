// The whole-incident file with its attachments, in real Chromium against the real relay: a
// member whose device never held the photo saves the file "With attachments" (the app fetches
// and checks the bytes from the relay); a fresh browser opens it offline and shows the
// thumbnail and downloads the very same bytes from its own copy, then, once online and the
// copy is on the relay, uploads them. The plain file stays the default and still opens; saved
// with attachments from there, offline, it names the file it could not carry.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect } from './support/fixtures.js';
import { png, sha256 } from './support/files.js';
import { createIncident, expectSynced, keptForOffline, openIncident, shareLink } from './support/app.js';

const PHOTO = png(40, 30, 3);

function attachment(page, name) {
  return page.getByTestId('attachment').filter({ has: page.getByTestId('attachment-name').getByText(name, { exact: true }) });
}

async function saveFile(page, withAttachments, { keepOpen = false } = {}) {
  await page.locator('#export-button').click();
  const box = page.locator('#export-with-attachments');
  await expect(box).not.toBeChecked(); // the plain file is the default
  if (withAttachments) await box.check();
  const [file] = await Promise.all([page.waitForEvent('download'), page.locator('#export-incident-file').click()]);
  const text = fs.readFileSync(await file.path(), 'utf8');
  if (!keepOpen) await page.locator('#export-button').click();
  return { name: file.suggestedFilename(), text };
}

test('an incident file saved with attachments carries the photo to a fresh browser, offline; the plain file still opens; what is not at hand is named', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  const b = await person('Bob');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Defaced kiosk' });
  const invite = await shareLink(a.page, { name: 'Bob' });
  const hash = sha256(PHOTO);
  await a.page
    .locator('[data-testid="attachments"][data-target="appendix"]')
    .getByTestId('attach-file')
    .setInputFiles({ name: 'kiosk.png', mimeType: 'image/png', buffer: PHOTO });
  await expect(attachment(a.page, 'kiosk.png')).toHaveAttribute('data-state', 'uploaded', { timeout: 30_000 });
  await expectSynced(a.page);

  // Bob's device has never held the photo: saving with attachments fetches and checks it.
  await openIncident(b.page, invite, { name: 'Bob' });
  await expect(attachment(b.page, 'kiosk.png')).toHaveCount(1);
  const rich = await saveFile(b.page, true);
  const plain = await saveFile(b.page, false);
  expect(rich.name).toBe('defaced-kiosk.firebreak.json');
  const carried = JSON.parse(rich.text).attachments;
  expect(carried.map((c) => c.sha256)).toEqual([hash]);
  expect(JSON.parse(plain.text).attachments ?? null, 'the plain file carries no bytes').toBeNull();
  await expect(b.page.locator('#export-file-left-out')).toHaveCount(0);
  console.log(`incident file: ${plain.text.length} bytes plain, ${rich.text.length} with a ${PHOTO.length}-byte photo`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-attach-file-'));
  try {
    const richFile = path.join(dir, 'rich.firebreak.json');
    const plainFile = path.join(dir, 'plain.firebreak.json');
    fs.writeFileSync(richFile, rich.text);
    fs.writeFileSync(plainFile, plain.text);

    // A fresh browser, offline: the thumbnail and the download come from the file's bytes.
    const c = await person('Cai');
    await c.page.goto(`${relay.url}/`);
    // The list of incidents is fetched on demand (its own wasm module): loaded once means shown.
    await expect(c.page.locator('#open-file')).toBeAttached();
    await c.context.setOffline(true);
    await c.page.locator('#open-file').setInputFiles(richFile);
    await c.page.waitForURL(/\/incident\//);
    const item = attachment(c.page, 'kiosk.png');
    await expect(item).toHaveAttribute('data-state', 'pending');
    await item.scrollIntoViewIfNeeded();
    await expect
      .poll(() => item.getByTestId('attachment-thumb').evaluate((img) => img.complete && img.naturalWidth))
      .toBe(40);
    const [saved] = await Promise.all([c.page.waitForEvent('download'), item.getByTestId('attachment-download').click()]);
    expect(sha256(fs.readFileSync(await saved.path())), 'the downloaded file is the attached one').toBe(hash);

    // Online: the copy goes on the relay as a new incident and uploads the photo it holds.
    await c.context.setOffline(false);
    await c.page.evaluate(() => window.dispatchEvent(new Event('online')));
    await expect(c.page.locator('main.incident-page')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });
    await expect(item).toHaveAttribute('data-state', 'uploaded', { timeout: 30_000 });

    // The plain file opens too: the entry is listed, its bytes are not here.
    const d = await person('Dee');
    await d.page.goto(`${relay.url}/`);
    await d.page.locator('#open-file').setInputFiles(plainFile);
    await d.page.waitForURL(/\/incident\//);
    await expect(attachment(d.page, 'kiosk.png').getByTestId('attachment-hash')).toHaveAttribute('title', hash);

    // Saved with attachments from there, offline (once the app is kept: the export panel is
    // fetched on demand): it has no copy to carry, and says so.
    await keptForOffline(d.page);
    await d.context.setOffline(true);
    const without = await saveFile(d.page, true, { keepOpen: true });
    expect(JSON.parse(without.text).attachments ?? null).toBeNull();
    expect(JSON.parse(without.text).attachments_left_out).toEqual([hash]);
    await expect(d.page.locator('#export-file-left-out')).toContainText('not on this device');
    await expect(d.page.locator('#export-file-left-out')).toContainText('“kiosk.png”');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
