//! Faults the oracle daemon must survive, with the built `depin-oracle` on a
//! localnet: SIGKILL at twenty random points of an epoch's life (reports
//! arriving, the epoch closing, scoring, the bundle, the vote, the claims),
//! restarted each time; and its RPC node going away while it votes, then
//! answering errors for a while.
//!
//! The kill points come from a seed printed by the test; `DEPIN_FAULT_SEED=N`
//! replays a run.

mod proxy;

use super::oracle_daemon::{
    free_port, network_with_devices, oracle_binary, oracle_command, signed_beacon, signing_key,
    wait_for,
};
use crate::common::*;
use anchor_lang::AccountDeserialize;
use depinkit_oracle::bundle::Bundle;
use depinkit_reports::{BatchAnswer, Hash32, Rejection, SignedReport, Verdict};
use depinkit_sdk::events::DepinEvent;
use proxy::{Outage, RpcProxy};
use reward_pool::state::{ClaimRecord, Pool};
use serde_json::Value;
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer, read_keypair_file},
};
use std::{
    collections::{BTreeMap, BTreeSet},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// Kills while the devices report; the rest come once the epoch has ended.
const KILLS_WHILE_REPORTING: usize = 12;
/// Kills in all.
const KILLS: usize = 20;

/// The seed of this run's kill points: `DEPIN_FAULT_SEED`, or the clock.
fn fault_seed() -> u64 {
    std::env::var("DEPIN_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

/// splitmix64: enough randomness to place kill points, replayable by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration between `low` and `high` milliseconds.
    fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(low + self.next() % (high - low + 1))
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// What the devices were told about their reports.
#[derive(Default)]
struct Ledger {
    /// Answered "accepted": each must count.
    accepted: BTreeSet<Hash32>,
    /// Sent again after a request that got no answer, and answered
    /// "duplicate": kept by the oracle before it died.
    kept_unanswered: BTreeSet<Hash32>,
    /// Each report's device (its key's bytes).
    device_of: BTreeMap<Hash32, [u8; 32]>,
    /// Any other answer: none is expected.
    unexpected: Vec<String>,
    /// Requests that got no answer (the oracle was down or died).
    unanswered: u32,
}

/// Posts `batch` to the oracle at `url`; its answer, or why there was none.
async fn post(
    http: &reqwest::Client,
    url: &str,
    batch: &[SignedReport],
) -> Result<BatchAnswer, String> {
    let response = http
        .post(format!("{url}/v1/reports"))
        .json(batch)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    response.json().await.map_err(|e| e.to_string())
}

/// Devices reporting beacons to `url` in batches of eight until `stop`; a
/// batch without an answer is sent again, as a device does, until answered.
fn report_until(
    stop: Arc<AtomicBool>,
    url: String,
    network: Pubkey,
    devices: Vec<ed25519_dalek::SigningKey>,
    ledger: Arc<Mutex<Ledger>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let mut sent: u64 = 0;
        while !stop.load(Ordering::SeqCst) {
            let batch: Vec<SignedReport> = (0..8)
                .map(|_| {
                    sent += 1;
                    let device = &devices[sent as usize % devices.len()];
                    let payload = [sent.to_le_bytes(), sent.to_be_bytes()].concat();
                    signed_beacon(&network, device, payload, now_ms())
                })
                .collect();
            let mut retried = false;
            let answer = loop {
                match runtime.block_on(post(&http, &url, &batch)) {
                    Ok(answer) => break answer,
                    Err(_) => {
                        ledger.lock().unwrap().unanswered += 1;
                        retried = true;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            };
            let mut ledger = ledger.lock().unwrap();
            for (report, verdict) in batch.iter().zip(&answer.results) {
                let hash = report.report.content_hash();
                ledger.device_of.insert(hash, report.report.device.0);
                match verdict {
                    Verdict::Accepted { content_hash } if *content_hash == hash => {
                        ledger.accepted.insert(hash);
                    }
                    Verdict::Rejected {
                        reason: Rejection::Duplicate,
                    } if retried => {
                        ledger.kept_unanswered.insert(hash);
                    }
                    other => ledger.unexpected.push(format!("{other:?}")),
                }
            }
            drop(ledger);
            std::thread::sleep(Duration::from_millis(80));
        }
    })
}

/// Starts `depin-oracle run` for `network` on `bind`, its crank on, ingest
/// limits out of the way of the reporting devices.
fn start_oracle(f: &Fixture, network: &Pubkey, bind: &str) -> Child {
    oracle_command(f, network, bind, &["run"])
        .env("DEPIN_ORACLE__INGEST__DEVICE_REPORTS_PER_MINUTE", "1000000")
        .env("DEPIN_ORACLE__INGEST__DEVICE_BURST", "1000000")
        .env("DEPIN_ORACLE__CRANK__ENABLED", "true")
        .env("DEPIN_ORACLE__CRANK__MIN_UNCLAIMED", "1")
        .env("DEPIN_ORACLE__CRANK__INTERVAL_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start depin-oracle")
}

/// The epoch's state as the oracle at `url` tells it, or `down`.
fn epoch_state(url: &str, epoch: u64) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let Ok(response) = http.get(format!("{url}/v1/epochs/{epoch}")).send().await else {
            return "down".to_string();
        };
        match response.json::<Value>().await {
            Ok(summary) => summary["state"]
                .as_str()
                .unwrap_or("no reports")
                .to_string(),
            Err(_) => "no answer".to_string(),
        }
    })
}

