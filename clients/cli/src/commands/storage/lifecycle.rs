//! `depin storage repair`, `extend` and `cancel`: a stored file's shards
//! rebuilt and placed anew when their providers fail them, its orders kept
//! in service longer, and ended when the lifecycle lets the customer end
//! them.

use super::{
    TermsArgs, get::fetch_shards, place, read_manifest, status, wallet_seed, write_private,
};
use crate::{context::Context, error::CliError};
use depinkit_reports::Key;
use depinkit_sdk::payments::{self, OrderKeys};
use depinkit_storage::rebuild;
use service_payments::{
    instructions::{ExtendOrderArgs, keeps_rate},
    state::{Order, OrderStatus},
};
use solana_sdk::{pubkey::Pubkey, signature::Signer};
use std::{collections::BTreeSet, path::Path};

/// Rebuilds the shards of the manifest at `manifest_path` that are not in
/// good hands, places them with providers holding no shard of the file, and
/// rewrites the manifest.
pub async fn repair(
    ctx: &Context,
    manifest_path: &Path,
    oracle: &str,
    terms: &TermsArgs,
) -> Result<(), CliError> {
    let owner = ctx.keypair()?;
    let mut manifest = read_manifest(manifest_path)?;
    let sealed = manifest
        .unseal(&wallet_seed(&owner))
        .map_err(|e| CliError::Input(e.to_string()))?;
    let standings = status::standings(ctx, &manifest, oracle).await?;
    let broken: Vec<usize> = standings
        .iter()
        .filter(|s| !s.healthy())
        .map(|s| s.index)
        .collect();
    if broken.is_empty() {
        ctx.output.print(
            &serde_json::json!({ "repaired": [], "healthy_shards": standings.len() }),
            || {
                format!(
                    "All {} shards are healthy: nothing to repair",
                    standings.len()
                )
            },
        );
        return Ok(());
    }
    let healthy: BTreeSet<usize> = standings
        .iter()
        .filter(|s| s.healthy())
        .map(|s| s.index)
        .collect();
    let fetched = fetch_shards(&manifest, |s| healthy.contains(&s.index)).await;
    let rebuilt = rebuild(&sealed, &fetched, &broken).map_err(|e| {
        CliError::Rpc(format!(
            "{e}: cannot rebuild shards {broken:?} ({} healthy shards)",
            healthy.len()
        ))
    })?;
    let (network, record) = ctx.network_account().await?;
    let mint = ctx.mint(&record.reward_mint).await?;
    let shard_bytes = rebuilt[0].len() as u64;
    let terms = terms.terms(ctx, &mint, shard_bytes)?;
    // A provider that holds (or held and failed) a shard of this file gets
    // no other: one loss must never take two shards.
    let exclude: BTreeSet<Key> = manifest.shards.iter().filter_map(|s| s.provider).collect();
    let picked =
        place::pick_providers(oracle, &network, broken.len(), shard_bytes, &exclude).await?;
    place::check_funds(ctx, &owner, &mint, terms.escrow, broken.len()).await?;
    let to_place = broken
        .iter()
        .zip(rebuilt)
        .map(|(&index, bytes)| (manifest.shards[index].spec, bytes))
        .collect();
    let (placed, _) = place::place(ctx, &owner, &network, &mint, to_place, &picked, terms).await?;
    let mut repaired = Vec::with_capacity(broken.len());
    for (&index, placed) in broken.iter().zip(&placed) {
        let placement = &mut manifest.shards[index];
        repaired.push(serde_json::json!({
            "index": index,
            "was": {
                "provider": placement.provider.map(|k| k.to_string()),
                "order": placement.order.map(|k| k.to_string()),
                "order_status": standings[index].order_status,
                "node_up": standings[index].node_up,
                "faulted": standings[index].faulted,
            },
            "provider": placed.provider.device.to_string(),
            "endpoint": placed.provider.endpoint,
            "order": placed.order.to_string(),
        }));
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
            "escrow_per_shard": terms.escrow,
            "repaired": repaired,
        }),
        || {
            format!(
                "Rebuilt shards {broken:?} from {} healthy ones and placed them with new \
                 providers ({} escrowed each); manifest updated: {}\nThe replaced orders still \
                 in service are refunded as the oracle faults them, or cancelled after their \
                 deadline with `depin storage cancel`.",
                healthy.len(),
                mint.ui(terms.escrow),
                manifest_path.display()
            )
        },
    );
    Ok(())
}

