// The relay's exports (GET /api/incidents/{id}/export/{format}) handed to the tools that
// consume them: the OASIS STIX validator and the stix2 library, PyMISP with MISP's schema and
// type/category table, and a CommonMark renderer (markdown-it, HTML allowed, as lax as a wiki
// can be). The incident is written by a stock Yjs client, the way any peer would write it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import MarkdownIt from 'markdown-it';
import { test, expect } from './support/fixtures.js';
import { registeredIncident } from './support/incidents.js';
import { deviceFor, request } from './support/access.js';
import { Y } from './support/yjs-client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.FIREBREAK_PYTHON || path.join(here, '..', '.venv', 'bin', 'python');
const XSS = '<img src=x onerror=alert(1)> <script>alert(2)</script> [click](javascript:alert(3)) <a href="javascript:alert(4)">a</a>';

/** Writes an incident the way the model stores one (see incident/tests/fixtures/roots.json). */
function writeIncident(client) {
  const doc = client.doc;
  doc.transact(() => {
    const meta = doc.getMap('meta');
    meta.set('schema', 1);
    meta.set('title', `Ransomware ${XSS}`);
    meta.set('created_at', '2026-11-29T22:10:00Z');
    meta.set('classification', 'Confidential');
    meta.set('tlp', 'AMBER');
    meta.set('zone', 'Europe/Berlin');
    doc.getText('summary').insert(0, `A clerk opened a fake invoice.\n${XSS}\n# not a heading`);
    const indicator = (id, fields) => {
      const entry = new Y.Map();
      for (const [k, v] of Object.entries({ sightings: 1, added_by: 'Dana', added_at: '2026-11-29T23:40:00Z', ...fields })) entry.set(k, v);
      doc.getMap('indicators').set(id, entry);
    };
    indicator('i1', { value: '203.0.113.7', kind: 'ipv4', tlp: 'GREEN', note: 'C2' });
    indicator('i2', { value: 'https://evil.example/pay?id=1\'2\\x', kind: 'url' });
    indicator('i3', { value: 'evil.example', kind: 'domain' });
    indicator('i4', { value: '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f', kind: 'sha256' });
    indicator('i5', { value: '44d88612fea8a8f36de82e1278abb02f', kind: 'md5' });
    indicator('i6', { value: 'billing@evil.example', kind: 'email' });
    indicator('i7', { value: 'invoice.pdf.exe', kind: 'file_name' });
    indicator('i8', { value: 'svc-backup', kind: 'account' });
    indicator('i9', { value: '198.51.100.99', kind: 'ipv4', tlp: 'RED' });
    indicator('i10', { value: '2001:db8::66', kind: 'ipv6' });
    const event = new Y.Map();
    for (const [k, v] of Object.entries({
      occurred_at: '2026-11-29T22:07:00Z', what: `=cmd|' /C calc'!A0 ${XSS}`, source: 'EDR',
      data_link: '', author: 'Dana', include_in_report: true, indicators: ['i1', 'i9'],
    })) event.set(k, v);
    doc.getMap('timeline').set('e1', event);
  });
}

async function exported(relay, incident, token, format, tlp, device) {
  const query = tlp ? `?tlp=${encodeURIComponent(tlp)}` : '';
  const headers = { authorization: `Bearer ${token}` };
  if (device) headers['x-firebreak-device'] = device;
  const response = await fetch(`${relay.url}/api/incidents/${incident}/export/${format}${query}`, { headers });
  return { status: response.status, type: response.headers.get('content-type'), disposition: response.headers.get('content-disposition'), text: await response.text() };
}

/** Runs tests/formats/check.py (asynchronously: the relay's idle connections must be seen to close). */
async function consumers(kind, files) {
  const { stdout } = await promisify(execFile)(python, [path.join(here, 'formats', 'check.py'), kind, ...files]);
  return stdout.trim().split('\n').map((line) => JSON.parse(line));
}

