//! `depin token create|mint|balance`: a test token for trying a network, off
//! mainnet, without `spl-token`.

use crate::{config::pubkey, context::Context, error::CliError, output::fields};
use clap::Subcommand;
use depinkit_sdk::{ata, tokens};
use solana_sdk::signature::{Keypair, Signer};

/// Token commands.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token (SPL Token mint); the keypair is its mint authority.
    Create {
        /// Decimals.
        #[arg(long, default_value_t = 6)]
        decimals: u8,
    },
    /// Mint tokens to a wallet (the keypair is the mint authority).
    Mint {
        /// The token's mint.
        mint: String,
        /// Amount, in whole tokens (base units with --base-units).
        amount: String,
        /// Who receives them [default: the keypair's address].
        #[arg(value_name = "RECIPIENT")]
        to: Option<String>,
    },
    /// A wallet's balance of a token.
    Balance {
        /// The token's mint.
        mint: String,
        /// Whose [default: the keypair's].
        #[arg(long)]
        owner: Option<String>,
    },
}

/// Runs a token command.
pub async fn run(ctx: &Context, command: TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Create { decimals } => {
            if ctx.is_mainnet() {
                return Err(CliError::Input(
                    "depin token creates test tokens, not on mainnet".into(),
                ));
            }
            if decimals > 9 {
                return Err(CliError::Input("--decimals is 0 to 9".into()));
            }
            let payer = ctx.keypair()?;
            let mint = Keypair::new();
            let rent = ctx
                .rpc
                .get_minimum_balance_for_rent_exemption(tokens::MINT_LEN)
                .await
                .map_err(|e| ctx.rpc_error(e.into()))?;
            let ixs = tokens::create_mint(
                &payer.pubkey(),
                &mint.pubkey(),
                &payer.pubkey(),
                decimals,
                rent,
            );
            let signature = ctx.send(&ixs, &payer, &[&mint]).await?;
            ctx.output.print(
                &serde_json::json!({ "mint": mint.pubkey().to_string(), "decimals": decimals, "signature": signature.to_string() }),
                || format!(
                    "Token {} created ({decimals} decimals; you are its mint authority)\nSignature: {signature}",
                    mint.pubkey()
                ),
            );
        }
        TokenCommand::Mint { mint, amount, to } => {
            let authority = ctx.keypair()?;
            let mint = ctx.mint(&pubkey(&mint, "mint")?).await?;
            if mint.mint_authority != Some(authority.pubkey()) {
                return Err(CliError::Input(format!(
                    "the keypair {} is not {}'s mint authority",
                    authority.pubkey(),
                    mint.address
                )));
            }
            let amount = ctx.amount(&amount, &mint, "amount")?;
            let to = match to {
                Some(a) => pubkey(&a, "--to")?,
                None => authority.pubkey(),
            };
            let ixs =
                tokens::mint_to_owner(&authority.pubkey(), &mint, &to, &authority.pubkey(), amount);
            let signature = ctx.send(&ixs, &authority, &[]).await?;
            let balance = ctx
                .token_balance(&ata(&to, &mint.address, &mint.token_program))
                .await?;
            ctx.output.print(
                &serde_json::json!({ "mint": mint.address.to_string(), "to": to.to_string(), "amount": amount, "balance": balance, "signature": signature.to_string() }),
                || format!(
                    "Minted {} to {to}; balance {}\nSignature: {signature}",
                    mint.ui(amount),
                    mint.ui(balance)
                ),
            );
        }
        TokenCommand::Balance { mint, owner } => {
            let mint = ctx.mint(&pubkey(&mint, "mint")?).await?;
            let owner = match owner {
                Some(o) => pubkey(&o, "--owner")?,
                None => ctx.keypair()?.pubkey(),
            };
            let account = ata(&owner, &mint.address, &mint.token_program);
            let balance = ctx.token_balance(&account).await?;
            ctx.output.print(
                &serde_json::json!({ "mint": mint.address.to_string(), "owner": owner.to_string(), "account": account.to_string(), "balance": balance }),
                || fields(&[
                    ("Owner", owner.to_string()),
                    ("Token", mint.address.to_string()),
                    ("Balance", mint.ui(balance)),
                ]),
            );
        }
    }
    Ok(())
}
