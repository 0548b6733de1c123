// Hostile text everywhere: an XSS corpus typed into every field the app offers, and written
// straight into the document by a stock Yjs client (past every check the UI makes, into keys
// and fields the UI would validate, with the wrong types), then shown live, after a reload,
// to a fresh device and on the home page. Nothing may run, navigate or turn into markup: no
// marker set, no dialog, no Content-Security-Policy report, no element or attribute that was
// not the app's own, and every value shown as the text it is.
import { test, expect } from './support/fixtures.js';
import {
  SECTIONS,
  createIncident,
  expectSynced,
  incidentUrl,
  openIncident,
  openSharePanel,
  section,
  shareLink,
  tokenOf,
} from './support/app.js';
import { addEvent, editEvent, eventWhats, indicatorList, indicators, pasteIndicators } from './support/evidence.js';
import { ROOTS } from './support/state.js';
import { Y } from './support/yjs-client.js';

// Every payload calls xss(tag) (or alert) if it ever runs; the init script below records it.
const LONG = `${'A'.repeat(20_000)}<img src=x onerror=xss('long')>`;
const CORPUS = [
  `<script>xss('script')</script>`,
  `<img src=x onerror=xss('img')>`,
  `<svg/onload=xss('svg')>`,
  `"><svg/onload=xss('breakout')>`,
  `'><img src=x onerror=xss('single-quote')>`,
  `" autofocus onfocus="xss('attr')" x="`,
  `javascript:xss('js-url')`,
  `data:text/html,<script>xss('data-url')</script>`,
  `</textarea><script>xss('textarea')</script>`,
  `</title><script>xss('title')</script>`,
  `{{7*7}} \${xss('template')} #{7*7} <%= 7*7 %>`,
  `evil\u202Egnp.exe\u202C right-to-left override`,
  `[click me](javascript:xss('markdown'))`,
  `<a href="javascript:xss('anchor')">open</a>`,
  `<iframe srcdoc="<script>parent.xss('iframe')</script>">`,
  `<details open ontoggle=xss('details')>`,
  `<math><mtext><table><mglyph><style><img src=x onerror=xss('mxss')>`,
  `<img src=x onerror=alert(document.domain)>`,
  `<style>*{background:url(http://127.0.0.2:9/leak)}</style>`,
  LONG,
];

/** What a payload is called in messages: its first 40 characters. */
const short = (p) => JSON.stringify(p.length > 40 ? `${p.slice(0, 40)}…` : p);

/** Names the relay takes for an invite: at most 80 characters, no direction or invisible marks. */
const NAMEABLE = CORPUS.filter((p) => [...p].length <= 80 && !/[\u200B-\u200F\u202A-\u202E\u2066-\u2069]/.test(p));

