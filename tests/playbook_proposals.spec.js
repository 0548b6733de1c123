// Proposals travel in the playbook itself (real Chromium, real relay): Alice proposes a
// lesson in an incident started from the team's playbook; Bob, who has the playbook but not
// the incident, sees it on the playbook's page and accepts it; Alice's copy has it. On a
// phone, with no sideways scroll. A playbook file whose id is someone else's on the relay
// is imported as a copy; a playbook's page says "playbook", not "incident".
import { test, expect } from './support/fixtures.js';
import fs from 'node:fs';
import { openSharePanel, setDisplayName, shareLink } from './support/app.js';

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };

async function noSidewaysScroll(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, `${what}: no sideways scroll`).toBeLessThanOrEqual(390);
}

test('a proposal reaches someone who has the playbook but not the incident', async ({ person, relay }) => {
  const a = await person('Alice on a phone', PHONE);
  await a.page.goto(`${relay.url}/`);
  await setDisplayName(a.page, 'Alice');
  await a.page.goto(`${relay.url}/playbooks`);
  await a.page.getByRole('button', { name: 'Adopt the Phishing starter' }).click();
  await a.page.waitForURL(/\/playbook\/[^/?#]+$/);
  const playbookUrl = a.page.url();
  await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });
  await a.page.getByLabel('Name', { exact: true }).fill('Phishing (ours)');
  await a.page.getByLabel('Name', { exact: true }).blur();
  await expect(a.page.locator('#playbook-version')).toHaveAttribute('data-version', '2');
  const playbookLink = await shareLink(a.page, { name: 'Bob' });

  // Bob has the playbook, on a phone too.
  const b = await person('Bob on a phone', PHONE);
  await b.page.goto(`${relay.url}/`);
  await setDisplayName(b.page, 'Bob');
  await b.page.goto(playbookLink);
  await b.page.getByRole('button', { name: 'Open the playbook' }).click();
  await expect(b.page.locator('main')).toHaveAttribute('data-access', 'editor', { timeout: 20_000 });
  await expect(b.page.getByLabel('Name', { exact: true })).toHaveValue('Phishing (ours)');
  await expect(b.page.getByTestId('pb-proposal')).toHaveCount(0);

  // Alice's incident, started from the playbook; Bob is not invited to it.
  await a.page.goto(`${relay.url}/`);
  await a.page.getByLabel('Start from').selectOption({ label: 'Phishing (ours)' });
  await a.page.getByLabel('Incident title').fill('Fake invoice mail');
  await a.page.getByRole('button', { name: 'Create incident' }).click();
  await a.page.waitForURL(/\/incident\/[^/?#]+/);
  const incidentId = new URL(a.page.url()).pathname.split('/').pop();
  await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });
  const lesson = 'Put a report-phishing button in the mail client';
  await a.page.getByLabel('Propose a lesson for the Phishing (ours) playbook').fill(lesson);
  await a.page.getByRole('button', { name: 'Propose lesson' }).click();
  await expect(a.page.getByTestId('proposed-lesson')).toHaveText([lesson]);

  // Bob sees it live on the playbook's page, with the incident it came from, and accepts it.
  const proposal = b.page.getByTestId('pb-proposal').filter({ hasText: lesson });
  await expect(proposal).toHaveCount(1, { timeout: 20_000 });
  await expect(proposal).toContainText('Fake invoice mail');
  await expect(proposal).toContainText('proposed by Alice');
  expect(await b.page.evaluate(() => Object.keys(localStorage).join(' '))).not.toContain(incidentId);
  await noSidewaysScroll(b.page, 'playbook page with a proposal');
  await proposal.getByRole('button', { name: `Accept “${lesson}”` }).click();
  await expect(proposal).toHaveAttribute('data-accepted', 'true');
  await expect(b.page.getByTestId('pb-lesson')).toContainText(lesson);
  await expect(b.page.getByTestId('pb-lesson')).toContainText('from “Fake invoice mail”, accepted by Bob');
  await expect(b.page.locator('#playbook-version')).toHaveAttribute('data-version', '3');
  // Bob still has no copy of the incident.
  await b.page.goto(`${relay.url}/`);
  await expect(b.page.getByText('Fake invoice mail')).toHaveCount(0);

  // Alice's playbook has the accepted lesson.
  await a.page.goto(playbookUrl);
  await expect(a.page.getByTestId('pb-lesson')).toContainText(lesson, { timeout: 20_000 });
  await expect(a.page.getByTestId('pb-proposal').filter({ hasText: lesson })).toHaveAttribute('data-accepted', 'true');
  await noSidewaysScroll(a.page, 'playbook page');
});

