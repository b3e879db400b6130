//! `depin storage put|get` against six storage nodes (the built
//! `depin-device storage-node`, each a process of its own) on a storage
//! network: a 10 MiB file is sealed into 4 + 2 shards, each placed with its
//! own provider through its own order (accepted on chain by the node), and
//! got back byte for byte; with two nodes stopped still; not when one of
//! the four left serves a damaged shard (set aside against its root), nor
//! with three stopped (one line says how many shards were good and reached);
//! and only the wallet that put it opens the manifest.

use super::{
    oracle_daemon::{free_port, oracle_command, wait_for},
    storage_node::{Running, start_node},
};
use crate::common::*;
use anchor_lang::AccountDeserialize;
use serde_json::Value;
use service_payments::state::{Order, OrderStatus};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, write_keypair_file},
};
use std::process::Stdio;

/// A storage network with six onboarded devices, each with its node running
/// (their NFTs held by the payer), and its oracle listing them.
struct SixNodes {
    f: Fixture,
    devices: Vec<(Value, std::path::PathBuf)>,
    oracle_url: String,
    nodes: Vec<Option<Running>>,
    _oracle: Running,
}

fn six_nodes(name: &str) -> SixNodes {
    let f = Fixture::start(name);
    let network: Pubkey = f.network_of("storage")["network"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (maker, _) = f.maker();
    let devices: Vec<_> = (0..6)
        .map(|i| f.device(&maker, &format!("node-{i}.json")))
        .collect();
    f.mint_to_payer(50_000_000);
    f.payments();
    pool(&f, 60, None);
    let oracle_bind = format!("127.0.0.1:{}", free_port());
    let oracle_url = format!("http://{oracle_bind}");
    let oracle = Running(
        oracle_command(&f, &network, &oracle_bind, &["run"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(&format!("{oracle_url}/health"), "the oracle", |h| {
        h["devices"] == 6
    });
    let nodes: Vec<Option<Running>> = devices
        .iter()
        .enumerate()
        .map(|(i, (_, keypair))| {
            Some(start_node(
                &f,
                keypair,
                &network,
                &oracle_url,
                free_port(),
                &f.dir.join(format!("node-data-{i}")),
                &[],
            ))
        })
        .collect();
    wait_for(
        &format!("{oracle_url}/v1/providers"),
        "six providers",
        |l| l["providers"].as_array().is_some_and(|p| p.len() == 6),
    );
    SixNodes {
        f,
        devices,
        oracle_url,
        nodes,
        _oracle: oracle,
    }
}

#[test]
fn a_file_put_across_six_nodes_comes_back_from_any_four() {
    let SixNodes {
        f,
        devices,
        oracle_url,
        mut nodes,
        _oracle,
    } = six_nodes("storage-put");
    let file: Vec<u8> = (0..10u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let path = f.dir.join("photos.tar");
    std::fs::write(&path, &file).unwrap();
    let put = f.env.json(&[
        "storage",
        "put",
        path.to_str().unwrap(),
        "--network",
        "cli-net",
        "--oracle",
        &oracle_url,
    ]);
    let manifest = put["manifest"].as_str().unwrap().to_string();
    let shards = put["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 6);
    let mut endpoints: Vec<&str> = shards
        .iter()
        .map(|s| s["endpoint"].as_str().unwrap())
        .collect();
    endpoints.sort();
    endpoints.dedup();
    assert_eq!(endpoints.len(), 6, "one provider per shard");
    // The default price, 2 tokens per GiB and 30 days, for 30 days: a shard
    // holds a quarter of the nonce, the 10 MiB and the tag (rounded to even).
    let shard_bytes = ((24u64 + (10 << 20) + 16).div_ceil(4)).next_multiple_of(2);
    let escrow = (2_000_000 * shard_bytes).div_ceil(1 << 30);
    assert_eq!(put["escrow_per_shard"], escrow);
    for shard in shards {
        let order: Pubkey = shard["order"].as_str().unwrap().parse().unwrap();
        let data = f.rpc.get_account_data(&order).unwrap();
        let order = Order::try_deserialize(&mut &data[..]).unwrap();
        assert_eq!(order.status, OrderStatus::Accepted, "{shard}");
        assert_eq!(order.max_amount, escrow, "{shard}");
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&manifest).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the manifest is its owner's alone");

    let get = |out: &str| -> Value {
        f.env.json(&[
            "storage",
            "get",
            &manifest,
            "--out",
            f.dir.join(out).to_str().unwrap(),
        ])
    };
    let got = get("back.tar");
    assert_eq!(got["shards_reached"], 6);
    assert!(std::fs::read(f.dir.join("back.tar")).unwrap() == file);
    let status = || {
        f.env
            .json(&["storage", "status", &manifest, "--oracle", &oracle_url])
    };
    let standing = status();
    assert_eq!(standing["healthy_shards"], 6, "{standing}");
    for shard in standing["shards"].as_array().unwrap() {
        assert_eq!(
            (
                shard["node_up"].as_bool(),
                shard["order_status"].as_str(),
                shard["escrow_left"].as_u64(),
                shard["strikes"].as_i64(),
                shard["faulted"].as_bool()
            ),
            (
                Some(true),
                Some("accepted"),
                Some(escrow),
                Some(0),
                Some(false)
            ),
            "{shard}"
        );
    }

    // Two nodes stop: any four shards still give the file back.
    let index_of = |endpoint: &str| {
        devices
            .iter()
            .position(|(d, _)| {
                put["shards"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["endpoint"] == endpoint && s["provider"] == d["device_key"])
            })
            .unwrap()
    };
    for shard in &shards[..2] {
        nodes[index_of(shard["endpoint"].as_str().unwrap())] = None;
    }
    let got = get("back-2.tar");
    assert_eq!(got["shards_reached"], 4);
    let standing = status();
    assert_eq!(standing["healthy_shards"], 4, "{standing}");
    let down: Vec<u64> = standing["shards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["node_up"] == false)
        .map(|s| s["index"].as_u64().unwrap())
        .collect();
    assert_eq!(down, [0, 1], "the stopped nodes' shards");
    assert!(std::fs::read(f.dir.join("back-2.tar")).unwrap() == file);

    // One of the four left serves a damaged shard (a byte of its file
    // flipped on disk): set aside against its root, three good shards are
    // not enough, and the command says so.
    let damaged = index_of(shards[2]["endpoint"].as_str().unwrap());
    let shard_file = f
        .dir
        .join(format!("node-data-{damaged}"))
        .join("shards")
        .join(format!("{}.shard", shards[2]["order"].as_str().unwrap()));
    let mut bytes = std::fs::read(&shard_file).unwrap();
    bytes[1_000] ^= 0x40;
    std::fs::write(&shard_file, &bytes).unwrap();
    f.env.fails(
        &f.env.payer,
        &[
            "storage",
            "get",
            &manifest,
            "--out",
            f.dir.join("back-damaged.tar").to_str().unwrap(),
        ],
        4,
        "3 good shards of the 4 needed (4 of 6 shards reached)",
    );
    // That node stops too: three shards reached.
    nodes[damaged] = None;
    f.env.fails(
        &f.env.payer,
        &[
            "storage",
            "get",
            &manifest,
            "--out",
            f.dir.join("back-3.tar").to_str().unwrap(),
        ],
        4,
        "3 good shards of the 4 needed",
    );
    // Another wallet cannot open the manifest.
    let stranger = f.dir.join("stranger.json");
    write_keypair_file(&Keypair::new(), &stranger).unwrap();
    f.env.fails(
        &stranger,
        &[
            "storage",
            "get",
            &manifest,
            "--out",
            f.dir.join("theirs.tar").to_str().unwrap(),
        ],
        2,
        "does not open this manifest",
    );
    drop(nodes);
}

/// Put and get throughput with the transfer to six local nodes, for the
/// README (`DEPIN_STORAGE_BENCH_MIB`, default 256):
/// `cargo test -p depinkit-cli --test cli storage::throughput -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement: run it alone"]
fn throughput() {
    let mib: u32 = std::env::var("DEPIN_STORAGE_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let SixNodes {
        f,
        oracle_url,
        nodes,
        _oracle,
        ..
    } = six_nodes("storage-bench");
    let file: Vec<u8> = (0..mib << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let path = f.dir.join("bench.bin");
    std::fs::write(&path, &file).unwrap();
    drop(file);
    let began = std::time::Instant::now();
    let put = f.env.json(&[
        "storage",
        "put",
        path.to_str().unwrap(),
        "--network",
        "cli-net",
        "--oracle",
        &oracle_url,
    ]);
    let put_secs = began.elapsed().as_secs_f64();
    let manifest = put["manifest"].as_str().unwrap().to_string();
    let began = std::time::Instant::now();
    let got = f.env.json(&[
        "storage",
        "get",
        &manifest,
        "--out",
        f.dir.join("bench-back.bin").to_str().unwrap(),
    ]);
    let get_secs = began.elapsed().as_secs_f64();
    println!(
        "put throughput: {:.1} MiB/s ({mib} MiB in {put_secs:.2} s; {})",
        f64::from(mib) / put_secs,
        put["seconds"]
    );
    println!(
        "get throughput: {:.1} MiB/s ({mib} MiB in {get_secs:.2} s; {})",
        f64::from(mib) / get_secs,
        got["seconds"]
    );
    drop(nodes);
}
