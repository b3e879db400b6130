//! `depin oracle tree|vote-root|vote-price|burn-usage|close-usage|vote-settlement`:
//! an oracle operator's manual tools, for networks run by hand and for trying
//! a network before the daemon runs (the keypair is the oracle); and
//! `depin oracle verify-epoch`, anyone's check of an oracle's epoch bundle.

use crate::{config::pubkey, context::Context, error::CliError, output::local_time};
use clap::Subcommand;
use depinkit_sdk::{
    accounts,
    payments::{self, PaymentsKeys},
    pool,
    proofs::{ProofFile, parse_hash},
    tokens,
};
use reward_pool::merkle::RewardTree;
use service_payments::{
    instructions::{BurnUsageArgs, VotePriceArgs, VoteSettlementArgs},
    state::{EpochUsage, Order, PaymentsConfig, UsageReport},
};
use solana_sdk::signature::Signer;
use std::{collections::HashMap, path::PathBuf};

/// Oracle commands.
#[derive(Subcommand, Debug)]
pub enum OracleCommand {
    /// Build an epoch's reward tree and write its proof file.
    Tree {
        /// CSV with the header `device,cumulative`: device keys of this network
        /// and cumulative rewards in base units of the reward mint.
        #[arg(long, value_name = "FILE")]
        amounts: PathBuf,
        /// The epoch the tree is for.
        #[arg(long)]
        epoch: u32,
        /// Where to write the proof file.
        #[arg(long, value_name = "FILE")]
        outfile: PathBuf,
    },
    /// Vote the root of a proof file for its epoch.
    VoteRoot {
        /// The proof file.
        #[arg(long, value_name = "FILE")]
        proofs: PathBuf,
    },
    /// Vote the network token's USD price.
    VotePrice {
        /// USD per whole token (e.g. 5.00).
        #[arg(long)]
        price: String,
        /// Confidence, USD (e.g. 0.01).
        #[arg(long, default_value = "0")]
        confidence: String,
        /// Unix time the price was observed [default: now].
        #[arg(long)]
        publish_time: Option<i64>,
    },
    /// Attest a customer's usage in an epoch (burned at the threshold).
    BurnUsage {
        /// The customer.
        #[arg(long)]
        customer: String,
        /// Reward-pool epoch of the usage [default: the running epoch].
        #[arg(long)]
        epoch: Option<u32>,
        /// Credits used, whole credits.
        #[arg(long)]
        amount: String,
        /// Merkle root of the usage receipts (64 hex characters).
        #[arg(
            long,
            default_value = "0000000000000000000000000000000000000000000000000000000000000000"
        )]
        receipt_root: String,
    },
    /// Close a finalized epoch's usage report of a customer (or, without
    /// --customer, the network's usage total); the rent goes back to its payer.
    CloseUsage {
        /// The epoch.
        #[arg(long)]
        epoch: u32,
        /// The customer whose report to close.
        #[arg(long)]
        customer: Option<String>,
    },
    /// Attest a settlement of an accepted order (paid out at the threshold).
    VoteSettlement {
        /// The order's customer.
        #[arg(long)]
        customer: String,
        /// The customer's order id.
        #[arg(long)]
        id: u64,
        /// Amount this settlement pays, whole tokens of the order's mint.
        #[arg(long)]
        amount: String,
        /// Hash of the receipt (64 hex characters).
        #[arg(
            long,
            default_value = "0000000000000000000000000000000000000000000000000000000000000000"
        )]
        receipt_hash: String,
        /// The service is complete: refund the rest and close the order.
        #[arg(long)]
        complete: bool,
    },
    /// Recompute an epoch's root from an oracle's bundle (every signature
    /// checked again, the rule set re-run) and compare it with the root the
    /// pool finalized, on this CLI's cluster. Runs `depin-oracle
    /// verify-epoch`, found beside `depin` or on the PATH. Exits 0 only when
    /// they agree, 1 when they do not.
    VerifyEpoch {
        /// The epoch.
        epoch: u64,
        /// The bundle: a file, or an oracle's URL for it
        /// (`http://HOST:8780/v1/epochs/N/bundle`).
        #[arg(long, value_name = "URL|FILE")]
        bundle: String,
    },
}

/// The `depin-oracle` program: beside this one (a cargo build or install
/// puts both in one directory), else the first on the PATH.
fn oracle_program() -> Result<PathBuf, CliError> {
    let beside = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(format!("depin-oracle{}", std::env::consts::EXE_SUFFIX)));
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(format!("depin-oracle{}", std::env::consts::EXE_SUFFIX)))
            .collect::<Vec<_>>()
    });
    beside
        .into_iter()
        .chain(on_path)
        .find(|path| path.is_file())
        .ok_or_else(|| {
            CliError::Input(
                "depin-oracle is not installed: `cargo install --path oracles/daemon` (or \
                 `cargo build -p depinkit-oracle`, which puts it beside depin)"
                    .into(),
            )
        })
}

