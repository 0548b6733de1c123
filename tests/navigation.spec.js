// Finding one's way on the incident page, on a phone (Pixel 7) and a laptop (1280×800): the
// section bar jumps to every section, counts that move while the page is open, sections
// folded on this device, deep links that survive a reload, and the overview.
import { devices } from '@playwright/test';
import { test, expect } from './support/fixtures.js';
import { createIncident, incidentUrl } from './support/app.js';
import { addEvent } from './support/evidence.js';
import { ANSWERED, COMMANDER, EVENTS, INDICATORS, standardIncident } from './support/standard-incident.js';

/** Every entry of the bar, in page order: key (the heading is #h-{key}, the link #nav-{key}). */
const KEYS = [
  'overview', 'classification', 'roles', 'summary', 'timeline', 'indicators', 'details',
  'kill-chain', 'response', 'next-steps', 'theories', 'questions', 'lessons', 'background',
  'comms', 'appendix', 'postmortem',
];

const { defaultBrowserType: _ignored, ...pixel7 } = devices['Pixel 7'];
const VIEWPORTS = [
  ['phone', pixel7],
  ['laptop', { viewport: { width: 1280, height: 800 } }],
];

const chip = (page, key) => page.locator(`#nav-${key}`);
const count = (page, key) => page.locator(`#nav-${key} .nav-count`);
const headingCount = (page, key) => page.locator(`.section-head:has(#h-${key}) [data-testid="section-count"]`);
const fold = (page, key) => page.locator(`.section-head:has(#h-${key}) [data-testid="fold"]`);

async function addStep(page, { title, owner = '', due = '' }) {
  await page.getByLabel('What needs doing').fill(title);
  await page.getByLabel('Owner', { exact: true }).first().fill(owner);
  await page.locator('#step-new-due').fill(due);
  await page.getByRole('button', { name: 'Add step' }).click();
}

