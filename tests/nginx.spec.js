// The relay behind a real nginx running the README's site config (docs/nginx.conf, TLS
// included), as it is deployed on the internet. Clients come from different source
// addresses (all of 127/8 is loopback here): each address has its own failure budget and its
// own connection count, and a forged X-Forwarded-For buys nobody a fresh budget.
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { test as base, expect } from './support/fixtures.js';
import { expectSynced, openIncident, requireBuiltApp, section, watchConsole } from './support/app.js';
import { newIncidentId } from './support/incidents.js';
import { deviceFor } from './support/access.js';
import { SITE_CONFIG, canBind, startNginx } from './support/nginx.js';
import { freePort, startRelay } from './support/relay.js';

const CREATE_SECRET = 'nginx-test-create-secret';
const PER_ADDRESS = 3;
const SLOW_DOWN = /^too many failed attempts; wait \d+ s$/;

const test = base.extend({
  /** Whether the relay names nginx with --trusted-proxy, as the README says (true) or not (the control). */
  trustProxy: [true, { option: true }],
  /** A relay started the README's way, with nginx in front of it: { relay, nginx }. */
  proxied: async ({ trustProxy }, use, testInfo) => {
    for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
      if (!(await canBind(address))) throw new Error(`cannot bind ${address}: this test needs all of 127/8 on loopback`);
    }
    const port = await freePort();
    const relay = await startRelay({
      args: [
        '--public-url', `https://127.0.0.1:${port}`,
        ...(trustProxy ? ['--trusted-proxy', '127.0.0.1'] : []),
        '--create-secret', CREATE_SECRET,
        '--max-connections-per-address', String(PER_ADDRESS),
      ],
    });
    let nginx = null;
    try {
      nginx = await startNginx({ upstreamPort: relay.port, port });
      await use({ relay, nginx });
    } finally {
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach('relay output', { body: relay.log(), contentType: 'text/plain' });
        if (nginx) await testInfo.attach('nginx logs', { body: nginx.log(), contentType: 'text/plain' });
      }
      if (nginx) await nginx.stop();
      await relay.cleanup();
    }
  },
});

/** An incident created through nginx the README's way (with the creation secret), and an invite. */
async function incidentThrough(nginx, { invite = [] } = {}) {
  const created = await nginx.request('POST', '/api/incidents', {
    token: CREATE_SECRET,
    body: { incident: newIncidentId('nginx'), name: 'Owner' },
  });
  expect(created.status, `create through nginx: ${created.text}`).toBe(201);
  const { incident, token } = created.json;
  const invites = {};
  for (const { name, role = 'editor' } of invite) {
    const made = await nginx.request('POST', `/api/incidents/${incident}/invites`, { token, body: { name, role } });
    expect(made.status, `invite ${name} through nginx: ${made.text}`).toBe(201);
    invites[name] = made.json;
  }
  return { incident, token, invites };
}

/**
 * One websocket through nginx from `from` (a 127/8 address), with `token` and extra headers.
 * Resolves to how it ended within `ms`: { code, reason } if the relay closed it, or
 * { open: true, socket } if it is still open (a valid token was let in; the caller closes it).
 */
async function attempt(nginx, incident, { from, token, headers = {}, ms = 1_500 } = {}) {
  // An invite is opened with a device id, as stock clients send it (support/access.js).
  const query = token ? `?token=${encodeURIComponent(token)}&device=${deviceFor(token)}` : '';
  const url = `${nginx.wsUrl}/${incident}${query}`;
  const socket = new WebSocket(url, { ca: nginx.ca, localAddress: from, headers });
  socket.on('error', () => {});
  const closed = new Promise((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    socket.on('unexpected-response', (_req, res) => {
      resolve({ code: null, reason: `HTTP ${res.statusCode}` });
      socket.terminate();
    });
  });
  const opened = new Promise((resolve) => socket.on('open', resolve));
  const outcome = await Promise.race([closed, opened.then(() => new Promise((r) => setTimeout(r, ms))).then(() => null)]);
  if (outcome) return outcome;
  return { open: true, socket };
}

/** Guesses wrong secrets from `from` until the relay says 4429; resolves to the codes seen. */
async function guessUntilSlowed(nginx, incident, from, headers = {}) {
  const codes = [];
  for (let i = 0; i < 30; i++) {
    const result = await attempt(nginx, incident, { from, headers, token: `0123456789abcdef.${'f'.repeat(31)}${i % 10}` });
    expect(result.open, `a wrong secret from ${from} is never let in`).toBeUndefined();
    codes.push(result.code);
    if (result.code === 4429) {
      expect(result.reason).toMatch(SLOW_DOWN);
      return codes;
    }
    expect(result.code).toBe(4403);
  }
  throw new Error(`no 4429 from the relay after 30 wrong secrets from ${from}: ${codes.join(', ')}`);
}

