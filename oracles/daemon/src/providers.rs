//! Providers' announcements: `POST /v1/providers` takes a node's signed
//! announcement (its endpoint, and for storage its free room) from an
//! active device of this storage or compute network; `GET /v1/providers`
//! lists the recent ones, for customers placing shards or sending jobs. A
//! refusal is a 4xx naming its reason and keeps nothing.

use crate::api::error as refuse;
use crate::{
    chain::Chain,
    registry::Registry,
    store::{Store, now_ms},
};
use anchor_lang::prelude::Pubkey;
use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use depinkit_reports::{Key, provider::SignedAnnouncement};
use device_registry::state::Category;
use serde_json::json;
use std::sync::Arc;

/// How old an announcement may be when it arrives, ms: a node announces
/// every few minutes.
pub const MAX_ANNOUNCEMENT_AGE_MS: i64 = 10 * 60 * 1000;
/// How far ahead of this oracle's clock an announcement may be stamped, ms.
pub const MAX_ANNOUNCEMENT_LEAD_MS: i64 = 60 * 1000;
/// How long a provider stays listed after its last announcement, ms.
pub const LISTED_FOR_MS: i64 = 60 * 60 * 1000;

/// Whether a network of `category` has nodes customers reach: storage
/// nodes take shards, compute nodes take jobs.
fn takes_providers(category: Category) -> bool {
    matches!(category, Category::Storage | Category::Compute)
}

/// What the provider routes need.
pub struct Providers<C> {
    /// Where announcements are kept.
    pub store: Store,
    /// The network's devices.
    pub registry: Arc<Registry<C>>,
    /// The network.
    pub network: Pubkey,
}

/// `POST /v1/providers`: 200 `{"kept": true}` when kept; 400 for a bad
/// signature, endpoint, network or time; 403 for a device that is not an
/// active device of this network; 404 when the network is neither a
/// storage nor a compute network; 409 when a later announcement of the device is kept already.
pub async fn announce<C: Chain>(
    State(providers): State<Arc<Providers<C>>>,
    Json(signed): Json<SignedAnnouncement>,
) -> Response {
    if !takes_providers(providers.registry.category()) {
        return refuse(
            StatusCode::NOT_FOUND,
            "no_providers",
            "this oracle's network is neither a storage nor a compute network",
        );
    }
    if let Err(e) = signed.verify() {
        let code = match e {
            depinkit_reports::provider::AnnouncementError::BadEndpoint => "bad_endpoint",
            depinkit_reports::provider::AnnouncementError::BadSignature => "bad_signature",
        };
        return refuse(StatusCode::BAD_REQUEST, code, e);
    }
    let a = &signed.announcement;
    if a.network != Key(providers.network.to_bytes()) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "wrong_network",
            format!("this oracle serves {}", providers.network),
        );
    }
    if i64::try_from(a.free_bytes).is_err() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "free_bytes is above 2^63 - 1",
        );
    }
    let now = now_ms();
    if a.timestamp_ms > now.saturating_add(MAX_ANNOUNCEMENT_LEAD_MS) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "future_timestamp",
            "the announcement is stamped more than a minute ahead of this oracle's clock",
        );
    }
    if a.timestamp_ms < now.saturating_sub(MAX_ANNOUNCEMENT_AGE_MS) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "stale",
            "the announcement is more than ten minutes old",
        );
    }
    let Some(device) = providers.registry.known_device(&a.device).await else {
        return refuse(
            StatusCode::FORBIDDEN,
            "unknown_device",
            format!("no device with key {} on this network", a.device),
        );
    };
    if !device.active {
        return refuse(
            StatusCode::FORBIDDEN,
            "suspended_device",
            "the device is suspended",
        );
    }
    match providers
        .store
        .keep_announcement(&device.mint, &signed, now)
        .await
    {
        Ok(true) => Json(json!({ "kept": true })).into_response(),
        Ok(false) => refuse(
            StatusCode::CONFLICT,
            "older_than_kept",
            "an announcement this device made at the same time or later is kept",
        ),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e),
    }
}

/// `GET /v1/providers`: the active devices that announced in the last hour,
/// by device key: `{"providers": [{device, device_mint, endpoint,
/// free_bytes, announced_ms, signature}]}` (each announcement can be checked
/// against its device's key).
pub async fn list<C: Chain>(State(providers): State<Arc<Providers<C>>>) -> Response {
    let kept = match providers
        .store
        .announcements(&providers.network, now_ms() - LISTED_FOR_MS)
        .await
    {
        Ok(kept) => kept,
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e),
    };
    let mut listed = Vec::with_capacity(kept.len());
    for k in kept {
        let a = &k.signed.announcement;
        let active = providers
            .registry
            .device(&a.device)
            .await
            .is_some_and(|d| d.active);
        if active {
            listed.push(json!({
                "device": a.device.to_string(),
                "device_mint": k.device_mint.to_string(),
                "endpoint": a.endpoint,
                "free_bytes": a.free_bytes,
                "announced_ms": a.timestamp_ms,
                "signature": k.signed.signature.to_string(),
            }));
        }
    }
    Json(json!({ "providers": listed })).into_response()
}
