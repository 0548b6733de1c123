// What a person does in the Firebreak app, in Playwright terms, and what they see.
// The DOM contract (ids, labels, data attributes) lives here and in app.spec.js only.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from '@playwright/test';
import { distDir } from './relay.js';

/** The prose sections of the template: page key → visible heading. */
export const SECTIONS = [
  ['summary', 'Summary'],
  ['details', 'Details / kill chain'],
  ['response', 'Response'],
  ['theories', 'Theories'],
  ['lessons', 'Lessons learned'],
  ['background', 'Background'],
  ['comms', 'Comms'],
  ['appendix', 'Appendix'],
];

export const TLP_LEVELS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];

/** Fails early, with the command to run, when the app was not built. */
export function requireBuiltApp() {
  const index = path.join(distDir(), 'index.html');
  if (!fs.existsSync(index)) {
    throw new Error(`the built app is missing (${index}): run \`trunk build --release\` at the repository root`);
  }
}

/**
 * Collects what a page printed to its console and its uncaught errors, so a failing test
 * shows the app's own complaints. Call attach(testInfo, label) in teardown.
 */
export function watchConsole(page, label) {
  const lines = [];
  page.on('console', (msg) => lines.push(`[${label}] ${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => lines.push(`[${label}] pageerror: ${err.stack || err.message}`));
  return lines;
}

/**
 * Routes this context's sync websocket through Playwright so the test can cut it the way a
 * lost network would: Chromium's offline emulation alone leaves open websockets working.
 *   cut({ offline })  close the live sync sockets and refuse new ones; with offline: true also
 *                     switch the context's network off (navigator.onLine false, fetch fails)
 *   restore()         network back on, sync sockets allowed again
 * Must be installed before the page opens its socket (before goto).
 */
export async function syncLink(context) {
  let allowed = true;
  const live = new Set();
  await context.routeWebSocket(/\/sync(\/|$)/, (ws) => {
    if (!allowed) {
      ws.close({ code: 1001, reason: 'test: network down' });
      return;
    }
    const server = ws.connectToServer();
    const pair = { ws, server };
    live.add(pair);
    ws.onClose(() => {
      live.delete(pair);
      server.close();
    });
    server.onClose((code, reason) => {
      live.delete(pair);
      ws.close({ code, reason });
    });
  });
  return {
    async cut({ offline = true } = {}) {
      allowed = false;
      if (offline) await context.setOffline(true);
      const pairs = [...live];
      live.clear();
      for (const { ws, server } of pairs) {
        await server.close({ code: 1001, reason: 'test: network down' }).catch(() => {});
        await ws.close({ code: 1001, reason: 'test: network down' }).catch(() => {});
      }
    },
    async restore() {
      allowed = true;
      await context.setOffline(false);
    },
    get liveSockets() {
      return live.size;
    },
  };
}

export async function setDisplayName(page, name) {
  const input = page.getByLabel('Your name');
  await input.fill(name);
  await input.blur();
}

/** Home page → "Create incident" → the incident page. Returns the incident id. */
export async function createIncident(page, baseUrl, { name = 'Alice', title = 'Test incident' } = {}) {
  await page.goto(`${baseUrl}/`);
  await setDisplayName(page, name);
  await page.getByLabel('Incident title').fill(title);
  await page.getByRole('button', { name: 'Create incident' }).click();
  await page.waitForURL(/\/incident\/[^/?#]+/);
  await expect(page.locator('#text-summary')).toBeVisible();
  const id = new URL(page.url()).pathname.split('/')[2];
  expect(id, 'incident id in the URL').toBeTruthy();
  return decodeURIComponent(id);
}

/** The incident's own address in a page: no invite fragment (the app removes it anyway). */
export function incidentUrl(page) {
  const url = new URL(page.url());
  url.hash = '';
  return url.href;
}

/** The invite token carried in a link's fragment (`#invite=TOKEN`). */
export function tokenOf(link) {
  const hash = new URL(link).hash;
  if (!hash.startsWith('#invite=')) throw new Error(`not an invite link: ${link}`);
  return decodeURIComponent(hash.slice('#invite='.length));
}

/** Opens the owner's Share panel (the incident must be on the relay: the owner has Share). */
export async function openSharePanel(page) {
  const panel = page.locator('#share-panel');
  if (await panel.isVisible()) return panel;
  const button = page.getByRole('button', { name: 'Share', exact: true });
  await expect(button, 'the owner has a Share button once the incident is on the relay').toBeVisible({
    timeout: 20_000,
  });
  await button.click();
  await expect(panel).toBeVisible();
  return panel;
}

let invited = 0;

/**
 * The owner (in `page`) invites someone through the Share panel and returns the link the
 * panel shows, the one person A hands to person B. Options: role 'editor' (default) or
 * 'viewer'; name (default: a fresh one); keepOpen to leave the panel open.
 */
export async function shareLink(page, { role = 'editor', name, keepOpen = false } = {}) {
  const panel = await openSharePanel(page);
  await panel.getByLabel('Name of the person').fill(name || `Invitee ${++invited}`);
  await panel.getByLabel('Role').selectOption(role);
  await panel.getByRole('button', { name: 'Create invite link' }).click();
  const field = panel.getByLabel('Invite link', { exact: true });
  await expect(field).toHaveValue(/#invite=/);
  const link = await field.inputValue();
  if (!keepOpen) {
    await panel.getByRole('button', { name: 'Close' }).click();
    await expect(panel).toBeHidden();
  }
  return link;
}

/**
 * Opens an incident link in a page and waits for the incident to show, with this device let
 * in by the relay (owner, editor or viewer). `timeout` (ms) for the incident to show after
 * joining: a big incident's first sync takes longer than the default on a busy machine.
 */
export async function openIncident(page, link, { name, timeout } = {}) {
  if (name) {
    // The display name is a per-device preference; set it from the home page first.
    await page.goto(new URL('/', link).href);
    await setDisplayName(page, name);
  }
  await page.goto(link);
  // An invite to an incident this device has no copy of shows the join screen first (what
  // the invite opens, the name prefilled): open it from there.
  const join = page.getByRole('button', { name: 'Open the incident' });
  await expect(page.locator('#text-summary').or(join)).toBeVisible();
  if (await join.isVisible()) await join.click();
  await expect(page.locator('#text-summary')).toBeVisible(timeout ? { timeout } : {});
  await expect(page.locator('main')).toHaveAttribute('data-access', /^(owner|editor|viewer)$/);
}

/**
 * Opens an invite link on a device that has no display name yet: the app asks for one
 * (prefilled with the name the person was invited as) before it opens the incident.
 * Returns the prefilled name.
 */
export async function joinFromLink(page, link, { name } = {}) {
  await page.goto(link);
  const field = page.getByLabel('Your name');
  await expect(field).toBeVisible();
  const prefilled = await field.inputValue();
  if (name !== undefined) await field.fill(name);
  await page.getByRole('button', { name: 'Open the incident' }).click();
  await expect(page.locator('#text-summary')).toBeVisible();
  return prefilled;
}

/** The owner revokes a person's invite from the Share panel, confirming in the page. */
export async function revokeInvite(page, name) {
  const panel = await openSharePanel(page);
  const row = panel.getByTestId('invite').filter({ hasText: name });
  await row.getByRole('button', { name: 'Revoke', exact: true }).click();
  await expect(row).toContainText('cannot be un-seen');
  await row.getByRole('button', { name: 'Revoke access' }).click();
  await expect(row).toContainText(/revoked \d{4}-\d\d-\d\d/);
  return row;
}

export function status(page) {
  return page.locator('#sync-status');
}

/** data-state and data-pending of the sync status, as the test sees them now. */
export async function readStatus(page) {
  const el = status(page);
  return {
    state: await el.getAttribute('data-state'),
    pending: Number(await el.getAttribute('data-pending')),
  };
}

/** Waits until the service worker controls the page and has kept every file of the app,
 *  the modules fetched on demand included (it starts once the incident shows): from then
 *  on every part opens with no network. */
export async function keptForOffline(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  const lazy = await page.evaluate(() => document.getElementById('firebreak-boot').dataset.lazy.split(' '));
  await expect.poll(() => page.evaluate(async (paths) => {
    const files = await caches.open('firebreak-files-v1');
    const kept = await Promise.all(paths.map((p) => files.match(p)));
    return kept.filter((r) => !r).length;
  }, lazy), { timeout: 30_000 }).toBe(0);
  return lazy;
}

/** Waits until the page says it is synced with nothing pending. */
export async function expectSynced(page, timeout = 15_000) {
  await expect(status(page)).toHaveAttribute('data-state', 'synced', { timeout });
  await expect(status(page)).toHaveAttribute('data-pending', '0', { timeout });
}

export function section(page, key) {
  return page.locator(`#text-${key}`);
}

/** Puts the caret at the very start or end of a textarea, as a click + Ctrl+Home/End would. */
export async function caretTo(locator, where) {
  await locator.click();
  await locator.press(where === 'start' ? 'Control+Home' : 'Control+End');
}

/** Polls until every locator holds the same value; returns that value. */
export async function expectSameValue(locators, { timeout = 15_000, message } = {}) {
  let last = [];
  await expect
    .poll(
      async () => {
        last = await Promise.all(locators.map((l) => l.inputValue()));
        return last.every((v) => v === last[0]) ? 'same' : JSON.stringify(last);
      },
      { timeout, message: message || 'all replicas show the same text' },
    )
    .toBe('same');
  return last[0];
}
