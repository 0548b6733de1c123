// Comments in "Since you were last here" and in the shift hand-off, in real Chromium against the
// real relay: while Bob is away Ana writes "@Bob" in the summary, replies in his thread,
// resolves it, and starts a thread on a passage of the summary (with text that looks like
// markup). Bob comes back: his card says Ana mentioned him in the Summary (from the relay's
// record of who typed what), and lists both threads, newest first, with what each is on, who
// did what and when, the start of the text, his own comment left out and the summary line
// counting them; the thread's name takes him to the thread (the resolved fold opened, the
// thread focused). His hand-off lists the thread still open with its latest word and the one
// resolved during his shift, and the Markdown export, rendered by a CommonMark renderer with
// HTML allowed, keeps the comment's markup as text.
// A thread whose item was removed while he was away says so, and its name opens it in
// "Comments on removed items" at the page's end. In a 1,000-event timeline (windowed) the
// thread's name brings its row into the page first.
import fs from 'node:fs';
import MarkdownIt from 'markdown-it';
import { test, expect } from './support/fixtures.js';
import { commentOn, thread } from './support/comments.js';
import { createIncident, expectSynced, incidentUrl, openIncident, section, shareLink, tokenOf } from './support/app.js';
import { addEvent, eventRow, seedTimeline } from './support/evidence.js';
import { storedMark } from './support/state.js';
import { Y } from './support/yjs-client.js';

const laptop = { viewport: { width: 1280, height: 900 } };
const hostile = '<img src=x onerror="window.__pwned=1"> [click](javascript:alert(1)) **loud**';

