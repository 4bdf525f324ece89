#!/usr/bin/env bash
# `make demo`: runs the main job end to end with what exists so far.
set -euo pipefail
cd "$(dirname "$0")/.."
B=target/release
for bin in asr seq2seq imdb; do
  "$B/$bin" --version
done
