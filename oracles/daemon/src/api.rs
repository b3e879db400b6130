//! What the oracle tells owners, cranks and dApps about epochs and rewards:
//! `GET /v1/epochs/{n}` (where the epoch is, what it paid, its root and
//! vote), `GET /v1/devices/{mint}/rewards` (a device's cumulative amount and
//! the merkle proof its claim needs, against the latest root the chain
//! finalized), and `GET /v1/proofs` (the whole proof file of that root, the
//! `depinkit_sdk::proofs::ProofFile` that `depin rewards claim` reads).

use crate::{
    bundle::Bundles,
    entropy::EntropySource,
    exchange::{NEXT_AFTER_HEADER, PAGE_REPORTS},
    store::{EpochResult, EpochState, Store, StoreError},
};
use anchor_lang::prelude::Pubkey;
use axum::{
    Json,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use depinkit_sdk::proofs::{ProofEntry, ProofFile, hex};
use reward_pool::merkle::RewardTree;
use serde_json::json;
use std::{collections::HashMap, str::FromStr, sync::Arc};
use tokio::sync::RwLock;

/// The reward tree of the latest epoch finalized with this oracle's root,
/// built once per finalization and kept for proofs.
pub struct Proofs {
    store: Store,
    pool: Pubkey,
    latest: RwLock<Option<Arc<FinalizedTree>>>,
}

/// A finalized epoch's tree, indexed by mint.
pub struct FinalizedTree {
    epoch: u64,
    tree: RewardTree,
    index: HashMap<Pubkey, usize>,
}

impl Proofs {
    /// Proofs for the pool of `network`, from `store`.
    pub fn new(store: Store, network: &Pubkey) -> Self {
        Proofs {
            store,
            pool: reward_pool::pda::find_pool_address(network).0,
            latest: RwLock::new(None),
        }
    }

    /// The latest finalized tree (rebuilt when a newer epoch was finalized).
    pub async fn latest(&self) -> Result<Option<Arc<FinalizedTree>>, StoreError> {
        let Some(result) = self.store.latest_finalized().await? else {
            return Ok(None);
        };
        if let Some(tree) = self.latest.read().await.as_ref()
            && tree.epoch == result.epoch
        {
            return Ok(Some(tree.clone()));
        }
        let tree = Arc::new(FinalizedTree::from_result(&result)?);
        *self.latest.write().await = Some(tree.clone());
        Ok(Some(tree))
    }

    fn file(&self, tree: &FinalizedTree, entries: Vec<ProofEntry>) -> ProofFile {
        ProofFile {
            pool: self.pool.to_string(),
            epoch: tree.epoch as u32,
            root: hex(&tree.tree.root()),
            total: tree.tree.total(),
            claims: entries,
        }
    }
}

impl FinalizedTree {
    /// The epoch whose root this is.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The tree of cumulative totals (its entries sorted as the leaves are).
    pub fn tree(&self) -> &RewardTree {
        &self.tree
    }

    fn from_result(result: &EpochResult) -> Result<Self, StoreError> {
        let tree = RewardTree::new(result.leaves.iter().map(|l| (l.mint, l.cumulative)))
            .map_err(|e| StoreError::Corrupt(format!("epoch {}: {e}", result.epoch)))?;
        let index = tree
            .entries()
            .iter()
            .enumerate()
            .map(|(i, (mint, _))| (*mint, i))
            .collect();
        Ok(FinalizedTree {
            epoch: result.epoch,
            tree,
            index,
        })
    }

    fn entry(&self, i: usize) -> ProofEntry {
        let (mint, amount) = self.tree.entries()[i];
        ProofEntry {
            device_mint: mint.to_string(),
            cumulative_amount: amount,
            proof: self.tree.proof(i).iter().map(hex).collect(),
        }
    }
}

/// A refusal as every route answers it: the status, and
/// `{"error": code, "message": why}`.
pub(crate) fn error(status: StatusCode, code: &str, message: impl ToString) -> Response {
    (
        status,
        Json(json!({ "error": code, "message": message.to_string() })),
    )
        .into_response()
}

/// The 400 for a path's mint that is not an address.
pub(crate) fn invalid_mint(text: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_mint",
        format!("{text:?} is not an address"),
    )
}

