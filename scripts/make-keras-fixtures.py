#!/usr/bin/env python3
"""Keras tokeniser and pad_sequences fixtures for sori-imdb.

The oracle is keras-preprocessing 1.1.2, the standalone (TensorFlow-free)
copy of `keras.preprocessing.text.Tokenizer`, `text_to_word_sequence` and
`keras.preprocessing.sequence.pad_sequences`. This script runs them on the
fixed texts below and writes crates/imdb/tests/fixtures/keras.json, which
crates/imdb/tests/keras_fixtures.rs compares with sori-imdb's tokenize.rs.

Run it with any python3 (3.8 or later), from anywhere:

    python3 scripts/make-keras-fixtures.py

It creates a throwaway venv in /tmp/keras-fixtures-venv (reused if present),
installs the pinned packages there and re-runs itself inside it. Nothing is
installed outside /tmp. The committed fixture was made with Python 3.11.7,
keras-preprocessing 1.1.2, numpy 1.26.4 and six 1.16.0 (numpy below 2:
keras-preprocessing 1.1.2's pad_sequences uses `np.unicode_`, which numpy 2
removed).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/imdb/tests/fixtures/keras.json"
VENV = Path("/tmp/keras-fixtures-venv")
PINS = ["keras-preprocessing==1.1.2", "numpy==1.26.4", "six==1.16.0"]

# The training texts. Every one exercises something: upper case, every
# default filter character, characters outside the filters (apostrophes,
# curly quotes, accented and Greek letters), runs of spaces, tabs and
# newlines, texts with no words, frequency ties, words that fall beyond
# num_words, texts longer and shorter than maxlen.
TEXTS = [
    "The movie was GREAT!  Great acting, great story.",
    "I didn't like the ending... the END was bad.",
    "Café, naïve résumé; CAFÉ au lait",
    "tabs\tand\nnewlines\t\tmixed   with    spaces\n",
    "",
    "!!! ... ??? --- ((()))",
    "a b c d e f g h i j k l",
    "rock'n'roll isn't 'quoted' \u201ccurly\u201d \u2018single\u2019",
    "x-y_z/w [brackets] {braces} (parens) <angle> `tick` ~tilde~ |pipe| "
    "\\back\\ ^caret^ @at #hash $dollar %pct &amp *star +plus =eq \"dq\" :colon;",
    "the the the movie",
    "\u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u039f\u03a3 stra\u00dfe STRASSE",
    "number 10/10 and 3.5 stars, 100%",
    "short",
    "tie1 tie2 tie2 tie1 TIE3",
    "   leading and trailing spaces   ",
]

# Single texts with white space that is neither a space nor one of the
# filters' tab and newline: Keras splits on " " only, so these stay inside
# words.
WHITESPACE_TEXTS = [
    "carriage\rreturn",
    "non\u00a0breaking space",
    "form\x0cfeed",
    "vertical\x0btab",
    "em\u2003space",
]

# IMDB's HTML line breaks (sori-imdb removes them before the filters, a
# documented addition; Keras keeps "br").
BR_TEXTS = [
    "Good<br /><br />Bad",
    "one<br/>two <BR /> three",
]

NUM_WORDS = [5, 10, None]
OOV_NUM_WORDS = [6, None]
MAXLENS = [4, 7]


def in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def bootstrap():
    py = VENV / "bin/python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", *PINS], check=True)
    os.execv(str(py), [str(py), str(Path(__file__).resolve())])


def main():
    import keras_preprocessing
    import numpy as np
    import six
    from keras_preprocessing.sequence import pad_sequences
    from keras_preprocessing.text import Tokenizer, text_to_word_sequence

    def tokenizer(num_words, oov_token=None):
        t = Tokenizer(num_words=num_words, oov_token=oov_token)
        t.fit_on_texts(TEXTS)
        return t

    full = tokenizer(None)
    word_index = sorted(full.word_index.items(), key=lambda kv: kv[1])
    sequences = full.texts_to_sequences(TEXTS)

    padded = []
    for maxlen in MAXLENS:
        for padding in ["pre", "post"]:
            for truncating in ["pre", "post"]:
                x = pad_sequences(
                    sequences, maxlen=maxlen, padding=padding, truncating=truncating
                )
                padded.append(
                    {
                        "maxlen": maxlen,
                        "padding": padding,
                        "truncating": truncating,
                        "padded": x.tolist(),
                    }
                )
    defaults = [
        {"maxlen": maxlen, "padded": pad_sequences(sequences, maxlen=maxlen).tolist()}
        for maxlen in MAXLENS
    ]

    fixture = {
        "generator": "scripts/make-keras-fixtures.py",
        "versions": {
            "python": sys.version.split()[0],
            "keras_preprocessing": keras_preprocessing.__version__,
            "numpy": np.__version__,
            "six": six.__version__,
        },
        "texts": TEXTS,
        "words": [text_to_word_sequence(t) for t in TEXTS],
        # [word, index] by index (1 = most frequent), oov_token=None.
        "word_index": [[w, i] for w, i in word_index],
        "sequences": [
            {"num_words": n, "sequences": tokenizer(n).texts_to_sequences(TEXTS)}
            for n in NUM_WORDS
        ],
        "oov_sequences": [
            {
                "num_words": n,
                "oov_token": "<OOV>",
                "oov_index": tokenizer(n, "<OOV>").word_index["<OOV>"],
                "sequences": tokenizer(n, "<OOV>").texts_to_sequences(TEXTS),
            }
            for n in OOV_NUM_WORDS
        ],
        "padded": padded,
        "padded_defaults": defaults,
        "whitespace": [
            {"text": t, "words": text_to_word_sequence(t)} for t in WHITESPACE_TEXTS
        ],
        "br": [
            {
                "text": t,
                "words": text_to_word_sequence(t),
                "words_br_removed": text_to_word_sequence(
                    t.lower().replace("<br />", " ").replace("<br/>", " ")
                ),
            }
            for t in BR_TEXTS
        ],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, ensure_ascii=True, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} with {fixture['versions']}")


if __name__ == "__main__":
    if in_venv():
        main()
    else:
        bootstrap()
