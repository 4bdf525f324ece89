//! External tools a test needs (espeak-ng, flite), with no silent skips:
//! under CI (`CI=true`, as `.ci/run` sets it) a missing tool fails the test;
//! elsewhere the test is skipped with a `SKIPPED` line written straight to
//! the process's stderr, so it shows even though the test harness captures
//! the test's own output.
use crate::corpus::open::flite_available;
use crate::corpus::synth::espeak_available;
use std::io::Write;

/// Whether the tests run under CI: `CI` is `true` or `1` (any case).
pub fn under_ci() -> bool {
    std::env::var("CI")
        .map(|v| v.eq_ignore_ascii_case("true") || v == "1")
        .unwrap_or(false)
}

/// What to do when `test` lacks the tools named in `missing`: `Ok(true)` to
/// run (nothing missing), `Ok(false)` to skip (the message is the skip
/// line), `Err` to fail (under CI).
fn decide(test: &str, missing: &[&str], ci: bool) -> Result<bool, String> {
    if missing.is_empty() {
        return Ok(true);
    }
    let list = missing.join(" and ");
    if ci {
        Err(format!(
            "{test}: {list} not found, and under CI (CI=true) this test must run; \
             `make setup` installs it"
        ))
    } else {
        Ok(false)
    }
}

/// Whether `test` can run with `tools` (name, found): true when every tool
/// was found. Otherwise panics under CI, and elsewhere writes
/// `SKIPPED <test>: <tools> not found (run `make setup`)` to stderr and
/// returns false (the caller returns early).
pub fn tools_or_skip(test: &str, tools: &[(&str, bool)]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(_, found)| !found)
        .map(|(name, _)| *name)
        .collect();
    match decide(test, &missing, under_ci()) {
        Ok(true) => true,
        Ok(false) => {
            // Not eprintln!: libtest captures that for passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: {} not found (run `make setup`)",
                missing.join(" and ")
            );
            false
        }
        Err(message) => panic!("{message}"),
    }
}

/// [`tools_or_skip`] for espeak-ng.
pub fn espeak_or_skip(test: &str) -> bool {
    tools_or_skip(test, &[("espeak-ng", espeak_available())])
}

/// [`tools_or_skip`] for espeak-ng and flite.
pub fn espeak_and_flite_or_skip(test: &str) -> bool {
    tools_or_skip(
        test,
        &[
            ("espeak-ng", espeak_available()),
            ("flite", flite_available()),
        ],
    )
}