/// The 503 for a store that did not answer.
pub(crate) fn unavailable(e: StoreError) -> Response {
    error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e)
}

/// `GET /v1/epochs/{n}`.
pub async fn epoch(State(store): State<Store>, Path(epoch): Path<u64>) -> Response {
    match epoch_summary(&store, epoch).await {
        Ok(Some(summary)) => Json(summary).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "unknown_epoch",
            format!("epoch {epoch} has no reports here yet"),
        ),
        Err(e) => unavailable(e),
    }
}

/// What this oracle holds of `epoch` (the API's and `depin-oracle epoch
/// show`'s answer): its state and reports, and once scored its rule set,
/// amount, rewards, dust, root, vote and the finalized root.
pub async fn epoch_summary(
    store: &Store,
    epoch: u64,
) -> Result<Option<serde_json::Value>, StoreError> {
    let Some(state) = store.epoch_state(epoch).await? else {
        return Ok(None);
    };
    let reports = store.epoch_report_count(epoch).await?;
    let mut summary = json!({
        "epoch": epoch,
        "state": format!("{state:?}").to_lowercase(),
        "reports": reports,
    });
    if let Some(result) = store.epoch_result(epoch).await? {
        let paid: u64 = result.rewards.iter().map(|r| r.reward).sum();
        summary["rule_set"] = json!(result.rule_set);
        summary["amount"] = json!(result.amount);
        summary["rewards_paid"] = json!(paid);
        summary["devices_rewarded"] = json!(result.rewards.iter().filter(|r| r.reward > 0).count());
        summary["dust"] = json!(result.dust);
        summary["root"] = json!(hex(&result.root));
        summary["total"] = json!(result.total);
        summary["leaf_count"] = json!(result.leaf_count);
        summary["vote_signature"] = json!(result.vote_signature);
        summary["finalized_root"] = json!(result.finalized_root.as_ref().map(hex));
    }
    Ok(Some(summary))
}

/// `GET /v1/devices/{mint}/rewards`: a proof file with the one device's entry.
pub async fn device_rewards(
    State(proofs): State<Arc<Proofs>>,
    Path(mint): Path<String>,
) -> Response {
    let Ok(mint) = Pubkey::from_str(&mint) else {
        return invalid_mint(&mint);
    };
    let tree = match proofs.latest().await {
        Ok(Some(tree)) => tree,
        Ok(None) => return no_root(),
        Err(e) => return unavailable(e),
    };
    match tree.index.get(&mint) {
        Some(&i) => Json(proofs.file(&tree, vec![tree.entry(i)])).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "no_rewards",
            format!(
                "device {mint} has earned nothing through epoch {}",
                tree.epoch
            ),
        ),
    }
}

/// The epoch asked for in `GET /v1/devices/{mint}/reports`.
#[derive(serde::Deserialize)]
pub struct EpochQuery {
    /// The epoch.
    epoch: u64,
}

/// `GET /v1/devices/{mint}/reports?epoch=N`: the device's reports this
/// oracle keeps for epoch `N`, oldest first, each with where it stands
/// (`pending` until the epoch is scored, then `counted`, or `refused` with
/// the rule and why): how an owner learns why a device earned nothing.
pub async fn device_reports(
    State(store): State<Store>,
    Path(mint): Path<String>,
    Query(query): Query<EpochQuery>,
) -> Response {
    let Ok(mint) = Pubkey::from_str(&mint) else {
        return invalid_mint(&mint);
    };
    match store.device_reports(&mint, query.epoch).await {
        Ok(reports) => {
            let reports: Vec<serde_json::Value> = reports
                .into_iter()
                .map(|(report, status)| {
                    let mut entry = json!({
                        "content_hash": hex(&report.content_hash.0),
                        "kind": report.report.report.kind(),
                        "timestamp_ms": report.report.report.timestamp_ms,
                        "received_ms": report.received_ms,
                    });
                    if let (Some(entry), serde_json::Value::Object(status)) =
                        (entry.as_object_mut(), json!(status))
                    {
                        entry.extend(status);
                    }
                    entry
                })
                .collect();
            Json(json!({
                "device_mint": mint.to_string(),
                "epoch": query.epoch,
                "reports": reports,
            }))
            .into_response()
        }
        Err(e) => unavailable(e),
    }
}

