//! Command-line conventions shared by the three binaries, checked on the
//! binary itself (included by their CLI tests with `#[path]`): no
//! arguments print the usage and the subcommands; every subcommand's
//! `--help` describes every option, shows defaults that are accepted when
//! typed back, and ends with examples; `--version` names the commit, the
//! libtorch and CUDA.
#![allow(dead_code)]

use std::process::{Command, Output};

pub fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env_remove("SORI_ASR_MODEL")
        .output()
        .unwrap_or_else(|e| panic!("{bin}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The subcommands listed by `bin --help` (without `help`).
pub fn subcommands(bin: &str) -> Vec<String> {
    let o = run(bin, &["--help"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let help = text(&o.stdout);
    let section = help
        .split("Commands:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{bin} --help lists no commands:\n{help}"));
    section
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// `bin` without arguments prints the usage and every subcommand on stderr
/// and exits with 2.
pub fn check_no_arguments(bin: &str) {
    let o = run(bin, &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("Usage:") && err.contains("Commands:"), "{err}");
    for sub in subcommands(bin) {
        assert!(
            err.contains(&format!("  {sub} ")),
            "{sub} not listed:\n{err}"
        );
    }
    assert!(!err.starts_with("error:"), "{err}");
}

/// One entry of an `Options:` or `Arguments:` section.
#[derive(Debug)]
pub struct HelpEntry {
    /// `--name` (options) or `<NAME>` (arguments).
    pub name: String,
    /// Whether it takes a value (`--name <VALUE>`).
    pub takes_value: bool,
    /// The description, lines joined.
    pub text: String,
}

/// The entries of `bin sub --help`, and the whole help text.
pub fn help_entries(bin: &str, sub: &str) -> (Vec<HelpEntry>, String) {
    let o = run(bin, &[sub, "--help"]);
    assert!(
        o.status.success(),
        "{bin} {sub} --help: {}",
        text(&o.stderr)
    );
    let help = text(&o.stdout);
    let mut entries: Vec<HelpEntry> = Vec::new();
    let mut in_section = false;
    for line in help.lines() {
        if line == "Options:" || line == "Arguments:" {
            in_section = true;
            continue;
        }
        if !line.starts_with(' ') && !line.is_empty() {
            in_section = false;
        }
        if !in_section || line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        let starts_entry = indent <= 6
            && (body.starts_with("--")
                || body.starts_with('<')
                || body.starts_with('[')
                || (body.starts_with('-') && body.chars().nth(2) == Some(',')));
        if starts_entry {
            // `-o, --output <OUTPUT>  text` or `--name <V>` (long help: text below).
            let head = body.split("  ").next().unwrap_or(body);
            let name = head
                .split([',', ' '])
                .map(str::trim)
                .find(|w| w.starts_with("--"))
                .unwrap_or(head.split_whitespace().next().unwrap_or(head))
                .to_string();
            let takes_value = name.starts_with("--") && head.contains('<');
            let rest = body[head.len()..].trim().to_string();
            entries.push(HelpEntry {
                name,
                takes_value,
                text: rest,
            });
        } else if let Some(e) = entries.last_mut() {
            e.text.push(' ');
            e.text.push_str(body);
        }
    }
    for e in &mut entries {
        e.text = e.text.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    (entries, help)
}

/// The values an entry's `[default: ...]` shows: the part before `; ` or
/// ` (` (what follows says what differs for other settings).
pub fn shown_default(e: &HelpEntry) -> Option<String> {
    let start = e.text.find("[default: ")? + "[default: ".len();
    let inner = &e.text[start..];
    let end = inner.find(']')?;
    let mut value = &inner[..end];
    for cut in ["; ", " ("] {
        if let Some(i) = value.find(cut) {
            value = &value[..i];
        }
    }
    Some(value.to_string())
}

/// Problems of `bin sub --help`: an entry without a description, a default
/// not shown or refused when typed back, no examples at the end.
pub fn help_problems(bin: &str, sub: &str) -> Vec<String> {
    let (entries, help) = help_entries(bin, sub);
    let mut problems = Vec::new();
    for e in &entries {
        if e.text.is_empty() || e.text.starts_with("[default:") {
            problems.push(format!("{sub} {}: no description", e.name));
        }
        if e.text.contains("the application's") || e.text.contains("per model]") {
            problems.push(format!("{sub} {}: default not shown: {}", e.name, e.text));
        }
        if let (true, Some(value)) = (e.takes_value, shown_default(e)) {
            let o = run(bin, &[sub, &e.name, &value, "--help"]);
            if !o.status.success() {
                problems.push(format!(
                    "{sub} {} {value}: the shown default is refused: {}",
                    e.name,
                    text(&o.stderr).trim()
                ));
            }
        }
    }
    let tail: Vec<&str> = help
        .trim_end()
        .lines()
        .rev()
        .take_while(|l| !l.trim().is_empty())
        .collect();
    let examples: Vec<&&str> = tail
        .iter()
        .filter(|l| {
            l.trim_start()
                .starts_with(&format!("{} {sub}", bin_name(bin)))
        })
        .collect();
    if tail.last().map(|l| l.trim()) != Some("Examples:")
        || examples.is_empty()
        || examples.len() != tail.len() - 1
    {
        problems.push(format!("{sub}: help does not end with examples"));
    }
    problems
}

fn bin_name(bin: &str) -> String {
    std::path::Path::new(bin)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Every subcommand of `bin` passes [`help_problems`].
pub fn check_every_help(bin: &str) {
    let subs = subcommands(bin);
    assert!(!subs.is_empty());
    let problems: Vec<String> = subs.iter().flat_map(|s| help_problems(bin, s)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The option `name`'s entry in `bin sub --help`.
pub fn option_help(bin: &str, sub: &str, name: &str) -> HelpEntry {
    help_entries(bin, sub)
        .0
        .into_iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{sub} has no {name}"))
}

/// `--threads` shows one default in every subcommand that has it.
pub fn threads_defaults(bin: &str, skip: &[&str]) -> Vec<(String, Option<String>)> {
    subcommands(bin)
        .into_iter()
        .filter(|s| !skip.contains(&s.as_str()))
        .filter_map(|s| {
            let (entries, _) = help_entries(bin, &s);
            let e = entries.into_iter().find(|e| e.name == "--threads")?;
            Some((s, shown_default(&e)))
        })
        .collect()
}

/// `bin --version` names the version, the commit, the libtorch and CUDA.
pub fn check_version(bin: &str) {
    let o = run(bin, &["--version"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let name = bin_name(bin);
    assert!(out.starts_with(&format!("{name} 0.")), "{out}");
    let commit = out
        .lines()
        .find_map(|l| l.strip_prefix("commit "))
        .unwrap_or_else(|| panic!("no commit line: {out}"));
    assert!(
        commit == "unknown" || commit.chars().all(|c| c.is_ascii_hexdigit()) && commit.len() >= 7,
        "{out}"
    );
    let torch = out
        .lines()
        .find(|l| l.starts_with("libtorch "))
        .unwrap_or_else(|| panic!("no libtorch line: {out}"));
    assert!(torch.contains("2.") && torch.contains("CUDA"), "{out}");
}

/// `--device` wherever a model runs: each of `subs` shows `--device` with
/// default `cpu` and `--threads` with default `0`; each command of `runs`
/// (its arguments, without `--device`) works with `--device cpu`, and with
/// `--device cuda` works where CUDA is visible and is otherwise exactly one
/// line `error: --device cuda ...` with exit 1 (not a libtorch panic).
pub fn check_device(bin: &str, subs: &[&str], runs: &[&[&str]]) {
    for sub in subs {
        let e = option_help(bin, sub, "--device");
        assert_eq!(shown_default(&e).as_deref(), Some("cpu"), "{sub}");
        let e = option_help(bin, sub, "--threads");
        assert_eq!(shown_default(&e).as_deref(), Some("0"), "{sub}");
    }
    for args in runs {
        let o = run(bin, &[*args, &["--device", "cpu"]].concat());
        assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
        let o = run(bin, &[*args, &["--device", "cuda"]].concat());
        if tch::Cuda::is_available() {
            assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
        } else {
            let e = text(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{args:?}: {e}");
            assert!(
                e.starts_with("error: --device cuda") && e.lines().count() == 1,
                "{args:?}: {e}"
            );
        }
    }
}

/// The default-model lookup without `--model` or `$var` (issue 22): each
/// command of `subs`, run in `tmp`, works when the checkout holds the
/// committed model `rel` (`models/...`, found from the binary's checkout,
/// `checkout` being the workspace root); a copy of the binary outside any
/// checkout (`tmp/a/b/`, whose checkout would be `tmp`) fails with exactly
/// one line saying where it looked and what to do.
pub fn check_default_model_lookup(
    bin: &str,
    var: &str,
    rel: &str,
    checkout: &std::path::Path,
    tmp: &std::path::Path,
    subs: &[&[&str]],
) {
    let name = std::path::Path::new(bin).file_name().unwrap();
    let copy = tmp.join("a/b").join(name);
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(bin, &copy).unwrap();
    let in_tmp = |exe: &std::path::Path, args: &[&str]| {
        Command::new(exe)
            .args(args)
            .current_dir(tmp)
            .env_remove(var)
            .output()
            .unwrap()
    };
    for args in subs {
        if checkout.join(rel).join("config.json").is_file() {
            let o = in_tmp(std::path::Path::new(bin), args);
            assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
        }
        let o = in_tmp(&copy, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o.stderr));
        assert_eq!(
            text(&o.stderr),
            format!(
                "error: no --model given and no default model found (looked for {rel}, {}; set {var} or pass --model DIR)\n",
                tmp.join(rel).display()
            )
        );
    }
}
