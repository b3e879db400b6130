//! The epoch worker on SQLite and PostgreSQL against a double of the chain:
//! close, score, vote, finalized, each step persisted; a restart votes the
//! root it persisted and no other; an underfunded pool blocks the vote; the
//! root does not depend on the order reports arrived in; one worker per
//! database.

mod common;

use anchor_lang::prelude::Pubkey;
use common::{ChainDouble, NETWORK};
use depinkit_oracle::{
    epoch::{EpochWorker, Progress},
    store::{EpochState, NewReport, Role, Store, now_ms},
    verifier::ReportCount,
};
use depinkit_reports::{Beacon, Body, Key, Report, SignedReport};
use device_registry::state::Category;
use ed25519_dalek::SigningKey;
use reward_pool::merkle::RewardTree;
use std::sync::{Arc, atomic::Ordering};

const HOUR: i64 = 3600;
const GRACE: i64 = 60;
const EMISSION: u64 = 1_000_000;

fn mint(n: u8) -> Pubkey {
    Pubkey::new_from_array([n; 32])
}

fn beacon(device: u8, n: u8) -> SignedReport {
    let key = SigningKey::from_bytes(&[device; 32]);
    Report {
        network: Key(NETWORK.to_bytes()),
        device: Key(key.verifying_key().to_bytes()),
        timestamp_ms: now_ms(),
        body: Body::Beacon(Beacon {
            entropy: common::entropy(now_ms()),
            payload: vec![n],
            frequency_hz: 868_100_000,
            tx_power_ddbm: 140,
            antenna_gain_ddbi: 30,
        }),
    }
    .sign(&key)
}

/// Device 1 sends three reports in epoch 0, device 2 one.
fn epoch_zero_reports() -> Vec<(u8, SignedReport)> {
    vec![
        (1, beacon(1, 1)),
        (1, beacon(1, 2)),
        (2, beacon(2, 1)),
        (1, beacon(1, 3)),
    ]
}

async fn keep(store: &Store, epoch: u64, reports: &[(u8, SignedReport)]) {
    let batch: Vec<NewReport> = reports
        .iter()
        .map(|(device, report)| NewReport {
            epoch,
            content_hash: report.report.content_hash(),
            device_mint: mint(*device),
            report,
            received_ms: now_ms(),
        })
        .collect();
    store.store_reports(&batch).await.unwrap();
}

/// A chain whose epoch 0 ended `ended_secs_ago`, its pool funded with `inflow`.
fn chain(ended_secs_ago: i64, inflow: u64) -> Arc<ChainDouble> {
    let chain = ChainDouble::new(
        Category::Wireless,
        vec![],
        now_ms() / 1000 - HOUR - ended_secs_ago,
        HOUR,
    );
    chain.pool.lock().unwrap().total_inflow = inflow;
    Arc::new(chain)
}

fn worker(chain: &Arc<ChainDouble>, store: &Store) -> EpochWorker<ChainDouble, ReportCount> {
    EpochWorker::new(
        chain.clone(),
        NETWORK,
        store.clone(),
        ReportCount { max_per_device: 10 },
        GRACE,
    )
}

fn now() -> i64 {
    now_ms() / 1000
}

