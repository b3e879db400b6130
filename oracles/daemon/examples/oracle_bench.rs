//! The oracle's benchmark: ingest over HTTP against raw signature
//! verification of the same reports, and an epoch close at scale.
//!
//! ```sh
//! cargo run --profile benchmark -p depinkit-oracle --example oracle_bench
//! cargo run --profile benchmark -p depinkit-oracle --example oracle_bench -- \
//!   --ingest-reports 20000 --devices 10000 --reports-per-device 10   # a quick look
//! ```
//!
//! Ingest: signed beacons from `--ingest-devices` devices, pre-encoded as
//! binary batches of `--batch` reports, posted by `--connections` concurrent
//! clients to the daemon's router on loopback, stored in SQLite (WAL,
//! synchronous commits), every verdict checked. The same reports' signatures
//! are verified raw (batch verification) first, on one core and on every
//! core, in the same process.
//!
//! Epoch close: `--devices` x `--reports-per-device` reports stored directly
//! (the close trusts its store: ingest verified them), then one worker tick
//! (read, sort, score, split, cumulative tree, persist, vote) timed, with the
//! process's peak resident memory during it.
//!
//! The chain is an in-memory stand-in here (a wireless network, its devices
//! and pool): the benchmark measures the oracle, not an RPC node.

use anchor_lang::prelude::Pubkey;
use clap::Parser;
use depinkit_oracle::{
    chain::{Chain, ChainError, NetworkInfo},
    epoch::EpochWorker,
    ingest::{Ingest, Limits},
    registry::{RegisteredDevice, Registry},
    server::{AppState, router},
    store::{NewReport, Store, StoredReport, now_ms},
    verifier::{EpochInput, ReportCount, State, Verifier},
};
use depinkit_reports::{
    BINARY_CONTENT_TYPE, BatchAnswer, Beacon, Body, Key, Report, Sig, SignedReport, encode_batch,
    verify_signatures,
};
use device_registry::state::Category;
use reward_pool::{
    instructions::VoteEpochRootArgs,
    state::{EmissionSchedule, Pool},
};
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Benchmark settings.
#[derive(Parser, Debug)]
struct Args {
    /// Reports sent over HTTP.
    #[arg(long, default_value_t = 60_000)]
    ingest_reports: usize,
    /// Devices sending them.
    #[arg(long, default_value_t = 1_000)]
    ingest_devices: usize,
    /// Reports per batch.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Devices in the epoch close.
    #[arg(long, default_value_t = 100_000)]
    devices: usize,
    /// Reports per device in the epoch close.
    #[arg(long, default_value_t = 10)]
    reports_per_device: usize,
    /// Devices whose reports the category rules score (in memory).
    #[arg(long, default_value_t = 1_000_000)]
    score_devices: usize,
    /// Reports per device the rules score.
    #[arg(long, default_value_t = 10)]
    score_reports: usize,
    /// GNSS fixes per mapping track.
    #[arg(long, default_value_t = 2)]
    score_fixes: usize,
    /// The category rules the scoring part runs.
    #[arg(long, value_delimiter = ',', default_value = "mapping,wireless")]
    score_categories: Vec<String>,
    /// Only these parts: ingest, close, scoring (default: all).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

const NETWORK: Pubkey = Pubkey::new_from_array([9; 32]);
const EPOCH_SECS: i64 = 3_600;

/// The chain as a wireless network with `devices`, its pool started so
/// that `start` is in epoch 0.
struct InMemoryChain {
    devices: Vec<(Key, RegisteredDevice)>,
    pool: Mutex<Pool>,
    /// Transactions the oracle sent (its votes).
    transactions: std::sync::atomic::AtomicUsize,
}

impl Chain for InMemoryChain {
    async fn network(&self, _: &Pubkey) -> Result<NetworkInfo, ChainError> {
        Ok(NetworkInfo {
            category: Category::Wireless,
            oracles: vec![Pubkey::new_from_array([5; 32])],
            threshold: 1,
        })
    }
    async fn now(&self) -> Result<i64, ChainError> {
        Ok(now_ms() / 1000)
    }
    async fn pool(&self, _: &Pubkey) -> Result<Pool, ChainError> {
        Ok(self.pool.lock().unwrap().clone())
    }
    async fn devices(&self, _: &Pubkey) -> Result<Vec<(Key, RegisteredDevice)>, ChainError> {
        Ok(self.devices.clone())
    }
    async fn device(
        &self,
        address: &Pubkey,
    ) -> Result<Option<(Key, RegisteredDevice)>, ChainError> {
        Err(ChainError(format!(
            "{address}: the benchmark reads devices all at once"
        )))
    }
    async fn transaction_events(
        &self,
        signature: &str,
    ) -> Result<Option<Vec<depinkit_sdk::events::DepinEvent>>, ChainError> {
        Err(ChainError(format!(
            "{signature}: the benchmark follows no events"
        )))
    }
    async fn latest_blockhash(&self) -> Result<[u8; 32], ChainError> {
        Ok([1; 32])
    }
    async fn orders(
        &self,
        addresses: &[Pubkey],
    ) -> Result<Vec<Option<depinkit_oracle::verifier::compute::OrderView>>, ChainError> {
        Ok(vec![None; addresses.len()])
    }
    async fn network_orders(
        &self,
        _: &Pubkey,
    ) -> Result<Vec<(Key, depinkit_oracle::verifier::compute::OrderView)>, ChainError> {
        Ok(Vec::new())
    }
    async fn account_data(&self, address: &Pubkey) -> Result<Vec<u8>, ChainError> {
        Err(ChainError(format!("{address}: no accounts here")))
    }
    async fn vote_price(
        &self,
        _: &Pubkey,
        _: service_payments::instructions::VotePriceArgs,
    ) -> Result<String, ChainError> {
        Ok("in-memory".into())
    }
    async fn vote_epoch_root(
        &self,
        _: &Pubkey,
        vote: VoteEpochRootArgs,
    ) -> Result<String, ChainError> {
        self.transactions
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut pool = self.pool.lock().unwrap();
        pool.root = vote.root;
        pool.root_total = vote.total;
        pool.scheduled_to_date += u128::from(pool.next_epoch_emission);
        pool.next_epoch += 1;
        Ok("in-memory".into())
    }
}

fn pool(start_time: i64) -> Pool {
    Pool {
        version: 1,
        bump: 255,
        network: NETWORK,
        reward_mint: Pubkey::new_unique(),
        reward_token_program: Pubkey::new_unique(),
        vault: Pubkey::new_unique(),
        start_time,
        epoch_length_secs: EPOCH_SECS,
        schedule: EmissionSchedule {
            initial_per_epoch: 1_000_000_000,
            decay_interval_epochs: 0,
            retain_bps: 10_000,
        },
        next_epoch: 0,
        next_epoch_emission: 1_000_000_000,
        scheduled_to_date: 0,
        total_inflow: u64::MAX / 2,
        revenue_inflow: 0,
        total_claimed: 0,
        root: [0; 32],
        root_total: 0,
        root_leaf_count: 0,
        root_finalized_at: 0,
        claim_lookup_table: Pubkey::default(),
        votes: vec![],
    }
}

fn beacon(device: Key, timestamp_ms: i64, n: u64) -> Report {
    Report {
        network: Key(NETWORK.to_bytes()),
        device,
        timestamp_ms,
        body: Body::Beacon(Beacon {
            entropy: depinkit_reports::Entropy::issue(
                &Key(NETWORK.to_bytes()),
                timestamp_ms,
                &[1; 32],
                &ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
            ),
            payload: n.to_le_bytes().to_vec(),
            frequency_hz: 868_100_000,
            tx_power_ddbm: 140,
            antenna_gain_ddbi: 30,
        }),
    }
}

/// Peak resident memory of the process since the last reset, KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Starts the peak over (Linux: `clear_refs` 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("depin-oracle benchmark ({cores} cores)\n");
    let run = |part: &str| args.only.is_empty() || args.only.iter().any(|o| o == part);
    if run("ingest") {
        ingest(&args, cores).await;
    }
    if run("close") {
        epoch_close(&args).await;
    }
    if run("scoring") {
        for category in &args.score_categories {
            match category.as_str() {
                "mapping" => scoring_mapping(&args),
                "wireless" => scoring_wireless(&args),
                other => eprintln!("--score-categories: no benchmark of {other:?}"),
            }
        }
    }
}

