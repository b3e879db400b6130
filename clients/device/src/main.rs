//! `depin-device`: device keys for a fleet, and the fleet playing its
//! devices against an oracle.
//!
//! ```sh
//! depin-device keygen --count 50 --dir fleet --lat 48.8566 --lon 2.3522
//! depin device onboard --network demo --issuing-key maker.json --csv fleet/fleet.csv
//! depin-device run --oracle http://127.0.0.1:8780 --network ADDRESS \
//!   --fleet fleet/fleet.csv --category mapping --rounds 3 --cheat 4=teleport
//! depin-device deal-spec --file photo.jpg --leaf-size 1024
//! depin-device storage-node --keypair device.json --network ADDRESS \
//!   --data /srv/depin --bind 0.0.0.0:8790 --oracle http://oracle:8780
//! depin-device compute-node --keypair gpu.json --network ADDRESS \
//!   --gpu-class a100 --data /srv/jobs --bind 0.0.0.0:8791 --oracle http://oracle:8780
//! ```

use clap::{Parser, Subcommand};
use depinkit_device::{
    Category, Cheat, DeviceKey, Fleet, OracleClient, Position, layout, storage::StoredDeal,
};
use depinkit_reports::{Key, Verdict};
use std::{collections::BTreeMap, path::PathBuf, str::FromStr, time::Duration};

/// The device side of depinkit: keys for a fleet, and the fleet at work.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Make device keys and the fleet file that places them
    /// (`keypair,lat,lon`: the bulk-onboarding CSV of `depin device onboard --csv`).
    Keygen {
        /// How many devices.
        #[arg(long)]
        count: usize,
        /// Directory for the key files and fleet.csv (created if missing).
        #[arg(long)]
        dir: PathBuf,
        /// The fleet's center, degrees.
        #[arg(long, default_value_t = 48.8566, allow_hyphen_values = true)]
        lat: f64,
        /// The fleet's center, degrees.
        #[arg(long, default_value_t = 2.3522, allow_hyphen_values = true)]
        lon: f64,
        /// Distance between neighbours on the fleet's grid, metres.
        #[arg(long, default_value_t = 1_000.0)]
        spacing_m: f64,
        /// Place the last N devices a few metres from the first (hotspots
        /// that cannot witness each other honestly).
        #[arg(long, default_value_t = 0)]
        colocated: usize,
    },
    /// Play the fleet against an oracle: each round, every device's reports,
    /// sent in binary batches; prints what the oracle answered.
    Run {
        /// The oracle's API.
        #[arg(long, default_value = "http://127.0.0.1:8780")]
        oracle: String,
        /// The network's address.
        #[arg(long)]
        network: String,
        /// The fleet file written by `keygen`.
        #[arg(long)]
        fleet: PathBuf,
        /// mapping (dashcams), wireless (hotspots), compute (GPU nodes
        /// answering the oracle's challenges) or storage (providers
        /// answering each epoch's challenges for the deals of `--deals`).
        #[arg(long)]
        category: String,
        /// Storage: the deals each device holds, a CSV
        /// `device,order,file,leaf_size` (the device's row in the fleet file,
        /// the order its device accepted, the file of the deal's bytes).
        #[arg(long)]
        deals: Option<PathBuf>,
        /// Rounds to play.
        #[arg(long, default_value_t = 1)]
        rounds: u32,
        /// Seconds between rounds.
        #[arg(long, default_value_t = 60)]
        every_secs: u64,
        /// A device's cheat: `INDEX=teleport|duplicate-frames|replay|rssi-too-strong|wrong-product|wrong-chunk|skip-challenge`
        /// (the index is the device's row in the fleet file, from 0).
        #[arg(long = "cheat", value_name = "INDEX=CHEAT")]
        cheats: Vec<String>,
        /// Reports per batch.
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// Seed of the fleet's routes and radio conditions.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// What a storage deal over FILE commits to: its merkle root, size and
    /// leaf size, and the spec hash to open its order with
    /// (`depin order open --spec-hash`), as JSON.
    DealSpec {
        /// The file to store.
        #[arg(long)]
        file: PathBuf,
        /// Bytes per leaf: a power of two from 32 to 1024.
        #[arg(long, default_value_t = 1024)]
        leaf_size: u32,
    },
    /// Run a storage node for an onboarded storage device: take shard
    /// uploads for orders naming the device (accepting them on chain), serve
    /// them, announce the node to the oracle, and answer each epoch's
    /// challenges.
    #[cfg(feature = "node")]
    StorageNode(NodeArgs),
    /// Run a compute node for an onboarded GPU device: take jobs for orders
    /// naming the device or any (accepting them on chain), run them one at
    /// a time, hand back each result with a receipt for the customer to
    /// co-sign, answer the oracle's compute challenges, and announce the
    /// node to the oracle.
    #[cfg(feature = "node")]
    ComputeNode(ComputeNodeArgs),
}

