//! `depin storage status`: each shard's node, order and standing with the
//! oracle.

use super::read_manifest;
use crate::{context::Context, error::CliError};
use depinkit_storage::Manifest;
use solana_sdk::pubkey::Pubkey;
use std::path::Path;

/// One shard's standing.
#[derive(serde::Serialize)]
pub(super) struct ShardStatus {
    pub index: usize,
    provider: Option<String>,
    endpoint: Option<String>,
    /// The node answers its health check.
    pub node_up: bool,
    order: Option<String>,
    /// `open`, `accepted`, or `closed` (the order account is gone:
    /// completed, faulted and refunded, or cancelled).
    pub order_status: String,
    /// Paid to the provider side so far (provider, fee and pool), base
    /// units; 0 once closed.
    paid: u64,
    /// Escrow not yet settled, base units.
    escrow_left: u64,
    /// The last epoch whose challenges the provider answered right, as the
    /// oracle settled it.
    last_proven_epoch: Option<u64>,
    strikes: Option<i64>,
    pub faulted: Option<bool>,
}

impl ShardStatus {
    /// Whether the shard is in good hands: its node answers, its order is
    /// in service, and the oracle has not faulted it.
    pub fn healthy(&self) -> bool {
        self.node_up && self.order_status == "accepted" && self.faulted != Some(true)
    }
}

/// Each shard of `manifest` as its node, the chain and `oracle` see it.
pub(super) async fn standings(
    ctx: &Context,
    manifest: &Manifest,
    oracle: &str,
) -> Result<Vec<ShardStatus>, CliError> {
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
        let (order_status, paid, escrow_left) = match &shard.order {
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
                        o.settled,
                        o.max_amount.saturating_sub(o.settled),
                    ),
                    None => ("closed".to_string(), 0, 0),
                }
            }
            None => ("none".to_string(), 0, 0),
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
            paid,
            escrow_left,
            last_proven_epoch: standing
                .as_ref()
                .and_then(|s| s["last_proven_epoch"].as_u64()),
            strikes: standing.as_ref().and_then(|s| s["strikes"].as_i64()),
            faulted: standing.as_ref().and_then(|s| s["faulted"].as_bool()),
        });
    }
    Ok(shards)
}

/// Prints where each shard of the manifest at `manifest_path` stands.
pub async fn status(ctx: &Context, manifest_path: &Path, oracle: &str) -> Result<(), CliError> {
    let manifest = read_manifest(manifest_path)?;
    let shards = standings(ctx, &manifest, oracle).await?;
    let healthy = shards.iter().filter(|s| s.healthy()).count();
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
                        s.paid.to_string(),
                        s.escrow_left.to_string(),
                        s.last_proven_epoch.map_or("-".into(), |e| e.to_string()),
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
                        "paid",
                        "escrow left",
                        "last proven epoch",
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