/// The mapping rules over `--score-devices` x `--score-reports` tracks held
/// in memory (as the worker holds an epoch's reports once read), then the
/// split and the cumulative tree: the part of an epoch close that grows with
/// the rules' work. Reports are unsigned here: scoring never reads a
/// signature (ingest verified them).
fn scoring_mapping(args: &Args) {
    use depinkit_oracle::verifier::{Devices, mapping::MappingRules};
    use depinkit_reports::{GnssFix, Hash32, MapTrack};
    let start_ms = 1_767_225_600_000i64;
    let began = Instant::now();
    // Devices on a grid 1 km apart from 45 N 5 E; each drives east, a
    // fix every 10 s and 45 m.
    let side = (args.score_devices as f64).sqrt().ceil() as usize;
    let mut reports: Vec<StoredReport> =
        Vec::with_capacity(args.score_devices * args.score_reports);
    for device in 0..args.score_devices {
        let (row, column) = ((device / side) as i32, (device % side) as i32);
        for r in 0..args.score_reports {
            let fixes: Vec<GnssFix> = (0..args.score_fixes)
                .map(|f| {
                    let step = (r * args.score_fixes + f) as i32;
                    let mut pixels = [0u8; 20];
                    pixels[..8].copy_from_slice(&(device as u64).to_le_bytes());
                    pixels[8..16].copy_from_slice(&(step as u64).to_le_bytes());
                    GnssFix {
                        timestamp_ms: start_ms + 60_000 + i64::from(step) * 10_000,
                        lat_e7: 450_000_000 + row * 90_000,
                        lon_e7: 50_000_000 + column * 90_000 + step * 4_000,
                        fix_quality: 1,
                        satellites: 9,
                        frame_hash: Hash32::sha256(&pixels),
                    }
                })
                .collect();
            reports.push(bench_report(
                device,
                r,
                start_ms + 60_000,
                Body::MapTrack(MapTrack { fixes }),
            ));
        }
    }
    reports.sort_unstable_by_key(|r| r.content_hash);
    let made = began.elapsed();
    let devices = Devices::new();
    let input = EpochInput {
        network: NETWORK,
        oracles: &[],
        epoch: 0,
        start_ms,
        end_ms: start_ms + 24 * 3_600_000,
        reports: &reports,
        devices: &devices,
        orders: &Default::default(),
        usage_escrows: &Default::default(),
    };
    let what = format!(
        "mapping rules, {} devices x {} tracks of {} fixes = {} reports (made in {:.1} s)",
        args.score_devices,
        args.score_reports,
        args.score_fixes,
        reports.len(),
        made.as_secs_f64()
    );
    measure_scoring(&what, &MappingRules::default(), &input, args.score_devices);
}

