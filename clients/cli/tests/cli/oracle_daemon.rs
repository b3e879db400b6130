//! The operator's walk through: `depin-oracle run` (the built binary, with
//! the example settings and environment overrides) beside a network made with
//! `depin`; devices report over HTTP; the epoch ends, the oracle closes it and
//! votes its root; `depin rewards claim --oracle URL` pays every device.

use crate::common::*;
use depinkit_reports::{Beacon, Body, Key, Report, SignedReport};
use serde_json::Value;
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer, read_keypair_file},
};
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// `depin-oracle`, built beside `depin` by `cargo test --workspace`.
pub(crate) fn oracle_binary() -> PathBuf {
    sibling_binary("depin-oracle")
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `depin-oracle SUBCOMMAND --config oracles/oracle.example.toml` with the
/// overrides an operator would set for this fixture's network.
pub(crate) fn oracle_command(
    f: &Fixture,
    network: &Pubkey,
    bind: &str,
    subcommand: &[&str],
) -> Command {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../oracles/oracle.example.toml");
    let mut command = Command::new(oracle_binary());
    command
        .args(subcommand)
        .arg("--config")
        .arg(example)
        .env("DEPIN_ORACLE__CHAIN__RPC_URL", &f.env.url)
        .env("DEPIN_ORACLE__CHAIN__NETWORK", network.to_string())
        .env("DEPIN_ORACLE__CHAIN__KEYPAIR", &f.oracle_path)
        .env(
            "DEPIN_ORACLE__STORE__DATABASE_URL",
            format!("sqlite:{}", f.dir.join("oracle.db").display()),
        )
        .env("DEPIN_ORACLE__INGEST__BIND", bind)
        .env(
            "DEPIN_ORACLE__BUNDLES__LOCATION",
            f.dir.join("bundles").display().to_string(),
        )
        .env("DEPIN_ORACLE__EPOCHS__GRACE_SECS", "1")
        .env("DEPIN_ORACLE__EPOCHS__TICK_SECS", "1")
        // The walk through is about the daemon's life (ingest, votes, bundles,
        // claims), so one point per report; the category rules have their own
        // tests (oracles/daemon/tests/rules_*.rs, the fleet on the localnet).
        .env("DEPIN_ORACLE__RULES__SET", "report-count")
        .env("RUST_LOG", "warn");
    command
}

/// Starts the oracle daemon for this fixture's network.
fn start_oracle(f: &Fixture, network: &Pubkey, bind: &str) -> Child {
    oracle_command(f, network, bind, &["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start depin-oracle")
}

/// A beacon signed with the device keypair file at `path`.
fn beacon(network: &Pubkey, path: &Path, n: u8) -> SignedReport {
    let keypair: Keypair = read_keypair_file(path).unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    signed_beacon(network, &signing_key(&keypair), vec![n; 16], now_ms)
}

/// The ed25519 signing key of a device keypair.
pub(crate) fn signing_key(keypair: &Keypair) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&keypair.to_bytes()[..32].try_into().unwrap())
}

/// A beacon with `payload`, stamped `timestamp_ms`, signed by `signing`.
pub(crate) fn signed_beacon(
    network: &Pubkey,
    signing: &ed25519_dalek::SigningKey,
    payload: Vec<u8>,
    timestamp_ms: i64,
) -> SignedReport {
    Report {
        network: Key(network.to_bytes()),
        device: Key(signing.verifying_key().to_bytes()),
        timestamp_ms,
        body: Body::Beacon(Beacon {
            entropy: depinkit_reports::Entropy::issue(
                &Key(network.to_bytes()),
                0,
                &[7; 32],
                signing,
            ),
            payload,
            frequency_hz: 868_100_000,
            tx_power_ddbm: 140,
            antenna_gain_ddbi: 30,
        }),
    }
    .sign(signing)
}

