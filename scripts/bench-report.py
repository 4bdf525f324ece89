#!/usr/bin/env python3
"""Joins one `make bench` run into target/bench/report.{md,json}.

Inputs, all produced by scripts/bench.sh in the same run:
  target/criterion/**/new/{benchmark,estimates}.json   criterion's own output
  target/bench/peers/*.jsonl   one JSON object per line from benches/peers/*.py:
                               {"bench": ID, "median_s": s, "min_s": s, "max_s": s,
                                "threads": n, ...}
  target/bench/memory.jsonl    {"what": ..., "max_rss_kb": n, "wall_s": s} from scripts/peak-rss.py
  target/bench/agreement.jsonl {"bench": "mel_spec_agreement", "max_abs": {what: x}, ...} from
                               crates/features/benches/logmel.rs (the last line counts)
  target/bench/rounds/N/criterion   criterion output of alternating round N
  target/bench/machine.json    CPU, cores, versions

Targets are declared below, once, next to the benchmark ids they compare; the
report only ever prints numbers read from those files (nothing typed by hand).
Standard library only, so it runs with any python3.
"""
import glob
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TARGET = os.path.join(ROOT, "target")
OUT = os.path.join(TARGET, "bench")

# (title, rust criterion id, peer bench id, minimum speed-up peer/rust); a peer
# id that no peer script reports is looked up among the criterion ids (a Rust
# peer timed by criterion, e.g. mel_spec).
RATIOS = []
# (title, rust criterion id, items per iteration, unit, comparison, bound)
# comparison ">=": items per second must be >= bound; "<=": seconds per item <= bound.
ABSOLUTE = []
# (title, memory record name, max MB)
MEMORY = []

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    from bench_targets import RATIOS, ABSOLUTE, MEMORY  # noqa: F811
except ImportError:
    pass


def _median(xs):
    xs = sorted(xs)
    n = len(xs)
    return None if n == 0 else (xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2]))


def _criterion_dir(root):
    """{full_id: {...}} of one criterion output folder."""
    out = {}
    for bench in glob.glob(os.path.join(root, "**", "new", "benchmark.json"), recursive=True):
        d = os.path.dirname(bench)
        try:
            with open(bench) as f:
                meta = json.load(f)
            with open(os.path.join(d, "estimates.json")) as f:
                est = json.load(f)
        except (OSError, ValueError):
            continue
        med = est["median"]
        out[meta["full_id"]] = {
            "median_s": med["point_estimate"] * 1e-9,
            "ci_low_s": med["confidence_interval"]["lower_bound"] * 1e-9,
            "ci_high_s": med["confidence_interval"]["upper_bound"] * 1e-9,
            "mad_s": est["median_abs_dev"]["point_estimate"] * 1e-9,
        }
    return out


def _over_rounds(per_round, keep):
    """{id: {round: record}} -> {id: {"median_s": median of the round medians,
    "min_s", "max_s", "rounds": {round: median_s}, and `keep` from the last round}}."""
    out = {}
    for k, rounds in per_round.items():
        meds = [r["median_s"] for r in rounds.values()]
        last = rounds[max(rounds)]
        out[k] = {"median_s": _median(meds), "min_s": min(meds), "max_s": max(meds),
                  "rounds": {r: v["median_s"] for r, v in rounds.items()},
                  **{f: last.get(f) for f in keep}}
    return out


def criterion_results():
    """{full_id: {"median_s": median over rounds, "rounds": {round: median_s}, ...}}.
    Rounds are target/bench/rounds/N/criterion (scripts/bench.sh); a plain
    target/criterion (a bench run by hand) counts as round 1."""
    per_round = {}
    for d in sorted(glob.glob(os.path.join(OUT, "rounds", "*", "criterion"))):
        rnd = int(os.path.basename(os.path.dirname(d)))
        for k, v in _criterion_dir(d).items():
            per_round.setdefault(k, {})[rnd] = v
    if not per_round:
        for k, v in _criterion_dir(os.path.join(TARGET, "criterion")).items():
            per_round[k] = {1: v}
    return _over_rounds(per_round, ("ci_low_s", "ci_high_s", "mad_s"))


