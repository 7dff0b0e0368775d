#!/usr/bin/env bash
# Runs Cinder's whole test suite: every crate's unit, integration and doc
# tests, then the browser tests of the showcase in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
# npm packages: installed when missing, again when a lock file changed since.
[ assets/node_modules/.package-lock.json -nt assets/package-lock.json ] || npm ci --prefix assets --no-audit --no-fund
[ e2e/node_modules/.package-lock.json -nt e2e/package-lock.json ] || npm ci --prefix e2e --no-audit --no-fund
cargo test --workspace --all-targets
cargo test --workspace --doc
cargo build -p showcase
node --test e2e/