/// `GET /v1/proofs`: every device's entry.
pub async fn all_proofs(State(proofs): State<Arc<Proofs>>) -> Response {
    match proofs.latest().await {
        Ok(Some(tree)) => {
            let entries = (0..tree.tree.len()).map(|i| tree.entry(i)).collect();
            Json(proofs.file(&tree, entries)).into_response()
        }
        Ok(None) => no_root(),
        Err(e) => unavailable(e),
    }
}

fn no_root() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no_finalized_root",
        "no epoch has been finalized with this oracle's root yet",
    )
}

/// The page asked for in `GET /v1/epochs/{n}/reports`.
#[derive(serde::Deserialize)]
pub struct PageQuery {
    /// Reports with ids above this (0: from the start).
    #[serde(default)]
    after: i64,
    /// At most this many (capped at 10 x the exchange's page).
    limit: Option<u32>,
}

/// `GET /v1/epochs/{n}/reports?after=ID&limit=N`: a page of the reports
/// devices sent to this oracle for a closed epoch, in the binary batch
/// encoding, with the id to continue after in `x-depinkit-next-after`.
pub async fn epoch_reports(
    State(store): State<Store>,
    Path(epoch): Path<u64>,
    Query(page): Query<PageQuery>,
) -> Response {
    match store.epoch_state(epoch).await {
        Ok(Some(state)) if state >= EpochState::Closed => {}
        Ok(_) => {
            return error(
                StatusCode::CONFLICT,
                "epoch_open",
                format!("epoch {epoch} is not closed here yet; ask again after it closes"),
            );
        }
        Err(e) => return unavailable(e),
    }
    let limit = page
        .limit
        .unwrap_or(PAGE_REPORTS)
        .clamp(1, 10 * PAGE_REPORTS);
    let reports = match store.ingested_reports(epoch, page.after, limit).await {
        Ok(reports) => reports,
        Err(e) => return unavailable(e),
    };
    let next = reports.last().map(|r| r.id);
    let signed: Vec<depinkit_reports::SignedReport> =
        reports.into_iter().map(|r| r.report).collect();
    let mut response = (
        [(header::CONTENT_TYPE, depinkit_reports::BINARY_CONTENT_TYPE)],
        depinkit_reports::encode_batch(&signed),
    )
        .into_response();
    if let Some(next) = next {
        response
            .headers_mut()
            .insert(NEXT_AFTER_HEADER, next.to_string().parse().expect("digits"));
    }
    response
}

/// `GET /v1/entropy`: the latest entropy this oracle issued, for beacons
/// (`depinkit_reports::Entropy` as JSON).
pub async fn entropy(State(source): State<Option<Arc<EntropySource>>>) -> Response {
    match source {
        Some(source) => match source.latest().await {
            Some(entropy) => Json(entropy).into_response(),
            None => error(
                StatusCode::SERVICE_UNAVAILABLE,
                "no_entropy_yet",
                "no entropy issued yet: the chain has not been read; ask again in a moment",
            ),
        },
        None => error(
            StatusCode::NOT_FOUND,
            "no_entropy",
            "this oracle does not issue entropy",
        ),
    }
}

/// The device and class in `GET /v1/challenges/compute`.
#[derive(serde::Deserialize)]
pub struct ChallengeQuery {
    /// The device's key.
    device: String,
    /// The GPU class it declares.
    gpu_class: String,
}

