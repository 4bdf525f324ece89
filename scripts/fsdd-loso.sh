#!/usr/bin/env bash
# FSDD leave-one-speaker-out with speaker normalisation and self-training
# (crates/asr/README.md, "FSDD"). For each speaker S: train on the other
# speakers (runs/fsdd/S/base), then ROUNDS times label S's recordings with
# the latest model (`asr pseudo-label`, never reading S's transcripts), keep
# the surest fraction of each answer (KEEP, one value per round) and train a
# fresh model on the other speakers plus those labels (runs/fsdd/S/st1, ...).
# Each stage trains one model per seed (SEEDS); the labels come from the
# previous stage's models as an ensemble. Every stage is scored on all of
# S's 500 recordings with --choices, as that ensemble and per seed, and as
# the ensemble with S's recordings labelled together (`+neighbours`:
# --neighbours 10; `+balanced`: also --balanced, FSDD has 50 of each digit);
# the table at the end is the mean over speakers. Two speakers train at a time
# (one thread each). Needs `make build`; makes the FSDD manifests from
# FSDD (default ../shared/corpora/fsdd/recordings) when missing.
#   ROUNDS (default 3), KEEP (default "0.5 0.8 0.9"), OUT (default runs/fsdd),
#   SPEAKERS (default: every folder of corpora/speech/fsdd),
#   SEEDS (default "42 1 2").
set -euo pipefail
cd "$(dirname "$0")/.."
ASR=$(realpath "${ASR:-target/release/asr}")
ROUNDS=${ROUNDS:-3}
read -r -a KEEP <<<"${KEEP:-0.5 0.8 0.9}"
OUT=$(realpath -m "${OUT:-runs/fsdd}")
read -r -a SEEDS <<<"${SEEDS:-42 1 2}"
CORPUS=corpora/speech/fsdd
if [ ! -d "$CORPUS" ]; then
  FSDD=${FSDD:-../shared/corpora/fsdd/recordings}
  [ -d "$FSDD" ] || { echo "fsdd-loso: no FSDD recordings at '$FSDD' (set FSDD=DIR)" >&2; exit 1; }
  "$ASR" fsdd --recordings "$FSDD" --out "$CORPUS"
fi
SPEAKERS=${SPEAKERS:-$(cd "$CORPUS" && for d in */; do [ -f "$d/test.jsonl" ] && echo "${d%/}"; done)}
CHOICES=zero,one,two,three,four,five,six,seven,eight,nine
RECIPE=(--sample-rate 8000 --features mfcc --norm speaker --cell gru --hidden 96 --layers 2
  --stack 2 --dropout 0.3 --epochs 14 --batch-size 16 --lr 0.004 --schedule cosine
  --speed 0.85,0.9,0.95,1.0,1.05,1.1,1.15 --noise-prob 0.3 --vtlp 0.78,1.22 --copies 4
  --threads 1 --quiet --overwrite)

# The recordings of the speaker a fold holds out, from its test manifest.
recordings() {
  python3 -c 'import json,sys; [print(json.loads(l)["audio"]) for l in open(sys.argv[1]) if l.strip()]' "$1"
}

# train STAGE MANIFESTS: one model per seed, $dir/STAGE-sSEED.
train() {
  local stage=$1 manifests=$2 seed
  for seed in "${SEEDS[@]}"; do
    "$ASR" train --train "$manifests" --valid "$CORPUS/$s/valid.jsonl" --out "$dir/$stage-s$seed" \
      "${RECIPE[@]}" --seed "$seed" >"$dir/$stage-s$seed.log" 2>&1
  done
}

# models STAGE: the stage's model directories as "--model A [--ensemble B,C]".
models() {
  local first=${SEEDS[0]} rest=() seed
  for seed in "${SEEDS[@]:1}"; do rest+=("$dir/$1-s$seed"); done
  echo "--model $dir/$1-s$first"
  if [ ${#rest[@]} -gt 0 ]; then echo "--ensemble $(IFS=,; echo "${rest[*]}")"; fi
}

# score STAGE: digit accuracy of the ensemble, then of each seed alone (the
# last summary line: for one model, eval prints greedy before --choices).
score() {
  local stage=$1 acc seed
  acc() { "$ASR" eval --manifest "$CORPUS/$s/test.jsonl" --choices "$CHOICES" "$@" |
    sed -n "s/.*exact \([0-9.]*\)%.*/\1/p" | tail -1; }
  # shellcheck disable=SC2046
  echo "$s $stage $(acc $(models "$stage"))" | tee -a "$OUT/accuracy.txt"
  # shellcheck disable=SC2046
  echo "$s $stage+neighbours $(acc $(models "$stage") --neighbours 10)" >>"$OUT/accuracy.txt"
  # shellcheck disable=SC2046
  echo "$s $stage+balanced $(acc $(models "$stage") --neighbours 10 --balanced)" | tee -a "$OUT/accuracy.txt"
  for seed in "${SEEDS[@]}"; do
    echo "$s $stage-s$seed $(acc --model "$dir/$stage-s$seed")" >>"$OUT/accuracy.txt"
  done
}

fold() {
  local s=$1 dir=$OUT/$1 train=$CORPUS/$1/train.jsonl
  mkdir -p "$dir"
  local -a files
  mapfile -t files < <(recordings "$CORPUS/$s/test.jsonl")
  train base "$train"
  score base
  local prev=base
  for ((r = 1; r <= ROUNDS; r++)); do
    local keep=${KEEP[$((r - 1))]:-${KEEP[-1]}}
    # shellcheck disable=SC2046
    "$ASR" pseudo-label "${files[@]}" $(models "$prev") --choices "$CHOICES" \
      --keep "$keep" --speaker "$s" --threads 1 --out "$dir/pseudo$r.jsonl" >"$dir/pseudo$r.log"
    train "st$r" "$train,$dir/pseudo$r.jsonl"
    score "st$r"
    prev=st$r
  done
}

mkdir -p "$OUT"
: >"$OUT/accuracy.txt"
started=$(date +%s)
running=0
for s in $SPEAKERS; do
  fold "$s" &
  running=$((running + 1))
  if [ "$running" -ge 2 ]; then wait -n; running=$((running - 1)); fi
done
wait
echo "FSDD leave-one-speaker-out, digit accuracy with --choices ($(( ($(date +%s) - started) / 60 )) min):"
python3 - "$OUT/accuracy.txt" <<'PY'
import sys, collections, re
acc = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    s, stage, a = line.split()
    acc[stage][s] = float(a)
speakers = sorted({s for v in acc.values() for s in v})
print("| stage | " + " | ".join(speakers) + " | mean |")
print("|---" * (len(speakers) + 2) + "|")
root = lambda t: re.split("[+-]", t)[0]
for stage in sorted(acc, key=lambda t: (root(t) != "base", root(t), t)):
    row = [acc[stage].get(s) for s in speakers]
    mean = sum(r for r in row if r is not None) / max(1, sum(r is not None for r in row))
    print(f"| {stage} | " + " | ".join("-" if r is None else f"{r:.1f} %" for r in row) + f" | **{mean:.1f} %** |")
PY