/** Before any page script: the marker, the dialog trap and the CSP report log. */
async function watchForScript(context) {
  await context.addInitScript(() => {
    window.__xss = [];
    window.xss = (tag) => window.__xss.push(String(tag));
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ''}`),
    );
  });
}

/** Everything a page did that it should not have, as a list of complaints (empty: fine). */
async function misdeeds(page) {
  return page.evaluate(() => {
    const out = [];
    for (const tag of window.__xss || []) out.push(`ran xss('${tag}')`);
    for (const v of window.__csp || []) out.push(`CSP report: ${v}`);
    const urlAttrs = ['href', 'src', 'action', 'formaction', 'xlink:href', 'srcdoc', 'data', 'poster', 'background'];
    const foreign = ['IMG', 'IFRAME', 'FRAME', 'FRAMESET', 'OBJECT', 'EMBED', 'BASE', 'MATH', 'MGLYPH', 'VIDEO', 'AUDIO', 'TABLE', 'PORTAL'];
    for (const el of document.querySelectorAll('*')) {
      if (foreign.includes(el.tagName.toUpperCase())) out.push(`a <${el.tagName.toLowerCase()}> element`);
      for (const a of el.attributes) {
        if (/^on/i.test(a.name)) out.push(`<${el.tagName.toLowerCase()} ${a.name}="${a.value.slice(0, 40)}">`);
        if (urlAttrs.includes(a.name.toLowerCase()) && /^\s*(javascript|data|vbscript):/i.test(a.value)) {
          out.push(`<${el.tagName.toLowerCase()} ${a.name}="${a.value.slice(0, 40)}">`);
        }
      }
    }
    for (const s of document.scripts) {
      if (!s.src || new URL(s.src).origin !== location.origin || s.textContent.trim()) {
        out.push(`script ${s.src || s.textContent.slice(0, 40)}`);
      }
    }
    for (const s of document.querySelectorAll('style')) out.push(`<style> ${s.textContent.slice(0, 40)}`);
    for (const svg of document.querySelectorAll('svg')) {
      if (!svg.closest('[data-testid="new-invite"]')) out.push('an <svg> outside the invite QR code');
    }
    for (const l of document.querySelectorAll('link')) {
      if (new URL(l.href, location.href).origin !== location.origin) out.push(`link ${l.href}`);
    }
    return out;
  });
}

/** The page's text as a person reads it, plus the values of its fields. */
async function shownText(page) {
  return page.evaluate(() => {
    const values = [...document.querySelectorAll('input, textarea')].map((e) => e.value);
    return [document.body.textContent, ...values].join('\n');
  });
}

/**
 * Follows a page: dialogs (dismissed and counted), main-frame navigations, wasm panics and
 * uncaught errors. `check()` fails on anything seen so far, and on misdeeds in the DOM.
 */
function guard(page, label) {
  const seen = [];
  page.on('dialog', (d) => {
    seen.push(`dialog ${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame() && !/^http:\/\/127\.0\.0\.1:\d+\/(incident\/[^/?#]+)?(#.*)?$/.test(frame.url())) {
      seen.push(`navigated to ${frame.url()}`);
    }
  });
  page.on('pageerror', (err) => seen.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (/panicked/.test(msg.text())) seen.push(`panic: ${msg.text().slice(0, 300)}`);
  });
  return {
    async check(when) {
      // Give any deferred handler (onerror of a failed load, ontoggle, onfocus) time to fire.
      await page.waitForTimeout(300);
      const found = [...seen, ...(await misdeeds(page))];
      expect(found, `${label}, ${when}: nothing ran, navigated or became markup`).toEqual([]);
    },
  };
}

/** Types into a field and leaves it, which is when most fields are written. */
async function enter(locator, value) {
  await locator.fill(value);
  await locator.blur();
}

/** The corpus without its 20,000-character string (which goes to a few places only). */
const SHORT = CORPUS.filter((p) => p !== LONG);

/**
 * The stock client's pass: every payload into every root, past the UI. Every field of every
 * existing entry is overwritten (strings, numbers, booleans, lists: all become payloads), a
 * copy of each entry is added under a payload as its key, every meta key but the schema
 * version gets a payload, the questions get payload keys, and every text gets the corpus.
 * The long string goes into the title, one text and one answer (everywhere, it only makes
 * the page slow: see the report of issue 13). Returns how many values it wrote.
 */
function writeEverywhere(client, roots) {
  let n = 0;
  const next = () => SHORT[n++ % SHORT.length];
  client.doc.transact(() => {
    for (const { name, kind } of roots) {
      if (kind === 'text') {
        const text = client.doc.getText(name);
        text.insert(0, `${SHORT.join('\n')}\n`);
        n += CORPUS.length;
        continue;
      }
      const map = client.doc.getMap(name);
      for (const key of [...map.keys()]) {
        const value = map.get(key);
        if (value instanceof Y.Map) {
          for (const field of [...value.keys()]) value.set(field, next());
          // The same entry again, keyed by a payload, with a payload in every field.
          const copy = new Y.Map();
          map.set(next(), copy);
          for (const field of value.keys()) copy.set(field, field === 'indicators' ? [next()] : next());
        } else if (!(name === 'meta' && key === 'schema')) {
          map.set(key, next());
        }
      }
      // Keys the app has never seen, in the shape it reads (`{question}.answer` and the like).
      map.set(`${next()}.answer`, next());
      map.set(next(), next());
    }
    client.doc.getMap('meta').set('title', LONG);
    client.doc.getText('lessons').insert(0, LONG);
    client.doc.getMap('questions').set('breach.answer', LONG);
    n += 3;
  });
  return n;
}

