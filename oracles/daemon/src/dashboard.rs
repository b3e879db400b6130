//! The network dashboard, served by the oracle itself: `GET /` is a page
//! (assets embedded in the binary, map libraries included: no CDN, works
//! offline) that draws the network's devices as H3 hexes, its epochs with
//! what they accepted and refused, and a page per device. It reads the JSON
//! routes here and the oracle's other public routes.
//!
//! `GET /v1/devices`: every device of the registry with its cell, whether it
//! is active, its reward in the latest scored epoch and its cumulative total.
//! `GET /v1/epochs?limit=N`: the latest epochs' summaries (as
//! `GET /v1/epochs/{n}`), each with its refusals counted by rule.
//! `GET /v1/devices/{mint}/history?limit=N`: one device's score, reward and
//! refused reports in each of the latest epochs, and the cells this oracle
//! has seen it asserted at, newest first.

use crate::{
    api::{epoch_summary, error, invalid_mint, unavailable},
    chain::Chain,
    registry::{Registry, category_name},
    store::{EpochResult, Store, StoreError},
};
use anchor_lang::prelude::Pubkey;
use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};
use std::{collections::BTreeMap, str::FromStr, sync::Arc};

/// Epochs listed when no `limit` is asked.
const DEFAULT_EPOCHS: u32 = 12;
/// Most epochs one request lists.
const MAX_EPOCHS: u32 = 100;
/// Most cells of a device's location history listed.
const MAX_LOCATIONS: u32 = 50;

/// The dashboard's files: path under `/dashboard/`, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../dashboard/assets/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../dashboard/assets/style.css"),
    ),
    (
        "vendor/maplibre-gl.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../dashboard/assets/vendor/maplibre-gl.js"),
    ),
    (
        "vendor/maplibre-gl.css",
        "text/css; charset=utf-8",
        include_bytes!("../dashboard/assets/vendor/maplibre-gl.css"),
    ),
    (
        "vendor/h3-js.umd.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../dashboard/assets/vendor/h3-js.umd.js"),
    ),
];

/// The page itself.
const INDEX: &[u8] = include_bytes!("../dashboard/assets/index.html");

/// What the dashboard's routes read.
pub struct Dashboard<C> {
    /// Epochs, results, refusals.
    pub store: Store,
    /// The network's devices.
    pub registry: Arc<Registry<C>>,
}

/// The dashboard's routes.
pub fn routes<C: Chain + 'static>(dashboard: Arc<Dashboard<C>>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/dashboard/{*file}", get(asset))
        .route("/v1/devices", get(devices::<C>))
        .route("/v1/epochs", get(epochs::<C>))
        .route("/v1/devices/{mint}/history", get(history::<C>))
        .with_state(dashboard)
}

async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX,
    )
        .into_response()
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(path, _, _)| *path == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "unknown_asset",
            format!("no dashboard file {file:?}"),
        ),
    }
}

/// `?limit=N` of the list routes.
#[derive(serde::Deserialize)]
pub struct Limit {
    limit: Option<u32>,
}

impl Limit {
    /// The epochs to list, or the 400 for a limit out of range.
    fn epochs(&self) -> Result<u32, Box<Response>> {
        match self.limit.unwrap_or(DEFAULT_EPOCHS) {
            n @ 1..=MAX_EPOCHS => Ok(n),
            n => Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "invalid_limit",
                format!("limit must be 1 to {MAX_EPOCHS}, not {n}"),
            ))),
        }
    }
}

/// A device's H3 cell as h3-js writes it (lower-case hex), `None` when it
/// has none.
fn cell(location: u64) -> Option<String> {
    (location != device_registry::state::Device::NO_LOCATION).then(|| format!("{location:x}"))
}

/// The latest scored epoch that had reports (the latest scored one when
/// none had): the recent rewards the map colours devices by.
async fn latest_result(store: &Store) -> Result<Option<EpochResult>, StoreError> {
    let mut latest = None;
    for epoch in store.recent_epochs(MAX_EPOCHS).await? {
        if let Some(result) = store.epoch_result(epoch).await? {
            if result.report_count > 0 {
                return Ok(Some(result));
            }
            latest.get_or_insert(result);
        }
    }
    Ok(latest)
}

