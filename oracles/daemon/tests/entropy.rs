//! The entropy the oracle issues for beacons: stamped at the start of a
//! minute, made from the chain's latest blockhash, signed by the oracle, and
//! served at `GET /v1/entropy`.

mod common;

use common::{ChainDouble, NETWORK};
use depinkit_oracle::{
    entropy::{ENTROPY_INTERVAL_MS, EntropySource, issue_loop},
    ingest::{Ingest, Limits},
    registry::Registry,
    server::{AppState, router},
    store::now_ms,
};
use depinkit_reports::{Entropy, Key};
use device_registry::state::Category;
use std::{sync::Arc, time::Duration};

#[tokio::test]
async fn entropy_is_issued_each_minute_signed_and_served() {
    let chain = Arc::new(ChainDouble::new(Category::Wireless, Vec::new(), 0, 3600));
    let oracle = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let source = Arc::new(EntropySource::new(&NETWORK, oracle.clone()));
    assert!(source.latest().await.is_none());

    let db = common::sqlite();
    let registry = Arc::new(
        Registry::load(chain.clone(), NETWORK, Duration::from_secs(10))
            .await
            .unwrap(),
    );
    let limits = Limits {
        max_batch_reports: 10,
        device_reports_per_minute: 60,
        device_burst: 60,
        grace_secs: 60,
        max_answer_delay_ms: 7_000,
    };
    let ingest = Arc::new(
        Ingest::new(chain.clone(), NETWORK, registry, db.open().await, limits)
            .await
            .unwrap(),
    );
    let app = router(
        Arc::new(AppState {
            ingest,
            store: db.open().await,
            network: NETWORK,
            bundles: None,
            entropy: Some(source.clone()),
            challenges: None,
            storage_seeds: None,
            map: None,
        }),
        64 * 1024,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/entropy", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();
    // Before the first issue: not yet, say so.
    assert_eq!(http.get(&url).send().await.unwrap().status(), 503);

    let issuer = tokio::spawn(issue_loop(
        chain.clone(),
        source.clone(),
        ENTROPY_INTERVAL_MS,
    ));
    let mut served = None;
    for _ in 0..50 {
        let response = http.get(&url).send().await.unwrap();
        if response.status().is_success() {
            served = Some(response.json::<Entropy>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    issuer.abort();
    let entropy = served.expect("entropy served once issued");
    assert!(entropy.verify(&Key(NETWORK.to_bytes())));
    assert_eq!(entropy.oracle, Key(oracle.verifying_key().to_bytes()));
    assert_eq!(
        entropy.issued_ms % ENTROPY_INTERVAL_MS,
        0,
        "the minute's start"
    );
    assert!(now_ms() - entropy.issued_ms < ENTROPY_INTERVAL_MS + 1_000);
    // The chain's blockhash is in it: another blockhash, another value.
    let again = source.issue(entropy.issued_ms, &[99; 32]).await;
    assert_ne!(again.value, entropy.value);
}
