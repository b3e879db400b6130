//! `depin wallet new|address|balance` and `depin airdrop`: a newcomer's wallet
//! without the solana CLI.

use crate::{
    config::{self, pubkey},
    context::Context,
    error::CliError,
    output::fields,
};
use clap::Subcommand;
use depinkit_sdk::tokens::{parse_ui_amount, ui_amount};
use solana_sdk::{
    native_token::LAMPORTS_PER_SOL,
    signature::{Keypair, Signer},
};
use std::path::PathBuf;

/// SOL has 9 decimals.
const SOL_DECIMALS: u8 = 9;

/// Wallet commands.
#[derive(Subcommand, Debug)]
pub enum WalletCommand {
    /// Write a new wallet keypair (never over an existing file).
    New {
        /// Where [default: the keypair depin uses, see `depin config get`].
        #[arg(long, value_name = "FILE")]
        outfile: Option<PathBuf>,
    },
    /// The keypair's address.
    Address,
    /// A wallet's SOL balance.
    Balance {
        /// Whose [default: the keypair's].
        address: Option<String>,
    },
}

/// Runs a wallet command.
pub async fn run(ctx: &Context, command: WalletCommand) -> Result<(), CliError> {
    match command {
        WalletCommand::New { outfile } => {
            let path = match outfile {
                Some(path) => path,
                None => ctx.keypair_path()?,
            };
            let keypair = Keypair::new();
            config::write_new_keypair(&keypair, &path)?;
            ctx.output.print(
                &serde_json::json!({ "address": keypair.pubkey().to_string(), "keypair": path.display().to_string() }),
                || format!("Wallet {} written to {} (readable by you only)", keypair.pubkey(), path.display()),
            );
        }
        WalletCommand::Address => {
            let address = ctx.keypair()?.pubkey();
            ctx.output.print(
                &serde_json::json!({ "address": address.to_string() }),
                || address.to_string(),
            );
        }
        WalletCommand::Balance { address } => {
            let address = match address {
                Some(a) => pubkey(&a, "address")?,
                None => ctx.keypair()?.pubkey(),
            };
            let lamports = ctx
                .rpc
                .get_balance(&address)
                .await
                .map_err(|e| ctx.rpc_error(e.into()))?;
            ctx.output.print(
                &serde_json::json!({ "address": address.to_string(), "lamports": lamports }),
                || {
                    fields(&[
                        ("Address", address.to_string()),
                        (
                            "Balance",
                            format!("{} SOL", ui_amount(lamports, SOL_DECIMALS)),
                        ),
                    ])
                },
            );
        }
    }
    Ok(())
}

/// `depin airdrop SOL [RECIPIENT]`, refused on mainnet.
pub async fn airdrop(ctx: &Context, sol: &str, to: Option<String>) -> Result<(), CliError> {
    if ctx.is_mainnet() {
        return Err(CliError::Input(
            "there are no airdrops on mainnet: buy SOL and send it to the wallet".into(),
        ));
    }
    let lamports = if ctx.base_units {
        sol.parse::<u64>().ok()
    } else {
        parse_ui_amount(sol, SOL_DECIMALS)
    }
    .filter(|l| *l > 0)
    .ok_or_else(|| CliError::Input(format!("{sol:?} is not an amount of SOL")))?;
    let to = match to {
        Some(a) => pubkey(&a, "--to")?,
        None => ctx.keypair()?.pubkey(),
    };
    let signature = ctx
        .rpc
        .request_airdrop(&to, lamports)
        .await
        .map_err(|e| {
            CliError::Rpc(format!(
                "the cluster at {} refused the airdrop: {e} (devnet limits airdrops; localnet has none)",
                ctx.url
            ))
        })?;
    // Wait until it lands, so the next command can spend it.
    for _ in 0..60 {
        if ctx
            .rpc
            .confirm_transaction(&signature)
            .await
            .unwrap_or(false)
        {
            let balance = ctx
                .rpc
                .get_balance(&to)
                .await
                .map_err(|e| ctx.rpc_error(e.into()))?;
            ctx.output.print(
                &serde_json::json!({ "address": to.to_string(), "lamports": lamports, "balance": balance, "signature": signature.to_string() }),
                || format!(
                    "{} SOL to {to}; balance {} SOL\nSignature: {signature}",
                    ui_amount(lamports, SOL_DECIMALS),
                    ui_amount(balance, SOL_DECIMALS)
                ),
            );
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(CliError::Rpc(format!(
        "the airdrop {signature} did not confirm within 30 s ({} lamports per SOL asked: {lamports})",
        LAMPORTS_PER_SOL
    )))
}
