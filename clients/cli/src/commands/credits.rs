//! `depin credits buy|delegate|balance`.

use crate::{config::pubkey, context::Context, error::CliError, output::fields};
use clap::Subcommand;
use depinkit_sdk::payments::{self, PaymentsKeys};
use serde::Serialize;
use solana_sdk::signature::Signer;

/// Credits commands.
#[derive(Subcommand, Debug)]
pub enum CreditsCommand {
    /// Burn network tokens for credits at the latest oracle price.
    Buy {
        /// Network tokens to burn, base units.
        #[arg(long)]
        amount: u64,
        /// Refuse if this buys fewer credits (base units).
        #[arg(long, default_value_t = 1)]
        min_credits: u64,
    },
    /// Set credits aside for the network's service (usage escrow).
    Delegate {
        /// Credits, base units.
        #[arg(long)]
        amount: u64,
    },
    /// Credits held and in escrow.
    Balance {
        /// Whose [default: the keypair's].
        #[arg(long)]
        owner: Option<String>,
    },
}

/// Runs a credits command.
pub async fn run(ctx: &Context, command: CreditsCommand) -> Result<(), CliError> {
    let (network, record) = ctx.network_account().await?;
    let burn_program = ctx.token_program_of(&record.reward_mint).await?;
    let keys = PaymentsKeys::new(&network, &record.reward_mint, &burn_program);
    match command {
        CreditsCommand::Buy {
            amount,
            min_credits,
        } => {
            let buyer = ctx.keypair()?;
            let before = ctx
                .token_balance(&keys.credits_account(&buyer.pubkey()))
                .await;
            let signature = ctx
                .send(
                    &[payments::buy_credits(
                        &buyer.pubkey(),
                        &keys,
                        amount,
                        min_credits,
                    )],
                    &buyer,
                    &[],
                )
                .await?;
            let bought = ctx
                .token_balance(&keys.credits_account(&buyer.pubkey()))
                .await
                - before;
            ctx.output.print(
                &serde_json::json!({ "credits": bought, "signature": signature.to_string() }),
                || format!("Bought {bought} credits\nSignature: {signature}"),
            );
        }
        CreditsCommand::Delegate { amount } => {
            let customer = ctx.keypair()?;
            let signature = ctx
                .send(
                    &[payments::delegate_credits(
                        &customer.pubkey(),
                        &keys,
                        amount,
                    )],
                    &customer,
                    &[],
                )
                .await?;
            ctx.output.print(
                &serde_json::json!({ "delegated": amount, "signature": signature.to_string() }),
                || format!("Delegated {amount} credits\nSignature: {signature}"),
            );
        }
        CreditsCommand::Balance { owner } => {
            let owner = match owner {
                Some(o) => pubkey(&o, "--owner")?,
                None => ctx.keypair()?.pubkey(),
            };
            #[derive(Serialize)]
            struct View {
                owner: String,
                credits: u64,
                escrowed: u64,
            }
            let v = View {
                owner: owner.to_string(),
                credits: ctx.token_balance(&keys.credits_account(&owner)).await,
                escrowed: ctx.token_balance(&keys.usage_escrow(&owner).1).await,
            };
            ctx.output.print(&v, || {
                fields(&[
                    ("Owner", v.owner.clone()),
                    ("Credits", v.credits.to_string()),
                    ("In usage escrow", v.escrowed.to_string()),
                ])
            });
        }
    }
    Ok(())
}
