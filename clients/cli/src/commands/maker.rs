//! `depin maker register|approve|revoke|list`.

use crate::{
    config::{self, pubkey},
    context::Context,
    error::CliError,
    output::{local_time, table},
};
use clap::Subcommand;
use depinkit_sdk::{accounts, device_registry, registry};
use device_registry::{
    pda,
    state::{Maker, MakerStatus},
};
use serde::Serialize;
use solana_sdk::signature::Signer;

/// Maker commands.
#[derive(Subcommand, Debug)]
pub enum MakerCommand {
    /// Register a maker's issuing key with the network (pending approval).
    Register {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Keypair file of the issuing key [default: the keypair].
        #[arg(long, value_name = "FILE")]
        issuing_key: Option<String>,
    },
    /// Approve a maker (network authority).
    Approve {
        /// The maker's issuing key.
        issuing_key: String,
    },
    /// Revoke a maker (network authority); its devices stay.
    Revoke {
        /// The maker's issuing key.
        issuing_key: String,
    },
    /// List the network's makers.
    List,
}

/// Runs a maker command.
pub async fn run(ctx: &Context, command: MakerCommand) -> Result<(), CliError> {
    let network = ctx.network()?;
    match command {
        MakerCommand::Register { name, issuing_key } => {
            let payer = ctx.keypair()?;
            let issuer = match issuing_key {
                Some(path) => config::read_keypair(std::path::Path::new(&path))?,
                None => payer.insecure_clone(),
            };
            let existing = pda::find_maker_address(&network, &issuer.pubkey()).0;
            if let Ok(maker) = accounts::fetch::<Maker>(&ctx.rpc, &existing).await {
                return Err(CliError::Input(format!(
                    "issuing key {} is already registered as maker {:?} ({}, {}): see `depin maker list`",
                    issuer.pubkey(),
                    maker.name,
                    existing,
                    format!("{:?}", maker.status).to_lowercase()
                )));
            }
            let ix = registry::register_maker(&payer.pubkey(), &issuer.pubkey(), &network, &name);
            let signature = ctx.send(&[ix], &payer, &[&issuer]).await?;
            let maker = pda::find_maker_address(&network, &issuer.pubkey()).0;
            ctx.output.print(
                &serde_json::json!({ "maker": maker.to_string(), "issuing_key": issuer.pubkey().to_string(), "signature": signature.to_string() }),
                || format!("Maker {maker} registered, pending approval\nSignature: {signature}"),
            );
        }
        MakerCommand::Approve { issuing_key } => {
            set_status(ctx, &network, &issuing_key, MakerStatus::Approved).await?
        }
        MakerCommand::Revoke { issuing_key } => {
            ctx.confirm(&format!(
                "Revoke maker {issuing_key}? Its key can no longer onboard devices."
            ))?;
            set_status(ctx, &network, &issuing_key, MakerStatus::Revoked).await?
        }
        MakerCommand::List => {
            let makers = accounts::makers_of_network(&ctx.rpc, &network)
                .await
                .map_err(|e| ctx.rpc_error(e))?;
            #[derive(Serialize)]
            struct Row {
                maker: String,
                name: String,
                issuing_key: String,
                status: String,
                devices: u64,
                registered_at: i64,
            }
            let mut rows: Vec<Row> = makers
                .iter()
                .map(|(address, m)| Row {
                    maker: address.to_string(),
                    name: m.name.clone(),
                    issuing_key: m.issuing_key.to_string(),
                    status: format!("{:?}", m.status).to_lowercase(),
                    devices: m.device_count,
                    registered_at: m.registered_at,
                })
                .collect();
            rows.sort_by(|a, b| a.name.cmp(&b.name));
            ctx.output.print(&rows, || {
                table(
                    &[
                        "MAKER",
                        "NAME",
                        "ISSUING KEY",
                        "STATUS",
                        "DEVICES",
                        "REGISTERED",
                    ],
                    &rows
                        .iter()
                        .map(|r| {
                            vec![
                                r.maker.clone(),
                                r.name.clone(),
                                r.issuing_key.clone(),
                                r.status.clone(),
                                r.devices.to_string(),
                                local_time(r.registered_at),
                            ]
                        })
                        .collect::<Vec<_>>(),
                )
            });
        }
    }
    Ok(())
}

async fn set_status(
    ctx: &Context,
    network: &solana_sdk::pubkey::Pubkey,
    issuing_key: &str,
    status: MakerStatus,
) -> Result<(), CliError> {
    let authority = ctx.keypair()?;
    let issuing_key = pubkey(issuing_key, "issuing key")?;
    let maker = pda::find_maker_address(network, &issuing_key).0;
    if !ctx.exists(&maker).await? {
        return Err(CliError::Input(format!(
            "no maker registered with issuing key {issuing_key} on this network: it registers first with `depin maker register`"
        )));
    }
    let ix = registry::set_maker_status(&authority.pubkey(), network, &maker, status);
    let signature = ctx.send(&[ix], &authority, &[]).await?;
    let word = format!("{status:?}").to_lowercase();
    ctx.output.print(
        &serde_json::json!({ "maker": maker.to_string(), "status": word, "signature": signature.to_string() }),
        || format!("Maker {maker} {word}\nSignature: {signature}"),
    );
    Ok(())
}
