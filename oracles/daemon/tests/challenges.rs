//! Compute challenges served at `GET /v1/challenges/compute`: signed by the
//! oracle for an active device of its compute network, one per device per
//! interval; refused with the reason otherwise. Storage seeds served at
//! `GET /v1/challenges/storage`: the entropy of the running epoch's first
//! minute, or why there is none.

mod common;

use common::{ChainDouble, Extras, NETWORK, key};
use depinkit_oracle::{challenges::ChallengeIssuer, ingest::Limits, registry::RegisteredDevice};
use depinkit_reports::{ComputeChallenge, Key};
use device_registry::state::Category;
use std::{sync::Arc, time::Duration};

/// Ingest's limits in these tests.
fn limits() -> Limits {
    Limits {
        max_batch_reports: 10,
        device_reports_per_minute: 60,
        device_burst: 60,
        grace_secs: 60,
        max_answer_delay_ms: 7_000,
    }
}

async fn serve(category: Category) -> String {
    let device = |seed: u8, active: bool| {
        (
            Key(key(seed).verifying_key().to_bytes()),
            RegisteredDevice {
                mint: anchor_lang::prelude::Pubkey::new_from_array([seed; 32]),
                location: 0,
                active,
            },
        )
    };
    let chain = Arc::new(ChainDouble::new(
        category,
        vec![device(1, true), device(2, false)],
        0,
        3600,
    ));
    let db = common::sqlite();
    let store = db.open().await;
    std::mem::forget(db); // the file outlives the server
    let issuer = ChallengeIssuer::new(
        &NETWORK,
        ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
        16,
        Duration::from_secs(300),
    );
    let extras = Extras {
        challenges: Some(Arc::new(issuer)),
        ..Extras::default()
    };
    common::serve_with(chain, store, limits(), extras).await
}

#[tokio::test]
async fn a_compute_device_gets_one_signed_challenge_per_interval() {
    let url = serve(Category::Compute).await;
    let http = reqwest::Client::new();
    let ask = |device: Key, class: &str| {
        http.get(format!(
            "{url}/v1/challenges/compute?device={device}&gpu_class={class}"
        ))
        .send()
    };
    let device = Key(key(1).verifying_key().to_bytes());
    let response = ask(device, "a100").await.unwrap();
    assert_eq!(response.status(), 200);
    let challenge: ComputeChallenge = response.json().await.unwrap();
    assert!(challenge.verify(&Key(NETWORK.to_bytes())));
    assert_eq!((challenge.device, challenge.size), (device, 16));
    assert_eq!(challenge.gpu_class, "a100");
    assert_eq!(
        challenge.oracle,
        Key(common::oracle().to_bytes()),
        "signed by the oracle's key"
    );

    // Again at once: 429 with the wait.
    let again = ask(device, "a100").await.unwrap();
    assert_eq!(again.status(), 429);
    let wait: u64 = again.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&wait), "{wait}");
    // A suspended device, a stranger, a bad class, a bad key.
    let suspended = Key(key(2).verifying_key().to_bytes());
    assert_eq!(ask(suspended, "a100").await.unwrap().status(), 403);
    assert_eq!(ask(Key([77; 32]), "a100").await.unwrap().status(), 403);
    assert_eq!(ask(device, "").await.unwrap().status(), 400);
    let bad = http
        .get(format!(
            "{url}/v1/challenges/compute?device=nope&gpu_class=a100"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn a_network_of_another_category_issues_no_compute_challenge() {
    let url = serve(Category::Mapping).await;
    let device = Key(key(1).verifying_key().to_bytes());
    let response = reqwest::get(format!(
        "{url}/v1/challenges/compute?device={device}&gpu_class=a100"
    ))
    .await
    .unwrap();
    assert_eq!(response.status(), 404);
}

/// Serves a storage network's seeds: its pool's epoch 0 began
/// `since_start_secs` ago; `issued` are the entropies this oracle issued, ms
/// after the epoch's start.
async fn serve_seeds(category: Category, since_start_secs: i64, issued: &[i64]) -> String {
    use depinkit_oracle::{
        challenges::StorageSeeds, entropy::EntropySource, verifier::storage::StorageRules,
    };
    let now = depinkit_oracle::store::now_ms() / 1000;
    let start = now - since_start_secs;
    let chain = Arc::new(ChainDouble::new(category, Vec::new(), start, 3600));
    let entropy = Arc::new(EntropySource::new(
        &NETWORK,
        ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
    ));
    for after_ms in issued {
        entropy.issue(start * 1000 + after_ms, &[7; 32]).await;
    }
    let seeds = (category == Category::Storage).then(|| {
        Arc::new(StorageSeeds::new(
            chain.clone(),
            NETWORK,
            entropy.clone(),
            StorageRules::default(),
        ))
    });
    let db = common::sqlite();
    let store = db.open().await;
    std::mem::forget(db);
    let extras = Extras {
        entropy: Some(entropy),
        storage_seeds: seeds,
        ..Extras::default()
    };
    common::serve_with(chain, store, limits(), extras).await
}

#[tokio::test]
async fn a_storage_epochs_seed_is_the_entropy_of_its_first_minute() {
    use depinkit_reports::storage::StorageSeed;
    let get = |url: String| async move {
        reqwest::get(format!("{url}/v1/challenges/storage"))
            .await
            .unwrap()
    };
    // Issued before the epoch, in its first minute, and later: the first
    // minute's is the seed.
    let url = serve_seeds(Category::Storage, 600, &[-60_000, 20_000, 80_000]).await;
    let response = get(url).await;
    assert_eq!(response.status(), 200);
    let seed: StorageSeed = response.json().await.unwrap();
    assert_eq!(seed.epoch, 0);
    assert_eq!(seed.seed.issued_ms, seed.epoch_start_ms + 20_000);
    assert_eq!(seed.epoch_end_ms - seed.epoch_start_ms, 3_600_000);
    assert_eq!(seed.challenges_per_deal, 20);
    assert!(seed.seed.verify(&Key(NETWORK.to_bytes())));

    // Nothing issued in the first minute, now past: ask another oracle.
    let response = get(serve_seeds(Category::Storage, 600, &[80_000]).await).await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "no_seed");
    // Still within the first minute: ask again shortly.
    let response = get(serve_seeds(Category::Storage, 10, &[]).await).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    // Before the pool's first epoch, and on a network that stores nothing.
    let response = get(serve_seeds(Category::Storage, -600, &[]).await).await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "no_epoch");
    let response = get(serve_seeds(Category::Compute, 600, &[20_000]).await).await;
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "not_storage");
}
