// Phone polish (390×844): what a responder reads first on the incident page says each fact
// once. The triage banner under the title says the severity and the type; the overview just
// below it does not repeat them on a phone (it still does on a laptop).
import fs from 'node:fs';
import path from 'node:path';
import { test, expect } from './support/fixtures.js';
import { createIncident } from './support/app.js';

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const laptop = { viewport: { width: 1280, height: 900 } };

async function triaged(page, relay) {
  await createIncident(page, relay.url, { name: 'Ana', title: 'Ransomware on the file servers' });
  await page.getByLabel('Severity').selectOption({ label: 'SEV1' });
  await page.getByLabel('Incident type').selectOption({ label: 'Ransomware' });
  await expect(page.locator('#triage-banner')).toContainText('SEV1 — Critical');
}

test('on a phone the triage banner and the overview do not repeat the severity and type', async ({ person, relay }, testInfo) => {
  const a = await person('Ana', phone);
  await triaged(a.page, relay);
  const banner = a.page.locator('#triage-banner');
  const overview = a.page.getByTestId('overview');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('Ransomware');
  await expect(overview).toBeVisible();
  await expect(a.page.getByTestId('overview-status')).toBeVisible();
  await expect(a.page.getByTestId('overview-severity')).toBeHidden();
  const shown = await overview.evaluate((el) => el.innerText);
  expect(shown, 'the overview does not say the severity again').not.toContain('SEV1');
  expect(shown, 'nor the type').not.toContain('Ransomware');
  const dir = path.resolve('test-results', 'artifacts');
  fs.mkdirSync(dir, { recursive: true });
  await a.page.screenshot({ path: path.join(dir, 'phone-banner-overview.png'), scale: 'css' });

  // On a laptop the overview keeps them.
  const b = await person('Ben', laptop);
  await triaged(b.page, relay);
  await expect(b.page.getByTestId('overview-severity')).toBeVisible();
  await expect(b.page.getByTestId('overview-severity')).toHaveText('SEV1 · Ransomware');
});

test('on a phone a long next-step title wraps and shows all of itself; Enter writes it', async ({ person, relay }) => {
  const a = await person('Ana', phone);
  await createIncident(a.page, relay.url, { name: 'Ana', title: 'Long steps' });
  const long =
    'Rotate every service account password on the payroll cluster and confirm with finance that the overnight batch still runs';
  await a.page.getByLabel('What needs doing').fill(long);
  await a.page.getByRole('button', { name: 'Add step' }).click();
  const step = a.page.locator(`[data-testid="next-step"][data-title="${long}"]`);
  await expect(step).toHaveCount(1);
  const title = step.locator('textarea[id$="-title"]');
  await expect(title).toHaveValue(long);
  const owner = step.locator('input[id$="-owner"]');
  const box = await title.evaluate((el) => ({
    width: el.scrollWidth - el.clientWidth,
    height: el.scrollHeight - el.clientHeight,
    tall: el.getBoundingClientRect().height,
  }));
  const oneLine = (await owner.boundingBox()).height;
  expect(box.width, 'the title does not run off to the side').toBeLessThanOrEqual(0);
  expect(box.height, 'nor hide lines below').toBeLessThanOrEqual(1);
  expect(box.tall, 'it grows to several lines').toBeGreaterThan(oneLine * 1.8);
  expect(await a.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

  // Enter writes the changed title instead of breaking the line.
  await title.fill('Rotate the payroll passwords');
  await title.press('Enter');
  const shorter = a.page.locator('[data-testid="next-step"][data-title="Rotate the payroll passwords"]');
  await expect(shorter).toHaveCount(1);
  await expect(shorter.locator('textarea[id$="-title"]')).toHaveValue('Rotate the payroll passwords');
});
