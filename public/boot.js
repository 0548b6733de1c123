// Starts the Firebreak app. Trunk writes the hashed names of the wasm-bindgen module and
// the wasm file into this script tag's data attributes (see Trunk.toml `pattern_script`),
// which keeps index.html free of inline script for the Content-Security-Policy.

// Keep the app on the device for offline use (sw.js), and ask the browser not to evict the
// incidents stored here when space runs short. Neither may hold up the start.
//
// The service worker is registered once the page is up, not before: installing, it copies
// every file of the app, the parts fetched on demand included (about 180 KB gzip), and on a
// first visit over a slow network that would take bandwidth from the app's own wasm and the
// incident. An incident's page says when its editor shows (`firebreak:shown`, from the
// app); any other page, or an incident page that never shows one (no access, the join
// screen left open), registers it 10 s after the app started. Then it waits for an idle
// moment. On a return visit the worker is already there and serves the files meanwhile.
//
// Registering needs the network (sw.js), and the worker's first copy is all or nothing: if
// the network went meanwhile, nothing is kept. So until a worker controls the page, it is
// registered again each time the network comes back (a worker still copying is left alone).
let keeping = false;
function register() {
  return navigator.serviceWorker
    .register('/sw.js')
    .catch((error) => console.warn('Firebreak: offline use is not available here:', error));
}
function keepForOffline() {
  if (keeping || !('serviceWorker' in navigator)) return;
  keeping = true;
  if ('requestIdleCallback' in window) requestIdleCallback(register, { timeout: 2000 });
  else setTimeout(register, 0);
}
addEventListener('firebreak:shown', keepForOffline, { once: true });
addEventListener('online', () => {
  if (keeping && !navigator.serviceWorker.controller) register();
});
if (navigator.storage && navigator.storage.persist) {
  navigator.storage.persist().catch(() => {});
}

const boot = document.getElementById('firebreak-boot');
const { default: init } = await import(boot.dataset.js);
const wasm = await init({ module_or_path: boot.dataset.wasm });
dispatchEvent(new CustomEvent('TrunkApplicationStarted', { detail: { wasm } }));
const incidentPage = location.pathname.startsWith('/incident/');
setTimeout(keepForOffline, incidentPage ? 10_000 : 0);

// A new version deployed while this page is open: offer a reload instead of letting an old
// app run on. The page knows its own wasm file's hashed name; the relay's current page names
// the new one. Checked when the network comes back, when the page is shown again, and every
// 15 minutes.
async function checkForNewVersion() {
  try {
    const response = await fetch('/', { cache: 'no-store', headers: { accept: 'text/html' } });
    if (!response.ok) return;
    const html = await response.text();
    const current = html.match(/data-wasm="([^"]+)"/);
    if (current && current[1] !== boot.dataset.wasm) offerReload();
  } catch {
    // Offline: nothing to compare with.
  }
}

function offerReload() {
  if (document.getElementById('new-version')) return;
  const bar = document.createElement('div');
  bar.id = 'new-version';
  bar.className = 'banner new-version';
  bar.setAttribute('role', 'status');
  const text = document.createElement('span');
  text.textContent = 'A new version of Firebreak is available. Your work is saved on this device. ';
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Reload now';
  button.addEventListener('click', () => location.reload());
  bar.append(text, button);
  document.body.prepend(bar);
}

addEventListener('online', checkForNewVersion);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') checkForNewVersion();
});
setInterval(checkForNewVersion, 15 * 60 * 1000);
