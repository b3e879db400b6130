//! `depin network create|update|show|list|propose-authority|accept-authority`.

use crate::{
    config::{DepinConfig, pubkey},
    context::Context,
    error::CliError,
    output::{fields, local_time, table},
};
use clap::{Subcommand, ValueEnum};
use depinkit_sdk::{accounts, device_registry, registry};
use device_registry::{
    instructions::{CreateNetworkArgs, UpdateNetworkArgs},
    pda,
    state::{Category, Fee, Network},
};
use serde::Serialize;
use solana_sdk::{pubkey::Pubkey, signature::Signer};

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
        /// Onboarding fee, in whole tokens of the fee mint.
        #[arg(long, default_value = "0")]
        onboarding_fee: String,
        /// Location fee, in whole tokens of the fee mint.
        #[arg(long, default_value = "0")]
        location_fee: String,
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
        /// New onboarding fee, whole tokens of the fee mint.
        #[arg(long)]
        onboarding_fee: Option<String>,
        /// New location fee, whole tokens of the fee mint.
        #[arg(long)]
        location_fee: Option<String>,
        /// Mint of both fees (give the fees with it).
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
    /// Propose a new authority (the current one signs); it takes over when it
    /// accepts.
    ProposeAuthority {
        /// The proposed authority's address; omit with --withdraw.
        new_authority: Option<String>,
        /// Withdraw the pending proposal.
        #[arg(long, conflicts_with = "new_authority")]
        withdraw: bool,
    },
    /// Take over as the network's authority (the proposed key signs).
    AcceptAuthority,
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

/// A fee as printed: base units, and in whole tokens when the mint is known.
#[derive(Serialize)]
pub struct FeeView {
    mint: String,
    amount: u64,
    ui_amount: Option<String>,
    symbol: Option<String>,
}

async fn fee_view(ctx: &Context, fee: &Fee) -> FeeView {
    let mint = ctx.mint(&fee.mint).await.ok();
    FeeView {
        mint: fee.mint.to_string(),
        amount: fee.amount,
        ui_amount: mint
            .as_ref()
            .map(|m| depinkit_sdk::tokens::ui_amount(fee.amount, m.decimals)),
        symbol: mint.and_then(|m| m.symbol),
    }
}

fn fee_text(fee: &FeeView) -> String {
    match (&fee.ui_amount, &fee.symbol) {
        (Some(ui), Some(symbol)) => format!("{ui} {symbol}"),
        (Some(ui), None) => format!("{ui} (mint {})", fee.mint),
        (None, _) => format!("{} base units (mint {})", fee.amount, fee.mint),
    }
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

fn print_network(ctx: &Context, v: &NetworkView) {
    ctx.output.print(v, || {
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
                            local_time(c.effective_at)
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
            if seed.is_empty() || seed.len() > 32 {
                return Err(CliError::Input("--seed must be 1 to 32 bytes".into()));
            }
            let payer = ctx.keypair()?;
            let address = pda::find_network_address(&payer.pubkey(), seed.as_bytes()).0;
            if let Ok(existing) = accounts::fetch::<Network>(&ctx.rpc, &address).await {
                let v = view(ctx, &address, &existing).await;
                eprintln!("You already created network {seed:?} at {address}:");
                print_network(ctx, &v);
                return Err(CliError::Input(format!(
                    "network {seed:?} exists (shown above): use it with --network {seed}, or choose another --seed"
                )));
            }
            let reward = ctx.mint(&pubkey(&reward_mint, "--reward-mint")?).await?;
            let fee = match fee_mint {
                Some(m) => ctx.mint(&pubkey(&m, "--fee-mint")?).await?,
                None => reward.clone(),
            };
            let onboarding = ctx.amount(&onboarding_fee, &fee, "--onboarding-fee")?;
            let location = ctx.amount(&location_fee, &fee, "--location-fee")?;
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
                    mint: fee.address,
                    amount: onboarding,
                },
                location_fee: Fee {
                    mint: fee.address,
                    amount: location,
                },
                location_resolution: resolution,
                oracles,
                threshold,
                oracle_change_delay_secs: oracle_change_delay,
                metadata_uri_base: uri_base,
            };
            crate::output::warn_if_freezable(&reward, "reward");
            if onboarding > 0 || location > 0 {
                crate::output::warn_if_freezable(&fee, "fee");
            }
            let ix = registry::create_network(&payer.pubkey(), &reward.address, args);
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
            let (network, current) = ctx.network_account().await?;
            let fees_change =
                fee_mint.is_some() || onboarding_fee.is_some() || location_fee.is_some();
            let fee_mint = match (fee_mint, fees_change) {
                (Some(m), _) => Some(ctx.mint(&pubkey(&m, "--fee-mint")?).await?),
                (None, true) => Some(ctx.mint(&current.onboarding_fee.mint).await?),
                (None, false) => None,
            };
            let fee =
                |old: Fee, amount: &Option<String>, flag: &str| -> Result<Option<Fee>, CliError> {
                    let Some(mint) = &fee_mint else {
                        return Ok(None);
                    };
                    Ok(Some(Fee {
                        mint: mint.address,
                        amount: match amount {
                            Some(text) => ctx.amount(text, mint, flag)?,
                            None => old.amount,
                        },
                    }))
                };
            let args = UpdateNetworkArgs {
                name,
                treasury: treasury.map(|t| pubkey(&t, "--treasury")).transpose()?,
                onboarding_fee: fee(current.onboarding_fee, &onboarding_fee, "--onboarding-fee")?,
                location_fee: fee(current.location_fee, &location_fee, "--location-fee")?,
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
            let (network, record) = ctx.network_account().await?;
            let v = view(ctx, &network, &record).await;
            print_network(ctx, &v);
        }
        NetworkCommand::List => {
            let networks = accounts::fetch_all::<Network>(&ctx.rpc, &device_registry::ID, vec![])
                .await
                .map_err(|e| ctx.rpc_error(e))?;
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
        NetworkCommand::ProposeAuthority {
            new_authority,
            withdraw,
        } => {
            let authority = ctx.keypair()?;
            let network = ctx.network()?;
            let proposed = match (new_authority, withdraw) {
                (Some(key), false) => Some(pubkey(&key, "new authority")?),
                (None, true) => None,
                _ => {
                    return Err(CliError::Input(
                        "name the new authority, or pass --withdraw".into(),
                    ));
                }
            };
            let ix = registry::propose_network_authority(&authority.pubkey(), &network, proposed);
            let signature = ctx.send(&[ix], &authority, &[]).await?;
            ctx.output.print(
                &serde_json::json!({ "proposed": proposed.map(|p| p.to_string()), "signature": signature.to_string() }),
                || match proposed {
                    Some(key) => format!("Proposed {key} as the authority of {network}; it takes over with `depin network accept-authority`\nSignature: {signature}"),
                    None => format!("Withdrew the authority proposal\nSignature: {signature}"),
                },
            );
        }
        NetworkCommand::AcceptAuthority => {
            let new_authority = ctx.keypair()?;
            let network = ctx.network()?;
            let ix = registry::accept_network_authority(&new_authority.pubkey(), &network);
            let signature = ctx.send(&[ix], &new_authority, &[]).await?;
            ctx.output.print(
                &serde_json::json!({ "authority": new_authority.pubkey().to_string(), "signature": signature.to_string() }),
                || format!("{} is now the authority of {network}\nSignature: {signature}", new_authority.pubkey()),
            );
        }
    }
    Ok(())
}
