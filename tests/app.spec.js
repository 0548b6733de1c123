// Real browsers against the real relay serving the built app. Each test has two people
// (two browser contexts: separate storage, separate network) working on one incident.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, expect } from './support/fixtures.js';
import {
  SECTIONS,
  TLP_LEVELS,
  caretTo,
  createIncident,
  expectSameValue,
  expectSynced,
  incidentUrl,
  openIncident,
  readStatus,
  section,
  shareLink,
  status,
  tokenOf,
} from './support/app.js';

const artifacts = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-results', 'artifacts');

/** A creates an incident, B opens A's link; both are synced when this returns. */
async function twoPeopleOnOneIncident(person, relay, title = 'Two people') {
  const a = await person('A');
  const b = await person('B');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title });
  await expectSynced(a.page);
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page);
  return { a, b, id };
}

test.describe('two people on one incident', () => {
  test('typing concurrently into the same section converges with nothing lost', async ({
    person,
    relay,
  }) => {
    const { a, b } = await twoPeopleOnOneIncident(person, relay, 'Concurrent typing');
    const textA = section(a.page, 'summary');
    const textB = section(b.page, 'summary');

    await caretTo(textA, 'end');
    await textA.pressSequentially('Initial summary. ', { delay: 20 });
    await expect(textB).toHaveValue('Initial summary. ');

    // A's caret rests at the end while B types at the start: A's next keystrokes must still
    // land at the end, where A left the caret.
    await caretTo(textA, 'end');
    await caretTo(textB, 'start');
    await textB.pressSequentially('>> ', { delay: 10 });
    await expect(textA).toHaveValue('>> Initial summary. ');
    await textA.pressSequentially('<<', { delay: 10 });
    await expect(textB).toHaveValue('>> Initial summary. <<');

    await caretTo(textA, 'end');
    await caretTo(textB, 'start');
    await Promise.all([
      textA.pressSequentially('alpha-1234 ', { delay: 70 }),
      textB.pressSequentially('BRAVO-5678 ', { delay: 55 }),
    ]);

    const merged = await expectSameValue([textA, textB]);
    expect(merged).toContain('alpha-1234 ');
    expect(merged).toContain('BRAVO-5678 ');
    expect(merged).toContain('Initial summary. ');
    expect(merged).toBe('BRAVO-5678 >> Initial summary. <<alpha-1234 ');
    await expectSynced(a.page);
    await expectSynced(b.page);
  });

  test('each person sees who else is here, and sees them leave', async ({ person, relay }) => {
    const { a, b } = await twoPeopleOnOneIncident(person, relay, 'Presence');
    await expect(a.page.locator('#presence')).toContainText('Bob');
    await expect(b.page.locator('#presence')).toContainText('Alice');
    await b.page.close();
    // The relay clears a departed peer's presence; 30 s awareness time-outs would be too late.
    await expect(a.page.locator('#presence')).not.toContainText('Bob', { timeout: 10_000 });
  });

  test('title and TLP level changes reach the other person', async ({ person, relay }) => {
    const { a, b } = await twoPeopleOnOneIncident(person, relay, 'Handling label');
    await expect(b.page.locator('#incident-title')).toHaveValue('Handling label');
    const tlpB = b.page.locator('select#tlp');
    await expect(tlpB.locator('option')).toHaveText(TLP_LEVELS.map((l) => new RegExp(l.replace('+', '\\+'))));

    await a.page.locator('select#tlp').selectOption('RED');
    await expect(tlpB).toHaveValue('RED');
    await b.page.locator('select#tlp').selectOption('AMBER+STRICT');
    await expect(a.page.locator('select#tlp')).toHaveValue('AMBER+STRICT');

    // Both devices list the incident on their home page, linking back to it.
    for (const page of [a.page, b.page]) {
      const link = incidentUrl(page);
      await page.goto(`${relay.url}/`);
      const entry = page
        .getByRole('list', { name: 'Incidents on this device' })
        .getByRole('link', { name: /Handling label/ });
      await expect(entry).toBeVisible();
      await entry.click();
      await expect(page).toHaveURL(link);
      await expect(page.locator('select#tlp')).toHaveValue('AMBER+STRICT');
    }
  });

  test('offline edits show as pending and merge when back online', async ({ person, relay }) => {
    const { a, b } = await twoPeopleOnOneIncident(person, relay, 'Offline edits');
    await caretTo(section(a.page, 'summary'), 'end');
    await section(a.page, 'summary').pressSequentially('Seed. ', { delay: 10 });
    await expect(section(b.page, 'summary')).toHaveValue('Seed. ');

    await b.link.cut({ offline: true });
    await expect(status(b.page)).toHaveAttribute('data-state', 'offline');

    const offlineEdits = {
      summary: 'written on the plane. ',
      response: 'Rotated the payroll admin password. ',
      theories: 'Maybe the VPN appliance? ',
    };
    for (const [key, text] of Object.entries(offlineEdits)) {
      await caretTo(section(b.page, key), 'end');
      await section(b.page, key).pressSequentially(text, { delay: 10 });
    }
    // Meanwhile A keeps working online in one of the same sections.
    await caretTo(section(a.page, 'summary'), 'start');
    await section(a.page, 'summary').pressSequentially('Online note. ', { delay: 10 });
    await caretTo(section(a.page, 'lessons'), 'end');
    await section(a.page, 'lessons').pressSequentially('Keep MFA on admin accounts. ', { delay: 10 });

    await expect(status(b.page)).toHaveAttribute('data-state', 'offline');
    await expect.poll(async () => (await readStatus(b.page)).pending).toBeGreaterThan(0);
    // Nothing of B's reached A while B was offline.
    await expect(section(a.page, 'response')).toHaveValue('');

    await b.link.restore();
    await expectSynced(b.page, 20_000);
    await expectSynced(a.page);

    for (const key of ['summary', 'response', 'theories', 'lessons']) {
      await expectSameValue([section(a.page, key), section(b.page, key)], { message: `${key} converges` });
    }
    await expect(section(a.page, 'summary')).toHaveValue('Online note. Seed. written on the plane. ');
    await expect(section(a.page, 'response')).toHaveValue(offlineEdits.response);
    await expect(section(a.page, 'theories')).toHaveValue(offlineEdits.theories);
    await expect(section(b.page, 'lessons')).toHaveValue('Keep MFA on admin accounts. ');
  });

  test('the relay stopping mid-edit loses nothing once it is back', async ({ person, relay }) => {
    const { a, b } = await twoPeopleOnOneIncident(person, relay, 'Relay restart');
    const textA = section(a.page, 'details');
    const textB = section(b.page, 'details');

    await caretTo(textA, 'end');
    await textA.pressSequentially('A before. ', { delay: 15 });
    await expect(textB).toHaveValue('A before. ');

    // Both keep typing while the relay goes down under them.
    await caretTo(textB, 'start');
    const typing = Promise.all([
      textA.pressSequentially('A during the outage. ', { delay: 40 }),
      textB.pressSequentially('B during the outage. ', { delay: 40 }),
    ]);
    await relay.stop();
    await typing;
    await expect(status(a.page)).not.toHaveAttribute('data-state', 'synced');
    await expect(status(b.page)).not.toHaveAttribute('data-state', 'synced');
    await textA.pressSequentially('A while down. ', { delay: 10 });
    await caretTo(section(b.page, 'comms'), 'end');
    await section(b.page, 'comms').pressSequentially('Holding statement drafted. ', { delay: 10 });
    await expect.poll(async () => (await readStatus(a.page)).pending).toBeGreaterThan(0);

    await relay.restart();
    await expectSynced(a.page, 20_000);
    await expectSynced(b.page, 20_000);

    const merged = await expectSameValue([textA, textB]);
    for (const piece of ['A before. ', 'A during the outage. ', 'B during the outage. ', 'A while down. ']) {
      expect(merged).toContain(piece);
    }
    await expect(section(a.page, 'comms')).toHaveValue('Holding statement drafted. ');
  });

  test('a reload shows the incident from this device before the relay answers', async ({
    person,
    relay,
  }) => {
    const { a } = await twoPeopleOnOneIncident(person, relay, 'Reload from IndexedDB');
    await caretTo(section(a.page, 'summary'), 'end');
    await section(a.page, 'summary').pressSequentially('Saved on this device. ', { delay: 10 });
    await caretTo(section(a.page, 'appendix'), 'end');
    await section(a.page, 'appendix').pressSequentially('log line 1', { delay: 10 });
    await expectSynced(a.page);

    // The sync socket is refused from now on: whatever shows after the reload comes from
    // this device's own storage.
    await a.link.cut({ offline: false });
    await a.page.reload();
    await expect(section(a.page, 'summary')).toHaveValue('Saved on this device. ');
    await expect(section(a.page, 'appendix')).toHaveValue('log line 1');
    await expect(a.page.locator('#incident-title')).toHaveValue('Reload from IndexedDB');
    await expect(status(a.page)).not.toHaveAttribute('data-state', 'synced');

    // Editing still works with no relay, and it flows up once the socket is allowed again.
    await caretTo(section(a.page, 'summary'), 'end');
    await section(a.page, 'summary').pressSequentially('Then more. ', { delay: 10 });
    await expect.poll(async () => (await readStatus(a.page)).pending).toBeGreaterThan(0);
    await a.link.restore();
    await expectSynced(a.page, 20_000);
  });

  test('two tabs on one device, relay unreachable: a reload keeps both tabs\' edits', async ({
    person,
    relay,
  }) => {
    const a = await person('A');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Two tabs' });
    await expectSynced(a.page);
    const invite = await shareLink(a.page, { name: 'Bob' });
    const link = incidentUrl(a.page);
    await a.link.cut({ offline: false });
    const tab2 = await a.context.newPage();
    await openIncident(tab2, link);

    await caretTo(section(a.page, 'summary'), 'end');
    await section(a.page, 'summary').pressSequentially('typed in tab one. ', { delay: 10 });
    await caretTo(section(tab2, 'details'), 'end');
    await section(tab2, 'details').pressSequentially('typed in tab two. ', { delay: 10 });
    await caretTo(section(a.page, 'response'), 'end');
    await section(a.page, 'response').pressSequentially('tab one again. ', { delay: 10 });
    await tab2.close();

    // Both tabs wrote to this device's storage; neither may have overwritten the other.
    await a.page.reload();
    await expect(section(a.page, 'summary')).toHaveValue('typed in tab one. ');
    await expect(section(a.page, 'details')).toHaveValue('typed in tab two. ');
    await expect(section(a.page, 'response')).toHaveValue('tab one again. ');

    await a.link.restore();
    await expectSynced(a.page, 20_000);
    const b = await person('B');
    await openIncident(b.page, invite, { name: 'Bob' });
    await expect(section(b.page, 'details')).toHaveValue('typed in tab two. ');
    await expect(section(b.page, 'response')).toHaveValue('tab one again. ');
  });

  test('document text is shown as text, never run as markup', async ({ person, relay }) => {
    const { a, b } = await twoPeopleOnOneIncident(person, relay, 'Markup as text');
    const payload = '<img src=x onerror="window.__pwned=1">';
    await section(a.page, 'summary').fill(payload);
    await caretTo(section(a.page, 'appendix'), 'end');
    await section(a.page, 'appendix').pressSequentially('<script>window.__pwned=2</script>', { delay: 5 });
    await a.page.locator('#incident-title').fill(`<img src=x onerror="window.__pwned=3"> title`);
    await a.page.locator('#incident-title').blur();
    await expectSynced(a.page);

    await b.page.reload();
    await expect(section(b.page, 'summary')).toHaveValue(payload);
    await expect(section(b.page, 'appendix')).toHaveValue('<script>window.__pwned=2</script>');
    await expect(b.page.locator('#incident-title')).toHaveValue(`<img src=x onerror="window.__pwned=3"> title`);
    // The home page lists the incident by title.
    await b.page.goto(`${relay.url}/`);
    const list = b.page.getByRole('list', { name: 'Incidents on this device' });
    await expect(list.getByRole('link', { name: /window\.__pwned=3/ })).toBeVisible();

    for (const page of [a.page, b.page]) {
      expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
      await expect(page.locator('img[src="x"]')).toHaveCount(0);
    }
  });

  test('the app is served with a strict Content-Security-Policy', async ({ relay, person }) => {
    const a = await person('A');
    for (const url of [`${relay.url}/`, `${relay.url}/incident/csp-check`]) {
      const res = await a.page.goto(url);
      expect(res.status(), url).toBe(200);
      const csp = res.headers()['content-security-policy'] || '';
      expect(csp, `CSP of ${url}`).toMatch(/default-src 'self'|default-src 'none'/);
      const scriptSrc = (csp.match(/script-src ([^;]*)/) || [, csp.match(/default-src ([^;]*)/)?.[1] || ''])[1];
      expect(scriptSrc, 'script-src allows no inline script').not.toContain("'unsafe-inline'");
      expect(scriptSrc, 'script-src allows no eval').not.toMatch(/'unsafe-eval'/);
    }
  });

  test('a stock Yjs client and the browser edit the same incident', async ({ person, relay, yclients }) => {
    const a = await person('A');
    const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Yjs ecosystem' });
    await expectSynced(a.page);

    // A stock client joins like anyone else: invited, with its own token.
    const token = tokenOf(await shareLink(a.page, { name: 'Yjs bot' }));
    const y = yclients(relay.wsUrl, id, { name: 'stock Yjs', params: { token } });
    await y.synced();
    await expect.poll(() => y.map('meta').get('title')).toBe('Yjs ecosystem');

    y.text('summary').insert(0, 'From a Yjs bot. ');
    await expect(section(a.page, 'summary')).toHaveValue('From a Yjs bot. ');
    await caretTo(section(a.page, 'summary'), 'end');
    await section(a.page, 'summary').pressSequentially('From the browser.', { delay: 10 });
    await expect.poll(() => y.text('summary').toString()).toBe('From a Yjs bot. From the browser.');
    y.map('meta').set('tlp', 'GREEN');
    await expect(a.page.locator('select#tlp')).toHaveValue('GREEN');

    // Presence both ways through the standard awareness protocol.
    y.awareness.setLocalStateField('user', { name: 'Yjs bot', color: '#2a9d8f' });
    await expect(a.page.locator('#presence')).toContainText('Yjs bot');
    await expect
      .poll(() => [...y.awareness.getStates().values()].map((st) => st.user?.name).filter(Boolean))
      .toContain('Alice');
  });
});

