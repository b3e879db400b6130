//! `depin localnet`: serving, the funded keypair, one log line per transaction.

use solana_rpc_client::rpc_client::RpcClient;
use solana_sdk::signature::{Keypair, Signer, read_keypair_file, write_keypair_file};
use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc::{Receiver, channel},
    time::Duration,
};

/// A `depin localnet` child process; killed on drop.
struct Served {
    child: Child,
    printed: Vec<String>,
    log: Receiver<String>,
    port: u16,
}

impl Served {
    /// Starts `depin localnet ARGS` with `home` as HOME and reads its banner.
    fn start(home: &Path, args: &[&str]) -> Self {
        let port = depinkit_localnet::free_port_pair();
        let bind = format!("127.0.0.1:{port}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_depin"))
            .args(["localnet", "--bind", &bind])
            .args(args)
            .env("HOME", home)
            .env_remove("RUST_LOG")
            .env_remove("DEPIN_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start depin localnet");
        let (sender, log) = channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut printed = Vec::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let ready = line.starts_with("Ready");
            printed.push(line);
            if ready {
                break;
            }
        }
        Self {
            child,
            printed,
            log,
            port,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The first log line containing `needle`, waiting up to 20 s; every
    /// line before it must be another transaction's line (the localnet is
    /// quiet otherwise).
    fn log_line(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => assert!(
                    line.contains(" INFO  depinkit_localnet] ") && !line.contains("Instruction:"),
                    "unexpected log line: {line}"
                ),
                Err(_) => break,
            }
        }
        panic!("no log line with {needle}")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn home(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("depin-localnet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `depin -u URL ARGS` in `home`; its stdout.
fn depin(home: &Path, url: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_depin"))
        .args(["-u", url])
        .args(args)
        .env("HOME", home)
        .env("RUST_LOG", "error")
        .env_remove("DEPIN_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "depin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn depin_localnet_serves_until_sigterm() {
    let dir = home("serve");
    let mut served = Served::start(&dir, &[]);
    let port = served.port;
    let printed = served.printed.clone();
    assert!(
        printed.iter().any(|l| l.contains(&served.url())),
        "{printed:?}"
    );
    assert!(
        printed
            .iter()
            .any(|l| l.contains(&format!("ws://127.0.0.1:{}", port + 1))),
        "{printed:?}"
    );
    let rpc = RpcClient::new(served.url());
    assert!(rpc.get_version().is_ok());
    assert!(
        rpc.get_account(&depinkit_sdk::device_registry::ID)
            .unwrap()
            .executable
    );
    let status = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = served.child.wait().unwrap();
    assert!(
        exit.success(),
        "depin localnet exits cleanly on SIGTERM: {exit:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_wallet_depin_signs_with_is_funded_and_never_replaced() {
    let dir = home("keypair");
    // No wallet yet: the localnet creates the default one, owner-only, funded.
    let served = Served::start(&dir, &[]);
    let wallet = dir.join(".config/solana/id.json");
    let created = read_keypair_file(&wallet).expect("the default wallet was created");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&wallet).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        served
            .printed
            .iter()
            .any(|l| l.contains(&created.pubkey().to_string())),
        "{:?}",
        served.printed
    );
    let balance = depin(&dir, &served.url(), &["wallet", "balance"]);
    assert!(balance.contains("Balance: 1000 SOL"), "{balance}");
    drop(served);
    // Started again: the same wallet, not a new one.
    let served = Served::start(&dir, &[]);
    assert_eq!(read_keypair_file(&wallet).unwrap(), created);
    assert!(
        served
            .printed
            .iter()
            .any(|l| l.contains(&created.pubkey().to_string())),
        "{:?}",
        served.printed
    );
    drop(served);
    // --keypair names an existing file: that key is funded, the file unchanged.
    let mine = Keypair::new();
    let path = dir.join("mine.json");
    write_keypair_file(&mine, &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    let served = Served::start(&dir, &["--keypair", path.to_str().unwrap()]);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(
        served
            .printed
            .iter()
            .any(|l| l.contains(&mine.pubkey().to_string())),
        "{:?}",
        served.printed
    );
    drop(served);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn each_transaction_is_logged_with_its_instructions() {
    let dir = home("log");
    let served = Served::start(&dir, &[]);
    let url = served.url();
    let created = depin(&dir, &url, &["token", "create", "--output", "json"]);
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    let signature = created["signature"].as_str().unwrap();
    let line = served.log_line(signature);
    assert!(line.ends_with(" system token ok"), "{line}");
    let mint = created["mint"].as_str().unwrap();
    let oracle = Keypair::new().pubkey().to_string();
    let network = depin(
        &dir,
        &url,
        &[
            "network",
            "create",
            "--seed",
            "logged",
            "--name",
            "Logged",
            "--symbol",
            "L",
            "--category",
            "compute",
            "--reward-mint",
            mint,
            "--oracle",
            &oracle,
            "--output",
            "json",
        ],
    );
    let network: serde_json::Value = serde_json::from_str(&network).unwrap();
    let line = served.log_line(network["signature"].as_str().unwrap());
    assert!(
        line.contains("device_registry::create_network ok"),
        "{line}"
    );
    drop(served);
    let _ = std::fs::remove_dir_all(dir);
}
