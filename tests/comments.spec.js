// Comments, in real Chromium against the real relay: Ana comments on a timeline event and on
// a passage of the summary, Ben sees both live, replies, Ana resolves and Ben sees it folded
// as resolved; the passage follows Ben's typing before it. Replies written at once, one of
// them offline, are both kept after reconnecting, in the same order on both devices. On a
// phone the thread sits under the item, on a laptop beside it. A viewer reads threads but has
// nothing to comment with. Only a comment's author edits or deletes it (a tombstone).
import { test, expect } from './support/fixtures.js';
import { commentOn, thread } from './support/comments.js';
import { createIncident, expectSynced, openIncident, section, shareLink } from './support/app.js';
import { addEvent, correct, editEvent, eventRow } from './support/evidence.js';

const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const laptop = { viewport: { width: 1280, height: 900 } };

/** Ana's incident with one event, Ben in it as an editor (with `benOptions` for his context). */
async function anaAndBen(person, relay, benOptions = laptop) {
  const a = await person('Ana', laptop);
  const b = await person('Ben', benOptions);
  await createIncident(a.page, relay.url, { name: 'Ana', title: 'Ransomware on the file servers' });
  await addEvent(a.page, { what: 'Ransom note found on FS02' });
  await expectSynced(a.page);
  await openIncident(b.page, await shareLink(a.page, { name: 'Ben' }), { name: 'Ben' });
  await expectSynced(b.page);
  await expect(eventRow(b.page, 'Ransom note found on FS02')).toHaveCount(1, { timeout: 15_000 });
  return { a, b };
}

/** Replies `body` to a thread. */
async function reply(threadLocator, body) {
  await threadLocator.getByLabel('Reply', { exact: true }).fill(body);
  await threadLocator.getByRole('button', { name: 'Reply', exact: true }).click();
}

/** Selects `passage` of a prose section's text, as a mouse drag would. */
async function select(page, key, passage) {
  await section(page, key).evaluate((area, passage) => {
    const start = area.value.indexOf(passage);
    area.focus();
    area.setSelectionRange(start, start + passage.length);
  }, passage);
}

