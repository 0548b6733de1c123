// A bad network link in userspace: a TCP proxy on a free 127.0.0.1 port in front of another
// address (the relay), for tests of what a phone on a train does to the sync. This kernel has
// no netem, so the link is made here, per connection and per direction:
//
//   delay + jitter   every chunk is held delayMs + up to jitterMs (TCP keeps the order, so a
//                    chunk never overtakes the one before it: jitter shows as bunching)
//   bandwidth        bytesPerSecond serialises the chunks, each direction on its own
//   stall(ms)        nothing moves either way for a while (a tunnel); what was sent waits
//   cut()            every open connection is broken, both directions at once, half of them
//                    with a reset and half with a plain close; what was queued is lost
//   down(ms)         new connections are refused (reset at once) for a while
//   chaos({ … })     cuts a random open connection now and then, until heal()
//   heal()           a good link again: no delay, no limit, no stall, no more cuts
//
// Loss on TCP is not a lost packet (TCP would resend it) but a broken connection that takes
// its unsent bytes with it, which is what `cut` does. Reordering cannot happen on one TCP
// stream; across reconnections it does, and the random cuts make plenty of those.
//
//   const link = await startBadLink({ port: relay.port });
//   link.url / link.wsUrl   the relay's addresses as seen through the link
//   link.stats              { accepted, refused, cuts, bytesUp, bytesDown, open }
//   await link.close()
import net from 'node:net';

const SLICE = 16 * 1024; // bandwidth is applied in slices this big, so a big frame trickles
const HIGH_WATER = 1024 * 1024; // a direction holding this much stops reading its source

const GOOD = { delayMs: 0, jitterMs: 0, bytesPerSecond: 0 };

/**
 * Starts the proxy. `target` is { host = '127.0.0.1', port }; `profile` the initial
 * { delayMs, jitterMs, bytesPerSecond } (default: a good link); `random` a () => [0, 1)
 * (default Math.random), for a reproducible run.
 */
