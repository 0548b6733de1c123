// A stock Yjs client: a Y.Doc joined to the relay through the y-websocket provider, the same
// code any application in the Yjs ecosystem would run. Used to prove the relay speaks the
// standard protocol, and to read or write an incident from outside the browser.
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';
import { deviceFor } from './access.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class YClient {
  /**
   * @param {string} wsUrl  ws://host:port/sync — the provider appends `/${room}`
   * @param {string} room   the incident id
   * @param {object} [options]
   *   params   query parameters; `{ token }` is how a stock client passes its invite secret,
   *            `{ device }` its device id (an invite works only on the first device that opens
   *            it): by default one made of the token's invite id (deviceFor), none if null
   *   headers  HTTP headers for the websocket upgrade (e.g. `authorization: 'Bearer …'`)
   *   socket   more options for the `ws` socket, e.g. `{ ca, localAddress: '127.0.0.2' }`
   *   connect  false to create the client without connecting
   *   name     label in error messages
   */
  constructor(wsUrl, room, options = {}) {
    this.name = options.name || 'client';
    this.doc = new Y.Doc();
    /** Every close of the socket the relay reported: { code, reason }. */
    this.closeEvents = [];
    /** Closes after which the provider gave up reconnecting (y-websocket: codes 4400-4499). */
    this.terminalCloses = [];
    const headers = options.headers;
    const params = { ...(options.params || {}) };
    const bearer = /^Bearer\s+(\S+)$/i.exec(headers?.authorization || '')?.[1];
    const token = params.token || bearer;
    if (token && params.device === undefined) params.device = deviceFor(token);
    if (params.device === null) delete params.device;
    const socket = headers || options.socket ? { ...(options.socket || {}), ...(headers ? { headers } : {}) } : null;
    this.provider = new WebsocketProvider(wsUrl, room, this.doc, {
      WebSocketPolyfill: socket ? withOptions(socket) : WebSocket,
      // Node has a global BroadcastChannel: without this, two clients in this one process
      // would sync with each other directly and never need the relay.
      disableBc: true,
      connect: options.connect !== false,
      params,
      maxBackoffTime: 500,
      resyncInterval: -1,
    });
    this.provider.on('connection-close', (event) => {
      if (event) this.closeEvents.push({ code: event.code, reason: String(event.reason || '') });
    });
    this.provider.on('closed', (event) => {
      this.terminalCloses.push({ code: event.code, reason: String(event.reason || '') });
    });
  }

  get awareness() {
    return this.provider.awareness;
  }

  text(name = 'summary') {
    return this.doc.getText(name);
  }

  map(name = 'meta') {
    return this.doc.getMap(name);
  }

  /** Resolves once the provider finished sync step 2 with the relay. */
  async synced(timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (!this.provider.synced) {
      if (this.terminalCloses.length > 0 && !this.provider.shouldConnect) {
        throw new Error(
          `${this.name}: the relay refused the connection for good: ${JSON.stringify(this.terminalCloses)}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name}: not synced with the relay after ${timeoutMs} ms ` +
            `(wsconnected=${this.provider.wsconnected}, closes=${JSON.stringify(this.closeEvents)})`,
        );
      }
      await sleep(20);
    }
    return this;
  }

  /** The state vector as "client:clock" pairs sorted by client, comparable across replicas. */
  stateVector() {
    return [...Y.decodeStateVector(Y.encodeStateVector(this.doc)).entries()]
      .sort(([x], [y]) => x - y)
      .map(([client, clock]) => `${client}:${clock}`)
      .join(',');
  }

  /** The document's content as plain JSON, for comparing two replicas. */
  content(names = { text: ['summary'], map: ['meta'] }) {
    const out = {};
    for (const t of names.text || []) out[t] = this.doc.getText(t).toString();
    for (const m of names.map || []) out[m] = this.doc.getMap(m).toJSON();
    return out;
  }

  /** A fresh document rebuilt from this client's full state (as a late joiner would get it). */
  rebuilt() {
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(this.doc));
    return copy;
  }

  /**
   * Resolves with the first close the relay sends after `after` closes were seen (default:
   * the next one from now).
   */
  async nextClose(timeoutMs = 10_000, after = this.closeEvents.length) {
    const deadline = Date.now() + timeoutMs;
    while (this.closeEvents.length <= after) {
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name}: the relay did not close the connection within ${timeoutMs} ms ` +
            `(wsconnected=${this.provider.wsconnected}, synced=${this.provider.synced})`,
        );
      }
      await sleep(10);
    }
    return this.closeEvents[after];
  }

  disconnect() {
    this.provider.disconnect();
  }

  connect() {
    this.provider.connect();
  }

  destroy() {
    try {
      this.provider.destroy();
    } finally {
      this.doc.destroy();
    }
  }
}

/** A `ws` WebSocket class that opens every socket with `options` (headers, ca, localAddress…). */
function withOptions(options) {
  return class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, options);
    }
  };
}

/** JSON with object keys sorted, so equal content gives equal strings whatever the map order. */
export function canonical(value) {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

export { Y };
