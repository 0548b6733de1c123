#!/usr/bin/env node
// Records byte fixtures produced by stock JavaScript Yjs (yjs + y-protocols), so the Rust
// side (incident model, relay) can prove binary compatibility in plain unit tests.
//
//   cd tests && node support/record-fixtures.js [OUT_DIR]
//
// OUT_DIR defaults to ../incident/tests/fixtures. Every document uses a fixed client id and
// fixed content, so re-running the script writes the same bytes (check with `git diff`).
// expected.json beside the .bin files says what each one decodes to.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';
import * as syncProtocol from 'y-protocols/sync';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as encoding from 'lib0/encoding';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(process.argv[2] || path.join(here, '../../incident/tests/fixtures'));
const require = createRequire(import.meta.url);
const versions = {
  yjs: require('yjs/package.json').version,
  'y-protocols': require('y-protocols/package.json').version,
  lib0: require('lib0/package.json').version,
};

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const MESSAGE_QUERY_AWARENESS = 3;

/** A document whose every edit is made by one fixed client id. */
function docWithClient(clientID) {
  const doc = new Y.Doc({ gc: true });
  doc.clientID = clientID;
  return doc;
}

/** Runs `edit` on `doc` and returns the one v1 update it produced. */
function captureUpdate(doc, edit) {
  const updates = [];
  const onUpdate = (u) => updates.push(u);
  doc.on('update', onUpdate);
  doc.transact(() => edit(doc));
  doc.off('update', onUpdate);
  if (updates.length !== 1) throw new Error(`expected one update, got ${updates.length}`);
  return updates[0];
}

function message(write) {
  const encoder = encoding.createEncoder();
  write(encoder);
  return encoding.toUint8Array(encoder);
}

const files = {}; // name -> bytes
const expected = {}; // name -> what it decodes to
const notes = {}; // name -> one line for the README

// 1. A Y.Text edit: the summary of a fresh document.
const SUMMARY =
  'On 2024-03-01 ACME was notified that it had suffered a credential-phishing incident ' +
  'resulting in access to the payroll system.';
{
  const doc = docWithClient(1001);
  files['update_text_insert.bin'] = captureUpdate(doc, (d) => d.getText('summary').insert(0, SUMMARY));
  expected['update_text_insert.bin'] = { kind: 'update', client: 1001, text: { summary: SUMMARY } };
  notes['update_text_insert.bin'] =
    'Yjs v1 update: insert into an empty `Y.Text` named `summary` (client 1001).';

  // 1b. A follow-up edit of the same text: a delete in the middle plus an insert, on top of 1.
  files['update_text_edit.bin'] = captureUpdate(doc, (d) => {
    const t = d.getText('summary');
    const from = SUMMARY.indexOf('credential-phishing');
    t.delete(from, 'credential-phishing'.length);
    t.insert(from, 'ransomware');
  });
  const edited = SUMMARY.replace('credential-phishing', 'ransomware');
  expected['update_text_edit.bin'] = {
    kind: 'update',
    client: 1001,
    applies_after: ['update_text_insert.bin'],
    text: { summary: edited },
  };
  notes['update_text_edit.bin'] =
    'Yjs v1 update, applied after `update_text_insert.bin`: replaces "credential-phishing" with ' +
    '"ransomware" (a delete set plus an insert).';
}

// 2. Non-ASCII text: UTF-16 surrogate pairs and combining characters (Yjs counts UTF-16 units).
const UNICODE_TEXT = 'Café ☕ — IOC hxxps://exämple[.]com 🔥🧯 done';
{
  const doc = docWithClient(1002);
  files['update_text_unicode.bin'] = captureUpdate(doc, (d) => {
    const t = d.getText('details');
    t.insert(0, 'Café — IOC hxxps://exämple[.]com 🔥 done');
    t.insert('Café '.length, '☕ '); // offsets in UTF-16 code units
    t.insert('Café ☕ — IOC hxxps://exämple[.]com 🔥'.length, '🧯');
  });
  const check = docWithClient(1);
  Y.applyUpdate(check, files['update_text_unicode.bin']);
  if (check.getText('details').toString() !== UNICODE_TEXT) {
    throw new Error(`unicode fixture: got ${check.getText('details').toString()}`);
  }
  expected['update_text_unicode.bin'] = { kind: 'update', client: 1002, text: { details: UNICODE_TEXT } };
  notes['update_text_unicode.bin'] =
    'Yjs v1 update: `Y.Text` `details` with accents, an emoji outside the BMP (surrogate pair) ' +
    'and inserts at UTF-16 offsets after them.';
}

