// Evidence attachments in real Chromium against the real relay: a phone attaches a photo
// offline, keeps it across a reload, uploads it when back online, and a laptop shows its
// thumbnail and downloads the very same bytes; a viewer sees the files but cannot attach;
// refusals (too big, not the image it claims) are told on the file; a copy on the device
// that no longer matches its SHA-256 is never offered. The last test prints what 50 photos
// cost in IndexedDB and how long a 5 MB file takes to attach and upload.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { test, expect } from './support/fixtures.js';
import { png, sha256 } from './support/files.js';
import { createIncident, expectSynced, openIncident, shareLink } from './support/app.js';
import { addEvent, addIndicator, editEvent, eventRow, indicatorRow } from './support/evidence.js';

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };

/** Waits until the page is controlled by the service worker (it has kept the app). */
async function appKeptForOffline(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
}

function appendix(page) {
  return page.locator('[data-testid="attachments"][data-target="appendix"]');
}

function attachment(page, name) {
  return page.getByTestId('attachment').filter({ has: page.getByTestId('attachment-name').getByText(name, { exact: true }) });
}

async function attach(page, files) {
  // Large files take a while to hand over to a busy browser.
  await appendix(page).getByTestId('attach-file').setInputFiles(files, { timeout: 60_000 });
}

/** Clicks Download and returns the saved file's bytes and name. */
async function download(page, item) {
  const [saved] = await Promise.all([page.waitForEvent('download'), item.getByTestId('attachment-download').click()]);
  return { bytes: fs.readFileSync(await saved.path()), name: saved.suggestedFilename() };
}

test('a phone attaches a photo offline, keeps it across a reload, uploads it online; a laptop sees it and gets the same bytes', async ({
  person,
  relay,
}) => {
  const phone = await person('Alice on a phone', PHONE);
  const laptop = await person('Bob on a laptop');
  await createIncident(phone.page, relay.url, { name: 'Alice', title: 'Ransom note on a kiosk' });
  const invite = await shareLink(phone.page, { name: 'Bob' });
  await expectSynced(phone.page);
  await appKeptForOffline(phone.page);

  // On a phone the picker offers photos and the camera.
  await expect(appendix(phone.page).getByTestId('attach-file')).toHaveAttribute('accept', /image\/\*/);
  await expect(appendix(phone.page).getByTestId('attach-camera')).toHaveAttribute('capture', 'environment');

  await phone.link.cut({ offline: true });
  const photo = png(200, 150, 7);
  const hash = sha256(photo);
  await attach(phone.page, { name: 'ransom-note.png', mimeType: 'image/png', buffer: photo });
  const item = attachment(phone.page, 'ransom-note.png');
  await expect(item).toHaveAttribute('data-state', 'pending');
  await expect(item.getByTestId('attachment-state')).toHaveText('waiting for connection');
  await expect(item.getByTestId('attachment-hash')).toHaveAttribute('title', hash);
  await expect(item.getByTestId('attachment-hash')).toHaveText(`${hash.slice(0, 12)}…`);
  await expect(item).toContainText(`${(photo.length / 1024).toFixed(1)} KB`);
  await expect(item).toContainText('added by Alice');
  await item.scrollIntoViewIfNeeded(); // thumbnails are read once near the screen
  await expect(item.getByTestId('attachment-thumb')).toBeVisible();

  // Reloaded with no network: the entry and its bytes are still on the phone, still pending.
  await phone.page.reload();
  await expect(item).toHaveAttribute('data-state', 'pending');
  await item.scrollIntoViewIfNeeded();
  await expect(item.getByTestId('attachment-thumb')).toBeVisible();
  await expect
    .poll(() => item.getByTestId('attachment-thumb').evaluate((img) => img.complete && img.naturalWidth))
    .toBe(200);

  // Back online: uploaded without anyone doing anything.
  await phone.link.restore();
  await expect(item).toHaveAttribute('data-state', 'uploaded', { timeout: 30_000 });
  await expect(item.getByTestId('attachment-state')).toHaveText('uploaded');
  await expectSynced(phone.page);

  // The laptop sees it, with a thumbnail made from bytes it fetched and checked.
  await openIncident(laptop.page, invite, { name: 'Bob' });
  const there = attachment(laptop.page, 'ransom-note.png');
  await expect(there.getByTestId('attachment-hash')).toHaveAttribute('title', hash);
  await there.scrollIntoViewIfNeeded(); // thumbnails are read once near the screen
  await expect
    .poll(() => there.getByTestId('attachment-thumb').evaluate((img) => img.complete && img.naturalWidth), {
      timeout: 20_000,
    })
    .toBe(200);
  await expect(there.getByTestId('attachment-thumb')).toHaveAttribute('src', /^blob:/);
  const got = await download(laptop.page, there);
  expect(got.name).toBe('ransom-note.png');
  expect(sha256(got.bytes), 'the downloaded file is the attached one').toBe(hash);

  // Removed on the laptop: gone from both pages; the document keeps who and when.
  await there.getByRole('button', { name: 'Remove' }).click();
  await there.getByTestId('attachment-remove-confirm').click();
  await expect(there).toHaveCount(0);
  await expect(item).toHaveCount(0);
});

