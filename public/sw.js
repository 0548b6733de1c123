// Firebreak's service worker: keeps the app itself on the device, so that after one online
// visit it opens with no network at all (on a plane, from the home screen). Incidents are not
// kept here: they live in IndexedDB, written by the app. Sync (/sync), the API (/api) and the
// health check always go to the network.
//
// Pages are network-first (a new deploy is picked up on the next online visit, with its own
// hashed files) and fall back to the kept copy when the relay cannot be reached in time.
// Hashed files never change, so they are served from the cache first.

const SHELL = 'firebreak-shell-v1';
const FILES = 'firebreak-files-v1';
const NETWORK_WAIT_MS = 4000;

/** The same-origin files a page needs: its links, scripts and the loader's data attributes. */
function filesOf(html) {
  const files = new Set([
    '/boot.js',
    '/manifest.webmanifest',
    '/icon.svg',
    '/icon-192.png',
    '/icon-512.png',
    '/icon-maskable-512.png',
    '/apple-touch-icon.png',
  ]);
  for (const match of html.matchAll(/(?:href|src|data-js|data-wasm)="(\/[^"/][^"]*)"/g)) {
    files.add(match[1]);
  }
  // The parts fetched on first use (the boot script's data-lazy, written by
  // scripts/split-wasm.sh): kept too, so that every page opens offline after one visit.
  const lazy = html.match(/data-lazy="([^"]*)"/);
  for (const path of lazy ? lazy[1].split(' ') : []) {
    if (path.startsWith('/')) files.add(path);
  }
  return files;
}

/** File names with a content hash (`app-1a2b3c4d5e6f7a8_bg.wasm`) never change. */
function isHashed(path) {
  return /-[0-9a-f]{8,16}(_bg)?\.[a-z]+$/.test(path);
}

/** Keeps a freshly fetched page and every file it needs; drops files no page needs now. */
async function keep(response) {
  const html = await response.clone().text();
  const wanted = filesOf(html);
  const files = await caches.open(FILES);
  const missing = [];
  for (const path of wanted) {
    if (!isHashed(path) || !(await files.match(path))) missing.push(path);
  }
  await files.addAll(missing);
  await (await caches.open(SHELL)).put('/', response);
  for (const request of await files.keys()) {
    if (!wanted.has(new URL(request.url).pathname)) await files.delete(request);
  }
}

async function fetchWithin(request, ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await fetch(request, { signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function page(event) {
  try {
    const response = await fetchWithin(event.request, NETWORK_WAIT_MS);
    if (response.ok && (response.headers.get('content-type') || '').startsWith('text/html')) {
      event.waitUntil(keep(response.clone()).catch((e) => console.warn('Firebreak: could not keep the app for offline use:', e)));
    }
    return response;
  } catch (error) {
    // Every route of the app is the same page; the app reads the path itself.
    const kept = await caches.match('/', { cacheName: SHELL });
    if (kept) return kept;
    throw error;
  }
}

async function file(request) {
  const kept = await caches.match(request, { cacheName: FILES });
  return kept || fetch(request);
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    fetch('/', { cache: 'no-store' })
      .then((response) => (response.ok ? keep(response) : undefined))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (/^\/(sync|api)(\/|$)/.test(url.pathname) || url.pathname === '/healthz') return;
  event.respondWith(request.mode === 'navigate' ? page(event) : file(request));
});
