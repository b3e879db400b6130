//! An epoch's bundle: every input needed to recompute its root (the
//! device-signed reports scored, the rule set, the distributable amount, the
//! cumulative totals it started from) and what came of them (scores,
//! rewards, leaves, root). The worker publishes it through `object_store`
//! (a local directory by default; S3-compatible or GCS storage by URL)
//! before voting, the API serves it at `GET /v1/epochs/{n}/bundle`, and
//! [`verify`] recomputes the root from it alone, so anyone can check an
//! oracle's vote ([`crate::verify_epoch`] compares with the chain).

use crate::{
    registry::RegisteredDevice,
    rewards::cumulative_tree,
    store::{EpochResult, Leaf, RefusedReport, Store, StoreError, StoredReport},
    verifier::{Devices, EpochInput, RuleSet, Scores, StateKey, verifier_for},
};
use anchor_lang::prelude::Pubkey;
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use depinkit_reports::{Key, SignedReport, decode_batch, encode_batch, verify_signatures};
use depinkit_sdk::proofs::hex;
use object_store::{ObjectStore, PutPayload, path::Path as ObjectPath};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, sync::Arc};

/// The bundle format's version (2: the rules' devices, carried values and
/// refusals).
pub const BUNDLE_VERSION: u32 = 2;

/// One epoch's bundle (JSON; reports in the binary batch encoding, base64).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// [`BUNDLE_VERSION`].
    pub version: u32,
    /// The network's address.
    pub network: String,
    /// The epoch.
    pub epoch: u64,
    /// Unix seconds the epoch started and its length (reports must fall in it).
    pub epoch_start: i64,
    /// Epoch length, seconds.
    pub epoch_length_secs: i64,
    /// The rules that scored it.
    pub rule_set: RuleSet,
    /// Distributable amount.
    pub amount: u64,
    /// Cumulative totals before this epoch, by mint: `[mint, amount]`.
    pub previous: Vec<(String, u64)>,
    /// The scored reports, sorted by content hash, as one binary batch.
    pub reports: String,
    /// The network's oracles when scoring.
    pub oracles: Vec<String>,
    /// The orders the rules read (compute receipts), as the chain had them
    /// when scoring: `[address, order]`.
    pub orders: Vec<(String, crate::verifier::compute::OrderView)>,
    /// The devices the rules read, as the network had them when scoring:
    /// `[device key, H3 location, active]`.
    pub devices: Vec<(String, u64, bool)>,
    /// The credits each customer's usage escrow could spend when scoring
    /// (data transfer): `[wallet, credits]`.
    #[serde(default)]
    pub usage_escrows: Vec<(String, u64)>,
    /// The carried values the rules read (from earlier epochs).
    pub state_read: Vec<(StateKey, i64)>,
    /// The values this epoch carries on.
    pub carried: Vec<(StateKey, i64)>,
    /// The reports the rules refused: `[content hash, rule, why]`.
    pub refused: Vec<(String, String, String)>,
    /// Each scored device: `[mint, score, reward]`.
    pub rewards: Vec<(String, u64, u64)>,
    /// What the split's floors left.
    pub dust: u64,
    /// The root, hex.
    pub root: String,
    /// Sum of the cumulative totals.
    pub total: u64,
    /// Leaves in the tree.
    pub leaf_count: u64,
}

/// Why a bundle does not recompute to its root.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct BundleMismatch(pub String);

impl Bundle {
    /// The scored reports, decoded from the bundle's batch (signatures not
    /// yet checked: [`verify`] does).
    pub fn scored_reports(&self) -> Result<Vec<SignedReport>, BundleMismatch> {
        let bytes = BASE64
            .decode(&self.reports)
            .map_err(|e| BundleMismatch(format!("reports are not base64: {e}")))?;
        let decoded = decode_batch(&bytes)
            .map_err(|e| BundleMismatch(format!("reports do not decode: {e}")))?;
        decoded
            .into_iter()
            .enumerate()
            .map(|(i, report)| report.map_err(|e| BundleMismatch(format!("report {i}: {e}"))))
            .collect()
    }