test('a viewer sees and downloads files but cannot attach; refusals are told on the file', async ({ person, relay }) => {
  const owner = await person('Owner');
  const viewer = await person('Viewer', PHONE);
  await createIncident(owner.page, relay.url, { name: 'Olga', title: 'Who may attach' });
  const link = await shareLink(owner.page, { name: 'Vic', role: 'viewer' });
  await expectSynced(owner.page);

  // Too big: refused in the page, nothing attached.
  await attach(owner.page, { name: 'disk.img', mimeType: 'application/octet-stream', buffer: Buffer.alloc(10 * 1024 * 1024 + 1) });
  await expect(appendix(owner.page).getByTestId('attach-notice')).toContainText('limit of 10.0 MB');
  await expect(owner.page.getByTestId('attachment')).toHaveCount(0);

  // Claims to be a PNG but is not: the relay refuses it (415), the file says why, no retry.
  await attach(owner.page, { name: 'not-really.png', mimeType: 'image/png', buffer: Buffer.from('MZ this is a program') });
  const fake = attachment(owner.page, 'not-really.png');
  await expect(fake).toHaveAttribute('data-state', 'refused', { timeout: 20_000 });
  await expect(fake.getByTestId('attachment-state')).toContainText('is not a PNG image');

  // A log extract, uploaded.
  const log = Buffer.from('2026-11-22T03:14:00Z sshd[811]: Accepted password for root from 203.0.113.9\n');
  await attach(owner.page, { name: 'auth.log', mimeType: 'text/plain', buffer: log });
  await expect(attachment(owner.page, 'auth.log')).toHaveAttribute('data-state', 'uploaded', { timeout: 20_000 });

  await openIncident(viewer.page, link, { name: 'Vic' });
  await expect(viewer.page.locator('main')).toHaveAttribute('data-access', 'viewer');
  const seen = attachment(viewer.page, 'auth.log');
  await expect(seen).toBeVisible();
  await expect(viewer.page.getByTestId('attach-file')).toHaveCount(0);
  await expect(viewer.page.getByTestId('attach-camera')).toHaveCount(0);
  await expect(seen.getByRole('button', { name: 'Remove' })).toHaveCount(0);
  const got = await download(viewer.page, seen);
  expect(got.bytes.equals(log)).toBe(true);
});

test('files attached to an event and an indicator show there; when the event goes, its file shows in the Appendix', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  const b = await person('Bob');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'On events and indicators' });
  const invite = await shareLink(a.page, { name: 'Bob' });
  await openIncident(b.page, invite, { name: 'Bob' });

  await addEvent(a.page, { what: 'Ransom note on screen' });
  const row = eventRow(a.page, 'Ransom note on screen');
  await expect(row.getByTestId('attach-file'), 'attach while correcting the event').toHaveCount(0);
  await editEvent(row);
  const shot = png(64, 48, 3);
  await row.getByTestId('attach-file').setInputFiles({ name: 'screen.png', mimeType: 'image/png', buffer: shot });
  await expect(attachment(a.page, 'screen.png')).toHaveAttribute('data-state', 'uploaded', { timeout: 20_000 });

  await addIndicator(a.page, 'evil.example');
  const ioc = indicatorRow(a.page, 'evil[.]example');
  await ioc.getByRole('button', { name: 'Edit' }).click();
  await ioc.getByTestId('attach-file').setInputFiles({ name: 'whois.txt', mimeType: 'text/plain', buffer: Buffer.from('Registrar: example\n') });
  await expect(ioc.getByTestId('attachment')).toHaveCount(1);

  // Bob sees each on its own entry, none in the Appendix.
  const there = eventRow(b.page, 'Ransom note on screen');
  await expect(there.getByTestId('attachment-name')).toHaveText('screen.png');
  await there.scrollIntoViewIfNeeded(); // thumbnails are read once near the screen
  await expect
    .poll(() => there.getByTestId('attachment-thumb').evaluate((img) => img.complete && img.naturalWidth), { timeout: 20_000 })
    .toBe(64);
  await expect(indicatorRow(b.page, 'evil[.]example').getByTestId('attachment-name')).toHaveText('whois.txt');
  await expect(appendix(b.page).getByTestId('attachment')).toHaveCount(0);

  // The event is deleted: its file stays in view, in the Appendix.
  const editor = await editEvent(there);
  await editor.getByRole('button', { name: 'Delete' }).click();
  await editor.getByRole('button', { name: 'Yes', exact: true }).click();
  await expect(eventRow(b.page, 'Ransom note on screen')).toHaveCount(0);
  await expect(b.page.getByTestId('orphaned-attachments').getByTestId('attachment-name')).toHaveText('screen.png');
  await expect(a.page.getByTestId('orphaned-attachments').getByTestId('attachment-name')).toHaveText('screen.png');
});

