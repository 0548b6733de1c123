// Stock Yjs clients (yjs + y-websocket, as any app of the Yjs ecosystem would run them)
// against the real relay: convergence, late joiners, awareness, bad input, crash durability.
// Incidents are invite-only: each test registers its incident through the API and every
// client joins with the owner's token (`params: { token }`); access.spec.js tests who is let in.
import WebSocket from 'ws';
import * as encoding from 'lib0/encoding';
import { test, expect } from './support/fixtures.js';
import { registeredIncident } from './support/incidents.js';
import { Y, canonical } from './support/yjs-client.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls until two clients hold the same content and the same state vector. */
async function expectConverged(a, b, names, timeout = 10_000) {
  const view = (c) => canonical({ content: c.content(names), stateVector: c.stateVector() });
  await expect
    .poll(
      () => {
        const [va, vb] = [view(a), view(b)];
        return va === vb ? 'converged' : `${a.name}: ${va}\n${b.name}: ${vb}`;
      },
      { timeout, message: `${a.name} and ${b.name} converge` },
    )
    .toBe('converged');
}

test.describe('stock Yjs clients through the relay', () => {
  test('concurrent edits to a Y.Text and a Y.Map converge', async ({ relay, yclients }) => {
    const { incident: room, auth } = await registeredIncident(relay);
    const a = yclients(relay.wsUrl, room, { name: 'A', ...auth });
    const b = yclients(relay.wsUrl, room, { name: 'B', ...auth });
    await Promise.all([a.synced(), b.synced()]);

    // Truly concurrent: both edits happen before either side can have seen the other's.
    a.text('summary').insert(0, 'On 2024-03-01 ACME was notified. ');
    b.text('summary').insert(0, 'Phishing led to credential theft. ');
    a.map('meta').set('title', 'Credential theft');
    b.map('meta').set('tlp', 'AMBER');
    a.map('meta').set('owner', 'alice'); // same key on both sides: one must win everywhere
    b.map('meta').set('owner', 'bob');
    const evA = new Y.Map();
    evA.set('what', 'phishing mail received');
    evA.set('when', '2024-03-01T08:00:00Z');
    a.map('timeline').set('ev-a', evA);
    const evB = new Y.Map();
    evB.set('what', 'password reset');
    evB.set('when', '2024-03-01T09:30:00Z');
    b.map('timeline').set('ev-b', evB);

    // Interleaved in time while both are connected: A appends, B prepends.
    for (let i = 0; i < 15; i++) {
      const ta = a.text('summary');
      ta.insert(ta.length, `a${i};`);
      b.text('summary').insert(0, `b${i};`);
      await sleep(5 + (i % 3) * 7);
    }
    // Concurrent edits of a field of the same nested entry: each field merges on its own.
    await expect.poll(() => a.map('timeline').has('ev-b') && b.map('timeline').has('ev-a')).toBe(true);
    a.map('timeline').get('ev-b').set('source', 'mail gateway');
    b.map('timeline').get('ev-b').set('include_in_report', true);

    const names = { text: ['summary'], map: ['meta', 'timeline'] };
    await expectConverged(a, b, names);

    const summary = a.text('summary').toString();
    expect(summary).toContain('On 2024-03-01 ACME was notified. ');
    expect(summary).toContain('Phishing led to credential theft. ');
    for (let i = 0; i < 15; i++) {
      expect(summary).toContain(`a${i};`);
      expect(summary).toContain(`b${i};`);
    }
    // A's appends keep their order, and so do B's prepends (reversed).
    const aOrder = [...summary.matchAll(/a(\d+);/g)].map((m) => Number(m[1]));
    expect(aOrder).toEqual([...Array(15).keys()]);
    const bOrder = [...summary.matchAll(/b(\d+);/g)].map((m) => Number(m[1]));
    expect(bOrder).toEqual([...Array(15).keys()].reverse());

    const meta = a.map('meta').toJSON();
    expect(meta).toMatchObject({ title: 'Credential theft', tlp: 'AMBER' });
    expect(['alice', 'bob']).toContain(meta.owner);
    expect(a.map('timeline').toJSON()).toEqual({
      'ev-a': { what: 'phishing mail received', when: '2024-03-01T08:00:00Z' },
      'ev-b': {
        what: 'password reset',
        when: '2024-03-01T09:30:00Z',
        source: 'mail gateway',
        include_in_report: true,
      },
    });
    // The encoded full states decode to the same document on both sides.
    expect(a.rebuilt().getText('summary').toString()).toBe(b.rebuilt().getText('summary').toString());
    expect(a.rebuilt().getMap('timeline').toJSON()).toEqual(b.rebuilt().getMap('timeline').toJSON());
  });

  test('a late joiner receives the full state from the relay alone', async ({ relay, yclients }) => {
    const { incident: room, auth } = await registeredIncident(relay);
    const a = yclients(relay.wsUrl, room, { name: 'A', ...auth });
    const b = yclients(relay.wsUrl, room, { name: 'B', ...auth });
    await Promise.all([a.synced(), b.synced()]);
    a.map('meta').set('title', 'Late joiner test');
    for (let i = 0; i < 20; i++) a.text('summary').insert(a.text('summary').length, `line ${i}\n`);
    b.text('details').insert(0, 'Details from B. 🔥 UTF-16 surrogate pair');
    const names = { text: ['summary', 'details'], map: ['meta'] };
    await expectConverged(a, b, names);
    const expected = a.content(names);
    const expectedVector = a.stateVector();

    // Everyone who wrote leaves: only the relay (memory or storage) still has the state.
    a.destroy();
    b.destroy();
    await sleep(300);

    const c = yclients(relay.wsUrl, room, { name: 'C', ...auth });
    await c.synced();
    await expect.poll(() => c.content(names)).toEqual(expected);
    expect(c.stateVector()).toBe(expectedVector);
  });

  test('awareness: B sees A arrive and leave (graceful and abrupt)', async ({ relay, yclients }) => {
    const { incident: room, auth } = await registeredIncident(relay);
    const b = yclients(relay.wsUrl, room, { name: 'B', ...auth });
    await b.synced();
    const peerUsers = () =>
      [...b.awareness.getStates().entries()]
        .filter(([id]) => id !== b.doc.clientID)
        .map(([, state]) => state.user?.name)
        .filter(Boolean)
        .sort();

    // A leaves gracefully.
    const a = yclients(relay.wsUrl, room, { name: 'A', ...auth });
    a.awareness.setLocalStateField('user', { name: 'A', color: '#d33' });
    await a.synced();
    await expect.poll(peerUsers).toEqual(['A']);
    a.awareness.setLocalStateField('section', 'summary');
    await expect
      .poll(() => b.awareness.getStates().get(a.doc.clientID)?.section)
      .toBe('summary');
    a.destroy();
    await expect.poll(peerUsers, { timeout: 5_000 }).toEqual([]);

    // D's connection drops without a goodbye: the relay must clear its presence itself
    // (well before the 30 s after which Yjs clients time out stale states on their own).
    const d = yclients(relay.wsUrl, room, { name: 'D', ...auth });
    d.awareness.setLocalStateField('user', { name: 'D', color: '#33d' });
    await d.synced();
    await expect.poll(peerUsers).toEqual(['D']);
    d.provider.shouldConnect = false;
    d.provider.ws.terminate();
    await expect.poll(peerUsers, { timeout: 5_000 }).toEqual([]);
  });

  test('malformed and text messages are refused with a close code; others go on', async ({
    relay,
    yclients,
  }) => {
    const { incident: room, token, auth } = await registeredIncident(relay);
    const a = yclients(relay.wsUrl, room, { name: 'A', ...auth });
    const b = yclients(relay.wsUrl, room, { name: 'B', ...auth });
    await Promise.all([a.synced(), b.synced()]);
    a.text('summary').insert(0, 'before the bad bytes. ');
    await expect.poll(() => b.text('summary').toString()).toBe('before the bad bytes. ');

    const garbageUpdate = () => {
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, 0); // sync
      encoding.writeVarUint(e, 2); // update
      encoding.writeVarUint8Array(e, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3, 4, 5]));
      return encoding.toUint8Array(e);
    };
    const cases = {
      'an update that does not decode': garbageUpdate(),
      'a truncated sync message': Uint8Array.from([0x00, 0x01]),
      'a length prefix past the end': Uint8Array.from([0x00, 0x02, 0xf0, 0x01, 0x01]),
    };
    cases['a text frame'] = 'hello relay';
    for (const [label, bytes] of Object.entries(cases)) {
      const closed = await sendRaw(`${relay.wsUrl}/${room}?token=${token}`, bytes);
      test.info().annotations.push({ type: 'close', description: `${label}: ${closed.code} ${closed.reason}` });
      expect.soft(closed.code, `${label}: closed at all`).not.toBeNull();
      expect.soft(closed.code, `${label}: close code`).not.toBe(1000);
      expect.soft(closed.code, `${label}: close code`).not.toBe(1005); // "no status" is not a refusal
      expect.soft(closed.code, `${label}: close code`).not.toBe(1006); // nor is a dropped socket
      expect.soft(closed.reason, `${label}: close reason`).not.toBe('');
    }

    // The connected clients were not affected: they keep syncing both ways.
    a.text('summary').insert(a.text('summary').length, 'A after. ');
    b.text('summary').insert(0, 'B after. ');
    const names = { text: ['summary'], map: [] };
    await expectConverged(a, b, names);
    expect(a.text('summary').toString()).toBe('B after. before the bad bytes. A after. ');
    expect(a.provider.wsconnected && b.provider.wsconnected).toBe(true);

    // And a fresh joiner still gets the whole, uncorrupted state.
    const c = yclients(relay.wsUrl, room, { name: 'C', ...auth });
    await c.synced();
    await expect.poll(() => c.text('summary').toString()).toBe('B after. before the bad bytes. A after. ');
  });

  test('an oversized message is refused with a close code and reason', async ({ relay, yclients }) => {
    const { incident: room, token, auth } = await registeredIncident(relay);
    const a = yclients(relay.wsUrl, room, { name: 'A', ...auth });
    await a.synced();
    // Just over the relay's 16 MiB limit, and well over it.
    for (const size of [16 * 1024 * 1024 + 1, 17 * 1024 * 1024, 32 * 1024 * 1024]) {
      const closed = await sendRaw(`${relay.wsUrl}/${room}?token=${token}`, new Uint8Array(size).fill(7));
      test.info().annotations.push({ type: 'close', description: `${size} bytes: ${closed.code} ${closed.reason}` });
      // 1006 means the socket was dropped (e.g. reset) and the sender never saw why.
      expect.soft(closed.code, `${size} bytes: close code`).toBe(1009);
      expect.soft(closed.reason, `${size} bytes: close reason`).not.toBe('');
    }
    a.text('summary').insert(0, 'still here');
    const c = yclients(relay.wsUrl, room, { name: 'C', ...auth });
    await c.synced();
    await expect.poll(() => c.text('summary').toString()).toBe('still here');
  });

  test('an invalid incident id or unknown API path gets an HTTP error, not the app', async ({ relay }) => {
    for (const bad of ['a.b', '%3Cscript%3E', 'x'.repeat(65)]) {
      const status = await new Promise((resolve) => {
        const ws = new WebSocket(`${relay.wsUrl}/${bad}`);
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode);
          ws.terminate();
        });
        ws.on('open', () => {
          resolve('opened');
          ws.close();
        });
        ws.on('error', () => {});
      });
      expect.soft(status, `websocket to /sync/${bad.slice(0, 20)}`).toBeGreaterThanOrEqual(400);
      expect.soft(status, `websocket to /sync/${bad.slice(0, 20)}`).toBeLessThan(500);
    }
    const res = await fetch(`${relay.url}/api/no-such-endpoint`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toHaveProperty('error');
  });

  for (const how of ['kill', 'stop']) {
    const what = how === 'kill' ? 'SIGKILL' : 'SIGTERM';
    test(`every update a peer observed survives ${what} and a restart`, async ({ relay, yclients }) => {
      const { incident: room, auth } = await registeredIncident(relay);
      const a = yclients(relay.wsUrl, room, { name: 'A', ...auth });
      const b = yclients(relay.wsUrl, room, { name: 'B', ...auth });
      await Promise.all([a.synced(), b.synced()]);
      a.map('meta').set('title', `survives ${what}`);
      // Many small updates, as keystrokes arrive, each its own message.
      for (let i = 0; i < 40; i++) {
        a.text('summary').insert(a.text('summary').length, `k${i} `);
        if (i % 10 === 9) await sleep(10);
      }
      const names = { text: ['summary'], map: ['meta'] };
      // B observing the updates means the relay accepted (and so stored) them.
      await expectConverged(a, b, names);
      const expected = a.content(names);
      const expectedVector = a.stateVector();

      await relay[how]();
      // The writers are gone before the relay comes back, so they cannot re-send anything.
      a.destroy();
      b.destroy();
      await relay.restart();

      // The owner's token was stored too: it still opens the incident after the restart.
      const c = yclients(relay.wsUrl, room, { name: 'C', ...auth });
      await c.synced();
      await expect.poll(() => c.content(names)).toEqual(expected);
      expect(c.stateVector()).toBe(expectedVector);
    });
  }
});

/** Opens a raw websocket, sends one message (binary, or text for a string) and resolves with the close event. */
function sendRaw(url, bytes, timeoutMs = 5_000) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.removeAllListeners('close');
      ws.terminate();
      resolve({ code: null, reason: `(socket still open ${timeoutMs} ms after the message)` });
    }, timeoutMs);
    ws.on('open', () => ws.send(bytes, { binary: typeof bytes !== 'string' }));
    ws.on('error', () => {}); // the close event carries what we assert on
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}
