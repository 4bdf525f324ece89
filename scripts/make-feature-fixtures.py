#!/usr/bin/env python3
"""Make the reference fixtures that crates/features/tests/presets.rs checks.

Writes small deterministic WAVs into crates/features/tests/fixtures/ and, for
each, the outputs of the real reference implementations:

- Kaldi `compute-mfcc-feats` / `compute-fbank-feats` defaults, reproduced by
  torchaudio.compliance.kaldi (dither 0, energy_floor 0 as Kaldi's defaults;
  samples scaled to the int16 range, as Kaldi reads WAV);
- `librosa.feature.mfcc` with its defaults;
- deltas (torchaudio.functional.compute_deltas, win_length 5, applied twice
  for delta-deltas), per-utterance CMVN (numpy), a librosa HTK mel filterbank.

Run in a throwaway venv (not committed):
    python3 -m venv /tmp/featvenv
    /tmp/featvenv/bin/pip install torchaudio==2.11.1 librosa==0.11.0
    /tmp/featvenv/bin/python scripts/make-feature-fixtures.py
Needs espeak-ng and sox for the speech sample.
"""
import json
import os
import subprocess
import tempfile
import wave

import librosa
import numpy as np
import torch
import torchaudio.compliance.kaldi as kaldi
import torchaudio.functional as taf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "features", "tests", "fixtures")


def write_wav16(path, samples, sr):
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def read_wav16(path):
    """Decodes exactly as sori-features does: int16 / 32768."""
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        sr = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data.astype(np.float32) / np.float32(32768.0), sr


def chirp(sr, seconds, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    f0, f1 = 150.0, 0.4 * sr
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds))
    x = 0.3 * np.sin(phase) + 0.1 * np.sin(2 * np.pi * 440 * t) + 0.02 * rng.standard_normal(t.size)
    x[int(0.5 * sr) : int(0.6 * sr)] = 0.0  # digital silence exercises the log floors
    return x


def speech(sr_out):
    with tempfile.TemporaryDirectory() as d:
        raw = os.path.join(d, "raw.wav")
        subprocess.run(["espeak-ng", "-w", raw, "-s", "150", "sori reads seven three nine"], check=True)
        out = os.path.join(d, "out.wav")
        subprocess.run(["sox", "-D", "-R", raw, "-r", str(sr_out), "-b", "16", "-c", "1", out], check=True)
        with open(out, "rb") as f:
            return f.read()


def entry(wav, sr, mat):
    mat = np.asarray(mat, dtype=np.float32)
    return {"wav": wav, "sample_rate": sr, "shape": list(mat.shape),
            "data": mat.reshape(-1)}


def kaldi_mfcc(x, sr):
    w = torch.from_numpy(x.astype(np.float64) * 32768.0).unsqueeze(0)
    return kaldi.mfcc(w, sample_frequency=sr, dither=0.0, energy_floor=0.0, use_energy=True)


def kaldi_fbank(x, sr):
    w = torch.from_numpy(x.astype(np.float64) * 32768.0).unsqueeze(0)
    return kaldi.fbank(w, sample_frequency=sr, dither=0.0, energy_floor=0.0)


def main():
    os.makedirs(OUT, exist_ok=True)
    write_wav16(os.path.join(OUT, "chirp16k.wav"), chirp(16000, 1.2, seed=7), 16000)
    for sr, name in [(22050, "speech22k.wav"), (8000, "speech8k.wav")]:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(speech(sr))

    refs = {}
    x16, sr16 = read_wav16(os.path.join(OUT, "chirp16k.wav"))
    x22, sr22 = read_wav16(os.path.join(OUT, "speech22k.wav"))
    x8, sr8 = read_wav16(os.path.join(OUT, "speech8k.wav"))

    for key, (x, sr, wav) in {
        "chirp16k": (x16, sr16, "chirp16k.wav"),
        "speech22k": (x22, sr22, "speech22k.wav"),
        "speech8k": (x8, sr8, "speech8k.wav"),
    }.items():
        refs[f"kaldi_mfcc/{key}"] = entry(wav, sr, kaldi_mfcc(x, sr).numpy())
        refs[f"kaldi_fbank/{key}"] = entry(wav, sr, kaldi_fbank(x, sr).numpy())
    for key, (x, sr, wav) in {
        "chirp16k": (x16, sr16, "chirp16k.wav"),
        "speech22k": (x22, sr22, "speech22k.wav"),
    }.items():
        refs[f"librosa_mfcc/{key}"] = entry(wav, sr, librosa.feature.mfcc(y=x, sr=sr).T)

    base = kaldi_mfcc(x16, sr16)  # (T, 13)
    d1 = taf.compute_deltas(base.T.unsqueeze(0), win_length=5).squeeze(0).T
    d2 = taf.compute_deltas(d1.T.unsqueeze(0), win_length=5).squeeze(0).T
    refs["kaldi_mfcc_deltas/chirp16k"] = entry("chirp16k.wav", sr16, torch.cat([base, d1, d2], dim=1).numpy())
    b = base.numpy().astype(np.float64)
    cmvn = (b - b.mean(axis=0)) / b.std(axis=0)
    refs["kaldi_mfcc_cmvn/chirp16k"] = entry("chirp16k.wav", sr16, cmvn)

    mel = librosa.filters.mel(sr=16000, n_fft=512, n_mels=40, htk=True, fmin=20.0, fmax=7600.0)
    refs["librosa_mel_htk/16k_512_40"] = entry("", 16000, mel)
    mel = librosa.filters.mel(sr=16000, n_fft=512, n_mels=40)
    refs["librosa_mel_slaney/16k_512_40"] = entry("", 16000, mel)

    # Eight significant digits keep the files small and are far below the
    # tolerances the tests assert.
    with open(os.path.join(OUT, "references.json"), "w") as f:
        head = {"generator": "scripts/make-feature-fixtures.py",
                "librosa": librosa.__version__, "torch": torch.__version__}
        f.write(json.dumps(head)[:-1] + ', "references": {\n')
        for i, (k, v) in enumerate(refs.items()):
            data = ",".join("%.8g" % x for x in v["data"])
            f.write('%s"%s": {"wav": "%s", "sample_rate": %d, "shape": %s, "data": [%s]}\n' % (
                "," if i else "", k, v["wav"], v["sample_rate"], json.dumps(v["shape"]), data))
        f.write("}}\n")
    for k, v in refs.items():
        print(k, v["shape"])


if __name__ == "__main__":
    main()
