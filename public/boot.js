// Starts the Firebreak app. Trunk writes the hashed names of the wasm-bindgen module and
// the wasm file into this script tag's data attributes (see Trunk.toml `pattern_script`),
// which keeps index.html free of inline script for the Content-Security-Policy.

// Keep the app on the device for offline use (sw.js), and ask the browser not to evict the
// incidents stored here when space runs short. Neither may hold up the start.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker
    .register('/sw.js')
    .catch((error) => console.warn('Firebreak: offline use is not available here:', error));
}
if (navigator.storage && navigator.storage.persist) {
  navigator.storage.persist().catch(() => {});
}

const boot = document.getElementById('firebreak-boot');
const { default: init } = await import(boot.dataset.js);
const wasm = await init({ module_or_path: boot.dataset.wasm });
dispatchEvent(new CustomEvent('TrunkApplicationStarted', { detail: { wasm } }));
