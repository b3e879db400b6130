//! `depin device keygen|onboard-message|onboard|assert-location|show|list`.

use crate::{
    config::{self, pubkey},
    context::Context,
    error::CliError,
    location::LocationArgs,
    output::{fields, local_time, table},
};
use clap::{Args, Subcommand};
use depinkit_sdk::{accounts, device_registry, registry};
use device_registry::{
    instructions::{AssertLocationArgs, OnboardDeviceArgs},
    pda,
    state::{Device, Network},
};
use serde::Serialize;
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signature, Signer, write_keypair_file},
};
use std::{path::PathBuf, str::FromStr};

/// How the device proves it agrees: its keypair file here, or a signature it
/// made itself over the message `onboard-message` printed.
#[derive(Args, Debug, Clone)]
pub struct DeviceProof {
    /// The device's keypair file (signs locally).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["device", "device_signature"])]
    pub device_keypair: Option<PathBuf>,
    /// The device's public key (with --device-signature).
    #[arg(long, requires = "device_signature")]
    pub device: Option<String>,
    /// Signature made on the device over the printed message (base58).
    #[arg(long, requires_all = ["device", "expires_at"])]
    pub device_signature: Option<String>,
    /// Expiry the device signed (unix seconds, as printed with the message).
    #[arg(long)]
    pub expires_at: Option<i64>,
}

