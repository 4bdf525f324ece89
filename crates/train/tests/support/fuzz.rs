//! The proptest settings of the property harnesses that `make fuzz` drives
//! (shared by path, like `bad_input_matrix.rs`): `default_cases` cases for
//! `make test`, `SORI_FUZZ_CASES` for `make fuzz`, and no regression files
//! written into the source tree.
use proptest::test_runner::Config;

pub fn config(default_cases: u32) -> Config {
    Config {
        cases: std::env::var("SORI_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default_cases),
        failure_persistence: None,
        ..Config::default()
    }
}
