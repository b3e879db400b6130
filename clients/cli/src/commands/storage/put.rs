//! `depin storage put`: seal a file, place each shard with its own
//! provider, write the manifest.

use super::{TermsArgs, place, wallet_seed, write_private};
use crate::{context::Context, error::CliError};
use depinkit_reports::Key;
use depinkit_storage::{Layout, Manifest, seal};
use solana_sdk::signature::Signer;
use std::{collections::BTreeSet, path::Path};

/// Seals `file` into `layout`'s shards, places them, writes the manifest to
/// `manifest_path`.
pub async fn put(
    ctx: &Context,
    file: &Path,
    oracle: &str,
    manifest_path: &Path,
    layout: Layout,
    terms: &TermsArgs,
) -> Result<(), CliError> {
    let owner = ctx.keypair()?;
    let (network, record) = ctx.network_account().await?;
    let mint = ctx.mint(&record.reward_mint).await?;
    let bytes = std::fs::read(file)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    let began = std::time::Instant::now();
    let (sealed, shards, sealing) =
        seal(&bytes, layout).map_err(|e| CliError::Input(e.to_string()))?;
    let sealed_in = began.elapsed();
    let shard_bytes = shards[0].len() as u64;
    let terms = terms.terms(ctx, &mint, shard_bytes)?;
    let picked = place::pick_providers(
        oracle,
        &network,
        layout.shards(),
        shard_bytes,
        &BTreeSet::new(),
    )
    .await?;
    place::check_funds(ctx, &owner, &mint, terms.escrow, layout.shards()).await?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut manifest = Manifest::new(
        &name,
        Key(owner.pubkey().to_bytes()),
        &wallet_seed(&owner),
        &sealed,
    );
    let to_place = sealed.specs.iter().copied().zip(shards).collect();
    let (placed, times) =
        place::place(ctx, &owner, &network, &mint, to_place, &picked, terms).await?;
    for (placement, placed) in manifest.shards.iter_mut().zip(&placed) {
        placement.place(
            placed.provider.device,
            &placed.provider.endpoint,
            Key(placed.order.to_bytes()),
        );
    }
    write_private(manifest_path, &manifest.to_json())?;
    ctx.output.print(
        &serde_json::json!({
            "manifest": manifest_path.display().to_string(),
            "file_sha256": manifest.file_hash.to_string(),
            "bytes": manifest.file_size,
            "escrow_per_shard": terms.escrow,
            "seconds": {
                "seal": sealed_in.as_secs_f64(),
                "encrypt": sealing.aead.as_secs_f64(),
                "erasure_code": sealing.coding.as_secs_f64(),
                "hash": sealing.hashing.as_secs_f64(),
                "open_orders": times.ordering.as_secs_f64(),
                "upload": times.uploading.as_secs_f64(),
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
                "{} ({} bytes) stored as {} shards, any {} of which give it back; {} escrowed \
                 per shard\nManifest: {}",
                name,
                manifest.file_size,
                layout.shards(),
                layout.data_shards,
                mint.ui(terms.escrow),
                manifest_path.display()
            )
        },
    );
    Ok(())
}