/// `GET /v1/challenges/compute?device=KEY&gpu_class=CLASS`: a compute
/// challenge signed by this oracle for an active device of its compute
/// network (`depinkit_reports::ComputeChallenge` as JSON); 429 with
/// `Retry-After` within the device's interval.
pub async fn compute_challenge<C: crate::chain::Chain>(
    State((issuer, registry)): State<ChallengeState<C>>,
    Query(query): Query<ChallengeQuery>,
) -> Response {
    use crate::challenges::ChallengeRefused;
    let Some(issuer) = issuer else {
        return error(
            StatusCode::NOT_FOUND,
            "no_challenges",
            "this oracle does not issue compute challenges",
        );
    };
    let Ok(device) = query.device.parse::<depinkit_reports::Key>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_device",
            format!("{:?} is not a key", query.device),
        );
    };
    match issuer
        .issue(&registry, device, &query.gpu_class, crate::store::now_ms())
        .await
    {
        Ok(challenge) => Json(challenge).into_response(),
        Err(ChallengeRefused::TooSoon {
            retry_after_secs, ..
        }) => {
            let refused = ChallengeRefused::TooSoon {
                interval_secs: 0,
                retry_after_secs,
            };
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "too_soon", refused);
            response.headers_mut().insert(
                header::RETRY_AFTER,
                retry_after_secs.to_string().parse().expect("digits"),
            );
            response
        }
        Err(e @ ChallengeRefused::NotCompute) => error(StatusCode::NOT_FOUND, "not_compute", e),
        Err(e @ ChallengeRefused::UnknownDevice(_)) => {
            error(StatusCode::FORBIDDEN, "unknown_device", e)
        }
        Err(e @ ChallengeRefused::BadClass) => {
            error(StatusCode::BAD_REQUEST, "invalid_gpu_class", e)
        }
    }
}

/// `GET /v1/challenges/storage`: the running epoch's storage seed
/// (`depinkit_reports::storage::StorageSeed` as JSON); 503 with `Retry-After`
/// while the epoch's first minute runs and this oracle has not issued yet,
/// 404 when it has no seed for the epoch (ask another oracle) or the network
/// is not a storage network.
pub async fn storage_seed<C: crate::chain::Chain>(
    State(seeds): State<Option<Arc<crate::challenges::StorageSeeds<C>>>>,
) -> Response {
    use crate::challenges::SeedRefused;
    let Some(seeds) = seeds else {
        return error(
            StatusCode::NOT_FOUND,
            "not_storage",
            SeedRefused::NotStorage,
        );
    };
    match seeds.current(crate::store::now_ms()).await {
        Ok(seed) => Json(seed).into_response(),
        Err(e @ SeedRefused::NotYet(_)) => {
            let mut response = error(StatusCode::SERVICE_UNAVAILABLE, "seed_not_yet", e);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, "5".parse().expect("digits"));
            response
        }
        Err(e @ SeedRefused::NoEpoch(_)) => error(StatusCode::SERVICE_UNAVAILABLE, "no_epoch", e),
        Err(e @ (SeedRefused::Missed(_) | SeedRefused::NotStorage)) => {
            error(StatusCode::NOT_FOUND, "no_seed", e)
        }
    }
}

/// What the challenge route needs: the issuer (if this oracle issues) and
/// the registry devices are checked against.
pub type ChallengeState<C> = (
    Option<Arc<crate::challenges::ChallengeIssuer>>,
    Arc<crate::registry::Registry<C>>,
);

/// `GET /v1/epochs/{n}/bundle`: the epoch's bundle as published.
pub async fn epoch_bundle(
    State(bundles): State<Option<Bundles>>,
    Path(epoch): Path<u64>,
) -> Response {
    let Some(bundles) = bundles else {
        return error(
            StatusCode::NOT_FOUND,
            "no_bundles",
            "this oracle does not publish bundles",
        );
    };
    match bundles.get(epoch).await {
        Ok(Some(bytes)) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "no_bundle",
            format!("no bundle of epoch {epoch} is published here (it is written before the vote)"),
        ),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "bundle_storage", e),
    }
}
