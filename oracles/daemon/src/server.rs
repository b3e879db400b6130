//! The oracle's HTTP API (axum): `POST /v1/reports` (ingest), `GET /health`,
//! `GET /metrics` (Prometheus text), and the epoch, reward, device,
//! entropy and challenge routes of [`crate::api`].
//!
//! A batch that decodes is answered 200 with one verdict per report, even if
//! some were rejected; 429 (with `Retry-After`) when every report of it was
//! refused for the device's rate; 400 when the batch itself does not decode;
//! 413 over the body or batch size; 415 for another content type; 503 when
//! the store fails (nothing accepted: send again). Errors are JSON
//! `{"error": code, "message": text}`.

use crate::api::error;
use crate::{
    api::{self, Proofs},
    chain::Chain,
    ingest::{BatchRefused, Format, Ingest},
    store::{Store, now_ms},
};
use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use depinkit_reports::{BINARY_CONTENT_TYPE, Rejection, Verdict};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use std::{
    sync::{Arc, OnceLock},
    time::Instant,
};

/// What the handlers share.
pub struct AppState<C> {
    /// The ingest pipeline.
    pub ingest: Arc<Ingest<C>>,
    /// The store (for health and the epoch API).
    pub store: Store,
    /// The network served.
    pub network: anchor_lang::prelude::Pubkey,
    /// Where epoch bundles are published, if they are.
    pub bundles: Option<crate::bundle::Bundles>,
    /// The entropy this oracle issues, if it does.
    pub entropy: Option<Arc<crate::entropy::EntropySource>>,
    /// The compute challenges this oracle issues, if it does.
    pub challenges: Option<Arc<crate::challenges::ChallengeIssuer>>,
    /// The storage seeds this oracle serves, if its network stores.
    pub storage_seeds: Option<Arc<crate::challenges::StorageSeeds<C>>>,
    /// The map this oracle sells, if its network maps.
    pub map: Option<Arc<crate::map::MapService<C>>>,
}

/// The routes, with `max_body_bytes` as the request body limit.
pub fn router<C: Chain + 'static>(state: Arc<AppState<C>>, max_body_bytes: usize) -> Router {
    // Install the recorder before the first request counts anything.
    metrics_handle();
    let proofs = Arc::new(Proofs::new(state.store.clone(), &state.network));
    let epochs = Router::new()
        .route("/v1/epochs/{epoch}", get(api::epoch))
        .route("/v1/epochs/{epoch}/reports", get(api::epoch_reports))
        .route("/v1/devices/{mint}/reports", get(api::device_reports))
        .with_state(state.store.clone());
    let bundles = Router::new()
        .route("/v1/epochs/{epoch}/bundle", get(api::epoch_bundle))
        .with_state(state.bundles.clone());
    let entropy = Router::new()
        .route("/v1/entropy", get(api::entropy))
        .with_state(state.entropy.clone());
    let challenges = Router::new()
        .route("/v1/challenges/compute", get(api::compute_challenge::<C>))
        .with_state((state.challenges.clone(), state.ingest.registry().clone()));
    let seeds = Router::new()
        .route("/v1/challenges/storage", get(api::storage_seed::<C>))
        .with_state(state.storage_seeds.clone());
    let deals = Router::new()
        .route("/v1/deals/{order}", get(crate::deals::deal_status::<C>))
        .with_state((state.store.clone(), state.storage_seeds.clone()));
    let providers = Router::new()
        .route(
            "/v1/providers",
            get(crate::providers::list::<C>).post(crate::providers::announce::<C>),
        )
        .with_state(Arc::new(crate::providers::Providers {
            store: state.store.clone(),
            registry: state.ingest.registry().clone(),
            network: state.network,
        }));
    let rewards = Router::new()
        .route("/v1/devices/{mint}/rewards", get(api::device_rewards))
        .route("/v1/proofs", get(api::all_proofs))
        .with_state(proofs);
    let dashboard = crate::dashboard::routes(Arc::new(crate::dashboard::Dashboard {
        store: state.store.clone(),
        registry: state.ingest.registry().clone(),
    }));
    let map = match &state.map {
        Some(service) => Router::new()
            .route("/v1/map/cells", get(crate::map::cells::<C>))
            .route("/v1/usage/{wallet}", get(crate::map::usage::<C>))
            .with_state(service.clone()),
        None => Router::new(),
    };
    Router::new()
        .route("/v1/reports", post(post_reports::<C>))
        .route("/health", get(health::<C>))
        .route("/metrics", get(render_metrics))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
        .merge(epochs)
        .merge(bundles)
        .merge(entropy)
        .merge(challenges)
        .merge(seeds)
        .merge(deals)
        .merge(providers)
        .merge(rewards)
        .merge(map)
        .merge(dashboard)
}

/// The process's Prometheus recorder (installed once; every router of the
/// process renders the same figures).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (a host program's) keeps working.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

async fn post_reports<C: Chain>(
    State(state): State<Arc<AppState<C>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    let format = match content_type {
        "application/json" => Format::Json,
        BINARY_CONTENT_TYPE => Format::Binary,
        other => {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("content type {other:?}: send application/json or {BINARY_CONTENT_TYPE}"),
            );
        }
    };
    let answer = match state.ingest.ingest(format, &body, now_ms()).await {
        Ok(answer) => answer,
        Err(refused) => {
            metrics::counter!("depin_oracle_batches_refused_total").increment(1);
            return match refused {
                BatchRefused::Malformed(why) => error(StatusCode::BAD_REQUEST, "malformed", why),
                too_many @ BatchRefused::TooManyReports { .. } => {
                    error(StatusCode::PAYLOAD_TOO_LARGE, "too_many_reports", too_many)
                }
                BatchRefused::Store(e) => {
                    tracing::error!(error = %e, "store failed; batch not accepted");
                    error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e)
                }
            };
        }
    };
    metrics::counter!("depin_oracle_reports_accepted_total").increment(u64::from(answer.accepted));
    for verdict in &answer.results {
        if let Verdict::Rejected { reason } = verdict {
            metrics::counter!("depin_oracle_reports_rejected_total", "reason" => reason.code())
                .increment(1);
        }
    }
    metrics::histogram!("depin_oracle_batch_seconds").record(started.elapsed().as_secs_f64());
    let all_rate_limited = !answer.results.is_empty()
        && answer.results.iter().all(|v| {
            *v == Verdict::Rejected {
                reason: Rejection::RateLimited,
            }
        });
    if all_rate_limited {
        let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(answer)).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    Json(answer).into_response()
}

async fn health<C: Chain>(State(state): State<Arc<AppState<C>>>) -> Response {
    let devices = state.ingest.registry().len().await;
    match state.store.ping().await {
        Ok(()) => Json(json!({ "status": "ok", "devices": devices })).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e),
    }
}

async fn render_metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics_handle().render(),
    )
        .into_response()
}
