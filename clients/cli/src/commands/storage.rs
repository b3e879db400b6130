//! `depin storage put|status|get`: a file stored across the network's storage
//! providers, one shard per provider through an order of its own, and got
//! back from any k of the shards. The sealing, manifest and node protocol
//! are `depinkit-storage`'s; this command adds the wallet, the orders and
//! the files.

use crate::{context::Context, error::CliError};
use clap::Subcommand;
use depinkit_reports::Key;
use depinkit_sdk::{
    device_registry::pda,
    payments::{self, OrderKeys},
};
use depinkit_storage::{Layout, Manifest, nodes, open, seal};
use indicatif::{ProgressBar, ProgressStyle};
use rand_core::RngCore;
use service_payments::{instructions::OpenOrderArgs, state::Provider};
use solana_sdk::{pubkey::Pubkey, signature::Signer};
use std::path::{Path, PathBuf};

/// Storage commands.
#[derive(Subcommand, Debug)]
pub enum StorageCommand {
    /// Encrypt FILE, cut it into data and parity shards, place each shard
    /// with its own provider (listed by the oracle) through an order of its
    /// own, and write the manifest only your wallet opens.
    Put {
        /// The file to store.
        file: PathBuf,
        /// The network oracle's API (it lists the providers).
        #[arg(long)]
        oracle: String,
        /// Where to write the manifest [default: FILE.manifest.json].
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Shards that rebuild the file (k).
        #[arg(long, default_value_t = depinkit_storage::seal::DEFAULT_DATA_SHARDS)]
        data_shards: usize,
        /// Shards that may be lost (m).
        #[arg(long, default_value_t = depinkit_storage::seal::DEFAULT_PARITY_SHARDS)]
        parity_shards: usize,
        /// Escrow of each shard's order, whole tokens of the reward mint.
        #[arg(long, default_value = "1")]
        escrow: String,
        /// Seconds the providers serve the shards.
        #[arg(long, default_value_t = 30 * 86_400)]
        serve_within: i64,
    },
    /// Where each shard of MANIFEST stands: its provider's node, its order
    /// on chain (status, escrow left), and the oracle's strikes.
    Status {
        /// The manifest `put` wrote.
        manifest: PathBuf,
        /// The network oracle's API (strikes and faults).
        #[arg(long)]
        oracle: String,
    },
    /// Get the file of MANIFEST back from any k of its shards.
    Get {
        /// The manifest `put` wrote.
        manifest: PathBuf,
        /// Where to write the file.
        #[arg(short, long)]
        out: PathBuf,
    },
}

/// Runs a storage command.
pub async fn run(ctx: &Context, command: StorageCommand) -> Result<(), CliError> {
    match command {
        StorageCommand::Put {
            file,
            oracle,
            manifest,
            data_shards,
            parity_shards,
            escrow,
            serve_within,
        } => {
            let layout = Layout {
                data_shards,
                parity_shards,
                ..Layout::default()
            };
            let manifest_path = manifest.unwrap_or_else(|| {
                let mut name = file.as_os_str().to_owned();
                name.push(".manifest.json");
                PathBuf::from(name)
            });
            put(
                ctx,
                &file,
                &oracle,
                &manifest_path,
                layout,
                &escrow,
                serve_within,
            )
            .await
        }
        StorageCommand::Get { manifest, out } => get(ctx, &manifest, &out).await,
        StorageCommand::Status { manifest, oracle } => status(ctx, &manifest, &oracle).await,
    }
}