/// What every provider node needs: its device, the holder that accepts
/// orders, the network and the chain.
#[cfg(feature = "node")]
#[derive(clap::Args, Debug)]
struct ChainArgs {
    /// The device's keypair file.
    #[arg(long)]
    keypair: PathBuf,
    /// The keypair of the wallet holding the device's NFT, which accepts
    /// orders (default: the device's keypair).
    #[arg(long)]
    holder_keypair: Option<PathBuf>,
    /// The network's address.
    #[arg(long)]
    network: String,
    /// The cluster's JSON-RPC.
    #[arg(long, default_value = "http://127.0.0.1:8899")]
    rpc_url: String,
    /// The network oracle's API.
    #[arg(long, default_value = "http://127.0.0.1:8780")]
    oracle: String,
}

/// `depin-device compute-node` options.
#[cfg(feature = "node")]
#[derive(clap::Args, Debug)]
struct ComputeNodeArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// The GPU class the device declares (`a100`, `h100`, `l4`, `rtx4090`).
    #[arg(long)]
    gpu_class: String,
    /// Directory for jobs and their results (created if missing).
    #[arg(long)]
    data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8791")]
    bind: std::net::SocketAddr,
    /// The URL customers reach this node at (default: http://BIND).
    #[arg(long, default_value = "")]
    endpoint: String,
    /// Largest job taken, in multiply-adds (products x size^3).
    #[arg(long, default_value_t = 1 << 36)]
    max_work: u64,
    /// Jobs queued or running at most; more are refused (503 busy).
    #[arg(long, default_value_t = 16)]
    max_backlog: usize,
    /// Least escrow per million multiply-adds, in base units of the
    /// payment mint (0: any price).
    #[arg(long, default_value_t = 0)]
    price_per_million_ops: u64,
    /// The mint orders must pay in [default: the network's reward mint].
    #[arg(long)]
    payment_mint: Option<String>,
    /// Seconds between two announcements to the oracle.
    #[arg(long, default_value_t = 300)]
    announce_secs: u64,
    /// Seconds between two compute challenges asked of the oracle (0: the
    /// node answers none, another agent does).
    #[arg(long, default_value_t = 300)]
    challenge_secs: u64,
    /// Seconds between two reads of the network's orders.
    #[arg(long, default_value_t = 30)]
    watch_secs: u64,
    /// Play a dishonest node: `wrong-result` (one entry of each result off
    /// by one), to try a customer's check.
    #[arg(long, value_name = "CHEAT")]
    cheat: Option<String>,
}

