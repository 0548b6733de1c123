#!/usr/bin/env bash
# One command for the comparison in docs/benchmarks.md: builds Firebreak's relay and the load
# generator (release), installs the npm peers (y-websocket 1.5.4's server, Hocuspocus), and runs
# bench/compare.mjs, which starts each server on 127.0.0.1, applies the same loads to each and
# prints one table. y-sweet is included when `y-sweet` is on PATH. Arguments go to compare.mjs
# (`--duration 30`, `--servers firebreak,hocuspocus`, `--help`).
set -euo pipefail
source "$(dirname "$0")/../scripts/setup.sh"
cd "$ROOT"
say "building the relay and the load generator (release)"
cargo build --release --quiet -p sync-server -p loadgen
npm_install_in "$ROOT/bench"
if ! command -v y-sweet >/dev/null 2>&1; then
  say "y-sweet is not on PATH: it is left out (cargo install y-sweet --version 0.9.1 --locked adds it; about 10 minutes)"
fi
# Many sockets at once: the loads open over 1,000 connections in one process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node "$ROOT/bench/compare.mjs" "$@"
