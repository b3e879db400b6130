//! `GET /v1/deals/{order}`: where a storage deal stands under this oracle's
//! rules, for the customer's `depin storage status`: the strikes it has
//! taken (an epoch whose challenges it did not all answer right) and
//! whether it is faulted (at `rules.storage.max_strikes` it earns nothing
//! more), and its settlements: each finalized epoch that paid it (proven)
//! or ended it, and whether the chain took the settlement yet
//! ([`crate::settle`]).

use crate::api::error as refuse;
use crate::{chain::Chain, challenges::StorageSeeds, store::Store, verifier::storage::strike_key};
use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use depinkit_reports::Key;
use serde_json::json;
use std::{collections::BTreeSet, sync::Arc};

/// What the route needs: the store, and the storage seeds (present on
/// storage networks only), which hold the rules' constants.
pub type DealState<C> = (Store, Option<Arc<StorageSeeds<C>>>);

/// `GET /v1/deals/{order}`: `{order, strikes, max_strikes, faulted,
/// last_proven_epoch, settlements}`; 400
/// for a path that is not an address, 404 on networks that do not store.
pub async fn deal_status<C: Chain>(
    State((store, seeds)): State<DealState<C>>,
    Path(order): Path<String>,
) -> Response {
    let Some(seeds) = seeds else {
        return refuse(
            StatusCode::NOT_FOUND,
            "not_storage",
            "this oracle's network is not a storage network",
        );
    };
    let Ok(order) = order.parse::<Key>() else {
        return refuse(StatusCode::BAD_REQUEST, "bad_order", "not an address");
    };
    let key = strike_key(&order);
    let state = match store.rule_state(&BTreeSet::from([key])).await {
        Ok(state) => state,
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e),
    };
    let strikes = state.get(&key).copied().unwrap_or(0);
    let max_strikes = i64::from(seeds.rules().max_strikes);
    let settlements = match store.order_settlements(&order).await {
        Ok(settlements) => settlements,
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e),
    };
    let last_proven_epoch = settlements
        .iter()
        .filter(|s| s.settlement.outcome.delivered)
        .map(|s| s.settlement.epoch)
        .max();
    Json(json!({
        "order": order.to_string(),
        "strikes": strikes,
        "max_strikes": max_strikes,
        "faulted": strikes >= max_strikes,
        "last_proven_epoch": last_proven_epoch,
        "settlements": settlements.iter().map(|s| json!({
            "epoch": s.settlement.epoch,
            "proven": s.settlement.outcome.delivered,
            "completes": s.settlement.outcome.closes,
            "state": format!("{:?}", s.state).to_lowercase(),
            "signature": s.signature,
        })).collect::<Vec<_>>(),
    }))
    .into_response()
}