test('the README shows the nginx config this test runs', () => {
  const readme = fs.readFileSync(path.resolve(path.dirname(SITE_CONFIG), '../README.md'), 'utf8');
  const shown = readme.match(/```nginx\n([\s\S]*?)```/);
  expect(shown, 'README.md has an nginx block').not.toBeNull();
  expect(shown[1]).toBe(fs.readFileSync(SITE_CONFIG, 'utf8'));
});

test('through nginx: the app loads over TLS, opens an invite link and syncs with a stock client', async ({ browser, proxied, yclients }, testInfo) => {
  requireBuiltApp();
  const { nginx } = proxied;
  const { incident, invites } = await incidentThrough(nginx, { invite: [{ name: 'Alice' }, { name: 'Bob' }] });
  // The link the relay hands out points at the public address, the proxy.
  expect(invites.Alice.link).toMatch(new RegExp(`^${nginx.url}/incident/${incident}#invite=`));

  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const log = watchConsole(page, 'Alice');
  try {
    const served = await page.goto(`${nginx.url}/`);
    // What the relay says about the page reaches the browser through the proxy.
    expect(served.headers()['content-security-policy']).toContain("connect-src 'self'");
    await openIncident(page, invites.Alice.link, { name: 'Alice' });
    await expect(page.locator('main')).toHaveAttribute('data-access', 'editor');
    await section(page, 'summary').fill('Typed in Chromium, through nginx.');
    await expectSynced(page);

    const bob = yclients(nginx.wsUrl, incident, {
      name: 'Bob',
      params: { token: invites.Bob.token },
      socket: { ca: nginx.ca, localAddress: '127.0.0.3' },
    });
    await bob.synced();
    await expect.poll(() => bob.text('summary').toString()).toBe('Typed in Chromium, through nginx.');
    bob.text('theories').insert(0, 'Written by a stock client, through nginx.');
    await expect(section(page, 'theories')).toHaveValue('Written by a stock client, through nginx.');

    // The sockets really went through nginx: once closed, its access log has both upgrades.
    await context.close();
    bob.destroy();
    await expect
      .poll(() => nginx.accessLog().match(/"GET \/sync\/[^ ]+ HTTP\/1\.1" 101 /g)?.length ?? 0)
      .toBeGreaterThanOrEqual(2);
    // The app sends its secret as a subprotocol, never in the URL: nginx's default access log
    // does not hold Alice's. A stock client's `?token=` (kept for compatibility) is logged,
    // as README warns.
    const secret = (invite) => invite.token.split('.')[1];
    expect(nginx.accessLog()).not.toContain(secret(invites.Alice));
    expect(nginx.accessLog()).toContain(secret(invites.Bob));
  } catch (err) {
    await testInfo.attach('console of Alice', { body: log.join('\n') || '(empty)', contentType: 'text/plain' });
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
});

test('through nginx: one address guessing is slowed down, another address is not, and a forged X-Forwarded-For changes nothing', async ({ proxied, yclients }) => {
  const { nginx } = proxied;
  const { incident, invites } = await incidentThrough(nginx, { invite: [{ name: 'Carol' }] });

  // 127.0.0.2 guesses until the relay slows it down.
  const codes = await guessUntilSlowed(nginx, incident, '127.0.0.2');
  test.info().annotations.push({ type: 'guessing through nginx', description: `127.0.0.2: ${codes.join(', ')}` });

  // Forging the header to look like someone else buys no fresh budget: nginx appends the
  // real address and the relay takes the right-most one it does not trust.
  for (const forged of ['203.0.113.7', '127.0.0.1', '127.0.0.3', '203.0.113.7, 198.51.100.9']) {
    const result = await attempt(nginx, incident, {
      from: '127.0.0.2',
      token: `0123456789abcdef.${'e'.repeat(32)}`,
      headers: { 'x-forwarded-for': forged },
    });
    expect(result.code, `127.0.0.2 claiming to be ${forged}`).toBe(4429);
  }

  // Another address is a stranger to that budget: its wrong secret is just wrong (4403) and
  // its valid link opens, through the same nginx, at the same time.
  const other = await attempt(nginx, incident, { from: '127.0.0.3', token: `0123456789abcdef.${'d'.repeat(32)}` });
  expect(other.code, 'a wrong secret from 127.0.0.3').toBe(4403);
  const carol = yclients(nginx.wsUrl, incident, {
    name: 'Carol from 127.0.0.3',
    params: { token: invites.Carol.token },
    socket: { ca: nginx.ca, localAddress: '127.0.0.3' },
  });
  await carol.synced();
  // Nor can anyone claim to be the guesser: 127.0.0.4 saying it is 127.0.0.2 is judged as
  // 127.0.0.4 (a wrong secret, 4403), not as the address that is slowed down.
  const claimed = await attempt(nginx, incident, {
    from: '127.0.0.4',
    token: `0123456789abcdef.${'c'.repeat(32)}`,
    headers: { 'x-forwarded-for': '127.0.0.2' },
  });
  expect(claimed.code, '127.0.0.4 claiming to be 127.0.0.2').toBe(4403);

  // The API tells the same story: 429 with Retry-After for the guesser's wrong secrets, 200
  // for the other; and guessing never locks out a valid token, even from the guesser's own
  // address (issue 13: failures are counted against wrong secrets, not against the holder).
  const slowed = await nginx.request('GET', `/api/incidents/${incident}/me`, {
    token: `0123456789abcdef.${'b'.repeat(32)}`,
    localAddress: '127.0.0.2',
    headers: { 'x-forwarded-for': '198.51.100.1' },
  });
  expect(slowed.status).toBe(429);
  expect(Number(slowed.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  const holder = await nginx.request('GET', `/api/incidents/${incident}/me`, { token: invites.Carol.token, localAddress: '127.0.0.2' });
  expect([holder.status, holder.json?.name]).toEqual([200, 'Carol']);
  const fine = await nginx.request('GET', `/api/incidents/${incident}/me`, { token: invites.Carol.token, localAddress: '127.0.0.4' });
  expect([fine.status, fine.json?.name]).toEqual([200, 'Carol']);
});

test(`through nginx: ${PER_ADDRESS} connections per address, counted for each address on its own`, async ({ proxied }) => {
  const { nginx } = proxied;
  const { incident, invites } = await incidentThrough(nginx, { invite: [{ name: 'Dave' }] });
  const token = invites.Dave.token;
  const open = [];
  try {
    for (let i = 0; i < PER_ADDRESS; i++) {
      const result = await attempt(nginx, incident, { from: '127.0.0.2', token, ms: 300 });
      expect(result.open, `connection ${i + 1} from 127.0.0.2 is let in`).toBe(true);
      open.push(result.socket);
    }
    const over = await attempt(nginx, incident, { from: '127.0.0.2', token, ms: 1_000 });
    expect(over.code, `connection ${PER_ADDRESS + 1} from 127.0.0.2`).toBe(1008);
    const forged = await attempt(nginx, incident, { from: '127.0.0.2', token, headers: { 'x-forwarded-for': '203.0.113.9' }, ms: 1_000 });
    expect(forged.code, '127.0.0.2 claiming another address').toBe(1008);
    // Other addresses behind the same nginx are not counted against it.
    for (const from of ['127.0.0.3', '127.0.0.4']) {
      for (let i = 0; i < PER_ADDRESS; i++) {
        const result = await attempt(nginx, incident, { from, token, ms: 300 });
        expect(result.open, `connection ${i + 1} from ${from} is let in`).toBe(true);
        open.push(result.socket);
      }
    }
    // A place given back is a place free again.
    open.shift().close();
    await expect
      .poll(async () => {
        const again = await attempt(nginx, incident, { from: '127.0.0.2', token, ms: 300 });
        if (again.open) open.push(again.socket);
        return again.open ? 'let in' : again.code;
      }, { timeout: 10_000 })
      .toBe('let in');
  } finally {
    for (const socket of open) socket.terminate();
  }
});

test.describe('without --trusted-proxy', () => {
  test.use({ trustProxy: false });

  test('every client behind nginx shares its address: one guesser slows down every other address', async ({ proxied }) => {
    // The control for the tests above: what --trusted-proxy changes.
    const { nginx } = proxied;
    const { incident, invites } = await incidentThrough(nginx, { invite: [{ name: 'Erin' }] });
    await guessUntilSlowed(nginx, incident, '127.0.0.2');
    const other = await attempt(nginx, incident, { from: '127.0.0.3', token: `0123456789abcdef.${'d'.repeat(32)}` });
    expect(other.code, "a wrong secret from another address, once the proxy's address is slowed down").toBe(4429);
    // A valid link is still let in: guessing never locks out a holder.
    const erin = await attempt(nginx, incident, { from: '127.0.0.3', token: invites.Erin.token, ms: 300 });
    expect(erin.open, 'a valid link from another address').toBe(true);
    erin.socket.terminate();
  });
});
