//! `depin demo`: the whole system on this machine, nothing to install. A
//! localnet in this process; a network per category (wireless, mapping,
//! storage, compute) with its reward pool of short epochs and payments (the
//! storage network with a customer's deal on every device); the oracle
//! daemons in this process on SQLite (three oracles with threshold 2 for the
//! wireless network, one for the others) scoring with each category's rules;
//! and a fleet of simulated devices from `depinkit-device`, honest but for a
//! few cheaters, reporting over HTTP. Epochs close, roots are voted and
//! finalize, the oracles' crank claims every device's rewards for its owner,
//! and the demo prints what happened and checks that every token is accounted
//! for.

mod customers;
mod deals;
mod jobs;
mod oracles;
mod summary;
mod world;

use crate::{error::CliError, output::OutputFormat};
use clap::Args;
use depinkit_device::{Category as FleetCategory, Cheat, Fleet, OracleClient};
use depinkit_reports::{Key, Verdict};
use depinkit_sdk::accounts;
use device_registry::state::Category;
use indicatif::{ProgressBar, ProgressStyle};
use reward_pool::state::Pool;
use serde_json::Value;
use std::{collections::BTreeMap, io::Write, time::Duration};
use world::{DemoChain, DemoNetwork, category_name};

/// `depin demo` options.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Devices in all, shared among the networks.
    #[arg(long, default_value_t = 200)]
    pub devices: usize,
    /// Epochs to run.
    #[arg(long, default_value_t = 3)]
    pub epochs: u32,
    /// Seconds per epoch.
    #[arg(long, default_value_t = 15)]
    pub epoch_secs: i64,
    /// Leave the localnet and the oracles running, and print their URLs.
    #[arg(long)]
    pub keep_running: bool,
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Something could not be set up.
    #[error("{0}")]
    Setup(String),
    /// The chain refused or failed.
    #[error("chain: {0}")]
    Chain(String),
    /// An oracle did not answer or finish in time.
    #[error("oracle: {0}")]
    Oracle(String),
}

impl From<DemoError> for CliError {
    fn from(e: DemoError) -> Self {
        CliError::Rpc(e.to_string())
    }
}

/// The categories the demo runs, with their oracle counts.
const CATEGORIES: [(Category, usize); 4] = [
    (Category::Wireless, 3),
    (Category::Mapping, 1),
    (Category::Storage, 1),
    (Category::Compute, 1),
];

/// What one network did.
#[derive(Default)]
struct Tally {
    /// Reports the oracles counted.
    accepted: u64,
    /// Reports refused, at ingest (its reason) or by the rules (the rule).
    rejected: BTreeMap<String, u64>,
}

