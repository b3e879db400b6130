//! The store keeps each accepted report once, refuses reports of a closed
//! epoch, and never loses a report it answered `Accepted` for: the same
//! tests on SQLite and on PostgreSQL.

mod common;

use anchor_lang::prelude::Pubkey;
use depinkit_oracle::store::{EpochState, NewReport, Store, Stored};
use depinkit_reports::{Beacon, Body, Hash32, Key, Report, SignedReport};
use ed25519_dalek::SigningKey;

fn beacon(device: u8, n: u64) -> SignedReport {
    let key = SigningKey::from_bytes(&[device; 32]);
    Report {
        network: Key([1; 32]),
        device: Key(key.verifying_key().to_bytes()),
        timestamp_ms: 1_767_225_600_000 + n as i64,
        body: Body::Beacon(Beacon {
            entropy: common::entropy(1_767_225_600_000 + n as i64),
            payload: n.to_le_bytes().to_vec(),
            frequency_hz: 868_100_000,
            tx_power_ddbm: 140,
            antenna_gain_ddbi: 30,
        }),
    }
    .sign(&key)
}

/// A mint per device key (tests only need them distinct).
fn mint_of(report: &SignedReport) -> Pubkey {
    Pubkey::new_from_array(report.report.device.0)
}

fn new_report(report: &SignedReport, epoch: u64) -> NewReport<'_> {
    NewReport {
        epoch,
        content_hash: report.report.content_hash(),
        device_mint: mint_of(report),
        report,
        received_ms: 5,
    }
}

#[tokio::test]
async fn reports_are_kept_once_and_read_back_in_pages() {
    for db in common::databases().await {
        let store = db.open().await;
        let reports: Vec<SignedReport> = (0..5).map(|n| beacon(3, n)).collect();
        let batch: Vec<NewReport> = reports
            .iter()
            .enumerate()
            .map(|(i, r)| new_report(r, if i < 4 { 7 } else { 8 }))
            .collect();
        assert_eq!(
            store.store_reports(&batch).await.unwrap(),
            vec![Stored::Accepted; 5],
            "{}",
            db.name
        );
        // The same content again (even with another epoch) is a duplicate.
        let again = [new_report(&reports[0], 7), new_report(&reports[4], 8)];
        assert_eq!(
            store.store_reports(&again).await.unwrap(),
            vec![Stored::Duplicate; 2]
        );
        // The same content twice in one call: the first is kept.
        let twin = beacon(3, 99);
        assert_eq!(
            store
                .store_reports(&[new_report(&twin, 8), new_report(&twin, 8)])
                .await
                .unwrap(),
            vec![Stored::Accepted, Stored::Duplicate]
        );
        assert_eq!(store.epoch_report_count(7).await.unwrap(), 4);
        assert_eq!(store.epoch_report_count(8).await.unwrap(), 2);
        assert_eq!(store.epoch_state(7).await.unwrap(), Some(EpochState::Open));
        assert_eq!(store.epoch_state(9).await.unwrap(), None);

        let first = store.epoch_reports(7, 0, 3).await.unwrap();
        assert_eq!(first.len(), 3);
        let rest = store.epoch_reports(7, first[2].id, 3).await.unwrap();
        assert_eq!(rest.len(), 1);
        let read: Vec<&SignedReport> = first.iter().chain(&rest).map(|r| &r.report).collect();
        assert_eq!(read, reports[..4].iter().collect::<Vec<_>>(), "{}", db.name);
        assert_eq!(first[0].device_mint, mint_of(&reports[0]));
        assert_eq!(first[0].content_hash, reports[0].report.content_hash());

        // Reopening (migrations already applied) keeps everything.
        drop(store);
        let store = db.open().await;
        assert_eq!(store.epoch_report_count(7).await.unwrap(), 4);
    }
}

#[tokio::test]
async fn a_closed_epoch_takes_no_reports_and_its_steps_are_taken_once() {
    for db in common::databases().await {
        let store = db.open().await;
        let early = beacon(4, 1);
        store.store_reports(&[new_report(&early, 2)]).await.unwrap();
        assert!(store.close_epoch(2).await.unwrap());
        assert!(!store.close_epoch(2).await.unwrap(), "closed once");
        // An epoch no report named can be closed too.
        assert!(store.close_epoch(5).await.unwrap());

        let late = beacon(4, 2);
        let open = beacon(4, 3);
        assert_eq!(
            store
                .store_reports(&[new_report(&late, 2), new_report(&open, 3)])
                .await
                .unwrap(),
            vec![Stored::EpochClosed, Stored::Accepted],
            "{}",
            db.name
        );
        assert_eq!(store.epoch_report_count(2).await.unwrap(), 1);

        assert!(
            store
                .advance_epoch(2, EpochState::Closed, EpochState::Scored)
                .await
                .unwrap()
        );
        assert!(
            !store
                .advance_epoch(2, EpochState::Closed, EpochState::Scored)
                .await
                .unwrap()
        );
        assert_eq!(
            store.epoch_state(2).await.unwrap(),
            Some(EpochState::Scored)
        );
        // The epochs heard of, newest first (what the dashboard lists).
        assert_eq!(
            store.recent_epochs(10).await.unwrap(),
            vec![5, 3, 2],
            "{}",
            db.name
        );
        assert_eq!(
            store.recent_epochs(2).await.unwrap(),
            vec![5, 3],
            "{}",
            db.name
        );
    }
}

