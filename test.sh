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

say "fuzz smoke: the relay's room under arbitrary frames (60 s, coverage-guided)"
fuzz_found="$(mktemp -d)"
trap 'rm -rf "$fuzz_found"' EXIT
# New inputs go to a temporary directory; the kept corpus and the regressions are only read.
# libFuzzer prints a line per new input; keep the last lines (a failure's report is there).
(cd "$ROOT/sync-server/fuzz" && cargo fuzz run --sanitizer none room_frames \
  "$fuzz_found" corpus/room_frames regressions -- -max_total_time=60 -print_final_stats=1 2>&1 \
  | tail -n 80)

build_release
say "stock Yjs and browser tests (Playwright, Chromium)"
cd "$ROOT/tests"
FIREBREAK_RELAY_BIN="$ROOT/target/release/sync-server" FIREBREAK_DIST="$ROOT/dist" \
  npx playwright test "$@"