/// Report `n` of benchmark device `device` (key and mint: `device + 1` in
/// their first bytes), unsigned: scoring never reads a signature.
fn bench_report(device: usize, n: usize, timestamp_ms: i64, body: Body) -> StoredReport {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&(device as u64 + 1).to_le_bytes());
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&(device as u64).to_le_bytes());
    id[8..].copy_from_slice(&(n as u64).to_le_bytes());
    StoredReport {
        id: 0,
        epoch: 0,
        device_mint: Pubkey::new_from_array(key),
        content_hash: depinkit_reports::Hash32::sha256(&id),
        received_ms: timestamp_ms,
        report: SignedReport {
            report: Report {
                network: Key(NETWORK.to_bytes()),
                device: Key(key),
                timestamp_ms,
                body,
            },
            signature: Sig([0; 64]),
            cosignature: None,
        },
    }
}

/// Times `rules` over `input` (first pass, scores, split and cumulative
/// tree, every device's proof) and the peak memory above what the input
/// holds; prints the table.
fn measure_scoring(what: &str, rules: &dyn Verifier, input: &EpochInput, devices: usize) {
    use depinkit_oracle::rewards::{cumulative_tree, split};
    let rules: &dyn Verifier = rules;
    reset_peak_rss();
    let before = peak_rss_kib();
    let began = Instant::now();
    let plan = rules.plan(input);
    let planned = began.elapsed();
    let scoring = rules.score(input, plan, &State::new());
    let scored = began.elapsed();
    let split = split(1_000_000_000_000, &scoring.scores);
    let (_, tree) =
        cumulative_tree(&std::collections::BTreeMap::new(), &split.rewards, u64::MAX).unwrap();
    let built = began.elapsed();
    // What the proof API serves: each device's path to the root.
    let proofs: Vec<_> = (0..tree.len()).map(|i| tree.proof(i)).collect();
    let total = began.elapsed();
    let peak = peak_rss_kib();
    assert_eq!(tree.len(), devices, "every device earned");
    let root = tree.root();
    for (i, proof) in proofs.iter().enumerate().step_by(997) {
        let (mint, amount) = tree.entries()[i];
        let leaf = reward_pool::merkle::leaf_hash(&mint, amount);
        assert!(
            reward_pool::merkle::verify(proof, &root, leaf),
            "proof {i} reaches the root"
        );
    }
    drop(proofs);
    assert!(
        scoring.refused.is_empty(),
        "{:?}",
        scoring.refused.iter().next()
    );
    println!("scoring: {what}");
    println!(
        "  first pass                           {:>10.2} s",
        planned.as_secs_f64()
    );
    println!(
        "  scores                               {:>10.2} s",
        (scored - planned).as_secs_f64()
    );
    println!(
        "  split and cumulative tree            {:>10.2} s",
        (built - scored).as_secs_f64()
    );
    println!(
        "  every device's proof                 {:>10.2} s",
        (total - built).as_secs_f64()
    );
    println!(
        "  scoring, tree and proofs             {:>10.2} s",
        total.as_secs_f64()
    );
    if let (Some(before), Some(peak)) = (before, peak) {
        println!(
            "  peak resident memory during it       {:>10} MiB above the {} MiB the reports take",
            peak.saturating_sub(before) / 1024,
            before / 1024
        );
    }
}