// 3. A Y.Map set: the meta fields of an incident.
const META = {
  schema: 1,
  title: 'Payroll credential phishing',
  classification: 'Confidential – specific individuals only',
  tlp: 'AMBER+STRICT',
  created_at: '2024-03-01T08:15:00Z',
};
{
  const doc = docWithClient(1003);
  files['update_map_set.bin'] = captureUpdate(doc, (d) => {
    const meta = d.getMap('meta');
    for (const [k, v] of Object.entries(META)) meta.set(k, v);
  });
  expected['update_map_set.bin'] = { kind: 'update', client: 1003, map: { meta: META } };
  notes['update_map_set.bin'] =
    'Yjs v1 update: `Y.Map` `meta` with an integer (`schema` 1: lib0 writes small integers as ' +
    'type 125, a varint) and strings (`title`, `classification`, `tlp`, `created_at`).';
}

// 4. A nested map: a timeline event keyed by id, whose fields are a Y.Map of their own.
const EVENT = {
  occurred_at: '2024-03-01T07:58:00Z',
  original_zone: 'Europe/Berlin',
  discovered_at: '2024-03-01T08:10:00Z',
  what: 'Phishing mail delivered to 14 mailboxes',
  source: 'mail gateway log',
  kill_chain: 'delivery',
  include_in_report: true,
};
{
  const doc = docWithClient(1004);
  files['update_nested_map.bin'] = captureUpdate(doc, (d) => {
    const event = new Y.Map();
    for (const [k, v] of Object.entries(EVENT)) event.set(k, v);
    d.getMap('timeline').set('ev-7f3a9c', event);
  });
  expected['update_nested_map.bin'] = {
    kind: 'update',
    client: 1004,
    map: { timeline: { 'ev-7f3a9c': EVENT } },
  };
  notes['update_nested_map.bin'] =
    'Yjs v1 update: `Y.Map` `timeline` holding key `ev-7f3a9c` → a nested `Y.Map` (strings and ' +
    'a boolean).';

  // 4b. One field of the nested entry changed later: last writer wins per field.
  files['update_nested_map_field.bin'] = captureUpdate(doc, (d) => {
    d.getMap('timeline').get('ev-7f3a9c').set('include_in_report', false);
  });
  expected['update_nested_map_field.bin'] = {
    kind: 'update',
    client: 1004,
    applies_after: ['update_nested_map.bin'],
    map: { timeline: { 'ev-7f3a9c': { ...EVENT, include_in_report: false } } },
  };
  notes['update_nested_map_field.bin'] =
    'Yjs v1 update, applied after `update_nested_map.bin`: sets `include_in_report` of the ' +
    'nested entry to false.';
}

// 5. A whole incident from two clients, as a relay would hand it to a late joiner.
const full = docWithClient(2001);
for (const name of [
  'update_text_insert.bin',
  'update_text_edit.bin',
  'update_text_unicode.bin',
  'update_map_set.bin',
  'update_nested_map.bin',
  'update_nested_map_field.bin',
]) {
  Y.applyUpdate(full, files[name]);
}
files['state_full.bin'] = Y.encodeStateAsUpdate(full);
files['state_vector_full.bin'] = Y.encodeStateVector(full);
const fullExpected = {
  text: {
    summary: full.getText('summary').toString(),
    details: full.getText('details').toString(),
  },
  map: { meta: full.getMap('meta').toJSON(), timeline: full.getMap('timeline').toJSON() },
};
const fullVector = Object.fromEntries(
  [...Y.decodeStateVector(files['state_vector_full.bin']).entries()].sort(([a], [b]) => a - b),
);
expected['state_full.bin'] = { kind: 'update', ...fullExpected, state_vector: fullVector };
notes['state_full.bin'] =
  '`Y.encodeStateAsUpdate` of a document holding all the updates above (clients 1001–1004): ' +
  'what a late joiner receives.';
expected['state_vector_full.bin'] = { kind: 'state_vector', state_vector: fullVector };
notes['state_vector_full.bin'] = '`Y.encodeStateVector` of that document (client → clock).';

// 6. y-protocols messages, each framed as on the websocket (varuint message type first).
files['msg_sync_step1_empty.bin'] = message((e) => {
  encoding.writeVarUint(e, MESSAGE_SYNC);
  syncProtocol.writeSyncStep1(e, new Y.Doc());
});
expected['msg_sync_step1_empty.bin'] = { kind: 'message', type: 'sync_step1', state_vector: {} };
notes['msg_sync_step1_empty.bin'] =
  'Sync step 1 from an empty document: `[0, 0, len, state vector with 0 clients]`.';

files['msg_sync_step1.bin'] = message((e) => {
  encoding.writeVarUint(e, MESSAGE_SYNC);
  syncProtocol.writeSyncStep1(e, full);
});
expected['msg_sync_step1.bin'] = { kind: 'message', type: 'sync_step1', state_vector: fullVector };
notes['msg_sync_step1.bin'] = 'Sync step 1 carrying the state vector of `state_full.bin`.';