/// Device commands.
#[derive(Subcommand, Debug)]
pub enum DeviceCommand {
    /// Write a new device keypair file.
    Keygen {
        /// Where to write it.
        #[arg(long, short = 'o', value_name = "FILE")]
        outfile: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the message a device must sign to be onboarded for an owner.
    OnboardMessage {
        /// The device's public key.
        #[arg(long)]
        device: String,
        /// The public issuing key of the device's maker (it co-signs the onboarding).
        #[arg(long)]
        issuing_key: String,
        /// The wallet that will hold the NFT [default: the keypair].
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        location: LocationArgs,
        /// Seconds the signature stays valid (at most 7 days).
        #[arg(long, default_value_t = 600)]
        expires_in: i64,
    },
    /// Onboard a device: the keypair pays and receives the NFT, the maker's
    /// issuing key co-signs, the device proves its key.
    Onboard {
        /// Keypair file of the maker's issuing key.
        #[arg(long, value_name = "FILE")]
        issuing_key: PathBuf,
        /// Onboard many: a CSV with a header `keypair,cell,lat,lon` (a device
        /// keypair file per row, and a cell or a latitude and longitude, or none).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["device_keypair", "device", "cell", "lat", "lon"])]
        csv: Option<PathBuf>,
        #[command(flatten)]
        proof: DeviceProof,
        #[command(flatten)]
        location: LocationArgs,
        /// Most you pay in fees, base units of the fee mint [default: the
        /// network's fees now]; a fee raised before the transaction lands fails it.
        #[arg(long)]
        max_fee: Option<u64>,
    },
    /// Move a device (its NFT's holder, with the device's proof).
    AssertLocation {
        #[command(flatten)]
        proof: DeviceProof,
        #[command(flatten)]
        location: LocationArgs,
        /// Most you pay in fees [default: the network's location fee now].
        #[arg(long)]
        max_fee: Option<u64>,
    },
    /// Show a device by its key.
    Show {
        /// The device's public key.
        device: String,
    },
    /// List the network's devices.
    List {
        /// Only devices whose NFT this wallet holds.
        #[arg(long)]
        owner: Option<String>,
    },
}

/// A device as printed (stable JSON).
#[derive(Serialize)]
pub struct DeviceView {
    device: String,
    device_key: String,
    mint: String,
    maker: String,
    holder: Option<String>,
    location: Option<String>,
    status: String,
    onboarded_at: i64,
    location_asserted_at: i64,
    location_assert_count: u32,
}

fn view(address: &Pubkey, d: &Device, holder: Option<Pubkey>) -> DeviceView {
    DeviceView {
        device: address.to_string(),
        device_key: d.device_key.to_string(),
        mint: d.mint.to_string(),
        maker: d.maker.to_string(),
        holder: holder.map(|h| h.to_string()),
        location: (d.location != Device::NO_LOCATION).then(|| format!("{:x}", d.location)),
        status: format!("{:?}", d.status).to_lowercase(),
        onboarded_at: d.onboarded_at,
        location_asserted_at: d.location_asserted_at,
        location_assert_count: d.location_assert_count,
    }
}

/// The wallet holding the NFT of `mint` now.
pub async fn holder(ctx: &Context, mint: &Pubkey) -> Option<Pubkey> {
    let largest = ctx.rpc.get_token_largest_accounts(mint).await.ok()?;
    let account = largest.iter().find(|a| a.amount.amount == "1")?;
    let address = Pubkey::from_str(&account.address).ok()?;
    let data = ctx.rpc.get_account(&address).await.ok()?.data;
    Some(Pubkey::new_from_array(data.get(32..64)?.try_into().ok()?))
}

/// The fee accounts the owner pays from, when the network charges.
async fn fee_payment(
    ctx: &Context,
    network: &Network,
    payer: &Pubkey,
) -> Result<Option<registry::FeePayment>, CliError> {
    if network.onboarding_fee.amount == 0 && network.location_fee.amount == 0 {
        return Ok(None);
    }
    let mint = network.onboarding_fee.mint;
    let token_program = ctx
        .rpc
        .get_account(&mint)
        .await
        .map_err(|e| CliError::Rpc(format!("cannot read the fee mint {mint}: {e}")))?
        .owner;
    Ok(Some(registry::FeePayment::between_atas(
        payer,
        &network.treasury,
        &mint,
        &token_program,
    )))
}

/// The device's proof instruction, its key and the expiry it signed.
fn proof(
    proof: &DeviceProof,
    message: impl Fn(&Pubkey, i64) -> Vec<u8>,
    default_expiry: i64,
) -> Result<(solana_sdk::instruction::Instruction, Pubkey, i64), CliError> {
    if let Some(path) = &proof.device_keypair {
        let device: Keypair = config::read_keypair(path)?;
        let expires_at = proof.expires_at.unwrap_or(default_expiry);
        let bytes = message(&device.pubkey(), expires_at);
        return Ok((
            registry::device_proof(&device, &bytes),
            device.pubkey(),
            expires_at,
        ));
    }
    let (Some(device), Some(signature), Some(expires_at)) =
        (&proof.device, &proof.device_signature, proof.expires_at)
    else {
        return Err(CliError::Input(
            "prove the device key with --device-keypair FILE, or --device, --device-signature and --expires-at".into(),
        ));
    };
    let device = pubkey(device, "--device")?;
    let signature = Signature::from_str(signature).map_err(|_| {
        CliError::Input(format!(
            "--device-signature {signature:?} is not a base58 signature"
        ))
    })?;
    let bytes = message(&device, expires_at);
    if !signature.verify(device.as_ref(), &bytes) {
        return Err(CliError::Input(
            "--device-signature does not verify for this device, owner, network, location and expiry: sign the message `depin device onboard-message` prints".into(),
        ));
    }
    Ok((
        registry::device_proof_from_signature(&device, &signature, &bytes),
        device,
        expires_at,
    ))
}

/// Runs a device command.
pub async fn run(ctx: &Context, command: DeviceCommand) -> Result<(), CliError> {
    match command {
        DeviceCommand::Keygen { outfile, force } => {
            if outfile.exists() && !force {
                return Err(CliError::Input(format!(
                    "{} exists: pass --force to overwrite it",
                    outfile.display()
                )));
            }
            let device = Keypair::new();
            write_keypair_file(&device, &outfile)
                .map_err(|e| CliError::Input(format!("cannot write {}: {e}", outfile.display())))?;
            ctx.output.print(
                &serde_json::json!({ "device_key": device.pubkey().to_string(), "keypair": outfile.display().to_string() }),
                || format!("Device key {} written to {}", device.pubkey(), outfile.display()),
            );
        }
        DeviceCommand::OnboardMessage {
            device,
            issuing_key,
            owner,
            location,
            expires_in,
        } => {
            let network_key = ctx.network()?;
            let network: Network = accounts::fetch(&ctx.rpc, &network_key).await?;
            let device = pubkey(&device, "--device")?;
            let issuing_key = pubkey(&issuing_key, "--issuing-key")?;
            let owner = match owner {
                Some(o) => pubkey(&o, "--owner")?,
                None => ctx.keypair()?.pubkey(),
            };
            let cell = location
                .cell(network.location_resolution)?
                .unwrap_or(Device::NO_LOCATION);
            let expires_at = ctx.chain_time().await? + expires_in;
            let message = registry::onboard_message(
                &network_key,
                &owner,
                &device,
                &issuing_key,
                cell,
                expires_at,
            )
            .to_bytes();
            let hex: String = message.iter().map(|b| format!("{b:02x}")).collect();
            ctx.output.print(
                &serde_json::json!({
                    "message_hex": hex, "device": device.to_string(), "owner": owner.to_string(),
                    "network": network_key.to_string(), "location": cell, "expires_at": expires_at,
                }),
                || format!("Message (hex), for the device to sign with its ed25519 key:\n{hex}\nExpires at: {expires_at} ({})", local_time(expires_at)),
            );
        }
        DeviceCommand::Onboard {
            issuing_key,
            csv: Some(csv),
            ..
        } => bulk_onboard(ctx, &issuing_key, &csv).await?,
        DeviceCommand::Onboard {
            issuing_key,
            csv: None,
            proof: device_proof,
            location,
            max_fee,
        } => {
            let owner = ctx.keypair()?;
            let issuer = config::read_keypair(&issuing_key)?;
            let network_key = ctx.network()?;
            let network: Network = accounts::fetch(&ctx.rpc, &network_key).await?;
            let cell = location
                .cell(network.location_resolution)?
                .unwrap_or(Device::NO_LOCATION);
            let default_expiry = ctx.chain_time().await? + 600;
            let (proof_ix, device_key, expires_at) = proof(
                &device_proof,
                |device, expires_at| {
                    registry::onboard_message(
                        &network_key,
                        &owner.pubkey(),
                        device,
                        &issuer.pubkey(),
                        cell,
                        expires_at,
                    )
                    .to_bytes()
                    .to_vec()
                },
                default_expiry,
            )?;
            let fee = fee_payment(ctx, &network, &owner.pubkey()).await?;
            let onboard = registry::onboard_device(
                &owner.pubkey(),
                &issuer.pubkey(),
                &network_key,
                OnboardDeviceArgs {
                    device_key,
                    location: cell,
                    expires_at,
                    max_fee: max_fee
                        .unwrap_or_else(|| registry::onboarding_fee_total(&network, cell)),
                },
                fee,
            );
            let signature = ctx.send(&[proof_ix, onboard], &owner, &[&issuer]).await?;
            let device = pda::find_device_address(&network_key, &device_key).0;
            let mint = pda::find_device_mint_address(&network_key, &device_key).0;
            ctx.output.print(
                &serde_json::json!({ "device": device.to_string(), "device_key": device_key.to_string(), "mint": mint.to_string(), "signature": signature.to_string() }),
                || format!("Device {device_key} onboarded; NFT {mint}\nSignature: {signature}"),
            );
        }
        DeviceCommand::AssertLocation {
            proof: device_proof,
            location,
            max_fee,
        } => {
            let holder_key = ctx.keypair()?;
            let network_key = ctx.network()?;
            let network: Network = accounts::fetch(&ctx.rpc, &network_key).await?;
            let cell = location.cell(network.location_resolution)?.ok_or_else(|| {
                CliError::Input("give the new location with --cell, or --lat and --lon".into())
            })?;
            let default_expiry = ctx.chain_time().await? + 600;
            // The nonce is the device's assertion count: read it first.
            let device_key_hint = match (&device_proof.device_keypair, &device_proof.device) {
                (Some(path), _) => config::read_keypair(path)?.pubkey(),
                (None, Some(key)) => pubkey(key, "--device")?,
                (None, None) => {
                    return Err(CliError::Input(
                        "name the device with --device-keypair or --device".into(),
                    ));
                }
            };
            let device_address = pda::find_device_address(&network_key, &device_key_hint).0;
            let record: Device = accounts::fetch(&ctx.rpc, &device_address).await?;
            let (proof_ix, device_key, expires_at) = proof(
                &device_proof,
                |device, expires_at| {
                    registry::assert_location_message(
                        &network_key,
                        device,
                        &holder_key.pubkey(),
                        cell,
                        record.location_assert_count,
                        expires_at,
                    )
                    .to_bytes()
                    .to_vec()
                },
                default_expiry,
            )?;
            let fee = fee_payment(ctx, &network, &holder_key.pubkey()).await?;
            let mint = pda::find_device_mint_address(&network_key, &device_key).0;
            let assert = registry::assert_location(
                &holder_key.pubkey(),
                &depinkit_sdk::ata(&holder_key.pubkey(), &mint, &anchor_spl::token_2022::ID),
                &network_key,
                &device_key,
                AssertLocationArgs {
                    location: cell,
                    expires_at,
                    max_fee: max_fee.unwrap_or(network.location_fee.amount),
                },
                fee,
            );
            let signature = ctx.send(&[proof_ix, assert], &holder_key, &[]).await?;
            ctx.output.print(
                &serde_json::json!({ "device_key": device_key.to_string(), "location": format!("{cell:x}"), "signature": signature.to_string() }),
                || format!("Device {device_key} now at {cell:x}\nSignature: {signature}"),
            );
        }
        DeviceCommand::Show { device } => {
            let network_key = ctx.network()?;
            let device_key = pubkey(&device, "device")?;
            let address = pda::find_device_address(&network_key, &device_key).0;
            let record: Device = accounts::fetch_optional(&ctx.rpc, &address)
                .await?
                .ok_or_else(|| {
                    CliError::Input(format!(
                        "device {device_key} is not onboarded on network {network_key}"
                    ))
                })?;
            let v = view(&address, &record, holder(ctx, &record.mint).await);
            ctx.output.print(&v, || {
                fields(&[
                    ("Device", v.device.clone()),
                    ("Device key", v.device_key.clone()),
                    ("NFT mint", v.mint.clone()),
                    ("Holder", v.holder.clone().unwrap_or_else(|| "-".into())),
                    ("Maker", v.maker.clone()),
                    ("Location", v.location.clone().unwrap_or_else(|| "-".into())),
                    ("Status", v.status.clone()),
                    ("Onboarded", local_time(v.onboarded_at)),
                    ("Location asserted", local_time(v.location_asserted_at)),
                    ("Assertions", v.location_assert_count.to_string()),
                ])
            });
        }
        DeviceCommand::List { owner } => {
            let network_key = ctx.network()?;
            let mut devices = accounts::devices_of_network(&ctx.rpc, &network_key).await?;
            if let Some(owner) = owner {
                let owner = pubkey(&owner, "--owner")?;
                let held = held_mints(ctx, &owner).await?;
                devices.retain(|(_, d)| held.contains(&d.mint));
            }
            devices.sort_by_key(|(_, d)| (d.onboarded_at, d.device_key));
            let views: Vec<DeviceView> = devices.iter().map(|(a, d)| view(a, d, None)).collect();
            ctx.output.print(&views, || {
                table(
                    &["DEVICE KEY", "NFT MINT", "LOCATION", "STATUS", "ONBOARDED"],
                    &views
                        .iter()
                        .map(|v| {
                            vec![
                                v.device_key.clone(),
                                v.mint.clone(),
                                v.location.clone().unwrap_or_else(|| "-".into()),
                                v.status.clone(),
                                local_time(v.onboarded_at),
                            ]
                        })
                        .collect::<Vec<_>>(),
                )
            });
        }
    }
    Ok(())
}

/// Mints of which `owner` holds exactly one token in a Token-2022 account.
pub async fn held_mints(ctx: &Context, owner: &Pubkey) -> Result<Vec<Pubkey>, CliError> {
    let accounts = ctx
        .rpc
        .get_token_accounts_by_owner(
            owner,
            solana_rpc_client_api::request::TokenAccountsFilter::ProgramId(
                anchor_spl::token_2022::ID,
            ),
        )
        .await
        .map_err(|e| CliError::Rpc(format!("cannot list {owner}'s token accounts: {e}")))?;
    let mut mints = Vec::new();
    for keyed in accounts {
        // The RPC answers jsonParsed token accounts: read mint and amount there.
        if let solana_account_decoder_client_types::UiAccountData::Json(parsed) =
            &keyed.account.data
        {
            let info = &parsed.parsed["info"];
            let held = info["tokenAmount"]["amount"].as_str() == Some("1");
            if let (true, Some(mint)) = (
                held,
                info["mint"].as_str().and_then(|m| Pubkey::from_str(m).ok()),
            ) {
                mints.push(mint);
            }
        }
    }
    Ok(mints)
}

/// One row of a bulk-onboarding CSV.
struct CsvRow {
    line: usize,
    keypair: PathBuf,
    location: LocationArgs,
}

fn parse_csv(path: &std::path::Path) -> Result<Vec<CsvRow>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .map(|(_, h)| h.split(',').map(|c| c.trim().to_lowercase()).collect())
        .ok_or_else(|| CliError::Input(format!("{} is empty", path.display())))?;
    let column = |name: &str| header.iter().position(|h| h == name);
    let keypair = column("keypair").ok_or_else(|| {
        CliError::Input(format!(
            "{}: the header needs a `keypair` column",
            path.display()
        ))
    })?;
    let (cell, lat, lon) = (column("cell"), column("lat"), column("lon"));
    let mut rows = Vec::new();
    for (index, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let get = |i: Option<usize>| {
            i.and_then(|i| cells.get(i))
                .filter(|v| !v.is_empty())
                .map(|v| v.to_string())
        };
        let number = |i: Option<usize>, what: &str| -> Result<Option<f64>, CliError> {
            get(i)
                .map(|v| {
                    v.parse().map_err(|_| {
                        CliError::Input(format!(
                            "{} line {}: {what} {v:?} is not a number",
                            path.display(),
                            index + 1
                        ))
                    })
                })
                .transpose()
        };
        rows.push(CsvRow {
            line: index + 1,
            keypair: PathBuf::from(get(Some(keypair)).ok_or_else(|| {
                CliError::Input(format!("{} line {}: no keypair", path.display(), index + 1))
            })?),
            location: LocationArgs {
                cell: get(cell),
                lat: number(lat, "lat")?,
                lon: number(lon, "lon")?,
                resolution: None,
            },
        });
    }
    Ok(rows)
}

