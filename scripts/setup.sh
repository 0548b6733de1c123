#!/usr/bin/env bash
# Installs what Firebreak needs to build and test, and nothing twice.
# Sourced by ./run.sh and ./test.sh; `setup_build` for running, `setup_test` adds the browser
# and the test tools. Each step checks first, so a second run takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

TRUNK_VERSION="0.21.14"
CARGO_FUZZ_VERSION="0.13.2"
WASM_SPLIT_VERSION="0.2.4"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The wasm-bindgen CLI must match the library version in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# npm ci only when package-lock.json changed since the last install.
npm_install_in() {
  local dir="$1"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] \
     || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

setup_build() {
  cd "$ROOT"
  # rust-toolchain.toml names the toolchain and the wasm32 target; rustup installs both
  # on first use, and this makes sure the target is there for an existing toolchain too.
  if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]; then
    say "installing trunk $TRUNK_VERSION (about 7 minutes, once)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
  fi
  local wbg
  wbg="$(wasm_bindgen_version)"
  if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $wbg" ]; then
    say "installing wasm-bindgen-cli $wbg (about 2 minutes, once)"
    # Not --locked: one of its locked dependencies is no longer on crates.io.
    cargo install wasm-bindgen-cli --version "$wbg"
  fi
  # The splitter Trunk's post-build hook runs (scripts/split-wasm.sh), for Leptos' `#[lazy]`.
  if ! cargo install --list | grep -q "^wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
    say "installing wasm-split-cli $WASM_SPLIT_VERSION (about 3 minutes, once)"
    cargo install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary --locked
  fi
  npm_install_in "$ROOT/tools"
}

setup_test() {
  setup_build
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing Debian's Chromium for the browser tests"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
  fi
  if ! command -v pdftotext >/dev/null 2>&1; then
    say "installing Debian's poppler-utils (pdftotext reads the printed report back)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils
  fi
  # nginx for nginx.spec.js, which runs the README's proxy config privately in front of the
  # relay: only the binary is used, with its own config on a free port, whatever the
  # package's own service does.
  if [ ! -x /usr/sbin/nginx ]; then
    say "installing Debian's nginx for the reverse-proxy test"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx
  fi
  # PostgreSQL for tests/postgres.rs (the second storage backend): only its binaries are
  # used; the test runs a private instance on a free port in a temporary directory.
  if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    say "installing Debian's postgresql for the PostgreSQL storage tests"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
  fi
  # Redis and HAProxy for the multi-relay tests (several relays sharing incidents through
  # Redis, behind a load balancer): only the binaries are used, each test starting private
  # instances on free ports with their own config, whatever the packages' services do.
  if ! command -v redis-server >/dev/null 2>&1; then
    say "installing Debian's redis-server for the multi-relay tests"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
  fi
  if [ ! -x /usr/sbin/haproxy ]; then
    say "installing Debian's haproxy for the multi-relay tests"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy
  fi
  npm_install_in "$ROOT/tests"
  setup_format_checkers
  # libFuzzer through cargo-fuzz; runs on stable with `--sanitizer none`.
  if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    say "installing cargo-fuzz $CARGO_FUZZ_VERSION (about 3 minutes, once)"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
  fi
}

# The tools that consume Firebreak's exports (STIX validator, PyMISP), in a virtual
# environment of their own under .venv; reinstalled only when tests/formats/requirements.txt
# changes. tests/exports.spec.js finds its Python through FIREBREAK_PYTHON.
setup_format_checkers() {
  local venv="$ROOT/.venv" wanted="$ROOT/tests/formats/requirements.txt"
  if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    say "installing Debian's python3-venv for the format checkers"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  fi
  if [ ! -x "$venv/bin/python" ] || ! cmp -s "$wanted" "$venv/.installed-requirements"; then
    say "installing the format checkers (stix2-validator, PyMISP) into .venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$wanted"
    cp "$wanted" "$venv/.installed-requirements"
  fi
  export FIREBREAK_PYTHON="$venv/bin/python"
}

# Builds the app into dist/ and the relay, both in release mode, then writes dist's brotli
# and gzip copies, which the relay serves to browsers that accept them.
build_release() {
  cd "$ROOT"
  say "building the app (trunk, release)"
  trunk build --release
  say "building the relay (release)"
  cargo build --release -p sync-server
  say "precompressing the app (brotli, gzip)"
  target/release/sync-server precompress dist >/dev/null
}
