//! `depin credits buy|delegate|balance|withdraw-request|withdraw`.

use crate::{
    config::pubkey,
    context::Context,
    error::CliError,
    output::{fields, local_time},
};
use clap::Subcommand;
use depinkit_sdk::{
    accounts,
    payments::{self, PaymentsKeys},
    tokens::MintInfo,
};
use serde::Serialize;
use service_payments::state::{PaymentsConfig, UsageEscrow, WITHDRAWAL_WINDOW_SECS};
use solana_sdk::signature::Signer;

/// Credits commands.
#[derive(Subcommand, Debug)]
pub enum CreditsCommand {
    /// Burn network tokens for credits at the latest oracle price.
    Buy {
        /// Network tokens to burn, whole tokens.
        #[arg(long)]
        amount: String,
        /// Refuse if this buys fewer credits (whole credits) [default: any].
        #[arg(long)]
        min_credits: Option<String>,
    },
    /// Set credits aside for the network's service (usage escrow).
    Delegate {
        /// Credits, whole credits.
        #[arg(long)]
        amount: String,
    },
    /// Credits held, in escrow, and any withdrawal pending.
    Balance {
        /// Whose [default: the keypair's].
        #[arg(long)]
        owner: Option<String>,
    },
    /// Ask for unused credits back from the usage escrow, after the network's
    /// notice (0 withdraws the request).
    WithdrawRequest {
        /// Credits, whole credits [default: all in escrow].
        #[arg(long)]
        amount: Option<String>,
    },
    /// Take back the requested credits once the notice has passed.
    Withdraw,
}

/// The network's payment keys, config and the two mints.
async fn setup(
    ctx: &Context,
) -> Result<(PaymentsKeys, PaymentsConfig, MintInfo, MintInfo), CliError> {
    let (network, record) = ctx.network_account().await?;
    let burn = ctx.mint(&record.reward_mint).await?;
    let keys = PaymentsKeys::new(&network, &burn.address, &burn.token_program);
    let config = ctx.payments_config(&keys.config).await?;
    let credits = ctx.mint(&keys.credits_mint).await?;
    Ok((keys, config, burn, credits))
}

