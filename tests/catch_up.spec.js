// "Since you were last here" with who and when, in real Chromium against the real relay, on
// a phone (390×844): a second person's change appears after a reload with their name and the
// time; offline the card still lists it and names no one; a viewer's card names no one and
// the page never asks the relay who wrote what. An incident whose state is over 256 KiB (the
// old localStorage bound) still lists a change. A mark an earlier Firebreak kept in
// localStorage is moved into IndexedDB, removed from localStorage, and still works. Removing
// an incident from the device removes its mark.
import { test, expect } from './support/fixtures.js';
import {
  createIncident,
  expectSynced,
  incidentUrl,
  openIncident,
  openSharePanel,
  shareLink,
  tokenOf,
} from './support/app.js';
import { addEvent, seedTimeline } from './support/evidence.js';
import { storedMark } from './support/state.js';
import { Y } from './support/yjs-client.js';

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/** "— Alice, 03:40 UTC" (the date too around midnight). */
const byAlice = /— Alice, (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC/;

/** Alice's incident, and `who` let in with `role` on a phone, with a read mark set. */
async function aliceAnd(person, relay, who, { role = 'editor', title = 'Catching up' } = {}) {
  const a = await person('Alice');
  const b = await person(who, phone);
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title });
  await expectSynced(a.page);
  await openIncident(b.page, await shareLink(a.page, { name: who, role }), { name: who });
  await expectSynced(b.page);
  await expect.poll(async () => (await storedMark(b.page, id))?.size ?? 0).toBeGreaterThan(0);
  await expect(b.page.locator('#catch-up')).toHaveCount(0);
  return { a, b, id, url: incidentUrl(b.page) };
}

/** `person` closes the incident's page (and is away). */
async function leave(person) {
  await person.page.close();
}

/** `person` opens the incident again in a new page; returns when it started. */
async function comeBack(person, url) {
  person.page = await person.context.newPage();
  const started = Date.now();
  await person.page.goto(url);
  return started;
}

/** No localStorage key of the old read marks is left in the page's origin. */
function legacyMarks(page) {
  return page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('firebreak.mark.')));
}

test('a second person’s change appears after a reload with their name and when; offline it names no one', async ({
  person,
  relay,
}) => {
  const { a, b, url } = await aliceAnd(person, relay, 'Bob');
  await leave(b);
  await addEvent(a.page, { what: 'Mailbox rule found' });
  await expectSynced(a.page);

  const started = await comeBack(b, url);
  const card = b.page.locator('#catch-up');
  const link = b.page.getByRole('link', { name: 'Timeline event added: Mailbox rule found' });
  const item = card.locator('li').filter({ has: link });
  await expect(item).toBeVisible({ timeout: 15_000 });
  await expect(item).toContainText(byAlice, { timeout: 15_000 });
  console.log(`catch-up with who and when shown ${Date.now() - started} ms after the reload (phone)`);
  expect(await legacyMarks(b.page)).toEqual([]);

  const widths = await b.page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
  expect(widths.page, 'nothing scrolls sideways').toBeLessThanOrEqual(widths.screen);
  const box = await item.boundingBox();
  expect(box.x + box.width, 'inside the screen').toBeLessThanOrEqual(390);
  const read = await card.getByRole('button', { name: 'Mark as read' }).boundingBox();
  expect(Math.min(read.width, read.height), '"Mark as read" is at least 44 px each way').toBeGreaterThanOrEqual(44);

  // Offline the card still lists the change from what the device has, and names no one.
  await b.link.cut({ offline: true });
  await expect(item).toBeVisible();
  await expect(item).not.toContainText('— Alice');
  await expect(item).toHaveText('Timeline event added: Mailbox rule found');
});

test('a viewer’s card lists the change and names no one; the relay is not asked who wrote what', async ({
  person,
  relay,
}) => {
  const { a, b, url } = await aliceAnd(person, relay, 'Vera', { role: 'viewer', title: 'Viewer catching up' });
  await leave(b);
  await addEvent(a.page, { what: 'Vendor called back' });
  await expectSynced(a.page);
  const asked = [];
  b.context.on('request', (r) => {
    if (r.url().includes('/history/attribution')) asked.push(r.url());
  });
  await comeBack(b, url);
  await expect(b.page.locator('main')).toHaveAttribute('data-access', 'viewer');
  const item = b.page.locator('#catch-up li').filter({ hasText: 'Timeline event added: Vendor called back' });
  await expect(item).toBeVisible({ timeout: 15_000 });
  await expectSynced(b.page);
  // Long enough for an ask to have gone out if the card made one.
  await b.page.waitForTimeout(1_500);
  await expect(item).toHaveText('Timeline event added: Vendor called back');
  expect(asked).toEqual([]);
});

