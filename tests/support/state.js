// The whole state of an incident as a replica holds it, for comparing replicas in full
// rather than by a sample of what the page shows.
//   storedDoc(page, id)  a stock Yjs document rebuilt from every record this browser context
//                        keeps for the incident in IndexedDB (what the app wrote, byte for byte)
//   fullState(doc)       { snapshot, content }: the Yjs snapshot (state vector + delete set,
//                        base64) and the canonical JSON of every root type in the document
import { readFileSync } from 'node:fs';
import { Y, canonical } from './yjs-client.js';

/** Every root of the incident document as the model lists it (`incident/src/roots.rs`,
 *  checked in by `cargo test -p incident --test roots`): `[{ name, kind: 'map' | 'text' }]`. */
export const ROOTS = JSON.parse(
  readFileSync(new URL('../../incident/tests/fixtures/roots.json', import.meta.url), 'utf8'),
);

/** The root maps; every other root (including one this list does not know yet) is a text. */
const MAPS = new Set(ROOTS.filter((root) => root.kind === 'map').map((root) => root.name));

/** Every stored update of `incident` in the page's IndexedDB, oldest first, as byte arrays. */
export async function storedUpdates(page, incident) {
  return page.evaluate(
    (id) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('firebreak');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const all = db.transaction('updates').objectStore('updates').index('incident').getAll(id);
          all.onsuccess = () => {
            db.close();
            resolve(all.result.map((record) => Array.from(record.bytes)));
          };
          all.onerror = () => reject(all.error);
        };
      }),
    incident,
  );
}

/** A stock Yjs document holding everything the page's context stored for the incident. */
export async function storedDoc(page, incident) {
  const doc = new Y.Doc();
  for (const bytes of await storedUpdates(page, incident)) Y.applyUpdate(doc, Uint8Array.from(bytes));
  return doc;
}

/** The document's full state: its snapshot and the content of every root type. */
export function fullState(doc) {
  const content = {};
  for (const name of [...doc.share.keys()].sort()) {
    content[name] = MAPS.has(name) ? doc.getMap(name).toJSON() : doc.getText(name).toString();
  }
  const snapshot = Buffer.from(Y.encodeSnapshot(Y.snapshot(doc))).toString('base64');
  return { snapshot, content: canonical(content) };
}

/** The read mark this device keeps for the incident (IndexedDB, `marks`): its time and the
 * size of the state it holds (0 when none was kept), or null. */
export function storedMark(page, id) {
  return page.evaluate(
    (id) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('firebreak');
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('marks')) {
            db.close();
            return resolve(null);
          }
          const get = db.transaction('marks').objectStore('marks').get(id);
          get.onsuccess = () => {
            db.close();
            resolve(get.result ? { at: get.result.at, size: get.result.state?.length ?? 0 } : null);
          };
          get.onerror = () => reject(get.error);
        };
        open.onerror = () => reject(open.error);
      }),
    id,
  );
}
