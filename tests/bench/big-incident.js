// The big incident the render, profile and scroll benchmarks open: `events` timeline events
// (out of time order on purpose: the page sorts) and `indicators` indicators, written by a
// stock Yjs client in one transaction.
import * as Y from 'yjs';

const PHASES = ['reconnaissance', 'weaponization', 'delivery', 'exploitation', 'installation',
  'command_and_control', 'actions_on_objectives'];

export function fill(client, events, indicators) {
  const doc = client.doc;
  doc.transact(() => {
    const meta = doc.getMap('meta');
    meta.set('schema', 1);
    meta.set('title', `Benchmark: ${events} events, ${indicators} indicators`);
    meta.set('created_at', '2026-11-01T00:00:00Z');
    meta.set('classification', 'Confidential – specific individuals only');
    meta.set('tlp', 'AMBER');
    const timeline = doc.getMap('timeline');
    const start = Date.parse('2026-11-01T00:00:00Z');
    for (let i = 0; i < events; i++) {
      const e = new Y.Map();
      // Out of order on purpose: the page sorts.
      const at = new Date(start + ((i * 7919) % events) * 60_000).toISOString().replace('.000Z', 'Z');
      e.set('occurred_at', at);
      e.set('what', `event ${i}: host-${i % 97} talked to 198.51.100.${i % 250}`);
      e.set('source', 'EDR');
      e.set('data_link', `https://siem.example/q/${i}`);
      e.set('phase', PHASES[i % PHASES.length]);
      e.set('author', 'bench');
      e.set('include_in_report', i % 10 === 0);
      timeline.set(`ev${String(i).padStart(6, '0')}`, e);
    }
    const iocs = doc.getMap('indicators');
    for (let i = 0; i < indicators; i++) {
      const m = new Y.Map();
      m.set('value', `bad-${i}.example.com`);
      m.set('kind', 'domain');
      m.set('sightings', 1);
      m.set('added_by', 'bench');
      m.set('added_at', '2026-11-01T00:00:00Z');
      iocs.set(`ioc-bench-${i}`, m);
    }
  });
}