test('a comment on an event and on a passage reach the other person live; reply, resolve', async ({
  person,
  relay,
}) => {
  const { a, b } = await anaAndBen(person, relay);
  await section(a.page, 'summary').fill('The laptop beaconed to evil.example at night.');

  // On the event: Ben sees it live.
  const started = Date.now();
  await commentOn(eventRow(a.page, 'Ransom note found on FS02'), 'Which share was it on?');
  const bRow = eventRow(b.page, 'Ransom note found on FS02');
  const onEvent = thread(bRow, 'Which share was it on?');
  await expect(onEvent).toHaveCount(1, { timeout: 15_000 });
  console.log(`a comment showed in the other browser ${Date.now() - started} ms after Ana pressed Comment`);
  // On a passage of the summary: select it, then "Comment on selection".
  await select(a.page, 'summary', 'evil.example');
  const summary = a.page.locator('section.prose').filter({ has: section(a.page, 'summary') });
  await summary.getByTestId('comment-button').click();
  await expect(summary.getByTestId('comment-new-quote')).toHaveText('“evil.example”');
  await summary.getByTestId('comment-input').fill('Is this domain in the blocklist yet?');
  await summary.getByTestId('comment-send').click();
  await expectSynced(a.page);

  // Ben sees both, with the author.
  await expect(onEvent.getByTestId('comment-author')).toHaveText('Ana');
  const bSummary = b.page.locator('section.prose').filter({ has: section(b.page, 'summary') });
  const onPassage = thread(bSummary, 'Is this domain in the blocklist yet?');
  await expect(onPassage).toHaveCount(1, { timeout: 15_000 });
  await expect(onPassage.getByTestId('comment-quote')).toHaveText('“evil.example”');

  // Ben types before the passage: the thread still points at the same words.
  await section(b.page, 'summary').fill('Overnight: the laptop beaconed to evil.example at night.');
  await expectSynced(b.page);
  await expect(section(a.page, 'summary')).toHaveValue(/^Overnight: /, { timeout: 15_000 });
  const aPassage = thread(summary, 'Is this domain in the blocklist yet?');
  await expect(aPassage.getByTestId('comment-quote')).toHaveText('“evil.example”');
  // The quote selects the passage where it is now.
  await aPassage.getByTestId('comment-quote').click();
  const picked = await section(a.page, 'summary').evaluate((t) => t.value.slice(t.selectionStart, t.selectionEnd));
  expect(picked).toBe('evil.example');

  // On a laptop the thread is beside the event, not under it.
  const what = bRow.getByTestId('event-what');
  const [whatBox, asideBox] = [await what.boundingBox(), await bRow.getByTestId('comments').boundingBox()];
  expect(asideBox.x, 'the thread is to the right of the event').toBeGreaterThanOrEqual(whatBox.x + whatBox.width - 1);
  expect(asideBox.y).toBeLessThan(whatBox.y + whatBox.height);

  // Ben replies; Ana sees it.
  await reply(onEvent, 'FS02\\finance, mapped as F:');
  const aThread = thread(eventRow(a.page, 'Ransom note found on FS02'), 'Which share was it on?');
  await expect(aThread.getByTestId('comment-body')).toHaveText(['Which share was it on?', 'FS02\\finance, mapped as F:'], {
    timeout: 15_000,
  });
  await expect(aThread.getByTestId('comment-author')).toHaveText(['Ana', 'Ben']);

  // Ana resolves; Ben sees it folded as resolved.
  await aThread.getByTestId('comment-resolve').click();
  await expect(aThread).toHaveAttribute('data-resolved', 'true');
  const folded = bRow.getByTestId('resolved-threads');
  await expect(folded.locator('summary')).toHaveText('1 resolved comment', { timeout: 15_000 });
  await expect(onEvent).toHaveAttribute('data-resolved', 'true');
  await expect(onEvent).toBeHidden();
  await folded.locator('summary').click();
  await expect(onEvent.getByTestId('comment-resolved-by')).toContainText('Resolved by Ana');
  // Ben reopens it from the fold.
  await onEvent.getByTestId('comment-resolve').click();
  await expect(thread(eventRow(a.page, 'Ransom note found on FS02'), 'Which share was it on?')).toHaveAttribute(
    'data-resolved',
    'false',
    { timeout: 15_000 },
  );

  // A viewer reads the threads but has nothing to comment with.
  const c = await person('Cy', laptop);
  await openIncident(c.page, await shareLink(a.page, { name: 'Cy', role: 'viewer' }), { name: 'Cy' });
  await expect(c.page.locator('main')).toHaveAttribute('data-access', 'viewer');
  const cRow = eventRow(c.page, 'Ransom note found on FS02');
  await expect(thread(cRow, 'Which share was it on?')).toHaveCount(1, { timeout: 15_000 });
  await expect(c.page.getByTestId('comment-button')).toHaveCount(0);
  await expect(c.page.getByTestId('comment-input')).toHaveCount(0);
  await expect(c.page.getByTestId('comment-resolve')).toHaveCount(0);
});

