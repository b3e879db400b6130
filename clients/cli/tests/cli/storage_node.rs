//! `depin-device storage-node` (the built binary) beside the oracle on a
//! storage network: it announces itself (the oracle lists it), takes a shard
//! for an order naming its device (the order is accepted on chain by the
//! device's holder), serves it back byte for byte, and refuses with the
//! reason, keeping nothing, a shard that is not the order's, an order that
//! does not exist or names another device, and a shard it has no room for.
//! When the first epoch begins it answers the epoch's challenges from disk,
//! and the oracle's storage rules pay its device for the proven deal; the
//! deal whose shard its disk lost goes unanswered and takes a strike
//! (`GET /v1/deals/{order}`).

use super::oracle_daemon::{free_port, oracle_command, wait_for};
use crate::common::*;
use serde_json::Value;
use solana_sdk::pubkey::Pubkey;
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

/// `depin-device`, built beside `depin` by `cargo test --workspace`.
pub(crate) fn device_binary() -> PathBuf {
    sibling_binary("depin-device")
}

/// Starts `depin-device storage-node` for the device whose keypair file is
/// `keypair` (its NFT held by the fixture's payer) on `port`, its shards
/// under `data`, with `extra` options; stopped when dropped.
pub(crate) fn start_node(
    f: &Fixture,
    keypair: &Path,
    network: &Pubkey,
    oracle_url: &str,
    port: u16,
    data: &Path,
    extra: &[&str],
) -> Running {
    Running(
        Command::new(device_binary())
            .args(["storage-node", "--keypair"])
            .arg(keypair)
            .arg("--holder-keypair")
            .arg(&f.env.payer)
            .args([
                "--network",
                &network.to_string(),
                "--rpc-url",
                &f.env.url,
                "--oracle",
                oracle_url,
                "--bind",
                &format!("127.0.0.1:{port}"),
            ])
            .arg("--data")
            .arg(data)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Starts the built oracle on `bind` for a storage network with short
/// epochs: the storage rules, and entropy every 2 s (an epoch's seed is the
/// entropy of its first 2 s); stopped when dropped.
pub(crate) fn start_storage_oracle(f: &Fixture, network: &Pubkey, bind: &str) -> Running {
    Running(
        oracle_command(f, network, bind, &["run"])
            .env("DEPIN_ORACLE__RULES__SET", "category")
            .env("DEPIN_ORACLE__CHALLENGES__ENTROPY_INTERVAL_SECS", "2")
            .env("DEPIN_ORACLE__RULES__STORAGE__SEED_WINDOW_MS", "2000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Kills the child when dropped.
pub(crate) struct Running(pub(crate) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `depin-device deal-spec` of `bytes` (written to `path`): its JSON.
fn deal_spec(path: &Path, bytes: &[u8], leaf_size: u32) -> Value {
    std::fs::write(path, bytes).unwrap();
    let output = Command::new(device_binary())
        .args(["deal-spec", "--leaf-size", &leaf_size.to_string(), "--file"])
        .arg(path)
        .output()
        .unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

/// PUTs `bytes` as the shard of `order` with `leaf_size`: status and body.
fn put(node: &str, order: &str, bytes: &[u8], leaf_size: u32) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .put(format!("{node}/v1/shards/{order}?leaf_size={leaf_size}"))
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

fn get(url: &str) -> (u16, Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::get(url).await.unwrap();
        let status = response.status().as_u16();
        (status, response.bytes().await.unwrap().to_vec())
    })
}

/// Opens order `id` of the payer for `provider` committing to `spec_hash`;
/// the order's address.
fn open_order(f: &Fixture, id: u32, provider: &str, spec_hash: &str) -> String {
    let opened = f.env.json(&[
        "order",
        "open",
        "--network",
        "cli-net",
        "--id",
        &id.to_string(),
        "--amount",
        "1",
        "--provider",
        provider,
        "--spec-hash",
        spec_hash,
    ]);
    opened["order"].as_str().unwrap().to_string()
}

fn order_status(f: &Fixture, id: u32) -> Value {
    f.env.json(&[
        "order",
        "show",
        "--network",
        "cli-net",
        "--id",
        &id.to_string(),
    ])
}

#[test]
fn a_storage_node_takes_the_shard_its_order_names_and_refuses_the_rest() {
    let f = Fixture::start("storage-node");
    let network: Pubkey = f.network_of("storage")["network"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (maker, _) = f.maker();
    let (device, device_path) = f.device(&maker, "node.json");
    let (other, _) = f.device(&maker, "other.json");
    let device_key = device["device_key"].as_str().unwrap().to_string();
    f.mint_to_payer(50_000_000);
    f.payments();
    // The oracle serves a network with a reward pool; its first epoch
    // begins once the deal below is in place (a deal counts from the first
    // epoch that begins after its acceptance).
    pool(&f, 12, Some(chain_time(&f.rpc) + 25));

    let oracle_bind = format!("127.0.0.1:{}", free_port());
    let oracle_url = format!("http://{oracle_bind}");
    let _oracle = start_storage_oracle(&f, &network, &oracle_bind);
    wait_for(&format!("{oracle_url}/health"), "the oracle", |h| {
        h["devices"] == 2
    });

    let node_port = free_port();
    let node_url = format!("http://127.0.0.1:{node_port}");
    let _node = start_node(
        &f,
        &device_path,
        &network,
        &oracle_url,
        node_port,
        &f.dir.join("node-data"),
        &["--capacity", "20000", "--seed-secs", "1"],
    );
    let health = wait_for(&format!("{node_url}/health"), "the node", |h| {
        h["free_bytes"] == 20_000
    });
    assert_eq!(health["device"], device_key.as_str());
    // It announced itself: the oracle lists it.
    let listed = wait_for(&format!("{oracle_url}/v1/providers"), "the listing", |l| {
        l["providers"].as_array().is_some_and(|p| !p.is_empty())
    });
    assert_eq!(listed["providers"][0]["device"], device_key.as_str());
    assert_eq!(listed["providers"][0]["endpoint"], node_url.as_str());
    assert_eq!(listed["providers"][0]["free_bytes"], 20_000);

    // The shard its order names: kept, the order accepted by the device.
    let shard: Vec<u8> = (0..12_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let spec = deal_spec(&f.dir.join("shard.bin"), &shard, 256);
    let spec_hash = spec["spec_hash"].as_str().unwrap();
    let order = open_order(&f, 1, &device_key, spec_hash);
    assert_eq!(order_status(&f, 1)["status"], "open");
    let (status, body) = put(&node_url, &order, &shard, 256);
    assert_eq!(status, 201, "{body}");
    let shown = order_status(&f, 1);
    assert_eq!(shown["status"], "accepted", "{shown}");
    assert_eq!(
        get(&format!("{node_url}/v1/shards/{order}")),
        (200, shard.clone())
    );
    // The same upload again: already kept.
    assert_eq!(put(&node_url, &order, &shard, 256).0, 200);
    // A second deal, whose shard the node's disk then loses.
    let lost: Vec<u8> = vec![9; 3_000];
    let lost_spec = deal_spec(&f.dir.join("lost.bin"), &lost, 256);
    let lost_order = open_order(&f, 5, &device_key, lost_spec["spec_hash"].as_str().unwrap());
    assert_eq!(put(&node_url, &lost_order, &lost, 256).0, 201);
    std::fs::remove_file(
        f.dir
            .join("node-data")
            .join("shards")
            .join(format!("{lost_order}.shard")),
    )
    .unwrap();

    // Not the order's bytes: refused, the order left open.
    let small: Vec<u8> = vec![7; 3_000];
    let small_spec = deal_spec(&f.dir.join("small.bin"), &small, 256);
    let small_hash = small_spec["spec_hash"].as_str().unwrap();
    let mut changed = small.clone();
    changed[100] ^= 1;
    let order2 = open_order(&f, 2, &device_key, small_hash);
    let (status, body) = put(&node_url, &order2, &changed, 256);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("spec_mismatch")),
        "{body}"
    );
    assert_eq!(order_status(&f, 2)["status"], "open");
    assert_eq!(get(&format!("{node_url}/v1/shards/{order2}")).0, 404);
    // No order at that address.
    let nowhere = Pubkey::new_unique().to_string();
    let (status, body) = put(&node_url, &nowhere, &small, 256);
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_order"))
    );
    // An order naming the other device.
    let theirs = open_order(&f, 3, other["device_key"].as_str().unwrap(), small_hash);
    let (status, body) = put(&node_url, &theirs, &small, 256);
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("not_for_this_device")),
        "{body}"
    );
    assert_eq!(order_status(&f, 3)["status"], "open");
    // No room for another 12,000 bytes (5,000 left).
    let more: Vec<u8> = (0..12_000u32).map(|i| (i % 7) as u8).collect();
    let more_spec = deal_spec(&f.dir.join("more.bin"), &more, 256);
    let order4 = open_order(&f, 4, &device_key, more_spec["spec_hash"].as_str().unwrap());
    let (status, body) = put(&node_url, &order4, &more, 256);
    assert_eq!(
        (status, body["error"].as_str()),
        (507, Some("no_room")),
        "{body}"
    );
    assert_eq!(order_status(&f, 4)["status"], "open");
    let health = wait_for(&format!("{node_url}/health"), "the node", |_| true);
    assert_eq!(
        (health["shards"].as_u64(), health["free_bytes"].as_u64()),
        (Some(2), Some(5_000))
    );

    // The epoch runs: the node answers its challenges from disk, and the
    // proven deal earns the epoch's emission.
    let epoch = wait_for(
        &format!("{oracle_url}/v1/epochs/0"),
        "epoch 0 scored",
        |e| e["rewards_paid"].as_u64().is_some_and(|paid| paid > 0),
    );
    assert_eq!(epoch["rewards_paid"], 1_000_000, "{epoch}");
    let mint = device["mint"].as_str().unwrap();
    let reports = wait_for(
        &format!("{oracle_url}/v1/devices/{mint}/reports?epoch=0"),
        "the node's answers",
        |r| r["reports"].as_array().is_some_and(|a| !a.is_empty()),
    );
    let answers = reports["reports"].as_array().unwrap();
    assert_eq!(answers.len(), 20, "k = 20 challenges of the one deal");
    assert!(answers.iter().all(|a| a["rule"].is_null()), "{reports}");
    // The deal whose shard is gone went unanswered: a strike, not yet a fault.
    let deal = |order: &str| {
        wait_for(&format!("{oracle_url}/v1/deals/{order}"), "a deal", |_| {
            true
        })
    };
    let lost_deal = deal(&lost_order);
    assert_eq!(
        (
            lost_deal["strikes"].as_i64(),
            lost_deal["faulted"].as_bool()
        ),
        (Some(1), Some(false)),
        "{lost_deal}"
    );
    assert_eq!(deal(&order)["strikes"], 0);
    assert_eq!(deal(&order)["max_strikes"], 3);
}
