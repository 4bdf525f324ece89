#!/usr/bin/env bash
# The Python peers that `make bench` measures sori against, in their own venv
# beside the libtorch cache: full PyTorch 2.13.0 (the lean libtorch venv can't
# `import torch`), librosa and python_speech_features. Pinned, PyPI only.
# Idempotent; prints the venv's python as its last line.
set -euo pipefail
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sori"
VENV="$CACHE/peers"
STAMP="$VENV/.sori-ready-v1"
say() { echo "setup-peers: $*" >&2; }
if [ -f "$STAMP" ]; then echo "$VENV/bin/python"; exit 0; fi
mkdir -p "$CACHE"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
say "installing PyTorch 2.13.0 (full, ~4.7 GB), librosa, python_speech_features into $VENV (one time)"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  torch==2.13.0 librosa==0.11.0 python_speech_features==0.6 numpy
"$VENV/bin/python" -c "import torch, librosa, python_speech_features; print('torch', torch.__version__, 'librosa', librosa.__version__)" >&2
touch "$STAMP"
echo "$VENV/bin/python"