test('replies written at once, one of them offline, are both kept in the same order', async ({
  person,
  relay,
}) => {
  const { a, b } = await anaAndBen(person, relay);
  await commentOn(eventRow(a.page, 'Ransom note found on FS02'), 'Who isolated FS02?');
  await expectSynced(a.page);
  const bThread = thread(eventRow(b.page, 'Ransom note found on FS02'), 'Who isolated FS02?');
  await expect(bThread).toHaveCount(1, { timeout: 15_000 });

  // Ben starts a reply; Ana corrects the event meanwhile, which draws Ben's row again: his
  // unsent text is still in the box.
  await bThread.getByLabel('Reply', { exact: true }).fill('I did');
  const firstBox = await bThread.getByLabel('Reply', { exact: true }).elementHandle();
  const editor = await editEvent(eventRow(a.page, 'Ransom note found on FS02'));
  await correct(editor.getByLabel('Source'), 'EDR console');
  await expect(eventRow(b.page, 'Ransom note found on FS02')).toContainText('Source: EDR console', { timeout: 15_000 });
  expect(await firstBox.evaluate((box) => box.isConnected), 'the row was drawn again').toBe(false);
  await expect(bThread.getByLabel('Reply', { exact: true })).toHaveValue('I did');

  await b.link.cut();
  await reply(bThread, 'I did, at 06:10 (offline reply)');
  const aThread = thread(eventRow(a.page, 'Ransom note found on FS02'), 'Who isolated FS02?');
  await reply(aThread, 'Thanks — online reply');
  await expectSynced(a.page);
  await b.link.restore();
  await expectSynced(b.page, 30_000);

  const both = ['Who isolated FS02?', 'I did, at 06:10 (offline reply)', 'Thanks — online reply'];
  await expect(aThread.getByTestId('comment-body')).toHaveText(both, { timeout: 15_000 });
  await expect(bThread.getByTestId('comment-body')).toHaveText(both, { timeout: 15_000 });
  // Both survive a reload (stored on the device, and on the relay).
  await b.page.reload();
  await expect(
    thread(eventRow(b.page, 'Ransom note found on FS02'), 'Who isolated FS02?').getByTestId('comment-body'),
  ).toHaveText(both, { timeout: 15_000 });
});

test('on a phone the thread is under the item it is on', async ({ person, relay }) => {
  const { a, b } = await anaAndBen(person, relay, phone);
  await commentOn(eventRow(a.page, 'Ransom note found on FS02'), 'Photo of the note?');
  const row = eventRow(b.page, 'Ransom note found on FS02');
  const aside = row.getByTestId('comments');
  await expect(thread(row, 'Photo of the note?')).toHaveCount(1, { timeout: 15_000 });
  await aside.scrollIntoViewIfNeeded();
  const whatBox = await row.getByTestId('event-what').boundingBox();
  const asideBox = await aside.boundingBox();
  expect(asideBox.y, 'the thread starts below the event text').toBeGreaterThanOrEqual(whatBox.y + whatBox.height);
  expect(asideBox.x).toBeLessThan(whatBox.x + 20);
  // Nothing scrolls sideways, and Ben can reply from the phone.
  const sideways = await b.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(sideways).toBeLessThanOrEqual(0);
  await reply(thread(row, 'Photo of the note?'), 'Uploading it now');
  await expect(
    thread(eventRow(a.page, 'Ransom note found on FS02'), 'Photo of the note?').getByTestId('comment-body'),
  ).toHaveText(['Photo of the note?', 'Uploading it now'], { timeout: 15_000 });
});

