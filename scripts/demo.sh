#!/usr/bin/env bash
# `make demo` (after `make build`): the speech recogniser end to end on a
# fresh clone. Synthesizes a small corpus with espeak-ng (numbers and digit
# strings; test voices never heard in training), trains a small BiGRU CTC
# model for a few minutes on 2 cores, transcribes the held-out files and
# prints their text and the CER. Sizes can be changed with DEMO_TRAIN,
# DEMO_EPOCHS and DEMO_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${SORI_BIN:-target/release}
for bin in asr seq2seq imdb; do
  [ -x "$B/$bin" ] && "$B/$bin" --version
done
ASR=$B/asr
DIR=${DEMO_DIR:-runs/demo}
TRAIN=${DEMO_TRAIN:-800}
EPOCHS=${DEMO_EPOCHS:-8}
command -v espeak-ng >/dev/null || scripts/setup-system.sh
rm -rf "$DIR"
echo "== 1. synthesize $TRAIN training utterances (espeak-ng, 80 voices), 12 held-out-voice test files"
"$ASR" synth --out "$DIR/corpus" --templates corpora/english/templates-demo.txt \
  --train "$TRAIN" --valid 40 --test 12 --seed 11 --jobs 2
echo "== 2. train a 2-layer BiGRU with the native CTC loss ($EPOCHS epochs)"
"$ASR" train --train "$DIR/corpus/train.jsonl" --valid "$DIR/corpus/valid.jsonl" \
  --out "$DIR/model" --cell gru --hidden 96 --layers 2 --stack 3 \
  --epochs "$EPOCHS" --batch-size 16 --lr 0.003 --warmup-steps 0 --speed 1 --threads 2 --quiet
echo "== 3. transcribe the held-out files"
"$ASR" transcribe "$DIR"/corpus/wav/test-*.wav --model "$DIR/model" --threads 2
echo "== 4. score them against their transcripts"
"$ASR" eval --manifest "$DIR/corpus/test.jsonl" --model "$DIR/model" --threads 2 --verbose --worst 3
echo "model, history.png (loss and CER per epoch) and corpus in $DIR"
