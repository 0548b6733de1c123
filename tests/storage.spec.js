// This device's copy under pressure: the browser refuses to store (quota), a newer Firebreak
// takes the database in another tab, and two tabs count the same changes not on the relay.
// Nothing is dropped silently: the page says so loudly, keeps the changes, and goes on
// syncing.
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, incidentUrl, openIncident, section, shareLink, status } from './support/app.js';
import { Y } from './support/yjs-client.js';
import { storedUpdates } from './support/state.js';
import { newIncidentId } from './support/incidents.js';

/** How many records this device stores for `incident`, counted in `page`. */
async function storedRecords(page, incident) {
  return (await storedUpdates(page, incident)).length;
}

const saveError = (page) => page.locator('#save-error');

test('when the browser refuses to store, the page says so, keeps syncing, and stores it all once there is room', async ({ person, relay }) => {
  const a = await person('Alice, disk full');
  await a.context.addInitScript(() => {
    for (const method of ['add', 'put']) {
      const original = IDBObjectStore.prototype[method];
      IDBObjectStore.prototype[method] = function (...args) {
        if (self.__diskFull) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return original.apply(this, args);
      };
    }
  });
  const b = await person('Bob');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Disk full' });
  const link = incidentUrl(a.page);
  const invite = await shareLink(a.page, { name: 'Bob' });
  await openIncident(b.page, invite, { name: 'Bob' });
  await section(a.page, 'summary').fill('Stored fine. ');
  await expectSynced(a.page);

  // The disk fills up: every write into IndexedDB fails the way Chromium fails it, with a
  // QuotaExceededError. (Chromium 156 accepts DevTools' Storage.overrideQuotaForOrigin but does
  // not enforce it on IndexedDB writes, so the failure is raised at the IndexedDB API itself.)
  await a.page.evaluate(() => { self.__diskFull = true; });
  await section(a.page, 'summary').press('End');
  await section(a.page, 'summary').pressSequentially('Written with no room left.', { delay: 10 });
  await expect(saveError(a.page)).toBeVisible();
  await expect(saveError(a.page)).toHaveAttribute('role', 'alert');
  await expect(saveError(a.page)).toContainText('Could not save to this device');
  await expect(saveError(a.page)).toContainText(/quota/i);
  // The edit is not lost: it is in the page, and it still reaches the others.
  await expect(section(a.page, 'summary')).toHaveValue('Stored fine. Written with no room left.');
  await expect(section(b.page, 'summary')).toHaveValue('Stored fine. Written with no room left.');
  await expectSynced(a.page);
  await expect(saveError(a.page)).toContainText('The relay has every change');
  await section(a.page, 'theories').fill('Still no room.');
  await expect(section(b.page, 'theories')).toHaveValue('Still no room.');

  // Room again: the page stores everything by itself and the warning goes.
  await a.page.evaluate(() => { self.__diskFull = false; });
  await expect(saveError(a.page)).toBeHidden({ timeout: 45_000 });

  // Proof it is on this device: no network at all, the page reopened from storage.
  await relay.stop();
  await a.link.cut({ offline: true });
  await a.page.reload();
  await expect(section(a.page, 'summary')).toHaveValue('Stored fine. Written with no room left.');
  await expect(section(a.page, 'theories')).toHaveValue('Still no room.');
});

test('a newer Firebreak upgrading the stored data in another tab: this page stops writing into it, says so, and keeps syncing', async ({ person, relay }) => {
  const a = await person('Alice, old tab');
  const b = await person('Bob');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Upgrade mid-incident' });
  const link = incidentUrl(a.page);
  const invite = await shareLink(a.page, { name: 'Bob' });
  await openIncident(b.page, invite, { name: 'Bob' });
  await section(a.page, 'summary').fill('Before the upgrade.');
  await expectSynced(a.page);

  // Another tab of this browser runs a newer app that raises the database's version. A page
  // of the same origin that does not run the app stands in for it.
  const newer = await a.context.newPage();
  await newer.goto(new URL('/manifest.webmanifest', link).href);
  const upgrade = await newer.evaluate(
    () =>
      new Promise((resolve) => {
        const open = indexedDB.open('firebreak', 4); // this app's schema is 3
        open.onupgradeneeded = () => open.result.createObjectStore('from-the-future');
        open.onblocked = () => resolve('blocked by the open app');
        open.onsuccess = () => {
          open.result.close();
          resolve('upgraded');
        };
        open.onerror = () => resolve(`failed: ${open.error}`);
      }),
  );
  expect(upgrade, 'the open app lets the newer one upgrade').toBe('upgraded');
  await expect(saveError(a.page)).toContainText('Firebreak was updated in another tab');
  const stored = await storedRecords(newer, id);

  // Edits go on and reach Bob, but nothing is written into the newer data.
  await section(a.page, 'summary').press('End');
  await section(a.page, 'summary').pressSequentially(' After it.', { delay: 5 });
  await expect(section(b.page, 'summary')).toHaveValue('Before the upgrade. After it.');
  await expectSynced(a.page);
  expect(await storedRecords(newer, id)).toBe(stored);

  // This old app opened again (say, from its cache) reads the newer data but leaves it alone.
  await a.page.reload();
  await expect(section(a.page, 'summary')).toHaveValue('Before the upgrade. After it.');
  await expect(saveError(a.page)).toContainText('newer Firebreak');
  await section(a.page, 'theories').fill('Old tab, read-only storage.');
  await expect(section(b.page, 'theories')).toHaveValue('Old tab, read-only storage.');
  expect(await storedRecords(newer, id)).toBe(stored);
});