/// `depin oracle verify-epoch`: the oracle's verifier on this CLI's cluster.
/// Its report is printed as it is; its refusal becomes this command's one
/// error line.
fn verify_epoch(ctx: &Context, epoch: u64, bundle: &str) -> Result<(), CliError> {
    let out = std::process::Command::new(oracle_program()?)
        .args(["verify-epoch", &epoch.to_string(), "--bundle", bundle])
        .args(["--rpc-url", &ctx.rpc.url()])
        .output()
        .map_err(|e| CliError::Input(format!("cannot run depin-oracle: {e}")))?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let why = stderr
        .lines()
        .find_map(|line| line.strip_prefix("error: "))
        .unwrap_or("depin-oracle gave no reason")
        .to_string();
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(CliError::Mismatch(format!(
            "epoch {epoch}: the bundle does not reproduce the root the pool finalized: {why}"
        ))),
        _ => Err(CliError::Input(format!("epoch {epoch}: {why}"))),
    }
}

fn hash_arg(text: &str, flag: &str) -> Result<[u8; 32], CliError> {
    parse_hash(text).ok_or_else(|| CliError::Input(format!("{flag} must be 64 hex characters")))
}

/// A decimal USD amount ("5.00") as a mantissa with the exponent `-decimals`.
fn usd_mantissa(text: &str, decimals: u8, flag: &str) -> Result<u64, CliError> {
    tokens::parse_ui_amount(text, decimals)
        .ok_or_else(|| CliError::Input(format!("{flag} {text:?} is not a USD amount")))
}

