//! `depin network create|update|show|list`.

use crate::{
    config::{DepinConfig, pubkey},
    context::Context,
    error::CliError,
    output::{fields, table, ui_amount},
};
use anchor_spl::token_interface::spl_token_2022::{extension::StateWithExtensions, state::Mint};
use clap::{Subcommand, ValueEnum};
use depinkit_sdk::{accounts, registry};
use device_registry::{
    instructions::{CreateNetworkArgs, UpdateNetworkArgs},
    pda,
    state::{Category, Fee, Network},
};
use serde::Serialize;
use solana_sdk::{pubkey::Pubkey, signature::Signer};

use depinkit_sdk::device_registry;

/// `--category`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CategoryArg {
    /// Hotspots proving radio coverage.
    Wireless,
    /// Dashcams mapping H3 cells.
    Mapping,
    /// Drives proving stored data.
    Storage,
    /// GPUs running jobs.
    Compute,
}

impl From<CategoryArg> for Category {
    fn from(value: CategoryArg) -> Self {
        match value {
            CategoryArg::Wireless => Category::Wireless,
            CategoryArg::Mapping => Category::Mapping,
            CategoryArg::Storage => Category::Storage,
            CategoryArg::Compute => Category::Compute,
        }
    }
}

/// Network commands.
#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// Create a network; the keypair becomes its authority. The seed also names
    /// it in the depinkit config, for `--network SEED`.
    Create {
        /// Seed of the network address (1 to 32 bytes), also its local name.
        #[arg(long)]
        seed: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Symbol of the device NFTs.
        #[arg(long)]
        symbol: String,
        /// Kind of infrastructure.
        #[arg(long, value_enum)]
        category: CategoryArg,
        /// Mint rewards are paid in.
        #[arg(long)]
        reward_mint: String,
        /// Wallet receiving fees [default: the keypair].
        #[arg(long)]
        treasury: Option<String>,
        /// Mint fees are paid in [default: the reward mint].
        #[arg(long)]
        fee_mint: Option<String>,
        /// Onboarding fee in base units of the fee mint.
        #[arg(long, default_value_t = 0)]
        onboarding_fee: u64,
        /// Location fee in base units of the fee mint.
        #[arg(long, default_value_t = 0)]
        location_fee: u64,
        /// An oracle key; repeat for each (1 to 16).
        #[arg(long = "oracle", required = true)]
        oracles: Vec<String>,
        /// Identical oracle votes needed: more than half the oracles [default:
        /// the smallest majority].
        #[arg(long)]
        threshold: Option<u8>,
        /// Seconds an oracle-set change waits on chain before it applies (1 hour
        /// to 90 days; at least the reward pool's epoch length).
        #[arg(long, default_value_t = 86_400)]
        oracle_change_delay: i64,
        /// H3 resolution of device locations.
        #[arg(long, default_value_t = 12)]
        resolution: u8,
        /// Base of the device NFTs' metadata URI.
        #[arg(long, default_value = "")]
        uri_base: String,
    },
    /// Change a network (its authority): fees, treasury and URI at once; an
    /// oracle-set or threshold change is scheduled and applies after the
    /// network's oracle-change delay.
    Update {
        /// New display name.
        #[arg(long)]
        name: Option<String>,
        /// New treasury wallet.
        #[arg(long)]
        treasury: Option<String>,
        /// New onboarding fee (base units; mint unchanged unless --fee-mint).
        #[arg(long)]
        onboarding_fee: Option<u64>,
        /// New location fee (base units).
        #[arg(long)]
        location_fee: Option<u64>,
        /// Mint of both fees.
        #[arg(long)]
        fee_mint: Option<String>,
        /// Schedule a new oracle set (repeat for each key).
        #[arg(long = "oracle")]
        oracles: Vec<String>,
        /// Schedule a new threshold.
        #[arg(long)]
        threshold: Option<u8>,
        /// Drop the scheduled oracle-set change before it applies.
        #[arg(long)]
        cancel_oracle_change: bool,
        /// Lengthen the oracle-change delay (seconds; it can only grow).
        #[arg(long)]
        oracle_change_delay: Option<i64>,
        /// New metadata URI base.
        #[arg(long)]
        uri_base: Option<String>,
    },
    /// Show the network named by --network.
    Show,
    /// List every network on the cluster (and the local names).
    List,
}

