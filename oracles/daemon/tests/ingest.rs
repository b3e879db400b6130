//! `POST /v1/reports` over real HTTP, on SQLite and PostgreSQL: each report of
//! a batch gets its own verdict, the good ones are stored even beside bad
//! ones, and whole batches that cannot be taken get a 4xx with the reason.

mod common;

use anchor_lang::prelude::Pubkey;
use common::{ChainDouble, beacon, key};
use depinkit_oracle::{
    ingest::Limits,
    registry::RegisteredDevice,
    store::{Store, now_ms},
};
use depinkit_reports::{
    BINARY_CONTENT_TYPE, BatchAnswer, Key, Rejection, Sig, SignedReport, Verdict, encode_batch,
};
use device_registry::state::Category;
use std::sync::Arc;

const HOUR: i64 = 3600;
const GRACE_SECS: i64 = 60;

fn registered(seed: u8, active: bool) -> (Key, RegisteredDevice) {
    (
        Key(key(seed).verifying_key().to_bytes()),
        RegisteredDevice {
            mint: Pubkey::new_from_array([seed; 32]),
            location: 0,
            active,
        },
    )
}

fn limits(device_burst: u32) -> Limits {
    Limits {
        max_batch_reports: 20,
        device_reports_per_minute: 60,
        device_burst,
        grace_secs: GRACE_SECS,
        max_answer_delay_ms: 7_000,
    }
}

/// An oracle serving a wireless network whose pool started `started_secs_ago`
/// with one-hour epochs; its URL.
async fn serve(store: Store, limits: Limits, started_secs_ago: i64) -> (String, Arc<ChainDouble>) {
    let chain = Arc::new(ChainDouble::new(
        Category::Wireless,
        vec![
            registered(1, true),
            registered(2, true),
            registered(3, false),
        ],
        now_ms() / 1000 - started_secs_ago,
        HOUR,
    ));
    (common::serve(chain.clone(), store, limits).await, chain)
}

async fn post(url: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}/v1/reports"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn post_json(url: &str, batch: &serde_json::Value) -> (u16, BatchAnswer) {
    let response = post(url, "application/json", serde_json::to_vec(batch).unwrap()).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn reasons(answer: &BatchAnswer) -> Vec<Option<Rejection>> {
    answer
        .results
        .iter()
        .map(|v| match v {
            Verdict::Accepted { .. } => None,
            Verdict::Rejected { reason } => Some(*reason),
        })
        .collect()
}

#[tokio::test]
async fn every_report_gets_its_verdict_and_the_good_ones_are_stored() {
    for db in common::databases().await {
        let store = db.open().await;
        // Epoch 1 is running; epoch 0 ended an hour ago.
        let (url, _) = serve(store.clone(), limits(100), HOUR + 600).await;
        let now = now_ms();
        let good = beacon(1, 1, now);
        let mut forged = beacon(1, 2, now);
        forged.signature = Sig([9; 64]);
        let mut elsewhere = beacon(1, 3, now);
        elsewhere.report.network = Key([4; 32]);
        let elsewhere = elsewhere.report.sign(&key(1));
        let batch = serde_json::json!([
            good,
            forged,
            beacon(7, 4, now),
            beacon(3, 5, now),
            elsewhere,
            beacon(1, 6, now - HOUR * 1000),
            beacon(1, 7, now + 10 * 60 * 1000),
            {"report": "not a report"},
            good,
            beacon(2, 8, now),
        ]);
        let (status, answer) = post_json(&url, &batch).await;
        assert_eq!(status, 200, "{}", db.name);
        assert_eq!(
            reasons(&answer),
            vec![
                None,
                Some(Rejection::BadSignature),
                Some(Rejection::UnknownDevice),
                Some(Rejection::SuspendedDevice),
                Some(Rejection::WrongNetwork),
                Some(Rejection::EpochClosed),
                Some(Rejection::FutureTimestamp),
                Some(Rejection::Malformed),
                Some(Rejection::Duplicate),
                None,
            ],
            "{}",
            db.name
        );
        assert_eq!((answer.accepted, answer.rejected), (2, 8));
        assert_eq!(
            answer.results[0],
            Verdict::Accepted {
                content_hash: good.report.content_hash()
            }
        );
        let kept = store.epoch_reports(1, 0, 100).await.unwrap();
        assert_eq!(kept.len(), 2, "{}", db.name);
        assert_eq!(kept[0].report, good);
        assert_eq!(kept[0].device_mint, Pubkey::new_from_array([1; 32]));

        // The same report in a later batch: a duplicate, still stored once.
        let (_, again) = post_json(&url, &serde_json::json!([good])).await;
        assert_eq!(reasons(&again), vec![Some(Rejection::Duplicate)]);
        assert_eq!(store.epoch_report_count(1).await.unwrap(), 2);

        // Once the epoch is closed in the store, its reports are refused.
        store.close_epoch(1).await.unwrap();
        let (_, closed) = post_json(&url, &serde_json::json!([beacon(2, 9, now)])).await;
        assert_eq!(reasons(&closed), vec![Some(Rejection::EpochClosed)]);
        assert_eq!(store.epoch_report_count(1).await.unwrap(), 2);
    }
}