/// `depin-device storage-node` options.
#[cfg(feature = "node")]
#[derive(clap::Args, Debug)]
struct NodeArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// Directory for the shards (created if missing).
    #[arg(long)]
    data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8790")]
    bind: std::net::SocketAddr,
    /// The URL customers reach this node at (default: http://BIND).
    #[arg(long, default_value = "")]
    endpoint: String,
    /// Bytes of shards to keep at most.
    #[arg(long, default_value_t = 10 << 30)]
    capacity: u64,
    /// Largest shard taken in one upload, bytes.
    #[arg(long, default_value_t = 1 << 30)]
    max_shard_bytes: usize,
    /// Seconds between two announcements to the oracle.
    #[arg(long, default_value_t = 300)]
    announce_secs: u64,
    /// Seconds between two looks for the running epoch's storage seed.
    #[arg(long, default_value_t = 10)]
    seed_secs: u64,
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    match Cli::parse().command {
        Command::Keygen {
            count,
            dir,
            lat,
            lon,
            spacing_m,
            colocated,
        } => keygen(
            count,
            &dir,
            Position::degrees(lat, lon),
            spacing_m,
            colocated,
        ),
        #[cfg(feature = "node")]
        Command::StorageNode(args) => storage_node(args).await,
        #[cfg(feature = "node")]
        Command::ComputeNode(args) => compute_node(args).await,
        Command::DealSpec { file, leaf_size } => {
            let deal = read_deal(&file, leaf_size).unwrap_or_else(|e| fail(e));
            let spec = deal.spec();
            println!(
                "{}",
                serde_json::json!({
                    "root": spec.root.to_string(),
                    "size": spec.size,
                    "leaf_size": spec.leaf_size,
                    "spec_hash": spec.hash().to_string(),
                })
            );
        }
        Command::Run {
            oracle,
            network,
            fleet,
            category,
            rounds,
            every_secs,
            cheats,
            batch,
            seed,
            deals,
        } => {
            let network = Key::from_str(&network)
                .unwrap_or_else(|_| fail(format!("--network {network:?} is not an address")));
            let category = Category::from_str(&category).unwrap_or_else(|e| fail(e));
            let devices = read_fleet(&fleet).unwrap_or_else(|e| fail(e));
            let mut fleet = Fleet::new(network, category, devices, seed);
            match (&deals, category) {
                (Some(path), Category::Storage) => {
                    for (index, order, deal) in read_deals(path).unwrap_or_else(|e| fail(e)) {
                        fleet.hold(index, order, deal).unwrap_or_else(|e| fail(e));
                    }
                }
                (None, Category::Storage) => fail("a storage fleet needs --deals"),
                (Some(_), _) => fail("--deals is for a storage fleet"),
                (None, _) => {}
            }
            for cheat in &cheats {
                let (index, kind) = cheat
                    .split_once('=')
                    .unwrap_or_else(|| fail(format!("--cheat {cheat:?} is not INDEX=CHEAT")));
                let index: usize = index
                    .parse()
                    .unwrap_or_else(|_| fail(format!("--cheat {cheat:?}: {index:?} is no index")));
                let kind = Cheat::from_str(kind).unwrap_or_else(|e| fail(e));
                fleet.set_cheat(index, kind).unwrap_or_else(|e| fail(e));
            }
            let client = OracleClient::new(&oracle);
            for round in 1..=rounds {
                if round > 1 {
                    tokio::time::sleep(Duration::from_secs(every_secs)).await;
                }
                play(&client, &mut fleet, category, round, batch).await;
            }
        }
    }
}

fn keygen(count: usize, dir: &std::path::Path, center: Position, spacing_m: f64, colocated: usize) {
    if count == 0 {
        fail("--count must be at least 1");
    }
    std::fs::create_dir_all(dir)
        .unwrap_or_else(|e| fail(format!("cannot create {}: {e}", dir.display())));
    let csv_path = dir.join("fleet.csv");
    if csv_path.exists() {
        fail(format!(
            "{} exists: a fleet's keys are never overwritten (choose another --dir)",
            csv_path.display()
        ));
    }
    let mut csv = String::from("keypair,lat,lon\n");
    for (i, position) in layout(count, center, spacing_m, colocated)
        .into_iter()
        .enumerate()
    {
        let path = dir.join(format!("device-{i:04}.json"));
        DeviceKey::generate()
            .write(&path)
            .unwrap_or_else(|e| fail(e));
        csv.push_str(&format!(
            "{},{:.7},{:.7}\n",
            path.display(),
            position.lat(),
            position.lon()
        ));
    }
    std::fs::write(&csv_path, csv)
        .unwrap_or_else(|e| fail(format!("cannot write {}: {e}", csv_path.display())));
    println!(
        "{count} device keys in {}; onboard them with\n  depin device onboard --issuing-key MAKER.json --csv {}",
        dir.display(),
        csv_path.display()
    );
}