async fn put(
    ctx: &Context,
    file: &Path,
    oracle: &str,
    manifest_path: &Path,
    layout: Layout,
    escrow: &str,
    serve_within: i64,
) -> Result<(), CliError> {
    let owner = ctx.keypair()?;
    let (network, record) = ctx.network_account().await?;
    let mint = ctx.mint(&record.reward_mint).await?;
    let escrow = ctx.amount(escrow, &mint, "--escrow")?;
    let bytes = std::fs::read(file)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    let began = std::time::Instant::now();
    let (sealed, shards, sealing) =
        seal(&bytes, layout).map_err(|e| CliError::Input(e.to_string()))?;
    let sealed_in = began.elapsed();
    let shard_bytes = shards[0].len() as u64;
    let http = reqwest::Client::new();
    let listed = nodes::providers(&http, oracle, Key(network.to_bytes()))
        .await
        .map_err(|e| CliError::Rpc(e.to_string()))?;
    let Some(picked) = nodes::pick(&listed, layout.shards(), shard_bytes) else {
        return Err(CliError::Input(format!(
            "{} providers have room for a shard of {shard_bytes} bytes; {} are needed \
             (one per shard)",
            listed
                .iter()
                .filter(|l| l.free_bytes >= shard_bytes)
                .count(),
            layout.shards()
        )));
    };
    let held = ctx
        .token_balance(&depinkit_sdk::ata(
            &owner.pubkey(),
            &mint.address,
            &mint.token_program,
        ))
        .await?;
    let total = escrow.saturating_mul(layout.shards() as u64);
    if held < total {
        return Err(CliError::Input(format!(
            "{} holds {} of {}, less than the {} the {} orders escrow",
            owner.pubkey(),
            mint.ui(held),
            mint.address,
            mint.ui(total),
            layout.shards()
        )));
    }
    let seed: [u8; 32] = owner.to_bytes()[..32].try_into().expect("32 bytes");
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut manifest = Manifest::new(&name, Key(owner.pubkey().to_bytes()), &seed, &sealed);
    let progress = if !ctx.output.is_display() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(layout.shards() as u64)
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} shards placed {msg}")
            .expect("a valid template"),
    );
    // Every shard's order, opened at once (independent transactions).
    let now = ctx.chain_time().await?;
    let orders: Vec<(OrderKeys, OpenOrderArgs)> = picked
        .iter()
        .enumerate()
        .map(|(index, provider)| {
            let id = rand_core::OsRng.next_u64();
            let keys = OrderKeys::new(
                &network,
                &owner.pubkey(),
                id,
                &mint.address,
                &mint.token_program,
            );
            let device_key = Pubkey::new_from_array(provider.device.0);
            let args = OpenOrderArgs {
                order_id: id,
                provider: Provider::Device(pda::find_device_address(&network, &device_key).0),
                max_amount: escrow,
                accept_deadline: now.saturating_add(3_600),
                service_deadline: now.saturating_add(serve_within),
                spec_hash: manifest.shards[index].spec.hash().0,
            };
            (keys, args)
        })
        .collect();
    progress.set_message("(opening the orders)");
    let began = std::time::Instant::now();
    let instructions: Vec<[solana_sdk::instruction::Instruction; 1]> = orders
        .iter()
        .map(|(keys, args)| [payments::open_order(keys, args.clone())])
        .collect();
    let opened = futures_util::future::join_all(
        instructions
            .iter()
            .map(|instruction| ctx.send(instruction, &owner, &[])),
    )
    .await;
    let ordering = began.elapsed();
    if let Some((index, Err(e))) = opened
        .into_iter()
        .enumerate()
        .find(|(_, sent)| sent.is_err())
    {
        return Err(CliError::Transaction(format!(
            "shard {index}'s order: {e} (orders that opened stay open: `depin order cancel` \
             after their accept deadline refunds them)"
        )));
    }
    // Every shard to its node at once; each node accepts its order.
    progress.set_message("(uploading)");
    let began = std::time::Instant::now();
    let uploaded =
        futures_util::future::join_all(shards.into_iter().zip(&picked).zip(&orders).map(
            |((shard, provider), (keys, _))| {
                let http = &http;
                let progress = &progress;
                async move {
                    let order = Key(keys.order.to_bytes());
                    let done =
                        nodes::upload(http, &provider.endpoint, &order, shard, layout.leaf_size)
                            .await;
                    progress.inc(1);
                    done
                }
            },
        ))
        .await;
    let uploading = began.elapsed();
    for (index, (done, (provider, (keys, _)))) in uploaded
        .into_iter()
        .zip(picked.iter().zip(&orders))
        .enumerate()
    {
        if let Err(e) = done {
            return Err(CliError::Rpc(format!(
                "shard {index}: {e} (its order {} stays open: `depin order cancel` after its \
                 accept deadline refunds it)",
                keys.order
            )));
        }
        let placement = &mut manifest.shards[index];
        placement.provider = Some(provider.device);
        placement.endpoint = Some(provider.endpoint.clone());
        placement.order = Some(Key(keys.order.to_bytes()));
    }
    progress.finish_and_clear();
    write_private(manifest_path, &manifest.to_json())?;
    ctx.output.print(
        &serde_json::json!({
            "manifest": manifest_path.display().to_string(),
            "file_sha256": manifest.file_hash.to_string(),
            "bytes": manifest.file_size,
            "seconds": {
                "seal": sealed_in.as_secs_f64(),
                "encrypt": sealing.aead.as_secs_f64(),
                "erasure_code": sealing.coding.as_secs_f64(),
                "hash": sealing.hashing.as_secs_f64(),
                "open_orders": ordering.as_secs_f64(),
                "upload": uploading.as_secs_f64(),
            },
            "shards": manifest.shards.iter().map(|s| serde_json::json!({
                "index": s.index,
                "provider": s.provider.map(|k| k.to_string()),
                "endpoint": s.endpoint,
                "order": s.order.map(|k| k.to_string()),
            })).collect::<Vec<_>>(),
        }),
        || {
            format!(
                "{} ({} bytes) stored as {} shards, any {} of which give it back\nManifest: {}",
                name,
                manifest.file_size,
                layout.shards(),
                layout.data_shards,
                manifest_path.display()
            )
        },
    );
    Ok(())
}

