#!/usr/bin/env bash
# Builds the speech corpora used in crates/asr/README.md under corpora/speech/
# (git-ignored): synthetic English (espeak-ng, held-out voice variants for
# the test split), synthetic single digits, and, when ../shared/corpora/fsdd
# exists, FSDD leave-one-speaker-out manifests. Needs `make build` first.
# Sizes: TRAIN, VALID, TEST (defaults 8000, 300, 600); espeak-ng runs on JOBS
# processes (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
ASR=${ASR:-target/release/asr}
JOBS=${JOBS:-2}
command -v espeak-ng >/dev/null || scripts/setup-system.sh
"$ASR" synth --out corpora/speech/en --train "${TRAIN:-8000}" --valid "${VALID:-300}" \
  --test "${TEST:-600}" --seed 1 --jobs "$JOBS"
"$ASR" synth --out corpora/speech/digits --templates corpora/english/templates-digits.txt \
  --train 2000 --valid 100 --test 0 --seed 2 --jobs "$JOBS"
FSDD=${FSDD:-../shared/corpora/fsdd/recordings}
if [ -d "$FSDD" ]; then
  "$ASR" fsdd --recordings "$FSDD" --out corpora/speech/fsdd
else
  echo "make-speech-corpus: $FSDD not found; skipping FSDD manifests" >&2
fi
