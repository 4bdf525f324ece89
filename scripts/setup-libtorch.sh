#!/usr/bin/env bash
# Installs the libtorch that `tch = "0.26"` links against (PyTorch 2.13.0) into a
# cache outside the clone, so every clone on this machine (and CI) reuses it.
#
#   SORI_TORCH=cpu  (default) the lean wheel: libtorch + the two small CUDA
#                    runtime wheels it needs to load (~1.2 GB). CPU only.
#   SORI_TORCH=cuda the full `pip install torch==2.13.0` (~4.7 GB), usable with a GPU.
#
# Idempotent: a second run checks the stamp file and returns at once.
# Prints the libtorch directory as its last line (the Makefile reads it).
set -euo pipefail

TORCH_VERSION=2.13.0
FLAVOUR="${SORI_TORCH:-cpu}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sori"
VENV="$CACHE/torch-$TORCH_VERSION"
[ "$FLAVOUR" = cuda ] && VENV="$CACHE/torch-$TORCH_VERSION-cuda"
STAMP="$VENV/.sori-ready"

say() { echo "setup-libtorch: $*" >&2; }

find_torch_dir() {
  local d
  for d in "$VENV"/lib/python3*/site-packages/torch; do
    [ -f "$d/lib/libtorch_cpu.so" ] && { echo "$d"; return 0; }
  done
  return 1
}

if [ -f "$STAMP" ] && dir="$(find_torch_dir)"; then
  say "libtorch $TORCH_VERSION ($FLAVOUR) already installed in $dir"
  echo "$dir"
  exit 0
fi

PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null || { say "error: python3 is needed to install libtorch from PyPI (apt-get install python3 python3-venv)"; exit 1; }

mkdir -p "$CACHE"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating venv $VENV"
  "$PY" -m venv "$VENV" || { say "error: could not create a venv (apt-get install python3-venv)"; exit 1; }
fi

say "installing torch==$TORCH_VERSION ($FLAVOUR) into $VENV (one time, a few minutes)"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
if [ "$FLAVOUR" = cuda ]; then
  "$VENV/bin/pip" install --disable-pip-version-check "torch==$TORCH_VERSION"
else
  "$VENV/bin/pip" install --disable-pip-version-check --no-deps \
    "torch==$TORCH_VERSION" nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85 typing_extensions
fi

dir="$(find_torch_dir)" || { say "error: torch installed but libtorch_cpu.so not found under $VENV"; exit 1; }
touch "$STAMP"
say "libtorch ready: $dir"
echo "$dir"
