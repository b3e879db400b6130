//! The exchange between oracles over real HTTP: a peer serves a closed
//! epoch's ingested reports in pages (409 while open); what it serves is
//! checked again, so a forged or misplaced report is not kept; a peer that
//! cannot be reached holds the epoch only until the exchange times out; an
//! oracle the others left behind takes the finalized totals from a peer,
//! but only totals that rebuild the chain's root.

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

/// Oracles A and B of one network; the chain finalized epoch 0 with the
/// totals B holds (`chain_root` says which root the chain has); A closed
/// epoch 0 but never scored it. Returns A's worker, store and chain.
async fn fallen_behind(
    chain_root: [u8; 32],
) -> (
    EpochWorker<ChainDouble, ReportCount>,
    Store,
    Arc<ChainDouble>,
    reward_pool::merkle::RewardTree,
) {
    use depinkit_oracle::epoch::import_root;
    use depinkit_sdk::proofs::ProofFile;
    // Epoch 1 ended 70 s ago: A's next step is to score it.
    let start = now_ms() / 1000 - 2 * HOUR - 70;
    let tree = reward_pool::merkle::RewardTree::new([(mint(1), 500), (mint(2), 300)]).unwrap();
    let chain = || {
        let chain = ChainDouble::new(
            Category::Wireless,
            vec![registered(1), registered(2)],
            start,
            HOUR,
        );
        {
            let mut pool = chain.pool.lock().unwrap();
            pool.total_inflow = 10_000_000;
            pool.next_epoch = 1;
            pool.root = tree.root();
            pool.root_total = tree.total();
        }
        Arc::new(chain)
    };
    let (chain_a, chain_b) = (chain(), chain());
    let (db_a, db_b) = (common::sqlite(), common::sqlite());
    let (store_a, store_b) = (db_a.open().await, db_b.open().await);
    std::mem::forget((db_a, db_b));
    // B holds epoch 0's totals as finalized, and serves them.
    let file = ProofFile::from_tree(&Pubkey::new_unique(), 0, &tree);
    import_root(&*chain_b, &NETWORK, &store_b, &file)
        .await
        .unwrap();
    let url_b = common::serve(chain_b, store_b, limits()).await;
    // A kept and closed epoch 0, then the chain moved on without it.
    keep(&store_a, 0, &[beacon(1, 1, (start + 10) * 1000)]).await;
    store_a.close_epoch(0).await.unwrap();
    keep(&store_a, 1, &[beacon(1, 2, (start + HOUR + 10) * 1000)]).await;
    chain_a.pool.lock().unwrap().root = chain_root;
    let registry = Arc::new(
        Registry::load(chain_a.clone(), NETWORK, Duration::from_secs(10))
            .await
            .unwrap(),
    );
    let worker = EpochWorker::new(
        chain_a.clone(),
        NETWORK,
        store_a.clone(),
        ReportCount {
            max_per_device: 100,
        },
        60,
    )
    .with_exchange(Exchange::new(vec![url_b], 0, registry));
    (worker, store_a, chain_a, tree)
}

#[tokio::test]
async fn an_oracle_that_fell_behind_takes_the_finalized_totals_from_a_peer() {
    let tree = reward_pool::merkle::RewardTree::new([(mint(1), 500), (mint(2), 300)]).unwrap();
    let (worker, store, chain, _) = fallen_behind(tree.root()).await;
    let progress = worker.tick(now_ms() / 1000).await.unwrap();
    // Its one vote finalizes epoch 1 on the double: epoch 2 is next.
    assert!(
        matches!(progress, Progress::Waiting { epoch: 2, .. }),
        "{progress:?}"
    );
    // Epoch 0's totals, as the chain finalized them, came from the peer...
    let imported = store.epoch_result(0).await.unwrap().unwrap();
    assert_eq!(imported.root, tree.root());
    // ...and epoch 1 is scored on top of them and voted.
    let scored = store.epoch_result(1).await.unwrap().unwrap();
    let cumulative: Vec<(Pubkey, u64)> = scored
        .leaves
        .iter()
        .map(|l| (l.mint, l.cumulative))
        .collect();
    assert!(cumulative.contains(&(mint(2), 300)), "{cumulative:?}");
    assert!(
        cumulative.iter().any(|&(m, c)| m == mint(1) && c > 500),
        "{cumulative:?}"
    );
    assert_eq!(chain.votes.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_peers_totals_that_the_chain_did_not_finalize_are_not_taken() {
    let (worker, store, chain, _) = fallen_behind([7; 32]).await;
    let progress = worker.tick(now_ms() / 1000).await.unwrap();
    match progress {
        Progress::Blocked { epoch: 1, reason } => {
            assert!(
                reason.contains("does not hold the totals of epoch 0"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(store.epoch_result(0).await.unwrap().is_none());
    assert!(chain.votes.lock().unwrap().is_empty());
}
