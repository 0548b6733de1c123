// Two relays on one PostgreSQL, sharing incidents through Redis (`--redis-url`): stock Yjs
// clients (yjs + y-websocket) and two real browsers on different relays edit the same
// incident live. A private PostgreSQL (Debian's initdb / pg_ctl) and a private redis-server
// run on free 127.0.0.1 ports in temporary directories, stopped when the file is done.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, expect } from './support/fixtures.js';
import { startRelay, freePort } from './support/relay.js';
import { registeredIncident } from './support/incidents.js';
import { createIncident, shareLink, openIncident, expectSynced, section, caretTo } from './support/app.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const isRoot = process.getuid?.() === 0;

/** initdb / pg_ctl: on PATH, else the newest of Debian's /usr/lib/postgresql/N/bin. */
function pgTool(name) {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`]).toString().trim();
  } catch {
    const versions = fs
      .readdirSync('/usr/lib/postgresql')
      .filter((v) => fs.existsSync(`/usr/lib/postgresql/${v}/bin/${name}`))
      .sort((a, b) => Number(a) - Number(b));
    if (!versions.length) throw new Error(`no ${name}: scripts/setup.sh installs Debian's postgresql`);
    return `/usr/lib/postgresql/${versions.at(-1)}/bin/${name}`;
  }
}

/** Runs a PostgreSQL tool as the `postgres` user when this is root (it refuses root). */
function asOwner(program, args) {
  return isRoot
    ? execFileSync('runuser', ['-u', 'postgres', '--', program, ...args], { stdio: 'pipe' })
    : execFileSync(program, args, { stdio: 'pipe' });
}

async function startPostgres() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-pg-'));
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    fs.chownSync(dir, uid, uid);
  }
  const data = path.join(dir, 'data');
  asOwner(pgTool('initdb'), ['-D', data, '-U', 'firebreak', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  asOwner(pgTool('pg_ctl'), [
    '-D', data, '-l', path.join(dir, 'postgres.log'), '-w', 'start',
    '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
  ]);
  return {
    url: `postgres://firebreak@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        asOwner(pgTool('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

async function startRedis() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-redis-'));
  const child = spawn(
    '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('connect', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error('redis-server did not listen');
    await sleep(20);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop() {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The relays' health until `done` holds. */
async function waitHealth(relay, done) {
  await expect
    .poll(async () => done(await (await fetch(`${relay.url}/healthz`)).json()), { timeout: 20_000 })
    .toBe(true);
}

let pg;
let redis;
let relays = [];
let dataDir;

test.beforeAll(async () => {
  pg = await startPostgres();
  redis = await startRedis();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-cluster-'));
  for (const node of ['a', 'b']) {
    relays.push(
      await startRelay({
        dataDir,
        args: ['--database-url', pg.url, '--redis-url', redis.url, '--node-id', node],
      }),
    );
  }
  for (const relay of relays) {
    await waitHealth(relay, (h) => h.redis === 'up' && h.other_nodes === 1);
  }
});

test.afterAll(async () => {
  for (const relay of relays) await relay.cleanup();
  relays = [];
  redis?.stop();
  pg?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

test('stock Yjs clients on two relays edit one incident live and see each other', async ({ yclients }) => {
  const [a, b] = relays;
  const { incident, auth } = await registeredIncident(a);
  const onA = yclients(a.wsUrl, incident, { name: 'on A', ...auth });
  const onB = yclients(b.wsUrl, incident, { name: 'on B', ...auth });
  await Promise.all([onA.synced(), onB.synced()]);

  // Truly concurrent on both relays. (Two relays appending to one incident at the same
  // instant is the PostgreSQL store's multi-writer case, built on its own branch: until it
  // lands, one of them may close its room with 1011, and y-websocket reconnects and resends.)
  for (let i = 0; i < 20; i++) {
    const ta = onA.text('summary');
    ta.insert(ta.length, `a${i};`);
    onB.text('summary').insert(0, `b${i};`);
    onB.map('meta').set(`k${i}`, i);
    await sleep(10);
  }
  await expect
    .poll(() => onA.text('summary').toString() === onB.text('summary').toString() &&
      onA.map('meta').size === 20, { timeout: 15_000 })
    .toBe(true);
  const summary = onA.text('summary').toString();
  for (let i = 0; i < 20; i++) {
    expect(summary).toContain(`a${i};`);
    expect(summary).toContain(`b${i};`);
  }

  onA.awareness.setLocalStateField('user', { name: 'Ana on A' });
  await expect
    .poll(() => [...onB.awareness.getStates().values()].some((s) => s.user?.name === 'Ana on A'))
    .toBe(true);
  onA.destroy();
  await expect
    .poll(() => [...onB.awareness.getStates().values()].some((s) => s.user?.name === 'Ana on A'))
    .toBe(false);
});

test('two browsers on two relays edit the same incident live', async ({ browser }) => {
  const [a, b] = relays;
  const alice = await browser.newContext();
  const bob = await browser.newContext();
  try {
    const alicePage = await alice.newPage();
    await createIncident(alicePage, a.url, { name: 'Alice', title: 'Across relays' });
    await expectSynced(alicePage);
    const link = await shareLink(alicePage, { role: 'editor', name: 'Bob' });
    // Bob opens the same link on the other relay (a load balancer's other backend).
    const onB = new URL(link);
    onB.host = new URL(b.url).host;
    const bobPage = await bob.newPage();
    await openIncident(bobPage, onB.href, { name: 'Bob' });
    await expectSynced(bobPage);

    const aliceSummary = section(alicePage, 'summary');
    const bobSummary = section(bobPage, 'summary');
    await caretTo(aliceSummary, 'end');
    await alicePage.keyboard.type('Alice on relay A. ');
    await expect.poll(() => bobSummary.inputValue(), { timeout: 15_000 }).toContain('Alice on relay A.');
    await caretTo(bobSummary, 'end');
    await bobPage.keyboard.type('Bob on relay B.');
    await expect.poll(() => aliceSummary.inputValue(), { timeout: 15_000 }).toContain('Bob on relay B.');
    await expect.poll(() => bobSummary.inputValue()).toBe(await aliceSummary.inputValue());
  } finally {
    await alice.close();
    await bob.close();
  }
});
