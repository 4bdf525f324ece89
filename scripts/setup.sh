#!/usr/bin/env bash
# `make setup`: everything a fresh machine needs before `cargo build`.
#  1. libtorch (PyTorch 2.13.0) in ~/.cache/sori, linked into the clone as .libtorch
#     (or the directory in an exported LIBTORCH, checked for the right version);
#  2. Debian packages the scripts and tests use (espeak-ng, sox).
# Idempotent and quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "setup: $*" >&2; }
WANT=2.13.0

check_torch_dir() { # dir -> 0 if it is a usable libtorch 2.13.0
  local d="$1" v=""
  if [ ! -f "$d/lib/libtorch_cpu.so" ]; then
    say "error: LIBTORCH=$d has no lib/libtorch_cpu.so; unset LIBTORCH and run 'make setup' to install PyTorch $WANT"
    return 1
  fi
  if [ -f "$d/version.py" ]; then
    v="$(sed -n "s/^__version__ = '\([^'+]*\).*/\1/p" "$d/version.py")"
  elif [ -f "$d/build-version" ]; then
    v="$(cut -d+ -f1 "$d/build-version")"
  fi
  if [ -n "$v" ] && [ "$v" != "$WANT" ]; then
    say "error: LIBTORCH=$d is PyTorch $v but tch 0.26 needs $WANT; unset LIBTORCH and run 'make setup'"
    return 1
  fi
}

if [ -n "${LIBTORCH:-}" ] && [ "$LIBTORCH" != "$PWD/.libtorch" ]; then
  check_torch_dir "$LIBTORCH"
  ln -sfn "$LIBTORCH" .libtorch
else
  dir="$(scripts/setup-libtorch.sh)"
  check_torch_dir "$dir"
  [ "$(readlink .libtorch 2>/dev/null)" = "$dir" ] || { ln -sfn "$dir" .libtorch; say "linked .libtorch -> $dir"; }
fi

scripts/setup-system.sh
