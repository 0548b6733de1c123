// Summarises a CDP CPU profile (Profiler.stop's `profile`): the time not idle, then the
// functions that took the most, charged to the nearest two frames of the app's own code
// (app::, incident::, sync_client::), inclusive and self. Used by bench/profile.js and
// bench/scroll.js --profile.
export function printProfile(profile, { own: ownRows = 40, inclusive = 70, self: selfRows = 30 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const label = (n) => {
    const f = n.callFrame;
    const file = f.url ? f.url.split('/').pop() : '';
    return `${f.functionName || '(anonymous)'}${file && !file.endsWith('.wasm') ? ` [${file}]` : ''}`;
  };
  const self = new Map();
  const total = new Map();
  // Each sample charged to the nearest frame of the app's own code (app::, incident::).
  const own = new Map();
  const ownLabel = (l) => /^(app|incident|sync_client)::/.test(l) && !/\{\{closure\}\}$/.test(l) ? l.replace(/::h[0-9a-f]{16}$/, '') : null;
  let all = 0;
  profile.samples.forEach((sample, i) => {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    let node = byId.get(sample);
    if (label(node) === '(idle)' || label(node) === '(program)') return;
    all += dt;
    self.set(label(node), (self.get(label(node)) || 0) + dt);
    const seen = new Set();
    let chain = [];
    for (let id = sample; id !== undefined; id = parent.get(id)) {
      const o = ownLabel(label(byId.get(id)));
      if (o && chain.length < 2 && chain[chain.length - 1] !== o) chain.push(o);
    }
    const key = chain.length ? chain.reverse().join(' > ') : '(not in the app\'s code)';
    own.set(key, (own.get(key) || 0) + dt);
    for (let id = sample; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id));
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) || 0) + dt);
    }
  });
  const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
  console.log(`busy (sampled, not idle): ${Math.round(all)} ms`);
  console.log('by the nearest two frames of the app\'s own code:');
  for (const [l, t] of top(own, ownRows)) console.log(`  ${t.toFixed(0).padStart(6)} ms  ${l.slice(0, 200)}`);
  console.log('inclusive:');
  for (const [l, t] of top(total, inclusive)) console.log(`  ${t.toFixed(0).padStart(6)} ms  ${l.slice(0, 150)}`);
  console.log('self:');
  for (const [l, t] of top(self, selfRows)) console.log(`  ${t.toFixed(0).padStart(6)} ms  ${l.slice(0, 150)}`);
}