/// Onboards every device of a CSV, with a progress bar and a summary; a row that
/// fails is reported and the others go on.
async fn bulk_onboard(
    ctx: &Context,
    issuing_key: &std::path::Path,
    csv: &std::path::Path,
) -> Result<(), CliError> {
    let owner = ctx.keypair()?;
    let issuer = config::read_keypair(issuing_key)?;
    let network_key = ctx.network()?;
    let network: Network = accounts::fetch(&ctx.rpc, &network_key).await?;
    let rows = parse_csv(csv)?;
    let fee = fee_payment(ctx, &network, &owner.pubkey()).await?;
    let bar = indicatif::ProgressBar::new(rows.len() as u64);
    if matches!(ctx.output, crate::output::OutputFormat::Display) {
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} devices {msg}")
                .expect("template"),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    #[derive(Serialize)]
    struct Outcome {
        line: usize,
        device_key: Option<String>,
        error: Option<String>,
    }
    let mut outcomes = Vec::new();
    for row in &rows {
        let result: Result<Pubkey, CliError> = async {
            let device: Keypair = config::read_keypair(&row.keypair)?;
            let cell = row
                .location
                .cell(network.location_resolution)?
                .unwrap_or(Device::NO_LOCATION);
            let expires_at = ctx.chain_time().await? + 600;
            let ixs = registry::onboard_device_signed(
                &owner.pubkey(),
                &issuer.pubkey(),
                &network_key,
                &device,
                cell,
                expires_at,
                registry::onboarding_fee_total(&network, cell),
                fee,
            );
            ctx.send(&ixs, &owner, &[&issuer]).await?;
            Ok(device.pubkey())
        }
        .await;
        outcomes.push(match result {
            Ok(key) => Outcome {
                line: row.line,
                device_key: Some(key.to_string()),
                error: None,
            },
            Err(e) => Outcome {
                line: row.line,
                device_key: None,
                error: Some(e.to_string()),
            },
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    ctx.output.print(&outcomes, || {
        let mut text = format!(
            "Onboarded {} of {} devices",
            outcomes.len() - failed,
            outcomes.len()
        );
        for o in outcomes.iter().filter(|o| o.error.is_some()) {
            text.push_str(&format!(
                "\nline {}: {}",
                o.line,
                o.error.as_deref().unwrap_or_default()
            ));
        }
        text
    });
    if failed > 0 {
        return Err(CliError::Transaction(format!(
            "{failed} of {} devices were not onboarded",
            outcomes.len()
        )));
    }
    Ok(())
}
