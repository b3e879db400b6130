//! `depin rewards show|claim`: what devices can claim now, and claiming it, from
//! a proof file (the JSON `depinkit_sdk::proofs::ProofFile` the tree builder
//! writes): a local file (`--proofs FILE`) or the one an oracle serves for
//! the latest root (`--oracle URL`).

use crate::{config::pubkey, context::Context, error::CliError, output::table};
use clap::{Args, Subcommand};
use depinkit_sdk::{
    accounts,
    device_registry::{pda, state::Device},
    pool::{self, ClaimAccounts, ClaimSetup},
    proofs::ProofFile,
    tokens,
};
use indicatif::{ProgressBar, ProgressStyle};
use reward_pool::state::ClaimRecord;
use serde::Serialize;
use solana_sdk::{pubkey::Pubkey, signature::Signer};
use std::collections::HashMap;

/// Where proofs come from.
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct ProofSource {
    /// Proof file of the pool's current root.
    #[arg(long, value_name = "FILE")]
    pub proofs: Option<String>,
    /// An oracle of the network: the proofs of the latest root it holds
    /// (`GET URL/v1/proofs`).
    #[arg(long, value_name = "URL")]
    pub oracle: Option<String>,
}

impl ProofSource {
    async fn load(&self) -> Result<ProofFile, CliError> {
        if let Some(url) = &self.oracle {
            let url = format!("{}/v1/proofs", url.trim_end_matches('/'));
            let response = reqwest::get(&url)
                .await
                .map_err(|e| CliError::Input(format!("cannot reach the oracle at {url}: {e}")))?;
            let status = response.status();
            let text = response
                .text()
                .await
                .map_err(|e| CliError::Input(format!("{url}: {e}")))?;
            if !status.is_success() {
                let message = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v["message"].as_str().map(String::from))
                    .unwrap_or(text);
                return Err(CliError::Input(format!(
                    "{url} answered {status}: {message}"
                )));
            }
            return serde_json::from_str(&text)
                .map_err(|e| CliError::Input(format!("{url} sent no proof file: {e}")));
        }
        let path = self.proofs.as_deref().unwrap_or_default();
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Input(format!("cannot read {path}: {e}")))?;
        serde_json::from_str(&text)
            .map_err(|e| CliError::Input(format!("{path} is not a proof file: {e}")))
    }
}

/// Which devices.
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct Which {
    /// One device, by its key.
    #[arg(long)]
    pub device: Option<String>,
    /// Devices whose NFT this wallet holds.
    #[arg(long)]
    pub owner: Option<String>,
    /// Devices whose NFT the keypair holds.
    #[arg(long)]
    pub mine: bool,
    /// Every device in the proof file (claims pay each device's holder).
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
    /// Claim: the rewards go to each device's NFT holder, the keypair pays the
    /// transaction fees.
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
    proofs: &ProofFile,
) -> Result<Vec<(Pubkey, Pubkey, Option<Pubkey>)>, CliError> {
    let holder_of = |mint: Pubkey| async move {
        tokens::nft_holder(&ctx.rpc, &mint)
            .await
            .map_err(|e| ctx.rpc_error(e))
    };
    if let Some(device) = &which.device {
        let key = pubkey(device, "--device")?;
        let record: Device =
            accounts::fetch_optional(&ctx.rpc, &pda::find_device_address(network, &key).0)
                .await
                .map_err(|e| ctx.rpc_error(e))?
                .ok_or_else(|| {
                    CliError::Input(format!("device {key} is not onboarded on this network"))
                })?;
        return Ok(vec![(key, record.mint, holder_of(record.mint).await?)]);
    }
    let devices = accounts::devices_of_network(&ctx.rpc, network)
        .await
        .map_err(|e| ctx.rpc_error(e))?;
    if which.all {
        let by_mint: HashMap<String, &Device> = devices
            .iter()
            .map(|(_, d)| (d.mint.to_string(), d))
            .collect();
        let mut out = Vec::new();
        for claim in &proofs.claims {
            let Some(device) = by_mint.get(&claim.device_mint) else {
                return Err(CliError::Input(format!(
                    "the proof file names mint {}, which is no device of this network",
                    claim.device_mint
                )));
            };
            out.push((
                device.device_key,
                device.mint,
                holder_of(device.mint).await?,
            ));
        }
        return Ok(out);
    }
    let owner = match &which.owner {
        Some(owner) => pubkey(owner, "--owner")?,
        None => ctx.keypair()?.pubkey(),
    };
    let held = tokens::held_nft_mints(&ctx.rpc, &owner)
        .await
        .map_err(|e| ctx.rpc_error(e))?;
    Ok(devices
        .into_iter()
        .filter(|(_, d)| held.contains(&d.mint))
        .map(|(_, d)| (d.device_key, d.mint, Some(owner)))
        .collect())
}

