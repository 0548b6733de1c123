// The timeline and the indicators of compromise, in real Chromium against the real relay:
// times typed in any zone shown in one, corrections, deletes that ask first, concurrent
// additions, bulk-pasted indicators shown defanged and copied raw, links between the two,
// the kill chain by phase, and all of it on a phone.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, incidentUrl, openIncident, shareLink, tokenOf } from './support/app.js';
import {
  addEvent,
  addIndicator,
  correct,
  editEvent,
  eventRow,
  eventTimes,
  eventWhats,
  events,
  indicatorList,
  indicatorRow,
  indicators,
  pageWidth,
  pasteIndicators,
  seedTimeline,
  watchTimelineRendering,
} from './support/evidence.js';
import { Y } from './support/yjs-client.js';

const artifacts = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-results', 'artifacts');

/** A creates an incident, B opens A's link; both synced. */
async function twoPeople(person, relay, title, options = {}) {
  const a = await person('A', options);
  const b = await person('B', options);
  await createIncident(a.page, relay.url, { name: 'Alice', title });
  await expectSynced(a.page);
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page);
  return { a, b };
}

test.describe('timeline', () => {
  test('events typed in any zone show sorted in UTC; corrected, they move; deleting asks first', async ({
    person,
    relay,
  }) => {
    const { a, b } = await twoPeople(person, relay, 'Timeline order');
    await expect(a.page.locator('#timeline-zone')).toContainText('Times in UTC');

    // Out of order: now first, then a Berlin wall-clock time, then an earlier UTC one.
    await addEvent(a.page, { what: 'Mailbox rule found' });
    await expect(events(a.page)).toHaveCount(1);
    await addEvent(a.page, { what: 'Phishing mail delivered', when: '2020-11-22 03:14 Europe/Berlin' });
    await addEvent(a.page, { what: 'Attacker registered the domain', when: '2020-11-22 01:30' });
    await expect(events(a.page)).toHaveCount(3);

    const inOrder = ['Attacker registered the domain', 'Phishing mail delivered', 'Mailbox rule found'];
    await expect.poll(() => eventWhats(a.page)).toEqual(inOrder);
    const times = await eventTimes(a.page);
    expect(times.slice(0, 2)).toEqual(['2020-11-22 01:30 UTC', '2020-11-22 02:14 UTC']);
    // "Now" is today, in UTC, to the minute.
    const today = new Date().toISOString().slice(0, 10);
    expect(times[2]).toMatch(new RegExp(`^${today} \\d\\d:\\d\\d UTC$`));
    // The Berlin one says how it was typed.
    await expect(eventRow(a.page, 'Phishing mail delivered')).toContainText('typed as 2020-11-22 03:14 Europe/Berlin');
    await expect(eventRow(a.page, 'Attacker registered the domain')).not.toContainText('typed as');

    // A time nobody can read is refused next to the field, and nothing is added.
    await addEvent(a.page, { what: 'Never added', when: 'next tuesday-ish' });
    await expect(a.page.locator('#tl-new-when-error[role="alert"]')).toContainText('not a time');
    await expect(events(a.page)).toHaveCount(3);
    await expect(a.page.locator('#tl-new-what')).toHaveValue('Never added');
    await a.page.locator('#tl-new-what').fill('');
    await a.page.locator('#tl-new-when').fill('');

    // The second person sees the same order and the same times.
    await expect.poll(() => eventWhats(b.page)).toEqual(inOrder);
    expect(await eventTimes(b.page)).toEqual(times);

    // Correcting a time moves the event.
    const domain = eventRow(a.page, 'Attacker registered the domain');
    let editor = await editEvent(domain);
    const when = editor.getByLabel('When (UTC)');
    await expect(when).toHaveValue('2020-11-22 01:30 UTC');
    await correct(when, '2020-11-22 04:00');
    const moved = ['Phishing mail delivered', 'Attacker registered the domain', 'Mailbox rule found'];
    await expect.poll(() => eventWhats(a.page)).toEqual(moved);
    await expect.poll(() => eventWhats(b.page)).toEqual(moved);
    await expect(eventRow(b.page, 'Attacker registered the domain').getByTestId('event-time')).toHaveText(
      '2020-11-22 04:00 UTC',
    );
    // Its fields stay open for more corrections after it moved; a bad time is refused there too.
    editor = eventRow(a.page, 'Attacker registered the domain').getByRole('group', { name: 'Correct this event' });
    await expect(editor).toBeVisible();
    await correct(editor.getByLabel('When (UTC)'), '31:99');
    await expect(editor.getByRole('alert')).toContainText('not a real date and time');
    await expect(eventRow(a.page, 'Attacker registered the domain').getByTestId('event-time')).toHaveText(
      '2020-11-22 04:00 UTC',
    );
    await correct(editor.getByLabel('Source'), 'registrar WHOIS');
    await expect(eventRow(b.page, 'Attacker registered the domain')).toContainText('Source: registrar WHOIS');
    await editor.getByRole('button', { name: 'Done' }).click();
    await expect(a.page.getByRole('group', { name: 'Correct this event' })).toHaveCount(0);

    // Deleting asks first: No keeps the event, Yes removes it, for both people.
    const phish = eventRow(a.page, 'Phishing mail delivered');
    editor = await editEvent(phish);
    await editor.getByRole('button', { name: 'Delete' }).click();
    await expect(editor).toContainText('Delete this event?');
    await editor.getByRole('button', { name: 'No', exact: true }).click();
    await expect(events(a.page)).toHaveCount(3);
    await expect(editor.getByRole('button', { name: 'Delete' })).toBeVisible();
    await editor.getByRole('button', { name: 'Delete' }).click();
    await editor.getByRole('button', { name: 'Yes', exact: true }).click();
    const left = ['Attacker registered the domain', 'Mailbox rule found'];
    await expect.poll(() => eventWhats(a.page)).toEqual(left);
    await expect.poll(() => eventWhats(b.page)).toEqual(left);
  });

  test('two people adding events at the same moment both keep both', async ({ person, relay }) => {
    const { a, b } = await twoPeople(person, relay, 'Concurrent events');
    await Promise.all([
      addEvent(a.page, { what: 'Alice saw the alert', when: '2020-05-01 10:00' }),
      addEvent(b.page, { what: 'Bob saw the alert', when: '2020-05-01 10:00' }),
    ]);
    await Promise.all([
      addEvent(a.page, { what: 'Alice isolated the host', when: '2020-05-01 10:05' }),
      addEvent(b.page, { what: 'Bob called the vendor', when: '2020-05-01 10:02' }),
    ]);
    for (const page of [a.page, b.page]) await expect(events(page)).toHaveCount(4);
    await expectSynced(a.page);
    await expectSynced(b.page);
    const order = await eventWhats(a.page);
    expect(order.slice(2)).toEqual(['Bob called the vendor', 'Alice isolated the host']);
    expect(order.slice(0, 2).sort()).toEqual(['Alice saw the alert', 'Bob saw the alert']);
    // Same time: the same tie-break on both devices.
    expect(await eventWhats(b.page)).toEqual(order);
    await expect(eventRow(b.page, 'Alice saw the alert')).toContainText('by Alice');
    await expect(eventRow(a.page, 'Bob saw the alert')).toContainText('by Bob');
  });
});