/// Writes `bytes` to `path`, readable by its owner only (the manifest
/// names every shard; its key opens nothing without the wallet, but the
/// layout of a person's files is theirs).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))
}

async fn get(ctx: &Context, manifest_path: &Path, out: &Path) -> Result<(), CliError> {
    let owner = ctx.keypair()?;
    let manifest = read_manifest(manifest_path)?;
    let seed: [u8; 32] = owner.to_bytes()[..32].try_into().expect("32 bytes");
    let sealed = manifest
        .unseal(&seed)
        .map_err(|e| CliError::Input(e.to_string()))?;
    let http = reqwest::Client::new();
    let began = std::time::Instant::now();
    let fetched = futures_util::future::join_all(manifest.shards.iter().map(|s| {
        let http = &http;
        async move {
            let (Some(endpoint), Some(order)) = (&s.endpoint, &s.order) else {
                return None;
            };
            match nodes::download(http, endpoint, order).await {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    eprintln!("shard {}: {e}", s.index);
                    None
                }
            }
        }
    }))
    .await;
    let reached = fetched.iter().filter(|s| s.is_some()).count();
    let downloaded = began.elapsed();
    let began = std::time::Instant::now();
    let opened = open(&sealed, &fetched);
    let opened_in = began.elapsed();
    let (bytes, opening) = opened.map_err(|e| {
        CliError::Rpc(format!(
            "{e} ({reached} of {} shards reached)",
            manifest.shards.len()
        ))
    })?;
    std::fs::write(out, &bytes)
        .map_err(|e| CliError::Input(format!("cannot write {}: {e}", out.display())))?;
    ctx.output.print(
        &serde_json::json!({
            "file": out.display().to_string(),
            "bytes": bytes.len(),
            "file_sha256": manifest.file_hash.to_string(),
            "shards_reached": reached,
            "seconds": {
                "download": downloaded.as_secs_f64(),
                "open": opened_in.as_secs_f64(),
                "check": opening.hashing.as_secs_f64(),
                "erasure_decode": opening.coding.as_secs_f64(),
                "decrypt": opening.aead.as_secs_f64(),
            },
        }),
        || {
            format!(
                "{} ({} bytes, SHA-256 {}) from {reached} of {} shards",
                out.display(),
                bytes.len(),
                manifest.file_hash,
                manifest.shards.len()
            )
        },
    );
    Ok(())
}

