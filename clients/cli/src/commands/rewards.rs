//! `depin rewards show|claim`: what devices can claim now, and claiming it, from
//! a proof file (the JSON `depinkit_sdk::proofs::ProofFile` the tree builder
//! writes). The source is a `--proofs` argument so that the oracle's HTTP
//! endpoint can serve the same JSON later.

use crate::{config::pubkey, context::Context, error::CliError, output::table};
use clap::{Args, Subcommand};
use depinkit_sdk::{
    accounts,
    device_registry::{pda, state::Device},
    pool::{self, ClaimAccounts, ClaimSetup, PoolKeys},
    proofs::ProofFile,
};
use indicatif::{ProgressBar, ProgressStyle};
use reward_pool::state::{ClaimRecord, Pool};
use serde::Serialize;
use solana_sdk::{pubkey::Pubkey, signature::Signer};

/// Where proofs come from.
#[derive(Args, Debug, Clone)]
pub struct ProofSource {
    /// Proof file of the pool's current root (a path; an oracle URL later).
    #[arg(long, value_name = "FILE")]
    pub proofs: String,
}

impl ProofSource {
    fn load(&self) -> Result<ProofFile, CliError> {
        if self.proofs.starts_with("http://") || self.proofs.starts_with("https://") {
            return Err(CliError::Input(
                "proofs over HTTP come with the oracle daemon: download the file and pass its path"
                    .into(),
            ));
        }
        let text = std::fs::read_to_string(&self.proofs)
            .map_err(|e| CliError::Input(format!("cannot read {}: {e}", self.proofs)))?;
        serde_json::from_str(&text)
            .map_err(|e| CliError::Input(format!("{} is not a proof file: {e}", self.proofs)))
    }
}

/// Which devices.
#[derive(Args, Debug, Clone)]
pub struct Which {
    /// One device, by its key.
    #[arg(long, conflicts_with_all = ["owner", "all"])]
    pub device: Option<String>,
    /// Devices whose NFT this wallet holds.
    #[arg(long, conflicts_with = "all")]
    pub owner: Option<String>,
    /// Devices whose NFT the keypair holds.
    #[arg(long)]
    pub all: bool,
}

/// Rewards commands.
#[derive(Subcommand, Debug)]
pub enum RewardsCommand {
    /// What devices can claim now.
    Show {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        source: ProofSource,
    },
    /// Claim for a device, or every device the keypair holds (--all).
    Claim {
        #[command(flatten)]
        which: Which,
        #[command(flatten)]
        source: ProofSource,
    },
}

#[derive(Serialize, Clone)]
struct Due {
    device_key: String,
    device_mint: String,
    holder: Option<String>,
    cumulative: u64,
    claimed: u64,
    claimable: u64,
}

/// (device key, mint, holder) of the chosen devices.
async fn chosen(
    ctx: &Context,
    network: &Pubkey,
    which: &Which,
) -> Result<Vec<(Pubkey, Pubkey, Pubkey)>, CliError> {
    if let Some(device) = &which.device {
        let key = pubkey(device, "--device")?;
        let record: Device =
            accounts::fetch(&ctx.rpc, &pda::find_device_address(network, &key).0).await?;
        let holder = crate::commands::device::holder(ctx, &record.mint)
            .await
            .ok_or_else(|| CliError::Input(format!("no wallet holds device {key}'s NFT")))?;
        return Ok(vec![(key, record.mint, holder)]);
    }
    let owner = match (&which.owner, which.all) {
        (Some(owner), _) => pubkey(owner, "--owner")?,
        (None, true) => ctx.keypair()?.pubkey(),
        (None, false) => {
            return Err(CliError::Input(
                "choose --device KEY, --owner WALLET or --all".into(),
            ));
        }
    };
    let held = crate::commands::device::held_mints(ctx, &owner).await?;
    let devices = accounts::devices_of_network(&ctx.rpc, network).await?;
    Ok(devices
        .into_iter()
        .filter(|(_, d)| held.contains(&d.mint))
        .map(|(_, d)| (d.device_key, d.mint, owner))
        .collect())
}

