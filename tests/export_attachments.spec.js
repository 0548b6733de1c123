// Attachments in the relay's exports, read by their consumers: the Markdown report rendered
// by a CommonMark renderer (markdown-it, HTML allowed) lists each file still attached with
// its SHA-256, a hostile file name as text, a removed file not at all, and a file on a RED
// event only for RED readers; the whole-incident file lists every attachment, removed ones
// with who and when; a file on an indicator is a `filename|sha256` attribute PyMISP and
// MISP's type table accept. The incident is written by a stock Yjs client in the model's shape
// (incident/src/attachments.rs).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import MarkdownIt from 'markdown-it';
import { test, expect } from './support/fixtures.js';
import { sha256 } from './support/files.js';
import { registeredIncident } from './support/incidents.js';
import { Y } from './support/yjs-client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.FIREBREAK_PYTHON || path.join(here, '..', '.venv', 'bin', 'python');
const HOSTILE = '<img src=x onerror=alert(1)> [x](javascript:alert(2)) *evil*.png';

function writeIncident(client) {
  const doc = client.doc;
  doc.transact(() => {
    const meta = doc.getMap('meta');
    meta.set('schema', 1);
    meta.set('title', 'Ransom note on a kiosk');
    meta.set('created_at', '2026-11-29T22:00:00Z');
    meta.set('tlp', 'AMBER');
    meta.set('zone', 'UTC');
    const event = (id, fields) => {
      const entry = new Y.Map();
      for (const [k, v] of Object.entries({ source: 'EDR', data_link: '', author: 'Dana', include_in_report: true, indicators: [], ...fields })) entry.set(k, v);
      doc.getMap('timeline').set(id, entry);
    };
    event('e1', { occurred_at: '2026-11-29T22:05:00Z', what: 'Root login from the internet' });
    event('e2', { occurred_at: '2026-11-29T23:00:00Z', what: 'Kiosk shows a ransom note', tlp: 'RED' });
    const indicator = new Y.Map();
    for (const [k, v] of Object.entries({ value: '203.0.113.7', kind: 'ipv4', sightings: 1, added_by: 'Dana', added_at: '2026-11-29T23:40:00Z' })) indicator.set(k, v);
    doc.getMap('indicators').set('i1', indicator);
    const attach = (id, fields) => {
      const entry = new Y.Map();
      for (const [k, v] of Object.entries({ content_type: 'text/plain', added_by: 'Dana', added_by_invite: 'inv-dana', ...fields })) entry.set(k, v);
      doc.getMap('attachments').set(id, entry);
    };
    attach('a1', { sha256: sha256('photo'), name: HOSTILE, size: 204816, content_type: 'image/png', attached_to: 'appendix', added_at: '2026-11-29T23:10:00Z' });
    attach('a2', { sha256: sha256('log'), name: 'auth.log', size: 76, attached_to: 'timeline:e1', added_at: '2026-11-29T23:20:00Z' });
    attach('a3', { sha256: sha256('draft'), name: 'draft.txt', size: 46, attached_to: 'appendix', added_at: '2026-11-29T23:30:00Z', removed_by: 'Sam', removed_at: '2026-11-29T23:45:00Z' });
    attach('a4', { sha256: sha256('kiosk'), name: 'kiosk-screen.png', size: 1000, content_type: 'image/png', attached_to: 'timeline:e2', added_at: '2026-11-29T23:40:00Z' });
    attach('a5', { sha256: sha256('pcap'), name: 'c2|beacon.pcap', size: 5000, content_type: 'application/octet-stream', attached_to: 'indicator:i1', added_at: '2026-11-29T23:50:00Z' });
  });
}