test.describe('exports through the relay, checked by their consumers', () => {
  test('STIX, MISP, Markdown and CSV for three audiences', async ({ relay, yclients }) => {
    const { incident, token, auth } = await registeredIncident(relay);
    const writer = yclients(relay.wsUrl, incident, { name: 'writer', ...auth });
    await writer.synced();
    writeIncident(writer);
    await expect
      .poll(async () => (await exported(relay, incident, token, 'markdown')).text, { timeout: 10_000 })
      .toContain('A clerk opened a fake invoice');

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-exports-'));
    try {
      const stixFiles = [];
      const mispFiles = [];
      for (const tlp of ['green', 'amber', 'red']) {
        const stix = await exported(relay, incident, token, 'stix', tlp);
        expect(stix.status).toBe(200);
        expect(stix.type).toContain('application/stix+json');
        stixFiles.push(path.join(dir, `stix-${tlp}.json`));
        fs.writeFileSync(stixFiles.at(-1), stix.text);
        const misp = await exported(relay, incident, token, 'misp', tlp);
        mispFiles.push(path.join(dir, `misp-${tlp}.json`));
        fs.writeFileSync(mispFiles.at(-1), misp.text);
      }
      const stixResults = await consumers('stix', stixFiles);
      for (const r of stixResults) expect(r.problems, r.file).toEqual([]);
      const [greenStix, amberStix] = stixResults;
      expect(greenStix.patterns).toEqual(["[ipv4-addr:value = '203.0.113.7']"]);
      expect(amberStix.patterns).toContain("[url:value = 'https://evil.example/pay?id=1\\'2\\\\x']");
      expect(amberStix.patterns.join()).not.toContain('198.51.100.99');
      expect(amberStix.types).toEqual(['grouping', 'identity', 'indicator', 'marking-definition']);

      const mispResults = await consumers('misp', mispFiles);
      for (const r of mispResults) expect(r.problems, r.file).toEqual([]);
      const [greenMisp, amberMisp, redMisp] = mispResults;
      expect(greenMisp.attributes.map((a) => a.value)).toEqual(['203.0.113.7']);
      expect(greenMisp.tags).toEqual(['tlp:green']);
      expect(amberMisp.attributes.map((a) => a.value)).not.toContain('198.51.100.99');
      expect(redMisp.attributes.find((a) => a.value === '198.51.100.99').tags).toEqual(['tlp:red']);
      expect(amberMisp.attributes.find((a) => a.value === 'svc-backup')).toMatchObject({ type: 'target-user', to_ids: false });

      // Markdown: the renderer may pass HTML through, so nothing of ours may be HTML.
      const md = new MarkdownIt({ html: true, linkify: true });
      const amber = await exported(relay, incident, token, 'markdown', 'amber');
      expect(amber.disposition).toMatch(/attachment; filename=".+\.md"/);
      const html = md.render(amber.text);
      expect(html).toContain('<h1>Ransomware &lt;img src=x onerror=alert(1)&gt;');
      for (const heading of ['Summary', 'Timeline', 'Indicators']) expect(html).toContain(`<h2>${heading}</h2>`);
      expect(html).toMatch(/<table>[\s\S]*<th>Value<\/th>[\s\S]*evil\[\.\]example/);
      expect(html).toContain('# not a heading');
      expect(html).not.toMatch(/<img|<script|<a href="javascript|href="javascript/i);
      expect(html).not.toContain('198[.]51');
      const green = md.render((await exported(relay, incident, token, 'markdown', 'green')).text);
      expect(green).not.toContain('Ransomware');
      expect(green).not.toContain('fake invoice');
      expect(green).toContain('203[.]0[.]113[.]7');
      expect(green).toMatch(/Left out because marked above TLP:GREEN: 9 indicators, 1 timeline event and 1 section\./);

      const timeline = await exported(relay, incident, token, 'timeline.csv', 'amber');
      expect(timeline.type).toContain('text/csv');
      // The cell is quoted (it holds quotes and commas) and starts with ' so no spreadsheet runs it.
      expect(timeline.text).toContain(`,"'=cmd|`);
      expect(timeline.text).toContain('203.0.113.7');
      expect(timeline.text).not.toContain('198.51.100.99');
      const indicators = await exported(relay, incident, token, 'indicators.csv', 'red');
      expect(indicators.text).toContain('198.51.100.99');

      // The whole incident: only for readers cleared for its RED indicator.
      const refused = await exported(relay, incident, token, 'incident', 'amber');
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.text).error).toContain('TLP:RED');
      const file = await exported(relay, incident, token, 'incident', 'red');
      expect(file.disposition).toMatch(/\.firebreak\.json"$/);
      const saved = JSON.parse(file.text);
      expect(saved).toMatchObject({ format: 'firebreak-incident', version: 1, saved_from: incident });
      expect(saved.incident.indicators.map((i) => i.value)).toContain('198.51.100.99');
      // Its state is the document itself: stock Yjs reads it.
      const copy = new Y.Doc();
      Y.applyUpdate(copy, Buffer.from(saved.state, 'base64'));
      expect(copy.getText('summary').toString()).toContain('A clerk opened a fake invoice');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a viewer may export on its own device, a stranger may not, and bad requests say why', async ({ relay }) => {
    const { incident, token } = await registeredIncident(relay);
    const viewer = (await request(relay.url, 'POST', `/api/incidents/${incident}/invites`, {
      token, body: { name: 'Exec', role: 'viewer' },
    })).json;
    // An invite exports only with its device id, and only on the device it is bound to.
    expect((await exported(relay, incident, viewer.token, 'summary')).status).toBe(428);
    expect((await exported(relay, incident, viewer.token, 'summary', undefined, deviceFor(viewer.token))).status).toBe(200);
    const elsewhere = await exported(relay, incident, viewer.token, 'summary', undefined, 'another-device-0123456789');
    expect(elsewhere.status).toBe(409);
    expect((await exported(relay, incident, 'nonsense', 'stix')).status).toBe(403);
    const missing = await fetch(`${relay.url}/api/incidents/${incident}/export/stix`);
    expect(missing.status).toBe(401);
    const format = await exported(relay, incident, token, 'pdf');
    expect(format.status).toBe(400);
    expect(JSON.parse(format.text).error).toContain('markdown, summary, stix, misp, timeline.csv, indicators.csv, incident');
    const tlp = await exported(relay, incident, token, 'stix', 'purple');
    expect(tlp.status).toBe(400);
    expect(JSON.parse(tlp.text).error).toContain('not a TLP level');
  });
});
