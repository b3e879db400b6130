//! `depin storage put|status|get|repair|extend|cancel`: a file stored across the
//! network's storage providers, one shard per provider through an order of
//! its own, got back from any k of the shards, watched, repaired when
//! providers fault or disappear, kept longer, and cancelled. The sealing, manifest and
//! node protocol are `depinkit-storage`'s; these commands add the wallet,
//! the orders and the files.

mod get;
mod lifecycle;
mod place;
mod put;
mod status;

use crate::{context::Context, error::CliError};
use clap::{Args, Subcommand};
use depinkit_storage::Manifest;
use std::path::{Path, PathBuf};

/// What each shard's order pays and for how long.
#[derive(Args, Debug, Clone)]
pub struct TermsArgs {
    /// Price of storage, whole tokens of the reward mint per GiB and 30
    /// days: each shard's escrow is its bytes for `--serve-within` at this
    /// price (rounded up).
    #[arg(long, default_value = "2")]
    price: String,
    /// Escrow of each shard's order, whole tokens (instead of `--price`).
    #[arg(long)]
    escrow: Option<String>,
    /// Seconds the providers serve the shards.
    #[arg(long, default_value_t = 30 * 86_400)]
    serve_within: i64,
}

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
        #[command(flatten)]
        terms: TermsArgs,
    },
    /// Where each shard of MANIFEST stands: its provider's node, its order
    /// on chain (status, paid, escrow left), its last proven epoch, and the
    /// oracle's strikes.
    Status {
        /// The manifest `put` wrote.
        manifest: PathBuf,
        /// The network oracle's API (strikes, faults, settlements).
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
    /// Rebuild the shards whose provider faulted, whose order ended or
    /// whose node is gone, from k healthy ones, place them with new
    /// providers through new orders, and update MANIFEST.
    Repair {
        /// The manifest `put` wrote.
        manifest: PathBuf,
        /// The network oracle's API (providers, faults).
        #[arg(long)]
        oracle: String,
        #[command(flatten)]
        terms: TermsArgs,
    },
    /// Keep every order of MANIFEST still in service longer: each escrow
    /// grows by what its rate so far asks for the added time.
    Extend {
        /// The manifest `put` wrote.
        manifest: PathBuf,
        /// Seconds added to each order's service.
        #[arg(long)]
        by: i64,
    },
    /// Cancel the orders of MANIFEST that may be cancelled now (not yet
    /// accepted, or past their service deadline and settlement grace),
    /// taking back what they did not pay; orders in service run on.
    Cancel {
        /// The manifest `put` wrote.
        manifest: PathBuf,
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
            terms,
        } => {
            let layout = depinkit_storage::Layout {
                data_shards,
                parity_shards,
                ..depinkit_storage::Layout::default()
            };
            let manifest_path = manifest.unwrap_or_else(|| {
                let mut name = file.as_os_str().to_owned();
                name.push(".manifest.json");
                PathBuf::from(name)
            });
            put::put(ctx, &file, &oracle, &manifest_path, layout, &terms).await
        }
        StorageCommand::Get { manifest, out } => get::get(ctx, &manifest, &out).await,
        StorageCommand::Status { manifest, oracle } => {
            status::status(ctx, &manifest, &oracle).await
        }
        StorageCommand::Repair {
            manifest,
            oracle,
            terms,
        } => lifecycle::repair(ctx, &manifest, &oracle, &terms).await,
        StorageCommand::Extend { manifest, by } => lifecycle::extend(ctx, &manifest, by).await,
        StorageCommand::Cancel { manifest } => lifecycle::cancel(ctx, &manifest).await,
    }
}

impl TermsArgs {
    /// The terms of an order for a shard of `shard_bytes`, in `mint`.
    fn terms(
        &self,
        ctx: &Context,
        mint: &depinkit_sdk::tokens::MintInfo,
        shard_bytes: u64,
    ) -> Result<place::Terms, CliError> {
        if self.serve_within <= 0 {
            return Err(CliError::Input(
                "--serve-within must be at least 1 second".into(),
            ));
        }
        let escrow = match &self.escrow {
            Some(escrow) => ctx.amount(escrow, mint, "--escrow")?,
            None => place::escrow_for(
                ctx.amount(&self.price, mint, "--price")?,
                shard_bytes,
                self.serve_within,
            ),
        };
        Ok(place::Terms {
            escrow,
            serve_within: self.serve_within,
        })
    }
}

/// The wallet seed that unwraps a manifest's file key.
fn wallet_seed(owner: &solana_sdk::signature::Keypair) -> [u8; 32] {
    owner.to_bytes()[..32].try_into().expect("32 bytes")
}

/// Writes `bytes` to `path`, readable by its owner only (the manifest
/// names every shard; its key opens nothing without the wallet, but the
/// layout of a person's files is theirs). Written beside it first, then
/// renamed over it, so a manifest is never left half written.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))
}

/// Reads and parses a manifest.
fn read_manifest(path: &Path) -> Result<Manifest, CliError> {
    let text = std::fs::read(path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    Manifest::from_json(&text).map_err(|e| CliError::Input(format!("{}: {e}", path.display())))
}
