//! Placing shards with providers: one storage order per shard, naming the
//! provider's device and committing to the shard's deal, opened at once;
//! then every shard uploaded to its provider's node at once, which checks
//! it against the order and accepts the order on chain. `put` places every
//! shard of a new file, `repair` the ones it rebuilt.

use crate::{context::Context, error::CliError};
use depinkit_reports::{Key, storage::DealSpec};
use depinkit_sdk::{
    device_registry::pda,
    payments::{self, OrderKeys},
    tokens::MintInfo,
};
use depinkit_storage::nodes::{self, Listing};
use indicatif::{ProgressBar, ProgressStyle};
use rand_core::RngCore;
use service_payments::{instructions::OpenOrderArgs, state::Provider};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use std::{collections::BTreeSet, time::Duration};

/// What each shard's order pays and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Terms {
    /// Escrow of each order, base units of the payment mint.
    pub escrow: u64,
    /// Seconds the provider serves the shard.
    pub serve_within: i64,
}

/// One shard placed.
#[derive(Clone, Debug)]
pub struct Placed {
    /// Its provider.
    pub provider: Listing,
    /// Its order.
    pub order: Pubkey,
}

/// Where placing spent its time.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlaceTimes {
    /// Opening the orders.
    pub ordering: Duration,
    /// Uploading the shards.
    pub uploading: Duration,
}

/// Places each of `shards` (its deal spec and bytes) with the provider at
/// the same position of `providers`, under `terms`, paid by `owner` in
/// `mint`.
pub async fn place(
    ctx: &Context,
    owner: &Keypair,
    network: &Pubkey,
    mint: &MintInfo,
    shards: Vec<(DealSpec, Vec<u8>)>,
    providers: &[Listing],
    terms: Terms,
) -> Result<(Vec<Placed>, PlaceTimes), CliError> {
    let mut times = PlaceTimes::default();
    let progress = if !ctx.output.is_display() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(shards.len() as u64)
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} shards placed {msg}")
            .expect("a valid template"),
    );
    // Every shard's order, opened at once (independent transactions).
    let now = ctx.chain_time().await?;
    let orders: Vec<(OrderKeys, OpenOrderArgs)> = shards
        .iter()
        .zip(providers)
        .map(|((spec, _), provider)| {
            let id = rand_core::OsRng.next_u64();
            let keys = OrderKeys::new(
                network,
                &owner.pubkey(),
                id,
                &mint.address,
                &mint.token_program,
            );
            let device_key = Pubkey::new_from_array(provider.device.0);
            let args = OpenOrderArgs {
                order_id: id,
                provider: Provider::Device(pda::find_device_address(network, &device_key).0),
                max_amount: terms.escrow,
                accept_deadline: now.saturating_add(3_600),
                service_deadline: now.saturating_add(terms.serve_within),
                spec_hash: spec.hash().0,
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
            .map(|instruction| ctx.send(instruction, owner, &[])),
    )
    .await;
    times.ordering = began.elapsed();
    if let Some((index, Err(e))) = opened
        .into_iter()
        .enumerate()
        .find(|(_, sent)| sent.is_err())
    {
        return Err(CliError::Transaction(format!(
            "shard {index}'s order: {e} (orders that opened stay open: `depin storage cancel` \
             or `depin order cancel` refunds them)"
        )));
    }
    // Every shard to its node at once; each node accepts its order.
    progress.set_message("(uploading)");
    let began = std::time::Instant::now();
    let http = reqwest::Client::new();
    let uploaded =
        futures_util::future::join_all(shards.into_iter().zip(providers).zip(&orders).map(
            |(((spec, shard), provider), (keys, _))| {
                let http = &http;
                let progress = &progress;
                async move {
                    let order = Key(keys.order.to_bytes());
                    let done =
                        nodes::upload(http, &provider.endpoint, &order, shard, spec.leaf_size)
                            .await;
                    progress.inc(1);
                    done
                }
            },
        ))
        .await;
    times.uploading = began.elapsed();
    progress.finish_and_clear();
    let mut placed = Vec::with_capacity(providers.len());
    for (index, (done, (provider, (keys, _)))) in uploaded
        .into_iter()
        .zip(providers.iter().zip(&orders))
        .enumerate()
    {
        if let Err(e) = done {
            return Err(CliError::Rpc(format!(
                "shard {index}: {e} (its order {} stays open: `depin order cancel` refunds it)",
                keys.order
            )));
        }
        placed.push(Placed {
            provider: provider.clone(),
            order: keys.order,
        });
    }
    Ok((placed, times))
}

/// `count` distinct providers from the oracle's list with room for
/// `shard_bytes` each, none of the devices in `exclude`.
pub async fn pick_providers(
    oracle: &str,
    network: &Pubkey,
    count: usize,
    shard_bytes: u64,
    exclude: &BTreeSet<Key>,
) -> Result<Vec<Listing>, CliError> {
    let http = reqwest::Client::new();
    let listed: Vec<Listing> = nodes::providers(&http, oracle, Key(network.to_bytes()))
        .await
        .map_err(|e| CliError::Rpc(e.to_string()))?
        .into_iter()
        .filter(|l| !exclude.contains(&l.device))
        .collect();
    nodes::pick(&listed, count, shard_bytes).ok_or_else(|| {
        CliError::Input(format!(
            "{} providers{} have room for a shard of {shard_bytes} bytes; {count} are needed \
             (one per shard)",
            listed
                .iter()
                .filter(|l| l.free_bytes >= shard_bytes)
                .count(),
            if exclude.is_empty() {
                ""
            } else {
                " not holding this file already"
            },
        ))
    })
}

/// Fails when `owner` holds less than `count` escrows of `escrow`.
pub async fn check_funds(
    ctx: &Context,
    owner: &Keypair,
    mint: &MintInfo,
    escrow: u64,
    count: usize,
) -> Result<(), CliError> {
    let held = ctx
        .token_balance(&depinkit_sdk::ata(
            &owner.pubkey(),
            &mint.address,
            &mint.token_program,
        ))
        .await?;
    let total = escrow.saturating_mul(count as u64);
    if held < total {
        return Err(CliError::Input(format!(
            "{} holds {} of {}, less than the {} the {count} orders escrow",
            owner.pubkey(),
            mint.ui(held),
            mint.address,
            mint.ui(total),
        )));
    }
    Ok(())
}

/// The escrow for a shard of `shard_bytes` served `serve_within` seconds at
/// `price` base units per GiB and 30 days, rounded up; at least 1.
pub fn escrow_for(price: u64, shard_bytes: u64, serve_within: i64) -> u64 {
    const GIB_MONTH: u128 = (1 << 30) * 30 * 86_400;
    let cost = u128::from(price) * u128::from(shard_bytes) * serve_within.max(0) as u128;
    u64::try_from(cost.div_ceil(GIB_MONTH))
        .unwrap_or(u64::MAX)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_escrow_is_the_price_of_the_bytes_for_the_time() {
        // 2 tokens (6 decimals) per GiB-month: a GiB for 30 days, half a
        // GiB for 30 days, a GiB for 15 days.
        let gib = 1u64 << 30;
        assert_eq!(escrow_for(2_000_000, gib, 30 * 86_400), 2_000_000);
        assert_eq!(escrow_for(2_000_000, gib / 2, 30 * 86_400), 1_000_000);
        assert_eq!(escrow_for(2_000_000, gib, 15 * 86_400), 1_000_000);
        // Rounded up, never zero.
        assert_eq!(escrow_for(2_000_000, 1, 1), 1);
        assert_eq!(escrow_for(0, gib, 86_400), 1);
    }
}
