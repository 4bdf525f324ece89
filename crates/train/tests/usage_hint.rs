//! `sori_train::args::usage_error_line_in` (issue 18) on a toy command
//! line, independent of the three binaries: an option that the chosen
//! subcommand lacks but siblings have is named as theirs; one that no
//! subcommand has keeps clap's message without the tip to pass it after
//! `--`; other usage errors are clap's line as before.
use clap::{Arg, ArgAction, Command};
use std::ffi::OsString;

fn toy() -> Command {
    let flag = |name: &'static str| Arg::new(name).long(name).action(ArgAction::SetTrue);
    Command::new("toy")
        .subcommand(Command::new("run").arg(flag("fast")).arg(flag("verbose")))
        .subcommand(Command::new("check").arg(flag("verbose")).arg(flag("deep")))
        .subcommand(
            Command::new("serve")
                .visible_alias("s")
                .arg(flag("deep"))
                .arg(flag("secret").hide(true)),
        )
}

fn line(args: &[&str]) -> String {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let mut cmd = toy();
    let e = cmd
        .try_get_matches_from_mut(&args)
        .expect_err("a usage error");
    sori_train::args::usage_error_line_in(&cmd, &args, &e)
}

#[test]
fn options_of_sibling_subcommands_are_named() {
    assert_eq!(
        line(&["toy", "run", "--deep"]),
        "error: unexpected argument '--deep' for 'toy run'; it is an option of 'toy check' and 'toy serve'"
    );
    assert_eq!(
        line(&["toy", "check", "--fast"]),
        "error: unexpected argument '--fast' for 'toy check'; it is an option of 'toy run'"
    );
    // A subcommand named by its alias.
    assert_eq!(
        line(&["toy", "s", "--verbose"]),
        "error: unexpected argument '--verbose' for 'toy serve'; it is an option of 'toy run' and 'toy check'"
    );
    // With a value attached.
    assert_eq!(
        line(&["toy", "run", "--deep=1"]),
        "error: unexpected argument '--deep' for 'toy run'; it is an option of 'toy check' and 'toy serve'"
    );
}

#[test]
fn other_usage_errors_keep_claps_line_without_the_double_dash_tip() {
    // Hidden options are not advertised.
    let l = line(&["toy", "run", "--secret"]);
    assert_eq!(l, "error: unexpected argument '--secret' found");
    let l = line(&["toy", "run", "--nowhere"]);
    assert_eq!(l, "error: unexpected argument '--nowhere' found");
    assert!(!l.contains("-- --"), "{l}");
    // clap's tip for a near miss stays.
    let l = line(&["toy", "run", "--fats"]);
    assert!(l.contains("a similar argument exists: '--fast'"), "{l}");
    // Not an unknown option: unchanged.
    let l = line(&["toy", "walk"]);
    assert!(
        l.starts_with("error: unrecognized subcommand 'walk'"),
        "{l}"
    );
}