/// Batches stored while the epoch closes: every report answered `Accepted`
/// is in the epoch's set read after the close, and none arrives later.
#[tokio::test]
async fn no_accepted_report_escapes_the_close() {
    for db in common::databases().await {
        let store = db.open().await;
        let writers: Vec<_> = (0..4u8)
            .map(|writer| {
                let store: Store = store.clone();
                tokio::spawn(async move {
                    let mut accepted = Vec::new();
                    // Until the close refuses a batch.
                    for n in 0.. {
                        let reports: Vec<SignedReport> =
                            (0..5).map(|k| beacon(10 + writer, n * 5 + k)).collect();
                        let batch: Vec<NewReport> =
                            reports.iter().map(|r| new_report(r, 1)).collect();
                        let outcomes = store.store_reports(&batch).await.unwrap();
                        if outcomes.contains(&Stored::EpochClosed) {
                            assert_eq!(outcomes, vec![Stored::EpochClosed; 5]);
                            break;
                        }
                        for (report, outcome) in reports.iter().zip(outcomes) {
                            if outcome == Stored::Accepted {
                                accepted.push(report.report.content_hash());
                            }
                        }
                    }
                    accepted
                })
            })
            .collect();
        while store.epoch_report_count(1).await.unwrap() < 40 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(store.close_epoch(1).await.unwrap());
        let at_close = store.epoch_report_count(1).await.unwrap();
        let mut accepted = Vec::new();
        for writer in writers {
            accepted.extend(writer.await.unwrap());
        }
        let kept = store.epoch_reports(1, 0, 10_000).await.unwrap();
        assert_eq!(
            kept.len() as u64,
            at_close,
            "{}: nothing after the close",
            db.name
        );
        let mut kept: Vec<Hash32> = kept.into_iter().map(|r| r.content_hash).collect();
        kept.sort();
        accepted.sort();
        assert_eq!(kept, accepted, "{}: accepted = kept", db.name);
    }
}

#[tokio::test]
async fn unsupported_urls_are_named() {
    let error = Store::open("mysql://localhost/x").await.err().unwrap();
    assert!(error.to_string().contains("mysql://localhost/x"));
}

/// Concurrent batches share group commits: each request still gets its own
/// answers, a report sent by several requests at once is accepted for
/// exactly one of them, and everything accepted is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_each_get_their_own_answers() {
    for db in common::databases().await {
        let store = db.open().await;
        // 16 requests of 40 reports; each shares 10 reports with the next.
        let reports: Vec<SignedReport> = (0..16 * 30 + 10).map(|n| beacon(4, n)).collect();
        let requests: Vec<Vec<SignedReport>> = (0..16)
            .map(|r| reports[r * 30..r * 30 + 40].to_vec())
            .collect();
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|batch| {
                let store = store.clone();
                tokio::spawn(async move {
                    let new: Vec<NewReport> = batch.iter().map(|r| new_report(r, 3)).collect();
                    let outcomes = store.store_reports(&new).await.unwrap();
                    batch
                        .iter()
                        .map(|r| r.report.content_hash())
                        .zip(outcomes)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut accepted = std::collections::HashMap::new();
        for task in tasks {
            let answers = task.await.unwrap();
            assert_eq!(answers.len(), 40, "{}: one answer per report", db.name);
            for (hash, outcome) in answers {
                assert_ne!(outcome, Stored::EpochClosed);
                *accepted.entry(hash).or_insert(0) += usize::from(outcome == Stored::Accepted);
            }
        }
        assert_eq!(accepted.len(), reports.len());
        assert!(
            accepted.values().all(|&n| n == 1),
            "{}: each report accepted exactly once",
            db.name
        );
        assert_eq!(
            store.epoch_report_count(3).await.unwrap(),
            reports.len() as u64,
            "{}",
            db.name
        );
    }
}

/// The devices' cells over time: rows as recorded, the latest per device,
/// a device's history newest first and limited.
#[tokio::test]
async fn device_locations_are_kept_newest_first() {
    for db in common::databases().await {
        let store = db.open().await;
        let (a, b) = (
            Pubkey::new_from_array([1; 32]),
            Pubkey::new_from_array([2; 32]),
        );
        assert!(store.latest_locations().await.unwrap().is_empty());
        store
            .record_locations(&[(a, 0x08c1_fb46_44d7_45ff), (b, 7)], 1_000)
            .await
            .unwrap();
        store
            .record_locations(&[(a, u64::MAX)], 2_000)
            .await
            .unwrap();
        // The same instant twice keeps the first.
        store.record_locations(&[(a, 9)], 2_000).await.unwrap();
        let latest = store.latest_locations().await.unwrap();
        assert_eq!(latest.get(&a), Some(&u64::MAX), "{}", db.name);
        assert_eq!(latest.get(&b), Some(&7));
        assert_eq!(
            store.device_locations(&a, 10).await.unwrap(),
            vec![(u64::MAX, 2_000), (0x08c1_fb46_44d7_45ff, 1_000)],
            "{}",
            db.name
        );
        assert_eq!(store.device_locations(&a, 1).await.unwrap().len(), 1);
        assert!(
            store
                .device_locations(&Pubkey::new_from_array([3; 32]), 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
