//! `depin device keygen|onboard-message|onboard|assert-location|show|list|suspend|activate`.

use crate::{
    config::{self, pubkey},
    context::Context,
    error::CliError,
    location::{LocationArgs, describe, parse_cell},
    output::{fields, local_time, table},
};
use clap::{Args, Subcommand};
use depinkit_sdk::{
    accounts, device_registry, registry,
    tokens::{self, MintInfo},
};
use device_registry::{
    instructions::{AssertLocationArgs, OnboardDeviceArgs},
    pda,
    state::{Device, DeviceStatus, Maker, MakerStatus, Network},
};
use serde::Serialize;
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signature, Signer},
};
use std::{
    path::{Path, PathBuf},
    str::FromStr,
};

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
    /// Write a new device keypair file (never over an existing file).
    Keygen {
        /// Where to write it.
        #[arg(long, value_name = "FILE")]
        outfile: PathBuf,
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
        /// Onboard many: a CSV with a header of `keypair` and `cell` or
        /// `lat,lon` columns (a device keypair file per row, and a cell, or a
        /// latitude and longitude, or neither). The whole file is checked first.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["device_keypair", "device", "cell", "lat", "lon"])]
        csv: Option<PathBuf>,
        #[command(flatten)]
        proof: DeviceProof,
        #[command(flatten)]
        location: LocationArgs,
        /// Most you pay in fees per device, whole tokens of the fee mint
        /// [default: the network's fees now]; a fee raised before the
        /// transaction lands fails it.
        #[arg(long)]
        max_fee: Option<String>,
    },
    /// Move a device (its NFT's holder, with the device's proof).
    AssertLocation {
        #[command(flatten)]
        proof: DeviceProof,
        #[command(flatten)]
        location: LocationArgs,
        /// Most you pay in fees, whole tokens [default: the network's location fee now].
        #[arg(long)]
        max_fee: Option<String>,
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
    /// Suspend a device: no rewards, no moves (network authority).
    Suspend {
        /// The device's public key.
        device: String,
    },
    /// Reactivate a suspended device (network authority).
    Activate {
        /// The device's public key.
        device: String,
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

fn print_device(ctx: &Context, v: &DeviceView, location: u64) {
    ctx.output.print(v, || {
        fields(&[
            ("Device key", v.device_key.clone()),
            ("Device account", v.device.clone()),
            ("NFT mint", v.mint.clone()),
            ("Holder", v.holder.clone().unwrap_or_else(|| "-".into())),
            ("Maker", v.maker.clone()),
            (
                "Location",
                if location == Device::NO_LOCATION {
                    "-".into()
                } else {
                    describe(location)
                },
            ),
            ("Status", v.status.clone()),
            ("Onboarded", local_time(v.onboarded_at)),
            ("Location asserted", local_time(v.location_asserted_at)),
            ("Assertions", v.location_assert_count.to_string()),
        ])
    });
}

/// The device of `key` on `network`, with a clear error when it is not there.
async fn fetch_device(ctx: &Context, network: &Pubkey, key: &Pubkey) -> Result<Device, CliError> {
    let address = pda::find_device_address(network, key).0;
    accounts::fetch_optional::<Device>(&ctx.rpc, &address)
        .await
        .map_err(|e| ctx.rpc_error(e))?
        .ok_or_else(|| {
            CliError::Input(format!(
                "device {key} is not onboarded on network {network}"
            ))
        })
}

/// The fee accounts the payer pays from, when the network charges, after
/// checking the payer can pay `total`.
async fn fee_payment(
    ctx: &Context,
    network: &Network,
    payer: &Keypair,
    total: u64,
) -> Result<Option<registry::FeePayment>, CliError> {
    if network.onboarding_fee.amount == 0 && network.location_fee.amount == 0 {
        return Ok(None);
    }
    let mint = ctx.mint(&network.onboarding_fee.mint).await?;
    let payment = registry::FeePayment::between_atas(
        &payer.pubkey(),
        &network.treasury,
        &mint.address,
        &mint.token_program,
    );
    if total > 0 {
        let held = ctx.token_balance(&payment.from).await?;
        if held < total {
            return Err(CliError::Input(format!(
                "this costs {} in fees and {} holds {} of {}: get some first",
                mint.ui(total),
                payer.pubkey(),
                mint.ui(held),
                mint.address
            )));
        }
        // The fee goes to the treasury's associated account: open it (the
        // payer pays its rent) if the treasury never had one.
        if !ctx.exists(&payment.to).await? {
            let open = tokens::open_ata(
                &payer.pubkey(),
                &network.treasury,
                &mint.address,
                &mint.token_program,
            );
            ctx.send(&[open], payer, &[]).await?;
        }
    }
    Ok(Some(payment))
}

/// The fee mint, to read and type fee amounts in.
async fn fee_mint(ctx: &Context, network: &Network) -> Result<Option<MintInfo>, CliError> {
    if network.onboarding_fee.amount == 0 && network.location_fee.amount == 0 {
        return Ok(None);
    }
    ctx.mint(&network.onboarding_fee.mint).await.map(Some)
}

/// `--max-fee` in base units, defaulting to what the network charges now.
fn max_fee(
    ctx: &Context,
    flag: &Option<String>,
    mint: &Option<MintInfo>,
    now: u64,
) -> Result<u64, CliError> {
    match (flag, mint) {
        (Some(text), Some(mint)) => ctx.amount(text, mint, "--max-fee"),
        (Some(text), None) => text
            .parse()
            .map_err(|_| CliError::Input(format!("--max-fee {text:?} is not an amount"))),
        (None, _) => Ok(now),
    }
}

/// Refuses an issuing key that is not an approved maker of the network.
async fn check_maker(
    ctx: &Context,
    network: &Pubkey,
    issuing_key: &Pubkey,
) -> Result<(), CliError> {
    let address = pda::find_maker_address(network, issuing_key).0;
    let maker = accounts::fetch_optional::<Maker>(&ctx.rpc, &address)
        .await
        .map_err(|e| ctx.rpc_error(e))?;
    match maker {
        Some(m) if m.status == MakerStatus::Approved => Ok(()),
        Some(m) => Err(CliError::Input(format!(
            "maker {:?} (issuing key {issuing_key}) is {}: the network authority approves it with `depin maker approve {issuing_key}`",
            m.name,
            format!("{:?}", m.status).to_lowercase()
        ))),
        None => Err(CliError::Input(format!(
            "{issuing_key} is not a maker of this network: register it with `depin maker register`"
        ))),
    }
}

/// The device's proof instruction, its key and the expiry it signed.
fn proof(
    proof: &DeviceProof,
    message: impl Fn(&Pubkey, i64) -> Vec<u8>,
    default_expiry: i64,
) -> Result<(Instruction, Pubkey, i64), CliError> {
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
            "--device-signature does not verify for this device, owner, maker, network, location and expiry: sign the message `depin device onboard-message` prints".into(),
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
        DeviceCommand::Keygen { outfile } => keygen(ctx, &outfile),
        DeviceCommand::OnboardMessage {
            device,
            issuing_key,
            owner,
            location,
            expires_in,
        } => onboard_message(ctx, &device, &issuing_key, owner, &location, expires_in).await,
        DeviceCommand::Onboard {
            issuing_key,
            csv: Some(csv),
            max_fee,
            ..
        } => bulk_onboard(ctx, &issuing_key, &csv, &max_fee).await,
        DeviceCommand::Onboard {
            issuing_key,
            csv: None,
            proof,
            location,
            max_fee,
        } => onboard(ctx, &issuing_key, &proof, &location, &max_fee).await,
        DeviceCommand::AssertLocation {
            proof,
            location,
            max_fee,
        } => assert_location(ctx, &proof, &location, &max_fee).await,
        DeviceCommand::Show { device } => show(ctx, &device).await,
        DeviceCommand::List { owner } => list(ctx, owner).await,
        DeviceCommand::Suspend { device } => {
            set_status(ctx, &device, DeviceStatus::Suspended).await
        }
        DeviceCommand::Activate { device } => set_status(ctx, &device, DeviceStatus::Active).await,
    }
}

fn keygen(ctx: &Context, outfile: &Path) -> Result<(), CliError> {
    let device = Keypair::new();
    config::write_new_keypair(&device, outfile)?;
    ctx.output.print(
        &serde_json::json!({ "device_key": device.pubkey().to_string(), "keypair": outfile.display().to_string() }),
        || format!("Device key {} written to {}", device.pubkey(), outfile.display()),
    );
    Ok(())
}

async fn onboard_message(
    ctx: &Context,
    device: &str,
    issuing_key: &str,
    owner: Option<String>,
    location: &LocationArgs,
    expires_in: i64,
) -> Result<(), CliError> {
    let (network_key, network) = ctx.network_account().await?;
    let device = pubkey(device, "--device")?;
    let issuing_key = pubkey(issuing_key, "--issuing-key")?;
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
        || format!(
            "Message (hex), for the device to sign with its ed25519 key:\n{hex}\nLocation: {}\nExpires at: {expires_at} ({})",
            if cell == 0 { "-".to_string() } else { describe(cell) },
            local_time(expires_at)
        ),
    );
    Ok(())
}

