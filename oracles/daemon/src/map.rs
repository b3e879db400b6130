//! The map the mapping network sells (`GET /v1/map/cells`), paid in
//! credits per cell returned, and the record a customer checks its burns
//! against (`GET /v1/usage/{wallet}`).
//!
//! Each request is signed by the paying wallet
//! ([`depinkit_reports::request`]): a request without the headers, with a
//! bad signature, or signed more than `max_skew_secs` away from the
//! oracle's clock is a 401; one sent again (its nonce used) a 409. The
//! cost (`credits_per_cell` x cells returned) is checked against what the
//! wallet's usage escrow on chain still holds less what this oracle charged
//! and has not burned yet: short, a 402 with the shortfall, nothing
//! charged. Otherwise the charge is kept with the epoch it fell in; when the
//! epoch ends, the epoch worker burns each wallet's charges with
//! `burn_usage`, their receipt root committing to every charge
//! ([`depinkit_reports::usage::receipt_root`]).

use crate::{
    api::error as refuse,
    chain::Chain,
    store::{ChargeError, MapCell, Store, now_ms},
    verifier::geo,
};
use anchor_lang::prelude::Pubkey;
use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use depinkit_reports::{
    Body, Hash32, Key,
    request::{RequestAuth, request_message},
    usage::{Charge, receipt_root},
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::Mutex;

/// The map service's settings, `[map]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MapSettings {
    /// Credits (base units) per cell returned.
    pub credits_per_cell: u64,
    /// Most cells one request returns (a larger box is refused: narrow it).
    pub max_cells: u32,
    /// Most seconds between a request's signature and the oracle's clock.
    pub max_skew_secs: i64,
}

impl Default for MapSettings {
    fn default() -> Self {
        MapSettings {
            credits_per_cell: 1,
            max_cells: 10_000,
            max_skew_secs: 300,
        }
    }
}

/// What the map routes share.
pub struct MapService<C> {
    /// The chain (usage escrows, the pool's epochs).
    pub chain: Arc<C>,
    /// The mapping network.
    pub network: Pubkey,
    /// The store (the map, charges, nonces).
    pub store: Store,
    /// Prices and limits.
    pub settings: MapSettings,
    /// H3 resolution of the map's cells (the mapping rules').
    pub resolution: u8,
    /// One balance check and charge at a time, so two requests cannot both
    /// spend the same credits.
    pub charging: Mutex<()>,
}

/// The query: `cells=` (H3 indexes, hex, comma-separated) or `bbox=`
/// (min lon, min lat, max lon, max lat, degrees); `format=geojson` for a
/// FeatureCollection.
#[derive(Debug, Deserialize)]
pub struct MapQuery {
    cells: Option<String>,
    bbox: Option<String>,
    format: Option<String>,
}

/// Degrees as 1e-7 degrees, if a finite number in range.
fn e7(text: &str, limit: f64) -> Option<i32> {
    let value: f64 = text.trim().parse().ok()?;
    (value.is_finite() && value.abs() <= limit).then(|| (value * 1e7).round() as i32)
}

/// The box of a `bbox=` value: ((min lat, min lon), (max lat, max lon)).
fn parse_bbox(text: &str) -> Option<((i32, i32), (i32, i32))> {
    let parts: Vec<&str> = text.split(',').collect();
    let [min_lon, min_lat, max_lon, max_lat] = parts[..] else {
        return None;
    };
    let (min_lon, max_lon) = (e7(min_lon, 180.0)?, e7(max_lon, 180.0)?);
    let (min_lat, max_lat) = (e7(min_lat, 90.0)?, e7(max_lat, 90.0)?);
    (min_lon <= max_lon && min_lat <= max_lat).then_some(((min_lat, min_lon), (max_lat, max_lon)))
}

impl<C: Chain> MapService<C> {
    /// Credits `wallet` may still spend here: its escrow's delegated credits
    /// less those burned, withdrawn or asked back, less what this oracle
    /// charged and has not burned yet; `None` without an escrow.
    async fn spendable(&self, wallet: &Key) -> Result<Option<u64>, Response> {
        let escrow = self
            .chain
            .usage_escrow(&self.network, &Pubkey::new_from_array(wallet.0))
            .await
            .map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, "chain_unavailable", e))?;
        let Some(escrow) = escrow else {
            return Ok(None);
        };
        let pending = self
            .store
            .unburned_credits(wallet)
            .await
            .map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e))?;
        Ok(Some(
            crate::epoch::spendable(&escrow).saturating_sub(pending),
        ))
    }

    /// The frames of `cell` in its latest report's track.
    async fn frames(&self, cell: &MapCell) -> Vec<String> {
        let Ok(Some(report)) = self.store.report_by_hash(&cell.report).await else {
            return Vec::new();
        };
        let Body::MapTrack(track) = &report.report.report.body else {
            return Vec::new();
        };
        track
            .fixes
            .iter()
            .filter(|f| {
                geo::cell_of(f.lat_e7, f.lon_e7, self.resolution)
                    .is_some_and(|c| u64::from(c) == cell.cell)
            })
            .map(|f| f.frame_hash.to_string())
            .collect()
    }
}

