//! Any bytes through audio decoding (every format `decode_wav` reads),
//! resampling and MFCC: errors are fine,
//! panics (and non-finite features) are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sori_features::{decode_wav, Extractor, FeatureConfig};

fuzz_target!(|data: &[u8]| {
    if let Ok(audio) = decode_wav(data, "fuzz.wav") {
        let mut ex = Extractor::new(&FeatureConfig::kaldi(16000)).expect("preset is valid");
        if let Ok(f) = ex.compute_audio(&audio, "fuzz.wav") {
            assert!(f.data.iter().all(|x| x.is_finite()));
        }
    }
});
