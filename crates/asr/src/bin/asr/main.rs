//! The `asr` command: argument parsing and printing only; the work lives in
//! the `sori_asr` library and the crates below it. Each subcommand has its
//! own `*_cmd` module.
use clap::{Parser, Subcommand};

mod align_cmd;
mod corpus_cmd;
mod features_cmd;
mod lm_cmd;
mod pseudo_cmd;
mod train_cmd;
mod transcribe_cmd;

/// Speech recognition trained with a native CTC loss: audio in, text out.
#[derive(Parser, Debug)]
#[command(name = "asr", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const DIGITS: &str = "zero,one,two,three,four,five,six,seven,eight,nine";

#[derive(Subcommand, Debug)]
enum Command {
    /// Synthesize a multi-speaker English corpus with espeak-ng.
    Synth(corpus_cmd::SynthArgs),
    /// Build leave-one-speaker-out manifests for the Free Spoken Digit Dataset.
    #[command(after_help = "Examples:\n  \
asr fsdd --recordings free-spoken-digit-dataset/recordings --out corpora/fsdd")]
    Fsdd(corpus_cmd::FsddArgs),
    /// Train a CTC model (features, BiLSTM/BiGRU, native CTC loss) from manifests.
    #[command(
        mut_args(train_cmd::help_defaults().into_fn()),
        after_help = "Examples:\n  \
asr train --train corpora/speech/en/train.jsonl --valid corpora/speech/en/valid.jsonl --out models/asr\n  \
asr train --train corpora/speech/en/train.jsonl --valid corpora/speech/en/valid.jsonl --out models/asr --resume"
    )]
    Train(Box<train_cmd::TrainCmd>),
    /// Transcribe audio files or standard input (text, JSON, SRT or WebVTT).
    #[command(after_help = "Examples:\n  \
asr transcribe a.wav\n  \
asr transcribe a.wav b.wav --model models/asr --format srt")]
    Transcribe(transcribe_cmd::TranscribeArgs),
    /// Score a model on a manifest: CER, WER and the worst utterances.
    #[command(after_help = "Examples:\n  \
asr eval --manifest corpora/speech/en/test.jsonl --model models/asr\n  \
asr eval --manifest test.jsonl --model models/asr --lm lm.arpa --alpha 0.5,1,1.5")]
    Eval(transcribe_cmd::EvalArgs),
    /// Forced alignment: start and end time of each word of a known transcript.
    #[command(after_help = "Examples:\n  \
asr align a.wav \"the words said in it\"\n  \
asr align a.wav \"the words said in it\" --model models/asr --format json")]
    Align(align_cmd::AlignArgs),
    /// Self-training for a new speaker: label their unlabelled recordings with a
    /// model's confident closed-vocabulary answers (a manifest for `asr train`).
    #[command(after_help = format!("Examples:\n  \
asr pseudo-label new/*.wav --model models/digits --choices {DIGITS} --speaker new --out pseudo.jsonl"))]
    PseudoLabel(pseudo_cmd::PseudoLabelArgs),
    /// Train a character n-gram language model (ARPA) for the beam search.
    #[command(after_help = "Examples:\n  \
asr lm --manifest train.jsonl --order 6 --out lm.arpa --ppl-manifest valid.jsonl\n  \
asr lm --text sentences.txt --smoothing wb --out lm.arpa")]
    Lm(lm_cmd::LmArgs),
    /// Compute MFCC or log-mel filterbank features of WAV files (NPY, CSV, JSON).
    #[command(after_help = "Examples:\n  \
asr features clip.wav --preset kaldi -o clip.npy\n  \
asr features *.wav --fbank --deltas --format csv -o features/")]
    Features(features_cmd::FeaturesArgs),
}

fn main() {
    // Before any thread exists, so every worker inherits it (sori_train::cpu).
    sori_train::configure_process();
    let cli: Cli = sori_train::parse_args(sori_train::build_info!());
    let result = match cli.command {
        Command::Synth(a) => corpus_cmd::synth(a),
        Command::Fsdd(a) => corpus_cmd::fsdd(a),
        Command::Train(a) => train_cmd::run(*a),
        Command::Transcribe(a) => transcribe_cmd::transcribe(a).map(exit_on_failure),
        Command::Eval(a) => transcribe_cmd::eval(a).map(exit_on_failure),
        Command::Align(a) => align_cmd::run(a),
        Command::PseudoLabel(a) => pseudo_cmd::run(a).map(exit_on_failure),
        Command::Lm(a) => lm_cmd::run(a),
        Command::Features(a) => features_cmd::run(a),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        // 130 when Ctrl-C stopped training, else 1.
        sori_train::remove_empty_created_out_dirs();
        std::process::exit(sori_train::trainer::failure_exit_code());
    }
}

/// Commands that process many files report each failure and still finish
/// the others; they then exit with status 1.
fn exit_on_failure(all_ok: bool) {
    if !all_ok {
        std::process::exit(1);
    }
}
