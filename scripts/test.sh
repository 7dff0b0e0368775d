#!/usr/bin/env bash
# Runs Cinder's whole test suite: every crate's unit, integration and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d assets/node_modules ] || npm ci --prefix assets --no-audit --no-fund
cargo test --workspace --all-targets
cargo test --workspace --doc
