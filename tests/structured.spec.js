// Roles, next steps, the questions that will be asked, incident status and the incident list,
// in real Chromium against the real relay.
import fs from 'node:fs';
import path from 'node:path';
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, openIncident, readStatus, shareLink } from './support/app.js';
import { addEvent, eventTimes, eventWhats, indicators, pasteIndicators } from './support/evidence.js';

const artifacts = path.resolve('test-results', 'artifacts');

function role(page, key) {
  return page.locator(`[data-testid="role"][data-role="${key}"]`);
}

function steps(page) {
  return page.locator('[data-testid="next-step"]');
}

async function addStep(page, { title, owner = '', due = '' }) {
  await page.getByLabel('What needs doing').fill(title);
  await page.getByLabel('Owner', { exact: true }).first().fill(owner);
  await page.locator('#step-new-due').fill(due);
  await page.getByRole('button', { name: 'Add step' }).click();
}

test.describe('running the response together', () => {
  test('taking a role shows everywhere and the hand-off lands on the timeline', async ({ person, relay }) => {
    const a = await person('Alice');
    const b = await person('Bob');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Credential stuffing' });
    await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });

    await expect(role(a.page, 'commander').getByTestId('role-holder')).toHaveText('Open');
    await role(a.page, 'commander').getByRole('button', { name: 'Take this role' }).click();
    await expect(role(b.page, 'commander').getByTestId('role-holder')).toContainText('Alice');

    await role(b.page, 'commander').getByRole('button', { name: 'Take over' }).click();
    await expect(role(a.page, 'commander').getByTestId('role-holder')).toContainText('Bob');
    await expect(role(b.page, 'commander').getByRole('button', { name: 'Step down' })).toBeVisible();
    await expect(role(a.page, 'commander').getByRole('button', { name: 'Take over' })).toBeVisible();

    // Both hand-offs are on both timelines, in order.
    for (const page of [a.page, b.page]) {
      const events = page.locator('[data-testid="timeline-event"]');
      await expect(events.filter({ hasText: 'Alice took on the role of Incident commander' })).toHaveCount(1);
      await expect(events.filter({ hasText: 'Bob took over as Incident commander from Alice' })).toHaveCount(1);
    }
  });

  test('a step turns late while the page is open, without a reload', async ({ person, relay }) => {
    const a = await person('Alice');
    // The page's clock starts at a known time and runs on; the test moves it forward.
    await a.page.clock.install({ time: new Date('2026-11-30T09:00:00Z') });
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Deadline' });
    await addStep(a.page, { title: 'Tell the regulator', owner: 'Alice', due: '2026-11-30 09:10 UTC' });
    await expect(steps(a.page)).toHaveCount(1);
    await expect(steps(a.page)).not.toHaveClass(/overdue/);
    await expect(steps(a.page)).not.toContainText('Overdue');
    await a.page.clock.fastForward('11:00');
    await expect(steps(a.page)).toHaveClass(/overdue/, { timeout: 20_000 });
    await expect(steps(a.page)).toContainText('Overdue');
  });

  test('next steps: owners, late ones stand out, "only mine", status changes reach everyone', async ({ person, relay }) => {
    const a = await person('Alice');
    const b = await person('Bob');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Ransom note on file server' });
    await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });

    await addStep(a.page, { title: 'Isolate file server', owner: 'Alice', due: '2020-01-01 09:00' });
    await addStep(a.page, { title: 'Call the insurer', owner: 'Bob', due: '2099-01-01 09:00 Europe/Berlin' });
    await addStep(a.page, { title: 'Check backups', owner: '' });
    // A due time nobody can read is refused with a reason, and nothing is added.
    await addStep(a.page, { title: 'Bad time', due: 'next tuesday-ish' });
    await expect(a.page.locator('.next-steps [role="alert"]')).toContainText('not a time');
    await expect(steps(a.page)).toHaveCount(3);

    // Ordered by due time; the late one is marked.
    await expect(steps(b.page)).toHaveCount(3);
    const titles = await steps(b.page).locator('textarea[id$="-title"]').evaluateAll((els) => els.map((e) => e.value));
    expect(titles).toEqual(['Isolate file server', 'Call the insurer', 'Check backups']);
    const late = steps(b.page).filter({ hasText: 'Overdue' });
    await expect(late).toHaveCount(1);
    await expect(late.locator('textarea[id$="-title"]')).toHaveValue('Isolate file server');
    await expect(steps(b.page).nth(1).locator('input[id$="-due"]')).toHaveValue('2099-01-01 08:00 UTC');

    // Bob filters to his own.
    await b.page.getByLabel('Only mine').check();
    await expect(steps(b.page)).toHaveCount(1);
    await expect(steps(b.page).locator('textarea[id$="-title"]')).toHaveValue('Call the insurer');
    await b.page.getByLabel('Only mine').uncheck();

    // Alice finishes hers: it is no longer late, and moves after the open ones, for Bob too.
    const isolate = a.page.locator('[data-testid="next-step"][data-title="Isolate file server"]');
    await isolate.getByLabel('Status').selectOption('done');
    await expect(steps(b.page).last()).toHaveAttribute('data-status', 'done');
    await expect(steps(b.page).filter({ hasText: 'Overdue' })).toHaveCount(0);

    // Deleting asks first.
    const backups = b.page.locator('[data-testid="next-step"][data-title="Check backups"]');
    await backups.getByRole('button', { name: 'Delete' }).click();
    await backups.getByRole('button', { name: 'No' }).click();
    await expect(steps(b.page)).toHaveCount(3);
    await backups.getByRole('button', { name: 'Delete' }).click();
    await backups.getByRole('button', { name: 'Yes, delete' }).click();
    await expect(steps(a.page)).toHaveCount(2);
  });

  test('answers to the questions that will be asked, and the incident status, reach everyone', async ({ person, relay }) => {
    const a = await person('Alice');
    const b = await person('Bob');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Customer list on a paste site' });
    await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });

    await expect(a.page.locator('[data-testid="question"]')).toHaveCount(13);
    const breachA = a.page.locator('[data-question="breach"]');
    const breachB = b.page.locator('[data-question="breach"]');
    await breachA.getByLabel('Status').selectOption('partly');
    await breachB.getByLabel('Answer').fill('Names and emails only; no passwords.');
    await breachB.getByLabel('Answer').blur();
    for (const q of [breachA, breachB]) {
      await expect(q).toHaveAttribute('data-status', 'partly');
      await expect(q.getByLabel('Answer')).toHaveValue('Names and emails only; no passwords.');
    }
    await a.page.locator('[data-question="why"]').getByLabel('Status').selectOption('unknown');

    await a.page.locator('#incident-status').selectOption('contained');
    await expect(b.page.locator('#incident-status')).toHaveValue('contained');
  });

  test('the team picks the zone every time is shown in; an unknown zone is refused', async ({ person, relay }) => {
    const a = await person('Alice');
    const b = await person('Bob');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Berlin office breach' });
    await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
    await addEvent(b.page, { what: 'badge reader offline', when: '2026-01-15 12:00 UTC' });
    await expect.poll(() => eventTimes(b.page)).toEqual([expect.stringContaining('2026-01-15 12:00 UTC')]);

    const zone = a.page.locator('#incident-zone');
    await zone.fill('mars/olympus');
    await zone.blur();
    await expect(a.page.locator('.zone-field [role="alert"]')).toContainText('not a time zone');
    await expect(b.page.locator('#incident-zone')).toHaveValue('UTC');

    await zone.fill('europe/berlin');
    await zone.blur();
    await expect(a.page.locator('.zone-field [role="alert"]')).toHaveCount(0);
    await expect(b.page.locator('#incident-zone')).toHaveValue('Europe/Berlin');
    await expect.poll(() => eventTimes(b.page)).toEqual([expect.stringContaining('2026-01-15 13:00 CET')]);
    await expect(a.page.getByText('Times in Europe/Berlin')).toBeVisible();
  });

  test('offline: events, indicators, a role, a step and an answer all land when back online', async ({ person, relay }) => {
    const a = await person('Alice');
    const b = await person('Bob');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Laptop stolen from a car' });
    await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
    await expectSynced(b.page);

    await b.link.cut({ offline: true });
    await expect(b.page.locator('#sync-status')).toHaveAttribute('data-state', 'offline');
    await addEvent(b.page, { what: 'car broken into', when: '2026-11-20 22:10 UTC' });
    await pasteIndicators(b.page, 'hxxp://find-my-laptop[.]example/track\n203.0.113.9');
    await role(b.page, 'deputy').getByRole('button', { name: 'Take this role' }).click();
    await addStep(b.page, { title: 'Remote-wipe the laptop', owner: 'Bob' });
    await b.page.locator('[data-question="our_data"]').getByLabel('Status').selectOption('yes');
    // Meanwhile Alice, online, adds her own event.
    await addEvent(a.page, { what: 'police report filed', when: '2026-11-21 08:00 UTC' });
    await expect.poll(async () => (await readStatus(b.page)).pending).toBeGreaterThan(0);
    await expect(indicators(a.page)).toHaveCount(0);

    await b.link.restore();
    await expectSynced(b.page, 20_000);
    for (const page of [a.page, b.page]) {
      await expect.poll(() => eventWhats(page)).toEqual([
        'car broken into',
        'police report filed',
        'Bob took on the role of Deputy',
      ]);
      await expect(indicators(page)).toHaveCount(2);
      await expect(role(page, 'deputy').getByTestId('role-holder')).toContainText('Bob');
      await expect(steps(page)).toHaveCount(1);
      await expect(page.locator('[data-question="our_data"]')).toHaveAttribute('data-status', 'yes');
    }
  });

  test('the incident list shows title, status, TLP, commander and last change', async ({ person, relay }) => {
    const a = await person('Alice');
    await createIncident(a.page, relay.url, { name: 'Alice', title: 'Stolen signing key' });
    await role(a.page, 'commander').getByRole('button', { name: 'Take this role' }).click();
    await a.page.locator('#tlp').selectOption('RED');
    await a.page.locator('#incident-status').selectOption('resolved');
    await expectSynced(a.page);
    await a.page.getByRole('link', { name: /All incidents/ }).click();
    const item = a.page.locator('[data-testid="known-incident"]').filter({ hasText: 'Stolen signing key' });
    await expect(item).toContainText('Resolved');
    await expect(item).toContainText('TLP:RED');
    await expect(item).toContainText('Commander: Alice');
    await expect(item).toContainText(/Changed \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
  });

  test('phone: take a role and add a step with no sideways scrolling', async ({ person, relay }, testInfo) => {
    const phone = await person('phone', {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      hasTouch: true,
    });
    await createIncident(phone.page, relay.url, { name: 'Pat', title: 'Suspicious MFA prompts' });
    await role(phone.page, 'scribe').getByRole('button', { name: 'Take this role' }).tap();
    await expect(role(phone.page, 'scribe').getByTestId('role-holder')).toContainText('Pat');
    await addStep(phone.page, { title: 'Reset the sales team MFA', owner: 'Pat', due: '18:00' });
    await expect(steps(phone.page)).toHaveCount(1);
    const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    fs.mkdirSync(artifacts, { recursive: true });
    const file = path.join(artifacts, 'phone-roles-steps.png');
    await phone.page.screenshot({ path: file, fullPage: true, scale: 'css' });
    await testInfo.attach('phone-roles-steps', { path: file, contentType: 'image/png' });
  });
});
