// A private nginx in front of the relay, running the README's site config (docs/nginx.conf)
// as it is written, with only its addresses and certificate filled in:
//
//   listen 443 ssl               → listen 127.0.0.1:PORT ssl (a free port)
//   /etc/ssl/firebreak.crt, .key → a self-signed certificate for 127.0.0.1 made for this run
//   http://127.0.0.1:8787        → the relay under test
//
// Everything nginx writes (pid, logs, temporary files) stays in its own temporary directory,
// it runs in the foreground (`daemon off`) as this process's child, and stop() ends it.
// Debian's nginx (scripts/setup.sh installs it), or FIREBREAK_NGINX.
//
//   const proxy = await startNginx({ upstreamPort: relay.port });
//   proxy.url / proxy.wsUrl   https://127.0.0.1:PORT, wss://127.0.0.1:PORT/sync
//   proxy.ca                  the certificate, for clients that verify it (ws's `ca`)
//   proxy.request(…)          one HTTPS request through nginx, from a chosen source address
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './relay.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The documented site config: what README.md shows and what this helper runs. */
export const SITE_CONFIG = path.join(repo, 'docs/nginx.conf');

export function nginxBinary() {
  return process.env.FIREBREAK_NGINX || '/usr/sbin/nginx';
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Replaces `from` in `text`, which must hold it exactly once (else the docs moved on). */
function fill(text, from, to) {
  const count = text.split(from).length - 1;
  if (count !== 1) {
    throw new Error(`docs/nginx.conf: expected "${from}" once, found it ${count} times; update support/nginx.js`);
  }
  return text.replace(from, () => to);
}

/**
 * Starts nginx. `upstreamPort` is the relay's port on 127.0.0.1; `port` the port to listen
 * on (default: a free one).
 */
export async function startNginx({ upstreamPort, port } = {}) {
  const bin = nginxBinary();
  if (!fs.existsSync(bin)) {
    throw new Error(`nginx not found at ${bin}: run ./test.sh once (scripts/setup.sh installs it) or set FIREBREAK_NGINX`);
  }
  if (!upstreamPort) throw new Error('startNginx: upstreamPort (the relay) is required');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'firebreak-nginx-'));
  // Workers may run as another user (nobody) when started as root: let them in.
  fs.chmodSync(dir, 0o755);
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=firebreak.test',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  const ca = fs.readFileSync(cert, 'utf8');
  port = port || (await freePort());

  let site = fs.readFileSync(SITE_CONFIG, 'utf8');
  site = fill(site, 'listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`);
  site = fill(site, '/etc/ssl/firebreak.crt', cert);
  site = fill(site, '/etc/ssl/firebreak.key', key);
  site = fill(site, 'http://127.0.0.1:8787', `http://127.0.0.1:${upstreamPort}`);
  fs.writeFileSync(path.join(dir, 'site.conf'), site);
  const temp = (name) => path.join(dir, 'temp', name);
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${path.join(dir, 'nginx.pid')};`,
      `error_log ${path.join(dir, 'error.log')} info;`,
      'events { worker_connections 512; }',
      'http {',
      `    access_log ${path.join(dir, 'access.log')};`,
      `    client_body_temp_path ${temp('body')};`,
      `    proxy_temp_path ${temp('proxy')};`,
      `    fastcgi_temp_path ${temp('fastcgi')};`,
      `    uwsgi_temp_path ${temp('uwsgi')};`,
      `    scgi_temp_path ${temp('scgi')};`,
      `    include ${path.join(dir, 'site.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  fs.mkdirSync(path.join(dir, 'temp'));

  let output = '';
  const child = spawn(bin, ['-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let gone = false;
  exited.then(() => (gone = true));

  const read = (name) => {
    try {
      return fs.readFileSync(path.join(dir, name), 'utf8');
    } catch {
      return '';
    }
  };
  const proxy = {
    port,
    url: `https://127.0.0.1:${port}`,
    wsUrl: `wss://127.0.0.1:${port}/sync`,
    ca,
    dir,
    /** What nginx printed, its error log and its access log. */
    log: () => `${output}\n--- error.log\n${read('error.log')}\n--- access.log\n${read('access.log')}`,
    accessLog: () => read('access.log'),
    /**
     * One HTTPS request through nginx. Options: body (object → JSON), headers, token (Bearer),
     * localAddress (the source address, e.g. 127.0.0.2). Resolves to { status, headers, text, json }.
     */
    request(method, pathname, { body, headers = {}, token, localAddress } = {}) {
      const sent = { ...headers };
      let payload;
      if (token) sent.authorization = `Bearer ${token}`;
      if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        sent['content-type'] = sent['content-type'] || 'application/json';
        sent['content-length'] = Buffer.byteLength(payload);
      }
      return new Promise((resolve, reject) => {
        const req = https.request(
          { host: '127.0.0.1', port, method, path: pathname, headers: sent, ca, localAddress, agent: false, timeout: 10_000 },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (text += d));
            res.on('end', () => {
              let json;
              try {
                json = text ? JSON.parse(text) : undefined;
              } catch {
                json = undefined;
              }
              resolve({ status: res.statusCode, headers: res.headers, text, json });
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${method} ${pathname} through nginx: no answer in 10 s`)));
        req.on('error', reject);
        req.end(payload);
      });
    },
    get running() {
      return !gone;
    },
    /** Stops nginx (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
    async stop() {
      try {
        if (!gone) {
          child.kill('SIGTERM');
          const done = await Promise.race([exited, sleep(5_000).then(() => 'timeout')]);
          if (done === 'timeout') {
            child.kill('SIGKILL');
            await exited;
          }
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };

  // Ready once the relay's /healthz answers through it.
  const deadline = Date.now() + 10_000;
  let last = '';
  for (;;) {
    if (gone) {
      const log = proxy.log();
      await proxy.stop();
      throw new Error(`nginx exited at start:\n${log}`);
    }
    try {
      const res = await proxy.request('GET', '/healthz');
      if (res.status === 200) break;
      last = `status ${res.status}`;
    } catch (err) {
      last = err.code || err.message;
    }
    if (Date.now() > deadline) {
      const log = proxy.log();
      await proxy.stop();
      throw new Error(`nginx not answering /healthz after 10 s (${last}):\n${log}`);
    }
    await sleep(100);
  }
  return proxy;
}

/** True when `address` can be bound here (all of 127/8 is loopback on Linux). */
export function canBind(address) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(0, address, () => server.close(() => resolve(true)));
  });
}