/// Runs a credits command.
pub async fn run(ctx: &Context, command: CreditsCommand) -> Result<(), CliError> {
    let (keys, config, burn, credits) = setup(ctx).await?;
    match command {
        CreditsCommand::Buy {
            amount,
            min_credits,
        } => {
            let buyer = ctx.keypair()?;
            let amount = ctx.amount(&amount, &burn, "--amount")?;
            let min_credits = match min_credits {
                Some(text) => ctx.amount(&text, &credits, "--min-credits")?,
                None => 1,
            };
            if config.price.is_none() {
                return Err(CliError::Input(
                    "no price yet: the network's oracles vote one with `depin oracle vote-price`"
                        .into(),
                ));
            }
            let held = ctx
                .token_balance(&depinkit_sdk::ata(
                    &buyer.pubkey(),
                    &burn.address,
                    &burn.token_program,
                ))
                .await?;
            if held < amount {
                return Err(CliError::Input(format!(
                    "{} holds {}, less than {}",
                    buyer.pubkey(),
                    burn.ui(held),
                    burn.ui(amount)
                )));
            }
            let account = keys.credits_account(&buyer.pubkey());
            let before = ctx.token_balance(&account).await?;
            let ix = payments::buy_credits(&buyer.pubkey(), &keys, amount, min_credits);
            let signature = ctx.send(&[ix], &buyer, &[]).await?;
            let bought = ctx.token_balance(&account).await? - before;
            ctx.output.print(
                &serde_json::json!({ "burned": amount, "credits": bought, "signature": signature.to_string() }),
                || format!(
                    "Burned {} for {} credits\nSignature: {signature}",
                    burn.ui(amount),
                    credits.ui(bought)
                ),
            );
        }
        CreditsCommand::Delegate { amount } => {
            let customer = ctx.keypair()?;
            let amount = ctx.amount(&amount, &credits, "--amount")?;
            let held = ctx
                .token_balance(&keys.credits_account(&customer.pubkey()))
                .await?;
            if held < amount {
                return Err(CliError::Input(format!(
                    "{} holds {} credits, less than {}: buy some with `depin credits buy`",
                    customer.pubkey(),
                    credits.ui(held),
                    credits.ui(amount)
                )));
            }
            let ix = payments::delegate_credits(&customer.pubkey(), &keys, amount);
            let signature = ctx.send(&[ix], &customer, &[]).await?;
            ctx.output.print(
                &serde_json::json!({ "delegated": amount, "signature": signature.to_string() }),
                || {
                    format!(
                        "Delegated {} credits\nSignature: {signature}",
                        credits.ui(amount)
                    )
                },
            );
        }
        CreditsCommand::Balance { owner } => {
            let owner = match owner {
                Some(o) => pubkey(&o, "--owner")?,
                None => ctx.keypair()?.pubkey(),
            };
            let (escrow_address, escrow_credits) = keys.usage_escrow(&owner);
            let escrow: Option<UsageEscrow> = accounts::fetch_optional(&ctx.rpc, &escrow_address)
                .await
                .map_err(|e| ctx.rpc_error(e))?;
            #[derive(Serialize)]
            struct View {
                owner: String,
                credits: u64,
                escrowed: u64,
                withdrawal_requested: Option<u64>,
                withdrawal_available_at: Option<i64>,
            }
            let pending = escrow.and_then(|e| e.pending_withdrawal);
            let v = View {
                owner: owner.to_string(),
                credits: ctx.token_balance(&keys.credits_account(&owner)).await?,
                escrowed: ctx.token_balance(&escrow_credits).await?,
                withdrawal_requested: pending.map(|p| p.amount),
                withdrawal_available_at: pending.map(|p| p.available_at),
            };
            ctx.output.print(&v, || {
                fields(&[
                    ("Owner", v.owner.clone()),
                    ("Credits", credits.ui(v.credits)),
                    ("In usage escrow", credits.ui(v.escrowed)),
                    (
                        "Withdrawal",
                        match pending {
                            Some(p) => format!(
                                "{} from {} (for a day)",
                                credits.ui(p.amount),
                                local_time(p.available_at)
                            ),
                            None => "-".into(),
                        },
                    ),
                ])
            });
        }
        CreditsCommand::WithdrawRequest { amount } => {
            let customer = ctx.keypair()?;
            let (escrow, escrow_credits) = keys.usage_escrow(&customer.pubkey());
            if !ctx.exists(&escrow).await? {
                return Err(CliError::Input(
                    "you have no usage escrow on this network (`depin credits delegate` makes one)"
                        .into(),
                ));
            }
            let amount = match amount {
                Some(text) => ctx.amount(&text, &credits, "--amount")?,
                None => ctx.token_balance(&escrow_credits).await?,
            };
            let ix = payments::request_credit_withdrawal(&customer.pubkey(), &keys, amount);
            let signature = ctx.send(&[ix], &customer, &[]).await?;
            let available = ctx.chain_time().await? + config.withdrawal_notice_secs;
            ctx.output.print(
                &serde_json::json!({ "amount": amount, "signature": signature.to_string() }),
                || if amount == 0 {
                    format!("Withdrawal request withdrawn\nSignature: {signature}")
                } else {
                    format!(
                        "Asked for {} credits back: withdraw them with `depin credits withdraw` from {} (for a day)\nSignature: {signature}",
                        credits.ui(amount),
                        local_time(available)
                    )
                },
            );
        }
        CreditsCommand::Withdraw => {
            let customer = ctx.keypair()?;
            let (escrow_address, _) = keys.usage_escrow(&customer.pubkey());
            let escrow: Option<UsageEscrow> = accounts::fetch_optional(&ctx.rpc, &escrow_address)
                .await
                .map_err(|e| ctx.rpc_error(e))?;
            let Some(pending) = escrow.and_then(|e| e.pending_withdrawal) else {
                return Err(CliError::Input(
                    "no withdrawal is requested: ask first with `depin credits withdraw-request`"
                        .into(),
                ));
            };
            let now = ctx.chain_time().await?;
            if now < pending.available_at {
                return Err(CliError::Input(format!(
                    "the withdrawal's notice has not passed: withdraw from {}",
                    local_time(pending.available_at)
                )));
            }
            if now > pending.available_at.saturating_add(WITHDRAWAL_WINDOW_SECS) {
                return Err(CliError::Input(format!(
                    "the withdrawal request lapsed at {}: ask again with `depin credits withdraw-request`",
                    local_time(pending.available_at.saturating_add(WITHDRAWAL_WINDOW_SECS))
                )));
            }
            let account = keys.credits_account(&customer.pubkey());
            let before = ctx.token_balance(&account).await?;
            let ix = payments::withdraw_credits(&customer.pubkey(), &keys);
            let signature = ctx.send(&[ix], &customer, &[]).await?;
            let got = ctx.token_balance(&account).await? - before;
            ctx.output.print(
                &serde_json::json!({ "withdrawn": got, "signature": signature.to_string() }),
                || {
                    format!(
                        "Took back {} credits\nSignature: {signature}",
                        credits.ui(got)
                    )
                },
            );
        }
    }
    Ok(())
}