/// Runs a rewards command.
pub async fn run(ctx: &Context, command: RewardsCommand) -> Result<(), CliError> {
    let (network, _, keys, mint) = ctx.pool_keys().await?;
    let (which, source, claim) = match command {
        RewardsCommand::Show { which, source } => (which, source, false),
        RewardsCommand::Claim { which, source } => (which, source, true),
    };
    let pool_account = ctx.pool(&keys).await?;
    let proofs = source.load().await?;
    if pool_account.root_finalized_at == 0 {
        let end = pool_account.epoch_end(0).unwrap_or_default();
        return Err(CliError::Input(format!(
            "no epoch of the pool is finalized yet: the first root can be voted once epoch 0 ends ({}), then claims follow",
            crate::output::local_time(end)
        )));
    }
    if proofs.root_bytes() != Some(pool_account.root) {
        return Err(CliError::Input(format!(
            "the proof file is for root {} (epoch {}) but the pool's current root is another: get the file of epoch {}",
            proofs.root,
            proofs.epoch,
            pool_account.next_epoch.saturating_sub(1)
        )));
    }
    let mut dues = Vec::new();
    for (key, device_mint, holder) in chosen(ctx, &network, &which, &proofs).await? {
        let (cumulative, proof) = proofs.claim_for(&device_mint).unwrap_or((0, Vec::new()));
        let record_address =
            reward_pool::pda::find_claim_record_address(&keys.pool, &device_mint).0;
        let record = accounts::fetch_optional::<ClaimRecord>(&ctx.rpc, &record_address)
            .await
            .map_err(|e| ctx.rpc_error(e))?;
        let has_record = record.is_some();
        let claimed = record.map_or(0, |r| r.claimed);
        dues.push((
            Due {
                device_key: key.to_string(),
                device_mint: device_mint.to_string(),
                holder: holder.map(|h| h.to_string()),
                cumulative,
                claimed,
                claimable: cumulative.saturating_sub(claimed),
            },
            holder,
            proof,
            has_record,
        ));
    }
    if !claim {
        let rows: Vec<Due> = dues.into_iter().map(|(d, ..)| d).collect();
        ctx.output.print(&rows, || {
            table(
                &["DEVICE KEY", "HOLDER", "CUMULATIVE", "CLAIMED", "CLAIMABLE"],
                &rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.device_key.clone(),
                            r.holder.clone().unwrap_or_else(|| "-".into()),
                            mint.ui(r.cumulative),
                            mint.ui(r.claimed),
                            mint.ui(r.claimable),
                        ]
                    })
                    .collect::<Vec<_>>(),
            )
        });
        return Ok(());
    }
    let payer = ctx.keypair()?;
    // Deep claims go as v0 transactions with the pool's claim lookup table.
    let tables: Vec<_> = (pool_account.claim_lookup_table != Pubkey::default())
        .then(|| pool::claim_lookup_table(&pool_account.claim_lookup_table, &keys))
        .into_iter()
        .collect();
    let payable: Vec<_> = dues.iter().filter(|(d, ..)| d.claimable > 0).collect();
    let bar = ProgressBar::new(payable.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} claims {msg}").expect("template"),
    );
    if ctx.output.is_display() && payable.len() > 1 {
        bar.tick();
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut paid = 0u64;
    let mut failures = Vec::new();
    for (due, holder, proof, has_record) in &payable {
        let Some(holder) = holder else {
            failures.push(format!("{}: nobody holds its NFT", due.device_key));
            continue;
        };
        let device_mint = due.device_mint.parse().expect("a mint");
        let device = pda::find_device_address(&network, &due.device_key.parse().expect("a key")).0;
        let accounts_ = ClaimAccounts::for_holder(&keys, &device, &device_mint, holder);
        let setup = ClaimSetup {
            create_reward_account: !ctx.exists(&accounts_.holder_reward_account).await?,
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
        let mut text = if payable.is_empty() {
            format!(
                "Nothing to claim: the {} device(s) have claimed all rewards up to epoch {}",
                dues.len(),
                pool_account.next_epoch.saturating_sub(1)
            )
        } else {
            format!(
                "Claimed {} for {} device(s)",
                mint.ui(paid),
                payable.len() - failures.len()
            )
        };
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
    Ok(())
}
