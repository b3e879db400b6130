//! `depin pool create|fund|show`.

use crate::{
    context::Context,
    error::CliError,
    output::{fields, local_time},
};
use clap::Subcommand;
use depinkit_sdk::{
    accounts, ata,
    pool::{self, PoolKeys},
};
use reward_pool::{
    instructions::CreatePoolArgs,
    state::{EmissionSchedule, FundingKind, Pool},
};
use serde::Serialize;
use solana_sdk::{pubkey::Pubkey, signature::Signer};

/// Pool commands.
#[derive(Subcommand, Debug)]
pub enum PoolCommand {
    /// Open the network's reward pool (network authority).
    Create {
        /// Seconds per epoch.
        #[arg(long, default_value_t = 86_400)]
        epoch_length: i64,
        /// Unix time epoch 0 starts [default: now].
        #[arg(long)]
        start_time: Option<i64>,
        /// Emission of epoch 0, in reward-mint base units.
        #[arg(long)]
        emission: u64,
        /// Epochs between decay steps (0: constant emission).
        #[arg(long, default_value_t = 0)]
        decay_interval: u32,
        /// Share kept at each decay step, basis points (5000 halves).
        #[arg(long, default_value_t = 10_000)]
        retain_bps: u16,
    },
    /// Deposit reward tokens from the keypair's account.
    Fund {
        /// Amount in reward-mint base units.
        #[arg(long)]
        amount: u64,
        /// Count it as service revenue (distributed on top of the schedule).
        #[arg(long)]
        revenue: bool,
    },
    /// Show the network's pool.
    Show,
}

async fn keys(
    ctx: &Context,
) -> Result<(solana_sdk::pubkey::Pubkey, PoolKeys, u8, Option<String>), CliError> {
    let (network, record) = ctx.network_account().await?;
    let token_program = ctx.token_program_of(&record.reward_mint).await?;
    let decimals = crate::commands::network::mint_decimals(ctx, &record.reward_mint)
        .await
        .unwrap_or(0);
    let symbol = crate::commands::network::mint_symbol(ctx, &record.reward_mint).await;
    Ok((
        network,
        PoolKeys::new(&network, &record.reward_mint, &token_program),
        decimals,
        symbol,
    ))
}