/// The devices of a fleet file: each key file read, each place parsed.
fn read_fleet(path: &std::path::Path) -> Result<Vec<(DeviceKey, Position)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("keypair,lat,lon") {
        return Err(format!(
            "{}: the header must be keypair,lat,lon (a file of `depin-device keygen`)",
            path.display()
        ));
    }
    lines
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let at = || format!("{} line {}", path.display(), i + 2);
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [keypair, lat, lon] = fields[..] else {
                return Err(format!("{}: expected keypair,lat,lon", at()));
            };
            let key = DeviceKey::read(std::path::Path::new(keypair))
                .map_err(|e| format!("{}: {e}", at()))?;
            let degrees = |v: &str| {
                v.parse::<f64>()
                    .map_err(|_| format!("{}: {v:?} is not a number", at()))
            };
            Ok((key, Position::degrees(degrees(lat)?, degrees(lon)?)))
        })
        .collect()
}

/// The bytes of `file` as a deal with `leaf_size` leaves.
fn read_deal(file: &std::path::Path, leaf_size: u32) -> Result<StoredDeal, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    StoredDeal::new(bytes, leaf_size).map_err(|e| format!("{}: {e}", file.display()))
}

/// The deals of a `--deals` file: (device index, order, its bytes).
fn read_deals(path: &std::path::Path) -> Result<Vec<(usize, Key, StoredDeal)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("device,order,file,leaf_size") {
        return Err(format!(
            "{}: the header must be device,order,file,leaf_size",
            path.display()
        ));
    }
    lines
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let at = || format!("{} line {}", path.display(), i + 2);
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [device, order, file, leaf_size] = fields[..] else {
                return Err(format!("{}: expected device,order,file,leaf_size", at()));
            };
            let device = device
                .parse()
                .map_err(|_| format!("{}: {device:?} is no device index", at()))?;
            let order = Key::from_str(order)
                .map_err(|_| format!("{}: {order:?} is not an address", at()))?;
            let leaf_size = leaf_size
                .parse()
                .map_err(|_| format!("{}: {leaf_size:?} is no leaf size", at()))?;
            let deal = read_deal(std::path::Path::new(file), leaf_size)
                .map_err(|e| format!("{}: {e}", at()))?;
            Ok((device, order, deal))
        })
        .collect()
}

/// One round: make, send, summarize.
async fn play(
    client: &OracleClient,
    fleet: &mut Fleet,
    category: Category,
    round: u32,
    batch: usize,
) {
    let entropy = match category {
        Category::Wireless => Some(client.entropy().await.unwrap_or_else(|e| fail(e))),
        _ => None,
    };
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    };
    let made = if category == Category::Compute {
        // Each GPU node asks for a challenge and answers it at once; a
        // device the oracle refuses one (too soon, unknown) sits the round out.
        let mut challenges = Vec::new();
        for index in 0..fleet.len() {
            let class = fleet.gpu_class(index).unwrap_or_default().to_string();
            match client
                .compute_challenge(&fleet.key(index).public(), &class)
                .await
            {
                Ok(challenge) => challenges.push((index, challenge)),
                Err(e) => eprintln!("device {index}: no challenge: {e}"),
            }
        }
        fleet.answer(now_ms(), challenges)
    } else if category == Category::Storage {
        let seed = client.storage_seed().await.unwrap_or_else(|e| fail(e));
        fleet.answer_storage(now_ms(), &seed)
    } else {
        fleet.round(now_ms(), entropy)
    };
    let reports: Vec<_> = made.iter().map(|(_, r)| r.clone()).collect();
    let verdicts = client
        .send_all(&reports, batch)
        .await
        .unwrap_or_else(|e| fail(e));
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut accepted = 0;
    for verdict in &verdicts {
        match verdict {
            Verdict::Accepted { .. } => accepted += 1,
            Verdict::Rejected { reason } => {
                *refused.entry(reason.code().to_string()).or_default() += 1;
            }
        }
    }
    let refused: Vec<String> = refused.iter().map(|(r, n)| format!("{r} {n}")).collect();
    println!(
        "round {round}: {} reports from {} devices, {accepted} accepted{}",
        reports.len(),
        fleet.len(),
        if refused.is_empty() {
            String::new()
        } else {
            format!(", refused: {}", refused.join(", "))
        }
    );
}

