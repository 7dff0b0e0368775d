#!/usr/bin/env bash
# Runs Cinder's whole test suite: every crate's unit, integration and doc
# tests, then the browser tests of the showcase in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d assets/node_modules ] || npm ci --prefix assets --no-audit --no-fund
[ -d e2e/node_modules ] || npm ci --prefix e2e --no-audit --no-fund
cargo test --workspace --all-targets
cargo test --workspace --doc
cargo build -p showcase
node --test e2e/
