//! `depin demo`, the README's first command, at the size CI runs it: every
//! network's epoch finalizes, the cheaters are refused by the rule they
//! break, every claim reaches its owner, the storage deals' proven epoch is
//! paid out of the customer's escrows, the map customer buys the verified
//! map, the GPU customer's checked jobs are settled and the wrong one is
//! not, and `--output json` is the summary
//! alone on stdout.

use serde_json::Value;
use std::process::Command;

#[test]
fn the_demo_runs_every_network_to_its_claims_and_accounts_for_every_token() {
    let output = Command::new(env!("CARGO_BIN_EXE_depin"))
        .args([
            "demo",
            "--devices",
            "20",
            "--epochs",
            "1",
            "--output",
            "json",
        ])
        .env("RUST_LOG", "error")
        .output()
        .expect("run depin demo");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is one JSON object ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    assert_eq!(summary["accounting_ok"], true, "{summary}");
    let networks = summary["networks"].as_array().unwrap();
    let categories: Vec<&str> = networks
        .iter()
        .map(|n| n["category"].as_str().unwrap())
        .collect();
    assert_eq!(categories, ["wireless", "mapping", "storage", "compute"]);
    let devices: u64 = networks
        .iter()
        .map(|n| n["devices"].as_u64().unwrap())
        .sum();
    assert_eq!(devices, 20);
    for network in networks {
        let category = network["category"].as_str().unwrap();
        assert!(
            network["reports_accepted"].as_u64().unwrap() > 0,
            "{category}: {network}"
        );
        assert!(
            network["rewards_paid"].as_u64().unwrap() > 0,
            "{category}: {network}"
        );
        if category == "storage" {
            // The honest deals of the epoch are settled: the providers, the
            // treasury and the pool paid out of the customer's escrows.
            let deals = &network["storage_deals"];
            for part in ["paid_to_providers", "fees", "to_pool"] {
                assert!(deals[part].as_u64().unwrap() > 0, "{part}: {deals}");
            }
            assert_eq!(network["service_revenue"], deals["to_pool"], "{network}");
            assert!(
                deals["still_escrowed"].as_u64().unwrap() < deals["escrowed"].as_u64().unwrap(),
                "{deals}"
            );
        } else if category == "compute" {
            // The GPU customer's jobs: three results checked and their
            // receipts co-signed, the orders settled (the providers, the
            // treasury and the pool paid); the wrong result refused, its
            // escrow (two tokens) held.
            let jobs = &network["gpu_jobs"];
            assert_eq!(
                (&jobs["checked_and_signed"], &jobs["wrong_results_refused"]),
                (&Value::from(3), &Value::from(1)),
                "{jobs}"
            );
            assert_eq!(jobs["orders_closed"], 3, "{jobs}");
            for part in ["paid_to_providers", "fees", "to_pool"] {
                assert!(jobs[part].as_u64().unwrap() > 0, "{part}: {jobs}");
            }
            assert_eq!(jobs["still_escrowed"], 2_000_000, "{jobs}");
            assert_eq!(network["service_revenue"], jobs["to_pool"], "{network}");
        } else {
            assert_eq!(network["service_revenue"], 0);
        }
        if category == "wireless" {
            // A hotspot carried 48,000 bytes for the wireless customer: 2,000
            // credits, burned on chain before the epoch's root was voted.
            let data = &network["data_transfer"];
            assert_eq!(
                (&data["sessions"], &data["credits"], &data["credits_burned"]),
                (&Value::from(1), &Value::from(2_000), &Value::from(2_000)),
                "{data}"
            );
        }
        if category == "mapping" {
            // The map customer bought the verified cells around the fleet,
            // a credit each, charged in the epoch after the one mapped.
            let map = &network["map_sales"];
            let cells = map["cells"].as_u64().unwrap();
            assert!(cells > 0, "{map}");
            assert_eq!(map["credits_charged"], cells, "{map}");
            assert_eq!(map["epoch"], 1, "{map}");
        }
        // The fleet's cheaters, refused by the rule each breaks.
        let refused = &network["reports_rejected"];
        let expected: &[&str] = match category {
            "wireless" => &["rssi_too_strong"],
            "mapping" => &["speed_above_limit"],
            "storage" => &["path_mismatch", "deal_not_proven"],
            _ => &["wrong_product"],
        };
        for rule in expected {
            assert!(
                refused[*rule].as_u64().unwrap_or(0) > 0,
                "{category}: {rule} in {refused}"
            );
        }
    }
}