#[tokio::test]
async fn an_epoch_closes_scores_votes_and_finalizes() {
    for db in common::databases().await {
        let store = db.open().await;
        // Within the grace period: nothing happens yet.
        let early = chain(GRACE / 2, 10 * EMISSION);
        keep(&store, 0, &epoch_zero_reports()).await;
        let progress = worker(&early, &store).tick(now()).await.unwrap();
        assert!(matches!(progress, Progress::Waiting { epoch: 0, .. }));
        assert_eq!(store.epoch_state(0).await.unwrap(), Some(EpochState::Open));

        let chain = chain(GRACE + 10, 10 * EMISSION);
        let worker = worker(&chain, &store);
        // Closed, scored, voted; the double's one-oracle quorum finalizes it
        // at once, so the same tick records that and waits for epoch 1.
        let progress = worker.tick(now()).await.unwrap();
        assert!(
            matches!(progress, Progress::Waiting { epoch: 1, .. }),
            "{}: {progress:?}",
            db.name
        );
        // Scored by report count (3:1).
        let result = store.epoch_result(0).await.unwrap().unwrap();
        assert_eq!(result.report_count, 4);
        assert_eq!(result.amount, EMISSION);
        let tree = RewardTree::new([(mint(1), 750_000), (mint(2), 250_000)]).unwrap();
        assert_eq!(result.root, tree.root());
        assert_eq!((result.total, result.dust), (EMISSION, 0));
        assert_eq!(result.vote_signature.as_deref(), Some("vote-0"));
        let votes = chain.votes.lock().unwrap().clone();
        assert_eq!(votes.len(), 1);
        assert_eq!((votes[0].epoch, votes[0].root), (0, tree.root()));

        assert_eq!(
            store.epoch_state(0).await.unwrap(),
            Some(EpochState::Finalized)
        );
        assert_eq!(
            store.latest_finalized().await.unwrap().map(|r| r.epoch),
            Some(0)
        );

        // Epoch 1 (once ended: the pool's clock moved an hour back): device
        // 2 alone; totals accumulate.
        keep(&store, 1, &[(2, beacon(2, 9))]).await;
        chain.pool.lock().unwrap().start_time -= HOUR;
        let progress = worker.tick(now()).await.unwrap();
        assert!(matches!(progress, Progress::Waiting { epoch: 2, .. }));
        let result = store.epoch_result(1).await.unwrap().unwrap();
        let tree = RewardTree::new([(mint(1), 750_000), (mint(2), 1_250_000)]).unwrap();
        assert_eq!(result.root, tree.root(), "{}", db.name);
        assert_eq!(result.total, 2 * EMISSION);
    }
}

/// What the API tells about epochs and rewards, before and after a root.
#[tokio::test]
async fn the_api_serves_epochs_and_the_proofs_of_the_finalized_root() {
    let db = common::sqlite();
    let store = db.open().await;
    let chain = chain(GRACE + 10, 10 * EMISSION);
    let limits = depinkit_oracle::ingest::Limits {
        max_batch_reports: 10,
        device_reports_per_minute: 60,
        device_burst: 10,
        grace_secs: GRACE,
        max_answer_delay_ms: 7_000,
    };
    let url = common::serve(chain.clone(), store.clone(), limits).await;
    let get = |path: String| async move {
        let response = reqwest::get(path).await.unwrap();
        let status = response.status().as_u16();
        (status, response.json::<serde_json::Value>().await.unwrap())
    };
    let (status, body) = get(format!("{url}/v1/proofs")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("no_finalized_root"))
    );
    let (status, body) = get(format!("{url}/v1/epochs/0")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_epoch"))
    );
    let (status, body) = get(format!("{url}/v1/devices/not-a-mint/rewards")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_mint"))
    );

    keep(&store, 0, &epoch_zero_reports()).await;
    let (_, open) = get(format!("{url}/v1/epochs/0")).await;
    assert_eq!(
        (open["state"].as_str(), open["reports"].as_u64()),
        (Some("open"), Some(4))
    );
    let worker = worker(&chain, &store);
    worker.tick(now()).await.unwrap();
    worker.tick(now()).await.unwrap();

    let (status, summary) = get(format!("{url}/v1/epochs/0")).await;
    assert_eq!(status, 200);
    assert_eq!(summary["state"], "finalized");
    assert_eq!(summary["rewards_paid"], EMISSION);
    assert_eq!(summary["devices_rewarded"], 2);
    assert_eq!(summary["rule_set"]["name"], "report-count");
    assert_eq!(summary["vote_signature"], "vote-0");
    assert_eq!(summary["root"], summary["finalized_root"]);

    let tree = RewardTree::new([(mint(1), 750_000), (mint(2), 250_000)]).unwrap();
    let (status, file) = get(format!("{url}/v1/devices/{}/rewards", mint(2))).await;
    assert_eq!(status, 200);
    let file: depinkit_sdk::proofs::ProofFile = serde_json::from_value(file).unwrap();
    assert_eq!(file.root_bytes(), Some(tree.root()));
    assert_eq!(file.claims.len(), 1);
    let (amount, proof) = file.claim_for(&mint(2)).unwrap();
    assert_eq!(amount, 250_000);
    assert!(reward_pool::merkle::verify(
        &proof,
        &tree.root(),
        reward_pool::merkle::leaf_hash(&mint(2), amount)
    ));
    let (status, body) = get(format!("{url}/v1/devices/{}/rewards", mint(9))).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("no_rewards")));
    let (_, all) = get(format!("{url}/v1/proofs")).await;
    let all: depinkit_sdk::proofs::ProofFile = serde_json::from_value(all).unwrap();
    assert_eq!(all.claims.len(), 2);
    assert_eq!(all.total, EMISSION);
}

