//! The map a mapping network sells, end to end with the built binaries: a
//! fleet of dashcams (`depin-device run`) maps Paris in epoch 0; the oracle
//! (`depin-oracle`, mapping rules) scores it and keeps the verified cells. A
//! customer buys credits and delegates some (`depin credits`), queries the
//! map by bounding box and by cells (`depin map query`, each request signed
//! by the wallet), as JSON and as GeoJSON, until the escrow runs short (402,
//! the shortfall said). Unsigned, altered and replayed requests are refused
//! and charge nothing. When epoch 1 ends the oracle burns the customer's
//! charges on chain with `burn_usage`; the burned amount is what the
//! queries cost and the receipt root is the one the customer rebuilds from
//! the charges the oracle lists.

use super::{
    oracle_daemon::{free_port, oracle_command, wait_for},
    storage_node::Running,
};
use crate::common::*;
use anchor_lang::AccountDeserialize;
use depinkit_reports::{
    Hash32, Key,
    request::RequestAuth,
    usage::{Charge, receipt_root},
};
use serde_json::Value;
use service_payments::state::{UsageEscrow, UsageReport};
use solana_sdk::{pubkey::Pubkey, signature::Signer};
use std::process::{Command, Stdio};

/// Credits per cell returned.
const PRICE: u64 = 10;
/// Seconds per epoch.
const EPOCH_SECS: i64 = 600;

fn depin_device(args: &[&str]) {
    let output = Command::new(sibling_binary("depin-device"))
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}

