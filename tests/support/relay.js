// Starts the real Firebreak relay binary on a free port with a fresh data directory.
//
//   FIREBREAK_RELAY_BIN  the relay binary (default ../target/release/sync-server,
//                        falling back to ../target/debug/sync-server when no release build exists)
//   FIREBREAK_DIST       the built app the relay serves (default ../dist)
//
// The returned handle can stop (SIGTERM), kill (SIGKILL) and restart the relay on the same
// port and data directory, which is how the tests check durability across crashes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const testsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function relayBinary() {
  if (process.env.FIREBREAK_RELAY_BIN) {
    return path.resolve(testsDir, process.env.FIREBREAK_RELAY_BIN);
  }
  const release = path.resolve(testsDir, '../target/release/sync-server');
  const debug = path.resolve(testsDir, '../target/debug/sync-server');
  if (!fs.existsSync(release) && fs.existsSync(debug)) return debug;
  return release;
}

export function distDir() {
  return path.resolve(testsDir, process.env.FIREBREAK_DIST || '../dist');
}

/** A TCP port that was free a moment ago: bind :0, read the port, release it. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the relay. Options:
 *   dist     directory of the built app (default FIREBREAK_DIST or ../dist; when it does not
 *            exist a placeholder directory is served, enough for the protocol tests)
 *   dataDir  data directory (default: a new temporary directory, removed by cleanup())
 *   env      extra environment variables for the relay process
 *   args     extra command-line flags for the relay, e.g. ['--create-secret', 'S'], kept
 *            across restarts
 */
export async function startRelay(options = {}) {
  const bin = relayBinary();
  if (!fs.existsSync(bin)) {
    throw new Error(
      `relay binary not found at ${bin}: build it with \`cargo build --release -p sync-server\` ` +
        'from the repository root, or point FIREBREAK_RELAY_BIN at it',
    );
  }
  const ownDataDir = !options.dataDir;
  const dataDir = options.dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-relay-'));
  let dist = options.dist || distDir();
  let ownDist = null;
  if (!fs.existsSync(dist)) {
    ownDist = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-dist-'));
    fs.writeFileSync(path.join(ownDist, 'index.html'), '<!doctype html><title>placeholder</title>\n');
    dist = ownDist;
  }
  const port = options.port || (await freePort());
  const url = `http://127.0.0.1:${port}`;

  let log = ''; // everything the relay printed, across restarts
  let child = null;
  let exited = null; // promise resolving to { code, signal } of the current child

  function launch() {
    log += `\n--- ${new Date().toISOString()} start ${bin} on port ${port}\n`;
    const proc = spawn(
      bin,
      ['--listen', `127.0.0.1:${port}`, '--data', dataDir, '--dist', dist, ...(options.args || [])],
      {
        env: { RUST_LOG: 'info', NO_COLOR: '1', ...process.env, ...(options.env || {}) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    proc.stdout.on('data', (d) => (log += d.toString()));
    proc.stderr.on('data', (d) => (log += d.toString()));
    exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        log += `--- relay exited code=${code} signal=${signal}\n`;
        resolve({ code, signal });
      });
      proc.on('error', (err) => {
        log += `--- relay failed to start: ${err.message}\n`;
        resolve({ code: null, signal: null, error: err });
      });
    });
    child = proc;
  }

  async function waitHealthy(timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    let dead = false;
    exited.then(() => (dead = true));
    let lastError = '';
    while (Date.now() < deadline) {
      if (dead) throw new Error(`relay exited before it became healthy:\n${log}`);
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return;
        lastError = `status ${res.status}`;
      } catch (err) {
        lastError = err.cause?.code || err.message;
      }
      await sleep(100);
    }
    throw new Error(`relay not healthy after ${timeoutMs} ms (${lastError}):\n${log}`);
  }

  async function waitExit(timeoutMs) {
    const timer = sleep(timeoutMs).then(() => 'timeout');
    return Promise.race([exited, timer]);
  }

  const relay = {
    url,
    wsUrl: `ws://127.0.0.1:${port}/sync`,
    port,
    dataDir,
    dist,
    bin,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    /** Everything the relay printed on stdout and stderr so far. */
    log: () => log,
    /** Graceful stop: SIGTERM, then wait (SIGKILL after 10 s, reported as an error). */
    async stop() {
      if (!relay.running) return;
      child.kill('SIGTERM');
      const result = await waitExit(10_000);
      if (result === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        throw new Error('relay did not exit within 10 s of SIGTERM');
      }
      return result;
    },
    /** Crash: SIGKILL, then wait for the process to be gone. */
    async kill() {
      if (!relay.running) return;
      child.kill('SIGKILL');
      return exited;
    },
    /** Starts the relay again on the same port and data directory. */
    async restart() {
      if (relay.running) await relay.stop();
      // A listener bound without SO_REUSEADDR can find the port still held for a moment
      // after a crash; try again while the log says so.
      const deadline = Date.now() + 15_000;
      for (;;) {
        const mark = log.length;
        launch();
        try {
          await waitHealthy(Math.max(1000, deadline - Date.now()));
          return;
        } catch (err) {
          const inUse = /in use|AddrInUse/i.test(log.slice(mark));
          if (!inUse || Date.now() > deadline) throw err;
          await sleep(250);
        }
      }
    },
    /** Stops the relay (if running) and removes the directories this helper created. */
    async cleanup() {
      try {
        if (relay.running) await relay.kill();
      } finally {
        if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
        if (ownDist) fs.rmSync(ownDist, { recursive: true, force: true });
      }
    },
  };

  launch();
  try {
    await waitHealthy();
  } catch (err) {
    await relay.cleanup();
    throw err;
  }
  return relay;
}
