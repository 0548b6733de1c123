// A phone on a train: the app in real Chromium and a stock y-websocket client keep editing one
// incident through bad links (delay, jitter, a thin pipe, stalls, connections cut at random,
// the link down for a while), and once the links are good again every edit from both is on
// both, and on a fresh client of the relay, once each.
import { test, expect } from './support/fixtures.js';
import { caretTo, createIncident, expectSynced, requireBuiltApp, section, shareLink, tokenOf, watchConsole } from './support/app.js';
import { addEvent, eventWhats } from './support/evidence.js';
import { startBadLink } from './support/badlink.js';
import { fullState, storedDoc } from './support/state.js';
import { Y } from './support/yjs-client.js';

const TRAIN = { delayMs: 120, jitterMs: 250, bytesPerSecond: 24 * 1024 };
const ROUNDS = 16;

/** How many times `needle` occurs in `haystack`. */
function occurrences(haystack, needle) {
  return haystack.split(needle).length - 1;
}

/** A timeline event written straight into the document, as another Yjs application would. */
function addEventDirectly(client, id, what) {
  client.doc.transact(() => {
    const event = new Y.Map();
    client.map('timeline').set(id, event);
    event.set('occurred_at', new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
    event.set('what', what);
    event.set('source', 'stock client');
    event.set('data_link', '');
    event.set('author', 'Bob');
    event.set('include_in_report', true);
  });
}

test('a browser and a stock client editing through links cut at random converge, nothing lost or doubled', async ({ browser, relay, yclients }, testInfo) => {
  requireBuiltApp();
  const started = Date.now();
  const pageLink = await startBadLink({ port: relay.port });
  const stockLink = await startBadLink({ port: relay.port });
  const context = await browser.newContext();
  const page = await context.newPage();
  const log = watchConsole(page, 'Alice');
  try {
    // Set up on a good link: Alice creates the incident in the app, through her link, and
    // invites Bob (a stock Yjs client, on his own link) and a checker (straight to the relay).
    const id = await createIncident(page, pageLink.url, { name: 'Alice', title: 'Edited on a train' });
    const bobToken = tokenOf(await shareLink(page, { name: 'Bob' }));
    const checkerToken = tokenOf(await shareLink(page, { name: 'Checker' }));
    await section(page, 'summary').fill('Start. ');
    await expectSynced(page);
    const bob = yclients(stockLink.wsUrl, id, { name: 'Bob', params: { token: bobToken } });
    await bob.synced();
    await expect.poll(() => bob.text('summary').toString()).toBe('Start. ');

    // The train leaves: slow, jittery, thin links that break now and then and go down.
    for (const link of [pageLink, stockLink]) {
      link.impair(TRAIN);
      link.chaos({ minMs: 500, maxMs: 1800, downEvery: 4, downMs: 1500 });
    }
    const aliceTokens = [];
    const bobTokens = [];
    const aliceEvents = [];
    const bobEvents = [];
    for (let i = 1; i <= ROUNDS; i++) {
      // Alice types at the end of the summary and adds an event, in the page.
      const a = `[a${i}]`;
      await caretTo(section(page, 'summary'), 'end');
      await section(page, 'summary').pressSequentially(a, { delay: 15 });
      aliceTokens.push(a);
      aliceEvents.push(`Alice on the train ${i}`);
      await addEvent(page, { what: `Alice on the train ${i}` });
      // Bob writes at the start of the same section and adds an event, straight into Yjs.
      const b = `[b${i}]`;
      bob.text('summary').insert(0, b);
      bobTokens.push(b);
      bobEvents.push(`Bob on the train ${i}`);
      addEventDirectly(bob, `bob-train-${i}`, `Bob on the train ${i}`);
      // Now and then a tunnel: nothing moves for a while, then it all arrives late.
      if (i % 4 === 2) (i % 8 === 2 ? pageLink : stockLink).stall(1200);
      await page.waitForTimeout(400);
    }
    // One more break of everything while the last edits are still in flight.
    pageLink.cut();
    stockLink.cut();
    const rough = { page: pageLink.stats, stock: stockLink.stats, bobCloses: bob.closeEvents.length };

    // Off the train: good links again. Both sides land everything.
    pageLink.heal();
    stockLink.heal();
    await expectSynced(page, 30_000);
    await bob.synced(30_000);
    const landedAfter = Date.now();

    // Every edit from both sides on both sides, and once.
    const tokens = [...aliceTokens, ...bobTokens];
    const whats = [...aliceEvents, ...bobEvents];
    await expect
      .poll(async () => {
        const text = await section(page, 'summary').inputValue();
        return tokens.filter((t) => occurrences(text, t) !== 1);
      }, { timeout: 20_000, message: 'every edit in the page once' })
      .toEqual([]);
    await expect
      .poll(() => tokens.filter((t) => occurrences(bob.text('summary').toString(), t) !== 1), {
        timeout: 20_000,
        message: 'every edit at the stock client once',
      })
      .toEqual([]);
    await expect.poll(async () => (await eventWhats(page)).filter((w) => whats.includes(w)).sort(), { timeout: 20_000 })
      .toEqual([...whats].sort());
    const bobWhats = () => Object.values(bob.map('timeline').toJSON()).map((e) => e.what).sort();
    await expect.poll(bobWhats, { timeout: 20_000 }).toEqual([...whats].sort());
    const pageText = await section(page, 'summary').inputValue();
    expect(bob.text('summary').toString()).toBe(pageText);
    // Alice's text is in the order she typed it, after Bob's, which is in the reverse order
    // he wrote it (each of his went to the very start).
    expect(pageText).toBe(`${[...bobTokens].reverse().join('')}Start. ${aliceTokens.join('')}`);

    // In full: a fresh stock client straight on the relay, the page's stored copy and Bob's
    // copy are one document.
    const checker = yclients(relay.wsUrl, id, { name: 'checker', params: { token: checkerToken } });
    await checker.synced();
    const expected = fullState(checker.doc);
    await expect.poll(() => fullState(bob.doc), { timeout: 20_000 }).toEqual(expected);
    await expect.poll(async () => fullState(await storedDoc(page, id)), { timeout: 20_000 }).toEqual(expected);
    expect(Object.keys(checker.map('timeline').toJSON())).toHaveLength(whats.length);

    // The links really were bad: both were broken several times and both sides came back.
    expect(rough.page.cuts, 'the page link was cut several times').toBeGreaterThanOrEqual(4);
    expect(rough.stock.cuts, 'the stock link was cut several times').toBeGreaterThanOrEqual(4);
    expect(rough.page.accepted, 'the page reconnected after cuts').toBeGreaterThanOrEqual(4);
    expect(rough.bobCloses, 'the stock client saw its socket broken').toBeGreaterThanOrEqual(3);
    const figures =
      `page link: ${rough.page.accepted} connections, ${rough.page.cuts} cuts, ${rough.page.refused} refused; ` +
      `stock link: ${rough.stock.accepted} connections, ${rough.stock.cuts} cuts, ${rough.stock.refused} refused, ` +
      `${rough.bobCloses} closes seen by the client; landed ${landedAfter - started} ms after the start, ` +
      `whole test ${Date.now() - started} ms`;
    console.log(`lossy link: ${figures}`);
    testInfo.annotations.push({ type: 'figures', description: figures });
  } catch (err) {
    await testInfo.attach('console of Alice', { body: log.join('\n') || '(empty)', contentType: 'text/plain' });
    throw err;
  } finally {
    await context.close().catch(() => {});
    await pageLink.close();
    await stockLink.close();
  }
});