test('comments, a reply and a resolve made while Bob was away are in his card, lead to the thread, and go into his hand-off', async ({
  person,
  relay,
}) => {
  const a = await person('Ana', laptop);
  const b = await person('Bob', laptop);
  const id = await createIncident(a.page, relay.url, { name: 'Ana', title: 'Ransomware on the file servers' });
  await addEvent(a.page, { what: 'Ransom note found on FS02' });
  await section(a.page, 'summary').fill('Two file servers encrypted overnight.');
  await expectSynced(a.page);
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page);
  await expect.poll(async () => (await storedMark(b.page, id))?.size ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);

  // Bob asks on the event before he leaves: his own comment is not news to him.
  await commentOn(eventRow(b.page, 'Ransom note found on FS02'), 'Who found it?');
  await expectSynced(b.page);
  // His edits are folded into the mark, written back at least every 5 s and when he leaves.
  await b.page.waitForTimeout(500);
  const url = incidentUrl(b.page);
  await b.page.close();

  // Ana, while Bob is away: a line for Bob in the summary (a mention in prose, which the
  // document does not say who typed), then the comments.
  await section(a.page, 'summary').fill('Two file servers encrypted overnight.\n@Bob please check the backups.');
  const aRow = eventRow(a.page, 'Ransom note found on FS02');
  const bobsThread = thread(aRow, 'Who found it?');
  await expect(bobsThread).toHaveCount(1, { timeout: 15_000 });
  await bobsThread.getByLabel('Reply', { exact: true }).fill('The night operator, at 00:40.\nShe called the SOC.');
  await bobsThread.getByRole('button', { name: 'Reply', exact: true }).click();
  await expect(bobsThread.getByTestId('comment-body')).toHaveCount(2);
  await bobsThread.getByTestId('comment-resolve').click();
  await expect(bobsThread).toHaveAttribute('data-resolved', 'true');
  await section(a.page, 'summary').evaluate((area) => {
    const start = area.value.indexOf('encrypted');
    area.focus();
    area.setSelectionRange(start, start + 'encrypted'.length);
  });
  const summary = a.page.locator('section.prose').filter({ has: section(a.page, 'summary') });
  await summary.getByTestId('comment-button').click();
  await summary.getByTestId('comment-input').fill(hostile);
  await summary.getByTestId('comment-send').click();
  await expectSynced(a.page);

  // Bob comes back.
  b.page = await b.context.newPage();
  const started = Date.now();
  await b.page.goto(url);
  const card = b.page.locator('#catch-up');
  const threads = card.locator('.catch-up-thread');
  await expect(threads).toHaveCount(2, { timeout: 20_000 });
  console.log(`catch-up listed the comment threads ${Date.now() - started} ms after Bob came back`);
  await expect(card.locator('#catch-up-summary')).toContainText('3 comment updates since your mark at');

  // The mention in the summary names who typed it, from the relay's record.
  const mention = card.locator('.catch-up-mention');
  await expect(mention).toHaveCount(1);
  await expect(mention.getByRole('link')).toHaveText('You were mentioned by Ana in the Summary', { timeout: 15_000 });
  await expect(mention).toContainText('@Bob please check the backups.');

  // Newest first: Ana's thread on the passage, then Bob's on the event.
  const onPassage = threads.nth(0);
  await expect(onPassage.locator('.catch-up-thread-link')).toHaveText('Summary: “encrypted”');
  await expect(onPassage.locator('.catch-up-thread-state')).toHaveText('(open)');
  await expect(onPassage.locator('.catch-up-comment')).toHaveCount(1);
  await expect(onPassage.locator('.catch-up-comment')).toContainText(/^Ana commented — \d\d:\d\d UTC/);
  await expect(onPassage.locator('q')).toHaveText(hostile);
  expect(await onPassage.locator('img').count(), 'the comment is text, not markup').toBe(0);
  expect(await b.page.evaluate(() => window.__pwned)).toBeUndefined();

  const onEvent = threads.nth(1);
  await expect(onEvent.locator('.catch-up-thread-link')).toHaveText('Timeline event “Ransom note found on FS02”');
  await expect(onEvent.locator('.catch-up-thread-state')).toHaveText('(resolved)');
  const actions = onEvent.locator('.catch-up-comment');
  await expect(actions).toHaveCount(2);
  await expect(actions.nth(0)).toContainText('Ana replied — ');
  await expect(actions.nth(0).locator('q')).toHaveText('The night operator, at 00:40. She called the SOC.');
  await expect(actions.nth(1)).toContainText('Ana resolved the thread — ');
  await expect(card).not.toContainText('Bob commented');
  await expect(card).not.toContainText('Who found it?');

  // The thread's name goes to it: the resolved fold opened, the thread in view and focused.
  await onEvent.locator('.catch-up-thread-link').click();
  const there = thread(eventRow(b.page, 'Ransom note found on FS02'), 'Who found it?');
  await expect(there).toBeFocused({ timeout: 10_000 });
  await expect(there).toBeInViewport();
  await expect(there.getByTestId('comment-body')).toHaveText(['Who found it?', 'The night operator, at 00:40.\nShe called the SOC.']);
  // And the passage's thread, beside the summary.
  await onPassage.locator('.catch-up-thread-link').click();
  const bSummary = b.page.locator('section.prose').filter({ has: section(b.page, 'summary') });
  await expect(thread(bSummary, 'window.__pwned')).toBeFocused({ timeout: 10_000 });

  // Bob hands over: the open thread with its latest word, the one resolved during the shift.
  await expectSynced(b.page);
  await b.page.getByRole('button', { name: 'Hand over', exact: true }).click();
  await expect(b.page.locator('#handover-start')).toHaveValue(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  await b.page.locator('#handover-write').click();
  await expect(b.page.locator('#handover-result')).toBeVisible({ timeout: 15_000 });
  const notes = eventRow(b.page, 'Shift hand-off — Bob').getByTestId('event-notes');
  await expect(notes).toContainText('Open comment threads\n- On Summary: “encrypted” — Ana, ');
  await expect(notes).toContainText(hostile);
  await expect(notes).toContainText(
    'Comment threads resolved during the shift\n- On Timeline event “Ransom note found on FS02” — Ana, ',
  );
  await expect(notes).toContainText('(resolved by Ana, ');
  await b.page.keyboard.press('Escape');

  // The Markdown export carries the note; rendered as CommonMark with HTML allowed, the
  // comment's markup stays text.
  await b.page.locator('#export-button').click();
  const [file] = await Promise.all([b.page.waitForEvent('download'), b.page.locator('#export-markdown').click()]);
  const markdown = fs.readFileSync(await file.path(), 'utf8');
  expect(markdown).toContain('Open comment threads');
  const html = new MarkdownIt({ html: true, linkify: true }).render(markdown);
  expect(html).not.toMatch(/<img/i);
  expect(html).not.toMatch(/href="javascript:/i);
  expect(html).not.toContain('<strong>loud</strong>');
  expect(html).toContain('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;');
});

test('a thread whose next step was removed while Bob was away says so in his card and its name opens it at the page’s end', async ({
  person,
  relay,
}) => {
  const a = await person('Ana', laptop);
  const b = await person('Bob', laptop);
  const id = await createIncident(a.page, relay.url, { name: 'Ana', title: 'Removed while away' });
  await a.page.getByLabel('What needs doing').fill('Rotate the VPN keys');
  await a.page.getByRole('button', { name: 'Add step' }).click();
  await expectSynced(a.page);
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page);
  await expect.poll(async () => (await storedMark(b.page, id))?.size ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);
  const url = incidentUrl(b.page);
  await b.page.close();

  const step = a.page.locator('[data-testid="next-step"][data-title="Rotate the VPN keys"]');
  await commentOn(step, 'Who holds the keys?');
  // (The step's Delete, not the one on Ana's own comment.)
  await step.locator('button:not([data-testid^="comment"])').filter({ hasText: /^Delete$/ }).click();
  await step.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(a.page.getByTestId('removed-item-comments')).toHaveCount(1);
  await expectSynced(a.page);

  b.page = await b.context.newPage();
  await b.page.goto(url);
  const entry = b.page.locator('#catch-up .catch-up-thread');
  await expect(entry).toHaveCount(1, { timeout: 20_000 });
  await expect(entry.locator('.catch-up-thread-link')).toHaveText('Next step (removed): “Rotate the VPN keys”');
  await expect(entry.locator('.catch-up-comment')).toContainText('Ana commented — ');
  await expect(b.page.locator('#catch-up-summary')).toContainText('1 comment update since your mark at');

  await entry.locator('.catch-up-thread-link').click();
  const removed = b.page.getByTestId('removed-item-comments');
  await expect(removed).toHaveAttribute('open', '');
  const there = thread(removed, 'Who holds the keys?');
  await expect(there).toBeFocused({ timeout: 10_000 });
  await expect(there).toBeInViewport();
});