/// Runs an oracle command.
pub async fn run(ctx: &Context, command: OracleCommand) -> Result<(), CliError> {
    match command {
        OracleCommand::Tree {
            amounts,
            epoch,
            outfile,
        } => tree(ctx, &amounts, epoch, &outfile).await,
        OracleCommand::VoteRoot { proofs } => vote_root(ctx, &proofs).await,
        OracleCommand::VerifyEpoch { epoch, bundle } => verify_epoch(ctx, epoch, &bundle),
        OracleCommand::VotePrice {
            price,
            confidence,
            publish_time,
        } => {
            let oracle = ctx.keypair()?;
            let (network, record) = ctx.network_account().await?;
            let decimals = [&price, &confidence]
                .iter()
                .map(|t| t.split_once('.').map_or(0, |(_, f)| f.len()))
                .max()
                .unwrap_or(0)
                .min(18) as u8;
            let args = VotePriceArgs {
                price: usd_mantissa(&price, decimals, "--price")?,
                conf: usd_mantissa(&confidence, decimals, "--confidence")?,
                expo: -i32::from(decimals),
                publish_time: match publish_time {
                    Some(t) => t,
                    None => ctx.chain_time().await?,
                },
            };
            let burn = ctx.mint(&record.reward_mint).await?;
            let keys = PaymentsKeys::new(&network, &burn.address, &burn.token_program);
            let ix = payments::vote_price(&oracle.pubkey(), &keys, args);
            let signature = ctx.send(&[ix], &oracle, &[]).await?;
            let config: PaymentsConfig = accounts::fetch(&ctx.rpc, &keys.config)
                .await
                .map_err(|e| ctx.rpc_error(e))?;
            let finalized = config
                .price
                .is_some_and(|p| p.publish_time == args.publish_time);
            ctx.output.print(
                &serde_json::json!({ "price": args.price, "conf": args.conf, "expo": args.expo, "finalized": finalized, "signature": signature.to_string() }),
                || format!(
                    "Voted ${price} +- ${confidence}{}\nSignature: {signature}",
                    if finalized { ": the price is final" } else { "" }
                ),
            );
            Ok(())
        }
        OracleCommand::BurnUsage {
            customer,
            epoch,
            amount,
            receipt_root,
        } => {
            let oracle = ctx.keypair()?;
            let (network, _, pool_keys, burn) = ctx.pool_keys().await?;
            let keys = PaymentsKeys::new(&network, &burn.address, &burn.token_program);
            let credits = ctx.mint(&keys.credits_mint).await?;
            let customer = pubkey(&customer, "--customer")?;
            let epoch = match epoch {
                Some(e) => e,
                None => {
                    let pool = ctx.pool(&pool_keys).await?;
                    pool.epoch_at(ctx.chain_time().await?).ok_or_else(|| {
                        CliError::Input("the pool's first epoch has not started".into())
                    })?
                }
            };
            let args = BurnUsageArgs {
                epoch,
                amount: ctx.amount(&amount, &credits, "--amount")?,
                receipt_root: hash_arg(&receipt_root, "--receipt-root")?,
            };
            let ix = payments::burn_usage(&oracle.pubkey(), &keys, &customer, args);
            let signature = ctx.send(&[ix], &oracle, &[]).await?;
            let (escrow, _) = keys.usage_escrow(&customer);
            let report: UsageReport = accounts::fetch(
                &ctx.rpc,
                &service_payments::pda::find_usage_report_address(&escrow, epoch).0,
            )
            .await
            .map_err(|e| ctx.rpc_error(e))?;
            ctx.output.print(
                &serde_json::json!({ "epoch": epoch, "amount": args.amount, "burned": report.finalized, "signature": signature.to_string() }),
                || format!(
                    "Voted {} credits of usage in epoch {epoch}{}\nSignature: {signature}",
                    credits.ui(args.amount),
                    if report.finalized { ": burned" } else { "" }
                ),
            );
            Ok(())
        }
        OracleCommand::CloseUsage { epoch, customer } => {
            let payer = ctx.keypair()?;
            let (network, _, _, burn) = ctx.pool_keys().await?;
            let keys = PaymentsKeys::new(&network, &burn.address, &burn.token_program);
            let (ix, what) = match customer {
                Some(customer) => {
                    let customer = pubkey(&customer, "--customer")?;
                    let (escrow, _) = keys.usage_escrow(&customer);
                    let address =
                        service_payments::pda::find_usage_report_address(&escrow, epoch).0;
                    let report: UsageReport = accounts::fetch_optional(&ctx.rpc, &address)
                        .await
                        .map_err(|e| ctx.rpc_error(e))?
                        .ok_or_else(|| {
                            CliError::Input(format!(
                                "no usage report of {customer} for epoch {epoch}"
                            ))
                        })?;
                    (
                        payments::close_usage_report(&keys, &customer, epoch, &report.rent_payer),
                        format!("usage report of {customer}"),
                    )
                }
                None => {
                    let address =
                        service_payments::pda::find_epoch_usage_address(&network, epoch).0;
                    let total: EpochUsage = accounts::fetch_optional(&ctx.rpc, &address)
                        .await
                        .map_err(|e| ctx.rpc_error(e))?
                        .ok_or_else(|| {
                            CliError::Input(format!("no usage total for epoch {epoch}"))
                        })?;
                    (
                        payments::close_epoch_usage(&keys, epoch, &total.rent_payer),
                        "usage total".to_string(),
                    )
                }
            };
            let signature = ctx.send(&[ix], &payer, &[]).await?;
            ctx.output.print(
                &serde_json::json!({ "epoch": epoch, "signature": signature.to_string() }),
                || format!("Closed the {what} of epoch {epoch}\nSignature: {signature}"),
            );
            Ok(())
        }
        OracleCommand::VoteSettlement {
            customer,
            id,
            amount,
            receipt_hash,
            complete,
        } => {
            let oracle = ctx.keypair()?;
            let (network, record, pool_keys, _) = ctx.pool_keys().await?;
            let customer = pubkey(&customer, "--customer")?;
            let address = service_payments::pda::find_order_address(&network, &customer, id).0;
            let order: Order = accounts::fetch_optional(&ctx.rpc, &address)
                .await
                .map_err(|e| ctx.rpc_error(e))?
                .ok_or_else(|| CliError::Input(format!(
                    "no open order {id} of {customer} (completed and cancelled orders are closed)"
                )))?;
            let mint = ctx.mint(&order.payment_mint).await?;
            let args = VoteSettlementArgs {
                opened_slot: order.opened_slot,
                sequence: order.settlement_count,
                amount: ctx.amount(&amount, &mint, "--amount")?,
                receipt_hash: hash_arg(&receipt_hash, "--receipt-hash")?,
                complete,
            };
            if order.payment_mint == record.reward_mint {
                // Settlements in the reward token pass the pool (its share).
                ctx.pool(&pool_keys).await?;
            }
            let ixs = depinkit_sdk::settle::settlement_vote(
                &ctx.rpc,
                &oracle.pubkey(),
                &address,
                &order,
                args,
            )
            .await
            .map_err(|e| match e {
                depinkit_sdk::SdkError::AccountNotFound(mint) => CliError::Input(format!(
                    "{mint} does not exist: nobody holds the accepting device's NFT, so nobody \
                     can be paid"
                )),
                e => ctx.rpc_error(e),
            })?;
            let signature = ctx.send(&ixs, &oracle, &[]).await?;
            let settled = !ctx.exists(&address).await?
                || accounts::fetch::<Order>(&ctx.rpc, &address)
                    .await
                    .map_err(|e| ctx.rpc_error(e))?
                    .settlement_count
                    > order.settlement_count;
            ctx.output.print(
                &serde_json::json!({ "sequence": args.sequence, "amount": args.amount, "settled": settled, "signature": signature.to_string() }),
                || format!(
                    "Voted settlement #{} of order {id}, {}{}\nSignature: {signature}",
                    args.sequence,
                    mint.ui(args.amount),
                    if settled { ": paid out" } else { "" }
                ),
            );
            Ok(())
        }
    }
}

