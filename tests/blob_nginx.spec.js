// An evidence attachment through the README's nginx site (docs/nginx.conf, TLS included):
// nginx's own default body limit (1 MB) would refuse a phone photo before the relay saw it,
// so the site sets it to the relay's --max-attachment-bytes; a 5 MB file goes up and comes
// back identical, a file of exactly the limit is stored, and one byte more gets 413.
import crypto from 'node:crypto';
import https from 'node:https';
import { test, expect } from './support/fixtures.js';
import { newIncidentId } from './support/incidents.js';
import { deviceFor } from './support/access.js';
import { startNginx } from './support/nginx.js';
import { freePort, startRelay } from './support/relay.js';

const CREATE_SECRET = 'blob-nginx-create-secret';

/** One HTTPS request through nginx with a binary body; resolves to { status, headers, body }. */
function send(nginx, method, pathname, { token, body, contentType }) {
  const headers = { authorization: `Bearer ${token}`, 'x-firebreak-device': deviceFor(token) };
  if (body) {
    headers['content-type'] = contentType;
    headers['content-length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: nginx.port, method, path: pathname, headers, ca: nginx.ca, agent: false, timeout: 30_000 },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${pathname}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

test('a 5 MB attachment goes through the README nginx site and comes back identical', async () => {
  const port = await freePort();
  const relay = await startRelay({
    args: ['--public-url', `https://127.0.0.1:${port}`, '--trusted-proxy', '127.0.0.1', '--create-secret', CREATE_SECRET],
  });
  let nginx = null;
  try {
    nginx = await startNginx({ upstreamPort: relay.port, port });
    const created = await nginx.request('POST', '/api/incidents', {
      token: CREATE_SECRET,
      body: { incident: newIncidentId('blobs'), name: 'Owner' },
    });
    expect(created.status, created.text).toBe(201);
    const { incident, token } = created.json;

    const file = crypto.randomBytes(5_000_000);
    const hash = crypto.createHash('sha256').update(file).digest('hex');
    const blob = `/api/incidents/${incident}/blobs/${hash}`;
    let started = Date.now();
    const put = await send(nginx, 'PUT', blob, { token, body: file, contentType: 'application/octet-stream' });
    const upMs = Date.now() - started;
    expect(put.status, `${put.body.toString().slice(0, 300)}\n${nginx.log().slice(-2000)}`).toBe(201);
    expect(JSON.parse(put.body.toString())).toMatchObject({ sha256: hash, size: 5_000_000 });

    started = Date.now();
    const got = await send(nginx, 'GET', blob, { token });
    const downMs = Date.now() - started;
    expect(got.status).toBe(200);
    expect(crypto.createHash('sha256').update(got.body).digest('hex')).toBe(hash);
    console.log(`through nginx (TLS, loopback): a 5,000,000-byte attachment up in ${upMs} ms, down in ${downMs} ms`);

    // Exactly the relay's 10 MiB passes both; one byte more is refused (413, nginx's own, as
    // the site sets the same limit), never a 502.
    for (const [size, status] of [[10 * 1024 * 1024, 201], [10 * 1024 * 1024 + 1, 413]]) {
      const bytes = crypto.randomBytes(size);
      const named = crypto.createHash('sha256').update(bytes).digest('hex');
      const answer = await send(nginx, 'PUT', `/api/incidents/${incident}/blobs/${named}`, {
        token, body: bytes, contentType: 'application/octet-stream',
      });
      expect(answer.status, `${size} bytes: ${answer.body.toString().slice(0, 200)}`).toBe(status);
    }
  } finally {
    if (nginx) await nginx.stop();
    await relay.cleanup();
  }
});
