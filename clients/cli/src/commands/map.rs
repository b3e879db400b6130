//! `depin map query`: the mapping network's verified map, bought cell by
//! cell with the wallet's delegated credits. Each request is signed by the
//! wallet (`depinkit_reports::request`), which the oracle charges.

use crate::{context::Context, error::CliError};
use clap::Subcommand;
use depinkit_reports::request::RequestAuth;
use rand_core::RngCore;
use serde_json::Value;
use std::path::PathBuf;

/// Map commands.
#[derive(Subcommand, Debug)]
pub enum MapCommand {
    /// The verified cells in a box or a list, paid in credits per cell.
    Query {
        /// The mapping network oracle's API.
        #[arg(long)]
        oracle: String,
        /// min_lon,min_lat,max_lon,max_lat in degrees.
        #[arg(long, conflicts_with = "cells", required_unless_present = "cells")]
        bbox: Option<String>,
        /// H3 cells (hex), comma-separated.
        #[arg(long)]
        cells: Option<String>,
        /// Write the cells as GeoJSON (a FeatureCollection of hexagons) to
        /// this file, `-` for stdout.
        #[arg(long)]
        geojson: Option<PathBuf>,
    },
}

/// GETs `path?query` from the oracle at `base`, signed by `wallet` (a
/// fresh nonce, now): the status and the JSON body.
pub(crate) async fn signed_get(
    base: &str,
    path: &str,
    query: &str,
    wallet: &solana_sdk::signature::Keypair,
) -> Result<(reqwest::StatusCode, Value), String> {
    let signing = ed25519_dalek::SigningKey::from_bytes(
        wallet.to_bytes()[..32]
            .try_into()
            .expect("a keypair's first 32 bytes are its seed"),
    );
    let mut nonce = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut nonce);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let auth = RequestAuth::sign(&signing, "GET", path, query, now_ms, nonce);
    let mut request =
        reqwest::Client::new().get(format!("{}{path}?{query}", base.trim_end_matches('/')));
    for (name, value) in auth.headers() {
        request = request.header(name, value);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .json()
        .await
        .map_err(|e| format!("not JSON: {e}"))?;
    Ok((status, body))
}

/// Runs a map command.
pub async fn run(ctx: &Context, command: MapCommand) -> Result<(), CliError> {
    let MapCommand::Query {
        oracle,
        bbox,
        cells,
        geojson,
    } = command;
    let wallet = ctx.keypair()?;
    let mut query = match (&bbox, &cells) {
        (Some(bbox), _) => format!("bbox={bbox}"),
        (None, Some(cells)) => format!("cells={cells}"),
        (None, None) => unreachable!("clap requires one"),
    };
    if geojson.is_some() {
        query.push_str("&format=geojson");
    }
    let url = format!("{}/v1/map/cells?{query}", oracle.trim_end_matches('/'));
    let (status, body) = signed_get(&oracle, "/v1/map/cells", &query, &wallet)
        .await
        .map_err(|e| CliError::Rpc(format!("{url}: {e}")))?;
    if !status.is_success() {
        let message = body["message"].as_str().unwrap_or("refused");
        let code = body["error"].as_str().unwrap_or("error");
        let line = format!("the oracle refused the query ({status}, {code}): {message}");
        return Err(if status.as_u16() == 402 || status.is_client_error() {
            CliError::Input(line)
        } else {
            CliError::Rpc(line)
        });
    }
    if let Some(target) = geojson {
        let text = serde_json::to_string_pretty(&body).expect("JSON serializes");
        if target.as_os_str() == "-" {
            println!("{text}");
        } else {
            std::fs::write(&target, text)
                .map_err(|e| CliError::Input(format!("cannot write {}: {e}", target.display())))?;
            eprintln!(
                "{} cells written to {}; {} credits charged",
                body["features"].as_array().map_or(0, Vec::len),
                target.display(),
                body["charged"]["credits"]
            );
        }
        return Ok(());
    }
    ctx.output.print(&body, || {
        let rows: Vec<Vec<String>> = body["cells"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                vec![
                    c["cell"].as_str().unwrap_or_default().to_string(),
                    format!(
                        "{:.6},{:.6}",
                        c["lat"].as_f64().unwrap_or(0.0),
                        c["lon"].as_f64().unwrap_or(0.0)
                    ),
                    crate::output::local_time(c["verified_ms"].as_i64().unwrap_or(0) / 1000),
                    c["devices"].to_string(),
                    c["value"].to_string(),
                    c["frames"].as_array().map_or(0, Vec::len).to_string(),
                ]
            })
            .collect();
        format!(
            "{} cells; {} credits charged in epoch {}\n{}",
            rows.len(),
            body["charged"]["credits"],
            body["charged"]["epoch"],
            crate::output::table(
                &["cell", "center", "verified", "devices", "value", "frames"],
                &rows
            )
        )
    });
    Ok(())
}