test.describe('a large incident', () => {
  test('5,000 events: the first rows show on their own, and editing works', async ({
    person,
    relay,
    yclients,
  }) => {
    // The trace of a failing run snapshots 5,000 rows at every step: slow, but not the app.
    test.setTimeout(120_000);
    const N = 5000;
    const a = await person('A');
    const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Big import' });
    await expectSynced(a.page);
    const link = incidentUrl(a.page);
    // The importer is invited like anyone else, and joins with its own token.
    const token = tokenOf(await shareLink(a.page, { name: 'Importer' }));
    await a.page.goto('about:blank');

    const importer = yclients(relay.wsUrl, id, { name: 'importer', params: { token } });
    await importer.synced();
    seedTimeline(importer, Y, N);

    await watchTimelineRendering(a.page);
    await a.page.goto(link);
    // Windowed (issue 19): the list names all 5,000, only rows near the screen are drawn.
    await expect(a.page.locator('#timeline-list')).toHaveAttribute('aria-label', 'Timeline — 5,000 events', { timeout: 30_000 });
    await expect(a.page.locator('#timeline-zone')).toContainText('5,000 events');
    expect(await events(a.page).count()).toBeLessThan(N);
    const perf = await a.page.evaluate(() => window.__evidencePerf);
    await test.info().attach('timeline rendering', { body: JSON.stringify(perf), contentType: 'application/json' });
    // The page is not frozen drawing every row in one go: only the rows near the screen are
    // drawn (tests/windowing.spec.js covers the rest). How long that takes is a figure (printed here, and measured
    // in tests/bench/render.js), not a bound a loaded machine could trip.
    expect(perf.rowsAtFirst, JSON.stringify(perf)).toBeLessThan(N);
    console.log(
      `5,000 events: first row at ${perf.firstRow} ms (${perf.rowsAtFirst} rows), ` +
        `longest task ${Math.max(0, ...perf.longTasks)} ms`,
    );

    // Sorted: the first rows are the earliest minutes.
    expect((await eventTimes(a.page)).slice(0, 3)).toEqual([
      '2020-01-01 00:00 UTC',
      '2020-01-01 00:01 UTC',
      '2020-01-01 00:02 UTC',
    ]);

    // Adding, correcting and a remote change each show up quickly.
    const started = Date.now();
    await addEvent(a.page, { what: 'Import checked by Alice', when: '2020-01-01 00:00:30' });
    await expect(events(a.page).nth(1).getByTestId('event-what')).toHaveText('Import checked by Alice');
    await expect(a.page.locator('#timeline-list')).toHaveAttribute('aria-label', 'Timeline — 5,001 events');
    const row = events(a.page).nth(2);
    const editor = await editEvent(row);
    await correct(editor.getByLabel('What happened'), 'Seeded event, corrected');
    await expect(events(a.page).nth(2).getByTestId('event-what')).toHaveText('Seeded event, corrected');
    importer.map('timeline').get('seed-000000').set('what', 'Changed by the importer');
    await expect(events(a.page).first().getByTestId('event-what')).toHaveText('Changed by the importer');
    console.log(`5,000 events: add, correct and a remote change shown in ${Date.now() - started} ms`);
    await expectSynced(a.page);
  });
});