/// A GET of `url` (path and query) at `base`, signed by `wallet` when given
/// (`auth` to reuse one): status and body.
fn get(base: &str, path_query: &str, headers: &[(&'static str, String)]) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut request = reqwest::Client::new().get(format!("{base}{path_query}"));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn a_customer_buys_the_verified_map_with_credits_burned_after_the_epoch() {
    let f = Fixture::start("map");
    let network: Pubkey = f.network_of("mapping")["network"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (maker, _) = f.maker();
    let fleet_dir = f.dir.join("fleet");
    depin_device(&[
        "keygen",
        "--count",
        "4",
        "--dir",
        fleet_dir.to_str().unwrap(),
        "--lat",
        "48.8566",
        "--lon",
        "2.3522",
    ]);
    let fleet = fleet_dir.join("fleet.csv");
    f.env.json(&[
        "device",
        "onboard",
        "--network",
        "cli-net",
        "--issuing-key",
        maker.to_str().unwrap(),
        "--csv",
        fleet.to_str().unwrap(),
    ]);
    f.mint_to_payer(50_000_000);
    f.payments();
    // The customer (the payer's wallet) buys 100,000 credits and delegates
    // 500 to the network's usage escrow.
    f.env
        .json(&["credits", "buy", "--network", "cli-net", "--amount", "1"]);
    f.env.json(&[
        "credits",
        "delegate",
        "--network",
        "cli-net",
        "--amount",
        "500",
    ]);
    let start = chain_time(&f.rpc);
    pool(&f, EPOCH_SECS as u32, Some(start));

    let bind = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{bind}");
    let _oracle = Running(
        oracle_command(&f, &network, &bind, &["run"])
            .env("DEPIN_ORACLE__RULES__SET", "category")
            .env("DEPIN_ORACLE__MAP__CREDITS_PER_CELL", PRICE.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(&format!("{url}/health"), "the oracle", |h| {
        h["devices"] == 4
    });
    // The dashcams drive and report in epoch 0.
    depin_device(&[
        "run",
        "--oracle",
        &url,
        "--network",
        &network.to_string(),
        "--fleet",
        fleet.to_str().unwrap(),
        "--category",
        "mapping",
        "--rounds",
        "1",
    ]);
    // Epoch 0 ends (the chain's clock moves on); the oracle scores it and
    // keeps the cells it verified.
    f.time_travel(EPOCH_SECS + 2);
    wait_for(&format!("{url}/v1/epochs/0"), "epoch 0 scored", |e| {
        e["rewards_paid"].as_u64().is_some_and(|paid| paid > 0)
    });

    // A box around the fleet: every verified cell, each with its latest
    // verification, devices, value and frames; charged per cell.
    let bbox = "2.30,48.82,2.40,48.89";
    let first = f
        .env
        .json(&["map", "query", "--oracle", &url, "--bbox", bbox]);
    let cells = first["cells"].as_array().unwrap();
    assert!(!cells.is_empty(), "{first}");
    for cell in cells {
        assert!(cell["devices"].as_u64().unwrap() >= 1, "{cell}");
        assert!(cell["value"].as_u64().unwrap() >= 100, "{cell}");
        assert!(!cell["frames"].as_array().unwrap().is_empty(), "{cell}");
        assert!(cell["verified_ms"].as_i64().unwrap() > 0, "{cell}");
    }
    let n = cells.len() as u64;
    assert_eq!(first["charged"]["credits"], n * PRICE);
    assert_eq!(first["charged"]["epoch"], 1, "charged in the running epoch");
    // By cells: two of them, as GeoJSON.
    let two = format!(
        "{},{}",
        cells[0]["cell"].as_str().unwrap(),
        cells[cells.len() - 1]["cell"].as_str().unwrap()
    );
    let geojson = f.dir.join("map.geojson");
    f.env.ok(
        &f.env.payer,
        &[
            "map",
            "query",
            "--oracle",
            &url,
            "--cells",
            &two,
            "--geojson",
            geojson.to_str().unwrap(),
        ],
    );
    let features: Value = serde_json::from_slice(&std::fs::read(&geojson).unwrap()).unwrap();
    assert_eq!(features["type"], "FeatureCollection");
    let wanted = if n == 1 { 1 } else { 2 };
    assert_eq!(features["features"].as_array().unwrap().len(), wanted);
    for feature in features["features"].as_array().unwrap() {
        let ring = feature["geometry"]["coordinates"][0].as_array().unwrap();
        assert_eq!(ring.len(), 7, "a closed hexagon: {feature}");
        assert_eq!(ring[0], ring[6]);
    }
    let mut spent = (n + wanted as u64) * PRICE;

    // Refusals charge nothing: unsigned, altered, replayed, stale.
    let path = "/v1/map/cells";
    let query = format!("bbox={bbox}");
    let wallet =
        ed25519_dalek::SigningKey::from_bytes(f.payer.to_bytes()[..32].try_into().unwrap());
    let (status, body) = get(&url, &format!("{path}?{query}"), &[]);
    assert_eq!((status, body["error"].as_str()), (401, Some("unsigned")));
    let auth = RequestAuth::sign(&wallet, "GET", path, &query, now_ms(), [7; 16]);
    let (status, body) = get(
        &url,
        &format!("{path}?bbox=2.0,48.0,3.0,49.0"),
        &auth.headers(),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("bad_signature"))
    );
    let (status, _) = get(&url, &format!("{path}?{query}"), &auth.headers());
    assert_eq!(status, 200);
    spent += n * PRICE;
    let (status, body) = get(&url, &format!("{path}?{query}"), &auth.headers());
    assert_eq!((status, body["error"].as_str()), (409, Some("replayed")));
    let stale = RequestAuth::sign(&wallet, "GET", path, &query, now_ms() - 3_600_000, [8; 16]);
    let (status, body) = get(&url, &format!("{path}?{query}"), &stale.headers());
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("stale_request"))
    );
    let (status, body) = get(
        &url,
        &format!("{path}?bbox=oops"),
        &RequestAuth::sign(&wallet, "GET", path, "bbox=oops", now_ms(), [9; 16]).headers(),
    );
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_bbox")));

    // Until the escrow runs short: a 402 with the shortfall, nothing charged.
    loop {
        if 500 - spent < n * PRICE {
            f.env.fails(
                &f.env.payer,
                &["map", "query", "--oracle", &url, "--bbox", bbox],
                2,
                "insufficient_credits",
            );
            let auth = RequestAuth::sign(&wallet, "GET", path, &query, now_ms(), [10; 16]);
            let (status, body) = get(&url, &format!("{path}?{query}"), &auth.headers());
            assert_eq!(status, 402);
            assert_eq!(body["shortfall"], n * PRICE - (500 - spent), "{body}");
            break;
        }
        f.env
            .json(&["map", "query", "--oracle", &url, "--bbox", bbox]);
        spent += n * PRICE;
    }

    // Epoch 1 ends: the oracle burns the customer's charges before voting
    // its root; the burn is what the queries cost, and the receipt root is
    // the customer's own rebuild of the charges listed.
    f.time_travel(EPOCH_SECS);
    let customer = Key(f.payer.pubkey().to_bytes());
    let usage = wait_for(
        &format!("{url}/v1/usage/{customer}?epoch=1"),
        "the usage burned",
        |u| !u["burn_signature"].is_null(),
    );
    assert_eq!(usage["credits"], spent, "{usage}");
    let charges: Vec<Charge> = usage["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Charge {
            wallet: customer,
            epoch: 1,
            request: c["request"].as_str().unwrap().parse::<Hash32>().unwrap(),
            units: c["units"].as_u64().unwrap(),
            credits: c["credits"].as_u64().unwrap(),
        })
        .collect();
    assert_eq!(
        receipt_root(&charges).to_string(),
        usage["receipt_root"].as_str().unwrap()
    );
    let escrow_address =
        service_payments::pda::find_usage_escrow_address(&network, &f.payer.pubkey()).0;
    let report_address = service_payments::pda::find_usage_report_address(&escrow_address, 1).0;
    let report =
        UsageReport::try_deserialize(&mut &f.rpc.get_account_data(&report_address).unwrap()[..])
            .unwrap();
    assert!(report.finalized);
    assert_eq!(report.amount, spent);
    assert_eq!(report.receipt_root, receipt_root(&charges).0);
    let escrow =
        UsageEscrow::try_deserialize(&mut &f.rpc.get_account_data(&escrow_address).unwrap()[..])
            .unwrap();
    assert_eq!((escrow.delegated, escrow.burned), (500, spent));
}