test('a copy on the device that no longer matches its SHA-256 is not offered', async ({ person, relay }) => {
  const phone = await person('Phone', PHONE);
  const id = await createIncident(phone.page, relay.url, { name: 'Alice', title: 'Tampered copy' });
  await expectSynced(phone.page);
  await phone.link.cut({ offline: true });
  const note = Buffer.from('the original evidence\n');
  await attach(phone.page, { name: 'note.txt', mimeType: 'text/plain', buffer: note });
  const item = attachment(phone.page, 'note.txt');
  await expect(item).toHaveAttribute('data-state', 'pending');

  // Someone with the device changes the kept bytes (same length, one letter).
  const hash = sha256(note);
  await phone.page.evaluate(
    ({ key }) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('firebreak');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction('blobs', 'readwrite');
          const store = tx.objectStore('blobs');
          const get = store.get(key);
          get.onsuccess = () => {
            const record = get.result;
            const bytes = new Uint8Array(record.bytes);
            bytes[4] ^= 0x20;
            record.bytes = bytes;
            store.put(record, key);
          };
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    { key: `${id}/${hash}` },
  );
  let downloads = 0;
  phone.page.on('download', () => downloads++);
  await item.getByTestId('attachment-download').click();
  await expect(item.getByTestId('attachment-problem')).toContainText('damaged');
  await expect(item.getByTestId('attachment-problem')).toContainText(`the file's is ${hash}`);
  await phone.page.waitForTimeout(1_000);
  expect(downloads, 'nothing was saved').toBe(0);
});

test.describe('a relay started with --max-attachment-bytes 1048576', () => {
  test.use({ relayOptions: { args: ['--max-attachment-bytes', '1048576'] } });

  test('the page refuses a file over the relay\'s own limit, and keeps that limit offline', async ({ person, relay }) => {
    const owner = await person('Owner');
    await createIncident(owner.page, relay.url, { name: 'Olga', title: 'A small relay' });
    await expectSynced(owner.page);

    // 1.5 MB: under the app's 10 MiB default, over this relay's 1 MiB. Refused in the page
    // with the relay's number; nothing attached, nothing sent.
    const big = { name: 'memory.dmp', mimeType: 'application/octet-stream', buffer: Buffer.alloc(1536 * 1024, 7) };
    await attach(owner.page, big);
    await expect(appendix(owner.page).getByTestId('attach-notice')).toContainText('over the relay\'s limit of 1.0 MB');
    await expect(owner.page.getByTestId('attachment')).toHaveCount(0);

    // Under it: attached and uploaded.
    await attach(owner.page, { name: 'small.log', mimeType: 'text/plain', buffer: Buffer.alloc(900 * 1024, 65) });
    await expect(attachment(owner.page, 'small.log')).toHaveAttribute('data-state', 'uploaded', { timeout: 20_000 });

    // Offline, after a reload: the limit last told is still the one used, not 10 MiB.
    await owner.link.cut({ offline: true });
    await owner.page.reload();
    await attach(owner.page, big);
    await expect(appendix(owner.page).getByTestId('attach-notice')).toContainText('over the relay\'s limit of 1.0 MB');
    await expect(owner.page.getByTestId('attachment')).toHaveCount(1);
  });
});