test.describe('indicators of compromise', () => {
  test('bulk paste: counts, each once, shown defanged, typed; copy raw; markup stays text', async ({
    person,
    relay,
  }) => {
    const clipboard = { permissions: ['clipboard-read', 'clipboard-write'] };
    const { a, b } = await twoPeople(person, relay, 'IOC paste', clipboard);
    const dialogs = [];
    for (const page of [a.page, b.page]) page.on('dialog', (d) => dialogs.push(d.message()) && d.dismiss());

    // One already known, typed the plain way; the type shows as it is typed.
    await a.page.locator('#ioc-new-value').fill('evil.example');
    await expect(a.page.locator('#ioc-new-detected')).toHaveText('Detected: Domain');
    await a.page.getByRole('button', { name: 'Add indicator' }).click();
    await expect(indicators(a.page)).toHaveCount(1);
    // The same one again is refused with a reason.
    await addIndicator(a.page, 'evil[.]example');
    await expect(a.page.locator('#ioc-new-value-error')).toHaveText('That indicator is already in the incident.');

    await pasteIndicators(
      a.page,
      [
        'hxxps://evil[.]example/login',
        'evil[.]example',
        '203.0.113[.]7',
        '203[.]0[.]113[.]7',
        'user[@]corp[.]example',
        '# a comment line',
        'D41D8CD98F00B204E9800998ECF8427E',
        'hxxps://evil[.]example/login',
      ].join('\n'),
    );
    await expect(a.page.locator('#ioc-paste-result')).toHaveText('Added 4, already known 1');
    await expect(a.page.getByLabel('Paste indicators, one per line')).toHaveValue('');

    const expected = [
      ['203[.]0[.]113[.]7', 'IPv4'],
      ['evil[.]example', 'Domain'],
      ['hxxps://evil[.]example/login', 'URL'],
      ['user[@]corp[.]example', 'Email'],
      ['d41d8cd98f00b204e9800998ecf8427e', 'MD5'],
    ];
    for (const page of [a.page, b.page]) {
      await expect(indicators(page)).toHaveCount(5);
      await expect.poll(() => indicatorList(page)).toEqual(expected);
    }
    // Never a live link, never the real value on the page.
    await expect(a.page.locator('.ioc a')).toHaveCount(0);
    await expect(a.page.locator('.indicators')).not.toContainText('https://evil.example');

    // Copy raw puts the real value on the clipboard; copy defanged the shown one.
    const url = indicatorRow(b.page, 'hxxps://evil[.]example/login');
    await url.getByRole('button', { name: 'Copy raw' }).click();
    await expect(url).toContainText('Copied the raw value.');
    await expect.poll(() => b.page.evaluate(() => navigator.clipboard.readText())).toBe('https://evil.example/login');
    await url.getByRole('button', { name: 'Copy defanged' }).click();
    await expect
      .poll(() => b.page.evaluate(() => navigator.clipboard.readText()))
      .toBe('hxxps://evil[.]example/login');

    // Markup in a value is shown as the text it is, on both devices, and never runs.
    const xss = '<img src=x onerror=alert(1)>';
    await addIndicator(a.page, xss);
    for (const page of [a.page, b.page]) {
      const row = indicatorRow(page, xss);
      await expect(row).toHaveCount(1);
      await expect(row.getByTestId('indicator-value')).toBeVisible();
      await expect(row.getByTestId('indicator-kind')).toHaveText('Other');
      await expect(page.locator('img[src="x"]')).toHaveCount(0);
    }
    expect(dialogs).toEqual([]);
  });

  test('copy raw falls back to a selected field when the clipboard is refused', async ({ person, relay }) => {
    const a = await person('A');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'No clipboard' });
    // This browser refuses clipboard writes (as a page without permission would be).
    await a.page.evaluate(() => {
      navigator.clipboard.writeText = () => Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'));
    });
    await pasteIndicators(a.page, 'hxxp://bad[.]example/x');
    const row = indicatorRow(a.page, 'hxxp://bad[.]example/x');
    await row.getByRole('button', { name: 'Copy raw' }).click();
    const manual = row.getByLabel('Copy it from here');
    await expect(manual).toHaveValue('http://bad.example/x');
    await expect(manual).toBeFocused();
    await expect(manual).toHaveAttribute('readonly', '');
    expect(await manual.evaluate((el) => el.value.slice(el.selectionStart, el.selectionEnd))).toBe('http://bad.example/x');
    await expect(row).toContainText('Could not copy');
  });
});