/// The wireless rules over `--score-devices` hotspots on a grid 1 km apart,
/// each sending one beacon and witnessing `--score-reports` - 1 beacons of
/// hotspots 2 to 3 km away (every report valid), held in memory.
fn scoring_wireless(args: &Args) {
    use depinkit_oracle::verifier::{Devices, geo, wireless::WirelessRules};
    use depinkit_reports::{Entropy, Hash32, Witness};
    let start_ms = 1_767_225_600_000i64;
    let began = Instant::now();
    let oracle = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let oracles = [Pubkey::new_from_array(oracle.verifying_key().to_bytes())];
    let entropy = Entropy::issue(&Key(NETWORK.to_bytes()), start_ms, &[3; 32], &oracle);
    let side = (args.score_devices as f64).sqrt().ceil() as i32;
    let key_of = |device: usize| {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&(device as u64 + 1).to_le_bytes());
        Key(key)
    };
    let mint_of = |device: usize| Pubkey::new_from_array(key_of(device).0);
    let devices: Devices = (0..args.score_devices)
        .map(|device| {
            let (row, column) = (device as i32 / side, device as i32 % side);
            let cell = geo::cell_of(
                450_000_000 + row * 90_000,
                50_000_000 + column * 127_000,
                12,
            )
            .expect("a cell");
            (
                key_of(device),
                RegisteredDevice {
                    mint: mint_of(device),
                    location: u64::from(cell),
                    active: true,
                },
            )
        })
        .collect();
    let beacon_at = start_ms + 60_000;
    let payload = |device: usize| (device as u64).to_le_bytes().to_vec();
    // Offsets (rows, columns) of the beacons a hotspot witnesses: 2 to 3 km away.
    const AROUND: [(i32, i32); 12] = [
        (0, 2),
        (0, -2),
        (2, 0),
        (-2, 0),
        (0, 3),
        (0, -3),
        (3, 0),
        (-3, 0),
        (2, 2),
        (-2, -2),
        (2, -2),
        (-2, 2),
    ];
    let mut reports = Vec::with_capacity(args.score_devices * args.score_reports);
    for device in 0..args.score_devices {
        reports.push(bench_report(
            device,
            0,
            beacon_at,
            Body::Beacon(Beacon {
                entropy,
                payload: payload(device),
                frequency_hz: 868_100_000,
                tx_power_ddbm: 140,
                antenna_gain_ddbi: 30,
            }),
        ));
        let (row, column) = (device as i32 / side, device as i32 % side);
        let heard = AROUND
            .iter()
            .map(|&(dr, dc)| (row + dr, column + dc))
            .filter(|&(r, c)| {
                (0..side).contains(&r)
                    && (0..side).contains(&c)
                    && ((r * side + c) as usize) < args.score_devices
            })
            .take(args.score_reports.saturating_sub(1));
        for (n, (r, c)) in heard.enumerate() {
            let beaconer = (r * side + c) as usize;
            let received_at_ms = beacon_at + 200 + n as i64 * 50;
            reports.push(bench_report(
                device,
                n + 1,
                received_at_ms,
                Body::Witness(Witness {
                    beaconer: key_of(beaconer),
                    beacon_payload_hash: Hash32::sha256(&payload(beaconer)),
                    received_at_ms,
                    frequency_hz: 868_100_000,
                    rssi_ddbm: -1_200,
                    snr_ddb: 50,
                    antenna_gain_ddbi: 30,
                }),
            ));
        }
    }
    reports.sort_unstable_by_key(|r| r.content_hash);
    let made = began.elapsed();
    let input = EpochInput {
        network: NETWORK,
        oracles: &oracles,
        epoch: 0,
        start_ms,
        end_ms: start_ms + 24 * 3_600_000,
        reports: &reports,
        devices: &devices,
        orders: &Default::default(),
        usage_escrows: &Default::default(),
    };
    let what = format!(
        "wireless rules, {} hotspots, a beacon and up to {} witnesses each = {} reports (made in {:.1} s)",
        args.score_devices,
        args.score_reports.saturating_sub(1),
        reports.len(),
        made.as_secs_f64()
    );
    measure_scoring(&what, &WirelessRules::default(), &input, args.score_devices);
}