/// `GET /v1/map/cells`: the verified cells asked for, charged to the
/// signing wallet.
pub async fn cells<C: Chain>(
    State(service): State<Arc<MapService<C>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<MapQuery>,
) -> Response {
    let auth =
        match RequestAuth::from_headers(|name| headers.get(name).and_then(|v| v.to_str().ok())) {
            Ok(auth) => auth,
            Err(header) => {
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    "unsigned",
                    format!("the {header} header is missing or malformed: sign the request"),
                );
            }
        };
    let path = uri.path();
    let raw_query = uri.query().unwrap_or("");
    let now = now_ms();
    if (now - auth.timestamp_ms).abs() > service.settings.max_skew_secs.saturating_mul(1000) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "stale_request",
            format!(
                "signed {} ms from the oracle's clock; at most {} s",
                now - auth.timestamp_ms,
                service.settings.max_skew_secs
            ),
        );
    }
    if !auth.verify(method.as_str(), path, raw_query) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "the signature is not the wallet's over this request",
        );
    }
    let limit = service.settings.max_cells;
    let found = match (&query.cells, &query.bbox) {
        (Some(list), None) => {
            let mut cells = Vec::new();
            for text in list.split(',').filter(|t| !t.is_empty()) {
                match u64::from_str_radix(text.trim(), 16)
                    .ok()
                    .and_then(|c| h3o::CellIndex::try_from(c).ok())
                {
                    Some(cell) => cells.push(u64::from(cell)),
                    None => {
                        return refuse(
                            StatusCode::BAD_REQUEST,
                            "bad_cell",
                            format!("{text:?} is not an H3 cell index (hex)"),
                        );
                    }
                }
            }
            if cells.len() > limit as usize {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "too_many_cells",
                    format!("{} cells asked; at most {limit} a request", cells.len()),
                );
            }
            cells.sort_unstable();
            cells.dedup();
            service.store.map_cells(&cells).await
        }
        (None, Some(bbox)) => {
            let Some((min, max)) = parse_bbox(bbox) else {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "bad_bbox",
                    "bbox is min_lon,min_lat,max_lon,max_lat in degrees, min before max",
                );
            };
            match service.store.map_cells_in_box(min, max, limit + 1).await {
                Ok(cells) if cells.len() > limit as usize => {
                    return refuse(
                        StatusCode::BAD_REQUEST,
                        "too_many_cells",
                        format!("the box holds more than {limit} mapped cells: narrow it"),
                    );
                }
                other => other,
            }
        }
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "bad_query",
                "ask for cells=... or bbox=..., one of them",
            );
        }
    };
    let found = match found {
        Ok(found) => found,
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e),
    };
    let cost = service
        .settings
        .credits_per_cell
        .saturating_mul(found.len() as u64);

    let charged = {
        let _one_at_a_time = service.charging.lock().await;
        let spendable = match service.spendable(&auth.wallet).await {
            Ok(spendable) => spendable,
            Err(response) => return response,
        };
        let available = spendable.unwrap_or(0);
        if available < cost {
            return (
                StatusCode::PAYMENT_REQUIRED,
                Json(json!({
                    "error": if spendable.is_none() { "no_usage_escrow" } else { "insufficient_credits" },
                    "message": format!(
                        "{} cells cost {cost} credits; {available} are spendable: delegate at least \
                         {} more (`depin credits delegate`)",
                        found.len(),
                        cost - available
                    ),
                    "cost": cost,
                    "available": available,
                    "shortfall": cost - available,
                })),
            )
                .into_response();
        }
        // The epoch on the chain's clock: the one `burn_usage` checks.
        let (pool, chain_now) =
            match tokio::try_join!(service.chain.pool(&service.network), service.chain.now()) {
                Ok(read) => read,
                Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "chain_unavailable", e),
            };
        let Some(epoch) = pool.epoch_at(chain_now) else {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "no_epoch",
                "the network's first epoch has not begun: usage has no epoch to be burned in",
            );
        };
        let message = request_message(
            method.as_str(),
            path,
            raw_query,
            auth.timestamp_ms,
            &auth.nonce,
        );
        let charge = Charge {
            wallet: auth.wallet,
            epoch: u64::from(epoch),
            request: Hash32::sha256(&message),
            units: found.len() as u64,
            credits: cost,
        };
        match service
            .store
            .keep_charge(&auth.nonce, auth.timestamp_ms, &charge, now)
            .await
        {
            Ok(()) => charge,
            Err(ChargeError::Replayed) => {
                return refuse(
                    StatusCode::CONFLICT,
                    "replayed",
                    "this request was served already: sign each request with a new nonce",
                );
            }
            Err(ChargeError::Store(e)) => {
                return refuse(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e);
            }
        }
    };
    metrics::counter!("depin_oracle_map_cells_sold_total").increment(charged.units);
    let mut cells = Vec::with_capacity(found.len());
    for cell in &found {
        cells.push((cell, service.frames(cell).await));
    }
    let charge = json!({
        "credits": charged.credits,
        "epoch": charged.epoch,
        "request": charged.request.to_string(),
    });
    if query.format.as_deref() == Some("geojson") {
        return Json(geojson(&cells, charge)).into_response();
    }
    Json(json!({
        "cells": cells.iter().map(|(c, frames)| cell_json(c, frames)).collect::<Vec<_>>(),
        "charged": charge,
    }))
    .into_response()
}

