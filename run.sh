#!/usr/bin/env bash
# Sets up what is missing, builds, and starts Firebreak at http://127.0.0.1:8787
# (SQLite in ./data). Extra arguments go to the relay, e.g.
# ./run.sh --listen 0.0.0.0:8787 --create-secret 'some words'
set -euo pipefail
source "$(dirname "$0")/scripts/setup.sh"
setup_build
build_release
cd "$ROOT"
exec target/release/sync-server "$@"