async fn ingest(args: &Args, cores: usize) {
    let start = now_ms() / 1000 - 60;
    let keys: Vec<ed25519_dalek::SigningKey> = (0..args.ingest_devices)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            ed25519_dalek::SigningKey::from_bytes(&seed)
        })
        .collect();
    let devices: Vec<(Key, RegisteredDevice)> = keys
        .iter()
        .map(|k| {
            let key = Key(k.verifying_key().to_bytes());
            let device = RegisteredDevice {
                mint: Pubkey::new_from_array(key.0),
                location: 0,
                active: true,
            };
            (key, device)
        })
        .collect();
    let timestamp = now_ms();
    let reports: Vec<SignedReport> = (0..args.ingest_reports)
        .map(|n| {
            let key = &keys[n % keys.len()];
            beacon(Key(key.verifying_key().to_bytes()), timestamp, n as u64).sign(key)
        })
        .collect();
    let batches: Vec<&[SignedReport]> = reports.chunks(args.batch).collect();

    // Raw batch verification of the same reports: one core, then all.
    let began = Instant::now();
    for batch in &batches {
        assert!(verify_signatures(batch).iter().all(Result::is_ok));
    }
    let raw_one = reports.len() as f64 / began.elapsed().as_secs_f64();
    let began = Instant::now();
    std::thread::scope(|scope| {
        for part in batches.chunks(batches.len().div_ceil(cores)) {
            scope.spawn(move || {
                for batch in part {
                    assert!(verify_signatures(batch).iter().all(Result::is_ok));
                }
            });
        }
    });
    let raw_all = reports.len() as f64 / began.elapsed().as_secs_f64();

    // End to end: the daemon's router on loopback, SQLite in a fresh file.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite:{}", dir.path().join("bench.db").display()))
        .await
        .unwrap();
    let chain = Arc::new(InMemoryChain {
        devices,
        pool: Mutex::new(pool(start)),
        transactions: Default::default(),
    });
    let registry = Arc::new(
        Registry::load(chain.clone(), NETWORK, Duration::from_secs(60))
            .await
            .unwrap(),
    );
    let limits = Limits {
        max_batch_reports: args.batch,
        device_reports_per_minute: u32::MAX / 2,
        device_burst: u32::MAX / 2,
        grace_secs: 60,
        max_answer_delay_ms: 7_000,
    };
    let ingest = Arc::new(
        Ingest::new(chain.clone(), NETWORK, registry, store.clone(), limits)
            .await
            .unwrap(),
    );
    let app = router(
        Arc::new(AppState {
            ingest,
            store: store.clone(),
            network: NETWORK,
            bundles: None,
            entropy: None,
            challenges: None,
            storage_seeds: None,
            map: None,
        }),
        16 * 1024 * 1024,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/reports", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let bodies: Vec<Vec<u8>> = batches.iter().map(|b| encode_batch(b)).collect();
    let bodies = Arc::new(bodies);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let began = Instant::now();
    let clients: Vec<_> = (0..args.connections)
        .map(|_| {
            let (bodies, next, url) = (bodies.clone(), next.clone(), url.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut accepted = 0u64;
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(body) = bodies.get(i) else { break };
                    let answer: BatchAnswer = http
                        .post(&url)
                        .header("content-type", BINARY_CONTENT_TYPE)
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    accepted += u64::from(answer.accepted);
                }
                accepted
            })
        })
        .collect();
    let mut accepted = 0;
    for client in clients {
        accepted += client.await.unwrap();
    }
    let end_to_end = reports.len() as f64 / began.elapsed().as_secs_f64();
    assert_eq!(accepted as usize, reports.len(), "every report accepted");
    assert_eq!(
        store.epoch_report_count(0).await.unwrap() as usize,
        reports.len()
    );

    println!(
        "ingest: {} beacons, {} devices, batches of {}, {} connections, SQLite",
        reports.len(),
        args.ingest_devices,
        args.batch,
        args.connections
    );
    println!("  raw batch verification, 1 core      {raw_one:>10.0} reports/s");
    println!("  raw batch verification, {cores} cores     {raw_all:>10.0} reports/s");
    println!("  end to end over HTTP, stored        {end_to_end:>10.0} reports/s");
    println!(
        "  end to end / raw (1 core): {:.0}%   end to end / raw ({cores} cores): {:.0}%\n",
        100.0 * end_to_end / raw_one,
        100.0 * end_to_end / raw_all
    );
}

