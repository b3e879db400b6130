//! The exchange between oracles over real HTTP: a peer serves a closed
//! epoch's ingested reports in pages (409 while open); what it serves is
//! checked again, so a forged or misplaced report is not kept; a peer that
//! cannot be reached holds the epoch only until the exchange times out.

mod common;

use anchor_lang::prelude::Pubkey;
use common::{ChainDouble, NETWORK, beacon, key};
use depinkit_oracle::{
    epoch::{EpochWorker, Progress},
    exchange::Exchange,
    ingest::Limits,
    registry::{RegisteredDevice, Registry},
    store::{NewReport, Store, now_ms},
    verifier::ReportCount,
};
use depinkit_reports::{Key, Sig, SignedReport};
use device_registry::state::Category;
use std::{sync::Arc, time::Duration};

const HOUR: i64 = 3600;

fn registered(seed: u8) -> (Key, RegisteredDevice) {
    (
        Key(key(seed).verifying_key().to_bytes()),
        RegisteredDevice {
            mint: mint(seed),
            location: 0,
            active: true,
        },
    )
}

/// Device `seed`'s mint (its key's bytes, so reports name it too).
fn mint(seed: u8) -> Pubkey {
    Pubkey::new_from_array(key(seed).verifying_key().to_bytes())
}

async fn keep(store: &Store, epoch: u64, reports: &[SignedReport]) {
    let batch: Vec<NewReport> = reports
        .iter()
        .map(|r| NewReport {
            epoch,
            content_hash: r.report.content_hash(),
            device_mint: Pubkey::new_from_array(r.report.device.0), // = mint(seed)
            report: r,
            received_ms: now_ms(),
        })
        .collect();
    store.store_reports(&batch).await.unwrap();
}

fn limits() -> Limits {
    Limits {
        max_batch_reports: 100,
        device_reports_per_minute: 600,
        device_burst: 100,
        grace_secs: 60,
        max_answer_delay_ms: 7_000,
    }
}

#[tokio::test]
async fn peers_pull_each_others_reports_and_recheck_them() {
    // Epoch 0 ended 70 s ago (grace 60 s): both close it at their first tick.
    let start = now_ms() / 1000 - HOUR - 70;
    let chain = || {
        let chain = ChainDouble::new(
            Category::Wireless,
            vec![registered(1), registered(2)],
            start,
            HOUR,
        );
        chain.pool.lock().unwrap().total_inflow = 10_000_000;
        Arc::new(chain)
    };
    let (chain_a, chain_b) = (chain(), chain());
    let (db_a, db_b) = (common::sqlite(), common::sqlite());
    let (store_a, store_b) = (db_a.open().await, db_b.open().await);
    let url_b = common::serve(chain_b.clone(), store_b.clone(), limits()).await;

    let in_epoch = (start + 10) * 1000;
    let mut forged = beacon(2, 9, in_epoch);
    forged.signature = Sig([3; 64]);
    let misplaced = beacon(2, 8, (start + HOUR + 10) * 1000); // epoch 1's
    keep(&store_a, 0, &[beacon(1, 1, in_epoch)]).await;
    keep(
        &store_b,
        0,
        &[beacon(2, 1, in_epoch), beacon(2, 2, in_epoch)],
    )
    .await;
    keep(&store_b, 0, &[forged, misplaced]).await;

    // Open at B: nothing served yet.
    let response = reqwest::get(format!("{url_b}/v1/epochs/0/reports"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 409);

    let registry = |chain: &Arc<ChainDouble>| {
        let chain = chain.clone();
        async move {
            Arc::new(
                Registry::load(chain, NETWORK, Duration::from_secs(10))
                    .await
                    .unwrap(),
            )
        }
    };
    let worker_a = EpochWorker::new(
        chain_a.clone(),
        NETWORK,
        store_a.clone(),
        ReportCount {
            max_per_device: 100,
        },
        60,
    )
    .with_exchange(Exchange::new(
        vec![url_b.clone()],
        600,
        registry(&chain_a).await,
    ));
    // B has not closed epoch 0: A waits for it.
    match worker_a.tick(now_ms() / 1000).await.unwrap() {
        Progress::Exchanging {
            epoch: 0,
            waiting_for,
        } => assert_eq!(waiting_for, vec![url_b.clone()]),
        other => panic!("{other:?}"),
    }
    store_b.close_epoch(0).await.unwrap();
    // Pages of one report each still reach the end.
    let page = reqwest::get(format!("{url_b}/v1/epochs/0/reports?limit=1"))
        .await
        .unwrap();
    assert_eq!(page.headers()["x-depinkit-next-after"], "1");
    let progress = worker_a.tick(now_ms() / 1000).await.unwrap();
    assert!(
        matches!(progress, Progress::Waiting { epoch: 1, .. }),
        "{progress:?}"
    );
    // A scored its own report and B's two good ones; not the forged one,
    // nor the one from another epoch.
    let result = store_a.epoch_result(0).await.unwrap().unwrap();
    assert_eq!(result.report_count, 3);
    let scores: Vec<(Pubkey, u64)> = result.rewards.iter().map(|r| (r.mint, r.score)).collect();
    assert_eq!(scores, {
        let mut expected = vec![(mint(1), 1), (mint(2), 2)];
        expected.sort();
        expected
    });
}

#[tokio::test]
async fn an_unreachable_peer_holds_the_epoch_only_until_the_timeout() {
    let start = now_ms() / 1000 - HOUR - 70;
    let chain = Arc::new(ChainDouble::new(
        Category::Wireless,
        vec![registered(1)],
        start,
        HOUR,
    ));
    chain.pool.lock().unwrap().total_inflow = 10_000_000;
    let db = common::sqlite();
    let store = db.open().await;
    keep(&store, 0, &[beacon(1, 1, (start + 10) * 1000)]).await;
    let registry = Arc::new(
        Registry::load(chain.clone(), NETWORK, Duration::from_secs(10))
            .await
            .unwrap(),
    );
    let down = "http://127.0.0.1:9".to_string();
    let worker = EpochWorker::new(
        chain.clone(),
        NETWORK,
        store.clone(),
        ReportCount {
            max_per_device: 100,
        },
        60,
    )
    .with_exchange(Exchange::new(vec![down.clone()], 30, registry));
    // Closed 10 s ago: within the 30 s timeout, it waits.
    match worker.tick(now_ms() / 1000).await.unwrap() {
        Progress::Exchanging { waiting_for, .. } => assert_eq!(waiting_for, vec![down]),
        other => panic!("{other:?}"),
    }
    assert!(chain.votes.lock().unwrap().is_empty());
    // Past it: scored and voted without that peer.
    worker.tick(now_ms() / 1000 + 25).await.unwrap();
    assert_eq!(chain.votes.lock().unwrap().len(), 1);
}
