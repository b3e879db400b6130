//! Providers' announcements at `/v1/providers`: an active device of
//! the storage network is listed with its endpoint and room, a later
//! announcement replaces it and an earlier one never does; every bad
//! announcement is refused with its reason and lists nothing; on SQLite and
//! PostgreSQL alike.

mod common;

use common::{ChainDouble, NETWORK, TestDatabase, key};
use depinkit_oracle::{ingest::Limits, registry::RegisteredDevice, store::now_ms};
use depinkit_reports::{
    Key,
    provider::{Announcement, SignedAnnouncement},
};
use device_registry::state::Category;
use serde_json::Value;
use std::sync::Arc;

fn limits() -> Limits {
    Limits {
        max_batch_reports: 10,
        device_reports_per_minute: 60,
        device_burst: 60,
        grace_secs: 60,
        max_answer_delay_ms: 7_000,
    }
}

/// Device `seed` as the registry has it: its real key, mint `[seed + 100; 32]`.
fn device(seed: u8, active: bool) -> (Key, RegisteredDevice) {
    (
        Key(key(seed).verifying_key().to_bytes()),
        RegisteredDevice {
            mint: anchor_lang::prelude::Pubkey::new_from_array([seed + 100; 32]),
            location: 0,
            active,
        },
    )
}

/// An oracle for a `category` network whose device 1 is active and device 2
/// suspended, on `db`.
async fn serve(category: Category, db: &TestDatabase) -> String {
    let chain = Arc::new(ChainDouble::new(
        category,
        vec![device(1, true), device(2, false)],
        0,
        3600,
    ));
    common::serve(chain, db.open().await, limits()).await
}

fn announcement(seed: u8, endpoint: &str, timestamp_ms: i64) -> Announcement {
    Announcement {
        network: Key(NETWORK.to_bytes()),
        device: Key(key(seed).verifying_key().to_bytes()),
        endpoint: endpoint.into(),
        free_bytes: 10 << 30,
        timestamp_ms,
    }
}

/// Posts `signed`: the status and the body.
async fn post(url: &str, signed: &SignedAnnouncement) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/v1/providers"))
        .json(signed)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn listed(url: &str) -> Vec<Value> {
    let list: Value = reqwest::get(format!("{url}/v1/providers"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["providers"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_active_storage_device_is_listed_and_only_a_later_announcement_replaces_it() {
    for db in common::databases().await {
        let url = serve(Category::Storage, &db).await;
        let now = now_ms();
        let first = announcement(1, "http://10.0.0.7:8790", now - 1_000).sign(&key(1));
        assert_eq!(post(&url, &first).await.0, 200, "{}", db.name);
        let providers = listed(&url).await;
        assert_eq!(providers.len(), 1, "{}", db.name);
        assert_eq!(providers[0]["endpoint"], "http://10.0.0.7:8790");
        assert_eq!(providers[0]["free_bytes"], 10u64 << 30);
        assert_eq!(
            providers[0]["device_mint"],
            anchor_lang::prelude::Pubkey::new_from_array([101; 32]).to_string()
        );
        // What is listed verifies against the device's key.
        let relisted = SignedAnnouncement {
            announcement: Announcement {
                endpoint: providers[0]["endpoint"].as_str().unwrap().into(),
                free_bytes: providers[0]["free_bytes"].as_u64().unwrap(),
                timestamp_ms: providers[0]["announced_ms"].as_i64().unwrap(),
                ..first.announcement.clone()
            },
            signature: providers[0]["signature"].as_str().unwrap().parse().unwrap(),
        };
        assert_eq!(relisted.verify(), Ok(()));

        // The same again, or an earlier one (a replay): kept is kept.
        let (status, body) = post(&url, &first).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (409, Some("older_than_kept"))
        );
        let earlier = announcement(1, "http://10.6.6.6:1", now - 5_000).sign(&key(1));
        assert_eq!(post(&url, &earlier).await.0, 409);
        // A later one replaces it.
        let moved = announcement(1, "https://node.example:8790", now).sign(&key(1));
        assert_eq!(post(&url, &moved).await.0, 200);
        let providers = listed(&url).await;
        assert_eq!(providers.len(), 1);
        assert_eq!(providers[0]["endpoint"], "https://node.example:8790");
    }
}

#[tokio::test]
async fn bad_announcements_are_refused_with_their_reason_and_list_nothing() {
    let db = common::sqlite();
    let url = serve(Category::Storage, &db).await;
    let now = now_ms();
    let mut forged = announcement(1, "http://10.0.0.7:8790", now).sign(&key(1));
    forged.announcement.free_bytes += 1;
    let mut other_network = announcement(1, "http://10.0.0.7:8790", now);
    other_network.network = Key([3; 32]);
    let mut huge = announcement(1, "http://10.0.0.7:8790", now);
    huge.free_bytes = u64::MAX;
    let cases = [
        (forged, 400, "bad_signature"),
        (
            announcement(1, "ftp://10.0.0.7", now).sign(&key(1)),
            400,
            "bad_endpoint",
        ),
        (other_network.sign(&key(1)), 400, "wrong_network"),
        (huge.sign(&key(1)), 400, "invalid_field"),
        (
            announcement(1, "http://a", now - 11 * 60 * 1000).sign(&key(1)),
            400,
            "stale",
        ),
        (
            announcement(1, "http://a", now + 5 * 60 * 1000).sign(&key(1)),
            400,
            "future_timestamp",
        ),
        (
            announcement(9, "http://a", now).sign(&key(9)),
            403,
            "unknown_device",
        ),
        (
            announcement(2, "http://a", now).sign(&key(2)),
            403,
            "suspended_device",
        ),
    ];
    for (signed, status, reason) in cases {
        let (got, body) = post(&url, &signed).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(reason)),
            "{body}"
        );
    }
    assert!(listed(&url).await.is_empty());
    // Not a JSON announcement at all: a 4xx from the extractor.
    let response = reqwest::Client::new()
        .post(format!("{url}/v1/providers"))
        .header("content-type", "application/json")
        .body("{\"announcement\": 1}")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
}

#[tokio::test]
async fn a_mapping_network_takes_no_announcement_and_a_compute_network_lists_its_nodes() {
    let db = common::sqlite();
    let url = serve(Category::Mapping, &db).await;
    let signed = announcement(1, "http://10.0.0.7:8790", now_ms()).sign(&key(1));
    let (status, body) = post(&url, &signed).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("no_providers"))
    );

    // Compute nodes announce where they take jobs.
    let db = common::sqlite();
    let url = serve(Category::Compute, &db).await;
    let (status, body) = post(&url, &signed).await;
    assert_eq!(status, 200, "{body}");
    let list = listed(&url).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["endpoint"], "http://10.0.0.7:8790");
}