def peer_results():
    """{bench: {"median_s": median over rounds, "rounds": {round: median_s}, ...}}."""
    per_round = {}
    for path in sorted(glob.glob(os.path.join(OUT, "peers", "*.jsonl"))):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                rnd = int(rec.get("round", 1))
                for r in normalise(rec):
                    per_round.setdefault(r["bench"], {})[rnd] = r
    return _over_rounds(per_round, ("threads",))


def normalise(rec):
    """The peer scripts print one JSON object each; turn each into per-benchmark
    records {"bench", "median_s", "threads"?}."""
    name = rec.get("bench")
    if name == "ctc_torch":  # {"results": {"T.._N.._C.._S../Nt": {"median": ms, ...}}}
        for key, v in rec.get("results", {}).items():
            shape, threads = key.split("/")
            ms = v["median"] if isinstance(v, dict) else v
            yield {"bench": f"ctc_torch/{shape}/{threads}", "median_s": ms * 1e-3,
                   "threads": threads.rstrip("t")}
    elif name in ("train_step_torch", "train_step_torch_ftz"):
        t = rec.get("threads")
        for k in ("imdb_lstm", "speech_bilstm"):
            if f"{k}_s" in rec:
                yield {"bench": f"{name}/{t}t/{k}", "median_s": rec[f"{k}_s"], "threads": t}
    elif "librosa_median_s" in rec or "psf_median_s" in rec:
        for k in ("librosa", "psf", "librosa_defaults"):
            if f"{k}_median_s" in rec:
                yield {"bench": f"mfcc_peers/{k}", "median_s": rec[f"{k}_median_s"], "threads": 1}
    elif name and "median_s" in rec:
        yield rec