    /// The bundle of `result`, scored from `reports` (sorted by content
    /// hash), starting from `previous` totals, its rules having refused
    /// `refused`.
    pub fn new(
        network: &Pubkey,
        epoch_start: i64,
        epoch_length_secs: i64,
        result: &EpochResult,
        previous: &[Leaf],
        reports: &[StoredReport],
        refused: &[RefusedReport],
    ) -> Self {
        let signed: Vec<SignedReport> = reports.iter().map(|r| r.report.clone()).collect();
        Bundle {
            version: BUNDLE_VERSION,
            network: network.to_string(),
            epoch: result.epoch,
            epoch_start,
            epoch_length_secs,
            rule_set: result.rule_set.clone(),
            amount: result.amount,
            previous: previous
                .iter()
                .map(|l| (l.mint.to_string(), l.cumulative))
                .collect(),
            reports: BASE64.encode(encode_batch(&signed)),
            orders: result
                .rule_io
                .orders
                .iter()
                .map(|(key, order)| (key.to_string(), *order))
                .collect(),
            oracles: result
                .rule_io
                .oracles
                .iter()
                .map(ToString::to_string)
                .collect(),
            devices: result
                .rule_io
                .devices
                .iter()
                .map(|(key, location, active)| (key.to_string(), *location, *active))
                .collect(),
            usage_escrows: result
                .rule_io
                .usage_escrows
                .iter()
                .map(|(wallet, credits)| (wallet.to_string(), *credits))
                .collect(),
            state_read: result.rule_io.state_read.clone(),
            carried: result.rule_io.carried.clone(),
            refused: refused
                .iter()
                .map(|r| {
                    (
                        hex(&r.content_hash.0),
                        r.refusal.rule.clone(),
                        r.refusal.detail.clone(),
                    )
                })
                .collect(),
            rewards: result
                .rewards
                .iter()
                .map(|r| (r.mint.to_string(), r.score, r.reward))
                .collect(),
            dust: result.dust,
            root: hex(&result.root),
            total: result.total,
            leaf_count: result.leaf_count,
        }
    }
}

/// What [`verify`] recomputed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recomputed {
    /// The root.
    pub root: [u8; 32],
    /// Sum of the cumulative totals.
    pub total: u64,
    /// Totals before the epoch.
    pub previous_total: u64,
    /// Reports checked.
    pub reports: usize,
}