test('a long Appendix reads each thumbnail only when its file comes near the screen', async ({ person, relay }) => {
  const phone = await person('Alice', PHONE);
  await createIncident(phone.page, relay.url, { name: 'Alice', title: 'Many photos' });
  await expectSynced(phone.page);
  const photos = Array.from({ length: 40 }, (_, i) => ({
    name: `shot-${String(i).padStart(2, '0')}.png`,
    mimeType: 'image/png',
    buffer: png(48, 48, 100 + i),
  }));
  await attach(phone.page, photos);
  await expect(phone.page.getByTestId('attachment')).toHaveCount(40, { timeout: 60_000 });

  // Opened again: only the files near the screen get a thumbnail.
  await phone.page.reload();
  const items = appendix(phone.page).getByTestId('attachment');
  await expect(items).toHaveCount(40);
  await items.first().scrollIntoViewIfNeeded();
  await expect(items.first().getByTestId('attachment-thumb')).toBeVisible();
  await phone.page.waitForTimeout(1_000);
  const early = await appendix(phone.page).getByTestId('attachment-thumb').count();
  console.log(`thumbnails made with the top of a 40-file Appendix on screen: ${early} of 40`);
  expect(early, 'files far below the screen have no thumbnail yet').toBeLessThan(40);
  await expect(items.last().getByTestId('attachment-thumb')).toHaveCount(0);

  // Scrolled to the end: the last file's thumbnail is made and shows.
  await items.last().scrollIntoViewIfNeeded();
  await expect(items.last().getByTestId('attachment-thumb')).toBeVisible();
  await expect
    .poll(() => items.last().getByTestId('attachment-thumb').evaluate((img) => img.complete && img.naturalWidth))
    .toBe(48);
});

test('figures: 50 photos of 200 KB in IndexedDB, and a 5 MB file attached and uploaded', async ({ person, relay }, testInfo) => {
  testInfo.setTimeout(180_000);
  const a = await person('Alice');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Fifty photos' });
  await expectSynced(a.page);
  const estimate = () => a.page.evaluate(async () => (await navigator.storage.estimate()).usage);
  const kept = () =>
    a.page.evaluate(
      (incident) =>
        new Promise((resolve, reject) => {
          const open = indexedDB.open('firebreak');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['blobs', 'updates']);
            const blobs = tx.objectStore('blobs').index('incident').getAll(incident);
            const updates = tx.objectStore('updates').index('incident').getAll(incident);
            tx.oncomplete = () => {
              db.close();
              resolve({
                blobs: blobs.result.reduce((n, r) => n + r.bytes.byteLength, 0),
                updates: updates.result.reduce((n, r) => n + r.bytes.byteLength, 0),
              });
            };
          };
        }),
      id,
    );
  const before = await estimate();
  const photos = Array.from({ length: 50 }, (_, i) => ({
    name: `photo-${String(i).padStart(2, '0')}.png`,
    mimeType: 'image/png',
    buffer: png(256, 266, i + 1),
  }));
  const total = photos.reduce((n, p) => n + p.buffer.length, 0);
  const started = Date.now();
  await attach(a.page, photos);
  await expect(appendix(a.page).getByTestId('attachment')).toHaveCount(50, { timeout: 60_000 });
  await expect(appendix(a.page).locator('[data-testid="attachment"][data-state="uploaded"]')).toHaveCount(50, {
    timeout: 90_000,
  });
  const fiftyMs = Date.now() - started;
  await expectSynced(a.page);
  const after = await estimate();
  const stored = await kept();

  const big = crypto.randomBytes(5 * 1000 * 1000);
  const t0 = Date.now();
  await attach(a.page, { name: 'memory.bin', mimeType: 'application/octet-stream', buffer: big });
  const bigItem = attachment(a.page, 'memory.bin');
  await expect(bigItem).toHaveAttribute('data-state', /pending|uploading|uploaded/, { timeout: 30_000 });
  const attachedMs = Date.now() - t0;
  await expect(bigItem).toHaveAttribute('data-state', 'uploaded', { timeout: 60_000 });
  const uploadedMs = Date.now() - t0;
  const t1 = Date.now();
  const got = await download(a.page, bigItem);
  const downloadMs = Date.now() - t1;
  expect(sha256(got.bytes)).toBe(sha256(big));

  const mb = (n) => (n / 1e6).toFixed(2);
  console.log(
    [
      `50 photos: ${mb(total)} MB of PNG; attached and uploaded in ${(fiftyMs / 1000).toFixed(1)} s`,
      `  navigator.storage.estimate() usage: ${mb(before)} MB before, ${mb(after)} MB after (+${mb(after - before)} MB)`,
      `  IndexedDB records of the incident: ${mb(stored.blobs)} MB of file bytes, ${(stored.updates / 1000).toFixed(1)} KB of document updates`,
      `5 MB file: in the document and kept on the device after ${attachedMs} ms; uploaded after ${uploadedMs} ms; downloaded and checked in ${downloadMs} ms`,
    ].join('\n'),
  );
});
