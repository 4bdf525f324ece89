#!/usr/bin/env bash
# Scores an English model on the splits of crates/asr/README.md ("Open
# English"), one table row each, and writes them to $OUT/eval.md:
#   A  unseen voices x unseen sentences (corpora/speech/open/test.jsonl),
#      also by engine (espeak-ng held-out variants / flite slt);
#   B  the same sentences with silences and low noise (test_b.jsonl);
#      A and B again with voice activity detection (--vad), as `asr
#      transcribe` decodes by default;
#   C  FSDD, all four speakers, --choices over the ten digit words;
#   T  the template test set (corpora/speech/en/test.jsonl), if built.
# (The by-engine manifests are written beside test.jsonl: audio paths are
# relative to the manifest.) Greedy decoding, and the default decoding (beam + the model's LMs
# when it ships one). Usage: scripts/eval-open-asr.sh [MODEL] (default
# models/asr-en). Needs the corpora: scripts/make-open-speech-corpus.sh,
# `asr fsdd` (scripts/make-speech-corpus.sh) and `asr synth --out
# corpora/speech/en ...` for T.
set -euo pipefail
cd "$(dirname "$0")/.."
ASR=${ASR:-target/release/asr}
MODEL=${1:-models/asr-en}
OUT=${OUT:-runs/eval-open}
THREADS=${THREADS:-2}
OPEN=corpora/speech/open
mkdir -p "$OUT"
summary() { grep -E "^(greedy|beam|[0-9]+ utterances)" | sed -n 's/.*CER \([0-9.]*\)%.*WER \([0-9.]*\)%.*exact \([0-9.]*\)%.*/CER \1 %, WER \2 %, exact \3 %/p'; }
row() { # name manifest [extra eval options, e.g. --vad]
  local name=$1 m=$2 g d
  shift 2
  g=$("$ASR" eval --manifest "$m" --model "$MODEL" --no-lm --threads "$THREADS" --worst 0 "$@" 2>/dev/null | summary | tail -1)
  if [ -f "$MODEL/lm.arpa" ] || [ -f "$MODEL/lm.arpa.gz" ]; then
    d=$("$ASR" eval --manifest "$m" --model "$MODEL" --threads "$THREADS" --worst 0 "$@" 2>/dev/null | summary | tail -1)
  else
    d="(no lm.arpa[.gz] in the model: greedy is the default)"
  fi
  echo "| $name | $(grep -c . "$m") | $g | $d |" | tee -a "$OUT/eval.md"
}
echo "| split | utterances | greedy | default decoding (beam 64 + the model's LMs) |" > "$OUT/eval.md"
echo "|---|---|---|---|" >> "$OUT/eval.md"
grep '"speaker":"espeak:' "$OPEN/test.jsonl" > "$OPEN/test-espeak.jsonl"
grep '"speaker":"flite:' "$OPEN/test.jsonl" > "$OPEN/test-flite.jsonl"
[ -n "${SKIP_A:-}" ] || row "A: unseen voices and sentences" "$OPEN/test.jsonl"
row "A, espeak-ng variants m7 f5 Andy Linda" "$OPEN/test-espeak.jsonl"
row "A, flite slt" "$OPEN/test-flite.jsonl"
row "B: A with silences and noise" "$OPEN/test_b.jsonl"
row "A with --vad (as asr transcribe)" "$OPEN/test.jsonl" --vad
row "B with --vad" "$OPEN/test_b.jsonl" --vad
[ -f corpora/speech/en/test.jsonl ] && row "T: template sentences, unseen voices" corpora/speech/en/test.jsonl
DIGITS=zero,one,two,three,four,five,six,seven,eight,nine
total=0
for s in george jackson nicolas yweweler; do
  m=corpora/speech/fsdd/$s/test.jsonl
  [ -f "$m" ] || { echo "eval-open-asr: $m missing (asr fsdd --recordings ... --out corpora/speech/fsdd)" >&2; exit 1; }
  a=$("$ASR" eval --manifest "$m" --model "$MODEL" --choices "$DIGITS" --threads "$THREADS" --worst 0 2>/dev/null \
      | sed -n "s/.*exact \([0-9.]*\)%.*/\1/p" | tail -1)
  echo "C: FSDD $s digit accuracy (--choices): $a %" | tee -a "$OUT/eval.md"
  total=$(python3 -c "print($total + $a)")
done
echo "C: FSDD mean digit accuracy: $(python3 -c "print(round($total / 4, 2))") %" | tee -a "$OUT/eval.md"
