// Triage in real Chromium against the real relay: severity and incident type set on one
// device and seen on another (banner and home page list), the new indicator kinds detected as
// typed and carried into STIX and MISP files that the STIX validator and PyMISP accept, and
// role hand-offs drawn as one line each that a person can hide, remembered after a reload.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, openIncident, shareLink } from './support/app.js';
import { addEvent, addIndicator, events, indicators } from './support/evidence.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.FIREBREAK_PYTHON || path.join(here, '..', '.venv', 'bin', 'python');

/** Runs tests/formats/check.py on the files (asynchronously, so the page keeps running). */
async function consumers(kind, files) {
  const { stdout } = await promisify(execFile)(python, [path.join(here, 'formats', 'check.py'), kind, ...files]);
  return stdout.trim().split('\n').map((line) => JSON.parse(line));
}

async function download(page, buttonId, dir) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.locator(`#${buttonId}`).click()]);
  const where = path.join(dir, file.suggestedFilename());
  await file.saveAs(where);
  return where;
}

function role(page, key) {
  return page.locator(`[data-testid="role"][data-role="${key}"]`);
}

test.describe('triage', () => {
  test('severity and type set on one device show in the other device’s banner and incident list', async ({ person, relay }) => {
    const a = await person('Alice');
    const b = await person('Bob');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'File servers encrypted' });
    await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });

    // Nothing decided yet: both say so.
    await expect(b.page.locator('#triage-banner')).toContainText('Severity not set');
    await expect(b.page.locator('#triage-banner')).toContainText('Type not set');
    await expect(b.page.getByLabel('Severity')).toHaveValue('');

    await a.page.getByLabel('Severity').selectOption({ label: 'SEV1' });
    await a.page.getByLabel('Incident type').selectOption({ label: 'Ransomware' });

    const banner = b.page.locator('#triage-banner');
    await expect(banner).toHaveAttribute('data-severity', 'sev1');
    await expect(banner).toHaveAttribute('data-type', 'ransomware');
    await expect(banner).toContainText('SEV1 — Critical');
    await expect(banner).toContainText('Ransomware');
    await expect(b.page.getByLabel('Severity')).toHaveValue('sev1');
    await expect(b.page.getByLabel('Incident type')).toHaveValue('ransomware');
    // The overview, the first thing someone joining reads, says it too.
    await expect(b.page.getByTestId('overview-severity')).toHaveText('SEV1 · Ransomware');

    // Bob's home page lists it with both.
    await b.page.goto(`${relay.url}/`);
    const item = b.page.getByTestId('known-incident').filter({ hasText: 'File servers encrypted' });
    await expect(item.locator('.severity-chip')).toHaveText('SEV1');
    await expect(item.locator('.type-chip')).toHaveText('Ransomware');

    // Last writer wins: Bob lowers it, Alice sees it; back to "Not set" too.
    await b.page.goBack();
    await b.page.getByLabel('Severity').selectOption({ label: 'SEV3' });
    await expect(a.page.locator('#triage-banner')).toHaveAttribute('data-severity', 'sev3');
    await a.page.getByLabel('Incident type').selectOption({ label: 'Not set' });
    await expect(b.page.locator('#triage-banner')).toContainText('Type not set');
  });

  test('new indicator kinds are detected and their STIX and MISP files pass the consumers', async ({ person, relay }) => {
    const a = await person('Alice');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Backdoored xz on build hosts' });
    await a.page.getByLabel('Severity').selectOption({ label: 'SEV2' });
    await a.page.getByLabel('Incident type').selectOption({ label: 'Exploited web app' });
    const typed = [
      ['CVE-2024-3094', 'cve', 'CVE'],
      ['HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\updater', 'registry_key', 'Registry key'],
      ['C:\\ProgramData\\updater', 'file_path', 'File path'],
      ['/usr/lib/.cache/kworker', 'file_path', 'File path'],
      ['build01.corp.local', 'hostname', 'Host name'],
      ['CORP\\svc-build', 'account', 'Account'],
    ];
    for (const [value] of typed) await addIndicator(a.page, value);
    await expect(indicators(a.page)).toHaveCount(typed.length);
    for (const [value, key, label] of typed) {
      const row = indicators(a.page).filter({ hasText: value.replace(/\./g, key === 'hostname' ? '[.]' : '.') });
      await expect(row, value).toHaveAttribute('data-kind', key);
      await expect(row.getByTestId('indicator-kind')).toHaveText(label);
    }
    // The kind select in the add form offers every new kind.
    const offered = await a.page.locator('#ioc-new-kind option').allTextContents();
    for (const label of ['CVE', 'Registry key', 'File path', 'Host name', 'Account']) expect(offered).toContain(label);
    await expectSynced(a.page);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-triage-'));
    try {
      await a.page.locator('#export-button').click();
      const stixFile = await download(a.page, 'export-stix', dir);
      const mispFile = await download(a.page, 'export-misp', dir);
      const [stix] = await consumers('stix', [stixFile]);
      expect(stix.problems).toEqual([]);
      expect(stix.types).toContain('vulnerability');
      expect(stix.patterns).toEqual(expect.arrayContaining([
        "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run\\\\updater']",
        "[file:name = 'updater' AND file:parent_directory_ref.path = 'C:\\\\ProgramData']",
        "[file:name = 'kworker' AND file:parent_directory_ref.path = '/usr/lib/.cache']",
        "[domain-name:value = 'build01.corp.local']",
        "[user-account:account_login = 'CORP\\\\svc-build']",
      ]));
      const bundle = JSON.parse(fs.readFileSync(stixFile, 'utf8'));
      const grouping = bundle.objects.find((o) => o.type === 'grouping');
      expect(grouping.labels).toEqual(['severity:SEV2', 'incident-type:exploited-web-app']);
      const vulnerability = bundle.objects.find((o) => o.type === 'vulnerability');
      expect(vulnerability.external_references).toEqual([{ source_name: 'cve', external_id: 'CVE-2024-3094' }]);

      const [misp] = await consumers('misp', [mispFile]);
      expect(misp.problems).toEqual([]);
      const typeOf = (value) => misp.attributes.find((x) => x.value === value)?.type;
      expect(typeOf('CVE-2024-3094')).toBe('vulnerability');
      expect(typeOf('HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\updater')).toBe('regkey');
      expect(typeOf('C:\\ProgramData\\updater')).toBe('filename');
      expect(typeOf('build01.corp.local')).toBe('hostname');
      expect(typeOf('CORP\\svc-build')).toBe('target-user');
      expect(misp.tags).toContain('firebreak:incident-type="exploited-web-app"');
      const event = JSON.parse(fs.readFileSync(mispFile, 'utf8')).Event;
      expect(event.threat_level_id).toBe('1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('role hand-offs are one compact line and can be hidden, remembered after a reload', async ({ person, relay }) => {
    const a = await person('Alice');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Laptop stolen from a car' });
    await addEvent(a.page, { what: 'Car broken into', when: '2026-11-21 07:30 UTC' });
    await role(a.page, 'commander').getByRole('button', { name: 'Take this role' }).click();
    await role(a.page, 'scribe').getByRole('button', { name: 'Take this role' }).click();

    const handoffs = a.page.locator('[data-testid="timeline-event"][data-handoff="true"]');
    const evidence = a.page.locator('[data-testid="timeline-event"]:not([data-handoff])');
    await expect(handoffs).toHaveCount(2);
    await expect(evidence).toHaveCount(1);
    await expect(handoffs.first()).toContainText('Alice took on the role of');
    // Compact: no edit button, one line, smaller than an ordinary event.
    await expect(handoffs.getByRole('button')).toHaveCount(0);
    await expect(evidence.getByRole('button', { name: 'Edit' })).toHaveCount(1);
    const [small, big] = await Promise.all([handoffs.first().boundingBox(), evidence.first().boundingBox()]);
    expect(small.height).toBeLessThan(big.height);
    const line = await handoffs.first().evaluate((el) => parseFloat(getComputedStyle(el).lineHeight) || 24);
    expect(small.height).toBeLessThan(line * 2);

    const toggle = a.page.getByLabel('Show role hand-offs');
    await expect(toggle).toBeChecked();
    await toggle.uncheck();
    await expect(handoffs).toHaveCount(0);
    await expect(evidence).toHaveCount(1);
    await expect(a.page.locator('#timeline-zone')).toContainText('2 role hand-offs hidden');

    await a.page.reload();
    await expect(a.page.locator('#text-summary')).toBeVisible();
    await expect(events(a.page)).toHaveCount(1);
    await expect(a.page.getByLabel('Show role hand-offs')).not.toBeChecked();
    // Still recorded: the roles show their holders and the hand-offs come back when asked.
    await expect(role(a.page, 'commander').getByTestId('role-holder')).toContainText('Alice');
    await a.page.getByLabel('Show role hand-offs').check();
    await expect(handoffs).toHaveCount(2);
  });
});
