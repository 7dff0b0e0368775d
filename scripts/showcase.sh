#!/usr/bin/env bash
# Runs the showcase on http://127.0.0.1:4000 (or --port N), installing the
# LiveView client from npm first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
# npm packages: installed when missing, again when the lock file changed since.
[ assets/node_modules/.package-lock.json -nt assets/package-lock.json ] || npm ci --prefix assets --no-audit --no-fund
exec cargo run --release -p showcase -- "$@"