/// A network as printed (stable JSON).
#[derive(Serialize)]
pub struct NetworkView {
    address: String,
    name: String,
    seed: String,
    category: String,
    authority: String,
    pending_authority: Option<String>,
    reward_mint: String,
    treasury: String,
    onboarding_fee: FeeView,
    location_fee: FeeView,
    location_resolution: u8,
    oracles: Vec<String>,
    threshold: u8,
    oracle_change_delay_secs: i64,
    pending_oracle_change: Option<PendingOracleChangeView>,
    metadata_uri_base: String,
    makers: u32,
    devices: u64,
}

/// A scheduled oracle-set change as printed.
#[derive(Serialize)]
pub struct PendingOracleChangeView {
    oracles: Vec<String>,
    threshold: u8,
    effective_at: i64,
}

/// A fee as printed: base units, and whole tokens when the mint is known.
#[derive(Serialize)]
pub struct FeeView {
    mint: String,
    amount: u64,
    ui_amount: Option<String>,
    symbol: Option<String>,
}

async fn fee_view(ctx: &Context, fee: &Fee) -> FeeView {
    let decimals = mint_decimals(ctx, &fee.mint).await;
    FeeView {
        mint: fee.mint.to_string(),
        amount: fee.amount,
        ui_amount: decimals.map(|d| ui_amount(fee.amount, d)),
        symbol: mint_symbol(ctx, &fee.mint).await,
    }
}

/// The symbol in a Token-2022 mint's metadata, if it has one (plain SPL mints
/// carry none on chain).
pub async fn mint_symbol(ctx: &Context, mint: &Pubkey) -> Option<String> {
    use anchor_spl::token_interface::{
        spl_token_2022::extension::BaseStateWithExtensions,
        spl_token_metadata_interface::state::TokenMetadata,
    };
    let account = ctx.rpc.get_account(mint).await.ok()?;
    let state = StateWithExtensions::<Mint>::unpack(&account.data).ok()?;
    let metadata = state.get_variable_len_extension::<TokenMetadata>().ok()?;
    (!metadata.symbol.is_empty()).then_some(metadata.symbol)
}

/// `amount` in whole tokens with the symbol when known: "40 DEMO", "40".
pub fn with_symbol(amount: u64, decimals: u8, symbol: &Option<String>) -> String {
    match symbol {
        Some(symbol) => format!("{} {symbol}", ui_amount(amount, decimals)),
        None => ui_amount(amount, decimals),
    }
}

/// Tells the user, on stderr, when `mint` has a freeze authority: its holder can
/// freeze the program's vaults and escrows in that mint (USDC's issuer can), and
/// with them claims, settlements and refunds.
pub async fn warn_if_freezable(ctx: &Context, mint: &Pubkey, role: &str) {
    let Ok(account) = ctx.rpc.get_account(mint).await else {
        return;
    };
    let Ok(state) = StateWithExtensions::<Mint>::unpack(&account.data) else {
        return;
    };
    if let Some(freezer) = Option::<Pubkey>::from(state.base.freeze_authority) {
        eprintln!(
            "note: the {role} mint {mint} has a freeze authority ({freezer}): it can freeze the accounts holding it, and the payments from them"
        );
    }
}

/// Decimals of a mint, `None` if it cannot be read.
pub async fn mint_decimals(ctx: &Context, mint: &Pubkey) -> Option<u8> {
    let account = ctx.rpc.get_account(mint).await.ok()?;
    StateWithExtensions::<Mint>::unpack(&account.data)
        .ok()
        .map(|m| m.base.decimals)
}

async fn view(ctx: &Context, address: &Pubkey, n: &Network) -> NetworkView {
    NetworkView {
        address: address.to_string(),
        name: n.name.clone(),
        seed: String::from_utf8_lossy(&n.seed).into_owned(),
        category: n.category.as_str().into(),
        authority: n.authority.to_string(),
        pending_authority: n.pending_authority.map(|p| p.to_string()),
        reward_mint: n.reward_mint.to_string(),
        treasury: n.treasury.to_string(),
        onboarding_fee: fee_view(ctx, &n.onboarding_fee).await,
        location_fee: fee_view(ctx, &n.location_fee).await,
        location_resolution: n.location_resolution,
        oracles: n.oracles.iter().map(|o| o.to_string()).collect(),
        threshold: n.threshold,
        oracle_change_delay_secs: n.oracle_change_delay_secs,
        pending_oracle_change: n
            .pending_oracle_change
            .as_ref()
            .map(|c| PendingOracleChangeView {
                oracles: c.oracles.iter().map(|o| o.to_string()).collect(),
                threshold: c.threshold,
                effective_at: c.effective_at,
            }),
        metadata_uri_base: n.metadata_uri_base.clone(),
        makers: n.maker_count,
        devices: n.device_count,
    }
}