for (const [device, options] of VIEWPORTS) {
  test.describe(`navigation on a ${device}`, () => {
    test('the bar jumps to every section, marks it and puts it in the address', async ({ person, relay, yclients }) => {
      const a = await person('Alice', options);
      await standardIncident(a.page, relay, yclients);
      const bar = a.page.getByRole('navigation', { name: 'Sections' });
      await expect(bar).toBeVisible();
      await expect(bar.getByRole('link')).toHaveCount(KEYS.length);
      // The bar says what is in the sections that have something to count.
      await expect(count(a.page, 'timeline')).toHaveText(String(EVENTS.length));
      await expect(count(a.page, 'indicators')).toHaveText(String(INDICATORS.length));
      await expect(count(a.page, 'next-steps')).toHaveText('4 open · 1 late');
      await expect(count(a.page, 'next-steps')).toHaveClass(/late/);
      await expect(count(a.page, 'questions')).toHaveText(ANSWERED.questions);
      await expect(count(a.page, 'postmortem')).toHaveText(ANSWERED.postmortem);
      await expect(chip(a.page, 'roles')).toContainText('1/4 held');

      // Backwards, so that every jump moves the page (the last sections are near the end).
      for (const key of [...KEYS].reverse()) {
        await chip(a.page, key).click();
        const heading = a.page.locator(`#h-${key}`);
        await expect(heading, `#h-${key} on screen after its chip`).toBeInViewport();
        await expect(heading, `#h-${key} has the focus`).toBeFocused();
        await expect(chip(a.page, key)).toHaveAttribute('aria-current', 'location');
        expect(new URL(a.page.url()).hash).toBe(`#${key}`);
        // Not under the sticky sync status.
        const top = (await heading.boundingBox()).y;
        const status = await a.page.locator('#sync-status').boundingBox();
        expect(top, `#h-${key} below the sync status`).toBeGreaterThanOrEqual(status.y + status.height - 1);
      }
      await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner');
    });

    test('a folded section keeps its heading and count, stays folded after a reload, and a deep link unfolds it', async ({ person, relay, yclients }) => {
      const a = await person('Alice', options);
      await standardIncident(a.page, relay, yclients);
      const questions = a.page.locator('section.questions:has(#h-questions)');
      await expect(fold(a.page, 'questions')).toHaveAttribute('aria-expanded', 'true');
      await fold(a.page, 'questions').click();
      await expect(fold(a.page, 'questions')).toHaveAttribute('aria-expanded', 'false');
      await expect(questions.locator('[data-testid="question"]').first()).toBeHidden();
      await expect(a.page.locator('#h-questions')).toBeVisible();
      await expect(headingCount(a.page, 'questions')).toHaveText(ANSWERED.questions);
      // The keyboard folds too (Enter and Space), on another section.
      await fold(a.page, 'background').focus();
      await a.page.keyboard.press('Enter');
      await expect(a.page.locator('#text-background')).toBeHidden();
      await a.page.keyboard.press(' ');
      await expect(a.page.locator('#text-background')).toBeVisible();

      await a.page.reload();
      await expect(a.page.locator('#text-summary')).toBeVisible();
      await expect(fold(a.page, 'questions')).toHaveAttribute('aria-expanded', 'false');
      await expect(questions.locator('[data-testid="question"]').first()).toBeHidden();
      await expect(headingCount(a.page, 'questions')).toHaveText(ANSWERED.questions);
      await expect(a.page.locator('#text-background')).toBeVisible();

      // Remembered on this device, for every incident: another one opens with it folded.
      await createIncident(a.page, relay.url, { name: 'Alice', title: 'Second incident' });
      await expect(fold(a.page, 'questions')).toHaveAttribute('aria-expanded', 'false');

      // A link to the folded section opens it.
      await a.page.goto(`${incidentUrl(a.page)}#questions`);
      await expect(a.page.locator('#h-questions')).toBeInViewport();
      await expect(fold(a.page, 'questions')).toHaveAttribute('aria-expanded', 'true');
      await expect(questions.locator('[data-testid="question"]').first()).toBeVisible();
    });

    test('a deep link opens at its section and survives a reload; an invite link still works beside it', async ({ person, relay, yclients }) => {
      const a = await person('Alice', options);
      const id = await standardIncident(a.page, relay, yclients);
      const url = incidentUrl(a.page);
      await a.page.goto(`${relay.url}/`);
      await a.page.goto(`${url}#next-steps`);
      await expect(a.page.locator('#h-next-steps')).toBeInViewport();
      await expect(chip(a.page, 'next-steps')).toHaveAttribute('aria-current', 'location');
      await a.page.reload();
      await expect(a.page.locator('#h-next-steps')).toBeInViewport();
      expect(new URL(a.page.url()).hash).toBe('#next-steps');
      await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner');

      // A section typed into the address bar of the open page.
      await a.page.evaluate(() => { window.location.hash = 'postmortem'; });
      await expect(a.page.locator('#h-postmortem')).toBeInViewport();
      await expect(a.page.locator('#h-next-steps')).not.toBeInViewport();

      // Something that is not a section is left alone, and is not taken for an invite.
      await a.page.goto(`${url}#invite`);
      await expect(a.page.locator('#text-summary')).toBeVisible();
      await expect(a.page.locator('main')).toHaveAttribute('data-access', 'owner');
      expect(id).toBeTruthy();
    });

    test('counts move while the page is open: a step added, a step turning late, an event added', async ({ person, relay }) => {
      const a = await person('Alice', options);
      await a.page.clock.install({ time: new Date('2026-11-30T03:00:00Z') });
      await createIncident(a.page, relay.url, { name: 'Alice', title: 'Night shift' });
      await expect(count(a.page, 'next-steps')).toHaveText('none yet');
      await expect(a.page.getByTestId('overview-steps')).toHaveText('none yet');
      await addStep(a.page, { title: 'Call the on-call lawyer', owner: 'Alice', due: '2026-11-30 03:10 UTC' });
      await expect(count(a.page, 'next-steps')).toHaveText('1 open');
      await expect(headingCount(a.page, 'next-steps')).toHaveText('1 open');
      await addStep(a.page, { title: 'Page the backup admin', owner: 'Bob', due: '2026-11-30 05:00 UTC' });
      await expect(count(a.page, 'next-steps')).toHaveText('2 open');

      await a.page.clock.fastForward('11:00');
      await expect(count(a.page, 'next-steps')).toHaveText('2 open · 1 late', { timeout: 20_000 });
      await expect(count(a.page, 'next-steps')).toHaveClass(/late/);
      await expect(headingCount(a.page, 'next-steps')).toHaveText('2 open · 1 late');
      await expect(a.page.getByTestId('overview-steps')).toHaveText('2 open · 1 late');

      await a.page.locator('[data-testid="next-step"][data-title="Call the on-call lawyer"]').getByLabel('Status').selectOption('done');
      await expect(count(a.page, 'next-steps')).toHaveText('1 open');
      await expect(count(a.page, 'next-steps')).not.toHaveClass(/late/);

      await expect(count(a.page, 'timeline')).toHaveText('0');
      await addEvent(a.page, { what: 'Lawyer called back' });
      await expect(count(a.page, 'timeline')).toHaveText('1');
      await expect(a.page.getByTestId('overview-events')).toContainText('Lawyer called back');
    });

    test('the overview: summary, status, commander, open and late steps, latest events — on the first screen', async ({ person, relay, yclients }) => {
      const a = await person('Alice', options);
      await standardIncident(a.page, relay, yclients);
      await a.page.reload();
      await expect(a.page.locator('#text-summary')).toBeVisible();
      const overview = a.page.getByRole('region', { name: 'Overview', exact: true });
      await expect(overview.getByTestId('overview-status')).toHaveText('Open');
      await expect(overview.getByTestId('overview-commander')).toHaveText(COMMANDER);
      await expect(overview.getByTestId('overview-steps')).toHaveText('4 open · 1 late');
      const summary = overview.getByTestId('overview-summary');
      await expect(summary).toContainText('A finance clerk opened an invoice attachment');
      await expect(summary).toContainText('Legal and the insurer are informed.…');
      await expect(summary).not.toContainText('Fourth line');
      const latest = overview.getByTestId('overview-events').locator('li');
      await expect(latest).toHaveCount(3);
      await expect(latest.first()).toContainText(EVENTS.at(-1)[1]);
      await expect(latest.last()).toContainText(EVENTS.at(-3)[1]);

      // On the first screen, as opened: the status, the commander and the steps are all on
      // it, not under the bar.
      expect(await a.page.evaluate(() => window.scrollY)).toBe(0);
      const screen = a.page.viewportSize();
      const bar = await a.page.locator('#section-bar').boundingBox();
      const barTop = device === 'phone' ? bar.y : screen.height;
      for (const id of ['overview-status', 'overview-commander', 'overview-steps']) {
        const box = await overview.getByTestId(id).boundingBox();
        expect(box.y + box.height, `${id} on the first screen`).toBeLessThanOrEqual(barTop);
      }

      // Its links jump.
      await overview.getByRole('link', { name: /^Timeline/ }).click();
      await expect(a.page.locator('#h-timeline')).toBeInViewport();
    });
  });
}

test('a new incident says there is nothing yet', async ({ person, relay }) => {
  const a = await person('Alice');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Empty' });
  const overview = a.page.getByRole('region', { name: 'Overview', exact: true });
  await expect(overview.getByTestId('overview-summary')).toHaveText('No summary yet.');
  await expect(overview.getByTestId('overview-commander')).toHaveText('Nobody yet');
  await expect(overview).toContainText('Nothing on the timeline yet.');
  await expect(count(a.page, 'questions')).toHaveText('0/8 answered');
});
