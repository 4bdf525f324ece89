#!/usr/bin/env python3
"""Fixtures for sori-lm from KenLM, the reference ARPA reader.

Trains two models with sori-lm's `ngram` example on
crates/lm/tests/fixtures/corpus.txt (a character 4-gram with modified
Kneser-Ney, a word trigram with Witten-Bell), writes them as ARPA next to
the corpus, loads each with KenLM's Python module and records KenLM's
per-token log10 probabilities of every held-out sentence
(heldout.txt), `<s>`/`</s>` included, in kenlm-scores.json. The Rust test
tests/kenlm.rs reads the same ARPA files with sori-lm and must agree.

Run in a throwaway venv:  python3 -m venv /tmp/kenlm-venv &&
/tmp/kenlm-venv/bin/pip install kenlm==0.3.0 &&
/tmp/kenlm-venv/bin/python scripts/make-lm-fixtures.py
"""
import json
import subprocess
from pathlib import Path

import kenlm

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "crates/lm/tests/fixtures"
MODELS = [
    ("chars4-kn.arpa", "4", "chars", "kn"),
    ("words3-wb.arpa", "3", "words", "wb"),
]
SPACE = "<sp>"


def tokens(line, kind):
    if kind == "words":
        return line.split()
    out = []
    for i, word in enumerate(line.split()):
        if i:
            out.append(SPACE)
        out.extend(word)
    return out


def main():
    heldout = [l for l in (FIX / "heldout.txt").read_text().splitlines() if l.strip()]
    result = {"kenlm_version": "0.3.0", "models": []}
    for name, order, kind, smoothing in MODELS:
        subprocess.run(
            ["cargo", "run", "--release", "-q", "-p", "sori-lm", "--example", "ngram", "--",
             "train", str(FIX / "corpus.txt"), order, kind, smoothing, str(FIX / name)],
            check=True, cwd=ROOT)
        model = kenlm.Model(str(FIX / name))
        sentences = []
        for line in heldout:
            toks = tokens(line, kind)
            scores = [s[0] for s in model.full_scores(" ".join(toks), bos=True, eos=True)]
            sentences.append({"tokens": toks, "log10": scores})
        result["models"].append({"arpa": name, "order": model.order, "sentences": sentences})
    (FIX / "kenlm-scores.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