test.describe('timeline and indicators together', () => {
  test('an event links an indicator; the kill chain groups events by phase', async ({ person, relay }) => {
    const { a, b } = await twoPeople(person, relay, 'Links and phases');
    await pasteIndicators(a.page, 'c2[.]evil[.]example\n198.51.100[.]23');
    await expect(indicators(a.page)).toHaveCount(2);
    const c2 = indicatorRow(a.page, 'c2[.]evil[.]example');
    const c2Id = await c2.getAttribute('data-indicator-id');
    await expect(c2.getByTestId('indicator-kind')).toHaveText('Host name');

    // Linked and phased while adding.
    await addEvent(a.page, {
      what: 'Beacon to C2',
      when: '2020-03-02 08:00',
      details: { phase: 'command_and_control', indicators: [c2Id], source: 'proxy log' },
    });
    await expect(c2.getByTestId('indicator-events')).toContainText('Beacon to C2');
    await expect(eventRow(a.page, 'Beacon to C2').getByTestId('event-indicators')).toHaveText(
      'Indicators: c2[.]evil[.]example',
    );

    // Linked and phased later, from the event's own fields, by the other person.
    await addEvent(b.page, { what: 'Phish opened by finance', when: '2020-03-01 09:00' });
    const phish = eventRow(b.page, 'Phish opened by finance');
    const editor = await editEvent(phish);
    await editor.getByLabel('Kill-chain phase').selectOption('delivery');
    await expect(eventRow(a.page, 'Phish opened by finance')).toContainText('Delivery');
    await editor.getByRole('checkbox', { name: /c2\[\.\]evil\[\.\]example/ }).check();
    await expect(c2.getByTestId('indicator-events').locator('li')).toHaveText(['Phish opened by finance', 'Beacon to C2']);
    await editor.getByRole('button', { name: 'Done' }).click();

    for (const page of [a.page, b.page]) {
      const phase = (key) => page.locator(`[data-testid="kill-chain-phase"][data-phase="${key}"]`);
      await expect(page.locator('[data-testid="kill-chain-phase"]')).toHaveCount(7);
      await expect(phase('command_and_control').locator('[data-testid="kill-chain-event"]')).toHaveText([
        '2020-03-02 08:00 UTC Beacon to C2',
      ]);
      await expect(phase('delivery').locator('[data-testid="kill-chain-event"]')).toHaveText([
        '2020-03-01 09:00 UTC Phish opened by finance',
      ]);
      for (const key of ['reconnaissance', 'weaponization', 'exploitation', 'installation', 'actions_on_objectives']) {
        await expect(phase(key)).toContainText('Nothing yet');
      }
    }
    // An event without a phase is not listed there.
    await addEvent(a.page, { what: 'Coffee break', when: '2020-03-02 09:00' });
    await expect(events(b.page)).toHaveCount(3);
    await expect(b.page.locator('[data-testid="kill-chain-event"]')).toHaveCount(2);
    await expect(b.page.locator('.kill-chain')).not.toContainText('Coffee break');
  });
});