fn fee_text(fee: &FeeView) -> String {
    match (&fee.ui_amount, &fee.symbol) {
        (Some(ui), Some(symbol)) => format!("{ui} {symbol}"),
        (Some(ui), None) => format!("{ui} (mint {})", fee.mint),
        (None, _) => format!("{} base units (mint {})", fee.amount, fee.mint),
    }
}

/// Runs a network command.
pub async fn run(ctx: &Context, command: NetworkCommand) -> Result<(), CliError> {
    match command {
        NetworkCommand::Create {
            seed,
            name,
            symbol,
            category,
            reward_mint,
            treasury,
            fee_mint,
            onboarding_fee,
            location_fee,
            oracles,
            threshold,
            oracle_change_delay,
            resolution,
            uri_base,
        } => {
            let payer = ctx.keypair()?;
            let reward_mint = pubkey(&reward_mint, "--reward-mint")?;
            let fee_mint = match fee_mint {
                Some(m) => pubkey(&m, "--fee-mint")?,
                None => reward_mint,
            };
            let treasury = match treasury {
                Some(t) => pubkey(&t, "--treasury")?,
                None => payer.pubkey(),
            };
            let oracles = oracles
                .iter()
                .map(|o| pubkey(o, "--oracle"))
                .collect::<Result<Vec<_>, _>>()?;
            let threshold = threshold.unwrap_or((oracles.len() / 2 + 1) as u8);
            let args = CreateNetworkArgs {
                seed: seed.as_bytes().to_vec(),
                name,
                symbol,
                category: category.into(),
                treasury,
                onboarding_fee: Fee {
                    mint: fee_mint,
                    amount: onboarding_fee,
                },
                location_fee: Fee {
                    mint: fee_mint,
                    amount: location_fee,
                },
                location_resolution: resolution,
                oracles,
                threshold,
                oracle_change_delay_secs: oracle_change_delay,
                metadata_uri_base: uri_base,
            };
            if seed.is_empty() || seed.len() > 32 {
                return Err(CliError::Input("--seed must be 1 to 32 bytes".into()));
            }
            let address = pda::find_network_address(&payer.pubkey(), seed.as_bytes()).0;
            warn_if_freezable(ctx, &reward_mint, "reward").await;
            if onboarding_fee > 0 || location_fee > 0 {
                warn_if_freezable(ctx, &fee_mint, "fee").await;
            }
            let ix = registry::create_network(&payer.pubkey(), &reward_mint, args);
            let signature = ctx.send(&[ix], &payer, &[]).await?;
            let mut config = DepinConfig::load()?;
            config.networks.insert(seed.clone(), address.to_string());
            config.save()?;
            #[derive(Serialize)]
            struct Created {
                network: String,
                name: String,
                signature: String,
            }
            let created = Created {
                network: address.to_string(),
                name: seed.clone(),
                signature: signature.to_string(),
            };
            ctx.output.print(&created, || {
                format!("Network {address} created (use --network {seed})\nSignature: {signature}")
            });
        }
        NetworkCommand::Update {
            name,
            treasury,
            onboarding_fee,
            location_fee,
            fee_mint,
            oracles,
            threshold,
            cancel_oracle_change,
            oracle_change_delay,
            uri_base,
        } => {
            let payer = ctx.keypair()?;
            let network = ctx.network()?;
            let current: Network = accounts::fetch(&ctx.rpc, &network).await?;
            let fee_mint = fee_mint.map(|m| pubkey(&m, "--fee-mint")).transpose()?;
            let fee = |old: Fee, amount: Option<u64>| -> Option<Fee> {
                if amount.is_none() && fee_mint.is_none() {
                    return None;
                }
                Some(Fee {
                    mint: fee_mint.unwrap_or(old.mint),
                    amount: amount.unwrap_or(old.amount),
                })
            };
            let args = UpdateNetworkArgs {
                name,
                treasury: treasury.map(|t| pubkey(&t, "--treasury")).transpose()?,
                onboarding_fee: fee(current.onboarding_fee, onboarding_fee),
                location_fee: fee(current.location_fee, location_fee),
                oracles: if oracles.is_empty() {
                    None
                } else {
                    Some(
                        oracles
                            .iter()
                            .map(|o| pubkey(o, "--oracle"))
                            .collect::<Result<_, _>>()?,
                    )
                },
                threshold,
                cancel_oracle_change,
                oracle_change_delay_secs: oracle_change_delay,
                metadata_uri_base: uri_base,
            };
            let onboarding = args.onboarding_fee.unwrap_or(current.onboarding_fee);
            let location = args.location_fee.unwrap_or(current.location_fee);
            let charged_mint = registry::charged_fee_mint(&[&onboarding, &location]);
            let ix = registry::update_network(&payer.pubkey(), &network, args, charged_mint);
            let signature = ctx.send(&[ix], &payer, &[]).await?;
            ctx.output.print(
                &serde_json::json!({ "signature": signature.to_string() }),
                || format!("Network {network} updated\nSignature: {signature}"),
            );
        }
        NetworkCommand::Show => {
            let network = ctx.network()?;
            let record: Network = accounts::fetch(&ctx.rpc, &network).await?;
            let v = view(ctx, &network, &record).await;
            ctx.output.print(&v, || {
                fields(&[
                    ("Network", v.address.clone()),
                    ("Name", v.name.clone()),
                    ("Seed", v.seed.clone()),
                    ("Category", v.category.clone()),
                    ("Authority", v.authority.clone()),
                    (
                        "Pending authority",
                        v.pending_authority.clone().unwrap_or_else(|| "-".into()),
                    ),
                    ("Reward mint", v.reward_mint.clone()),
                    ("Treasury", v.treasury.clone()),
                    ("Onboarding fee", fee_text(&v.onboarding_fee)),
                    ("Location fee", fee_text(&v.location_fee)),
                    ("H3 resolution", v.location_resolution.to_string()),
                    (
                        "Oracles",
                        format!("{} (threshold {})", v.oracles.join(", "), v.threshold),
                    ),
                    (
                        "Scheduled oracles",
                        v.pending_oracle_change.as_ref().map_or_else(
                            || "-".into(),
                            |c| {
                                format!(
                                    "{} (threshold {}) from {}",
                                    c.oracles.join(", "),
                                    c.threshold,
                                    crate::output::local_time(c.effective_at)
                                )
                            },
                        ),
                    ),
                    (
                        "Oracle-change delay",
                        format!("{} s", v.oracle_change_delay_secs),
                    ),
                    ("Metadata URI base", v.metadata_uri_base.clone()),
                    ("Makers", v.makers.to_string()),
                    ("Devices", v.devices.to_string()),
                ])
            });
        }
        NetworkCommand::List => {
            let networks =
                accounts::fetch_all::<Network>(&ctx.rpc, &device_registry::ID, vec![]).await?;
            let config = DepinConfig::load()?;
            let local_name = |address: &Pubkey| {
                config
                    .networks
                    .iter()
                    .find(|(_, a)| a.as_str() == address.to_string())
                    .map(|(name, _)| name.clone())
            };
            #[derive(Serialize)]
            struct Row {
                address: String,
                local_name: Option<String>,
                name: String,
                category: String,
                devices: u64,
            }
            let mut rows: Vec<Row> = networks
                .iter()
                .map(|(address, n)| Row {
                    address: address.to_string(),
                    local_name: local_name(address),
                    name: n.name.clone(),
                    category: n.category.as_str().into(),
                    devices: n.device_count,
                })
                .collect();
            rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.address.cmp(&b.address)));
            ctx.output.print(&rows, || {
                table(
                    &["NETWORK", "LOCAL NAME", "NAME", "CATEGORY", "DEVICES"],
                    &rows
                        .iter()
                        .map(|r| {
                            vec![
                                r.address.clone(),
                                r.local_name.clone().unwrap_or_else(|| "-".into()),
                                r.name.clone(),
                                r.category.clone(),
                                r.devices.to_string(),
                            ]
                        })
                        .collect::<Vec<_>>(),
                )
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_carry_the_symbol_when_known() {
        assert_eq!(with_symbol(40_000_000, 6, &Some("DEMO".into())), "40 DEMO");
        assert_eq!(with_symbol(1_500_000, 6, &None), "1.5");
    }
}