#[tokio::test]
async fn binary_batches_keep_the_reports_before_a_truncated_one() {
    let db = common::sqlite();
    let store = db.open().await;
    let (url, _) = serve(store.clone(), limits(100), 600).await;
    let now = now_ms();
    let reports = [beacon(1, 1, now), beacon(2, 2, now), beacon(1, 3, now)];
    let mut body = encode_batch(&reports);
    body.truncate(body.len() - 10);
    let response = post(&url, BINARY_CONTENT_TYPE, body).await;
    assert_eq!(response.status(), 200);
    let answer: BatchAnswer = response.json().await.unwrap();
    assert_eq!(
        reasons(&answer),
        vec![None, None, Some(Rejection::Truncated)]
    );
    assert_eq!(store.epoch_report_count(0).await.unwrap(), 2);
}

#[tokio::test]
async fn batches_that_cannot_be_taken_get_a_4xx_and_store_nothing() {
    let db = common::sqlite();
    let store = db.open().await;
    let (url, _) = serve(store.clone(), limits(100), 600).await;
    let now = now_ms();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "application/json",
            b"{\"not\": \"an array\"}".to_vec(),
            400,
            "malformed",
        ),
        ("application/json", b"[{".to_vec(), 400, "malformed"),
        (BINARY_CONTENT_TYPE, b"XXXX\x01".to_vec(), 400, "malformed"),
        ("text/plain", b"[]".to_vec(), 415, "unsupported_media_type"),
        (
            "application/json",
            serde_json::to_vec(&(0..21).map(|n| beacon(1, n, now)).collect::<Vec<_>>()).unwrap(),
            413,
            "too_many_reports",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let response = post(&url, content_type, body).await;
        assert_eq!(response.status().as_u16(), status, "{code}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["error"], code);
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Over the body limit: refused before it is read in full.
    let response = post(&url, "application/json", vec![b' '; 65 * 1024]).await;
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(store.epoch_report_count(0).await.unwrap(), 0);
}

#[tokio::test]
async fn a_device_over_its_rate_is_refused_and_told_when_to_retry() {
    let db = common::sqlite();
    let store = db.open().await;
    let (url, _) = serve(store.clone(), limits(3), 600).await;
    let now = now_ms();
    let batch: Vec<SignedReport> = (0..5).map(|n| beacon(1, n, now)).collect();
    let (status, answer) = post_json(&url, &serde_json::json!(batch)).await;
    assert_eq!(status, 200);
    assert_eq!(
        reasons(&answer),
        vec![
            None,
            None,
            None,
            Some(Rejection::RateLimited),
            Some(Rejection::RateLimited)
        ]
    );
    // Another device is not slowed by it.
    let (_, other) = post_json(&url, &serde_json::json!([beacon(2, 1, now)])).await;
    assert_eq!(reasons(&other), vec![None]);
    // Nothing but refused-for-rate reports: 429 with Retry-After.
    let response = post(
        &url,
        "application/json",
        serde_json::to_vec(&[beacon(1, 9, now)]).unwrap(),
    )
    .await;
    assert_eq!(response.status().as_u16(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(store.epoch_report_count(0).await.unwrap(), 4);
}

#[tokio::test]
async fn health_and_metrics_show_what_ingest_did() {
    let db = common::sqlite();
    let store = db.open().await;
    let (url, _) = serve(store.clone(), limits(100), 600).await;
    let now = now_ms();
    let mut forged = beacon(2, 1, now);
    forged.signature = Sig([1; 64]);
    post_json(&url, &serde_json::json!([beacon(1, 1, now), forged])).await;

    let health: serde_json::Value = reqwest::get(format!("{url}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["devices"], 3);

    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |name: &str| -> u64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {metrics}"))
    };
    assert!(count("depin_oracle_reports_accepted_total") >= 1);
    assert!(count("depin_oracle_reports_rejected_total{reason=\"bad_signature\"}") >= 1);
    assert!(metrics.contains("depin_oracle_batch_seconds"));
}

/// A compute challenge's answer arriving after the bound the rules allow is
/// refused at once as `late_answer`; one in time is taken.
#[tokio::test]
async fn a_challenge_answer_arriving_late_is_refused() {
    use depinkit_reports::{
        Body, ComputeAnswer, ComputeChallenge, Hash32, Report, challenge_matrices, multiply,
    };
    let db = common::sqlite();
    let chain = Arc::new(ChainDouble::new(
        Category::Compute,
        vec![registered(1, true)],
        now_ms() / 1000 - 600,
        HOUR,
    ));
    let url = common::serve(chain, db.open().await, limits(100)).await;
    let answer = |issued_ms: i64| {
        let challenge = ComputeChallenge::issue(
            &Key(common::NETWORK.to_bytes()),
            Key(key(1).verifying_key().to_bytes()),
            "a100",
            Hash32::sha256(&issued_ms.to_le_bytes()),
            4,
            issued_ms,
            &ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
        );
        let (a, b) = challenge_matrices(&challenge.seed, 4);
        Report {
            network: Key(common::NETWORK.to_bytes()),
            device: Key(key(1).verifying_key().to_bytes()),
            timestamp_ms: now_ms(),
            body: Body::ComputeAnswer(ComputeAnswer {
                product: multiply(&a, &b, 4),
                challenge,
            }),
        }
        .sign(&key(1))
    };
    let (status, verdicts) = post_json(
        &url,
        &serde_json::json!([answer(now_ms() - 2_000), answer(now_ms() - 60_000)]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(reasons(&verdicts), vec![None, Some(Rejection::LateAnswer)]);
}