/// The device's key and its view of the chain, from a node's options.
#[cfg(feature = "node")]
fn node_chain(args: &ChainArgs) -> (DeviceKey, depinkit_device::node::orders::NodeChain) {
    use solana_sdk::signature::read_keypair_file;
    let key = DeviceKey::read(&args.keypair)
        .unwrap_or_else(|e| fail(format!("{}: {e}", args.keypair.display())));
    let holder_path = args.holder_keypair.as_ref().unwrap_or(&args.keypair);
    let holder = read_keypair_file(holder_path)
        .unwrap_or_else(|e| fail(format!("{}: {e}", holder_path.display())));
    let network: solana_sdk::pubkey::Pubkey = args
        .network
        .parse()
        .unwrap_or_else(|_| fail(format!("--network {}: not an address", args.network)));
    let rpc = std::sync::Arc::new(
        solana_rpc_client::nonblocking::rpc_client::RpcClient::new_with_commitment(
            args.rpc_url.clone(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        ),
    );
    let device_key = solana_sdk::pubkey::Pubkey::new_from_array(key.public().0);
    let chain = depinkit_device::node::orders::NodeChain::new(rpc, network, &device_key, holder);
    (key, chain)
}

/// Completes on Ctrl-C or SIGTERM.
#[cfg(feature = "node")]
async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Runs the storage node until Ctrl-C or SIGTERM.
#[cfg(feature = "node")]
async fn storage_node(args: NodeArgs) {
    use depinkit_device::node::{NodeConfig, run};
    let (key, chain) = node_chain(&args.chain);
    eprintln!(
        "storage-node: device {} (holder {}) on {}, listening on {}",
        key.address(),
        chain.holder_key(),
        chain.network,
        args.bind
    );
    let config = NodeConfig {
        chain,
        key,
        oracle: args.chain.oracle,
        data: args.data,
        capacity: args.capacity,
        bind: args.bind,
        endpoint: args.endpoint,
        max_shard_bytes: args.max_shard_bytes,
        announce_every: Duration::from_secs(args.announce_secs.max(1)),
        seed_every: Duration::from_secs(args.seed_secs.max(1)),
    };
    if let Err(e) = run(config, stopped()).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Runs the compute node until Ctrl-C or SIGTERM.
#[cfg(feature = "node")]
async fn compute_node(args: ComputeNodeArgs) {
    use depinkit_device::compute_node::{ComputeConfig, JobAnswering, run};
    let answering = match args.cheat.as_deref() {
        None => JobAnswering::Honest,
        Some("wrong-result") => JobAnswering::WrongResult,
        Some(other) => fail(format!("--cheat {other:?}: the cheat is wrong-result")),
    };
    if args.gpu_class.is_empty() || args.gpu_class.len() > depinkit_reports::MAX_GPU_CLASS {
        fail(format!(
            "--gpu-class must be 1 to {} bytes",
            depinkit_reports::MAX_GPU_CLASS
        ));
    }
    let (key, chain) = node_chain(&args.chain);
    eprintln!(
        "compute-node: device {} ({}, holder {}) on {}, listening on {}",
        key.address(),
        args.gpu_class,
        chain.holder_key(),
        chain.network,
        args.bind
    );
    let config = ComputeConfig {
        key,
        gpu_class: args.gpu_class,
        chain,
        oracle: args.chain.oracle,
        data: args.data,
        bind: args.bind,
        endpoint: args.endpoint,
        max_work: args.max_work,
        max_backlog: args.max_backlog.max(1),
        price_per_million_ops: args.price_per_million_ops,
        payment_mint: args.payment_mint.as_deref().map(|mint| {
            mint.parse()
                .unwrap_or_else(|_| fail(format!("--payment-mint {mint}: not an address")))
        }),
        announce_every: Duration::from_secs(args.announce_secs.max(1)),
        challenge_every: (args.challenge_secs > 0)
            .then(|| Duration::from_secs(args.challenge_secs)),
        watch_every: Duration::from_secs(args.watch_secs.max(1)),
        answering,
    };
    if let Err(e) = run(config, stopped()).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
