#!/usr/bin/env python3
"""Make the Whisper log-mel fixtures that crates/features/tests/whisper.rs checks.

The reference is `transformers`' WhisperFeatureExtractor (its numpy path:
`_np_extract_fbank_features`, which transformers keeps within 1e-5 of
openai-whisper's `log_mel_spectrogram`; openai-whisper itself needs torch).
It is installed, pinned, into its own venv under ~/.cache/sori (like
scripts/setup-peers.sh does for the benchmark peers) the first time this runs:

    python3 scripts/make-whisper-fixtures.py

which re-runs itself with that venv's python. Writes into
crates/features/tests/fixtures/: three 16-bit WAVs (tones and seeded noise of
an odd length, an espeak-ng sentence, 190 samples: shorter than the 200-sample
reflect padding) next to the existing chirp16k.wav, and whisper.json with the
extractor's output on each, transposed to sori's (frames, n_mels) rows.
Needs espeak-ng for the sentence.
"""
import json
import os
import subprocess
import sys
import tempfile
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "features", "tests", "fixtures")
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sori")
VENV = os.path.join(CACHE, "whisper-ref")
PINS = ["transformers==5.24.0", "numpy==2.4.6"]


def ensure_reference():
    """Re-runs this script inside the reference venv, making it if needed."""
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(os.path.join(VENV, ".sori-ready-v1")):
        print(f"make-whisper-fixtures: installing {' '.join(PINS)} into {VENV} (one time)", file=sys.stderr)
        os.makedirs(CACHE, exist_ok=True)
        if not os.path.exists(py):
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PINS], check=True)
        open(os.path.join(VENV, ".sori-ready-v1"), "w").close()
    os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])


def write_wav16(path, samples, sr):
    import numpy as np

    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def read_wav16(path):
    """Decodes exactly as sori-features does: int16 / 32768."""
    import numpy as np

    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        sr = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data.astype(np.float32) / np.float32(32768.0), sr


def tones(sr, n, seed):
    """Two tones, a quiet gap and seeded noise; n is not a multiple of the hop."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    x = 0.25 * np.sin(2 * np.pi * 523.25 * t) + 0.15 * np.sin(2 * np.pi * 3150.0 * t)
    x += 0.05 * rng.standard_normal(n)
    x[int(0.3 * sr) : int(0.4 * sr)] *= 1e-3  # 60 dB down: below the clamp
    return x


def speech(path):
    with tempfile.TemporaryDirectory() as d:
        raw = os.path.join(d, "raw.wav")
        subprocess.run(["espeak-ng", "-w", raw, "-s", "170", "whisper hears four two"], check=True)
        subprocess.run(["sox", "-D", "-R", raw, "-r", "16000", "-b", "16", "-c", "1", path], check=True)


def main():
    ensure_reference()
    import numpy as np
    import transformers
    from transformers import WhisperFeatureExtractor

    os.makedirs(OUT, exist_ok=True)
    write_wav16(os.path.join(OUT, "tones16k.wav"), tones(16000, 11923, seed=23), 16000)
    speech(os.path.join(OUT, "speech16k.wav"))
    write_wav16(os.path.join(OUT, "short16k.wav"), tones(16000, 190, seed=5), 16000)

    extractors = {n: WhisperFeatureExtractor(feature_size=n) for n in (80, 128)}
    cases = [("chirp16k.wav", 80), ("tones16k.wav", 80), ("tones16k.wav", 128),
             ("speech16k.wav", 80), ("short16k.wav", 80)]
    refs = {}
    for wav, n_mels in cases:
        x, sr = read_wav16(os.path.join(OUT, wav))
        assert sr == 16000
        # padding="longest" on one input: no padding to 30 s, so the clamp's
        # maximum is this signal's, as whisper.log_mel_spectrogram(audio).
        f = extractors[n_mels](x, sampling_rate=16000, padding="longest", return_tensors="np")
        mel = f["input_features"][0]  # (n_mels, frames)
        assert mel.shape == (n_mels, len(x) // 160), mel.shape
        refs[f"whisper{n_mels}/{wav[:-4]}"] = {"wav": wav, "shape": [mel.shape[1], n_mels],
                                              "data": mel.T.reshape(-1)}

    # Six decimals: the values lie in about [-1, 2]; 5e-7 is far below the
    # tolerance the test asserts.
    with open(os.path.join(OUT, "whisper.json"), "w") as f:
        head = {"generator": "scripts/make-whisper-fixtures.py",
                "reference": "transformers.WhisperFeatureExtractor (numpy path), padding='longest'",
                "transformers": transformers.__version__, "numpy": np.__version__}
        f.write(json.dumps(head)[:-1] + ', "references": {\n')
        for i, (k, v) in enumerate(refs.items()):
            data = ",".join("%.6f" % x for x in v["data"])
            f.write('%s"%s": {"wav": "%s", "shape": %s, "data": [%s]}\n' % (
                "," if i else "", k, v["wav"], json.dumps(v["shape"]), data))
        f.write("}}\n")
    for k, v in refs.items():
        print(k, v["shape"])


if __name__ == "__main__":
    main()