/// Runs a pool command.
pub async fn run(ctx: &Context, command: PoolCommand) -> Result<(), CliError> {
    let (network, keys, decimals, symbol) = keys(ctx).await?;
    let ui_amount = |amount: u64, decimals: u8| {
        crate::commands::network::with_symbol(amount, decimals, &symbol)
    };
    match command {
        PoolCommand::Create {
            epoch_length,
            start_time,
            emission,
            decay_interval,
            retain_bps,
        } => {
            let authority = ctx.keypair()?;
            let start_time = match start_time {
                Some(t) => t,
                None => ctx.chain_time().await?,
            };
            let args = CreatePoolArgs {
                start_time,
                epoch_length_secs: epoch_length,
                schedule: EmissionSchedule {
                    initial_per_epoch: emission,
                    decay_interval_epochs: decay_interval,
                    retain_bps,
                },
            };
            let signature = ctx
                .send(
                    &[pool::create_pool(
                        &authority.pubkey(),
                        &network,
                        &keys,
                        args,
                    )],
                    &authority,
                    &[],
                )
                .await?;
            // The claim lookup table, so that claims with deep proofs fit a packet.
            let slot = ctx
                .rpc
                .get_slot()
                .await
                .map_err(|e| CliError::Rpc(format!("cannot read the slot: {e}")))?;
            let (table, ixs) = pool::claim_lookup_table_setup(&authority.pubkey(), &keys, slot);
            ctx.send(&ixs, &authority, &[]).await?;
            ctx.output.print(
                &serde_json::json!({
                    "pool": keys.pool.to_string(), "vault": keys.vault.to_string(),
                    "claim_lookup_table": table.to_string(), "signature": signature.to_string(),
                }),
                || format!(
                    "Pool {} created, vault {}, claim lookup table {table}\nSignature: {signature}",
                    keys.pool, keys.vault
                ),
            );
        }
        PoolCommand::Fund { amount, revenue } => {
            let funder = ctx.keypair()?;
            let from = ata(
                &funder.pubkey(),
                &keys.reward_mint,
                &keys.reward_token_program,
            );
            let kind = if revenue {
                FundingKind::ServiceRevenue
            } else {
                FundingKind::Emissions
            };
            let signature = ctx
                .send(
                    &[pool::fund_pool(
                        &funder.pubkey(),
                        &keys,
                        &from,
                        amount,
                        kind,
                    )],
                    &funder,
                    &[],
                )
                .await?;
            ctx.output.print(
                &serde_json::json!({ "amount": amount, "signature": signature.to_string() }),
                || {
                    format!(
                        "Funded the pool with {}\nSignature: {signature}",
                        ui_amount(amount, decimals)
                    )
                },
            );
        }
        PoolCommand::Show => {
            let record: Pool = accounts::fetch(&ctx.rpc, &keys.pool).await?;
            let vault = ctx.token_balance(&keys.vault).await;
            #[derive(Serialize)]
            struct View {
                pool: String,
                vault: String,
                vault_balance: u64,
                reward_mint: String,
                start_time: i64,
                epoch_length_secs: i64,
                next_epoch: u32,
                next_epoch_emission: u64,
                total_inflow: u64,
                revenue_inflow: u64,
                total_claimed: u64,
                root: String,
                root_total: u64,
                root_leaf_count: u64,
                root_finalized_at: i64,
                pending_votes: usize,
                claim_lookup_table: Option<String>,
            }
            let v = View {
                pool: keys.pool.to_string(),
                vault: keys.vault.to_string(),
                vault_balance: vault,
                reward_mint: keys.reward_mint.to_string(),
                start_time: record.start_time,
                epoch_length_secs: record.epoch_length_secs,
                next_epoch: record.next_epoch,
                next_epoch_emission: record.next_epoch_emission,
                total_inflow: record.total_inflow,
                revenue_inflow: record.revenue_inflow,
                total_claimed: record.total_claimed,
                root: record.root.iter().map(|b| format!("{b:02x}")).collect(),
                root_total: record.root_total,
                root_leaf_count: record.root_leaf_count,
                root_finalized_at: record.root_finalized_at,
                pending_votes: record.votes.len(),
                claim_lookup_table: (record.claim_lookup_table != Pubkey::default())
                    .then(|| record.claim_lookup_table.to_string()),
            };
            ctx.output.print(&v, || {
                fields(&[
                    ("Pool", v.pool.clone()),
                    (
                        "Vault",
                        format!("{} ({})", v.vault, ui_amount(v.vault_balance, decimals)),
                    ),
                    (
                        "Epochs",
                        format!(
                            "{} s from {}",
                            v.epoch_length_secs,
                            local_time(v.start_time)
                        ),
                    ),
                    (
                        "Next epoch",
                        format!(
                            "{} (emits {})",
                            v.next_epoch,
                            ui_amount(v.next_epoch_emission, decimals)
                        ),
                    ),
                    (
                        "Inflow",
                        format!(
                            "{} (revenue {})",
                            ui_amount(v.total_inflow, decimals),
                            ui_amount(v.revenue_inflow, decimals)
                        ),
                    ),
                    ("Claimed", ui_amount(v.total_claimed, decimals)),
                    (
                        "Root",
                        format!(
                            "{} ({} devices, {})",
                            v.root,
                            v.root_leaf_count,
                            ui_amount(v.root_total, decimals)
                        ),
                    ),
                    ("Finalized", local_time(v.root_finalized_at)),
                    ("Pending votes", v.pending_votes.to_string()),
                    (
                        "Claim lookup table",
                        v.claim_lookup_table.clone().unwrap_or_else(|| "-".into()),
                    ),
                ])
            });
        }
    }
    Ok(())
}
