//! `sori`: recurrent sequence models on speech and text.
//!
//! This umbrella crate re-exports the member crates and owns the
//! workspace-level integration tests (`tests/`) and benchmarks (`benches/`).
//! See `ARCHITECTURE.md` for the map.
pub use sori_ctc as ctc;
pub use sori_features as features;
pub use sori_rnn as rnn;
pub use sori_text as text;
pub use sori_train as train;