fn cell_json(cell: &MapCell, frames: &[String]) -> Value {
    json!({
        "cell": format!("{:x}", cell.cell),
        "lat": f64::from(cell.lat_e7) / 1e7,
        "lon": f64::from(cell.lon_e7) / 1e7,
        "verified_ms": cell.verified_ms,
        "epoch": cell.epoch,
        "devices": cell.devices,
        "value": cell.value,
        "frames": frames,
    })
}

/// The cells as a GeoJSON FeatureCollection: each cell's hexagon (lon, lat
/// rings, closed) with its record as properties.
fn geojson(cells: &[(&MapCell, Vec<String>)], charged: Value) -> Value {
    let features: Vec<Value> = cells
        .iter()
        .map(|(cell, frames)| {
            let ring: Vec<[f64; 2]> = h3o::CellIndex::try_from(cell.cell)
                .map(|c| {
                    let boundary = c.boundary();
                    let mut ring: Vec<[f64; 2]> =
                        boundary.iter().map(|p| [p.lng(), p.lat()]).collect();
                    if let Some(first) = ring.first().copied() {
                        ring.push(first);
                    }
                    ring
                })
                .unwrap_or_default();
            json!({
                "type": "Feature",
                "geometry": { "type": "Polygon", "coordinates": [ring] },
                "properties": cell_json(cell, frames),
            })
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features, "charged": charged })
}

/// `GET /v1/usage/{wallet}?epoch=N`: the wallet's charges in the epoch, the
/// receipt root they make and the burn that attested them, so the customer
/// checks the `UsageReport` on chain. Public: charges name no data.
pub async fn usage<C: Chain>(
    State(service): State<Arc<MapService<C>>>,
    Path(wallet): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let Ok(wallet) = wallet.parse::<Key>() else {
        return refuse(StatusCode::BAD_REQUEST, "bad_wallet", "not an address");
    };
    let Some(epoch) = query.get("epoch").and_then(|e| e.parse::<u64>().ok()) else {
        return refuse(StatusCode::BAD_REQUEST, "bad_epoch", "ask for ?epoch=N");
    };
    let (charges, burned) = match tokio::try_join!(
        service.store.charges(&wallet, epoch),
        service.store.burn_signature(&wallet, epoch)
    ) {
        Ok(found) => found,
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e),
    };
    Json(json!({
        "wallet": wallet.to_string(),
        "epoch": epoch,
        "credits": charges.iter().map(|c| c.credits).sum::<u64>(),
        "receipt_root": receipt_root(&charges).to_string(),
        "burn_signature": burned,
        "charges": charges.iter().map(|c| json!({
            "request": c.request.to_string(),
            "units": c.units,
            "credits": c.credits,
            "hash": c.hash().to_string(),
        })).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// Burns each wallet's charges of `epoch` (ended: no charge joins it any
/// more) with `burn_usage`; how many wallets were burned. A wallet whose
/// burn fails is logged and tried again at the next call.
pub async fn burn_epoch<C: Chain>(
    chain: &C,
    network: &Pubkey,
    store: &Store,
    epoch: u64,
) -> Result<usize, crate::store::StoreError> {
    let Ok(pool_epoch) = u32::try_from(epoch) else {
        return Ok(0);
    };
    let mut burned = 0;
    for wallet in store.wallets_to_burn(epoch).await? {
        let charges = store.charges(&wallet, epoch).await?;
        let args = service_payments::instructions::BurnUsageArgs {
            epoch: pool_epoch,
            amount: charges.iter().map(|c| c.credits).sum(),
            receipt_root: receipt_root(&charges).0,
        };
        match chain
            .burn_usage(network, &Pubkey::new_from_array(wallet.0), args)
            .await
        {
            Ok(signature) => {
                store.record_burn(&wallet, epoch, &signature).await?;
                tracing::info!(%wallet, epoch, credits = args.amount, %signature, "usage burned");
                burned += 1;
            }
            Err(e) => {
                tracing::warn!(%wallet, epoch, error = %e, "usage burn failed; retrying later");
            }
        }
    }
    Ok(burned)
}