/// Reads and parses a manifest.
fn read_manifest(path: &Path) -> Result<Manifest, CliError> {
    let text = std::fs::read(path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    Manifest::from_json(&text).map_err(|e| CliError::Input(format!("{}: {e}", path.display())))
}

/// One shard's standing.
#[derive(serde::Serialize)]
struct ShardStatus {
    index: usize,
    provider: Option<String>,
    endpoint: Option<String>,
    /// The node answers its health check.
    node_up: bool,
    order: Option<String>,
    /// `open`, `accepted`, or `closed` (the order account is gone).
    order_status: String,
    /// Escrow not yet settled, base units.
    escrow_left: u64,
    strikes: Option<i64>,
    faulted: Option<bool>,
}

async fn status(ctx: &Context, manifest_path: &Path, oracle: &str) -> Result<(), CliError> {
    let manifest = read_manifest(manifest_path)?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("an HTTP client");
    let mut shards = Vec::with_capacity(manifest.shards.len());
    for shard in &manifest.shards {
        let node_up = match &shard.endpoint {
            Some(endpoint) => http
                .get(format!("{}/health", endpoint.trim_end_matches('/')))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success()),
            None => false,
        };
        let (order_status, escrow_left) = match &shard.order {
            Some(order) => {
                let address = Pubkey::new_from_array(order.0);
                match depinkit_sdk::accounts::fetch_optional::<service_payments::state::Order>(
                    &ctx.rpc, &address,
                )
                .await
                .map_err(|e| ctx.rpc_error(e))?
                {
                    Some(o) => (
                        format!("{:?}", o.status).to_lowercase(),
                        o.max_amount.saturating_sub(o.settled),
                    ),
                    None => ("closed".to_string(), 0),
                }
            }
            None => ("none".to_string(), 0),
        };
        let standing: Option<serde_json::Value> = match &shard.order {
            Some(order) => match http
                .get(format!("{}/v1/deals/{order}", oracle.trim_end_matches('/')))
                .send()
                .await
            {
                Ok(response) if response.status().is_success() => response.json().await.ok(),
                _ => None,
            },
            None => None,
        };
        shards.push(ShardStatus {
            index: shard.index,
            provider: shard.provider.map(|k| k.to_string()),
            endpoint: shard.endpoint.clone(),
            node_up,
            order: shard.order.map(|k| k.to_string()),
            order_status,
            escrow_left,
            strikes: standing.as_ref().and_then(|s| s["strikes"].as_i64()),
            faulted: standing.as_ref().and_then(|s| s["faulted"].as_bool()),
        });
    }
    let healthy = shards
        .iter()
        .filter(|s| s.node_up && s.order_status == "accepted" && s.faulted != Some(true))
        .count();
    let k = manifest.layout.data_shards;
    ctx.output.print(
        &serde_json::json!({
            "file": manifest.name,
            "file_sha256": manifest.file_hash.to_string(),
            "data_shards": k,
            "healthy_shards": healthy,
            "shards": shards,
        }),
        || {
            let rows: Vec<Vec<String>> = shards
                .iter()
                .map(|s| {
                    vec![
                        s.index.to_string(),
                        s.provider.clone().unwrap_or_else(|| "-".into()),
                        if s.node_up { "up" } else { "down" }.into(),
                        s.order_status.clone(),
                        s.escrow_left.to_string(),
                        s.strikes.map_or("?".into(), |n| n.to_string()),
                        match s.faulted {
                            Some(true) => "faulted".into(),
                            Some(false) => "no".into(),
                            None => "?".into(),
                        },
                    ]
                })
                .collect();
            format!(
                "{}: {healthy} of {} shards healthy ({k} needed)\n{}",
                manifest.name,
                shards.len(),
                crate::output::table(
                    &[
                        "shard",
                        "provider",
                        "node",
                        "order",
                        "escrow left",
                        "strikes",
                        "faulted"
                    ],
                    &rows
                )
            )
        },
    );
    Ok(())
}
