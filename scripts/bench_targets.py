"""Targets of `make bench`, next to the benchmark ids they compare (issue texts:
features 3, ctc 4, rnn/train 5, asr 6, imdb 7, seq2seq 8, bench 9). Read by
bench-report.py. Every id names its thread count; "all" is this machine's
core count (os.cpu_count(), the same number scripts/bench.sh passes)."""
import os

ALL = os.cpu_count() or 1
SHAPES = ["T150_N32_C29_S40", "T500_N16_C29_S120", "T200_N16_C1000_S50"]
_CTC_NEED = {"T150_N32_C29_S40": 4, "T500_N16_C29_S120": 4, "T200_N16_C1000_S50": 2}

# (title, rust criterion id, peer bench id, minimum speed-up peer/rust or None: no target)
RATIOS = [
    ("MFCC 60 s @16 kHz vs librosa (1 thread)", "mfcc_60s_16k/kaldi_preset", "mfcc_peers/librosa", 3),
    ("MFCC 60 s @16 kHz vs python_speech_features (1 thread)", "mfcc_60s_16k/kaldi_preset",
     "mfcc_peers/psf", 10),
    ("MFCC librosa preset vs librosa.feature.mfcc defaults (1 thread)", "mfcc_60s_16k/librosa_preset",
     "mfcc_peers/librosa_defaults", 3),
    # Rust against Rust (issue 23): both ids are criterion's; no target, the
    # comparison decides whether sori-features should call mel_spec.
    ("Whisper log-mel 80 bins, 60 s @16 kHz vs mel_spec 0.5 (1 thread)", "logmel_60s_16k/sori_whisper80",
     "logmel_60s_16k/mel_spec_whisper80", None),
    ("plain log-mel 80 bins (ln), 60 s @16 kHz vs mel_spec 0.5 (1 thread)", "logmel_60s_16k/sori_plain_ln80",
     "logmel_60s_16k/mel_spec_plain_ln80", None),
]
for _t in sorted({1, ALL}):
    RATIOS += [
        (f"CTC fwd+bwd {s} vs libtorch ({_t} thread{'s' if _t > 1 else ''})",
         f"ctc_fwd_bwd/native_{_t}t/{s}", f"ctc_torch/{s}/{_t}t", _CTC_NEED[s]) for s in SHAPES
    ]
for _t in sorted({1, ALL}):
    _th = f"{_t} thread{'s' if _t > 1 else ''}"
    RATIOS += [
        (f"train step IMDB LSTM vs PyTorch, {_th} (sori no slower)", f"train_step_{_t}t/imdb_lstm",
         f"train_step_torch/{_t}t/imdb_lstm", 1.0),
        (f"train step speech BiLSTM vs PyTorch, {_th} (sori no slower)", f"train_step_{_t}t/speech_bilstm",
         f"train_step_torch/{_t}t/speech_bilstm", 1.0),
        # sori flushes subnormals to zero (sori_train::cpu); PyTorch in that
        # same mode, for comparison (no target).
        (f"train step IMDB LSTM vs PyTorch with set_flush_denormal(True), {_th}",
         f"train_step_{_t}t/imdb_lstm", f"train_step_torch_ftz/{_t}t/imdb_lstm", None),
        (f"train step speech BiLSTM vs PyTorch with set_flush_denormal(True), {_th}",
         f"train_step_{_t}t/speech_bilstm", f"train_step_torch_ftz/{_t}t/speech_bilstm", None),
    ]

# (title, rust criterion id or alternatives, items per iteration, unit, comparison, bound)
ABSOLUTE = [
    ("CTC beam search, beam 16, 150 frames", "ctc_beam/beam16_T150_C29_utterance", 1,
     "utt/s", ">=", 500),
    ("asr transcribe real-time factor, 60 s, 1 thread",
     ("asr_transcribe/trained_60s_1_thread", "asr_transcribe/default_arch_60s_1_thread"), 60,
     "s per s of audio", "<=", 0.05),
    # Issue 16: the default decoding of the committed model (beam 64, both LMs) stays <= 0.05.
    ("asr transcribe real-time factor, models/asr-en default decoding (beam 64 + LMs), 60 s, 1 thread",
     "asr_transcribe/committed_default_60s_1_thread", 60, "s per s of audio", "<=", 0.05),
    ("imdb classify, lstm, 1 thread", ("imdb_classify/lstm_trained_256_reviews_1_thread",
                                       "imdb_classify/lstm_random_256_reviews_1_thread"), 256,
     "reviews/s", ">=", 2000),
    # Issue 17: decoding adds <= 10 % to asr transcribe (real-time factor ~0.0046), so >= 2,200x.
    ("decode 10 min of FLAC (symphonia, in memory), 1 thread", "decode_10min_16k/flac", 600 * 16000,
     "samples/s", ">=", 2200 * 16000),
    ("decode 10 min of Ogg Vorbis (symphonia, in memory), 1 thread", "decode_10min_16k/ogg", 600 * 16000,
     "samples/s", ">=", 2200 * 16000),
    ("VAD, 60 s of 16 kHz (energy + spectral flux), 1 thread", "vad_60s_16k/energy_flux_hysteresis",
     60 * 16000, "samples/s", ">=", 500 * 16000),
    ("imdb classify, committed models/imdb-en (best, maxlen 400), 1 thread",
     "imdb_classify/committed_imdb_en_256_reviews_1_thread", 256, "reviews/s", ">=", 1000),
    ("seq2seq translate, beam 5, 1 thread", ("seq2seq_translate/beam5_1thread_trained_per_sentence",
                                            "seq2seq_translate/beam5_1thread_random_init_per_sentence"), 1,
     "s/sentence", "<=", 0.05),
]

# (title, memory record name from scripts/peak-rss.py, max MB)
MEMORY = [
    ("asr transcribe, 10-minute recording, peak memory (1 thread)", "asr_transcribe_10min", 500),
    ("asr transcribe, models/asr-en default decoding (both LMs), 10-minute recording, peak memory (1 thread)",
     "asr_transcribe_committed_10min", 500),
    ("asr train, one epoch of 200 utterances, peak memory (1 thread)", "asr_train_epoch_200utt", 2000),
]
