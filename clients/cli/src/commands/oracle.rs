//! `depin oracle tree|vote-root`: an oracle operator's manual tools, for
//! networks run by hand and for trying a network before the daemon runs: build
//! an epoch's reward tree from a CSV of amounts, and vote its root.

use crate::{config::pubkey, context::Context, error::CliError};
use clap::Subcommand;
use depinkit_sdk::{
    device_registry::pda,
    pool::{self, PoolKeys},
    proofs::ProofFile,
};
use reward_pool::merkle::RewardTree;
use solana_sdk::signature::Signer;
use std::path::PathBuf;

/// Oracle commands.
#[derive(Subcommand, Debug)]
pub enum OracleCommand {
    /// Build an epoch's reward tree and write its proof file.
    Tree {
        /// CSV with a header `device,cumulative`: device keys and cumulative
        /// rewards in reward-mint base units.
        #[arg(long, value_name = "FILE")]
        amounts: PathBuf,
        /// The epoch the tree is for.
        #[arg(long)]
        epoch: u32,
        /// Where to write the proof file.
        #[arg(long, short = 'o', value_name = "FILE")]
        outfile: PathBuf,
    },
    /// Vote the root of a proof file for its epoch (the keypair is the oracle).
    VoteRoot {
        /// The proof file.
        #[arg(long, value_name = "FILE")]
        proofs: PathBuf,
    },
}

/// Runs an oracle command.
pub async fn run(ctx: &Context, command: OracleCommand) -> Result<(), CliError> {
    let (network, record) = ctx.network_account().await?;
    let token_program = ctx.token_program_of(&record.reward_mint).await?;
    let keys = PoolKeys::new(&network, &record.reward_mint, &token_program);
    match command {
        OracleCommand::Tree {
            amounts,
            epoch,
            outfile,
        } => {
            let text = std::fs::read_to_string(&amounts)
                .map_err(|e| CliError::Input(format!("cannot read {}: {e}", amounts.display())))?;
            let mut leaves = Vec::new();
            for (i, line) in text
                .lines()
                .enumerate()
                .skip(1)
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let mut cells = line.split(',').map(str::trim);
                let (Some(device), Some(amount)) = (cells.next(), cells.next()) else {
                    return Err(CliError::Input(format!(
                        "{} line {}: expected device,cumulative",
                        amounts.display(),
                        i + 1
                    )));
                };
                let device = pubkey(device, "device")?;
                let amount: u64 = amount.parse().map_err(|_| {
                    CliError::Input(format!(
                        "{} line {}: {amount:?} is not an amount",
                        amounts.display(),
                        i + 1
                    ))
                })?;
                leaves.push((pda::find_device_mint_address(&network, &device).0, amount));
            }
            let tree = RewardTree::new(leaves).map_err(|e| CliError::Input(e.to_string()))?;
            let file = ProofFile::from_tree(&keys.pool, epoch, &tree);
            std::fs::write(&outfile, serde_json::to_string_pretty(&file).expect("json"))
                .map_err(|e| CliError::Input(format!("cannot write {}: {e}", outfile.display())))?;
            ctx.output.print(
                &serde_json::json!({ "root": file.root, "total": file.total, "devices": file.claims.len(), "proofs": outfile.display().to_string() }),
                || format!("Root {} for {} devices ({} in total) written to {}", file.root, file.claims.len(), file.total, outfile.display()),
            );
        }
        OracleCommand::VoteRoot { proofs } => {
            let oracle = ctx.keypair()?;
            let text = std::fs::read_to_string(&proofs)
                .map_err(|e| CliError::Input(format!("cannot read {}: {e}", proofs.display())))?;
            let file: ProofFile = serde_json::from_str(&text).map_err(|e| {
                CliError::Input(format!("{} is not a proof file: {e}", proofs.display()))
            })?;
            let root = file.root_bytes().ok_or_else(|| {
                CliError::Input(format!(
                    "{}: the root is not 32 bytes of hex",
                    proofs.display()
                ))
            })?;
            let args = reward_pool::instructions::VoteEpochRootArgs {
                epoch: file.epoch,
                root,
                total: file.total,
                leaf_count: file.claims.len() as u64,
            };
            let ix = pool::vote_epoch_root(&oracle.pubkey(), &network, &keys.pool, args);
            let signature = ctx.send(&[ix], &oracle, &[]).await?;
            ctx.output.print(
                &serde_json::json!({ "epoch": file.epoch, "signature": signature.to_string() }),
                || {
                    format!(
                        "Voted root {} for epoch {}\\nSignature: {signature}",
                        file.root, file.epoch
                    )
                },
            );
        }
    }
    Ok(())
}
