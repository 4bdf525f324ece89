#!/usr/bin/env bash
# `make bench` / `make bench-quick`: criterion benchmarks and their Python
# peers in one run, alternating Rust and peer per pair so machine drift hits
# both; then scripts/bench-report.py joins everything into
# target/bench/report.{md,json}. `quick` runs the MFCC and CTC pairs only.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-full}"
OUT=target/bench
rm -rf "$OUT" target/criterion
mkdir -p "$OUT/peers"
PY="$(scripts/setup-peers.sh)"
THREADS=$(nproc)
python3 - "$OUT/machine.json" "$PY" <<'PYEOF'
import json, os, platform, subprocess, sys, datetime
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
peers = subprocess.run([sys.argv[2], "-c", "import torch, librosa; print('torch', torch.__version__, '/ librosa', librosa.__version__)"], capture_output=True, text=True).stdout.strip()
json.dump({"date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu, "cores": os.cpu_count(),
           "rustc": subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip(),
           "libtorch": "2.13.0 (tch 0.26)", "python_peers": peers}, open(sys.argv[1], "w"))
PYEOF
crit() { cargo bench -p "$1" --bench "$2" -- --noplot ${3:-}; }
peer() { local name=$1; shift; "$PY" "$@" | tee -a "$OUT/peers/$name.jsonl"; }

crit sori-features mfcc
peer mfcc benches/peers/mfcc_peers.py
crit sori-ctc ctc
peer ctc benches/peers/ctc_torch.py
if [ "$mode" = full ]; then
  SORI_BENCH_THREADS=1 crit sori-train step
  SORI_BENCH_THREADS=1 peer train_step benches/peers/train_step_torch.py 5
  crit sori-imdb classify
  crit sori-seq2seq translate
fi
python3 scripts/bench-report.py > /dev/null
echo "bench: report in $OUT/report.md"
cat "$OUT/report.md"
