#!/usr/bin/env python3
"""Write the BLEU / chrF fixtures that crates/text tests check against.

The oracle is the real sacreBLEU (pinned to 2.6.0), run in a throwaway venv:

    python3 -m venv /tmp/sb-venv && /tmp/sb-venv/bin/pip install sacrebleu==2.6.0
    /tmp/sb-venv/bin/python scripts/make-bleu-fixtures.py

It writes line-aligned `<name>.hyp` / `<name>.ref` files (UTF-8, '\n' line ends)
and `expected.json` under crates/text/tests/fixtures/sacrebleu/. For every
corpus the JSON holds the corpus BLEU with sacreBLEU's defaults (13a, exp
smoothing, mixed case), lowercased BLEU, chrF (char order 6, word order 0,
beta 2), the BLEU sufficient statistics, and sacreBLEU's 13a tokenisation of
every line (so the tokenizer is checked on its own too).
"""
import json
import random
from pathlib import Path

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

OUT = Path(__file__).resolve().parent.parent / "crates/text/tests/fixtures/sacrebleu"

# Hand-written edge cases: punctuation, numbers, case, unicode, entities,
# sacreBLEU's special strings, odd whitespace, empty lines, and Korean.
EDGE = [
    ("The cat sat on the mat.", "The cat sat on the mat."),
    ("the cat is on the mat", "There is a cat on the mat."),
    ("", "A man rides a bicycle."),
    ("A man rides a bike.", ""),
    ("", ""),
    ("It costs $3.50, not 1,000 dollars!", "It costs $3.50 - not 1,000 dollars."),
    ("Pages 10-20 (see e.g. fig. 3).", "See pages 10-20, fig. 3."),
    ("\"Quoted\" text & more &amp; entities &lt;b&gt; &quot;x&quot;", "\"Quoted\" text & more entities <b>"),
    ("Ein Mann fährt Fahrrad.", "Ein Mann fährt ein Fahrrad."),
    ("Straße, Größe; Übermaß?", "STRASSE, größe: Übermaß!"),
    ("ΟΔΥΣΣΕΥΣ ΚΑΙ ΣΙΣΥΦΟΣ", "Οδυσσευς και Σισυφος"),
    ("Crème brûlée à la carte...", "crème brûlée à la carte…"),
    ("저는 학생입니다.", "나는 학생이다."),
    ("오늘 날씨가 정말 좋네요!", "오늘 날씨가 좋아요."),
    ("tabs\tand  double  spaces \u00a0nbsp\u3000ideographic", "tabs and double spaces nbsp ideographic"),
    ("trailing whitespace   ", "trailing whitespace"),
    ("<skipped> line with skip marker", "line with skip marker"),
    ("hyphen-\nated word", "hyphenated word"),
    ("e-mail: a.b@c.de, www.x.org/path?q=1&r=2", "email a.b@c.de www.x.org/path?q=1&r=2"),
    ("3.14 is pi, 2,5 is two and a half, 1.5-2", "3.14 is pi , 2,5 is 2.5 and 1.5 - 2"),
    ("I'm sure he's right—isn't he?", "I am sure he is right, isn't he?"),
    ("{braces} [brackets] `ticks` ~tilde^ |pipe|", "{braces} [brackets] ticks tilde pipe"),
    ("Ünïcödé ÀÉÎÕÜ ǅ ﬁ", "ünïcödé àéîõü ǆ fi"),
    ("😀 emoji ok 👍", "emoji ok 👍"),
]
# Newlines inside a segment cannot survive a line-based file; the one above
# is only used through the JSON (see "edge" below, written with escapes).

KOREAN = [
    ("나는 학생입니다.", "저는 학생입니다."),
    ("이것은 무엇입니까?", "이게 뭐예요?"),
    ("톰은 집에 갔어요.", "톰은 집에 갔다."),
    ("나는 커피를 좋아해.", "나는 커피를 좋아해요."),
    ("그는 어제 서울에 갔다.", "그는 어제 서울에 갔다."),
    ("비가 와요.", "비가 온다."),
    ("", "안녕하세요."),
    ("고마워요!", "감사합니다!"),
]