/// Runs a rewards command.
pub async fn run(ctx: &Context, command: RewardsCommand) -> Result<(), CliError> {
    let (network, record) = ctx.network_account().await?;
    let token_program = ctx.token_program_of(&record.reward_mint).await?;
    let keys = PoolKeys::new(&network, &record.reward_mint, &token_program);
    let decimals = crate::commands::network::mint_decimals(ctx, &record.reward_mint)
        .await
        .unwrap_or(0);
    let symbol = crate::commands::network::mint_symbol(ctx, &record.reward_mint).await;
    let ui_amount = |amount: u64, decimals: u8| {
        crate::commands::network::with_symbol(amount, decimals, &symbol)
    };
    let (which, source, claim) = match command {
        RewardsCommand::Show { which, source } => (which, source, false),
        RewardsCommand::Claim { which, source } => (which, source, true),
    };
    let proofs = source.load()?;
    let pool: Pool = accounts::fetch(&ctx.rpc, &keys.pool).await?;
    if proofs.root_bytes() != Some(pool.root) {
        return Err(CliError::Input(format!(
            "the proof file is for root {} but the pool's current root is another: get the file of epoch {}",
            proofs.root,
            pool.next_epoch.saturating_sub(1)
        )));
    }
    let mut dues = Vec::new();
    for (key, mint, holder) in chosen(ctx, &network, &which).await? {
        let (cumulative, proof) = proofs.claim_for(&mint).unwrap_or((0, Vec::new()));
        let record_address = reward_pool::pda::find_claim_record_address(&keys.pool, &mint).0;
        let record = accounts::fetch_optional::<ClaimRecord>(&ctx.rpc, &record_address).await?;
        let has_record = record.is_some();
        let claimed = record.map_or(0, |r| r.claimed);
        dues.push((
            Due {
                device_key: key.to_string(),
                device_mint: mint.to_string(),
                holder: Some(holder.to_string()),
                cumulative,
                claimed,
                claimable: cumulative.saturating_sub(claimed),
            },
            holder,
            proof,
            has_record,
        ));
    }
    if claim {
        let payer = ctx.keypair()?;
        // Deep claims go as v0 transactions with the pool's claim lookup table.
        let tables: Vec<_> = (pool.claim_lookup_table != Pubkey::default())
            .then(|| pool::claim_lookup_table(&pool.claim_lookup_table, &keys))
            .into_iter()
            .collect();
        let payable: Vec<_> = dues.iter().filter(|(d, ..)| d.claimable > 0).collect();
        let bar = ProgressBar::new(payable.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} claims {msg}").expect("template"),
        );
        if matches!(ctx.output, crate::output::OutputFormat::Display) && payable.len() > 1 {
            bar.tick();
        } else {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let mut paid = 0u64;
        let mut failures = Vec::new();
        for (due, holder, proof, has_record) in &payable {
            let mint = due.device_mint.parse().expect("mint");
            let device =
                pda::find_device_address(&network, &due.device_key.parse().expect("key")).0;
            let accounts_ = ClaimAccounts::for_holder(&keys, &device, &mint, holder);
            let setup = ClaimSetup {
                create_reward_account: ctx
                    .rpc
                    .get_account(&accounts_.holder_reward_account)
                    .await
                    .is_err(),
                create_claim_record: !has_record,
            };
            let transactions = pool::claim_transactions(
                &payer.pubkey(),
                holder,
                &keys,
                accounts_,
                setup,
                due.cumulative,
                proof.clone(),
                !tables.is_empty(),
            );
            let mut result = Ok(());
            for ixs in &transactions {
                result = ctx
                    .send_with_lookup_tables(ixs, &payer, &[], &tables)
                    .await
                    .map(|_| ());
                if result.is_err() {
                    break;
                }
            }
            match result {
                Ok(()) => paid += due.claimable,
                Err(e) => failures.push(format!("{}: {e}", due.device_key)),
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        let summary = serde_json::json!({ "claims": payable.len() - failures.len(), "paid": paid, "failed": failures });
        ctx.output.print(&summary, || {
            let mut text = format!(
                "Claimed {} for {} device(s)",
                ui_amount(paid, decimals),
                payable.len() - failures.len()
            );
            for failure in &failures {
                text.push_str(&format!("\nfailed: {failure}"));
            }
            text
        });
        if !failures.is_empty() {
            return Err(CliError::Transaction(format!(
                "{} claim(s) failed",
                failures.len()
            )));
        }
        return Ok(());
    }
    let rows: Vec<Due> = dues.into_iter().map(|(d, ..)| d).collect();
    ctx.output.print(&rows, || {
        table(
            &["DEVICE KEY", "CUMULATIVE", "CLAIMED", "CLAIMABLE"],
            &rows
                .iter()
                .map(|r| {
                    vec![
                        r.device_key.clone(),
                        ui_amount(r.cumulative, decimals),
                        ui_amount(r.claimed, decimals),
                        ui_amount(r.claimable, decimals),
                    ]
                })
                .collect::<Vec<_>>(),
        )
    });
    Ok(())
}