/// Recomputes `bundle`'s root from its inputs: every report decodes, is
/// signed by its device (and co-signer), names the bundle's network and
/// falls in the epoch; each device's mint is the one the registry derives
/// from its key; the rule set scores them as the bundle says; the amount
/// splits into its rewards and dust; the previous totals plus the rewards
/// build its root and total.
pub fn verify(bundle: &Bundle) -> Result<Recomputed, BundleMismatch> {
    let fail = |why: String| Err(BundleMismatch(why));
    if bundle.version != BUNDLE_VERSION {
        return fail(format!(
            "bundle version {} is not {BUNDLE_VERSION}",
            bundle.version
        ));
    }
    let network: Pubkey = match bundle.network.parse() {
        Ok(network) => network,
        Err(_) => return fail(format!("network {:?} is not an address", bundle.network)),
    };
    let Some(verifier) = verifier_for(&bundle.rule_set) else {
        return fail(format!(
            "rule set {} v{} is unknown to this build",
            bundle.rule_set.name, bundle.rule_set.version
        ));
    };
    let reports = bundle.scored_reports()?;
    for (i, verdict) in verify_signatures(&reports).into_iter().enumerate() {
        if let Err(e) = verdict {
            return fail(format!("report {i}: {e}"));
        }
    }
    let start_ms = bundle.epoch_start.saturating_mul(1000);
    let end_ms = start_ms.saturating_add(bundle.epoch_length_secs.saturating_mul(1000));
    let mut stored = Vec::with_capacity(reports.len());
    for (i, report) in reports.into_iter().enumerate() {
        if report.report.network != Key(network.to_bytes()) {
            return fail(format!("report {i} is for another network"));
        }
        let at = report.report.timestamp_ms;
        if at < start_ms || at >= end_ms {
            return fail(format!("report {i} is not of epoch {}", bundle.epoch));
        }
        let device_key = Pubkey::new_from_array(report.report.device.0);
        let (device_mint, _) =
            device_registry::pda::find_device_mint_address(&network, &device_key);
        stored.push(StoredReport {
            id: i as i64,
            epoch: bundle.epoch,
            device_mint,
            content_hash: report.report.content_hash(),
            received_ms: 0,
            report,
        });
    }
    if stored
        .windows(2)
        .any(|w| w[0].content_hash >= w[1].content_hash)
    {
        return fail("reports are not sorted by content hash, or repeat one".into());
    }
    let mut devices = Devices::new();
    for (key, location, active) in &bundle.devices {
        let Ok(key) = key.parse::<Key>() else {
            return fail(format!("device {key:?} is not a key"));
        };
        let (mint, _) = device_registry::pda::find_device_mint_address(
            &network,
            &Pubkey::new_from_array(key.0),
        );
        devices.insert(
            key,
            RegisteredDevice {
                mint,
                location: *location,
                active: *active,
            },
        );
    }
    let mut oracles = Vec::with_capacity(bundle.oracles.len());
    for oracle in &bundle.oracles {
        match oracle.parse::<Pubkey>() {
            Ok(oracle) => oracles.push(oracle),
            Err(_) => return fail(format!("oracle {oracle:?} is not a key")),
        }
    }
    let mut orders = crate::verifier::compute::Orders::new();
    for (address, order) in &bundle.orders {
        let Ok(address) = address.parse::<Key>() else {
            return fail(format!("order {address:?} is not an address"));
        };
        orders.insert(address, *order);
    }
    let mut usage_escrows = crate::verifier::UsageEscrows::new();
    for (wallet, credits) in &bundle.usage_escrows {
        let Ok(wallet) = wallet.parse::<Key>() else {
            return fail(format!("wallet {wallet:?} is not an address"));
        };
        usage_escrows.insert(wallet, *credits);
    }
    let input = EpochInput {
        network,
        oracles: &oracles,
        epoch: bundle.epoch,
        start_ms,
        end_ms,
        reports: &stored,
        devices: &devices,
        orders: &orders,
        usage_escrows: &usage_escrows,
    };
    let plan = verifier.plan(&input);
    // Every value the rules read must be the bundle's: a key they ask for
    // and the bundle does not list was never set.
    let state: crate::verifier::State = bundle.state_read.iter().copied().collect();
    if state.keys().any(|key| !plan.state_keys.contains(key)) {
        return fail("the bundle lists carried values the rules do not read".into());
    }
    let scoring = verifier.score(&input, plan, &state);
    let refused: Vec<(String, String, String)> = scoring
        .refused
        .iter()
        .map(|(hash, refusal)| (hex(&hash.0), refusal.rule.clone(), refusal.detail.clone()))
        .collect();
    if refused != bundle.refused {
        return fail("the rule set refuses other reports than the bundle says".into());
    }
    if scoring.carried.into_iter().collect::<Vec<_>>() != bundle.carried {
        return fail("the rule set carries other values on than the bundle says".into());
    }
    let scores = scoring.scores;
    let parse_mint = |text: &str| -> Result<Pubkey, BundleMismatch> {
        text.parse()
            .map_err(|_| BundleMismatch(format!("{text:?} is not a mint")))
    };
    let mut claimed_scores = Scores::new();
    let mut claimed_rewards = BTreeMap::new();
    for (mint, score, reward) in &bundle.rewards {
        let mint = parse_mint(mint)?;
        // A device paid for usage alone is listed with a score of 0.
        if *score > 0 {
            claimed_scores.insert(mint, *score);
        }
        claimed_rewards.insert(mint, *reward);
    }
    if scores != claimed_scores {
        return fail("the rule set scores the reports otherwise than the bundle says".into());
    }
    let split = crate::rewards::split_with_usage(
        bundle.amount,
        &scores,
        &scoring.usage,
        scoring.usage_share_bps,
    );
    claimed_rewards.retain(|_, reward| *reward > 0);
    if split.rewards != claimed_rewards || split.dust != bundle.dust {
        return fail("the amount splits otherwise than the bundle says".into());
    }
    let mut previous = BTreeMap::new();
    for (mint, amount) in &bundle.previous {
        previous.insert(parse_mint(mint)?, *amount);
    }
    let previous_total = previous
        .values()
        .try_fold(0u64, |sum, &a| sum.checked_add(a));
    let Some(previous_total) = previous_total else {
        return fail("previous totals overflow".into());
    };
    let (_, tree) = match cumulative_tree(&previous, &split.rewards, u64::MAX) {
        Ok(built) => built,
        Err(e) => return fail(e.to_string()),
    };
    if hex(&tree.root()) != bundle.root || tree.total() != bundle.total {
        return fail(format!(
            "the inputs build root {} (total {}), not the bundle's {} (total {})",
            hex(&tree.root()),
            tree.total(),
            bundle.root,
            bundle.total
        ));
    }
    Ok(Recomputed {
        root: tree.root(),
        total: tree.total(),
        previous_total,
        reports: stored.len(),
    })
}

