#!/usr/bin/env python3
"""Peers of crates/features/benches/mfcc.rs: librosa.feature.mfcc and
python_speech_features.mfcc on the same 60 s of 16 kHz audio with the same
parameters (25 ms / 10 ms frames, 512-point FFT, 23 mel bins, 13
coefficients), single thread; and librosa.feature.mfcc with its own defaults
(n_fft 2048, hop 512, 128 mel, 20 coefficients, centred), the peer of sori's
`librosa` preset (`mfcc_60s_16k/librosa_preset`). Prints one JSON line with
median and minimum seconds.

Run with the peers venv: ~/.cache/sori/peers/bin/python benches/peers/mfcc_peers.py
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[var] = "1"

import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def signal():
    """The same signal as the Rust bench: chirp + tone + LCG noise."""
    sr, n = 16000, 60 * 16000
    mask = (1 << 64) - 1
    state = 12345
    noise = np.empty(n)
    for i in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        noise[i] = (state >> 11) / float(1 << 53) - 0.5
    t = np.arange(n) / sr
    phase = 2 * np.pi * (200.0 * t + 2800.0 * t * t / 120.0)
    x = 0.3 * np.sin(phase) + 0.1 * np.sin(2 * np.pi * 440.0 * t) + 0.02 * noise
    return x.astype(np.float32), sr


def timings(fn, repeats):
    """Median and minimum seconds over `repeats` runs after one warm-up; the
    minimum is the robust figure on a machine shared with other work."""
    fn()  # warm-up (plans, caches, imports)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    x, sr = signal()
    result = {"bench": "mfcc_peers", "audio_s": 60, "sample_rate": sr,
              "params": "25ms/10ms, n_fft 512, 23 mel, 13 coefs", "repeats": repeats}
    try:
        import librosa

        def run_librosa():
            return librosa.feature.mfcc(y=x, sr=sr, n_mfcc=13, n_fft=512, hop_length=160,
                                        win_length=400, n_mels=23, center=False)

        result["librosa_frames"] = int(run_librosa().shape[1])
        result["librosa_median_s"], result["librosa_min_s"] = timings(run_librosa, repeats)
        result["librosa_version"] = librosa.__version__

        def run_librosa_defaults():
            return librosa.feature.mfcc(y=x, sr=sr)

        result["librosa_defaults_frames"] = int(run_librosa_defaults().shape[1])
        (result["librosa_defaults_median_s"],
         result["librosa_defaults_min_s"]) = timings(run_librosa_defaults, repeats)
    except ImportError as e:
        result["librosa_error"] = str(e)
    try:
        import python_speech_features as psf

        x64 = x.astype(np.float64)

        def run_psf():
            return psf.mfcc(x64, samplerate=sr, winlen=0.025, winstep=0.01, numcep=13,
                            nfilt=23, nfft=512)

        result["psf_frames"] = int(run_psf().shape[0])
        result["psf_median_s"], result["psf_min_s"] = timings(run_psf, repeats)
    except ImportError as e:
        result["psf_error"] = str(e)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
