#!/usr/bin/env bash
# `make bench` / `make bench-quick`: criterion benchmarks plus peers.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-full}"
cargo bench --workspace -- ${mode/full/} ${mode/quick/--quick}
