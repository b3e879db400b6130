//! An epoch's bundle recomputes to the root the worker voted, and any change
//! to it (a report dropped or altered, a score, the amount, the rule set) is
//! caught; verify-epoch compares with the pool's latest finalized root.

mod common;

use anchor_lang::prelude::Pubkey;
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use common::{ChainDouble, NETWORK, beacon, key};
use depinkit_oracle::{
    bundle::{Bundle, Bundles, verify},
    epoch::EpochWorker,
    registry::RegisteredDevice,
    store::{NewReport, Store, now_ms},
    verifier::ReportCount,
    verify_epoch::verify_epoch,
};
use depinkit_reports::{Key, SignedReport, decode_batch, encode_batch};
use device_registry::state::Category;
use std::sync::Arc;

const HOUR: i64 = 3600;

/// The mint the registry derives from device `seed`'s key.
fn mint(seed: u8) -> Pubkey {
    let device = Pubkey::new_from_array(key(seed).verifying_key().to_bytes());
    device_registry::pda::find_device_mint_address(&NETWORK, &device).0
}

async fn keep(store: &Store, epoch: u64, reports: &[(u8, SignedReport)]) {
    let batch: Vec<NewReport> = reports
        .iter()
        .map(|(seed, r)| NewReport {
            epoch,
            content_hash: r.report.content_hash(),
            device_mint: mint(*seed),
            report: r,
            received_ms: now_ms(),
        })
        .collect();
    store.store_reports(&batch).await.unwrap();
}

/// A worker that scored and voted epoch 0 (device 1: 3 reports, device 2:
/// 1) and published its bundle; the chain, the bundle and the store.
async fn scored_epoch() -> (Arc<ChainDouble>, Bundle, Bundles, tempfile::TempDir) {
    let start = now_ms() / 1000 - HOUR - 70;
    let registered = |seed: u8| {
        (
            Key(key(seed).verifying_key().to_bytes()),
            RegisteredDevice {
                mint: mint(seed),
                location: 0,
                active: true,
            },
        )
    };
    let chain = Arc::new(ChainDouble::new(
        Category::Wireless,
        vec![registered(1), registered(2)],
        start,
        HOUR,
    ));
    chain.pool.lock().unwrap().total_inflow = 10_000_000;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite:{}", dir.path().join("o.db").display()))
        .await
        .unwrap();
    let at = (start + 10) * 1000;
    keep(
        &store,
        0,
        &[
            (1, beacon(1, 1, at)),
            (1, beacon(1, 2, at)),
            (2, beacon(2, 1, at)),
            (1, beacon(1, 3, at)),
        ],
    )
    .await;
    let bundles = Bundles::open(dir.path().join("bundles").to_str().unwrap()).unwrap();
    EpochWorker::new(
        chain.clone(),
        NETWORK,
        store.clone(),
        ReportCount { max_per_device: 10 },
        60,
    )
    .with_bundles(bundles.clone())
    .tick(now_ms() / 1000)
    .await
    .unwrap();
    let bytes = bundles
        .get(0)
        .await
        .unwrap()
        .expect("published before the vote");
    let bundle: Bundle = serde_json::from_slice(&bytes).unwrap();
    (chain, bundle, bundles, dir)
}

#[tokio::test]
async fn the_bundle_recomputes_to_the_voted_root() {
    let (chain, bundle, bundles, _dir) = scored_epoch().await;
    let recomputed = verify(&bundle).unwrap();
    let voted = chain.votes.lock().unwrap()[0];
    assert_eq!(
        (recomputed.root, recomputed.total),
        (voted.root, voted.total)
    );
    assert_eq!(recomputed.reports, 4);
    assert!(bundles.get(1).await.unwrap().is_none());
    // The chain agrees: it is the latest finalized epoch.
    let verdict = verify_epoch(chain.as_ref(), 0, &bundle).await;
    assert!(
        verdict.as_ref().is_ok_and(|v| v.contains("4 reports")),
        "{verdict:?}"
    );
    assert!(verify_epoch(chain.as_ref(), 1, &bundle).await.is_err());
    // Once a later root is final, the chain no longer holds this one.
    chain.pool.lock().unwrap().next_epoch = 2;
    let verdict = verify_epoch(chain.as_ref(), 0, &bundle).await.unwrap_err();
    assert!(verdict.contains("not the pool's latest"), "{verdict}");
}

#[tokio::test]
async fn any_change_to_a_bundle_is_caught() {
    let (chain, bundle, _bundles, _dir) = scored_epoch().await;
    let reports: Vec<SignedReport> = decode_batch(&BASE64.decode(&bundle.reports).unwrap())
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let with_reports = |reports: &[SignedReport]| Bundle {
        reports: BASE64.encode(encode_batch(reports)),
        ..bundle.clone()
    };
    let mut forged = reports.clone();
    forged[0].signature.0[0] ^= 1;
    let mut rescored = bundle.clone();
    rescored.rewards[0].1 += 1;
    let mut richer = bundle.clone();
    richer.amount += 1;
    let mut other_rules = bundle.clone();
    other_rules.rule_set.version = 9;
    let mut other_root = bundle.clone();
    other_root.root = "00".repeat(32);
    let cases = [
        (with_reports(&reports[1..]), "scores"),
        (with_reports(&forged), "signature"),
        (rescored, "scores"),
        (richer, "splits"),
        (other_rules, "unknown"),
        (other_root, "not the bundle's"),
    ];
    for (changed, why) in cases {
        let error = verify(&changed).unwrap_err().to_string();
        assert!(error.contains(why), "{why}: {error}");
        assert!(verify_epoch(chain.as_ref(), 0, &changed).await.is_err());
    }
}
