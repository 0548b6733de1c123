// The relay's access API (invite-only incidents) over HTTP, with Node's fetch.
//
//   createIncident(baseUrl, { incident?, name?, createSecret? }) → { incident, token, invite, role }
//   invite(baseUrl, id, ownerToken, { name, role, expiresInHours? }) → { invite, token, link, … }
//   listInvites(baseUrl, id, ownerToken)                          → [{ invite, name, role, … }]
//   revoke(baseUrl, id, ownerToken, inviteId)                     → the revoked invite
//   me(baseUrl, id, token)                                        → { incident, invite, name, role }
//
// Each of these expects the status the contract gives for success and throws an ApiError
// naming the request, the status and the relay's JSON `error` otherwise. `request` is the
// same call without that check, for tests of refusals. Tokens are never put in an error's
// message (only the invite id, the public half).

/** A status the caller did not expect; `status` and `body` (parsed JSON or text) are kept. */
export class ApiError extends Error {
  constructor(what, expected, response) {
    const detail = response.json?.error ?? response.text;
    super(`${what}: expected ${expected}, got ${response.status} ${JSON.stringify(detail)}`);
    this.name = 'ApiError';
    this.status = response.status;
    this.body = response.json ?? response.text;
  }
}

/**
 * One HTTP call to the relay, whatever its status.
 *   token    sent as `Authorization: Bearer TOKEN` (unless `headers.authorization` is given)
 *   body     an object, sent as JSON; a string is sent as it is
 * Resolves to { status, headers, text, json } (json is undefined when the body is not JSON).
 */
export async function request(baseUrl, method, path, { token, body, headers = {} } = {}) {
  const sent = { ...headers };
  if (token !== undefined && token !== null) sent.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    sent['content-type'] = sent['content-type'] || 'application/json';
  }
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers: sent,
    body: payload,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function expectStatus(what, expected, pending) {
  const response = await pending;
  if (response.status !== expected) throw new ApiError(what, expected, response);
  if (response.json === undefined) {
    throw new ApiError(what, `${expected} with a JSON body`, response);
  }
  return response.json;
}

const incidentPath = (id, rest = '') => `/api/incidents/${encodeURIComponent(id)}${rest}`;

/**
 * Registers an incident; the relay picks the id unless `incident` is given. `createSecret`
 * is the relay's creation secret (only needed when it runs with `--create-secret`).
 */
export function createIncident(baseUrl, { incident, name, createSecret } = {}) {
  const body = {};
  if (incident !== undefined) body.incident = incident;
  if (name !== undefined) body.name = name;
  return expectStatus(
    `POST /api/incidents${incident ? ` (${incident})` : ''}`,
    201,
    request(baseUrl, 'POST', '/api/incidents', { token: createSecret, body }),
  );
}

/** Invites a person by name with a role ("editor" or "viewer"); the answer holds the token and link. */
export function invite(baseUrl, id, ownerToken, { name, role, expiresInHours } = {}) {
  const body = { name, role };
  if (expiresInHours !== undefined) body.expires_in_hours = expiresInHours;
  return expectStatus(
    `POST ${incidentPath(id, '/invites')} (${role} ${JSON.stringify(name)})`,
    201,
    request(baseUrl, 'POST', incidentPath(id, '/invites'), { token: ownerToken, body }),
  );
}

/** Every grant of the incident (owner first), as the owner's share panel lists them. */
export async function listInvites(baseUrl, id, ownerToken) {
  const json = await expectStatus(
    `GET ${incidentPath(id, '/invites')}`,
    200,
    request(baseUrl, 'GET', incidentPath(id, '/invites'), { token: ownerToken }),
  );
  if (!Array.isArray(json.invites)) {
    throw new Error(`GET ${incidentPath(id, '/invites')}: no "invites" array in ${JSON.stringify(json)}`);
  }
  return json.invites;
}

/** Revokes an invite; resolves to the revoked invite (revoked_at set). */
export function revoke(baseUrl, id, ownerToken, inviteId) {
  const path = incidentPath(id, `/invites/${encodeURIComponent(inviteId)}`);
  return expectStatus(`DELETE ${path}`, 200, request(baseUrl, 'DELETE', path, { token: ownerToken }));
}

/** What `token` is on the incident: { incident, invite, name, role }. */
export function me(baseUrl, id, token) {
  return expectStatus(
    `GET ${incidentPath(id, '/me')}`,
    200,
    request(baseUrl, 'GET', incidentPath(id, '/me'), { token }),
  );
}

/** The secret half of a token (`{invite}.{secret}`), e.g. to check it appears nowhere. */
export function secretOf(token) {
  return token.slice(token.indexOf('.') + 1);
}

/**
 * The device id a stock client holding `token` sends (`?device=`): an invite works only on the
 * first device that opens it. Made of the token's public invite id, never its secret, so every
 * stock client with the same token counts as one device.
 */
export function deviceFor(token) {
  const invite = String(token).split('.')[0].replace(/[^0-9A-Za-z]/g, '');
  return `stock-device-${invite}`;
}

/** A websocket query string (`?token=…`) with the stock device id added when it has a token and no device. */
export function withStockDevice(query) {
  const params = new URLSearchParams(query);
  const token = params.get('token');
  if (token === null || params.has('device')) return query;
  return `${query}&device=${deviceFor(token)}`;
}