async fn onboard(
    ctx: &Context,
    issuing_key: &Path,
    device_proof: &DeviceProof,
    location: &LocationArgs,
    max_fee_flag: &Option<String>,
) -> Result<(), CliError> {
    let owner = ctx.keypair()?;
    let issuer = config::read_keypair(issuing_key)?;
    let (network_key, network) = ctx.network_account().await?;
    check_maker(ctx, &network_key, &issuer.pubkey()).await?;
    let cell = location
        .cell(network.location_resolution)?
        .unwrap_or(Device::NO_LOCATION);
    let default_expiry = ctx.chain_time().await? + 600;
    let (proof_ix, device_key, expires_at) = proof(
        device_proof,
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
    let device = pda::find_device_address(&network_key, &device_key).0;
    if let Some(existing) = accounts::fetch_optional::<Device>(&ctx.rpc, &device)
        .await
        .map_err(|e| ctx.rpc_error(e))?
    {
        eprintln!("Device {device_key} is already onboarded on this network:");
        let holder = tokens::nft_holder(&ctx.rpc, &existing.mint)
            .await
            .ok()
            .flatten();
        print_device(ctx, &view(&device, &existing, holder), existing.location);
        return Err(CliError::Input(format!(
            "device {device_key} exists (shown above): DeviceAlreadyOnboarded"
        )));
    }
    let total = registry::onboarding_fee_total(&network, cell);
    let fee = fee_payment(ctx, &network, &owner, total).await?;
    let fee_mint = fee_mint(ctx, &network).await?;
    let onboard = registry::onboard_device(
        &owner.pubkey(),
        &issuer.pubkey(),
        &network_key,
        OnboardDeviceArgs {
            device_key,
            location: cell,
            expires_at,
            max_fee: max_fee(ctx, max_fee_flag, &fee_mint, total)?,
        },
        fee,
    );
    let signature = ctx.send(&[proof_ix, onboard], &owner, &[&issuer]).await?;
    let mint = pda::find_device_mint_address(&network_key, &device_key).0;
    let paid = match &fee_mint {
        Some(m) if total > 0 => format!("fees {}", m.ui(total)),
        _ => "no fees".into(),
    };
    ctx.output.print(
        &serde_json::json!({ "device": device.to_string(), "device_key": device_key.to_string(), "mint": mint.to_string(), "location": cell, "fee_paid": total, "signature": signature.to_string() }),
        || format!(
            "Device {device_key} onboarded at {}; NFT {mint}; {paid}\nSignature: {signature}",
            if cell == 0 { "no location".to_string() } else { describe(cell) },
        ),
    );
    Ok(())
}

async fn assert_location(
    ctx: &Context,
    device_proof: &DeviceProof,
    location: &LocationArgs,
    max_fee_flag: &Option<String>,
) -> Result<(), CliError> {
    let holder_key = ctx.keypair()?;
    let (network_key, network) = ctx.network_account().await?;
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
    let record = fetch_device(ctx, &network_key, &device_key_hint).await?;
    let holder = tokens::nft_holder(&ctx.rpc, &record.mint)
        .await
        .map_err(|e| ctx.rpc_error(e))?;
    if holder != Some(holder_key.pubkey()) {
        return Err(CliError::Input(format!(
            "{} does not hold device {device_key_hint}'s NFT (held by {}): its holder moves it",
            holder_key.pubkey(),
            holder.map_or("nobody".into(), |h| h.to_string())
        )));
    }
    let (proof_ix, device_key, expires_at) = proof(
        device_proof,
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
    let total = if cell == record.location {
        0
    } else {
        network.location_fee.amount
    };
    let fee = fee_payment(ctx, &network, &holder_key, total).await?;
    let fee_mint = fee_mint(ctx, &network).await?;
    let mint = pda::find_device_mint_address(&network_key, &device_key).0;
    let assert = registry::assert_location(
        &holder_key.pubkey(),
        &depinkit_sdk::ata(&holder_key.pubkey(), &mint, &anchor_spl::token_2022::ID),
        &network_key,
        &device_key,
        AssertLocationArgs {
            location: cell,
            expires_at,
            max_fee: max_fee(ctx, max_fee_flag, &fee_mint, network.location_fee.amount)?,
        },
        fee,
    );
    let signature = ctx.send(&[proof_ix, assert], &holder_key, &[]).await?;
    ctx.output.print(
        &serde_json::json!({ "device_key": device_key.to_string(), "location": format!("{cell:x}"), "fee_paid": total, "signature": signature.to_string() }),
        || format!("Device {device_key} now at {}\nSignature: {signature}", describe(cell)),
    );
    Ok(())
}

async fn show(ctx: &Context, device: &str) -> Result<(), CliError> {
    let network_key = ctx.network()?;
    let device_key = pubkey(device, "device")?;
    let record = fetch_device(ctx, &network_key, &device_key).await?;
    let holder = tokens::nft_holder(&ctx.rpc, &record.mint)
        .await
        .map_err(|e| ctx.rpc_error(e))?;
    let address = pda::find_device_address(&network_key, &device_key).0;
    print_device(ctx, &view(&address, &record, holder), record.location);
    Ok(())
}

async fn list(ctx: &Context, owner: Option<String>) -> Result<(), CliError> {
    let network_key = ctx.network()?;
    let mut devices = accounts::devices_of_network(&ctx.rpc, &network_key)
        .await
        .map_err(|e| ctx.rpc_error(e))?;
    if let Some(owner) = owner {
        let owner = pubkey(&owner, "--owner")?;
        let held = tokens::held_nft_mints(&ctx.rpc, &owner)
            .await
            .map_err(|e| ctx.rpc_error(e))?;
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
    Ok(())
}

async fn set_status(ctx: &Context, device: &str, status: DeviceStatus) -> Result<(), CliError> {
    let authority = ctx.keypair()?;
    let network = ctx.network()?;
    let device_key = pubkey(device, "device")?;
    fetch_device(ctx, &network, &device_key).await?;
    let address = pda::find_device_address(&network, &device_key).0;
    let ix = registry::set_device_status(&authority.pubkey(), &network, &address, status);
    let signature = ctx.send(&[ix], &authority, &[]).await?;
    let word = format!("{status:?}").to_lowercase();
    ctx.output.print(
        &serde_json::json!({ "device_key": device_key.to_string(), "status": word, "signature": signature.to_string() }),
        || format!("Device {device_key} {word}\nSignature: {signature}"),
    );
    Ok(())
}

/// One checked row of a bulk-onboarding CSV.
struct CsvRow {
    line: usize,
    device: Keypair,
    cell: u64,
}

/// Reads and checks a whole bulk-onboarding CSV: known columns only, a
/// readable device keypair per row, a cell or both coordinates (in range) or
/// neither. Every problem is reported at once; nothing is sent if any.
fn parse_csv(path: &Path, resolution: u8) -> Result<Vec<CsvRow>, CliError> {
    const COLUMNS: [&str; 4] = ["keypair", "cell", "lat", "lon"];
    let file = crate::csv_file::read(path)?;
    let header = &file.header;
    if let Some(unknown) = header.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return Err(CliError::Input(format!(
            "{}: unknown column {unknown:?} (the columns are keypair, cell, lat, lon)",
            path.display()
        )));
    }
    let column = |name: &str| header.iter().position(|h| h == name);
    let keypair = column("keypair").ok_or_else(|| {
        CliError::Input(format!(
            "{}: the header needs a `keypair` column",
            path.display()
        ))
    })?;
    let (cell, lat, lon) = (column("cell"), column("lat"), column("lon"));
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut first_line = std::collections::HashMap::new();
    for (number, cells) in &file.rows {
        let number = *number;
        if cells.len() > header.len() {
            problems.push(format!("line {number}: more values than columns"));
            continue;
        }
        let get = |i: Option<usize>| i.and_then(|i| cells.get(i)).filter(|v| !v.is_empty());
        let row = (|| -> Result<CsvRow, String> {
            let file = get(Some(keypair)).ok_or("no keypair")?;
            let device = solana_sdk::signature::read_keypair_file(file)
                .map_err(|e| format!("cannot read keypair {file}: {e}"))?;
            let degrees = |v: &str, what: &str| {
                v.parse::<f64>()
                    .map_err(|_| format!("{what} {v:?} is not a number"))
            };
            let cell = match (get(cell), get(lat), get(lon)) {
                (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                    return Err("give a cell or lat/lon, not both".into());
                }
                (Some(hex), None, None) => parse_cell(hex).map_err(|e| e.to_string())?,
                (None, Some(lat), Some(lon)) => {
                    registry::cell_at(degrees(lat, "lat")?, degrees(lon, "lon")?, resolution)?
                }
                (None, Some(_), None) => return Err("lat without lon".into()),
                (None, None, Some(_)) => return Err("lon without lat".into()),
                (None, None, None) => Device::NO_LOCATION,
            };
            Ok(CsvRow {
                line: number,
                device,
                cell,
            })
        })();
        match row {
            Ok(row) => match first_line.entry(row.device.pubkey()) {
                std::collections::hash_map::Entry::Occupied(first) => problems.push(format!(
                    "line {number}: the same device as line {}",
                    first.get()
                )),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(number);
                    rows.push(row);
                }
            },
            Err(problem) => problems.push(format!("line {number}: {problem}")),
        }
    }
    if !problems.is_empty() {
        return Err(CliError::Input(format!(
            "{}: nothing was sent; fix {}: {}",
            path.display(),
            if problems.len() == 1 { "this" } else { "these" },
            problems.join("; ")
        )));
    }
    Ok(rows)
}

/// Onboards every device of a CSV (checked whole first), with a progress bar
/// and a per-row summary; a row that fails is reported and the others go on.
async fn bulk_onboard(
    ctx: &Context,
    issuing_key: &Path,
    csv: &Path,
    max_fee_flag: &Option<String>,
) -> Result<(), CliError> {
    let owner = ctx.keypair()?;
    let issuer = config::read_keypair(issuing_key)?;
    let (network_key, network) = ctx.network_account().await?;
    let rows = parse_csv(csv, network.location_resolution)?;
    check_maker(ctx, &network_key, &issuer.pubkey()).await?;
    let total: u64 = rows
        .iter()
        .map(|r| registry::onboarding_fee_total(&network, r.cell))
        .sum();
    let fee = fee_payment(ctx, &network, &owner, total).await?;
    let fee_mint = fee_mint(ctx, &network).await?;
    let bar = indicatif::ProgressBar::new(rows.len() as u64);
    if ctx.output.is_display() {
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
        device_key: String,
        location: u64,
        error: Option<String>,
    }
    let mut outcomes = Vec::new();
    for row in &rows {
        let result: Result<(), CliError> = async {
            let device = pda::find_device_address(&network_key, &row.device.pubkey()).0;
            if ctx.exists(&device).await? {
                return Err(CliError::Input("already onboarded".into()));
            }
            let expires_at = ctx.chain_time().await? + 600;
            let now = registry::onboarding_fee_total(&network, row.cell);
            let ixs = registry::onboard_device_signed(
                &owner.pubkey(),
                &issuer.pubkey(),
                &network_key,
                &row.device,
                row.cell,
                expires_at,
                max_fee(ctx, max_fee_flag, &fee_mint, now)?,
                fee,
            );
            ctx.send(&ixs, &owner, &[&issuer]).await.map(|_| ())
        }
        .await;
        outcomes.push(Outcome {
            line: row.line,
            device_key: row.device.pubkey().to_string(),
            location: row.cell,
            error: result.err().map(|e| e.to_string()),
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
        for o in &outcomes {
            match &o.error {
                None => text.push_str(&format!("\nline {}: {} onboarded", o.line, o.device_key)),
                Some(error) => {
                    text.push_str(&format!("\nline {}: {}: {error}", o.line, o.device_key))
                }
            }
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
