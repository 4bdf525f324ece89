#!/usr/bin/env python3
"""Make crates/features/tests/fixtures/vtln.json: Kaldi filterbanks with a
vocal tract length warp (`compute-fbank-feats --vtln-warp`), reproduced by
torchaudio.compliance.kaldi, on the committed fixture WAVs. The warp is the
VTLP augmentation of `asr train --vtlp`, so its filters are checked against
Kaldi's definition rather than against our own reading of it.

Run with any Python that has torch and torchaudio (not committed), e.g.:
    pip install --no-deps --target /tmp/ta torchaudio==2.11.1
    PYTHONPATH=/tmp/ta ~/.cache/sori/peers/bin/python scripts/make-vtln-fixtures.py
"""
import json
import os
import wave

import numpy as np
import torch
import torchaudio.compliance.kaldi as kaldi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "crates", "features", "tests", "fixtures")


def read_wav16(path):
    """Decodes exactly as sori-features does: int16 / 32768."""
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        sr = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return data.astype(np.float32) / np.float32(32768.0), sr


def main():
    refs = {}
    for wav in ["chirp16k.wav", "speech8k.wav"]:
        x, sr = read_wav16(os.path.join(FIX, wav))
        w = torch.from_numpy(x.astype(np.float64) * 32768.0).unsqueeze(0)
        for warp in [0.85, 1.15]:
            m = kaldi.fbank(w, sample_frequency=sr, dither=0.0, energy_floor=0.0,
                            vtln_warp=warp, vtln_low=100.0, vtln_high=-500.0)
            refs["kaldi_fbank_vtln%.2f/%s" % (warp, wav[:-4])] = (wav, sr, m.numpy())
    with open(os.path.join(FIX, "vtln.json"), "w") as f:
        head = {"generator": "scripts/make-vtln-fixtures.py", "torch": torch.__version__}
        f.write(json.dumps(head)[:-1] + ', "references": {\n')
        for i, (k, (wav, sr, mat)) in enumerate(refs.items()):
            data = ",".join("%.8g" % v for v in mat.reshape(-1))
            f.write('%s"%s": {"wav": "%s", "sample_rate": %d, "shape": %s, "data": [%s]}\n' % (
                "," if i else "", k, wav, sr, json.dumps(list(mat.shape)), data))
        f.write("}}\n")
    for k, (_, _, mat) in refs.items():
        print(k, mat.shape)


if __name__ == "__main__":
    main()
