//! `depin-device` as an operator runs it: keys for a fleet, a deal's spec,
//! and a clear one-line refusal (exit 2) for what cannot run.

use depinkit_device::storage::StoredDeal;
use std::process::{Command, Output};

fn depin_device(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_depin-device"))
        .args(args)
        .output()
        .expect("run depin-device")
}

fn refused(output: &Output, says: &str) {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(says), "{stderr}");
}

#[test]
fn keygen_writes_a_fleet_and_never_overwrites_it() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet");
    let fleet = fleet.to_str().unwrap();
    let args = [
        "keygen", "--count", "4", "--dir", fleet, "--lat", "48.85", "--lon", "2.35",
    ];
    assert!(depin_device(&args).status.success());
    let csv = std::fs::read_to_string(dir.path().join("fleet/fleet.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    refused(&depin_device(&args), "never overwritten");
}

#[test]
fn deal_spec_prints_what_the_order_commits_to() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.bin");
    let bytes: Vec<u8> = (0..3_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&file, &bytes).unwrap();
    let output = depin_device(&[
        "deal-spec",
        "--file",
        file.to_str().unwrap(),
        "--leaf-size",
        "256",
    ]);
    assert!(output.status.success(), "{output:?}");
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let spec = StoredDeal::new(bytes, 256).unwrap().spec();
    assert_eq!(printed["root"], spec.root.to_string());
    assert_eq!(printed["size"], 3_000);
    assert_eq!(printed["leaf_size"], 256);
    assert_eq!(printed["spec_hash"], spec.hash().to_string());
    refused(
        &depin_device(&[
            "deal-spec",
            "--file",
            file.to_str().unwrap(),
            "--leaf-size",
            "100",
        ]),
        "power of two",
    );
}

#[test]
fn a_storage_fleet_needs_deals_that_read() {
    let dir = tempfile::tempdir().unwrap();
    let fleet_dir = dir.path().join("fleet");
    assert!(
        depin_device(&[
            "keygen",
            "--count",
            "2",
            "--dir",
            fleet_dir.to_str().unwrap(),
            "--lat",
            "0",
            "--lon",
            "0",
        ])
        .status
        .success()
    );
    let fleet = fleet_dir.join("fleet.csv");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--oracle",
            "http://127.0.0.1:9",
            "--network",
            "11111111111111111111111111111111",
            "--fleet",
            fleet.to_str().unwrap(),
            "--category",
            "storage",
        ];
        args.extend_from_slice(extra);
        depin_device(&args)
    };
    refused(&run(&[]), "a storage fleet needs --deals");
    let deals = dir.path().join("deals.csv");
    std::fs::write(&deals, "order,file\n").unwrap();
    refused(
        &run(&["--deals", deals.to_str().unwrap()]),
        "the header must be device,order,file,leaf_size",
    );
    std::fs::write(
        &deals,
        "device,order,file,leaf_size\n0,11111111111111111111111111111111,/nonexistent,256\n",
    )
    .unwrap();
    refused(
        &run(&["--deals", deals.to_str().unwrap()]),
        "cannot read /nonexistent",
    );
}