fn pool_of(f: &Fixture, network: &Pubkey) -> (Pubkey, Pool) {
    let address = reward_pool::pda::find_pool_address(network).0;
    let data = f.rpc.get_account_data(&address).unwrap();
    (address, Pool::try_deserialize(&mut &data[..]).unwrap())
}

/// Every root `oracle` voted for `epoch` on `pool`, read from the chain's
/// transactions.
fn roots_voted(f: &Fixture, pool: &Pubkey, oracle: &Pubkey, epoch: u32) -> Vec<[u8; 32]> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rpc = solana_rpc_client::nonblocking::rpc_client::RpcClient::new_with_commitment(
        f.env.url.clone(),
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    runtime.block_on(async {
        let mut roots = Vec::new();
        for found in rpc.get_signatures_for_address(pool).await.unwrap() {
            if found.err.is_some() {
                continue;
            }
            let signature = found.signature.parse().unwrap();
            let events = depinkit_sdk::events::events_of_transaction(&rpc, &signature)
                .await
                .unwrap()
                .unwrap_or_default();
            for event in events {
                if let DepinEvent::EpochRootVoted(vote) = event
                    && vote.oracle == *oracle
                    && vote.epoch == epoch
                {
                    roots.push(vote.root);
                }
            }
        }
        roots
    })
}

fn kill(oracle: &mut Child) {
    oracle.kill().unwrap(); // SIGKILL
    oracle.wait().unwrap();
}