def memory_results():
    out = {}
    path = os.path.join(OUT, "memory.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    rec = json.loads(line)
                    out[rec["what"]] = rec
                except (ValueError, KeyError):
                    pass
    return out


def agreement_results():
    """The last line of target/bench/agreement.jsonl (every round writes the same)."""
    path = os.path.join(OUT, "agreement.jsonl")
    last = None
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    last = json.loads(line)
                except ValueError:
                    pass
    return last


def fmt_s(s):
    if s is None:
        return "—"
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def main():
    crit, peers, mem = criterion_results(), peer_results(), memory_results()
    agree = agreement_results()
    machine = {}
    mpath = os.path.join(OUT, "machine.json")
    if os.path.exists(mpath):
        with open(mpath) as f:
            machine = json.load(f)
    rows, verdicts = [], []
    for title, rid, pid, need in RATIOS:
        r, p = crit.get(rid), peers.get(pid) or crit.get(pid)
        ratio = p["median_s"] / r["median_s"] if r and p else None
        # The same ratio within each round (Rust and peer ran back to back).
        per_round = sorted(p["rounds"][k] / r["rounds"][k] for k in r["rounds"] if k in p["rounds"]) \
            if r and p else []
        # need None: shown for comparison, no target.
        ok = None if ratio is None or need is None else ratio >= need
        rows.append({"title": title, "rust": rid, "peer": pid,
                     "rust_median_s": r and r["median_s"], "peer_median_s": p and p["median_s"],
                     "speedup": ratio, "round_speedups": per_round,
                     "target": "—" if need is None else f">= {need}x", "pass": ok})
    for title, rids, items, unit, cmp, bound in ABSOLUTE:
        # An id, or a tuple of alternatives (e.g. a trained model when one exists, else random init).
        rids = (rids,) if isinstance(rids, str) else rids
        rid = next((i for i in rids if i in crit), rids[0])
        r = crit.get(rid)
        val = None
        if r:
            val = items / r["median_s"] if cmp == ">=" else r["median_s"] / items
        ok = None if val is None else (val >= bound if cmp == ">=" else val <= bound)
        rows.append({"title": title, "rust": rid, "rust_median_s": r and r["median_s"],
                     "value": val, "unit": unit, "target": f"{cmp} {bound} {unit}", "pass": ok})
    for title, what, max_mb in MEMORY:
        m = mem.get(what)
        mb = m["max_rss_kb"] / 1024 if m else None
        ok = None if mb is None else mb <= max_mb
        rows.append({"title": title, "value": mb, "unit": "MB peak RSS",
                     "wall_s": m and m.get("wall_s"), "target": f"<= {max_mb} MB", "pass": ok})
    report = {"machine": machine, "targets": rows, "criterion": crit, "peers": peers, "memory": mem,
              "agreement": agree}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(report, f, indent=2, sort_keys=True)

    lines = ["# sori benchmark report", ""]
    for k in ("date", "cpu", "cores", "rustc", "libtorch", "python_peers", "rounds"):
        if k in machine:
            lines.append(f"- {k}: {machine[k]}")
    lines += ["", "## Targets", "", "| what | sori (median) | peer (median) | result | target | verdict |",
              "|---|---|---|---|---|---|"]
    for row in rows:
        verdict = {True: "PASS", False: "FAIL", None: "MISSING"}[row["pass"]]
        if row["target"] == "—":
            verdict = "(comparison)" if row.get("speedup") is not None else "MISSING"
        if "speedup" in row:
            res = "—" if row["speedup"] is None else f"{row['speedup']:.2f}x faster"
            rs = row["round_speedups"]
            if len(rs) > 1:
                res += f" (rounds {rs[0]:.2f}–{rs[-1]:.2f})"
            lines.append(f"| {row['title']} | {fmt_s(row['rust_median_s'])} | {fmt_s(row['peer_median_s'])} "
                         f"| {res} | {row['target']} | {verdict} |")
        else:
            res = "—" if row["value"] is None else f"{row['value']:.4g} {row['unit']}"
            lines.append(f"| {row['title']} | {fmt_s(row.get('rust_median_s'))} | — | {res} "
                         f"| {row['target']} | {verdict} |")
    lines += ["", "sori/peer medians are medians over the alternating rounds; \"rounds\" gives the",
              "lowest and highest per-round speed-up.", ""]
    if agree:
        lines += ["", "## Agreement: sori vs mel_spec, and both vs the Whisper reference fixtures", "",
                  "Max abs difference (crates/features/benches/logmel.rs; the fixtures are",
                  "transformers' WhisperFeatureExtractor, scripts/make-whisper-fixtures.py).", "",
                  "| what | max abs difference |", "|---|---|"]
        for k, v in agree.get("max_abs", {}).items():
            lines.append(f"| {k} | {v:.3g} |")
        for k, v in agree.items():
            if k not in ("bench", "max_abs"):
                lines.append(f"| {k} | {json.dumps(v)} |")
    lines += ["", "## Peak memory", "", "| what | peak RSS | wall time | real-time factor |", "|---|---|---|---|"]
    for k in sorted(mem):
        m = mem[k]
        rtf = f"{m['rtf']:.4f}" if "rtf" in m else "—"
        lines.append(f"| {k} | {m['max_rss_kb'] / 1024:.0f} MB | {m.get('wall_s', '—')} s | {rtf} |")
    lines += ["", "## All criterion measurements", "",
              "| benchmark | median (over rounds) | round medians | 95% CI (last round) | MAD (last round) |",
              "|---|---|---|---|---|"]
    for k in sorted(crit):
        c = crit[k]
        rounds = ", ".join(fmt_s(c["rounds"][r]) for r in sorted(c["rounds"]))
        lines.append(f"| {k} | {fmt_s(c['median_s'])} | {rounds} | {fmt_s(c['ci_low_s'])} – "
                     f"{fmt_s(c['ci_high_s'])} | {fmt_s(c['mad_s'])} |")
    lines += ["", "## All peer measurements", "",
              "| peer benchmark | median (over rounds) | round medians | threads |", "|---|---|---|---|"]
    for k in sorted(peers):
        p = peers[k]
        rounds = ", ".join(fmt_s(p["rounds"][r]) for r in sorted(p["rounds"]))
        lines.append(f"| {k} | {fmt_s(p['median_s'])} | {rounds} | {p.get('threads', '—')} |")
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