/// Polls `url` until `done` holds of its JSON, or panics after a minute.
pub(crate) fn wait_for(url: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    loop {
        let got = runtime.block_on(async {
            let response = reqwest::get(url).await.ok()?;
            response.json::<Value>().await.ok()
        });
        if let Some(value) = got
            && done(&value)
        {
            return value;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The network `cli-net` with two onboarded devices and a funded pool of 60 s
/// epochs emitting one token each: its address and the devices' keypair files.
fn network_with_pool(f: &Fixture) -> (Pubkey, PathBuf, PathBuf) {
    let (network, mut devices) = network_with_devices(f, 2, 60);
    let device_b = devices.pop().unwrap();
    (network, devices.pop().unwrap(), device_b)
}

/// The network `cli-net` with `devices` onboarded devices and a pool of
/// `epoch_secs` epochs emitting one token each, funded for five: its address
/// and the devices' keypair files.
pub(crate) fn network_with_devices(
    f: &Fixture,
    devices: usize,
    epoch_secs: u32,
) -> (Pubkey, Vec<PathBuf>) {
    let network: Pubkey = f.network()["network"].as_str().unwrap().parse().unwrap();
    let (maker_path, _) = f.maker();
    let files = (0..devices)
        .map(|i| {
            f.device(
                &maker_path,
                &format!("device-{}.json", (b'a' + i as u8) as char),
            )
            .1
        })
        .collect();
    f.mint_to_payer(50_000_000);
    pool(f, epoch_secs, None);
    (network, files)
}

/// Posts `batch` (JSON) to the oracle at `url`; its answer.
fn post_reports(url: &str, batch: &[SignedReport]) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/v1/reports"))
            .json(batch)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

/// Sends SIGTERM to `oracle`.
fn terminate(oracle: &Child) {
    let sent = Command::new("kill")
        .args(["-TERM", &oracle.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn devices_report_the_oracle_votes_and_owners_claim_with_its_proofs() {
    let f = Fixture::start("oracle-daemon");
    let (network, device_a, device_b) = network_with_pool(&f);

    let bind = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{bind}");
    let mut oracle = start_oracle(&f, &network, &bind);
    wait_for(&format!("{url}/health"), "the oracle", |health| {
        health["devices"] == 2
    });

    // Device A reports three beacons, device B one: a 3:1 split.
    let batch: Vec<SignedReport> = vec![
        beacon(&network, &device_a, 1),
        beacon(&network, &device_a, 2),
        beacon(&network, &device_a, 3),
        beacon(&network, &device_b, 1),
    ];
    let answer = post_reports(&url, &batch);
    assert_eq!(answer["accepted"], 4, "{answer}");

    // Before any root: a clear refusal, exit 2.
    f.env.fails(
        &f.env.payer,
        &[
            "rewards",
            "show",
            "--network",
            "cli-net",
            "--all",
            "--oracle",
            &url,
        ],
        2,
        "no epoch has been finalized",
    );

    f.time_travel(62);
    let summary = wait_for(&format!("{url}/v1/epochs/0"), "epoch 0 final", |epoch| {
        epoch["state"] == "finalized"
    });
    assert_eq!(summary["reports"], 4);
    assert_eq!(summary["rewards_paid"], 1_000_000);

    // Anyone recomputes the root from the published bundle.
    let verified = Command::new(oracle_binary())
        .args(["verify-epoch", "0", "--bundle"])
        .arg(format!("{url}/v1/epochs/0/bundle"))
        .args(["--rpc-url", &f.env.url])
        .output()
        .unwrap();
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(String::from_utf8_lossy(&verified.stdout).starts_with("ok: epoch 0: 4 reports"));

    // The operator's maintenance commands read the same store and bundles.
    let shown = oracle_command(&f, &network, &bind, &["epoch-show", "0"])
        .output()
        .unwrap();
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(
        (shown["state"].as_str(), shown["reports"].as_u64()),
        (Some("finalized"), Some(4))
    );
    let missing = oracle_command(&f, &network, &bind, &["epoch-show", "7"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("epoch 7 has no reports"));
    let exported = f.dir.join("bundle-0.json");
    let export = oracle_command(
        &f,
        &network,
        &bind,
        &["bundle-export", "0", "--out", exported.to_str().unwrap()],
    )
    .status()
    .unwrap();
    assert!(export.success());
    let verified_file = Command::new(oracle_binary())
        .args(["verify-epoch", "0", "--rpc-url", &f.env.url, "--bundle"])
        .arg(&exported)
        .status()
        .unwrap();
    assert!(verified_file.success());
    // The same check through depin, on its configured cluster.
    let bundle_url = format!("{url}/v1/epochs/0/bundle");
    let via_depin = f.env.ok(
        &f.env.payer,
        &["oracle", "verify-epoch", "0", "--bundle", &bundle_url],
    );
    assert!(
        via_depin.starts_with("ok: epoch 0: 4 reports"),
        "{via_depin}"
    );
    // One changed field and the bundle no longer reproduces the root: exit 1.
    let mut tampered: Value = serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
    tampered["amount"] = Value::from(tampered["amount"].as_u64().unwrap() + 1);
    let tampered_path = f.dir.join("bundle-0-tampered.json");
    std::fs::write(&tampered_path, tampered.to_string()).unwrap();
    f.env.fails(
        &f.env.payer,
        &[
            "oracle",
            "verify-epoch",
            "0",
            "--bundle",
            tampered_path.to_str().unwrap(),
        ],
        1,
        "does not reproduce the root",
    );

    let due = f.env.json(&[
        "rewards",
        "show",
        "--network",
        "cli-net",
        "--all",
        "--oracle",
        &url,
    ]);
    let mut claimable: Vec<u64> = due
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["claimable"].as_u64().unwrap())
        .collect();
    claimable.sort();
    assert_eq!(claimable, vec![250_000, 750_000]);
    let claimed = f.env.json(&[
        "rewards",
        "claim",
        "--network",
        "cli-net",
        "--all",
        "--oracle",
        &url,
    ]);
    assert_eq!(claimed["paid"], 1_000_000);

    // An oracle that does not answer: one line, exit 2.
    f.env.fails(
        &f.env.payer,
        &[
            "rewards",
            "show",
            "--network",
            "cli-net",
            "--all",
            "--oracle",
            "http://127.0.0.1:9",
        ],
        2,
        "cannot reach the oracle",
    );

    // SIGTERM: the oracle stops cleanly.
    terminate(&oracle);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = oracle.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the oracle stops"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
}

/// The oracle process is killed (SIGKILL) after it scored an epoch but before
/// its vote could land (its key has no SOL for the fee); restarted, it votes
/// the root it persisted, and that root is the one finalized.
#[test]
fn killed_between_scoring_and_voting_it_votes_the_persisted_root() {
    let f = Fixture::start("oracle-kill");
    let (network, device_a, device_b) = network_with_pool(&f);
    // The oracle's key cannot pay for a vote.
    let lamports = f.rpc.get_balance(&f.oracle.pubkey()).unwrap();
    send(
        &f.rpc,
        &f.payer,
        &[anchor_lang::solana_program::system_instruction::transfer(
            &f.oracle.pubkey(),
            &f.payer.pubkey(),
            lamports,
        )],
        &[&f.oracle],
    );

    let bind = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{bind}");
    let mut oracle = start_oracle(&f, &network, &bind);
    wait_for(&format!("{url}/health"), "the oracle", |h| {
        h["devices"] == 2
    });
    let batch = vec![
        beacon(&network, &device_a, 1),
        beacon(&network, &device_b, 1),
        beacon(&network, &device_b, 2),
    ];
    let answer = post_reports(&url, &batch);
    assert_eq!(answer["accepted"], 3, "{answer}");
    f.time_travel(62);
    let scored = wait_for(&format!("{url}/v1/epochs/0"), "epoch 0 scored", |e| {
        e["state"] == "scored"
    });
    let persisted = scored["root"].as_str().unwrap().to_string();
    // Give it a few failed attempts at the vote, then kill it outright.
    std::thread::sleep(Duration::from_secs(2));
    oracle.kill().unwrap(); // SIGKILL
    oracle.wait().unwrap();

    // Funded again and restarted on the same database: it votes, once, the
    // root it persisted before dying.
    send(
        &f.rpc,
        &f.payer,
        &[anchor_lang::solana_program::system_instruction::transfer(
            &f.payer.pubkey(),
            &f.oracle.pubkey(),
            1_000_000_000,
        )],
        &[],
    );
    let mut oracle = start_oracle(&f, &network, &bind);
    let finalized = wait_for(&format!("{url}/v1/epochs/0"), "epoch 0 final", |e| {
        e["state"] == "finalized"
    });
    assert_eq!(finalized["root"].as_str(), Some(persisted.as_str()));
    assert_eq!(
        finalized["finalized_root"].as_str(),
        Some(persisted.as_str())
    );
    let pool = f.env.json(&["pool", "show", "--network", "cli-net"]);
    assert_eq!(pool["next_epoch"], 1);
    terminate(&oracle);
    assert_eq!(oracle.wait().unwrap().code(), Some(0));
}
