#!/usr/bin/env python3
"""Peer of crates/train/benches/step.rs: one training step (forward,
backward, optimizer step) of the same two models in PyTorch, with the same
number of intra-op threads (SORI_BENCH_THREADS, default 2):

- imdb_lstm: Embedding(10000, 32) -> LSTM(32) -> Linear(32, 1), batch 128 x
  500 tokens, BCE-with-logits, RMSprop(lr=1e-3, alpha=0.9, eps=1e-7) (the
  Keras defaults sori-train uses).
- speech_bilstm: 3-layer bidirectional LSTM(40 -> 256), T=300, batch 16,
  Linear(512, 29) frame classifier with cross-entropy, Adam(lr=1e-3).

Prints one JSON line with the median seconds per step of each.
With SORI_PEER_FLUSH_DENORMAL=1 the process first calls
torch.set_flush_denormal(True) (before any worker thread exists, so all
inherit it), the mode sori's binaries and benches run in; its results are
reported as a second peer, `train_step_torch_ftz`.
Run with the peers venv: ~/.cache/sori/peers/bin/python benches/peers/train_step_torch.py [repeats]
"""
import json
import os
import statistics
import sys
import time

import torch


def median_time(step, repeats):
    for _ in range(2):  # warm-up: allocator, kernels
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def imdb_lstm(repeats):
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10000, 32)
    lstm = torch.nn.LSTM(32, 32, batch_first=True)
    dense = torch.nn.Linear(32, 1)
    params = [*emb.parameters(), *lstm.parameters(), *dense.parameters()]
    opt = torch.optim.RMSprop(params, lr=1e-3, alpha=0.9, eps=1e-7)
    tokens = torch.randint(0, 10000, (128, 500))
    labels = torch.randint(0, 2, (128,)).float()

    def step():
        _, (h, _) = lstm(emb(tokens))
        logits = dense(h[-1]).squeeze(-1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return median_time(step, repeats)


def speech_bilstm(repeats):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(40, 256, num_layers=3, bidirectional=True, batch_first=True)
    out = torch.nn.Linear(512, 29)
    opt = torch.optim.Adam([*lstm.parameters(), *out.parameters()], lr=1e-3)
    feats = torch.randn(16, 300, 40)
    targets = torch.randint(0, 29, (16 * 300,))

    def step():
        ys, _ = lstm(feats)
        logits = out(ys).reshape(16 * 300, 29)
        loss = torch.nn.functional.cross_entropy(logits, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return median_time(step, repeats)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    flush = os.environ.get("SORI_PEER_FLUSH_DENORMAL") == "1"
    if flush and not torch.set_flush_denormal(True):
        sys.exit("torch.set_flush_denormal(True) is not supported on this CPU")
    threads = int(os.environ.get("SORI_BENCH_THREADS", "2"))
    torch.set_num_threads(threads)
    result = {
        "bench": "train_step_torch_ftz" if flush else "train_step_torch",
        "torch": torch.__version__,
        "threads": threads,
        "imdb_lstm_s": imdb_lstm(repeats),
        "speech_bilstm_s": speech_bilstm(repeats),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
