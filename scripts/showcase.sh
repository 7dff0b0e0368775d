#!/usr/bin/env bash
# Runs the showcase on http://127.0.0.1:4000 (or --port N), installing the
# LiveView client from npm first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d assets/node_modules ] || npm ci --prefix assets --no-audit --no-fund
exec cargo run --release -p showcase -- "$@"
