// The report and the downloads, in real Chromium: made on the device from its copy (offline
// too), printed to PDF with the marking on every page (read back with pdftotext), and the
// Markdown download rendered by a CommonMark renderer with nothing of the incident as markup.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, joinFromLink, section, shareLink } from './support/app.js';
import { addEvent, addIndicator, editEvent, eventRow } from './support/evidence.js';

const XSS = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> [x](javascript:window.__xss=3)';

async function download(page, buttonId) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.locator(`#${buttonId}`).click()]);
  const where = await file.path();
  return { name: file.suggestedFilename(), text: fs.readFileSync(where, 'utf8') };
}

test.describe('report and downloads', () => {
  test('print a multi-page report with the marking on every page; download Markdown offline', async ({ person, relay }) => {
    const a = await person('Alice');
    await createIncident(a.page, relay.url, { name: 'Alice', title: `Ransomware ${XSS}` });
    await a.page.locator('#tlp').selectOption('AMBER');
    await section(a.page, 'summary').fill(`A clerk opened a fake invoice.\n${XSS}`);
    // Long enough for several printed pages.
    const appendix = Array.from({ length: 160 }, (_, i) => `Log line ${i + 1}: beacon to 203.0.113.7 from host-${i}`).join('\n');
    await section(a.page, 'appendix').fill(appendix);
    await addEvent(a.page, { what: 'Clerk opens the invoice', when: '2026-11-29 22:05' });
    await addIndicator(a.page, '203.0.113.7');
    await expectSynced(a.page);

    // Offline: everything below is made on the device.
    await a.context.setOffline(true);
    await a.page.locator('#export-button').click();
    await expect(a.page.locator('#export-left-out')).toContainText('Nothing is marked above TLP:AMBER');

    const markdown = await download(a.page, 'export-markdown');
    expect(markdown.name).toMatch(/^ransomware-.*\.md$/);
    const html = new MarkdownIt({ html: true, linkify: true }).render(markdown.text);
    expect(html).toContain('<h2>Summary</h2>');
    expect(html).toContain('<h2>Timeline</h2>');
    expect(html).toMatch(/<td>203\[\.\]0\[\.\]113\[\.\]7<\/td>/);
    expect(html).not.toMatch(/<img|<script|href="javascript/i);

    const stix = JSON.parse((await download(a.page, 'export-stix')).text);
    expect(stix.objects.filter((o) => o.type === 'indicator').map((o) => o.pattern)).toEqual(["[ipv4-addr:value = '203.0.113.7']"]);

    // A GREEN audience: the AMBER incident's content is withheld and the panel says so.
    await a.page.locator('#export-tlp').selectOption('GREEN');
    await expect(a.page.locator('#export-left-out')).toContainText('Left out for TLP:GREEN: 1 indicator');
    const green = await download(a.page, 'export-markdown');
    expect(green.text).not.toContain('Ransomware');
    expect(green.text).not.toContain('fake invoice');

    await a.page.locator('#export-tlp').selectOption('AMBER');
    await a.page.locator('#export-print').click();
    const report = a.page.locator('article.report');
    await expect(report).toHaveAttribute('data-marking', 'TLP:AMBER');
    await expect(report.locator('h1')).toHaveText(`Ransomware ${XSS}`);
    await expect(a.page.locator('#text-summary')).toBeHidden();
    expect(await a.page.evaluate(() => window.__xss)).toBeUndefined();

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-report-'));
    try {
      for (const format of ['A4', 'Letter']) {
        const pdf = path.join(dir, `report-${format}.pdf`);
        // As a person's print dialog does: the page's own margins, where the marking is printed.
        await a.page.pdf({ path: pdf, format, margin: { top: '18mm', bottom: '18mm', left: '14mm', right: '14mm' } });
        const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
        const pages = text.split('\f').filter((p) => p.trim());
        expect(pages.length, `${format}: several pages`).toBeGreaterThan(2);
        pages.forEach((page, i) => {
          expect(page, `${format} page ${i + 1} carries the marking`).toContain('TLP:AMBER');
          expect(page, `${format} page ${i + 1} is numbered`).toContain(`Page ${i + 1} of ${pages.length}`);
        });
        expect(text).not.toContain('All incidents');
        expect(text).not.toContain('Print / Save as PDF');
        expect(text).toContain('Log line 160');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await a.page.locator('#report-close').click();
    await expect(a.page.locator('#text-summary')).toBeVisible();

    // The executive summary of the same incident is one page, marked (the panel is still open).
    await a.page.locator('#export-print-summary').click();
    await expect(a.page.locator('article.report')).toHaveAttribute('data-marking', 'TLP:AMBER');
    const summaryPdf = path.join(os.tmpdir(), `firebreak-summary-${process.pid}.pdf`);
    try {
      await a.page.pdf({ path: summaryPdf, format: 'A4', margin: { top: '18mm', bottom: '18mm', left: '14mm', right: '14mm' } });
      const pages = execFileSync('pdftotext', ['-layout', summaryPdf, '-'], { encoding: 'utf8' })
        .split('\f')
        .filter((p) => p.trim());
      expect(pages.length, 'the executive summary fits one page').toBe(1);
      expect(pages[0]).toContain('TLP:AMBER');
      expect(pages[0]).toContain('Page 1 of 1');
      expect(pages[0]).not.toContain('Log line');
    } finally {
      fs.rmSync(summaryPdf, { force: true });
    }
    await a.page.locator('#report-close').click();
  });

  test('a viewer can export and print though it cannot edit', async ({ person, relay }) => {
    const a = await person('Alice');
    const v = await person('Victor');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Board briefing' });
    await section(a.page, 'summary').fill('Contained at 04:00; no customer data involved.');
    await expectSynced(a.page);
    await joinFromLink(v.page, await shareLink(a.page, { role: 'viewer', name: 'Victor' }), { name: 'Victor' });
    await expect(section(v.page, 'summary')).toHaveValue('Contained at 04:00; no customer data involved.');
    await expect(section(v.page, 'summary')).toBeDisabled();
    await v.page.locator('#export-button').click();
    const summary = await download(v.page, 'export-summary');
    expect(summary.text).toContain('Contained at 04:00');
    await v.page.locator('#export-print-summary').click();
    await expect(v.page.locator('article.report h1')).toHaveText('Board briefing');
  });

  test('an incident file opens offline in a fresh browser as a new incident, and goes on the relay once online', async ({ person, relay }) => {
    const a = await person('Alice');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Lost laptop' });
    await section(a.page, 'summary').fill('A laptop was left on a train at 07:40.');
    await addEvent(a.page, { what: 'Laptop reported missing', when: '2026-11-30 08:10' });
    await addIndicator(a.page, 'laptop-0042.corp.example', 'hostname');
    await expectSynced(a.page);
    await a.page.locator('#export-button').click();
    const saved = await download(a.page, 'export-incident-file');
    expect(saved.name).toBe('lost-laptop.firebreak.json');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-file-'));
    const file = path.join(dir, saved.name);
    fs.writeFileSync(file, saved.text);
    const cut = path.join(dir, 'cut.firebreak.json');
    fs.writeFileSync(cut, saved.text.slice(0, saved.text.length / 2));
    const newer = path.join(dir, 'newer.firebreak.json');
    fs.writeFileSync(newer, saved.text.replace('"version": 1', '"version": 9'));
    try {
      // A fresh profile that has loaded the app once, then lost the network.
      const b = await person('Bea');
      await b.page.goto(`${relay.url}/`);
      // The list of incidents is fetched on demand (its own wasm module): loaded once means shown.
      await expect(b.page.locator('#open-file')).toBeAttached();
      await b.context.setOffline(true);
      for (const [bad, reason] of [[cut, 'cut short'], [newer, 'newer Firebreak']]) {
        await b.page.locator('#open-file').setInputFiles(bad);
        await expect(b.page.locator('#open-file-problem')).toContainText(reason);
      }
      expect(new URL(b.page.url()).pathname).toBe('/');
      await b.page.locator('#open-file').setInputFiles(file);
      await b.page.waitForURL(/\/incident\//);
      await expect(section(b.page, 'summary')).toHaveValue('A laptop was left on a train at 07:40.');
      await expect(b.page.locator('[data-testid="timeline-event"]').filter({ hasText: 'Laptop reported missing' })).toHaveCount(1);
      const copyId = new URL(b.page.url()).pathname.split('/')[2];
      const originalId = new URL(a.page.url()).pathname.split('/')[2];
      expect(copyId).not.toBe(originalId);

      // Back online: the copy is put on the relay as a new incident, owned by this device.
      await b.context.setOffline(false);
      await b.page.evaluate(() => window.dispatchEvent(new Event('online')));
      await expect(b.page.locator('main.incident-page')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });
      await expectSynced(b.page);
      // The original is untouched by the copy's edits.
      await section(b.page, 'summary').fill('Edited in the copy.');
      await expectSynced(b.page);
      await expect(section(a.page, 'summary')).toHaveValue('A laptop was left on a train at 07:40.');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a timeline CSV goes out of one incident and into another unchanged; a spreadsheet file imports what it can', async ({ person, relay }) => {
    const a = await person('Alice');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Source' });
    await addIndicator(a.page, '203.0.113.7');
    await addEvent(a.page, { what: '=HYPERLINK("http://evil") pasted from a log, with "quotes", commas', when: '2026-11-29 22:05' });
    await addEvent(a.page, { what: 'Two\nlines', when: '2026-11-29 23:15 Europe/Berlin' });
    await a.page.locator('#export-button').click();
    const first = await download(a.page, 'export-timeline-csv');
    expect(first.text).toContain(`"'=HYPERLINK(`);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-csv-'));
    try {
      const exported = path.join(dir, 'timeline.csv');
      fs.writeFileSync(exported, first.text);
      await createIncident(a.page, relay.url, { name: 'Alice', title: 'Target' });
      await a.page.locator('.tl-import summary').click();
      await a.page.locator('#tl-import-file').setInputFiles(exported);
      await expect(a.page.locator('#tl-import-result')).toContainText('Added 2 events.');
      await a.page.locator('#export-button').click();
      const again = await download(a.page, 'export-timeline-csv');
      // Export → import → export: the same file (ids, times as typed, zones, authors included).
      expect(again.text).toBe(first.text);

      const sheet = path.join(dir, 'sheet.csv');
      fs.writeFileSync(sheet, 'What,Occurred At,Remarks\r\nVPN login from a new country,2026-11-30 03:00,ok\r\n,2026-11-30 03:10,no text\r\nBroken time,tomorrowish,\r\n');
      await a.page.locator('#tl-import-file').setInputFiles(sheet);
      const result = a.page.locator('#tl-import-result');
      await expect(result).toContainText('Added 1 event. 2 rows were not imported:');
      await expect(result).toContainText('Line 3:');
      await expect(result).toContainText('Line 4: occurred_at');
      await expect(result).toContainText('Columns not read: remarks.');
      await expect(a.page.locator('[data-testid="timeline-event"]').filter({ hasText: 'VPN login from a new country' })).toHaveCount(1);

      const notOurs = path.join(dir, 'not-ours.csv');
      fs.writeFileSync(notOurs, 'name,value\r\na,b\r\n');
      const before = await a.page.locator('[data-testid="timeline-event"]').count();
      await a.page.locator('#tl-import-file').setInputFiles(notOurs);
      await expect(result).toContainText('not a Firebreak timeline file');
      await expect(a.page.locator('[data-testid="timeline-event"]')).toHaveCount(before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an event and a section can carry their own TLP level, and exports follow it', async ({ person, relay }) => {
    const a = await person('Alice');
    const b = await person('Bob');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Insider case' });
    await joinFromLink(b.page, await shareLink(a.page, { role: 'editor', name: 'Bob' }), { name: 'Bob' });
    await section(a.page, 'summary').fill('A contractor copied files.');
    await section(a.page, 'lessons').fill('Offboarding must revoke VPN access the same day.');
    await a.page.locator('#tlp-lessons').selectOption('GREEN');
    await addEvent(a.page, { what: 'HR names the contractor', when: '2026-11-30 09:00' });
    await addEvent(a.page, { what: 'Copy to a USB stick detected', when: '2026-11-30 08:00' });
    const editor = await editEvent(eventRow(a.page, 'HR names the contractor'));
    await editor.getByLabel('TLP').selectOption('RED');
    // Everyone sees the event's and the section's own level.
    await expect(eventRow(b.page, 'HR names the contractor').getByTestId('event-tlp')).toHaveText('TLP:RED');
    await expect(b.page.locator('#tlp-lessons')).toHaveValue('GREEN');
    await expectSynced(a.page);

    await a.page.locator('#export-button').click();
    await expect(a.page.locator('#export-left-out')).toContainText('Left out for TLP:AMBER: 1 timeline event');
    const amber = await download(a.page, 'export-markdown');
    expect(amber.text).toContain('Copy to a USB stick detected');
    expect(amber.text).not.toContain('HR names the contractor');
    await a.page.locator('#export-tlp').selectOption('GREEN');
    const green = await download(a.page, 'export-markdown');
    expect(green.text).toContain('Offboarding must revoke VPN access the same day.');
    expect(green.text).not.toContain('contractor copied');
    expect(green.text).not.toContain('USB stick');
    expect(green.text).toMatch(/^\*\*TLP:GREEN\*\*/);
    await a.page.locator('#export-tlp').selectOption('RED');
    const red = await download(a.page, 'export-timeline-csv');
    expect(red.text).toMatch(/HR names the contractor,.*,RED,/);
  });
});
