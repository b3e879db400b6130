//! `depin pool create|fund|show|lookup-table`.

use crate::{
    context::Context,
    error::CliError,
    output::{fields, local_time},
};
use clap::Subcommand;
use depinkit_sdk::{
    ata,
    pool::{self, PoolKeys},
};
use reward_pool::{
    instructions::CreatePoolArgs,
    state::{EmissionSchedule, FundingKind},
};
use serde::Serialize;
use solana_sdk::{pubkey::Pubkey, signature::Signer};

/// Pool commands.
#[derive(Subcommand, Debug)]
pub enum PoolCommand {
    /// Open the network's reward pool (network authority), with its claim
    /// lookup table.
    Create {
        /// Seconds per epoch (at most the network's oracle-change delay).
        #[arg(long, default_value_t = 86_400)]
        epoch_length: i64,
        /// Unix time epoch 0 starts [default: now].
        #[arg(long)]
        start_time: Option<i64>,
        /// Emission of epoch 0, in whole reward tokens.
        #[arg(long)]
        emission: String,
        /// Epochs between decay steps (0: constant emission).
        #[arg(long, default_value_t = 0)]
        decay_interval: u32,
        /// Share kept at each decay step, basis points (5000 halves).
        #[arg(long, default_value_t = 10_000)]
        retain_bps: u16,
    },
    /// Deposit reward tokens from the keypair's account.
    Fund {
        /// Amount, in whole reward tokens.
        #[arg(long)]
        amount: String,
        /// Count it as service revenue (distributed on top of the schedule).
        #[arg(long)]
        revenue: bool,
    },
    /// Show the network's pool.
    Show,
    /// Create and register the pool's claim lookup table, if it has none
    /// (`pool create` does it; anyone may).
    LookupTable,
}

/// Creates and registers a claim lookup table for the pool.
async fn create_lookup_table(
    ctx: &Context,
    keys: &PoolKeys,
    payer: &solana_sdk::signature::Keypair,
) -> Result<Pubkey, CliError> {
    let slot = ctx
        .rpc
        .get_slot()
        .await
        .map_err(|e| ctx.rpc_error(e.into()))?;
    let (table, ixs) = pool::claim_lookup_table_setup(&payer.pubkey(), keys, slot);
    ctx.send(&ixs, payer, &[]).await?;
    Ok(table)
}

/// Runs a pool command.
pub async fn run(ctx: &Context, command: PoolCommand) -> Result<(), CliError> {
    let (network, _, keys, mint) = ctx.pool_keys().await?;
    match command {
        PoolCommand::Create {
            epoch_length,
            start_time,
            emission,
            decay_interval,
            retain_bps,
        } => {
            let authority = ctx.keypair()?;
            if ctx.exists(&keys.pool).await? {
                return Err(CliError::Input(format!(
                    "the network already has its pool {} (see `depin pool show`)",
                    keys.pool
                )));
            }
            let start_time = match start_time {
                Some(t) => t,
                None => ctx.chain_time().await?,
            };
            let args = CreatePoolArgs {
                start_time,
                epoch_length_secs: epoch_length,
                schedule: EmissionSchedule {
                    initial_per_epoch: ctx.amount(&emission, &mint, "--emission")?,
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
            let table = create_lookup_table(ctx, &keys, &authority).await?;
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
            ctx.pool(&keys).await?;
            let amount = ctx.amount(&amount, &mint, "--amount")?;
            let from = ata(&funder.pubkey(), &mint.address, &mint.token_program);
            let held = ctx.token_balance(&from).await?;
            if held < amount {
                return Err(CliError::Input(format!(
                    "{} holds {} of the reward token {}, less than {}",
                    funder.pubkey(),
                    mint.ui(held),
                    mint.address,
                    mint.ui(amount)
                )));
            }
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
                        mint.ui(amount)
                    )
                },
            );
        }
        PoolCommand::Show => {
            let record = ctx.pool(&keys).await?;
            let vault = ctx.token_balance(&keys.vault).await?;
            let now = ctx.chain_time().await?;
            #[derive(Serialize)]
            struct View {
                pool: String,
                vault: String,
                vault_balance: u64,
                reward_mint: String,
                start_time: i64,
                epoch_length_secs: i64,
                next_epoch: u32,
                next_epoch_ends_at: Option<i64>,
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
            let ends = record.epoch_end(record.next_epoch);
            let v = View {
                pool: keys.pool.to_string(),
                vault: keys.vault.to_string(),
                vault_balance: vault,
                reward_mint: keys.reward_mint.to_string(),
                start_time: record.start_time,
                epoch_length_secs: record.epoch_length_secs,
                next_epoch: record.next_epoch,
                next_epoch_ends_at: ends,
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
            let ending = match ends {
                Some(end) if end > now => format!("ends {} (in {} s)", local_time(end), end - now),
                Some(end) => format!("ended {}: its root can be voted", local_time(end)),
                None => "-".into(),
            };
            ctx.output.print(&v, || {
                let finalized = v.root_finalized_at != 0;
                fields(&[
                    ("Pool", v.pool.clone()),
                    (
                        "Vault",
                        format!("{} ({})", v.vault, mint.ui(v.vault_balance)),
                    ),
                    (
                        "Epochs",
                        format!(
                            "{} s each from {}",
                            v.epoch_length_secs,
                            local_time(v.start_time)
                        ),
                    ),
                    (
                        "Next epoch",
                        format!(
                            "{} (emits {}; {ending})",
                            v.next_epoch,
                            mint.ui(v.next_epoch_emission)
                        ),
                    ),
                    (
                        "Inflow",
                        format!(
                            "{} (revenue {})",
                            mint.ui(v.total_inflow),
                            mint.ui(v.revenue_inflow)
                        ),
                    ),
                    ("Claimed", mint.ui(v.total_claimed)),
                    (
                        "Root",
                        if finalized {
                            v.root.clone()
                        } else {
                            "- (no epoch finalized yet)".into()
                        },
                    ),
                    ("Root devices", v.root_leaf_count.to_string()),
                    ("Root total", mint.ui(v.root_total)),
                    ("Finalized", local_time(v.root_finalized_at)),
                    ("Pending votes", v.pending_votes.to_string()),
                    (
                        "Claim lookup table",
                        v.claim_lookup_table.clone().unwrap_or_else(|| "-".into()),
                    ),
                ])
            });
        }
        PoolCommand::LookupTable => {
            let payer = ctx.keypair()?;
            let record = ctx.pool(&keys).await?;
            if record.claim_lookup_table != Pubkey::default() {
                return Err(CliError::Input(format!(
                    "the pool already has its claim lookup table {}",
                    record.claim_lookup_table
                )));
            }
            let table = create_lookup_table(ctx, &keys, &payer).await?;
            ctx.output.print(
                &serde_json::json!({ "claim_lookup_table": table.to_string() }),
                || format!("Claim lookup table {table} registered"),
            );
        }
    }
    Ok(())
}