test('an incident whose state is over 256 KiB still lists a change, with who made it', async ({ person, relay, yclients }) => {
  test.setTimeout(120_000);
  const a = await person('Alice');
  const b = await person('Bob', phone);
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'A big paste' });
  await expectSynced(a.page);
  // A bulk import through a stock Yjs client, invited like anyone else.
  const token = tokenOf(await shareLink(a.page, { name: 'Importer' }));
  const importer = yclients(relay.wsUrl, id, { name: 'importer', params: { token } });
  await importer.synced();
  seedTimeline(importer, Y, 2_000);
  const bytes = Y.encodeStateAsUpdate(importer.doc).length;
  expect(bytes, 'the incident is bigger than the old bound').toBeGreaterThan(256 * 1024);

  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page, 30_000);
  await expect.poll(async () => (await storedMark(b.page, id))?.size ?? 0, { timeout: 30_000 }).toBeGreaterThan(256 * 1024);
  const mark = await storedMark(b.page, id);
  console.log(`incident state ${bytes} bytes; read mark kept ${mark.size} bytes in IndexedDB`);
  const url = incidentUrl(b.page);
  await leave(b);

  await addEvent(a.page, { what: 'After the big paste' });
  await expectSynced(a.page);
  const started = await comeBack(b, url);
  await expect(b.page.locator('#text-summary')).toBeVisible({ timeout: 60_000 });
  const shown = Date.now() - started;
  const item = b.page.locator('#catch-up li').filter({ hasText: 'Timeline event added: After the big paste' });
  await expect(item).toBeVisible({ timeout: 60_000 });
  const listed = Date.now() - started;
  await expectSynced(b.page, 60_000);
  console.log(
    `${bytes}-byte incident: page shown ${shown} ms, catch-up listed ${listed} ms, synced by ${Date.now() - started} ms after the reload`,
  );
  await expect(item).toContainText(byAlice, { timeout: 30_000 });
  await expect(b.page.locator('#catch-up')).not.toContainText('too large');
});

test('a read mark kept the old way in localStorage is moved into IndexedDB and still works', async ({ person, relay }) => {
  const { a, b, id, url } = await aliceAnd(person, relay, 'Bob', { title: 'Kept the old way' });
  await leave(b);
  await addEvent(a.page, { what: 'Old mark, new change' });
  await expectSynced(a.page);
  b.page = await b.context.newPage();

  // What an earlier Firebreak kept: the mark in localStorage, the state in hex, no mark in
  // IndexedDB. A page of the same origin that does not run the app writes it.
  await b.page.goto(new URL('/manifest.webmanifest', url).href);
  const moved = await b.page.evaluate(
    (id) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('firebreak');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction('marks', 'readwrite');
          const marks = tx.objectStore('marks');
          const get = marks.get(id);
          get.onsuccess = () => {
            const { at, state } = get.result;
            const hex = Array.from(state, (b) => b.toString(16).padStart(2, '0')).join('');
            localStorage.setItem(`firebreak.mark.${id}`, JSON.stringify({ at, state: hex }));
            marks.delete(id);
          };
          tx.oncomplete = () => {
            db.close();
            resolve(localStorage.getItem(`firebreak.mark.${id}`).length);
          };
          tx.onabort = () => reject(tx.error);
        };
      }),
    id,
  );
  expect(moved).toBeGreaterThan(100);
  expect(await storedMark(b.page, id)).toBeNull();

  await b.page.goto(url);
  const card = b.page.locator('#catch-up');
  const item = card.locator('li').filter({ hasText: 'Timeline event added: Old mark, new change' });
  await expect(item).toBeVisible({ timeout: 15_000 });
  await expect(item).toContainText(byAlice, { timeout: 15_000 });
  await expect.poll(() => legacyMarks(b.page)).toEqual([]);
  await expect.poll(async () => (await storedMark(b.page, id))?.size ?? 0).toBeGreaterThan(0);

  // The moved mark is the one "Mark as read" moves on.
  const before = (await storedMark(b.page, id)).at;
  await card.getByRole('button', { name: 'Mark as read' }).click();
  await expect(card).toHaveCount(0);
  await expect.poll(async () => (await storedMark(b.page, id))?.at).not.toBe(before);
  await b.page.reload();
  await expectSynced(b.page);
  await expect(b.page.locator('#catch-up')).toHaveCount(0);
  expect(await legacyMarks(b.page)).toEqual([]);
});

test('removing an incident from the device removes its read mark', async ({ person, relay }) => {
  const { a, b, id } = await aliceAnd(person, relay, 'Bob', { title: 'Doomed incident' });
  await expect.poll(async () => (await storedMark(a.page, id))?.size ?? 0).toBeGreaterThan(0);
  const panel = await openSharePanel(a.page);
  await panel.getByRole('button', { name: 'Delete incident' }).click();
  await panel.getByLabel("Type the incident's title, or DELETE").fill('Doomed incident');
  await panel.getByRole('button', { name: 'Delete for everyone' }).click();
  await expect(a.page).toHaveURL(`${relay.url}/`);
  expect(await storedMark(a.page, id), "the owner's device forgets the mark").toBeNull();

  const notice = b.page.locator('#deleted-notice');
  await expect(notice).toContainText('This incident was deleted by its owner');
  expect(await storedMark(b.page, id), 'kept with the copy until it is removed').not.toBeNull();
  await notice.getByRole('button', { name: 'Remove from this device' }).click();
  await notice.getByRole('button', { name: 'Remove it' }).click();
  await expect(b.page).toHaveURL(`${relay.url}/`);
  expect(await storedMark(b.page, id)).toBeNull();
  // Leaving the incident page cleaned the card up without a panic.
  for (const someone of [a, b]) expect(someone.log.join('\n')).not.toContain('panicked');
});