test('in a 1,000-event timeline the thread’s name brings its row into the windowed list and focuses the thread', async ({
  person,
  relay,
  yclients,
}) => {
  test.setTimeout(120_000);
  const a = await person('Ana', laptop);
  const b = await person('Bob', laptop);
  const id = await createIncident(a.page, relay.url, { name: 'Ana', title: 'A long night' });
  await expectSynced(a.page);
  // A bulk import through a stock Yjs client, invited like anyone else.
  const token = tokenOf(await shareLink(a.page, { name: 'Importer' }));
  const importer = yclients(relay.wsUrl, id, { name: 'importer', params: { token } });
  await importer.synced();
  seedTimeline(importer, Y, 1_000);
  await openIncident(b.page, await shareLink(a.page, { name: 'Bob' }), { name: 'Bob' });
  await expectSynced(b.page, 30_000);
  await expect.poll(async () => (await storedMark(b.page, id))?.size ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
  const url = incidentUrl(b.page);
  await b.page.close();

  // While Bob is away a comment lands on the event in the middle of the timeline (written
  // as the model lays it out, by the stock client).
  const comment = new Y.Map();
  importer.map('comments').set('c-middle', comment);
  comment.set('kind', 'comment');
  comment.set('thread', '');
  comment.set('anchor', 'timeline:seed-000500');
  comment.set('quote', 'Seeded event 500');
  comment.set('body', 'This host talked to the C2 too.');
  comment.set('author', 'importer');
  comment.set('author_invite', '');
  comment.set('created_at', new Date().toISOString());
  await expect(eventRow(a.page, 'Seeded event 0')).toHaveCount(1, { timeout: 30_000 });

  b.page = await b.context.newPage();
  const started = Date.now();
  await b.page.goto(url);
  const entry = b.page.locator('#catch-up .catch-up-thread');
  await expect(entry).toHaveCount(1, { timeout: 60_000 });
  console.log(`1,000 events: the comment thread listed ${Date.now() - started} ms after Bob came back`);
  await expect(entry.locator('.catch-up-thread-link')).toHaveText('Timeline event “Seeded event 500”');
  await expect(entry.locator('.catch-up-comment')).toContainText('importer commented — ');
  await expect(eventRow(b.page, 'Seeded event 500')).toHaveCount(0);

  await entry.locator('.catch-up-thread-link').click();
  const there = thread(eventRow(b.page, 'Seeded event 500'), 'This host talked to the C2 too.');
  await expect(there).toBeFocused({ timeout: 15_000 });
  await expect(there).toBeInViewport();
});
