// Starts the Firebreak app. Trunk writes the hashed names of the wasm-bindgen module and
// the wasm file into this script tag's data attributes (see Trunk.toml `pattern_script`),
// which keeps index.html free of inline script for the Content-Security-Policy.
const boot = document.getElementById('firebreak-boot');
const { default: init } = await import(boot.dataset.js);
const wasm = await init({ module_or_path: boot.dataset.wasm });
dispatchEvent(new CustomEvent('TrunkApplicationStarted', { detail: { wasm } }));
