//! Help: every command's, the global options' heading, localnet's own.

use crate::common::*;

/// The subcommands listed under `Commands:` in a help text, with their
/// one-line descriptions.
fn subcommands(help: &str) -> Vec<(String, String)> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .filter_map(|l| {
            let mut parts = l.trim().splitn(2, ' ');
            let name = parts.next()?.to_string();
            Some((name, parts.next().unwrap_or("").trim().to_string()))
        })
        .filter(|(name, _)| name != "help")
        .collect()
}

#[test]
fn every_command_has_help_with_the_global_options_apart() {
    let dir = std::env::temp_dir().join(format!("depin-cli-help-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let env = Env {
        dir: dir.clone(),
        url: "http://127.0.0.1:9".into(),
        payer: dir.join("none.json"),
    };
    let help = |path: &[String]| {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = env.raw(&args);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let mut pending = vec![Vec::<String>::new()];
    let mut leaves = 0;
    while let Some(path) = pending.pop() {
        let text = help(&path);
        assert!(text.contains("Usage:"), "{path:?}: {text}");
        if path == ["localnet"] {
            continue;
        }
        assert!(
            text.contains("\nGlobal options:\n"),
            "{path:?}: the global options have their own heading"
        );
        let children = subcommands(&text);
        if children.is_empty() {
            leaves += 1;
        }
        for (name, description) in children {
            assert!(
                !description.is_empty(),
                "{path:?} {name} has no description"
            );
            let mut child = path.clone();
            child.push(name);
            pending.push(child);
        }
    }
    assert!(leaves >= 50, "only {leaves} commands found");
    // `depin localnet --help` shows the localnet's options only.
    let localnet = help(&["localnet".to_string()]);
    for option in ["--bind", "--account", "--keypair", "--airdrop"] {
        assert!(localnet.contains(option), "{option} in {localnet}");
    }
    for option in ["--network", "--base-units", "Global options"] {
        assert!(!localnet.contains(option), "{option} in {localnet}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
