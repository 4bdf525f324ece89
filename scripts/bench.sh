#!/usr/bin/env bash
# `make bench` / `make bench-quick`: criterion benchmarks and their Python
# peers in one run, then scripts/bench-report.py joins everything into
# target/bench/report.{md,json}.
#
# Machine drift: each Rust/peer pair runs in ROUNDS alternating rounds
# (Rust, peer, Rust, peer, ...); the report takes the median over rounds
# and shows the spread. Criterion's output of every round is kept under
# target/bench/rounds/N/. Thread counts are fixed and named in every id
# (1 thread, and all threads for CTC and the training steps).
#
# The log-mel pair is Rust against Rust (sori and the mel_spec crate in one
# criterion bench, crates/features/benches/logmel.rs); it also appends the
# two crates' agreement (max abs differences) to target/bench/agreement.jsonl.
#
# `quick` (a few minutes): the MFCC, log-mel and CTC pairs, one round.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-full}"
OUT=target/bench
ALL=$(nproc)
if [ "$mode" = full ]; then ROUNDS=${SORI_BENCH_ROUNDS:-3}; STEP_ROUNDS=${SORI_BENCH_STEP_ROUNDS:-2}
else ROUNDS=${SORI_BENCH_ROUNDS:-1}; STEP_ROUNDS=0; fi
rm -rf "$OUT" target/criterion
mkdir -p "$OUT/peers" "$OUT/rounds"
PY="$(scripts/setup-peers.sh)"
python3 - "$OUT/machine.json" "$PY" "$ROUNDS" <<'PYEOF'
import json, os, platform, subprocess, sys, datetime
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
peers = subprocess.run([sys.argv[2], "-c", "import torch, librosa; print('torch', torch.__version__, '/ librosa', librosa.__version__)"], capture_output=True, text=True).stdout.strip()
json.dump({"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu, "cores": os.cpu_count(),
           "rustc": subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip(),
           "libtorch": "2.13.0 (tch 0.26)", "python_peers": peers, "rounds": int(sys.argv[3])},
          open(sys.argv[1], "w"))
PYEOF
# Build first so no round pays for compilation.
if [ "$mode" = full ]; then PKGS=(--workspace); else PKGS=(-p sori-features -p sori-ctc); fi
cargo bench "${PKGS[@]}" --no-run >/dev/null 2>&1 || cargo bench "${PKGS[@]}" --no-run

# crit ROUND PACKAGE BENCH: one criterion run, its results kept for ROUND.
crit() {
  local round=$1 pkg=$2 bench=$3
  cargo bench -q -p "$pkg" --bench "$bench" -- --noplot
  mkdir -p "$OUT/rounds/$round"
  cp -r target/criterion/. "$OUT/rounds/$round/criterion/"
  rm -rf target/criterion
}
# peer ROUND NAME SCRIPT ARGS: one peer run, its JSON line tagged with ROUND.
peer() {
  local round=$1 name=$2; shift 2
  "$PY" "$@" | python3 -c 'import json,sys
for l in sys.stdin:
    l = l.strip()
    if l.startswith("{"):
        r = json.loads(l); r["round"] = int(sys.argv[1]); print(json.dumps(r))' "$round" \
    | tee -a "$OUT/peers/$name.jsonl"
}

for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r of $ROUNDS: MFCC, log-mel and CTC, Rust then peers"
  crit "$r" sori-features mfcc
  peer "$r" mfcc benches/peers/mfcc_peers.py
  SORI_BENCH_AGREEMENT="$PWD/$OUT/agreement.jsonl" crit "$r" sori-features logmel
  crit "$r" sori-ctc ctc
  peer "$r" ctc benches/peers/ctc_torch.py
done
for r in $(seq 1 "$STEP_ROUNDS"); do
  for t in 1 "$ALL"; do
    echo "== round $r of $STEP_ROUNDS: training steps at $t thread(s), Rust then PyTorch"
    SORI_BENCH_THREADS=$t crit "$r" sori-train step
    SORI_BENCH_THREADS=$t peer "$r" train_step benches/peers/train_step_torch.py 5
    SORI_BENCH_THREADS=$t SORI_PEER_FLUSH_DENORMAL=1 peer "$r" train_step benches/peers/train_step_torch.py 5
  done
done
if [ "$mode" = full ]; then
  echo "== applications (1 thread): asr transcribe, imdb classify, seq2seq translate"
  crit 1 sori-asr transcribe
  crit 1 sori-imdb classify
  crit 1 sori-seq2seq translate
  echo "== audio decoding (10 minutes of FLAC / Ogg Vorbis) and voice activity detection (1 thread)"
  crit 1 sori-features decode
  crit 1 sori-features vad

  echo "== peak memory: asr transcribe of a 10-minute recording, one asr training epoch"
  FIX="$OUT/fixtures"
  cargo run -q --release -p sori-asr --example bench_fixtures -- "$FIX" 600
  scripts/peak-rss.py asr_transcribe_10min "$OUT/memory.jsonl" --seconds-of-audio 600 -- \
    target/release/asr transcribe "$FIX/long.wav" --model "$FIX/model" --threads 1
  # The committed model's default decoding: beam 64, character LM + word LM.
  scripts/peak-rss.py asr_transcribe_committed_10min "$OUT/memory.jsonl" --seconds-of-audio 600 -- \
    target/release/asr transcribe "$FIX/long.wav" --model models/asr-en --threads 1 --no-vad
  if command -v espeak-ng >/dev/null; then
    target/release/asr synth --out "$FIX/speech" --train 200 --valid 10 --test 0 --seed 5 \
      --jobs "$ALL" >/dev/null
    scripts/peak-rss.py asr_train_epoch_200utt "$OUT/memory.jsonl" -- \
      target/release/asr train --train "$FIX/speech/train.jsonl" --valid "$FIX/speech/valid.jsonl" \
      --out "$FIX/trained" --overwrite --epochs 1 --threads 1 --quiet
  else
    echo "bench: espeak-ng missing (run make setup); no training-epoch memory row"
  fi
fi
python3 scripts/bench-report.py > /dev/null
echo "bench: report in $OUT/report.md"
cat "$OUT/report.md"
