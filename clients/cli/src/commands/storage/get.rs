//! `depin storage get`: any k shards of a manifest, checked against their
//! roots, decoded, decrypted, and checked against the file's hash.

use super::{read_manifest, wallet_seed};
use crate::{context::Context, error::CliError};
use depinkit_storage::{Manifest, ShardPlacement, nodes, open};
use std::path::Path;

/// Gets the file of the manifest at `manifest_path` back into `out`.
pub async fn get(ctx: &Context, manifest_path: &Path, out: &Path) -> Result<(), CliError> {
    let owner = ctx.keypair()?;
    let manifest = read_manifest(manifest_path)?;
    let sealed = manifest
        .unseal(&wallet_seed(&owner))
        .map_err(|e| CliError::Input(e.to_string()))?;
    let began = std::time::Instant::now();
    let fetched = fetch_shards(&manifest, |_| true).await;
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

/// The shards of `manifest` that `wanted` picks, downloaded at once from
/// their nodes (by shard index; `None` for a shard not wanted, not placed
/// or not reached, each miss said on stderr). Unchecked: the caller checks
/// them against their roots.
pub(super) async fn fetch_shards(
    manifest: &Manifest,
    wanted: impl Fn(&ShardPlacement) -> bool,
) -> Vec<Option<Vec<u8>>> {
    let http = reqwest::Client::new();
    futures_util::future::join_all(manifest.shards.iter().map(|s| {
        let http = &http;
        let wanted = wanted(s);
        async move {
            let (true, Some(endpoint), Some(order)) = (wanted, &s.endpoint, &s.order) else {
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
    .await
}