async fn tree(
    ctx: &Context,
    amounts: &std::path::Path,
    epoch: u32,
    outfile: &PathBuf,
) -> Result<(), CliError> {
    let (network, _, keys, mint) = ctx.pool_keys().await?;
    let file = crate::csv_file::read(amounts)?;
    if file.header != ["device", "cumulative"] {
        return Err(CliError::Input(format!(
            "{}: the header must be `device,cumulative` (device keys, cumulative base units)",
            amounts.display()
        )));
    }
    let devices: HashMap<_, _> = accounts::devices_of_network(&ctx.rpc, &network)
        .await
        .map_err(|e| ctx.rpc_error(e))?
        .into_iter()
        .map(|(_, d)| (d.device_key, d.mint))
        .collect();
    let mut leaves = Vec::new();
    for (number, cells) in &file.rows {
        let at = || format!("{} line {number}", amounts.display());
        let [device, amount] = &cells[..] else {
            return Err(CliError::Input(format!(
                "{}: expected device,cumulative",
                at()
            )));
        };
        let key = pubkey(device, &format!("{}: device", at()))?;
        let device_mint = devices.get(&key).ok_or_else(|| {
            CliError::Input(format!("{}: {key} is not a device of this network", at()))
        })?;
        let amount: u64 = amount.parse().map_err(|_| {
            CliError::Input(format!(
                "{}: {amount:?} is not an amount in base units",
                at()
            ))
        })?;
        leaves.push((*device_mint, amount));
    }
    let tree = RewardTree::new(leaves).map_err(|e| CliError::Input(e.to_string()))?;
    let file = ProofFile::from_tree(&keys.pool, epoch, &tree);
    std::fs::write(outfile, serde_json::to_string_pretty(&file).expect("json"))
        .map_err(|e| CliError::Input(format!("cannot write {}: {e}", outfile.display())))?;
    ctx.output.print(
        &serde_json::json!({ "root": file.root, "total": file.total, "devices": file.claims.len(), "proofs": outfile.display().to_string() }),
        || format!(
            "Root {} for {} devices ({} in total) written to {}",
            file.root,
            file.claims.len(),
            mint.ui(file.total),
            outfile.display()
        ),
    );
    Ok(())
}

async fn vote_root(ctx: &Context, proofs: &PathBuf) -> Result<(), CliError> {
    let oracle = ctx.keypair()?;
    let (network, _, keys, _) = ctx.pool_keys().await?;
    let text = std::fs::read_to_string(proofs)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", proofs.display())))?;
    let file: ProofFile = serde_json::from_str(&text)
        .map_err(|e| CliError::Input(format!("{} is not a proof file: {e}", proofs.display())))?;
    let root = file.root_bytes().ok_or_else(|| {
        CliError::Input(format!(
            "{}: the root is not 32 bytes of hex",
            proofs.display()
        ))
    })?;
    let pool_account = ctx.pool(&keys).await?;
    if file.epoch == pool_account.next_epoch {
        let end = pool_account.epoch_end(file.epoch).unwrap_or(i64::MAX);
        let now = ctx.chain_time().await?;
        if now < end {
            return Err(CliError::Input(format!(
                "EpochNotEnded: epoch {} ends at {} (in {} s); vote after that",
                file.epoch,
                local_time(end),
                end - now
            )));
        }
    }
    let args = reward_pool::instructions::VoteEpochRootArgs {
        epoch: file.epoch,
        root,
        total: file.total,
        leaf_count: file.claims.len() as u64,
    };
    let ix = pool::vote_epoch_root(&oracle.pubkey(), &network, &keys.pool, args);
    let signature = ctx.send(&[ix], &oracle, &[]).await?;
    let after = ctx.pool(&keys).await?;
    let finalized = after.next_epoch > file.epoch;
    ctx.output.print(
        &serde_json::json!({ "epoch": file.epoch, "finalized": finalized, "signature": signature.to_string() }),
        || format!(
            "Voted root {} for epoch {}{}\nSignature: {signature}",
            file.root,
            file.epoch,
            if finalized { ": the epoch is final" } else { "" }
        ),
    );
    Ok(())
}