async fn devices<C: Chain>(State(d): State<Arc<Dashboard<C>>>) -> Response {
    let latest = match latest_result(&d.store).await {
        Ok(latest) => latest,
        Err(e) => return unavailable(e),
    };
    let rewards: BTreeMap<Pubkey, u64> = latest
        .iter()
        .flat_map(|r| r.rewards.iter().map(|w| (w.mint, w.reward)))
        .collect();
    let cumulative: BTreeMap<Pubkey, u64> = latest
        .iter()
        .flat_map(|r| r.leaves.iter().map(|l| (l.mint, l.cumulative)))
        .collect();
    let devices: Vec<Value> = d
        .registry
        .all()
        .await
        .into_iter()
        .map(|(key, device)| {
            json!({
                "device_key": key.to_string(),
                "mint": device.mint.to_string(),
                "cell": cell(device.location),
                "active": device.active,
                "last_reward": rewards.get(&device.mint).copied().unwrap_or(0),
                "cumulative": cumulative.get(&device.mint).copied().unwrap_or(0),
            })
        })
        .collect();
    Json(json!({
        "category": category_name(d.registry.category()),
        "scored_epoch": latest.map(|r| r.epoch),
        "devices": devices,
    }))
    .into_response()
}

async fn epochs<C: Chain>(
    State(d): State<Arc<Dashboard<C>>>,
    Query(limit): Query<Limit>,
) -> Response {
    let limit = match limit.epochs() {
        Ok(limit) => limit,
        Err(refusal) => return *refusal,
    };
    let listed = async {
        let mut listed = Vec::new();
        for epoch in d.store.recent_epochs(limit).await? {
            let Some(mut summary) = epoch_summary(&d.store, epoch).await? else {
                continue;
            };
            let mut refused: BTreeMap<String, u64> = BTreeMap::new();
            for report in d.store.epoch_refusals(epoch).await? {
                *refused.entry(report.refusal.rule).or_default() += 1;
            }
            summary["refused"] = json!(refused);
            listed.push(summary);
        }
        Ok::<_, StoreError>(listed)
    };
    match listed.await {
        Ok(listed) => Json(json!({ "epochs": listed })).into_response(),
        Err(e) => unavailable(e),
    }
}

async fn history<C: Chain>(
    State(d): State<Arc<Dashboard<C>>>,
    Path(mint): Path<String>,
    Query(limit): Query<Limit>,
) -> Response {
    let Ok(mint) = Pubkey::from_str(&mint) else {
        return invalid_mint(&mint);
    };
    let limit = match limit.epochs() {
        Ok(limit) => limit,
        Err(refusal) => return *refusal,
    };
    let device = d
        .registry
        .all()
        .await
        .into_iter()
        .find(|(_, device)| device.mint == mint);
    let Some((key, device)) = device else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown_device",
            format!("no device of this network has mint {mint}"),
        );
    };
    let listed = async {
        let mut listed = Vec::new();
        for epoch in d.store.recent_epochs(limit).await? {
            let result = d.store.epoch_result(epoch).await?;
            let earned = result
                .as_ref()
                .and_then(|r| r.rewards.iter().find(|w| w.mint == mint));
            let refused = d
                .store
                .epoch_refusals(epoch)
                .await?
                .into_iter()
                .filter(|r| r.device_mint == mint)
                .count();
            listed.push(json!({
                "epoch": epoch,
                "scored": result.is_some(),
                "score": earned.map(|w| w.score).unwrap_or(0),
                "reward": earned.map(|w| w.reward).unwrap_or(0),
                "refused": refused,
            }));
        }
        Ok::<_, StoreError>(listed)
    };
    let locations = d.store.device_locations(&mint, MAX_LOCATIONS).await;
    match (listed.await, locations) {
        (Ok(listed), Ok(locations)) => Json(json!({
            "device_key": key.to_string(),
            "mint": mint.to_string(),
            "cell": cell(device.location),
            "active": device.active,
            "epochs": listed,
            "locations": locations
                .into_iter()
                .map(|(location, seen_ms)| json!({ "cell": cell(location), "seen_ms": seen_ms }))
                .collect::<Vec<_>>(),
        }))
        .into_response(),
        (Err(e), _) | (_, Err(e)) => unavailable(e),
    }
}
