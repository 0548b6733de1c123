#!/usr/bin/env bash
# Sets up what is missing and runs every check and test Firebreak has: formatting, lints,
# the model and relay tests, then stock-Yjs and real-browser tests against the real relay.
set -euo pipefail
source "$(dirname "$0")/scripts/setup.sh"
setup_test
cd "$ROOT"

say "formatting"
cargo fmt --all -- --check
say "lints (host crates)"
cargo clippy --workspace --exclude app --all-targets -- -D warnings
say "lints (app, wasm32)"
cargo clippy -p app --target wasm32-unknown-unknown -- -D warnings
say "model and relay tests"
cargo test --workspace --exclude app

build_release
say "stock Yjs and browser tests (Playwright, Chromium)"
cd "$ROOT/tests"
FIREBREAK_RELAY_BIN="$ROOT/target/release/sync-server" FIREBREAK_DIST="$ROOT/dist" \
  npx playwright test "$@"
