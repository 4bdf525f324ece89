"""Targets of `make bench`, next to the benchmark ids they compare (issue texts:
features 3, ctc 4, rnn/train 5, asr 6, imdb 7, seq2seq 8). Read by bench-report.py."""

SHAPES = ["T150_N32_C29_S40", "T500_N16_C29_S120", "T200_N16_C1000_S50"]
_CTC_NEED = {"T150_N32_C29_S40": 4, "T500_N16_C29_S120": 4, "T200_N16_C1000_S50": 2}

# (title, rust criterion id, peer bench id, minimum speed-up peer/rust)
RATIOS = [
    ("MFCC 60 s @16 kHz vs librosa (1 thread)", "mfcc_60s_16k/kaldi_preset", "mfcc_peers/librosa", 3),
    ("MFCC 60 s @16 kHz vs python_speech_features (1 thread)", "mfcc_60s_16k/kaldi_preset",
     "mfcc_peers/psf", 10),
] + [
    (f"CTC fwd+bwd {s} vs libtorch (1 thread)", f"ctc_fwd_bwd/native_1t/{s}",
     f"ctc_torch/{s}/1t", _CTC_NEED[s]) for s in SHAPES
] + [
    ("train step IMDB LSTM vs PyTorch (sori no slower)", "train_step/imdb_lstm",
     "train_step_torch/imdb_lstm", 1.0),
    ("train step speech BiLSTM vs PyTorch (sori no slower)", "train_step/speech_bilstm",
     "train_step_torch/speech_bilstm", 1.0),
]

# (title, rust criterion id, items per iteration, unit, comparison, bound)
ABSOLUTE = [
    ("CTC beam search, beam 16, 150 frames", "ctc_beam/beam16_T150_C29_utterance", 1,
     "utt/s", ">=", 500),
    ("imdb classify, lstm, 1 thread", ("imdb_classify/lstm_trained_256_reviews_1_thread",
                                       "imdb_classify/lstm_random_256_reviews_1_thread"), 256,
     "reviews/s", ">=", 2000),
    ("seq2seq translate, beam 5, 1 thread", ("seq2seq_translate/beam5_1thread_trained_per_sentence",
                                            "seq2seq_translate/beam5_1thread_random_init_per_sentence"), 1,
     "s/sentence", "<=", 0.05),
]

MEMORY = []