test.describe('on a phone and for everyone', () => {
  test('phone: create, type, no sideways scrolling', async ({ person, relay }, testInfo) => {
    const phone = await person('phone', {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      hasTouch: true,
    });
    const laptop = await person('laptop');
    await createIncident(phone.page, relay.url, { name: 'Pat on a phone', title: 'Lost laptop at the airport' });
    const summary = section(phone.page, 'summary');
    await summary.tap();
    await summary.pressSequentially('Reported from the gate, device was encrypted. ', { delay: 10 });
    await expectSynced(phone.page);

    const overflow = await phone.page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      bodyScrollWidth: document.body.scrollWidth,
      innerWidth: window.innerWidth,
    }));
    expect(overflow.scrollWidth, JSON.stringify(overflow)).toBeLessThanOrEqual(390);
    expect(overflow.bodyScrollWidth, JSON.stringify(overflow)).toBeLessThanOrEqual(390);
    // Every section's field fits the screen.
    for (const [key] of SECTIONS) {
      const box = await section(phone.page, key).boundingBox();
      expect(box, `#text-${key} is laid out`).not.toBeNull();
      expect(box.x, `#text-${key} left edge`).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, `#text-${key} right edge`).toBeLessThanOrEqual(390);
    }

    fs.mkdirSync(artifacts, { recursive: true });
    const file = path.join(artifacts, 'phone-incident.png');
    await phone.page.screenshot({ path: file, fullPage: true, scale: 'css' });
    await testInfo.attach('phone-incident', { path: file, contentType: 'image/png' });

    await openIncident(laptop.page, await shareLink(phone.page, { name: 'Lee' }), { name: 'Lee' });
    await expect(section(laptop.page, 'summary')).toHaveValue('Reported from the gate, device was encrypted. ');
  });

  test('sections are named regions and every field has a visible label', async ({ person, relay }) => {
    const a = await person('A');
    await a.page.goto(`${relay.url}/`);
    await expect(a.page.getByLabel('Your name')).toBeVisible();
    await expect(a.page.getByLabel('Incident title')).toBeVisible();
    await expect(a.page.getByRole('button', { name: 'Create incident' })).toBeVisible();
    await expectEveryFieldLabelled(a.page);

    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Accessible' });
    for (const [key, title] of SECTIONS) {
      const region = a.page.getByRole('region', { name: title, exact: true });
      await expect(region, `region "${title}"`).toBeVisible();
      await expect(region).toHaveAttribute('aria-labelledby', `h-${key}`);
      await expect(a.page.locator(`h2#h-${key}`)).toHaveText(title);
      const field = region.locator(`textarea#text-${key}`);
      await expect(field).toBeVisible();
      await expect(field).toHaveAccessibleName(new RegExp(escapeRegExp(title)));
    }
    for (const id of ['incident-title', 'classification-label', 'tlp']) {
      await expect(a.page.locator(`#${id}`)).toBeVisible();
    }
    await expect(a.page.locator('select#tlp')).toHaveAccessibleName(/TLP/i);
    await expectEveryFieldLabelled(a.page);
    await expect(status(a.page)).toBeVisible();
  });
});

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Every visible input, select and textarea has a non-empty accessible name from visible text. */
async function expectEveryFieldLabelled(page) {
  const unlabelled = await page.evaluate(() => {
    const visible = (el) => {
      if (!el) return false;
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
    };
    const problems = [];
    for (const field of document.querySelectorAll('input, select, textarea')) {
      if (field.type === 'hidden' || !visible(field)) continue;
      const labelledBy = (field.getAttribute('aria-labelledby') || '')
        .split(/\s+/)
        .filter(Boolean)
        .map((id) => document.getElementById(id));
      const labels = [...(field.labels || []), ...labelledBy].filter(
        (l) => visible(l) && l.textContent.trim() !== '',
      );
      if (labels.length === 0) problems.push(field.id || field.name || field.outerHTML.slice(0, 80));
    }
    return problems;
  });
  expect(unlabelled, 'fields without a visible label').toEqual([]);
}
