// History, in real Chromium against the real relay: "Since you were last here" lists what
// another person changed while this device was away, and "Mark as read" puts it away for
// good; the incident as it stood at a time between two edits shows the first and not the
// second, with the change since, on a laptop and on a phone; a viewer is told the history
// is for owners and editors, and an offline device that it needs the relay.
import { devices } from '@playwright/test';
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced, openIncident, section, shareLink } from './support/app.js';
import { addEvent } from './support/evidence.js';
import { storedMark } from './support/state.js';

const { defaultBrowserType: _ignored, ...pixel7 } = devices['Pixel 7'];

/** `ms` as the time field takes it, in UTC to the second. */
function typedUtc(ms) {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

test('a second person’s changes appear in "Since you were last here", and "Mark as read" puts them away', async ({
  person,
  relay,
}) => {
  const a = await person('Alice');
  const b = await person('Bob');
  const id = await createIncident(a.page, relay.url, { name: 'Alice', title: 'Catching up' });
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page);
  // The first open sets Bob's mark without a card: there is nothing to catch up on.
  await expect.poll(async () => (await storedMark(b.page, id))?.size ?? 0).toBeGreaterThan(0);
  await expect(b.page.locator('#catch-up')).toHaveCount(0);
  const url = new URL(b.page.url());
  url.hash = '';
  await b.page.close();

  await addEvent(a.page, { what: 'Mailbox rule found' });
  await section(a.page, 'summary').fill('Phishing led to a mailbox rule.');
  await expectSynced(a.page);
  // Alice's own edits are not news to her.
  await expect(a.page.locator('#catch-up')).toHaveCount(0);

  const again = await b.context.newPage();
  await again.goto(url.href);
  const card = again.locator('#catch-up');
  await expect(card).toBeVisible({ timeout: 15_000 });
  await expect(card.getByRole('heading', { name: 'Since you were last here' })).toBeVisible();
  const event = card.getByRole('link', { name: 'Timeline event added: Mailbox rule found' });
  await expect(event).toHaveAttribute('href', '#timeline');
  await expect(card.getByRole('link', { name: 'Summary changed' })).toHaveAttribute('href', '#summary');

  await card.getByRole('button', { name: 'Mark as read' }).click();
  await expect(card).toHaveCount(0);
  await again.reload();
  await expect(section(again, 'summary')).toHaveValue('Phishing led to a mailbox rule.');
  await expectSynced(again);
  await expect(again.locator('#catch-up')).toHaveCount(0);
});

/** Alice writes "first", then "second" about 1.5 s later; returns the time T between. */
async function twoEdits(a, relay) {
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'As of a time' });
  await expectSynced(a.page);
  await section(a.page, 'summary').fill('first');
  await expectSynced(a.page);
  // T: the next whole second (the field takes seconds), well clear of both edits.
  const between = Math.ceil((Date.now() + 1) / 1000) * 1000;
  while (Date.now() < between + 700) await a.page.waitForTimeout(100);
  await section(a.page, 'summary').fill('second');
  await expectSynced(a.page);
  return between;
}

/** Shows the incident as of `ms` and checks it against the two edits. */
async function showAsOf(page, ms) {
  await page.getByRole('button', { name: 'History', exact: true }).click();
  await page.locator('#history-at').fill(typedUtc(ms));
  const started = Date.now();
  await page.locator('#history-show').click();
  const asOf = page.locator('#as-of');
  await expect(asOf).toBeVisible({ timeout: 15_000 });
  console.log(`as-of view shown ${Date.now() - started} ms after "Show" (2 edits)`);
  await expect(page.locator('#h-as-of')).toHaveText(`As it stood at ${typedUtc(ms).replace(/:00 UTC$/, ' UTC')} — read-only`);
  const report = page.locator('#as-of-report');
  await expect(report).toContainText('first');
  await expect(report).not.toContainText('second');
  await expect(page.locator('#as-of-changes').getByRole('link', { name: 'Summary changed' })).toHaveAttribute(
    'href',
    '#summary',
  );
  // Never merged into the live document; the editor is out of sight meanwhile.
  await expect(section(page, 'summary')).toBeHidden();
  return asOf;
}

test('the incident as of a time between two edits shows the first and not the second', async ({ person, relay }) => {
  const a = await person('Alice');
  const between = await twoEdits(a, relay);
  const asOf = await showAsOf(a.page, between);
  await asOf.getByRole('button', { name: 'Back to now' }).click();
  await expect(asOf).toHaveCount(0);
  await expect(section(a.page, 'summary')).toHaveValue('second');

  // A time before the incident existed: an empty document, everything since is a change.
  await a.page.locator('#history-at').fill('2001-01-01 00:00 UTC');
  await a.page.locator('#history-show').click();
  await expect(a.page.locator('#as-of-report')).not.toContainText('first');
  await expect(a.page.locator('#as-of-changes')).toContainText('Title changed');
});

test('the as-of view works on a phone without sideways scroll', async ({ person, relay }) => {
  const a = await person('Alice', pixel7);
  const between = await twoEdits(a, relay);
  await showAsOf(a.page, between);
  const widths = await a.page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
  expect(widths.page, 'nothing scrolls sideways').toBeLessThanOrEqual(widths.screen);
  const small = await a.page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('#history-panel :is(button, input), #as-of :is(button, a[href])')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.width < 44 || r.height < 44)) out.push(`${el.id || el.textContent}: ${r.width}×${r.height}`);
    }
    return out;
  });
  expect(small, 'controls smaller than 44×44 px').toEqual([]);
});

test('a viewer is told the history is for owners and editors', async ({ person, relay }) => {
  const a = await person('Alice');
  const v = await person('Vera');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Not for viewers' });
  await openIncident(v.page, await shareLink(a.page, { name: 'Vera', role: 'viewer' }), { name: 'Vera' });
  await expect(v.page.locator('main')).toHaveAttribute('data-access', 'viewer');
  await v.page.getByRole('button', { name: 'History', exact: true }).click();
  await v.page.locator('#history-at').fill('2001-01-01 00:00 UTC');
  await v.page.locator('#history-show').click();
  await expect(v.page.locator('#history-problem')).toHaveText("The incident's history is for its owner and editors.");
  await expect(v.page.locator('#as-of')).toHaveCount(0);
});

test('offline, the as-of view says it needs the relay', async ({ person, relay }) => {
  const a = await person('Alice');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Offline history' });
  await expectSynced(a.page);
  await a.context.setOffline(true);
  await a.page.getByRole('button', { name: 'History', exact: true }).click();
  await a.page.locator('#history-at').fill('2001-01-01 00:00 UTC');
  await a.page.locator('#history-show').click();
  await expect(a.page.locator('#history-problem')).toContainText('needs the relay');
  await expect(a.page.locator('#as-of')).toHaveCount(0);
  await expect(section(a.page, 'summary')).toBeVisible();
});
