//! The test signal shared by `benches/mfcc.rs` and `examples/mfcc_timing.rs`
//! (so both time the same audio as `benches/peers/mfcc_peers.py`).

/// The peers script synthesises the same signal: a 200-3000 Hz chirp plus a
/// 440 Hz tone and seeded noise.
pub fn signal() -> Vec<f32> {
    let sr = 16000.0f64;
    let n = 60 * 16000;
    let mut state = 12345u64;
    (0..n)
        .map(|i| {
            let t = i as f64 / sr;
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let phase = 2.0 * std::f64::consts::PI * (200.0 * t + 2800.0 * t * t / 120.0);
            (0.3 * phase.sin()
                + 0.1 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                + 0.02 * noise) as f32
        })
        .collect()
}