#[tokio::test]
async fn a_restart_between_scoring_and_voting_votes_the_persisted_root() {
    for db in common::databases().await {
        let store = db.open().await;
        keep(&store, 0, &epoch_zero_reports()).await;
        let chain = chain(GRACE + 10, 10 * EMISSION);
        // The RPC node goes away at vote time: scored, not voted.
        chain.votes_fail.store(true, Ordering::SeqCst);
        assert!(worker(&chain, &store).tick(now()).await.is_err());
        assert_eq!(
            store.epoch_state(0).await.unwrap(),
            Some(EpochState::Scored),
            "{}",
            db.name
        );
        let persisted = store.epoch_result(0).await.unwrap().unwrap();
        assert!(chain.votes.lock().unwrap().is_empty());
        // A report arriving now cannot change the scored epoch.
        let late = beacon(3, 1);
        let outcome = store
            .store_reports(&[NewReport {
                epoch: 0,
                content_hash: late.report.content_hash(),
                device_mint: mint(3),
                report: &late,
                received_ms: now_ms(),
            }])
            .await
            .unwrap();
        assert_eq!(outcome, vec![depinkit_oracle::store::Stored::EpochClosed]);

        // The process dies; a new one (a new worker on a reopened store)
        // votes the persisted root once the RPC node is back.
        drop(store);
        let store = db.open().await;
        chain.votes_fail.store(false, Ordering::SeqCst);
        let restarted = worker(&chain, &store);
        let progress = restarted.tick(now()).await.unwrap();
        assert!(matches!(progress, Progress::Waiting { epoch: 1, .. }));
        let votes = chain.votes.lock().unwrap().clone();
        assert_eq!(votes.len(), 1, "{}", db.name);
        assert_eq!(votes[0].root, persisted.root);
        assert_eq!(
            store.epoch_result(0).await.unwrap().unwrap().root,
            persisted.root
        );
    }
}

