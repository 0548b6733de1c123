// The "standard fixtures": a filled-in phishing-to-ransomware incident, as a responder team
// would have it a few hours in. The person's page creates it and pastes the indicators
// through the UI; a stock Yjs client with an editor's link writes the rest (summary, events,
// next steps with long titles and due times, answers, the commander) in one change.
import crypto from 'node:crypto';
import { expect } from '@playwright/test';
import { Y } from './yjs-client.js';
import { createIncident, expectSynced, shareLink, tokenOf } from './app.js';
import { pasteIndicators } from './evidence.js';

export const TITLE = 'Phishing to ransomware at the finance department';

export const SUMMARY = [
  'A finance clerk opened an invoice attachment on Monday; the macro dropped a loader.',
  'Two file servers were encrypted overnight; backups are intact and being checked.',
  'No evidence of data leaving the network yet. Legal and the insurer are informed.',
  'Fourth line, which the overview leaves out.',
].join('\n');

/** [minutes before "now", what happened]: nine events. */
export const EVENTS = [
  [600, 'Phishing mail with invoice.docm received by 14 people in finance'],
  [570, 'Clerk opens the attachment; macro runs and fetches the loader'],
  [540, 'Loader beacons to hxxps://cdn-invoices[.]example every 60 s'],
  [420, 'Credential dumping on FIN-WS-07 (LSASS access seen by EDR)'],
  [300, 'Lateral movement to FS-01 over SMB with the clerk\u2019s admin token'],
  [240, 'Ransomware starts encrypting shares on FS-01 and FS-02'],
  [200, 'Helpdesk gets the first "files will not open" calls'],
  [150, 'FS-01 and FS-02 isolated from the network'],
  [90, 'Backups of FS-01 verified readable from the offline copy'],
];

export const INDICATORS = [
  'hxxps://cdn-invoices[.]example/loader.bin',
  'cdn-invoices[.]example',
  '203.0.113.45',
  '198.51.100.23',
  'invoice-payments[.]example',
  'billing@invoice-payments[.]example',
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '5d41402abc4b2a76b9719d911017c592',
  '2001:db8::bad:1',
  'hxxp://198.51.100.23:8080/gate.php',
];

/** [title, owner, minutes from "now" it is due (null: no due time), status]. */
export const STEPS = [
  ['Reset the passwords of all 14 finance mail recipients and revoke their sessions', 'Alice', -30, 'open'],
  ['Restore FS-01 from the verified offline backup and check the restored shares with finance', 'Bob', 120, 'doing'],
  ['Block cdn-invoices.example and invoice-payments.example on the proxy and the mail gateway', 'Chen', 45, 'open'],
  ['Tell the data protection officer whether personal data was on the encrypted shares', 'Dana', 24 * 60, 'open'],
  ['Collect the EDR timeline of FIN-WS-07 for the insurer', 'Alice', null, 'done'],
];

/** Will-be-asked questions answered, and how (6 of 8; the post-mortem not yet). */
export const ANSWERS = [
  ['our_data', 'yes', 'Our file servers FS-01 and FS-02.'],
  ['breach', 'partly', 'Shares encrypted; no sign of exfiltration so far.'],
  ['service', 'partly', 'Finance works from paper until FS-01 is restored.'],
  ['origin', 'yes', 'A phishing mail to the finance team.'],
  ['timestamped', 'yes', 'EDR and proxy logs, kept 90 days.'],
  ['rollback', 'yes', 'Offline backup from Sunday night, verified.'],
];
export const ANSWERED = { questions: '6/8 answered', postmortem: '0/5 answered' };
export const COMMANDER = 'Alice';

const iso = (ms) => new Date(ms).toISOString();

/**
 * Creates the standard incident in `page` (as Alice) and fills it. `now` is the time the
 * page's clock shows (ms; Date.now() unless the test installed a clock). Returns the
 * incident id once the page shows everything.
 */
export async function standardIncident(page, relay, yclients, { now = Date.now() } = {}) {
  const id = await createIncident(page, relay.url, { name: 'Alice', title: TITLE });
  await pasteIndicators(page, INDICATORS.join('\n'));
  await expect(page.locator('[data-testid="indicator"]')).toHaveCount(INDICATORS.length);
  const writer = yclients(relay.wsUrl, id, {
    name: 'fixtures',
    params: { token: tokenOf(await shareLink(page, { name: 'Fixture writer' })) },
  });
  await writer.synced();
  const doc = writer.doc;
  doc.transact(() => {
    doc.getText('summary').insert(0, SUMMARY);
    const timeline = doc.getMap('timeline');
    for (const [ago, what] of EVENTS) {
      const e = new Y.Map();
      timeline.set(crypto.randomBytes(8).toString('hex'), e);
      e.set('occurred_at', iso(now - ago * 60_000));
      e.set('what', what);
      e.set('source', 'EDR');
      e.set('data_link', '');
      e.set('author', 'Bob');
      e.set('include_in_report', true);
    }
    const steps = doc.getMap('next_steps');
    STEPS.forEach(([title, owner, dueIn, status], i) => {
      const s = new Y.Map();
      steps.set(`step-${i}`, s);
      s.set('title', title);
      s.set('owner', owner);
      s.set('status', status);
      s.set('due', dueIn === null ? '' : iso(now + dueIn * 60_000));
      s.set('created_by', 'Alice');
      s.set('created_at', iso(now - 60 * 60_000 + i * 1000));
    });
    const questions = doc.getMap('questions');
    for (const [key, status, answer] of ANSWERS) {
      questions.set(`${key}.status`, status);
      questions.set(`${key}.answer`, answer);
      questions.set(`${key}.by`, 'Bob');
    }
    const commander = new Y.Map();
    doc.getMap('roles').set('commander', commander);
    commander.set('holder', COMMANDER);
    commander.set('since', iso(now - 500 * 60_000));
  });
  await expect(page.locator('[data-testid="next-step"]')).toHaveCount(STEPS.length, { timeout: 15_000 });
  await expect(page.locator('[data-testid="timeline-event"]')).toHaveCount(EVENTS.length);
  await expect(page.locator('#text-summary')).toHaveValue(SUMMARY);
  await expectSynced(page);
  return id;
}