files['msg_sync_step2.bin'] = message((e) => {
  encoding.writeVarUint(e, MESSAGE_SYNC);
  syncProtocol.writeSyncStep2(e, full); // no state vector given: the whole document
});
expected['msg_sync_step2.bin'] = { kind: 'message', type: 'sync_step2', ...fullExpected };
notes['msg_sync_step2.bin'] =
  'Sync step 2 answering an empty state vector: the whole document of `state_full.bin`.';

files['msg_sync_update.bin'] = message((e) => {
  encoding.writeVarUint(e, MESSAGE_SYNC);
  syncProtocol.writeUpdate(e, files['update_text_insert.bin']);
});
expected['msg_sync_update.bin'] = {
  kind: 'message',
  type: 'sync_update',
  text: { summary: SUMMARY },
};
notes['msg_sync_update.bin'] =
  'Sync update message (`[0, 2, len, update]`) carrying `update_text_insert.bin`.';

{
  const doc = docWithClient(3001);
  const awareness = new awarenessProtocol.Awareness(doc);
  const user = { name: 'Alice Responder', color: '#d33682' };
  awareness.setLocalState({ user, section: 'summary' });
  files['msg_awareness.bin'] = message((e) => {
    encoding.writeVarUint(e, MESSAGE_AWARENESS);
    encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(awareness, [3001]));
  });
  expected['msg_awareness.bin'] = {
    kind: 'message',
    type: 'awareness',
    clients: [{ client: 3001, clock: awareness.meta.get(3001).clock, state: { user, section: 'summary' } }],
  };
  notes['msg_awareness.bin'] =
    'Awareness message (`[1, len, awareness update]`) for client 3001 with a user name, colour ' +
    'and current section.';

  // Leaving: the state becomes null, with a higher clock.
  awareness.setLocalState(null);
  files['msg_awareness_removed.bin'] = message((e) => {
    encoding.writeVarUint(e, MESSAGE_AWARENESS);
    encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(awareness, [3001]));
  });
  expected['msg_awareness_removed.bin'] = {
    kind: 'message',
    type: 'awareness',
    clients: [{ client: 3001, clock: awareness.meta.get(3001).clock, state: null }],
  };
  notes['msg_awareness_removed.bin'] =
    'Awareness message for client 3001 leaving: JSON state `null`, clock one higher.';
  awareness.destroy();
}

files['msg_query_awareness.bin'] = message((e) => encoding.writeVarUint(e, MESSAGE_QUERY_AWARENESS));
expected['msg_query_awareness.bin'] = { kind: 'message', type: 'query_awareness' };
notes['msg_query_awareness.bin'] = 'Query-awareness message: the single byte `3`.';

// Write everything.
fs.mkdirSync(outDir, { recursive: true });
for (const [name, bytes] of Object.entries(files)) {
  fs.writeFileSync(path.join(outDir, name), Buffer.from(bytes));
}
fs.writeFileSync(
  path.join(outDir, 'expected.json'),
  JSON.stringify({ recorded_with: versions, fixtures: expected }, null, 2) + '\n',
);

const rows = Object.keys(files)
  .map((name) => `| \`${name}\` | ${files[name].length} | ${notes[name]} |`)
  .join('\n');
fs.writeFileSync(
  path.join(outDir, 'README.md'),
  `# Yjs byte fixtures

Bytes produced by stock JavaScript Yjs (yjs ${versions.yjs}, y-protocols ${versions['y-protocols']},
lib0 ${versions.lib0}), so Rust tests can prove that yrs decodes what the Yjs ecosystem sends.
Recorded by \`tests/support/record-fixtures.js\` (\`cd tests && npm run record-fixtures\`); every
document uses a fixed client id, so recording again writes the same bytes. Do not edit by hand.

\`expected.json\` says what each file decodes to: for updates, the resulting \`text\` roots
(\`Y.Text\` name → string) and \`map\` roots (\`Y.Map\` name → JSON); \`applies_after\` lists
updates to apply first; \`state_vector\` maps client id → clock. A JavaScript number that is
a 32-bit integer is written by lib0 as an integer (type 125, a varint), any other as a float64
(type 123): compare numbers by value. Text offsets in Yjs are UTF-16 code units.

Updates are Yjs **v1** encoding. Messages are framed as on the y-websocket wire: a varuint
message type (0 sync, 1 awareness, 3 query awareness), then for sync a varuint sync type
(0 step 1, 1 step 2, 2 update) and a length-prefixed payload; for awareness a length-prefixed
awareness update (\`[count, (client, clock, JSON state string)*]\`).

\`roots.json\` is not a Yjs recording: it is the model's list of the document's roots (name and
\`map\` or \`text\`), kept equal to \`incident/src/roots.rs\` by \`cargo test -p incident --test roots\`.

| file | bytes | what it is |
|---|---|---|
${rows}
`,
);
console.log(`wrote ${Object.keys(files).length} fixtures to ${outDir}`);