#[tokio::test]
async fn an_underfunded_pool_blocks_the_vote_until_it_is_funded() {
    let db = common::sqlite();
    let store = db.open().await;
    keep(&store, 0, &epoch_zero_reports()).await;
    let chain = chain(GRACE + 10, EMISSION / 2);
    let worker = worker(&chain, &store);
    match worker.tick(now()).await.unwrap() {
        Progress::Blocked { epoch: 0, reason } => {
            assert!(reason.contains("fund the pool"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.epoch_state(0).await.unwrap(),
        Some(EpochState::Closed)
    );
    assert!(chain.votes.lock().unwrap().is_empty());
    chain.pool.lock().unwrap().total_inflow = EMISSION;
    worker.tick(now()).await.unwrap();
    assert_eq!(chain.votes.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_root_does_not_depend_on_the_order_reports_arrived_in() {
    let reports = epoch_zero_reports();
    let mut reversed = reports.clone();
    reversed.reverse();
    let mut roots = Vec::new();
    for order in [reports, reversed] {
        let db = common::sqlite();
        let store = db.open().await;
        for report in &order {
            keep(&store, 0, std::slice::from_ref(report)).await;
        }
        let chain = chain(GRACE + 10, 10 * EMISSION);
        worker(&chain, &store).tick(now()).await.unwrap();
        roots.push(chain.votes.lock().unwrap()[0].root);
    }
    assert_eq!(roots[0], roots[1]);
}

#[tokio::test]
async fn one_replica_leads_the_epoch_worker_on_postgres() {
    let Some(db) = common::postgres().await else {
        return;
    };
    let first = db.open().await;
    let second = db.open().await;
    let mut leader = first
        .try_lead(&NETWORK, Role::EpochWorker)
        .await
        .unwrap()
        .expect("first leads");
    assert!(
        second
            .try_lead(&NETWORK, Role::EpochWorker)
            .await
            .unwrap()
            .is_none()
    );
    // Another network's worker, and this network's claim crank, are
    // independent of it.
    assert!(
        second
            .try_lead(&mint(77), Role::EpochWorker)
            .await
            .unwrap()
            .is_some()
    );
    let crank = second.try_lead(&NETWORK, Role::ClaimCrank).await.unwrap();
    assert!(crank.is_some());
    assert!(
        first
            .try_lead(&NETWORK, Role::ClaimCrank)
            .await
            .unwrap()
            .is_none()
    );
    assert!(leader.still_held().await);
    drop(leader);
    // The lock goes with its connection: the other replica takes over.
    let mut taken = None;
    for _ in 0..50 {
        taken = second.try_lead(&NETWORK, Role::EpochWorker).await.unwrap();
        if taken.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(taken.is_some(), "the second replica takes over");
    // SQLite serves one daemon: always its own leader.
    let sqlite = common::sqlite().open().await;
    assert!(
        sqlite
            .try_lead(&NETWORK, Role::EpochWorker)
            .await
            .unwrap()
            .is_some()
    );
}

/// A worker that was down catches up in one tick; an epoch nobody earned in
/// carries its emission into the next.
#[tokio::test]
async fn a_late_worker_catches_up_and_unearned_emissions_carry_over() {
    let db = common::sqlite();
    let store = db.open().await;
    // Epochs 0 and 1 both ended; reports only in epoch 1.
    let chain = chain(HOUR + GRACE + 10, 10 * EMISSION);
    keep(&store, 1, &[(1, beacon(1, 1))]).await;
    let progress = worker(&chain, &store).tick(now()).await.unwrap();
    assert!(matches!(progress, Progress::Waiting { epoch: 2, .. }));
    let votes = chain.votes.lock().unwrap().clone();
    assert_eq!(votes.len(), 2);
    assert_eq!((votes[0].epoch, votes[0].total), (0, 0));
    assert_eq!((votes[1].epoch, votes[1].total), (1, 2 * EMISSION));
    let result = store.epoch_result(1).await.unwrap().unwrap();
    assert_eq!(result.amount, 2 * EMISSION);
    assert_eq!(
        result.root,
        RewardTree::new([(mint(1), 2 * EMISSION)]).unwrap().root()
    );
}

/// Totals finalized before this oracle ran come from a proof file, checked
/// against the chain's root.
#[tokio::test]
async fn a_finalized_root_is_imported_only_if_the_chain_agrees() {
    use depinkit_oracle::epoch::import_root;
    use depinkit_sdk::proofs::ProofFile;
    let db = common::sqlite();
    let store = db.open().await;
    let chain = chain(HOUR + GRACE + 10, 10 * EMISSION);
    let finalized = RewardTree::new([(mint(1), 500), (mint(2), 300)]).unwrap();
    {
        let mut pool = chain.pool.lock().unwrap();
        pool.next_epoch = 1;
        pool.root = finalized.root();
        pool.root_total = finalized.total();
        pool.scheduled_to_date = u128::from(EMISSION);
    }
    let pool_address = Pubkey::new_unique();
    let other = RewardTree::new([(mint(1), 800)]).unwrap();
    for (file, why) in [
        (
            ProofFile::from_tree(&pool_address, 0, &other),
            "another root",
        ),
        (
            ProofFile::from_tree(&pool_address, 3, &finalized),
            "epoch 3",
        ),
    ] {
        let error = import_root(chain.as_ref(), &NETWORK, &store, &file)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains(why), "{error}");
    }
    let file = ProofFile::from_tree(&pool_address, 0, &finalized);
    assert_eq!(
        import_root(chain.as_ref(), &NETWORK, &store, &file)
            .await
            .unwrap(),
        0
    );
    let again = import_root(chain.as_ref(), &NETWORK, &store, &file)
        .await
        .unwrap_err();
    assert!(again.to_string().contains("already holds epoch 0"));
    // The worker goes on from the imported totals: epoch 1 distributes its
    // emission plus what epoch 0 left (EMISSION - 800).
    keep(&store, 1, &[(2, beacon(2, 1))]).await;
    worker(&chain, &store).tick(now()).await.unwrap();
    let result = store.epoch_result(1).await.unwrap().unwrap();
    assert_eq!(result.amount, 2 * EMISSION - 800);
    let expected = RewardTree::new([(mint(1), 500), (mint(2), 300 + 2 * EMISSION - 800)]).unwrap();
    assert_eq!(result.root, expected.root());
}