/// Where bundles are kept: `epochs/{n}/bundle.json` under an object store.
#[derive(Clone)]
pub struct Bundles {
    objects: Arc<dyn ObjectStore>,
}

/// A bundle that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The object store failed.
    #[error("bundle storage: {0}")]
    Storage(#[from] object_store::Error),
    /// The location setting cannot be used.
    #[error("bundles.location {0:?}: {1}")]
    Location(String, String),
    /// The stored bundle is not one.
    #[error("stored bundle: {0}")]
    Corrupt(String),
    /// The store failed while gathering the bundle's inputs.
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl Bundles {
    /// Bundles under `location`: a directory (created if missing), or an
    /// object store URL (`s3://bucket/prefix`, `gs://bucket/prefix`; the
    /// credentials come from the environment, as those SDKs read them).
    pub fn open(location: &str) -> Result<Self, BundleError> {
        let error = |why: String| BundleError::Location(location.into(), why);
        let objects: Arc<dyn ObjectStore> = if location.contains("://") {
            let url = url::Url::parse(location).map_err(|e| error(e.to_string()))?;
            let (store, prefix) = object_store::parse_url_opts(
                &url,
                std::env::vars().map(|(k, v)| (k.to_lowercase(), v)),
            )
            .map_err(|e| error(e.to_string()))?;
            Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
        } else {
            std::fs::create_dir_all(location).map_err(|e| error(e.to_string()))?;
            Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix(location)
                    .map_err(|e| error(e.to_string()))?,
            )
        };
        Ok(Bundles { objects })
    }

    fn path(epoch: u64) -> ObjectPath {
        ObjectPath::from(format!("epochs/{epoch}/bundle.json"))
    }

    /// Writes `bundle` (the same bytes each time: publishing again after a
    /// restart changes nothing).
    pub async fn put(&self, bundle: &Bundle) -> Result<(), BundleError> {
        let bytes = serde_json::to_vec(bundle).map_err(|e| BundleError::Corrupt(e.to_string()))?;
        self.objects
            .put(&Self::path(bundle.epoch), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// The bundle of `epoch` as stored, if published.
    pub async fn get(&self, epoch: u64) -> Result<Option<Vec<u8>>, BundleError> {
        match self.objects.get(&Self::path(epoch)).await {
            Ok(object) => Ok(Some(object.bytes().await?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// The bundle of the scored `result`, gathered from `store`: its reports
/// sorted by content hash, and the previous epoch's totals.
pub async fn gather(
    store: &Store,
    network: &Pubkey,
    epoch_start: i64,
    epoch_length_secs: i64,
    result: &EpochResult,
) -> Result<Bundle, BundleError> {
    let previous = match result.epoch.checked_sub(1) {
        Some(previous) => store
            .epoch_result(previous)
            .await?
            .map(|r| r.leaves)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let reports = store.all_epoch_reports(result.epoch).await?;
    let refused = store.epoch_refusals(result.epoch).await?;
    Ok(Bundle::new(
        network,
        epoch_start,
        epoch_length_secs,
        result,
        &previous,
        &reports,
        &refused,
    ))
}