test.describe('on a phone', () => {
  test('phone: add an event, paste indicators, no sideways scrolling', async ({ person, relay }, testInfo) => {
    const phone = await person('phone', {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      hasTouch: true,
    });
    await createIncident(phone.page, relay.url, { name: 'Pat on a phone', title: 'Lost laptop at the airport' });
    const what = phone.page.locator('#tl-new-what');
    await what.tap();
    await what.fill('Laptop reported missing at gate B12');
    await phone.page.getByRole('button', { name: 'Add event' }).tap();
    await expect(events(phone.page)).toHaveCount(1);
    await pasteIndicators(
      phone.page,
      'hxxps://a-very-long-subdomain-name-for-testing.login-portal[.]evil[.]example/path/to/a/very/long/page.php?session=0123456789abcdef\n' +
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nlaptop-owner[@]corp[.]example',
    );
    await expect(indicators(phone.page)).toHaveCount(3);
    const hash = indicatorRow(phone.page, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    await hash.getByRole('button', { name: 'Edit' }).tap();
    await expect(hash.getByRole('group', { name: 'Correct this indicator' })).toBeVisible();
    await editEvent(eventRow(phone.page, 'Laptop reported missing at gate B12'));
    await expectSynced(phone.page);

    const width = await pageWidth(phone.page);
    expect(width.scrollWidth, JSON.stringify(width)).toBeLessThanOrEqual(390);
    expect(width.bodyScrollWidth, JSON.stringify(width)).toBeLessThanOrEqual(390);
    for (const locator of [events(phone.page).first(), indicators(phone.page).first(), phone.page.locator('.kill-chain')]) {
      const box = await locator.boundingBox();
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }

    fs.mkdirSync(artifacts, { recursive: true });
    const file = path.join(artifacts, 'phone-evidence.png');
    await phone.page.locator('.timeline').scrollIntoViewIfNeeded();
    await phone.page.screenshot({ path: file, fullPage: true, scale: 'css' });
    await testInfo.attach('phone-evidence', { path: file, contentType: 'image/png' });
  });
});