test('an XSS corpus in every field, typed and written past the UI, shows as text and runs nothing', async ({ person, relay, yclients }) => {
  test.setTimeout(180_000);
  const alice = await person('Alice');
  await watchForScript(alice.context);
  const aliceGuard = guard(alice.page, 'the page it was typed in');
  const page = alice.page;

  // Her name and the incident's title are payloads from the start.
  const name = `"><img src=x onerror=xss('name')>`;
  const title = `</title><script>xss('title')</script>`;
  const id = await createIncident(page, relay.url, { name, title });
  await expect(page.locator('#incident-title')).toHaveValue(title);
  await expect(page).toHaveTitle(`${title} — Firebreak`);

  // The header and the classification.
  await enter(page.locator('#classification-label'), `" autofocus onfocus="xss('attr')" x="`);
  const zone = page.locator('#incident-zone');
  await enter(zone, `<img src=x onerror=xss('zone')>`);
  await expect(page.locator('.zone-field')).toContainText(`“<img src=x onerror=xss('zone')>” is not a time zone`);
  await enter(zone, 'UTC');

  // Every prose section: one payload each, and the whole corpus in the summary.
  for (const [i, [key]] of SECTIONS.entries()) {
    await section(page, key).fill(key === 'summary' ? CORPUS.join('\n') : CORPUS[i]);
  }

  // A timeline event per payload, and one with every detail filled with payloads.
  for (const p of CORPUS) await addEvent(page, { what: p });
  await addEvent(page, {
    what: 'Details are payloads',
    details: { source: `<svg/onload=xss('source')>`, link: `javascript:xss('data_link')`, inReport: true },
  });

  // Indicators: pasted one per line, one added alone, and a note written in a row.
  await pasteIndicators(page, CORPUS.filter((p) => p !== LONG).join('\n'));
  await page.locator('#ioc-new-value').fill(`javascript:xss('ioc')//evil.example/`);
  await page.getByRole('button', { name: 'Add indicator' }).click();
  await expect(indicators(page)).not.toHaveCount(0);
  const firstIoc = indicators(page).first();
  await firstIoc.locator('button').filter({ hasText: /^Edit/ }).first().click();
  await enter(firstIoc.getByLabel('Note'), `<img src=x onerror=xss('note')>`);

  // Next steps: title and owner are payloads; a payload as the due time is refused as text.
  for (const p of CORPUS.slice(0, 4)) {
    await page.getByLabel('What needs doing').fill(p);
    await page.getByLabel('Owner', { exact: true }).first().fill(CORPUS[CORPUS.length - 2]);
    await page.getByRole('button', { name: 'Add step' }).click();
  }
  await page.getByLabel('What needs doing').fill('bad due');
  await page.locator('#step-new-due').fill(`<svg/onload=xss('due')>`);
  await page.getByRole('button', { name: 'Add step' }).click();
  await expect(page.locator('.next-steps [role="alert"]')).toContainText('not a time');

  // A role taken under the payload name; the answers of every question.
  const commander = page.locator('[data-testid="role"][data-role="commander"]');
  await commander.getByRole('button', { name: 'Take this role' }).click();
  await expect(commander.getByTestId('role-holder')).toContainText(name);
  const answers = page.locator('[data-testid="question"]');
  const questionCount = await answers.count();
  for (let i = 0; i < questionCount; i++) {
    await enter(answers.nth(i).getByLabel('Answer'), CORPUS[i % CORPUS.length]);
  }

  // Invites under payload names; the one the relay refuses is refused in words.
  for (const p of NAMEABLE.slice(0, 6)) await shareLink(page, { name: p });
  const panel = await openSharePanel(page);
  await panel.getByLabel('Name of the person').fill(`evil\u202Egnp.exe`);
  await panel.getByRole('button', { name: 'Create invite link' }).click();
  await expect(panel.locator('[role="alert"]')).toContainText('Could not create the invite');
  for (const p of NAMEABLE.slice(0, 6)) {
    await expect(panel.getByTestId('invite').locator('.invite-name').getByText(p, { exact: true })).toHaveCount(1);
  }
  await panel.getByRole('button', { name: 'Close' }).click();
  await expectSynced(page);

  // What was typed shows as typed.
  await expect(page.locator('#incident-title')).toHaveValue(title);
  await expect(page.locator('#classification-label')).toHaveValue(`" autofocus onfocus="xss('attr')" x="`);
  await expect(section(page, 'summary')).toHaveValue(CORPUS.join('\n'));
  const whats = await eventWhats(page);
  for (const p of CORPUS) expect(whats, `the event ${short(p)} as text`).toContain(p.trim());
  const meta = page.locator('[data-testid="timeline-event"]').filter({ hasText: 'Details are payloads' }).locator('.tl-meta');
  await expect(meta).toContainText(`Source: <svg/onload=xss('source')> · How we know: javascript:xss('data_link') · by ${name}`);
  const stepTitles = await page.locator('[data-testid="next-step"] textarea[id$="-title"]').evaluateAll((els) => els.map((e) => e.value));
  for (const p of CORPUS.slice(0, 4)) expect(stepTitles, `the step ${short(p)} as text`).toContain(p.trim());
  // A paste splits on spaces and commas too: the payloads without either are whole indicators.
  const iocs = (await indicatorList(page)).map(([value]) => value);
  for (const p of CORPUS.filter((c) => c !== LONG && !/[\s,]/.test(c))) {
    expect(iocs, `the indicator ${short(p)} as text`).toContain(p);
  }
  await expect(page.locator('.ioc-note').filter({ hasText: `<img src=x onerror=xss('note')>` })).toHaveCount(1);
  await aliceGuard.check('after typing the corpus into every field');

  // A stock Yjs client with an editor's link writes the corpus past every check the UI makes.
  const mallory = yclients(relay.wsUrl, id, { name: 'Mallory', params: { token: tokenOf(await shareLink(page, { name: 'Mallory' })) } });
  await mallory.synced();
  const written = writeEverywhere(mallory, ROOTS);
  mallory.awareness.setLocalState({ user: { name: `<img src=x onerror=xss('presence')>`, color: `red;background:url(javascript:xss('color'))` } });
  await expect(page.locator('#presence')).toContainText(`<img src=x onerror=xss('presence')>`);
  await expect(section(page, 'appendix')).toHaveValue(new RegExp(`^${escapeRegExp(SHORT.join('\n'))}`), { timeout: 30_000 });
  await aliceGuard.check(`live, after a stock client wrote ${written} payloads past the UI`);
  const everything = await shownText(page);
  for (const p of CORPUS) expect(everything.includes(p), `${short(p)} shown as text in the live page`).toBe(true);

  // Reloaded from this device's copy and the relay.
  await page.reload();
  await expect(section(page, 'summary')).toBeVisible();
  await expect(section(page, 'details')).toHaveValue(new RegExp(`^${escapeRegExp(SHORT.join('\n'))}`), { timeout: 30_000 });
  await aliceGuard.check('after a reload');
  const reloaded = await shownText(page);
  for (const p of CORPUS) expect(reloaded.includes(p), `${short(p)} shown as text after a reload`).toBe(true);

  // A fresh device, with the page's Content-Security-Policy switched off, so that only the
  // app's own rendering stands between the document and script.
  const bob = await person('Bob, no CSP', { bypassCSP: true });
  await watchForScript(bob.context);
  const bobGuard = guard(bob.page, 'a fresh device without CSP');
  await openIncident(bob.page, await shareLink(page, { name: 'Bob' }), { name: `<svg/onload=xss('bob')>` });
  await expect(section(bob.page, 'comms')).toHaveValue(new RegExp(`^${escapeRegExp(SHORT.join('\n'))}`), { timeout: 30_000 });
  await expect(bob.page.locator('#presence')).toContainText(`<img src=x onerror=xss('presence')>`);
  await bobGuard.check('a fresh device');
  const fresh = await shownText(bob.page);
  for (const p of CORPUS) expect(fresh.includes(p), `${short(p)} shown as text on a fresh device`).toBe(true);
  // Opening and closing every correction form renders each field's value into inputs.
  const rows = bob.page.locator('[data-testid="timeline-event"]');
  for (let i = 0; i < Math.min(await rows.count(), 6); i++) await editEvent(rows.nth(i));
  await bobGuard.check('with timeline rows open for correcting');

  // The home page lists the incident under its (now hostile) title and commander.
  await bob.page.goto(new URL('/', incidentUrl(bob.page)).href);
  await expect(bob.page.locator('[data-testid="known-incident"]')).toHaveCount(1);
  await bobGuard.check('on the home page');
  const home = await shownText(bob.page);
  expect(CORPUS.some((p) => home.includes(p.trim())), 'the title shows as text on the home page').toBe(true);
});

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
