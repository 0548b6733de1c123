// How a test gets an incident id (a room on the relay) that it may join.
import crypto from 'node:crypto';

/** A fresh incident id, unique per call. */
export function newIncidentId(prefix = 'it') {
  return `${prefix}-${crypto.randomBytes(8).toString('hex')}`;
}