test('a playbook file whose id is someone else’s on the relay is imported as a copy; the page says playbook', async ({ person, relay }) => {
  const a = await person('Alice');
  await a.page.goto(`${relay.url}/`);
  await setDisplayName(a.page, 'Alice');
  await a.page.goto(`${relay.url}/playbooks`);
  await a.page.getByRole('button', { name: 'Adopt the DDoS starter' }).click();
  await a.page.waitForURL(/\/playbook\/[^/?#]+$/);
  const originalUrl = a.page.url();
  await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });
  await a.page.getByLabel('Name', { exact: true }).fill('DDoS (Alice)');
  await a.page.getByLabel('Name', { exact: true }).blur();
  await expect(a.page.locator('#playbook-version')).toHaveAttribute('data-version', '2');
  await expect(a.page.locator('#sync-status')).toHaveAttribute('data-pending', '0');
  // The owner actions speak of the playbook.
  const panel = await openSharePanel(a.page);
  await expect(panel.locator('#h-owner-actions')).toHaveText('Your owner link and this playbook');
  await expect(panel.locator('#delete-incident')).toHaveText('Delete playbook');
  await expect(panel).not.toContainText('incident');
  await panel.getByRole('button', { name: 'Close' }).click();
  const [download] = await Promise.all([
    a.page.waitForEvent('download'),
    a.page.getByRole('button', { name: 'Save playbook file' }).click(),
  ]);
  const file = fs.readFileSync(await download.path());

  // Carol opens Alice's file: its id is Alice's on the relay, so it cannot be published.
  const c = await person('Carol on a phone', PHONE);
  await c.page.goto(`${relay.url}/`);
  await setDisplayName(c.page, 'Carol');
  await c.page.goto(`${relay.url}/playbooks`);
  await c.page.getByLabel('Playbook file (.json)').setInputFiles({
    name: 'ddos-alice.firebreak-playbook.json',
    mimeType: 'application/json',
    buffer: file,
  });
  await c.page.waitForURL(originalUrl);
  await expect(c.page.locator('#sync-status')).toHaveAttribute('data-state', 'refused', { timeout: 20_000 });
  await expect(c.page.locator('#sync-status')).toContainText('This playbook could not be published');
  await expect(c.page.locator('#sync-status')).not.toContainText('incident');
  const offer = c.page.locator('#import-copy');
  await expect(offer).toBeVisible();
  await noSidewaysScroll(c.page, 'import as a copy');
  await offer.getByRole('button', { name: 'Import as a copy' }).click();
  await expect(c.page).not.toHaveURL(originalUrl);
  await c.page.waitForURL(/\/playbook\/[^/?#]+$/);
  const copyUrl = c.page.url();
  await expect(c.page.locator('main')).toHaveAttribute('data-access', 'owner', { timeout: 20_000 });
  await expect(c.page.getByLabel('Name', { exact: true })).toHaveValue('DDoS (Alice)');
  await expect(c.page.locator('#playbook-version')).toContainText('Copied from the playbook “DDoS (Alice)” (v2).');
  await expect(c.page.locator('#playbook-version')).toHaveAttribute('data-version', '1');
  await expect(c.page.getByTestId('pb-step').first()).toBeVisible();
  await expect(c.page.locator('#import-copy')).toHaveCount(0);
  // Carol's copy is hers: her edit does not reach Alice's playbook.
  await c.page.getByLabel('Name', { exact: true }).fill('DDoS (Carol)');
  await c.page.getByLabel('Name', { exact: true }).blur();
  await expect(c.page.locator('#sync-status')).toHaveAttribute('data-pending', '0');
  await expect(a.page.getByLabel('Name', { exact: true })).toHaveValue('DDoS (Alice)');
  await c.page.goto(`${relay.url}/playbooks`);
  await expect(c.page.getByTestId('known-playbook')).toHaveCount(1);
  await expect(c.page.getByTestId('known-playbook')).toContainText('DDoS (Carol)');
  expect(copyUrl).not.toBe(originalUrl);

  // Without an invite, Alice's playbook says so in a playbook's words.
  await c.page.goto(originalUrl);
  await expect(c.page.locator('#h-no-access')).toHaveText('You need an invite link to open this playbook', { timeout: 20_000 });
  await expect(c.page.locator('.no-access')).not.toContainText('incident');

  // An unnamed playbook previews as one.
  await a.page.getByLabel('Name', { exact: true }).fill('');
  await a.page.getByLabel('Name', { exact: true }).blur();
  await expect(a.page.locator('#playbook-version')).toHaveAttribute('data-version', '3');
  await expect(a.page.locator('#sync-status')).toHaveAttribute('data-pending', '0');
  const link = await shareLink(a.page, { name: 'Dan' });
  const d = await person('Dan');
  await d.page.goto(link);
  await expect(d.page.locator('#join-preview .join-title')).toHaveText('Untitled playbook', { timeout: 20_000 });
  await expect(d.page.locator('#join-preview')).toContainText("Invited by Alice.");
});