test('only the author edits or deletes a comment; the others see the edit and the deletion live', async ({
  person,
  relay,
}) => {
  const { a, b } = await anaAndBen(person, relay);
  const aRow = eventRow(a.page, 'Ransom note found on FS02');
  await commentOn(aRow, 'Which share was it on?');
  await expectSynced(a.page);
  const bRow = eventRow(b.page, 'Ransom note found on FS02');
  const bThread = thread(bRow, 'Which share was it on?');
  await expect(bThread).toHaveCount(1, { timeout: 15_000 });
  await reply(bThread, 'FS02, I think');
  const aThread = thread(aRow, 'Which share was it on?');
  await expect(aThread.getByTestId('comment')).toHaveCount(2, { timeout: 15_000 });

  // Ben cannot edit or delete Ana's comment: no Edit or Delete on it; he has them on his own.
  const anasOnB = bThread.getByTestId('comment').first();
  const bensOnB = bThread.getByTestId('comment').nth(1);
  await expect(bensOnB.getByTestId('comment-edit')).toBeVisible();
  await expect(anasOnB.getByTestId('comment-edit')).toHaveCount(0);
  await expect(anasOnB.getByTestId('comment-delete')).toHaveCount(0);
  // Nor can Ana touch Ben's.
  await expect(aThread.getByTestId('comment').nth(1).getByTestId('comment-edit')).toHaveCount(0);

  // Ana edits hers; Ben sees the new text live, marked as edited.
  const anas = aThread.getByTestId('comment').first();
  await anas.getByTestId('comment-edit').click();
  await expect(anas.getByTestId('comment-edit-input')).toHaveValue('Which share was it on?');
  await anas.getByTestId('comment-edit-input').fill('Which share and which host was it on?');
  await anas.getByTestId('comment-save').click();
  const bThreadNow = bRow.getByTestId('comment-thread').first();
  await expect(bThreadNow.getByTestId('comment-body')).toHaveText(
    ['Which share and which host was it on?', 'FS02, I think'],
    { timeout: 15_000 },
  );
  await expect(bThreadNow.getByTestId('comment').first()).toContainText('(edited ');

  // Ana deletes it (after confirming): the thread and Ben's reply stay, her text is gone.
  const edited = aRow.getByTestId('comment-thread').first().getByTestId('comment').first();
  await edited.getByTestId('comment-delete').click();
  await edited.getByTestId('comment-delete-confirm').click();
  for (const page of [a.page, b.page]) {
    const t = eventRow(page, 'Ransom note found on FS02').getByTestId('comment-thread').first();
    await expect(t.getByTestId('comment-deleted')).toHaveText(/^Comment deleted by Ana at /, { timeout: 15_000 });
    await expect(t).not.toContainText('Which share and which host');
    await expect(t.getByTestId('comment-body')).toHaveText(['FS02, I think']);
  }
  // Still deleted after a reload.
  await b.page.reload();
  await expect(
    eventRow(b.page, 'Ransom note found on FS02').getByTestId('comment-deleted'),
  ).toHaveText(/^Comment deleted by Ana/, { timeout: 15_000 });
});

test('threads on a removed item are kept in a folded list at the end of the page', async ({ person, relay }) => {
  const { a, b } = await anaAndBen(person, relay);
  await a.page.getByLabel('What needs doing').fill('Rotate the VPN keys');
  await a.page.getByRole('button', { name: 'Add step' }).click();
  const stepOf = (page) => page.locator('[data-testid="next-step"][data-title="Rotate the VPN keys"]');
  await expect(stepOf(b.page)).toHaveCount(1, { timeout: 15_000 });
  await commentOn(stepOf(b.page), 'Who holds the keys?');
  await expectSynced(b.page);
  await expect(thread(stepOf(a.page), 'Who holds the keys?')).toHaveCount(1, { timeout: 15_000 });
  for (const page of [a.page, b.page]) await expect(page.getByTestId('removed-item-comments')).toHaveCount(0);

  // Ana deletes the step: the thread is not lost, it is listed (folded) at the end of the page.
  await stepOf(a.page).getByRole('button', { name: 'Delete', exact: true }).click();
  await stepOf(a.page).getByRole('button', { name: 'Yes, delete' }).click();
  for (const page of [a.page, b.page]) {
    const removed = page.getByTestId('removed-item-comments');
    await expect(removed.locator('summary')).toHaveText('Comments on removed items (1)', { timeout: 15_000 });
    await expect(removed.getByTestId('comment-thread')).toBeHidden();
    await removed.locator('summary').click();
    await expect(removed.getByTestId('removed-item-label')).toHaveText('Next step (removed): “Rotate the VPN keys”');
    await expect(removed.getByTestId('comment-body')).toHaveText(['Who holds the keys?']);
  }
  // It is still a thread: Ana replies there and Ben sees it.
  await reply(a.page.getByTestId('removed-item-comments').getByTestId('comment-thread'), 'Nobody now, the step is gone');
  await expect(b.page.getByTestId('removed-item-comments').getByTestId('comment-body')).toHaveText(
    ['Who holds the keys?', 'Nobody now, the step is gone'],
    { timeout: 15_000 },
  );
});
