// The incident page uses the screen it is on, with the standard fixtures: on a 1280×800
// laptop no field is narrower than what it holds and the page takes the width; on a phone
// (Pixel 7) every control is a thumb's size (44 px) and nothing scrolls sideways.
// Screenshots of both first screens and full pages go to test-results/artifacts/.
import fs from 'node:fs';
import path from 'node:path';
import { devices } from '@playwright/test';
import { test, expect } from './support/fixtures.js';
import { standardIncident } from './support/standard-incident.js';

const artifacts = path.resolve('test-results', 'artifacts');
const { defaultBrowserType: _ignored, ...pixel7 } = devices['Pixel 7'];

async function shoot(page, testInfo, name, fullPage) {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage, scale: 'css' });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/** Every visible field whose content is wider than the field: id and the two widths. */
function truncatedFields(page) {
  return page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('input, textarea, select')) {
      const r = el.getBoundingClientRect();
      // A file input shows no typed text (it is drawn as its label, which holds it).
      if (el.type === 'hidden' || el.type === 'checkbox' || el.type === 'file' || r.width === 0 || r.height === 0) continue;
      if (el.scrollWidth > el.clientWidth) {
        out.push(`${el.id || el.name || el.tagName}: ${el.scrollWidth} > ${el.clientWidth} (${JSON.stringify(el.value).slice(0, 60)})`);
      }
    }
    return out;
  });
}

test('on a 1280×800 laptop the page takes the width and no field cuts what it holds', async ({ person, relay, yclients }, testInfo) => {
  const a = await person('Alice', { viewport: { width: 1280, height: 800 } });
  await standardIncident(a.page, relay, yclients);
  await a.page.reload();
  await expect(a.page.locator('#text-summary')).toBeVisible();
  await a.page.evaluate(() => window.scrollTo(0, 0));
  await shoot(a.page, testInfo, 'laptop-first-screen', false);
  await shoot(a.page, testInfo, 'laptop-incident', true);
  await a.page.locator('#nav-next-steps').click();
  await shoot(a.page, testInfo, 'laptop-next-steps', false);
  await a.page.evaluate(() => window.scrollTo(0, 0));

  // The outline beside the page, the page wider than the old 768 px column.
  const bar = await a.page.locator('#section-bar').boundingBox();
  const main = await a.page.locator('.incident-main').boundingBox();
  expect(bar.x + bar.width, 'the outline is left of the page').toBeLessThanOrEqual(main.x);
  expect(main.width, 'the page uses the width').toBeGreaterThan(950);

  // Every field shows all it holds: the steps' long titles and due times among them.
  expect(await truncatedFields(a.page), 'fields narrower than their content').toEqual([]);
  const titles = a.page.locator('[data-testid="next-step"] textarea[id$="-title"]');
  await expect(titles).toHaveCount(5);
  expect(await a.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);

  // The measure sees a cut field: an owner of 200 characters does not fit in its one line.
  const first = a.page.locator('[data-testid="next-step"] input[id$="-owner"]').first();
  const kept = await first.inputValue();
  await first.evaluate((el) => { el.value = 'x'.repeat(200); });
  expect(await truncatedFields(a.page), 'the measure finds a cut field').toHaveLength(1);
  await first.evaluate((el, v) => { el.value = v; }, kept);

  // The placeholder that explains the due field fits it too: measured as if it were typed.
  const due = a.page.locator('#step-new-due');
  const hint = await due.getAttribute('placeholder');
  await due.fill(hint);
  expect(await truncatedFields(a.page), 'the due field holds its own hint').toEqual([]);
  await due.fill('');

  // Long text grows the field that holds it instead of scrolling inside it.
  const details = a.page.locator('#text-details');
  await details.fill(Array.from({ length: 20 }, (_, i) => `Line ${i + 1} of what we know.`).join('\n'));
  expect(await details.evaluate((t) => t.scrollHeight <= t.clientHeight + 2), 'the textarea grew to its text').toBe(true);
});

test('on a phone every control is at least 44 px and nothing scrolls sideways', async ({ person, relay, yclients }, testInfo) => {
  const a = await person('Alice', pixel7);
  await standardIncident(a.page, relay, yclients);
  await a.page.reload();
  await expect(a.page.locator('#text-summary')).toBeVisible();
  await a.page.evaluate(() => window.scrollTo(0, 0));
  await shoot(a.page, testInfo, 'phone-first-screen', false);
  await shoot(a.page, testInfo, 'phone-incident', true);
  await a.page.locator('#nav-next-steps').click();
  await shoot(a.page, testInfo, 'phone-next-steps', false);
  await a.page.evaluate(() => window.scrollTo(0, 0));
  // One event's editor and the timeline's "More details" open, so their controls count too.
  await a.page.locator('button.tl-edit').first().click();
  await a.page.locator('.tl-more > summary').click();

  const small = await a.page.evaluate(() => {
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden';
    };
    const out = [];
    const controls = 'button, a[href], input, select, textarea, summary, [role="button"]';
    for (const el of document.querySelectorAll(controls)) {
      if (!visible(el) || el.type === 'hidden') continue;
      // A checkbox is tapped through its label (the whole row), and a file input (visually
      // hidden) through the label that holds it ("Attach a file"): that is the target measured.
      const throughLabel = el.type === 'checkbox' || el.type === 'radio' || el.type === 'file';
      const target = throughLabel ? el.closest('label') || el : el;
      const r = target.getBoundingClientRect();
      if (r.width < 44 || r.height < 44) {
        out.push(`${el.tagName.toLowerCase()}#${el.id || ''}.${el.className || ''} "${(el.textContent || el.value || '').trim().slice(0, 30)}": ${Math.round(r.width)}×${Math.round(r.height)}`);
      }
    }
    return out;
  });
  expect(small, 'controls smaller than 44×44 px').toEqual([]);

  const widths = await a.page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
  expect(widths.page, 'nothing scrolls sideways').toBeLessThanOrEqual(widths.screen);
  // Scrolled to the end the same holds (the bar at the bottom and the last sections).
  await a.page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  expect(await a.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
});
