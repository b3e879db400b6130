//! `depin payments init|update|show`: the network's payment settings (the
//! network authority sets them; anyone reads them).

use crate::{
    context::Context,
    error::CliError,
    output::{fields, local_time},
};
use clap::{Args, Subcommand};
use depinkit_sdk::{
    payments::{self, PaymentsKeys},
    tokens::{parse_ui_amount, ui_amount},
};
use service_payments::instructions::{InitPaymentsArgs, UpdatePaymentsArgs};
use solana_sdk::signature::Signer;

/// Settings `init` sets (each with a default) and `update` may change
/// (each left as it is unless given).
#[derive(Args, Debug, Clone, Default)]
pub struct Settings {
    /// USD value of one whole credit, like Helium's data credit [init default: 0.00001].
    #[arg(long)]
    pub credit_usd: Option<String>,
    /// Oldest oracle price credits are bought at, seconds [init default: 300].
    #[arg(long)]
    pub max_price_age: Option<i64>,
    /// Protocol fee on order settlements, basis points: 250 is 2.5 % [init default: 0].
    #[arg(long)]
    pub order_fee_bps: Option<u16>,
    /// Share of a provider's settlement that goes to the reward pool, basis
    /// points [init default: 0].
    #[arg(long)]
    pub pool_share_bps: Option<u16>,
    /// Notice before unused credits leave a usage escrow, seconds [init default: 86400].
    #[arg(long)]
    pub withdrawal_notice: Option<i64>,
}

/// Payments commands.
#[derive(Subcommand, Debug)]
pub enum PaymentsCommand {
    /// Set up credits and order fees (network authority). Credits are bought by
    /// burning the network's reward token.
    Init {
        #[command(flatten)]
        settings: Settings,
        /// Decimals of the credits.
        #[arg(long, default_value_t = 0)]
        credits_decimals: u8,
    },
    /// Change payment settings (network authority); orders keep the fee they
    /// were opened with.
    Update {
        #[command(flatten)]
        settings: Settings,
    },
    /// Show the network's payment settings and latest price.
    Show,
}

fn credit_micros(text: &str) -> Result<u64, CliError> {
    parse_ui_amount(text, 6).filter(|m| *m > 0).ok_or_else(|| {
        CliError::Input(format!(
            "--credit-usd {text:?} is not a positive USD amount with at most 6 decimals"
        ))
    })
}

/// Runs a payments command.
pub async fn run(ctx: &Context, command: PaymentsCommand) -> Result<(), CliError> {
    let (network, record) = ctx.network_account().await?;
    let burn = ctx.mint(&record.reward_mint).await?;
    let keys = PaymentsKeys::new(&network, &burn.address, &burn.token_program);
    match command {
        PaymentsCommand::Init {
            settings,
            credits_decimals,
        } => {
            let authority = ctx.keypair()?;
            if ctx.exists(&keys.config).await? {
                return Err(CliError::Input(
                    "payments are already set up on this network: see `depin payments show`, change them with `depin payments update`".into(),
                ));
            }
            let args = InitPaymentsArgs {
                credits_decimals,
                credit_usd_micros: credit_micros(
                    settings.credit_usd.as_deref().unwrap_or("0.00001"),
                )?,
                max_price_age_secs: settings.max_price_age.unwrap_or(300),
                order_fee_bps: settings.order_fee_bps.unwrap_or(0),
                pool_share_bps: settings.pool_share_bps.unwrap_or(0),
                withdrawal_notice_secs: settings.withdrawal_notice.unwrap_or(86_400),
            };
            let ix = payments::init_payments(&authority.pubkey(), &keys, args);
            let signature = ctx.send(&[ix], &authority, &[]).await?;
            ctx.output.print(
                &serde_json::json!({ "config": keys.config.to_string(), "credits_mint": keys.credits_mint.to_string(), "signature": signature.to_string() }),
                || format!(
                    "Payments set up: credits mint {}\nSignature: {signature}",
                    keys.credits_mint
                ),
            );
        }
        PaymentsCommand::Update { settings } => {
            let authority = ctx.keypair()?;
            let args = UpdatePaymentsArgs {
                credit_usd_micros: settings
                    .credit_usd
                    .as_deref()
                    .map(credit_micros)
                    .transpose()?,
                max_price_age_secs: settings.max_price_age,
                order_fee_bps: settings.order_fee_bps,
                pool_share_bps: settings.pool_share_bps,
                withdrawal_notice_secs: settings.withdrawal_notice,
            };
            let ix = payments::update_payments(&authority.pubkey(), &keys, args);
            let signature = ctx.send(&[ix], &authority, &[]).await?;
            ctx.output.print(
                &serde_json::json!({ "signature": signature.to_string() }),
                || format!("Payment settings updated\nSignature: {signature}"),
            );
        }
        PaymentsCommand::Show => {
            let config = ctx.payments_config(&keys.config).await?;
            let price = config.price.map(|p| {
                let decimals = u8::try_from(-p.expo).unwrap_or(0);
                (
                    ui_amount(p.price, decimals),
                    ui_amount(p.conf, decimals),
                    p.publish_time,
                )
            });
            ctx.output.print(
                &serde_json::json!({
                    "config": keys.config.to_string(),
                    "credits_mint": config.credits_mint.to_string(),
                    "credits_decimals": config.credits_decimals,
                    "burn_mint": config.burn_mint.to_string(),
                    "credit_usd_micros": config.credit_usd_micros,
                    "max_price_age_secs": config.max_price_age_secs,
                    "order_fee_bps": config.order_fee_bps,
                    "pool_share_bps": config.pool_share_bps,
                    "withdrawal_notice_secs": config.withdrawal_notice_secs,
                    "price": config.price.map(|p| serde_json::json!({
                        "price": p.price, "conf": p.conf, "expo": p.expo,
                        "publish_time": p.publish_time, "finalized_at": p.finalized_at,
                    })),
                    "pending_price_votes": config.price_votes.len(),
                }),
                || {
                    fields(&[
                        ("Credits mint", config.credits_mint.to_string()),
                        (
                            "Credit value",
                            format!("${}", ui_amount(config.credit_usd_micros, 6)),
                        ),
                        ("Burned to buy", burn.address.to_string()),
                        (
                            "Price",
                            match &price {
                                Some((p, c, at)) => {
                                    format!("${p} +- ${c} (observed {})", local_time(*at))
                                }
                                None => {
                                    "- (the oracles vote one with `depin oracle vote-price`)".into()
                                }
                            },
                        ),
                        ("Max price age", format!("{} s", config.max_price_age_secs)),
                        ("Order fee", format!("{} bps", config.order_fee_bps)),
                        ("Pool share", format!("{} bps", config.pool_share_bps)),
                        (
                            "Withdrawal notice",
                            format!("{} s", config.withdrawal_notice_secs),
                        ),
                    ])
                },
            );
        }
    }
    Ok(())
}