test('two tabs offline show the same count of changes not on the relay, and both reach zero online', async ({ person, relay }) => {
  const a = await person('Alice, two tabs');
  const b = await person('Bob');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Counting on a plane' });
  const link = incidentUrl(a.page);
  const invite = await shareLink(a.page, { name: 'Bob' });
  const second = await a.context.newPage();
  await second.goto(link);
  await expect(section(second, 'summary')).toBeVisible();
  await expectSynced(a.page);
  await expectSynced(second);

  await a.link.cut({ offline: true });
  await section(a.page, 'summary').pressSequentially('abc', { delay: 20 });
  await expect(section(second, 'summary')).toHaveValue('abc');
  await section(second, 'theories').pressSequentially('xy', { delay: 20 });
  await expect(section(a.page, 'theories')).toHaveValue('xy');
  // Five changes made on this device, in either tab: both tabs say five.
  await expect(status(a.page)).toHaveAttribute('data-pending', '5');
  await expect(status(second)).toHaveAttribute('data-pending', '5');
  await expect(status(second)).toContainText('5 changes not on the relay yet');

  await a.link.restore();
  await expectSynced(a.page, 30_000);
  await expectSynced(second, 30_000);
  await openIncident(b.page, invite, { name: 'Bob' });
  await expect(section(b.page, 'summary')).toHaveValue('abc');
  await expect(section(b.page, 'theories')).toHaveValue('xy');

  // A third tab opened later starts from the device's count, not its own.
  await a.link.cut({ offline: true });
  await section(second, 'summary').pressSequentially('d', { delay: 20 });
  await expect(status(second)).toHaveAttribute('data-pending', '1');
  const third = await a.context.newPage();
  await third.goto(link);
  await expect(section(third, 'summary')).toHaveValue('abcd');
  await expect(status(third)).toHaveAttribute('data-pending', '1');
  await expect(status(a.page)).toHaveAttribute('data-pending', '1');
});

test('an incident stored by an earlier Firebreak opens in this one, and is published from the device', async ({ person, relay, yclients }) => {
  const a = await person('Alice, kept from last year');
  // What the first app wrote: database version 1, records with no `origin`, no access kept.
  const id = newIncidentId('old');
  const doc = new Y.Doc();
  doc.transact(() => {
    const meta = doc.getMap('meta');
    meta.set('schema', 1);
    meta.set('title', 'Kept from an earlier version');
    meta.set('created_at', '2025-06-01T08:00:00Z');
    meta.set('tlp', 'AMBER');
    doc.getText('summary').insert(0, 'Written before invites existed.');
  });
  const later = new Y.Doc();
  Y.applyUpdate(later, Y.encodeStateAsUpdate(doc));
  later.getText('lessons').insert(0, 'Keep the old copy.');
  const records = [Y.encodeStateAsUpdate(doc), Y.encodeStateAsUpdate(later, Y.encodeStateVector(doc))].map((u) => Array.from(u));
  await a.page.goto(`${relay.url}/manifest.webmanifest`);
  await a.page.evaluate(
    ({ id, records }) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('firebreak', 1);
        open.onupgradeneeded = () => {
          const store = open.result.createObjectStore('updates', { autoIncrement: true });
          store.createIndex('incident', 'incident');
        };
        open.onsuccess = () => {
          const tx = open.result.transaction('updates', 'readwrite');
          for (const bytes of records) tx.objectStore('updates').add({ incident: id, bytes: Uint8Array.from(bytes) });
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
          tx.onabort = () => reject(tx.error);
        };
        open.onerror = () => reject(open.error);
      }),
    { id, records },
  );

  await a.page.goto(`${relay.url}/incident/${id}`);
  await expect(a.page.locator('#incident-title')).toHaveValue('Kept from an earlier version');
  await expect(section(a.page, 'summary')).toHaveValue('Written before invites existed.');
  await expect(section(a.page, 'lessons')).toHaveValue('Keep the old copy.');
  await expect(a.page.locator('#save-error')).toHaveCount(0);
  // This device holds the only copy: it registers the incident and syncs it up.
  await expectSynced(a.page);
  const token = (await shareLink(a.page, { name: 'Checker' })).split('#invite=')[1];
  const y = yclients(relay.wsUrl, id, { name: 'checker', params: { token: decodeURIComponent(token) } });
  await y.synced();
  await expect.poll(() => y.text('summary').toString()).toBe('Written before invites existed.');
  await expect.poll(() => y.text('lessons').toString()).toBe('Keep the old copy.');
});