export async function startBadLink({ host = '127.0.0.1', port, profile = {}, random = Math.random } = {}) {
  if (!port) throw new Error('startBadLink: the target port is required');
  let current = { ...GOOD, ...profile };
  let stalledUntil = 0;
  let downUntil = 0;
  let chaosTimer = null;
  const open = new Set();
  const stats = { accepted: 0, refused: 0, cuts: 0, bytesUp: 0, bytesDown: 0 };

  const server = net.createServer((client) => {
    if (Date.now() < downUntil) {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    stats.accepted++;
    const upstream = net.connect({ host, port });
    const conn = { client, upstream, pipes: [] };
    open.add(conn);
    const up = pipe(client, upstream, (n) => (stats.bytesUp += n));
    const down = pipe(upstream, client, (n) => (stats.bytesDown += n));
    conn.pipes.push(up, down);
    const end = () => {
      if (!open.delete(conn)) return;
      up.drop();
      down.drop();
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });

  /** One direction of a connection: reads `from`, delivers to `to` as the link allows. */
  function pipe(from, to, count) {
    const queue = []; // { at, chunk }
    let queued = 0;
    let lastAt = 0; // delivery times never go backwards: TCP keeps order
    let lineFree = 0; // when the (throttled) line is free for the next slice
    let timer = null;
    let ended = false; // the source sent FIN; pass it on once the queue is empty

    function schedule() {
      if (timer || queue.length === 0) return;
      const wait = Math.max(0, queue[0].at - Date.now(), stalledUntil - Date.now());
      timer = setTimeout(flush, wait);
    }

    function flush() {
      timer = null;
      const now = Date.now();
      while (queue.length && queue[0].at <= now && stalledUntil <= now) {
        const { chunk } = queue.shift();
        queued -= chunk.length;
        count(chunk.length);
        if (!to.destroyed) to.write(chunk);
      }
      if (queued < HIGH_WATER && from.isPaused() && !from.destroyed) from.resume();
      if (queue.length === 0 && ended && !to.destroyed) to.end();
      schedule();
    }

    from.on('data', (data) => {
      for (let i = 0; i < data.length; i += SLICE) {
        const chunk = data.subarray(i, i + SLICE);
        const now = Date.now();
        let at = now + current.delayMs + random() * current.jitterMs;
        if (current.bytesPerSecond > 0) {
          lineFree = Math.max(lineFree, now) + (chunk.length * 1000) / current.bytesPerSecond;
          at = Math.max(at, lineFree + current.delayMs);
        }
        at = Math.max(at, lastAt);
        lastAt = at;
        queue.push({ at, chunk });
        queued += chunk.length;
      }
      if (queued >= HIGH_WATER) from.pause();
      schedule();
    });
    from.on('end', () => {
      ended = true;
      if (queue.length === 0 && !to.destroyed) to.end();
    });

    return {
      /** Forgets what is queued (the connection is gone, and so are its bytes). */
      drop() {
        clearTimeout(timer);
        timer = null;
        queue.length = 0;
        queued = 0;
      },
      /** Re-arms the timer after a stall ends or the profile changes. */
      kick() {
        clearTimeout(timer);
        timer = null;
        const now = Date.now();
        // A healed link delivers what it held at once, still in order.
        if (current.delayMs === 0 && current.jitterMs === 0 && current.bytesPerSecond === 0) {
          for (const item of queue) item.at = Math.min(item.at, now);
          lastAt = Math.min(lastAt, now);
          lineFree = Math.min(lineFree, now);
        }
        schedule();
      },
    };
  }

  /** Breaks one connection, both directions at once. */
  function cutOne(conn) {
    if (!open.delete(conn)) return;
    stats.cuts++;
    for (const p of conn.pipes) p.drop();
    if (random() < 0.5) {
      conn.client.resetAndDestroy();
      conn.upstream.resetAndDestroy();
    } else {
      conn.client.destroy();
      conn.upstream.destroy();
    }
  }

  function kickAll() {
    for (const conn of open) for (const p of conn.pipes) p.kick();
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const own = server.address().port;

  const link = {
    port: own,
    url: `http://127.0.0.1:${own}`,
    wsUrl: `ws://127.0.0.1:${own}/sync`,
    get stats() {
      return { ...stats, open: open.size };
    },
    /** Changes delay, jitter and bandwidth for what is sent from now on. */
    impair(profile) {
      current = { ...current, ...profile };
      kickAll();
    },
    /** Nothing moves in either direction for `ms`; what was sent is delivered afterwards. */
    stall(ms) {
      stalledUntil = Math.max(stalledUntil, Date.now() + ms);
      kickAll();
    },
    /** Refuses new connections for `ms` (they are reset as they arrive). */
    down(ms) {
      downUntil = Math.max(downUntil, Date.now() + ms);
    },
    /** Breaks every open connection now. Resolves to how many there were. */
    cut() {
      const all = [...open];
      for (const conn of all) cutOne(conn);
      return all.length;
    },
    /**
     * Until heal(): every minMs..maxMs, one random open connection is broken (or, one time
     * in `downEvery`, every connection is broken and the link stays down for downMs).
     */
    chaos({ minMs = 800, maxMs = 3000, downEvery = 4, downMs = 1500 } = {}) {
      clearTimeout(chaosTimer);
      const next = () => {
        chaosTimer = setTimeout(() => {
          if (random() * downEvery < 1) {
            link.cut();
            link.down(downMs);
          } else if (open.size > 0) {
            cutOne([...open][Math.floor(random() * open.size)]);
          }
          next();
        }, minMs + random() * (maxMs - minMs));
      };
      next();
    },
    /** A good link from now on: no delay, no limit, no stall, no down time, no more cuts. */
    heal() {
      clearTimeout(chaosTimer);
      chaosTimer = null;
      current = { ...GOOD };
      stalledUntil = 0;
      downUntil = 0;
      kickAll();
    },
    /** Stops listening and breaks every connection. */
    async close() {
      link.heal();
      for (const conn of [...open]) {
        open.delete(conn);
        for (const p of conn.pipes) p.drop();
        conn.client.destroy();
        conn.upstream.destroy();
      }
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return link;
}