/// Runs the demo; the summary goes to stdout as `output` says.
pub fn run(args: DemoArgs, output: OutputFormat) -> Result<(), CliError> {
    if args.devices < CATEGORIES.len() || args.epochs == 0 || args.epoch_secs < 5 {
        return Err(CliError::Input(format!(
            "--devices must be at least {}, --epochs at least 1 and --epoch-secs at least 5",
            CATEGORIES.len()
        )));
    }
    let mut out = summary::summary_output();
    let dir = std::env::temp_dir().join(format!("depin-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::Input(format!("cannot create {}: {e}", dir.display())))?;
    let port = depinkit_localnet::free_port_pair();
    let localnet = depinkit_localnet::Localnet::start(depinkit_localnet::LocalnetConfig {
        bind: ([127, 0, 0, 1], port).into(),
        keypair_path: dir.join("payer.json"),
        ..depinkit_localnet::LocalnetConfig::default()
    })
    .map_err(|e| CliError::Rpc(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(demo(&args, &localnet, &dir, output, &mut out));
    runtime.shutdown_timeout(Duration::from_secs(5));
    localnet.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn demo(
    args: &DemoArgs,
    localnet: &depinkit_localnet::Localnet,
    dir: &std::path::Path,
    output: OutputFormat,
    out: &mut std::fs::File,
) -> Result<(), CliError> {
    let rpc = std::sync::Arc::new(
        solana_rpc_client::nonblocking::rpc_client::RpcClient::new_with_commitment(
            localnet.rpc_url.clone(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        ),
    );
    let sender = depinkit_sdk::sender::TransactionSender::new(
        rpc.clone(),
        depinkit_sdk::sender::SenderConfig::default(),
    );
    let chain = DemoChain {
        rpc,
        sender,
        payer: localnet.payer.insecure_clone(),
    };
    let progress = if output == OutputFormat::Json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new_spinner()
    };
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}").expect("a valid template"),
    );
    progress.enable_steady_tick(Duration::from_millis(120));

    progress.set_message("creating the networks and onboarding the devices");
    let mint = world::reward_mint(&chain).await?;
    let per_network = args.devices / CATEGORIES.len();
    let mut networks = Vec::new();
    for (i, (category, oracle_count)) in CATEGORIES.iter().enumerate() {
        let devices = if i == 0 {
            args.devices - per_network * (CATEGORIES.len() - 1)
        } else {
            per_network
        };
        networks.push(world::network(&chain, &mint, *category, *oracle_count, devices).await?);
    }
    let mut fleets: Vec<Fleet> = networks.iter().map(fleet_of).collect();
    // The storage customer's deals, accepted before the first epoch begins;
    // meanwhile the customers paying in credits buy them (the mapping
    // network's buys its map, the wireless network's has data carried).
    progress.set_message("customers open storage deals and buy credits");
    let run_secs = args.epoch_secs * i64::from(args.epochs);
    let open_deals = async {
        let mut deals = Vec::new();
        for (network, fleet) in networks.iter().zip(&mut fleets) {
            deals.push(if network.category == Category::Storage {
                let until = chain.now().await? + 60 + run_secs + 600;
                Some(deals::open(&chain, network, &mint, fleet, until).await?)
            } else {
                None
            });
        }
        Ok::<_, DemoError>(deals)
    };
    let customer_of = |category: Category| {
        let network = networks.iter().find(|n| n.category == category);
        let (chain, mint) = (&chain, &mint);
        async move {
            match network {
                Some(network) => customers::prepare(chain, network, mint).await.map(Some),
                None => Ok(None),
            }
        }
    };
    let (deals, map_customer, data_customer) = tokio::try_join!(
        open_deals,
        customer_of(Category::Mapping),
        customer_of(Category::Wireless)
    )?;
    let mut map_customer = map_customer;
    let mut data_customer = data_customer;
    // One schedule for every network, its first epoch starting once the
    // oracles are up.
    let start = chain.now().await? + 5;
    for network in &networks {
        world::open_pool(&chain, network, &mint, args.epoch_secs, args.epochs, start).await?;
    }

    progress.set_message("starting the oracles");
    let mut running = Vec::new();
    for network in &networks {
        running.push(
            oracles::start(
                network,
                &localnet.rpc_url,
                &localnet.ws_url,
                dir,
                args.epoch_secs,
            )
            .await?,
        );
    }
    let mut tallies: Vec<Tally> = networks.iter().map(|_| Tally::default()).collect();
    let mut gpu_jobs: Option<jobs::Jobs> = None;

    for epoch in 0..args.epochs {
        // Every fleet reports a third into the epoch, on the chain's clock;
        // the oracles close, score and vote each epoch while the next runs.
        let at = start + i64::from(epoch) * args.epoch_secs + args.epoch_secs / 3;
        wait_for_chain_time(&chain, at).await?;
        progress.set_message(format!(
            "epoch {}/{}: the devices report",
            epoch + 1,
            args.epochs
        ));
        for (n, network) in networks.iter().enumerate() {
            play_round(&mut fleets[n], network, &running[n][0].url, &mut tallies[n]).await?;
            // A hotspot carried 48 KB for the wireless customer this epoch.
            if network.category == Category::Wireless
                && let (Some(customer), Some(hotspot)) =
                    (&mut data_customer, network.devices.first())
            {
                let epoch_start_ms = (start + i64::from(epoch) * args.epoch_secs) * 1000;
                customer
                    .carry(
                        &running[n][0].url,
                        &hotspot.key,
                        48_000,
                        epoch_start_ms + 1_000,
                        u64::from(epoch),
                    )
                    .await?;
            }
        }
        // In the first epoch the GPU customer buys its jobs (receipts
        // counted in it, the orders settled once it is final).
        if epoch == 0
            && let Some(n) = networks
                .iter()
                .position(|n| n.category == Category::Compute)
        {
            progress.set_message("epoch 1: the GPU customer's jobs run on compute nodes");
            let until = chain.now().await? + run_secs + 600;
            gpu_jobs =
                Some(jobs::buy(&chain, &networks[n], &mint, &running[n][0].url, dir, until).await?);
        }
        // With epoch 0's map verified, the customer buys it (charged in
        // this epoch, burned when it ends).
        if epoch == 1 {
            buy_map(&networks, &running, &mut map_customer, &progress).await?;
        }
    }
    progress.set_message("the oracles close, score and vote the last epoch");
    let mut finalized_by = Vec::new();
    for oracles in &running {
        finalized_by.push(wait_finalized(oracles, args.epochs - 1, args.epoch_secs).await?);
    }
    if args.epochs == 1 {
        buy_map(&networks, &running, &mut map_customer, &progress).await?;
    }
    progress.set_message("the crank claims every device's rewards");
    let mut summaries = Vec::new();
    let mut accounting_ok = true;
    for (n, network) in networks.iter().enumerate() {
        let pool = wait_claimed(&chain, network).await?;
        if let Some(deals) = &deals[n] {
            progress.set_message("the oracles settle the storage deals' last epoch");
            let timeout = Duration::from_secs(4 * args.epoch_secs.max(5) as u64);
            deals::wait_settled(&finalized_by[n], deals, u64::from(args.epochs - 1), timeout).await;
        }
        let jobs = gpu_jobs
            .as_ref()
            .filter(|_| network.category == Category::Compute);
        if let Some(jobs) = jobs {
            progress.set_message("the oracle settles the GPU jobs");
            let timeout = Duration::from_secs(4 * args.epoch_secs.max(5) as u64);
            jobs.wait_settled(&chain, timeout).await;
        }
        let rules = refusals(&finalized_by[n], network, args.epochs).await?;
        for (rule, count) in rules.1 {
            *tallies[n].rejected.entry(rule).or_default() += count;
        }
        tallies[n].accepted = rules.0;
        let (summary, ok) = summary::summarize(
            &chain,
            network,
            &pool,
            &tallies[n],
            &finalized_by[n],
            args.epochs,
            deals[n].as_ref().or(jobs.map(|j| &j.orders)),
        )
        .await?;
        let mut summary = summary;
        if let Some(jobs) = jobs {
            summary["gpu_jobs"]["checked_and_signed"] = jobs.checked.into();
            summary["gpu_jobs"]["wrong_results_refused"] = jobs.refused.into();
        }
        if network.category == Category::Mapping
            && let Some(customer) = &map_customer
        {
            summary["map_sales"] = customers::map_summary(&chain, network, customer).await?;
        }
        if network.category == Category::Wireless
            && let Some(customer) = &data_customer
        {
            summary["data_transfer"] =
                customers::transfer_summary(&chain, network, customer).await?;
        }
        accounting_ok &= ok;
        summaries.push(summary);
    }
    progress.finish_and_clear();
    summary::print_summary(out, &summaries, accounting_ok, output);
    if args.keep_running {
        let _ = writeln!(
            out,
            "\nlocalnet: {} (websocket {})",
            localnet.rpc_url, localnet.ws_url
        );
        for (network, oracles) in networks.iter().zip(&running) {
            for oracle in oracles {
                let _ = writeln!(
                    out,
                    "oracle of {} ({}): {}",
                    category_name(network.category),
                    network.address,
                    oracle.url
                );
            }
        }
        let _ = writeln!(out, "Ctrl-C stops them.");
        let _ = tokio::signal::ctrl_c().await;
    }
    if let Some(jobs) = gpu_jobs {
        jobs.stop();
    }
    for oracles in running {
        for oracle in oracles {
            oracle.stop().await;
        }
    }
    if !accounting_ok {
        return Err(CliError::Rpc(
            "the accounting check failed: see the summary".into(),
        ));
    }
    Ok(())
}

/// The fleet playing `network`'s devices, two of them cheating.
fn fleet_of(network: &DemoNetwork) -> Fleet {
    let category = match network.category {
        Category::Wireless => FleetCategory::Wireless,
        Category::Mapping => FleetCategory::Mapping,
        Category::Compute => FleetCategory::Compute,
        Category::Storage => FleetCategory::Storage,
    };
    let devices = network
        .devices
        .iter()
        .map(|d| (d.key.clone(), d.place))
        .collect();
    let mut fleet = Fleet::new(Key(network.address.to_bytes()), category, devices, 7);
    // LoRa in a city: a few kilometres.
    fleet.radio_range_m = 3_000.0;
    let cheats: &[Cheat] = match network.category {
        Category::Wireless => &[Cheat::RssiTooStrong, Cheat::Replay],
        Category::Mapping => &[Cheat::Teleport, Cheat::DuplicateFrames],
        Category::Compute => &[Cheat::WrongProduct],
        Category::Storage => &[Cheat::WrongChunk, Cheat::SkipChallenge],
    };
    for (i, cheat) in cheats.iter().enumerate() {
        let index = fleet.len().saturating_sub(1 + i);
        if index > 0 {
            let _ = fleet.set_cheat(index, *cheat);
        }
    }
    fleet
}

/// One round of `fleet` against its network's oracle at `url`.
async fn play_round(
    fleet: &mut Fleet,
    network: &DemoNetwork,
    url: &str,
    tally: &mut Tally,
) -> Result<(), DemoError> {
    let client = OracleClient::new(url);
    let now = depinkit_oracle::store::now_ms();
    let made = match network.category {
        Category::Wireless => {
            let entropy = client
                .entropy()
                .await
                .map_err(|e| DemoError::Oracle(e.to_string()))?;
            fleet.round(now, Some(entropy))
        }
        Category::Compute => {
            let mut challenges = Vec::new();
            for index in 0..fleet.len() {
                let class = fleet.gpu_class(index).unwrap_or_default().to_string();
                if let Ok(challenge) = client
                    .compute_challenge(&fleet.key(index).public(), &class)
                    .await
                {
                    challenges.push((index, challenge));
                }
            }
            // Answered once computed, after every challenge was issued.
            fleet.answer(depinkit_oracle::store::now_ms(), challenges)
        }
        Category::Storage => {
            let seed = storage_seed(&client).await?;
            fleet.answer_storage(depinkit_oracle::store::now_ms(), &seed)
        }
        _ => fleet.round(now, None),
    };
    let reports: Vec<_> = made.into_iter().map(|(_, r)| r).collect();
    let verdicts = client
        .send_all(&reports, 500)
        .await
        .map_err(|e| DemoError::Oracle(e.to_string()))?;
    for verdict in verdicts {
        if let Verdict::Rejected { reason } = verdict {
            *tally.rejected.entry(reason.code().to_string()).or_default() += 1;
        }
    }
    Ok(())
}

/// The running epoch's storage seed, once the oracle has issued it (early in
/// the epoch).
async fn storage_seed(
    client: &OracleClient,
) -> Result<depinkit_reports::storage::StorageSeed, DemoError> {
    let asked = std::time::Instant::now();
    loop {
        match client.storage_seed().await {
            Ok(seed) => return Ok(seed),
            Err(e) if asked.elapsed() > Duration::from_secs(30) => {
                return Err(DemoError::Oracle(format!("no storage seed: {e}")));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Waits until the chain's clock reads `at` (unix seconds).
async fn wait_for_chain_time(chain: &DemoChain, at: i64) -> Result<(), DemoError> {
    loop {
        let now = chain.now().await?;
        if now >= at {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(
            ((at - now) * 1000).clamp(100, 1000) as u64
        ))
        .await;
    }
}

/// Waits until one of `oracles` reports `epoch` finalized (the chain took
/// its root); that oracle's URL.
/// The map customer buys the cells around the mapping fleet from its
/// oracle, once the oracle has scored epoch 0.
async fn buy_map(
    networks: &[DemoNetwork],
    running: &[Vec<oracles::RunningOracle>],
    customer: &mut Option<customers::Customer>,
    progress: &ProgressBar,
) -> Result<(), DemoError> {
    let Some(customer) = customer else {
        return Ok(());
    };
    let Some(n) = networks
        .iter()
        .position(|n| n.category == Category::Mapping)
    else {
        return Ok(());
    };
    progress.set_message("the map customer buys the verified map");
    let url = &running[n][0].url;
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    // Epoch 0 scored: its cells are on the map.
    loop {
        let state = match http.get(format!("{url}/v1/epochs/0")).send().await {
            Ok(response) => response.json::<Value>().await.ok(),
            Err(_) => None,
        };
        let scored = state
            .as_ref()
            .is_some_and(|s| s["rewards_paid"].as_u64().is_some());
        if scored || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let center = networks[n]
        .devices
        .first()
        .map_or((0.0, 0.0), |d| (d.place.lat(), d.place.lon()));
    customer.buy_around(url, center, 0.05).await?;
    Ok(())
}

async fn wait_finalized(
    oracles: &[oracles::RunningOracle],
    epoch: u32,
    epoch_secs: i64,
) -> Result<String, DemoError> {
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(epoch_secs as u64 + 120);
    let mut last = Value::Null;
    loop {
        for oracle in oracles {
            if let Ok(response) = http
                .get(format!("{}/v1/epochs/{epoch}", oracle.url))
                .send()
                .await
                && let Ok(summary) = response.json::<Value>().await
            {
                if summary["state"] == "finalized" {
                    return Ok(oracle.url.clone());
                }
                last = summary;
            }
        }
        if std::time::Instant::now() > deadline {
            return Err(DemoError::Oracle(format!(
                "epoch {epoch} was not finalized in time; an oracle says {last}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until the crank has claimed everything the last root pays; the pool.
async fn wait_claimed(chain: &DemoChain, network: &DemoNetwork) -> Result<Pool, DemoError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let pool: Pool = accounts::fetch(&chain.rpc, &network.pool.pool)
            .await
            .map_err(|e| DemoError::Chain(e.to_string()))?;
        if pool.total_claimed == pool.root_total || std::time::Instant::now() > deadline {
            return Ok(pool);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What the oracle at `url` counted and refused by rule over `epochs`, from
/// each device's report list: (counted, refusals by rule).
async fn refusals(
    url: &str,
    network: &DemoNetwork,
    epochs: u32,
) -> Result<(u64, BTreeMap<String, u64>), DemoError> {
    let http = reqwest::Client::new();
    let mut counted = 0;
    let mut refused = BTreeMap::new();
    for device in &network.devices {
        for epoch in 0..epochs {
            let listing: Value = http
                .get(format!(
                    "{url}/v1/devices/{}/reports?epoch={epoch}",
                    device.mint
                ))
                .send()
                .await
                .map_err(|e| DemoError::Oracle(e.to_string()))?
                .json()
                .await
                .map_err(|e| DemoError::Oracle(e.to_string()))?;
            for report in listing["reports"].as_array().into_iter().flatten() {
                match report["rule"].as_str() {
                    Some(rule) => *refused.entry(rule.to_string()).or_default() += 1,
                    None => counted += 1,
                }
            }
        }
    }
    Ok((counted, refused))
}