SHORT = [
    ("yes", "yes"),
    ("no .", "no"),
    ("a b", "a b c"),
    ("one two three", "one two three four five"),
    ("x", "y"),
]

WORDS = ("a man woman dog cat child girl boy is are on in the with red blue "
         "green street park water ball running sitting riding bike bicycle "
         "playing near two three people group young old black white shirt "
         "jacket holding looking at front of while standing walking").split()


def generated(seed: int, n: int):
    """Reference sentences from a word list and hypotheses made by random edits."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        length = rng.randint(1, 18)
        ref = [rng.choice(WORDS) for _ in range(length)]
        hyp = list(ref)
        for _ in range(rng.randint(0, 4)):
            op = rng.random()
            if op < 0.3 and hyp:
                del hyp[rng.randrange(len(hyp))]
            elif op < 0.6:
                hyp.insert(rng.randint(0, len(hyp)), rng.choice(WORDS))
            elif op < 0.8 and hyp:
                hyp[rng.randrange(len(hyp))] = rng.choice(WORDS)
            elif len(hyp) > 1:
                i = rng.randrange(len(hyp) - 1)
                hyp[i], hyp[i + 1] = hyp[i + 1], hyp[i]
        ref_s = " ".join(ref)
        hyp_s = " ".join(hyp)
        if rng.random() < 0.5:
            ref_s = ref_s[:1].upper() + ref_s[1:] + "."
        if rng.random() < 0.5:
            hyp_s = hyp_s[:1].upper() + hyp_s[1:] + rng.choice([".", " .", "!", ""])
        pairs.append((hyp_s, ref_s))
    return pairs


def score(pairs):
    hyps = [h for h, _ in pairs]
    refs = [r for _, r in pairs]
    bleu = BLEU()
    b = bleu.corpus_score(hyps, [refs])
    lc = BLEU(lowercase=True).corpus_score(hyps, [refs])
    chrf = CHRF().corpus_score(hyps, [refs])
    tok = Tokenizer13a()
    return {
        "bleu": b.score,
        "bleu_counts": b.counts,
        "bleu_totals": b.totals,
        "bleu_bp": b.bp,
        "bleu_sys_len": b.sys_len,
        "bleu_ref_len": b.ref_len,
        "bleu_lowercase": lc.score,
        "chrf": chrf.score,
        "sentence_bleu": [BLEU(effective_order=True).sentence_score(h, [r]).score for h, r in pairs],
        "sentence_chrf": [CHRF().sentence_score(h, [r]).score for h, r in pairs],
        "tok13a_hyp": [tok(h.rstrip()) for h in hyps],
        "tok13a_ref": [tok(r.rstrip()) for r in refs],
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    corpora = {
        "edge": [p for p in EDGE if "\n" not in p[0]],
        "korean": KOREAN,
        "short": SHORT,
        "perfect": [(r, r) for _, r in generated(7, 20)],
        "all_empty_hyp": [("", r) for _, r in generated(8, 10)],
        "generated": generated(2026, 300),
    }
    expected = {"sacrebleu_version": sacrebleu.__version__, "corpora": {}}
    for name, pairs in corpora.items():
        for side, idx in (("hyp", 0), ("ref", 1)):
            with open(OUT / f"{name}.{side}", "w", encoding="utf-8", newline="\n") as f:
                for p in pairs:
                    f.write(p[idx] + "\n")
        expected["corpora"][name] = score(pairs)
    # Segments containing a newline: only the 13a tokenizer sees these (from JSON).
    tok = Tokenizer13a()
    expected["tok13a_extra"] = [[s, tok(s)] for s in
                                ["hyphen-\nated word", "two\nlines", "a-\nb-\nc", "&amp;amp; &#39; &quot"]]
    with open(OUT / "expected.json", "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
    for name, e in expected["corpora"].items():
        print(f"{name:14s} BLEU {e['bleu']:8.4f}  lcBLEU {e['bleu_lowercase']:8.4f}  chrF {e['chrf']:8.4f}")


if __name__ == "__main__":
    main()