async function exported(relay, incident, token, format, tlp) {
  const response = await fetch(`${relay.url}/api/incidents/${incident}/export/${format}?tlp=${tlp}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status, text: await response.text() };
}

test('the report and the incident file list attachments with their hashes', async ({ relay, yclients }) => {
  const { incident, token, auth } = await registeredIncident(relay);
  const writer = yclients(relay.wsUrl, incident, { name: 'writer', ...auth });
  await writer.synced();
  writeIncident(writer);
  await expect
    .poll(async () => (await exported(relay, incident, token, 'markdown', 'red')).text, { timeout: 10_000 })
    .toContain('Attachments');

  const md = new MarkdownIt({ html: true, linkify: true });
  const red = md.render((await exported(relay, incident, token, 'markdown', 'red')).text);
  expect(red).toContain('<h2>Attachments</h2>');
  const table = red.slice(red.indexOf('<h2>Attachments</h2>'));
  const rows = [...table.matchAll(/<tr>\s*<td>([\s\S]*?)<\/tr>/g)].map((m) => m[1]);
  expect(rows).toHaveLength(4);
  expect(table).toContain('<td>Indicator: IPv4 203[.]0[.]113[.]7</td>');
  expect(table).toContain(`<td>${sha256('photo')}</td>`);
  expect(table).toContain(`<td>${sha256('log')}</td>`);
  expect(table).toContain('<td>Timeline: 2026-11-29 22:05 UTC — Root login from the internet</td>');
  expect(table).toContain('<td>200 KiB (204,816 bytes)</td>');
  // The hostile name arrives as text: escaped, no tag, link or emphasis.
  expect(table).toContain('&lt;img src=x onerror=alert(1)&gt; [x](javascript:alert(2)) *evil*.png');
  expect(red).not.toMatch(/<img|<script|href="javascript|<em>evil/i);
  // Removed: not in the report.
  expect(red).not.toContain('draft.txt');
  expect(red).not.toContain(sha256('draft'));

  const amber = md.render((await exported(relay, incident, token, 'markdown', 'amber')).text);
  expect(amber).toContain(sha256('log'));
  expect(amber).not.toContain('kiosk-screen.png');
  expect(amber).toContain('Left out because marked above TLP:AMBER: 1 timeline event and 1 attachment.');

  // The whole-incident file: only for RED readers (the event is RED), every attachment listed.
  const refused = await exported(relay, incident, token, 'incident', 'amber');
  expect(refused.status).toBe(400);
  expect(JSON.parse(refused.text).error).toContain('TLP:RED');
  const saved = JSON.parse((await exported(relay, incident, token, 'incident', 'red')).text);
  const listed = Object.fromEntries(saved.incident.attachments.map((a) => [a.id, a]));
  expect(Object.keys(listed).sort()).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
  expect(listed.a3).toMatchObject({ name: 'draft.txt', removed_by: 'Sam', removed_at: '2026-11-29T23:45:00Z', sha256: sha256('draft') });
  expect(listed.a1).toMatchObject({ name: HOSTILE, size: 204816, attached_to: 'appendix', added_by: 'Dana', added_at: '2026-11-29T23:10:00Z' });
  expect(listed.a4.tlp).toBe('RED');
  // The relay's copy carries no bytes and says which are not in it.
  expect(saved.attachments).toBeUndefined();
  expect(saved.attachments_left_out.sort()).toEqual([sha256('photo'), sha256('log'), sha256('draft'), sha256('kiosk'), sha256('pcap')].sort());

  // MISP: the file on the indicator, as PyMISP and MISP's type table see it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-attachments-'));
  try {
    const file = path.join(dir, 'misp.json');
    fs.writeFileSync(file, (await exported(relay, incident, token, 'misp', 'amber')).text);
    const { stdout } = await promisify(execFile)(python, [path.join(here, 'formats', 'check.py'), 'misp', file]);
    const [misp] = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(misp.problems).toEqual([]);
    expect(misp.attributes).toContainEqual({
      type: 'filename|sha256', category: 'External analysis', value: `c2_beacon.pcap|${sha256('pcap')}`, to_ids: false, tags: ['tlp:amber'],
    });
    expect(misp.attributes.map((a) => a.value).join()).not.toContain('auth.log');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
