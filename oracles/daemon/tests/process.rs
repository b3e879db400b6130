//! `depin-oracle run` as an operator starts it: a bad file, database or
//! keypair stops it at once with a one-line reason; with the RPC node down it waits and
//! retries, and SIGTERM stops it cleanly (exit 0).

use std::{
    io::Read,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const NETWORK: &str = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";

/// A settings file in `dir` with an oracle keypair beside it; the RPC URL
/// points at a port nothing listens on.
fn config(dir: &std::path::Path, database_url: &str) -> std::path::PathBuf {
    let keypair = dir.join("oracle.json");
    solana_sdk::signature::write_keypair_file(&solana_sdk::signature::Keypair::new(), &keypair)
        .unwrap();
    let path = dir.join("oracle.toml");
    std::fs::write(
        &path,
        format!(
            "[chain]\nrpc_url = \"http://127.0.0.1:9\"\nnetwork = \"{NETWORK}\"\n\
             keypair = \"{}\"\n[store]\ndatabase_url = \"{database_url}\"\n\
             [ingest]\nbind = \"127.0.0.1:0\"\n",
            keypair.display()
        ),
    )
    .unwrap();
    path
}

fn oracle(config: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_depin-oracle"));
    command
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

#[test]
fn bad_settings_and_databases_stop_it_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[chain]\nnetwork = \"devnet\"\n").unwrap();
    let output = oracle(&bad).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("chain.network"), "{stderr}");

    let unreachable = config(dir.path(), "sqlite:/nonexistent/depinkit/oracle.db");
    let output = oracle(&unreachable).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .starts_with("error: database"),
        "{stderr}"
    );
}

#[test]
fn with_the_rpc_node_down_it_retries_and_sigterm_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &format!("sqlite:{}", dir.path().join("oracle.db").display()),
    );
    let mut child = oracle(&path).spawn().unwrap();
    // Give it time to open the store and fail its first chain read.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "still running");
    assert!(dir.path().join("oracle.db").exists(), "store opened");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "stops promptly"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(exit.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("cannot read the network's devices"),
        "{stderr}"
    );
}