async fn epoch_close(args: &Args) {
    let start = now_ms() / 1000 - EPOCH_SECS - 120;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite:{}", dir.path().join("epoch.db").display()))
        .await
        .unwrap();
    let chain = Arc::new(InMemoryChain {
        devices: Vec::new(),
        pool: Mutex::new(pool(start)),
        transactions: Default::default(),
    });
    let total = args.devices * args.reports_per_device;
    let began = Instant::now();
    let chunk = 5_000;
    let mut n = 0u64;
    while (n as usize) < total {
        let reports: Vec<(Pubkey, SignedReport)> = (0..chunk.min(total - n as usize))
            .map(|i| {
                let k = n + i as u64;
                let mut device = [0u8; 32];
                device[..8].copy_from_slice(&(k % args.devices as u64).to_le_bytes());
                let report = SignedReport {
                    report: beacon(Key(device), (start + 10) * 1000, k),
                    signature: Sig([0; 64]),
                    cosignature: None,
                };
                (Pubkey::new_from_array(device), report)
            })
            .collect();
        let batch: Vec<NewReport> = reports
            .iter()
            .map(|(mint, report)| NewReport {
                epoch: 0,
                content_hash: report.report.content_hash(),
                device_mint: *mint,
                report,
                received_ms: now_ms(),
            })
            .collect();
        store.store_reports(&batch).await.unwrap();
        n += chunk as u64;
    }
    let loading = began.elapsed();
    let worker = EpochWorker::new(
        chain.clone(),
        NETWORK,
        store.clone(),
        ReportCount {
            max_per_device: u64::MAX,
        },
        60,
    );
    reset_peak_rss();
    let before = peak_rss_kib();
    let began = Instant::now();
    worker.tick(now_ms() / 1000).await.unwrap();
    let close = began.elapsed();
    let peak = peak_rss_kib();
    let result = store
        .epoch_result(0)
        .await
        .unwrap()
        .expect("epoch 0 scored");
    assert_eq!(result.report_count as usize, total);
    assert_eq!(result.leaf_count as usize, args.devices);
    println!(
        "epoch close: {} devices x {} reports = {total} reports (stored in {:.1} s)",
        args.devices,
        args.reports_per_device,
        loading.as_secs_f64()
    );
    println!(
        "  close, score, tree, persist, vote    {:>10.2} s",
        close.as_secs_f64()
    );
    println!(
        "  transactions the oracle sent         {:>10}",
        chain.transactions.load(std::sync::atomic::Ordering::SeqCst)
    );
    if let (Some(before), Some(peak)) = (before, peak) {
        println!(
            "  peak resident memory during it       {:>10.0} MiB (from {:.0} MiB before)",
            peak as f64 / 1024.0,
            before as f64 / 1024.0
        );
    }
}
