// How a test gets an incident id (a room on the relay) that it may join. Incidents are
// invite-only: a room is joined with a token the relay issued (see support/access.js).
import crypto from 'node:crypto';
import { createIncident } from './access.js';

/** A fresh incident id, unique per call. */
export function newIncidentId(prefix = 'it') {
  return `${prefix}-${crypto.randomBytes(8).toString('hex')}`;
}

/**
 * Registers a fresh incident on `relay` (with an id from newIncidentId) and resolves to the
 * relay's answer plus `auth`, the options a stock client joins with:
 *   { incident, token, invite, role: 'owner', auth: { params: { token } } }
 *   yclients(relay.wsUrl, incident, { name: 'A', ...auth })
 */
export async function registeredIncident(relay, { prefix = 'it', name, createSecret } = {}) {
  const created = await createIncident(relay.url, { incident: newIncidentId(prefix), name, createSecret });
  return { ...created, auth: { params: { token: created.token } } };
}
