#!/usr/bin/env bash
# Runs Cinder's whole test suite: every crate's unit, integration and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-targets
cargo test --workspace --doc
