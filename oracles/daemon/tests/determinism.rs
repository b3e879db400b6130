//! Determinism: a fleet's reports (honest and cheating), shuffled and split
//! across three oracles, exchanged over HTTP and scored by the category's
//! rules, give the three the same scores, refusals and root, the root one
//! oracle holding every report computes.

mod common;

use anchor_lang::prelude::Pubkey;
use common::{ChainDouble, NETWORK};
use depinkit_device::{Category as FleetCategory, Cheat, DeviceKey, Fleet, Position, layout};
use depinkit_oracle::{
    epoch::{EpochWorker, Progress},
    exchange::Exchange,
    ingest::Limits,
    registry::{RegisteredDevice, Registry},
    store::{NewReport, Store, now_ms},
    verifier::mapping::MappingRules,
};
use depinkit_reports::{Key, SignedReport};
use device_registry::state::Category;
use std::{sync::Arc, time::Duration};

const HOUR: i64 = 3600;

fn mint_of(key: &Key) -> Pubkey {
    device_registry::pda::find_device_mint_address(&NETWORK, &Pubkey::new_from_array(key.0)).0
}

async fn keep(store: &Store, reports: &[SignedReport]) {
    let batch: Vec<NewReport> = reports
        .iter()
        .map(|r| NewReport {
            epoch: 0,
            content_hash: r.report.content_hash(),
            device_mint: mint_of(&r.report.device),
            report: r,
            received_ms: now_ms(),
        })
        .collect();
    store.store_reports(&batch).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shuffled_reports_split_across_three_oracles_give_one_root() {
    let start = now_ms() / 1000 - HOUR - 70;
    // Twelve dashcams, three cheating, three rounds a minute apart inside
    // the epoch that just ended.
    let keys: Vec<DeviceKey> = (1..=12u8).map(|i| DeviceKey::from_seed([i; 32])).collect();
    let places = layout(keys.len(), Position::degrees(45.76, 4.84), 800.0, 0);
    let mut fleet = Fleet::new(
        Key(NETWORK.to_bytes()),
        FleetCategory::Mapping,
        keys.iter().cloned().zip(places).collect(),
        11,
    );
    fleet.set_cheat(2, Cheat::Teleport).unwrap();
    fleet.set_cheat(5, Cheat::DuplicateFrames).unwrap();
    fleet.set_cheat(8, Cheat::Replay).unwrap();
    let mut reports: Vec<SignedReport> = Vec::new();
    for round in 0..3 {
        let at = (start + 600 + round * 60) * 1000;
        reports.extend(fleet.round(at, None).into_iter().map(|(_, r)| r));
    }
    reports.sort_by_key(|r| r.report.content_hash());
    reports.dedup_by_key(|r| r.report.content_hash()); // replays are one report

    let registered: Vec<(Key, RegisteredDevice)> = keys
        .iter()
        .map(|k| {
            (
                k.public(),
                RegisteredDevice {
                    mint: mint_of(&k.public()),
                    location: 0,
                    active: true,
                },
            )
        })
        .collect();
    let chain = || {
        let chain = ChainDouble::new(Category::Mapping, registered.clone(), start, HOUR);
        chain.pool.lock().unwrap().total_inflow = 10_000_000;
        Arc::new(chain)
    };
    let limits = Limits {
        max_batch_reports: 100,
        device_reports_per_minute: 600,
        device_burst: 100,
        grace_secs: 60,
        max_answer_delay_ms: 7_000,
    };

    // One oracle holding everything: the reference.
    let reference_chain = chain();
    let reference_db = common::sqlite();
    let reference = reference_db.open().await;
    keep(&reference, &reports).await;
    EpochWorker::new(
        reference_chain.clone(),
        NETWORK,
        reference.clone(),
        MappingRules::default(),
        60,
    )
    .tick(now_ms() / 1000)
    .await
    .unwrap();
    let expected = reference_chain.votes.lock().unwrap()[0];
    let expected_result = reference.epoch_result(0).await.unwrap().unwrap();
    assert_eq!(
        reference.epoch_refusals(0).await.unwrap().len(),
        6,
        "the teleporting and the copying dashcam, three tracks each"
    );

    // Three oracles, each hearing a shuffled share (a few reports reach two).
    let chains: Vec<_> = (0..3).map(|_| chain()).collect();
    let dbs: Vec<_> = (0..3).map(|_| common::sqlite()).collect();
    let mut stores = Vec::new();
    for db in &dbs {
        stores.push(db.open().await);
    }
    let mut order: Vec<usize> = (0..reports.len()).collect();
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    for i in (1..order.len()).rev() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        order.swap(i, (rng % (i as u64 + 1)) as usize);
    }
    for (n, &i) in order.iter().enumerate() {
        keep(&stores[n % 3], &reports[i..=i]).await;
        if n % 5 == 0 {
            keep(&stores[(n + 1) % 3], &reports[i..=i]).await;
        }
    }
    let mut urls = Vec::new();
    for (chain, store) in chains.iter().zip(&stores) {
        urls.push(common::serve(chain.clone(), store.clone(), limits).await);
    }
    let mut workers = Vec::new();
    for i in 0..3 {
        let registry = Arc::new(
            Registry::load(chains[i].clone(), NETWORK, Duration::from_secs(10))
                .await
                .unwrap(),
        );
        let peers = (0..3)
            .filter(|&j| j != i)
            .map(|j| urls[j].clone())
            .collect();
        workers.push(
            EpochWorker::new(
                chains[i].clone(),
                NETWORK,
                stores[i].clone(),
                MappingRules::default(),
                60,
            )
            .with_exchange(Exchange::new(peers, 600, registry)),
        );
    }
    // Each closes, waits for its peers to close, pulls, scores and votes.
    for _ in 0..3 {
        for worker in &workers {
            let progress = worker.tick(now_ms() / 1000).await.unwrap();
            assert!(
                matches!(
                    progress,
                    Progress::Exchanging { .. } | Progress::Waiting { epoch: 1, .. }
                ),
                "{progress:?}"
            );
        }
    }
    for (i, chain) in chains.iter().enumerate() {
        let votes = chain.votes.lock().unwrap().clone();
        assert_eq!(votes.len(), 1, "oracle {i} voted");
        assert_eq!(votes[0], expected, "oracle {i} votes the reference root");
        let result = stores[i].epoch_result(0).await.unwrap().unwrap();
        assert_eq!(result.rewards, expected_result.rewards, "oracle {i}");
        assert_eq!(
            stores[i].epoch_refusals(0).await.unwrap(),
            reference.epoch_refusals(0).await.unwrap(),
            "oracle {i}"
        );
    }
}
