"""PyTorch peer of the `ctc` criterion benchmark: F.ctc_loss forward+backward
(mean reduction, blank 0, float32, CPU) on the same three shapes, at one
thread and at all threads. Prints one JSON line: per shape and thread count
the median, minimum and maximum milliseconds per batch over 15 timed runs
(the median is what the report compares with criterion's median).

Run: ~/.cache/sori/peers/bin/python benches/peers/ctc_torch.py
"""
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F

SHAPES = [(150, 32, 29, 40), (500, 16, 29, 120), (200, 16, 1000, 50)]


def time_shape(t, n, c, s, reps=15):
    g = torch.Generator().manual_seed(17)
    logits = torch.rand(t, n, c, generator=g) * 6.0 - 3.0
    lp = logits.log_softmax(-1)
    targets = torch.randint(1, c, (n, s), generator=g)
    il = torch.full((n,), t, dtype=torch.long)
    tl = torch.full((n,), s, dtype=torch.long)

    def step():
        x = lp.detach().requires_grad_(True)
        loss = F.ctc_loss(x, targets, il, tl, blank=0, reduction="mean")
        loss.backward()

    for _ in range(2):
        step()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    return {"median": round(statistics.median(times), 4), "min": round(min(times), 4),
            "max": round(max(times), 4)}


def main():
    results = {}
    for threads in (1, os.cpu_count() or 1):
        torch.set_num_threads(threads)
        for t, n, c, s in SHAPES:
            key = f"T{t}_N{n}_C{c}_S{s}/{threads}t"
            results[key] = time_shape(t, n, c, s)
    print(json.dumps({"bench": "ctc_torch", "torch": torch.__version__, "unit": "ms", "results": results}))


if __name__ == "__main__":
    main()