/// Cancels every order of the manifest at `manifest_path` the lifecycle
/// lets its customer cancel now, and says why the others run on.
pub async fn cancel(ctx: &Context, manifest_path: &Path) -> Result<(), CliError> {
    let owner = ctx.keypair()?;
    let manifest = read_manifest(manifest_path)?;
    let now = ctx.chain_time().await?;
    let mut rows = Vec::new();
    let mut refunded_total = 0u64;
    for shard in &manifest.shards {
        let Some(order_key) = shard.order else {
            continue;
        };
        let address = Pubkey::new_from_array(order_key.0);
        let order: Option<Order> = depinkit_sdk::accounts::fetch_optional(&ctx.rpc, &address)
            .await
            .map_err(|e| ctx.rpc_error(e))?;
        let outcome = match order {
            None => "closed already (completed, faulted and refunded, or cancelled)".to_string(),
            Some(o) if o.customer != owner.pubkey() => {
                format!("not yours: its customer is {}", o.customer)
            }
            Some(o) if o.status == OrderStatus::Open || now > o.settlement_end() => {
                let keys = OrderKeys::of_order(&address, &o);
                let left = ctx.token_balance(&o.escrow).await?;
                ctx.send(&[payments::cancel_order(&keys)], &owner, &[])
                    .await?;
                refunded_total = refunded_total.saturating_add(left);
                format!("cancelled: {left} base units refunded")
            }
            Some(o) => format!(
                "in service: cancellable after {} (its service deadline and settlement grace)",
                crate::output::local_time(o.settlement_end())
            ),
        };
        rows.push((shard.index, order_key.to_string(), outcome));
    }
    print_rows(ctx, "refunded", refunded_total, &rows);
    Ok(())
}

/// Keeps every order of the manifest at `manifest_path` that is still in
/// service `extra` seconds longer, adding to each escrow what its rate so
/// far asks for the added time (rounded up).
pub async fn extend(ctx: &Context, manifest_path: &Path, extra: i64) -> Result<(), CliError> {
    if extra <= 0 {
        return Err(CliError::Input("--by must be at least 1 second".into()));
    }
    let owner = ctx.keypair()?;
    let manifest = read_manifest(manifest_path)?;
    let now = ctx.chain_time().await?;
    let mut rows = Vec::new();
    let mut added_total = 0u64;
    for shard in &manifest.shards {
        let Some(order_key) = shard.order else {
            continue;
        };
        let address = Pubkey::new_from_array(order_key.0);
        let order: Option<Order> = depinkit_sdk::accounts::fetch_optional(&ctx.rpc, &address)
            .await
            .map_err(|e| ctx.rpc_error(e))?;
        let outcome = match order {
            None => "closed: nothing to extend (`depin storage repair` places the shard anew)"
                .to_string(),
            Some(o) if o.customer != owner.pubkey() => {
                format!("not yours: its customer is {}", o.customer)
            }
            Some(o) if now > o.service_deadline => {
                "its service deadline has passed: nothing to extend".to_string()
            }
            Some(o) => {
                let start = match o.status {
                    OrderStatus::Accepted => o.accepted_at,
                    OrderStatus::Open => o.opened_at,
                };
                let served = o.service_deadline.saturating_sub(start).max(1) as u128;
                let additional =
                    u64::try_from((u128::from(o.max_amount) * extra as u128).div_ceil(served))
                        .map_err(|_| CliError::Input("the extension's escrow overflows".into()))?;
                debug_assert!(keeps_rate(&o, start, additional, extra));
                let keys = OrderKeys::of_order(&address, &o);
                let args = ExtendOrderArgs {
                    additional_amount: additional,
                    service_deadline: o.service_deadline.saturating_add(extra),
                };
                ctx.send(&[payments::extend_order(&keys, args)], &owner, &[])
                    .await?;
                added_total = added_total.saturating_add(additional);
                format!(
                    "extended to {} for {additional} base units more",
                    crate::output::local_time(args.service_deadline)
                )
            }
        };
        rows.push((shard.index, order_key.to_string(), outcome));
    }
    print_rows(ctx, "added", added_total, &rows);
    Ok(())
}

/// Prints each order's outcome, and the total moved.
fn print_rows(ctx: &Context, total_name: &str, total: u64, rows: &[(usize, String, String)]) {
    ctx.output.print(
        &serde_json::json!({
            total_name: total,
            "orders": rows.iter().map(|(index, order, outcome)| serde_json::json!({
                "index": index, "order": order, "outcome": outcome,
            })).collect::<Vec<_>>(),
        }),
        || {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|(index, order, outcome)| {
                    vec![index.to_string(), order.clone(), outcome.clone()]
                })
                .collect();
            format!(
                "{total} base units {total_name}\n{}",
                crate::output::table(&["shard", "order", "outcome"], &table)
            )
        },
    );
}