#[test]
fn killed_at_twenty_random_points_of_an_epoch_the_oracle_loses_nothing_and_votes_one_root() {
    let seed = fault_seed();
    eprintln!("fault seed {seed} (DEPIN_FAULT_SEED={seed} replays these kill points)");
    let mut rng = Rng(seed);
    let f = Fixture::start("faults-kill");
    // Two minutes an epoch: the reporting phase stays inside epoch 0, and
    // the chain's clock is moved to its end when the devices stop.
    let (network, files) = network_with_devices(&f, 6, 120);
    let devices: Vec<ed25519_dalek::SigningKey> = files
        .iter()
        .map(|file| signing_key(&read_keypair_file(file).unwrap()))
        .collect();
    let bind = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{bind}");
    let mut oracle = start_oracle(&f, &network, &bind);
    wait_for(&format!("{url}/health"), "the oracle", |h| {
        h["devices"] == 6
    });

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut reporter = Some(report_until(
        stop.clone(),
        url.clone(),
        network,
        devices,
        ledger.clone(),
    ));
    let mut killed_in = Vec::new();
    for kill_number in 0..KILLS {
        if kill_number == KILLS_WHILE_REPORTING {
            // The devices stop (their last batch answered); the epoch ends.
            stop.store(true, Ordering::SeqCst);
            reporter.take().unwrap().join().unwrap();
            let (_, pool) = pool_of(&f, &network);
            let end = pool.epoch_end(0).unwrap();
            f.time_travel(end + 2 - chain_time(&f.rpc));
        }
        // A random moment of this incarnation's life, start-up included.
        // Once the epoch has ended, closing, scoring and voting take a few
        // hundred milliseconds after start-up; then the crank claims.
        let delay = match kill_number {
            n if n < KILLS_WHILE_REPORTING => rng.millis(200, 2_500),
            n if n < KILLS - 3 => rng.millis(50, 700),
            _ => rng.millis(300, 2_000),
        };
        std::thread::sleep(delay);
        let state = epoch_state(&url, 0);
        kill(&mut oracle);
        killed_in.push(format!("{}ms:{state}", delay.as_millis()));
        oracle = start_oracle(&f, &network, &bind);
    }
    eprintln!("killed at (delay after start: epoch 0's state) {killed_in:?}");

    // The last incarnation finishes the epoch; its crank claims for all.
    let started = Instant::now();
    let (pool_address, pool) = loop {
        let (address, pool) = pool_of(&f, &network);
        if pool.next_epoch >= 1 && pool.total_claimed == pool.root_total {
            break (address, pool);
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "epoch 0 finalized and claimed: next epoch {}, claimed {} of {}, oracle says {}",
            pool.next_epoch,
            pool.total_claimed,
            pool.root_total,
            epoch_state(&url, 0)
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let ledger = ledger.lock().unwrap();
    assert!(ledger.unexpected.is_empty(), "{:?}", ledger.unexpected);
    assert!(ledger.unanswered > 0, "the kills met reporting devices");

    // No accepted report lost, none invented: the bundle scored exactly the
    // reports answered "accepted" and those kept before an answer was lost.
    let bundle: Bundle = serde_json::from_value(wait_for(
        &format!("{url}/v1/epochs/0/bundle"),
        "epoch 0's bundle",
        |b| b["root"].is_string(),
    ))
    .unwrap();
    let scored: BTreeSet<Hash32> = bundle
        .scored_reports()
        .unwrap()
        .iter()
        .map(|r| r.report.content_hash())
        .collect();
    let lost: Vec<_> = ledger.accepted.difference(&scored).collect();
    assert!(
        lost.is_empty(),
        "{} accepted reports lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    let kept: BTreeSet<Hash32> = ledger
        .accepted
        .union(&ledger.kept_unanswered)
        .copied()
        .collect();
    assert_eq!(scored, kept, "the bundle scores exactly the kept reports");
    eprintln!(
        "{} reports accepted, {} kept without an answer, {} requests unanswered",
        ledger.accepted.len(),
        ledger.kept_unanswered.len(),
        ledger.unanswered
    );

    // One root: every vote of the oracle, the chain's root and the bundle's.
    let roots = roots_voted(&f, &pool_address, &f.oracle.pubkey(), 0);
    assert!(!roots.is_empty(), "the oracle voted");
    assert!(
        roots.iter().all(|root| *root == pool.root),
        "a second root was voted: {roots:?}"
    );
    assert_eq!(
        depinkit_sdk::proofs::hex(&pool.root),
        bundle.root,
        "the finalized root is the bundle's"
    );
    let verified = Command::new(oracle_binary())
        .args(["verify-epoch", "0", "--rpc-url", &f.env.url, "--bundle"])
        .arg(format!("{url}/v1/epochs/0/bundle"))
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );

    // Each device scored one point per kept report and was paid on chain
    // exactly what the bundle says.
    let mut per_device: BTreeMap<[u8; 32], u64> = BTreeMap::new();
    for hash in &kept {
        *per_device.entry(ledger.device_of[hash]).or_default() += 1;
    }
    assert_eq!(bundle.rewards.len(), 6);
    for (mint, score, reward) in &bundle.rewards {
        let mint: Pubkey = mint.parse().unwrap();
        let device = per_device
            .iter()
            .find(|(key, _)| {
                device_registry::pda::find_device_mint_address(&network, &Pubkey::from(**key)).0
                    == mint
            })
            .map(|(_, count)| *count);
        assert_eq!(Some(*score), device, "device {mint}'s score");
        let record = reward_pool::pda::find_claim_record_address(&pool_address, &mint).0;
        let data = f.rpc.get_account_data(&record).unwrap();
        let claimed = ClaimRecord::try_deserialize(&mut &data[..])
            .unwrap()
            .claimed;
        assert_eq!(
            claimed, *reward,
            "device {mint} was paid what the bundle says"
        );
    }
    kill(&mut oracle);
}

#[test]
fn the_rpc_node_going_away_while_the_oracle_votes_delays_the_epoch_but_it_finalizes() {
    let f = Fixture::start("faults-rpc");
    let (network, files) = network_with_devices(&f, 2, 60);
    let devices: Vec<Keypair> = files
        .iter()
        .map(|file| read_keypair_file(file).unwrap())
        .collect();
    let localnet_ws = {
        let port: u16 = f.env.url.rsplit(':').next().unwrap().parse().unwrap();
        format!("ws://127.0.0.1:{}", port + 1)
    };
    let proxy = RpcProxy::start(&f.env.url, &localnet_ws);
    let bind = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{bind}");
    let mut oracle = oracle_command(&f, &network, &bind, &["run"])
        .env("DEPIN_ORACLE__CHAIN__RPC_URL", &proxy.url)
        .env("DEPIN_ORACLE__CHAIN__WS_URL", &proxy.ws_url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&format!("{url}/health"), "the oracle", |h| {
        h["devices"] == 2
    });

    // Epoch 0: the node stops before the vote reaches it. Epoch 1: the vote
    // lands but its answer is lost as the node stops.
    for (epoch, transaction_lands) in [(0u32, false), (1, true)] {
        let (pool_address, pool) = pool_of(&f, &network);
        let end = pool.epoch_end(epoch).unwrap();
        let at_ms = (end - pool.epoch_length_secs + 1) * 1000;
        let batch: Vec<SignedReport> = devices
            .iter()
            .enumerate()
            .map(|(i, d)| signed_beacon(&network, &signing_key(d), vec![i as u8; 16], at_ms))
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let answer = runtime
            .block_on(post(&reqwest::Client::new(), &url, &batch))
            .unwrap();
        assert_eq!(answer.accepted, 2, "{answer:?}");

        let before = proxy.seen();
        proxy.arm(Outage {
            transaction_lands,
            down: Duration::from_secs(4),
            unhealthy: Duration::from_secs(4),
        });
        f.time_travel(end + 2 - chain_time(&f.rpc));
        let started = Instant::now();
        let pool = loop {
            let (_, pool) = pool_of(&f, &network);
            if pool.next_epoch > epoch && proxy.recovered() {
                break pool;
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "epoch {epoch} finalizes: the proxy saw {:?}, the oracle says {}",
                proxy.seen(),
                epoch_state(&url, u64::from(epoch))
            );
            std::thread::sleep(Duration::from_millis(300));
        };
        let seen = proxy.seen();
        assert_eq!(seen.caught, before.caught + 1, "the vote met the outage");
        assert!(seen.refused > before.refused, "{seen:?}");
        assert!(seen.errors > before.errors, "{seen:?}");
        // The oracle knows, and voted one root.
        wait_for(
            &format!("{url}/v1/epochs/{epoch}"),
            "the oracle sees the epoch finalized",
            |e| e["state"] == "finalized",
        );
        let roots = roots_voted(&f, &pool_address, &f.oracle.pubkey(), epoch);
        assert!(!roots.is_empty() && roots.iter().all(|r| *r == pool.root));
    }
    kill(&mut oracle);
}
