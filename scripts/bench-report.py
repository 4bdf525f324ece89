#!/usr/bin/env python3
"""Joins one `make bench` run into target/bench/report.{md,json}.

Inputs, all produced by scripts/bench.sh in the same run:
  target/criterion/**/new/{benchmark,estimates}.json   criterion's own output
  target/bench/peers/*.jsonl   one JSON object per line from benches/peers/*.py:
                               {"bench": ID, "median_s": s, "min_s": s, "max_s": s,
                                "threads": n, ...}
  target/bench/memory.jsonl    {"what": ..., "max_rss_kb": n} from /usr/bin/time
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

# (title, rust criterion id, peer bench id, minimum speed-up peer/rust)
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


def criterion_results():
    out = {}
    for bench in glob.glob(os.path.join(TARGET, "criterion", "**", "new", "benchmark.json"), recursive=True):
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


def peer_results():
    out = {}
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
                for r in normalise(rec):
                    out[r["bench"]] = r
    return out


def normalise(rec):
    """The peer scripts print one JSON object each; turn each into per-benchmark
    records {"bench", "median_s", "min_s"?, "threads"?}."""
    name = rec.get("bench")
    if name == "ctc_torch":  # {"results": {"T.._N.._C.._S../Nt": best ms}}
        for key, ms in rec.get("results", {}).items():
            shape, threads = key.split("/")
            yield {"bench": f"ctc_torch/{shape}/{threads}", "median_s": ms * 1e-3,
                   "min_s": ms * 1e-3, "threads": threads.rstrip("t"), "note": "best of 10"}
    elif name == "train_step_torch":
        for k in ("imdb_lstm", "speech_bilstm"):
            if f"{k}_s" in rec:
                yield {"bench": f"train_step_torch/{k}", "median_s": rec[f"{k}_s"],
                       "threads": rec.get("threads")}
    elif "librosa_median_s" in rec or "psf_median_s" in rec:
        for k in ("librosa", "psf"):
            if f"{k}_median_s" in rec:
                yield {"bench": f"mfcc_peers/{k}", "median_s": rec[f"{k}_median_s"],
                       "min_s": rec.get(f"{k}_min_s"), "threads": 1}
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
    machine = {}
    mpath = os.path.join(OUT, "machine.json")
    if os.path.exists(mpath):
        with open(mpath) as f:
            machine = json.load(f)
    rows, verdicts = [], []
    for title, rid, pid, need in RATIOS:
        r, p = crit.get(rid), peers.get(pid)
        ratio = p["median_s"] / r["median_s"] if r and p else None
        ok = None if ratio is None else ratio >= need
        rows.append({"title": title, "rust": rid, "peer": pid,
                     "rust_median_s": r and r["median_s"], "peer_median_s": p and p["median_s"],
                     "speedup": ratio, "target": f">= {need}x", "pass": ok})
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
                     "target": f"<= {max_mb} MB", "pass": ok})
    report = {"machine": machine, "targets": rows, "criterion": crit, "peers": peers, "memory": mem}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(report, f, indent=2, sort_keys=True)

    lines = ["# sori benchmark report", ""]
    for k in ("date", "cpu", "cores", "rustc", "libtorch", "python_peers", "threads"):
        if k in machine:
            lines.append(f"- {k}: {machine[k]}")
    lines += ["", "## Targets", "", "| what | sori (median) | peer (median) | result | target | verdict |",
              "|---|---|---|---|---|---|"]
    for row in rows:
        verdict = {True: "PASS", False: "FAIL", None: "MISSING"}[row["pass"]]
        if "speedup" in row:
            res = "—" if row["speedup"] is None else f"{row['speedup']:.2f}x faster"
            lines.append(f"| {row['title']} | {fmt_s(row['rust_median_s'])} | {fmt_s(row['peer_median_s'])} "
                         f"| {res} | {row['target']} | {verdict} |")
        else:
            res = "—" if row["value"] is None else f"{row['value']:.4g} {row['unit']}"
            lines.append(f"| {row['title']} | {fmt_s(row.get('rust_median_s'))} | — | {res} "
                         f"| {row['target']} | {verdict} |")
    lines += ["", "## All criterion measurements", "", "| benchmark | median | 95% CI | MAD |", "|---|---|---|---|"]
    for k in sorted(crit):
        c = crit[k]
        lines.append(f"| {k} | {fmt_s(c['median_s'])} | {fmt_s(c['ci_low_s'])} – {fmt_s(c['ci_high_s'])} "
                     f"| {fmt_s(c['mad_s'])} |")
    lines += ["", "## All peer measurements", "", "| peer benchmark | median | min | max | threads |",
              "|---|---|---|---|---|"]
    for k in sorted(peers):
        p = peers[k]
        lines.append(f"| {k} | {fmt_s(p['median_s'])} | {fmt_s(p.get('min_s'))} | {fmt_s(p.get('max_s'))} "
                     f"| {p.get('threads', '—')} |")
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
