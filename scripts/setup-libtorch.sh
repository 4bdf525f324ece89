#!/usr/bin/env bash
# Installs the libtorch that `tch = "0.26"` links against (PyTorch 2.13.0) into a
# cache outside the clone, so every clone on this machine (and CI) reuses it.
#
#   SORI_TORCH=cpu  (default) the lean wheel: libtorch + the two small CUDA
#                    runtime wheels it needs to load (~1.2 GB). CPU only.
#   SORI_TORCH=cuda the full `pip install torch==2.13.0` (~4.7 GB), usable with a GPU.
#
# Idempotent: a second run checks the stamp file and returns at once.
# Prints the libtorch directory, and nothing else, on stdout (scripts/setup.sh
# captures it): everything the script and its children (venv, pip) print goes to
# stderr, through fd 3 kept for the one answer.
set -euo pipefail
exec 3>&1 1>&2
answer() { echo "$1" >&3; }

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
  answer "$dir"
  exit 0
fi

PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null || { say "error: python3 is needed to install libtorch from PyPI (apt-get install python3 python3-venv)"; exit 1; }

mkdir -p "$CACHE"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating venv $VENV"
  # Debian's python3 without python3-venv leaves a half-made venv behind:
  # remove it, so that the next run tries again instead of using it.
  "$PY" -m venv "$VENV" >/dev/null 2>&1 || {
    rm -rf "$VENV"
    say "error: '$PY -m venv' failed: install python3-venv (apt-get install python3-venv) and run 'make setup' again"
    exit 1
  }
fi

say "installing torch==$TORCH_VERSION ($FLAVOUR) into $VENV (one time, a few minutes)"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
if [ "$FLAVOUR" = cuda ]; then
  pkgs=("torch==$TORCH_VERSION")
else
  pkgs=(--no-deps "torch==$TORCH_VERSION" nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85 typing_extensions)
fi
"$VENV/bin/pip" install --disable-pip-version-check "${pkgs[@]}" || {
  say "error: pip could not install torch==$TORCH_VERSION into $VENV (is PyPI reachable?); run 'make setup' again"
  exit 1
}

dir="$(find_torch_dir)" || { say "error: torch installed but libtorch_cpu.so not found under $VENV"; exit 1; }
touch "$STAMP"
say "libtorch ready: $dir"
answer "$dir"
