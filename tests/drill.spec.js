// Drills, in real Chromium against the real relay: an incident created as a drill (tabletop
// exercise) is labelled on its page, in its Markdown export and on the join screen of
// someone invited to it; the home page's list leaves it out until "Show drills (N)"; its owner
// can make it a real incident again, and the label goes everywhere at once. On a phone
// (390×844) nothing scrolls sideways.
import fs from 'node:fs';
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, setDisplayName, shareLink } from './support/app.js';

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

/** Home page → title, "This is a drill" → "Create incident". Returns the incident id. */
async function createDrill(page, baseUrl, title) {
  await page.goto(`${baseUrl}/`);
  await setDisplayName(page, 'Alice');
  await page.getByLabel('Incident title').fill(title);
  await page.getByLabel('This is a drill (tabletop exercise)').check();
  await page.getByRole('button', { name: 'Create incident' }).click();
  await page.waitForURL(/\/incident\/[^/?#]+/);
  await expect(page.locator('#text-summary')).toBeVisible();
  return decodeURIComponent(new URL(page.url()).pathname.split('/')[2]);
}

async function sidewaysScroll(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

test('a drill is labelled on its page, in its export and on the join screen, and kept out of the list until asked for', async ({
  person,
  relay,
}) => {
  const a = await person('Alice', phone);
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Real phishing wave' });
  await expect(a.page.locator('#drill-banner')).toHaveCount(0);
  await expect(a.page.getByLabel('This is a drill (tabletop exercise)')).not.toBeChecked();

  await createDrill(a.page, relay.url, 'Ransomware tabletop');
  const banner = a.page.locator('#drill-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toHaveText('DRILL — This is a drill (a tabletop exercise), not a real incident.');
  await expect(a.page.getByLabel('This is a drill (tabletop exercise)')).toBeChecked();
  await expect(a.page).toHaveTitle('DRILL — Ransomware tabletop — Firebreak');
  expect(await sidewaysScroll(a.page), 'nothing scrolls sideways').toBeLessThanOrEqual(0);
  await expectSynced(a.page);

  // The Markdown export, made on the device.
  await a.page.locator('#export-button').click();
  const [file] = await Promise.all([a.page.waitForEvent('download'), a.page.locator('#export-markdown').click()]);
  expect(file.suggestedFilename()).toMatch(/^drill-ransomware-tabletop.*\.md$/);
  const markdown = fs.readFileSync(await file.path(), 'utf8');
  expect(markdown).toContain('# DRILL — Ransomware tabletop\n');
  expect(markdown).toContain('- **DRILL:** This is a drill (a tabletop exercise), not a real incident.');

  // Someone invited sees it on the join screen before opening it, then on the page; they
  // cannot change it.
  const link = await shareLink(a.page, { name: 'Bob', role: 'viewer' });
  const b = await person('Bob');
  await b.page.goto(new URL('/', link).href);
  await setDisplayName(b.page, 'Bob');
  await b.page.goto(link);
  await expect(b.page.locator('#join-preview')).toHaveAttribute('data-state', 'shown', { timeout: 15_000 });
  await expect(b.page.locator('#join-drill')).toContainText('DRILL');
  await b.page.getByRole('button', { name: 'Open the incident' }).click();
  await expect(b.page.locator('#drill-banner')).toBeVisible();
  await expect(b.page.getByLabel('This is a drill (tabletop exercise)')).toHaveCount(0);

  // The list: the real incident only, until drills are asked for.
  await a.page.goto(`${relay.url}/`);
  const items = a.page.getByTestId('known-incident');
  await expect(items).toHaveCount(1);
  await expect(items).toContainText('Real phishing wave');
  const show = a.page.getByRole('button', { name: 'Show drills (1)' });
  await expect(show).toBeVisible();
  expect((await show.boundingBox()).height).toBeGreaterThanOrEqual(44);
  await show.click();
  await expect(items).toHaveCount(2);
  const drill = items.filter({ hasText: 'Ransomware tabletop' });
  await expect(drill.locator('.drill-chip')).toHaveText('DRILL');
  await expect(items.filter({ hasText: 'Real phishing wave' }).locator('.drill-chip')).toHaveCount(0);
  expect(await sidewaysScroll(a.page), 'nothing scrolls sideways').toBeLessThanOrEqual(0);
  await a.page.getByRole('button', { name: 'Hide drills (1)' }).click();
  await expect(items).toHaveCount(1);
  await a.page.reload();
  await expect(items).toHaveCount(1);

  // The owner makes it a real incident: the label goes, on Bob's screen too.
  await a.page.getByRole('button', { name: 'Show drills (1)' }).click();
  await drill.getByRole('link').click();
  await a.page.getByLabel('This is a drill (tabletop exercise)').uncheck();
  await expect(a.page.locator('#drill-banner')).toHaveCount(0);
  await expect(b.page.locator('#drill-banner')).toHaveCount(0, { timeout: 15_000 });
  await a.page.goto(`${relay.url}/`);
  await expect(items).toHaveCount(2);
  await expect(a.page.locator('#show-drills')).toHaveCount(0);
});
