#!/usr/bin/env python3
"""Runs a command and records its peak resident memory and wall time:

    scripts/peak-rss.py NAME OUT.jsonl [--seconds-of-audio S] -- CMD ARGS...

appends {"what": NAME, "max_rss_kb": ..., "wall_s": ..., "rtf"?: ...} to
OUT.jsonl. The peak comes from getrusage(RUSAGE_CHILDREN), i.e. the largest
resident set of the command (the kernel's own accounting, like
`/usr/bin/time -v`, which a fresh machine may lack). The command's stdout
goes to /dev/null; a failing command fails this script with its status.
Standard library only.
"""
import json
import resource
import subprocess
import sys
import time


def main():
    if "--" not in sys.argv[1:] or len(sys.argv) < 5:
        sys.exit("usage: peak-rss.py NAME OUT.jsonl [--seconds-of-audio S] -- CMD ARGS...")
    sep = sys.argv.index("--")
    name, out, opts, cmd = sys.argv[1], sys.argv[2], sys.argv[3:sep], sys.argv[sep + 1:]
    audio_s = float(opts[1]) if opts[:1] == ["--seconds-of-audio"] else None
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"peak-rss: {name}: `{' '.join(cmd)}` exited with {proc.returncode}")
    rec = {"what": name, "max_rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
           "wall_s": round(wall, 3)}
    if audio_s:
        rec["audio_s"] = audio_s
        rec["rtf"] = round(wall / audio_s, 5)
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(json.dumps(rec))


if __name__ == "__main__":
    main()
