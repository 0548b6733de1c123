// Playbooks in real Chromium: on a phone with no network at all, a new incident started from
// the bundled ransomware playbook has the playbook's summary to fill in, its next steps each
// following a role (and the holder once someone takes the role), its own questions, its comms
// drafts, and says which playbook and version it started from. A blank incident stays blank.
import { test, expect } from './support/fixtures.js';
import { section, setDisplayName } from './support/app.js';

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true };

function step(page, titleStart) {
  return page.locator(`[data-testid="next-step"][data-title^="${titleStart}"]`);
}

test('phone, offline: an incident started from the ransomware playbook has its summary, steps and origin', async ({ person, relay }) => {
  const a = await person('Alice on a phone', PHONE);
  await a.page.goto(`${relay.url}/`);
  await setDisplayName(a.page, 'Alice');
  // One online visit keeps the app on the device.
  await a.page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => a.page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);

  // No network from here on: no relay, and the browser itself offline.
  await relay.stop();
  await a.link.cut({ offline: true });
  await a.page.reload();
  const from = a.page.getByLabel('Start from');
  await expect(from).toHaveValue('');
  await from.selectOption({ label: 'Ransomware' });
  await a.page.getByLabel('Incident title').fill('File shares encrypted');
  const clicked = Date.now();
  await a.page.getByRole('button', { name: 'Create incident' }).click();
  await a.page.waitForURL(/\/incident\/[^/?#]+/);
  await expect(a.page.getByTestId('started-from')).toHaveText('Started from the Ransomware playbook (v1)');
  await expect(a.page.locator('[data-testid="next-step"]')).toHaveCount(7);
  console.log(`offline, "Create incident" to the prefilled page on a phone: ${Date.now() - clicked} ms`);

  // The summary to fill in, the classification and type the playbook sets.
  await expect(section(a.page, 'summary')).toHaveValue(/^On \[date, time, zone\] \[who\] found files encrypted on \[systems\]/);
  await expect(a.page.getByTestId('overview-severity')).toHaveText('Ransomware');
  await expect(section(a.page, 'comms')).toHaveValue(/For Staff:\nSome of our systems are down/);
  await expect(section(a.page, 'background')).toHaveValue(/https:\/\/www\.nomoreransom\.org\//);

  // The playbook's own questions, after the template's, answered like them.
  const copied = a.page.locator('[data-testid="question"]').filter({ hasText: 'Was data copied out before encryption?' });
  await expect(copied).toHaveCount(1);
  await copied.getByLabel('Status').selectOption({ label: 'Partly' });
  await expect(copied).toHaveAttribute('data-status', 'partly');

  // Each step follows its role: nobody yet, then whoever takes the role.
  const isolate = step(a.page, 'Isolate affected hosts');
  await expect(isolate.getByTestId('step-role')).toHaveText('Follows the role of Incident commander: nobody yet');
  const brief = step(a.page, 'Brief leadership and legal');
  await expect(brief.getByTestId('step-role')).toHaveText('Follows the role of Comms liaison: nobody yet');
  await a.page.locator('[data-testid="role"][data-role="commander"]').getByRole('button', { name: 'Take this role' }).click();
  await expect(isolate.getByTestId('step-role')).toHaveText('Follows the role of Incident commander: Alice');
  await expect(isolate.getByLabel('Owner')).toHaveValue('Alice');
  await expect(brief.getByTestId('step-role')).toHaveText('Follows the role of Comms liaison: nobody yet');
  // Due a quarter of an hour after it started, shown in the incident's zone.
  await expect(isolate.getByLabel('Due')).not.toHaveValue('');

  // Nothing is wider than the phone.
  const width = await a.page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);

  // Still offline, a blank incident has none of it.
  await a.page.goto(new URL('/', a.page.url()).href);
  await expect(a.page.getByLabel('Start from')).toHaveValue('');
  await a.page.getByLabel('Incident title').fill('Something else');
  await a.page.getByRole('button', { name: 'Create incident' }).click();
  await a.page.waitForURL(/\/incident\/[^/?#]+/);
  await expect(section(a.page, 'summary')).toBeVisible();
  await expect(a.page.getByTestId('started-from')).toHaveCount(0);
  await expect(a.page.locator('[data-testid="next-step"]')).toHaveCount(0);
  await expect(section(a.page, 'summary')).toHaveValue('');
});
