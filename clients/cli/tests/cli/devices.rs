//! Devices: keys, onboarding one or a CSV of many, moves, listings.

use crate::common::*;
use serde_json::Value;
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer, read_keypair_file, write_keypair_file},
};

#[test]
fn devices_onboard_move_show_list() {
    let f = Fixture::start("devices");
    f.network();
    let (maker_path, maker_key) = f.maker();
    // Onboarding signed locally from a keypair file.
    let device_path = f.dir.join("device.json");
    let keygen = f.env.json(&[
        "device",
        "keygen",
        "--outfile",
        device_path.to_str().unwrap(),
    ]);
    snapshot("device_keygen", &keygen);
    let onboarded = f.env.json(&[
        "device",
        "onboard",
        "--network",
        "cli-net",
        "--issuing-key",
        maker_path.to_str().unwrap(),
        "--device-keypair",
        device_path.to_str().unwrap(),
        "--lat",
        "37.7749",
        "--lon",
        "-122.4194",
    ]);
    snapshot("device_onboard", &onboarded);
    let device_key = onboarded["device_key"].as_str().unwrap().to_string();
    let device = f
        .env
        .json(&["device", "show", "--network", "cli-net", &device_key]);
    snapshot("device_show", &device);
    assert_eq!(device["holder"], f.payer.pubkey().to_string().as_str());
    assert_eq!(device["status"], "active");

    // Onboarding with a signature made "on the device".
    let remote = Keypair::new();
    let message = f.env.json(&[
        "device",
        "onboard-message",
        "--network",
        "cli-net",
        "--device",
        &remote.pubkey().to_string(),
        "--issuing-key",
        &maker_key,
        "--cell",
        "8c283082a6d5dff",
    ]);
    snapshot("device_onboard_message", &message);
    let hex = message["message_hex"].as_str().unwrap();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let signature = remote.sign_message(&bytes).to_string();
    let expires_at = message["expires_at"].to_string();
    f.env.json(&[
        "device",
        "onboard",
        "--network",
        "cli-net",
        "--issuing-key",
        maker_path.to_str().unwrap(),
        "--device",
        &remote.pubkey().to_string(),
        "--device-signature",
        &signature,
        "--expires-at",
        &expires_at,
        "--cell",
        "8c283082a6d5dff",
    ]);
    let mine = f.env.json(&[
        "device",
        "list",
        "--network",
        "cli-net",
        "--owner",
        &f.payer.pubkey().to_string(),
    ]);
    snapshot("device_list", &mine);
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let none = f.env.json(&[
        "device",
        "list",
        "--network",
        "cli-net",
        "--owner",
        &Pubkey::new_unique().to_string(),
    ]);
    assert_eq!(none.as_array().unwrap().len(), 0);

    // Moving a device.
    let moved = f.env.json(&[
        "device",
        "assert-location",
        "--network",
        "cli-net",
        "--device-keypair",
        device_path.to_str().unwrap(),
        "--cell",
        "8c1fb46625551ff",
    ]);
    assert_eq!(moved["location"], "8c1fb46625551ff");
    let device = f
        .env
        .json(&["device", "show", "--network", "cli-net", &device_key]);
    assert_eq!(device["location"], "8c1fb46625551ff");
    assert_eq!(device["location_assert_count"], 1);
}

#[test]
fn keygen_never_overwrites_a_key_file() {
    let f = Fixture::start("keygen");
    let path = f.dir.join("device.json");
    let first = f
        .env
        .json(&["device", "keygen", "--outfile", path.to_str().unwrap()]);
    let before = std::fs::read(&path).unwrap();
    f.env.fails(
        &f.env.payer,
        &["device", "keygen", "--outfile", path.to_str().unwrap()],
        2,
        "exists",
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let key = read_keypair_file(&path).unwrap().pubkey().to_string();
    assert_eq!(first["device_key"], key.as_str());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a key file is readable by its owner only");
}

#[test]
fn onboarding_checks_before_sending() {
    let f = Fixture::start("onboard-checks");
    f.network();
    let (maker_path, _) = f.maker();
    let device = f.dir.join("device.json");
    write_keypair_file(&Keypair::new(), &device).unwrap();
    let onboard = |extra: &[&str]| {
        let mut args = vec![
            "device",
            "onboard",
            "--network",
            "cli-net",
            "--issuing-key",
            maker_path.to_str().unwrap(),
            "--device-keypair",
            device.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        f.env.depin(&f.env.payer, &args)
    };
    for (lat, lon, error) in [
        (
            "137.77",
            "-122.41",
            "latitude 137.77 is not within -90 to 90",
        ),
        (
            "37.77",
            "-222.41",
            "longitude -222.41 is not within -180 to 180",
        ),
        ("-122.41", "37.77", "swapped?"),
        ("north", "1", "--lat"),
    ] {
        let out = onboard(&["--lat", lat, "--lon", lon]);
        expect_failure(&out, &["device", "onboard", lat, lon], 2, error);
    }
    // A maker that was never registered, and one registered but not approved.
    let stranger = f.dir.join("stranger.json");
    write_keypair_file(&Keypair::new(), &stranger).unwrap();
    f.env.fails(
        &f.env.payer,
        &[
            "device",
            "onboard",
            "--network",
            "cli-net",
            "--issuing-key",
            stranger.to_str().unwrap(),
            "--device-keypair",
            device.to_str().unwrap(),
        ],
        2,
        "is not a maker of this network",
    );
    let devices = f.env.json(&["device", "list", "--network", "cli-net"]);
    assert_eq!(
        devices.as_array().unwrap().len(),
        0,
        "nothing was onboarded"
    );
    // Onboarded once; a second time shows the device and fails.
    let first = onboard(&["--lat", "37.77", "--lon", "-122.41"]);
    assert!(first.status.success());
    let again = onboard(&["--lat", "37.77", "--lon", "-122.41"]);
    expect_failure(&again, &["device", "onboard"], 2, "exists (shown above)");
    let key = read_keypair_file(&device).unwrap().pubkey().to_string();
    assert!(String::from_utf8_lossy(&again.stdout).contains(&key));
}

#[test]
fn the_network_authority_onboards_its_own_device_and_pays_the_fee() {
    let f = Fixture::start("own-device");
    f.network();
    let (maker_path, _) = f.maker();
    f.mint_to_payer(10_000_000);
    f.env.json(&[
        "network",
        "update",
        "--network",
        "cli-net",
        "--onboarding-fee",
        "2.5",
        "--fee-mint",
        &f.reward_mint.to_string(),
    ]);
    let mint = f.reward_mint.to_string();
    // The authority is the treasury: it pays itself, so nothing moves.
    let (onboarded, _) = f.device(&maker_path, "own.json");
    assert!(onboarded["device_key"].is_string());
    let kept = f.env.json(&["token", "balance", &mint]);
    assert_eq!(kept["balance"], 10_000_000);
    // With a treasury of its own, the fee goes there.
    let treasury = Keypair::new().pubkey().to_string();
    f.env.json(&[
        "network",
        "update",
        "--network",
        "cli-net",
        "--treasury",
        &treasury,
    ]);
    f.device(&maker_path, "own-2.json");
    let paid = f.env.json(&["token", "balance", &mint]);
    let received = f
        .env
        .json(&["token", "balance", &mint, "--owner", &treasury]);
    assert_eq!(paid["balance"], 7_500_000, "2.5 tokens of 6 decimals");
    assert_eq!(received["balance"], 2_500_000);
    let shown = f
        .env
        .ok(&f.env.payer, &["network", "show", "--network", "cli-net"]);
    assert!(shown.contains("Onboarding fee:      2.5 "), "{shown}");
    // A wallet without the fee is told before anything is sent.
    let poor = f.dir.join("poor.json");
    let poor_key = Keypair::new();
    write_keypair_file(&poor_key, &poor).unwrap();
    f.env.ok(
        &f.env.payer,
        &["airdrop", "1", &poor_key.pubkey().to_string()],
    );
    let device = f.dir.join("poor-device.json");
    write_keypair_file(&Keypair::new(), &device).unwrap();
    f.env.fails(
        &poor,
        &[
            "device",
            "onboard",
            "--network",
            "cli-net",
            "--issuing-key",
            maker_path.to_str().unwrap(),
            "--device-keypair",
            device.to_str().unwrap(),
        ],
        2,
        "this costs 2.5 in fees",
    );
}

#[test]
fn a_csv_is_checked_whole_before_anything_is_sent() {
    let f = Fixture::start("csv-checks");
    f.network();
    let (maker_path, _) = f.maker();
    let good = f.dir.join("good.json");
    write_keypair_file(&Keypair::new(), &good).unwrap();
    let csv = f.dir.join("devices.csv");
    std::fs::write(
        &csv,
        format!(
            "keypair,cell,lat,lon\n{good},8c283082a6d5dff,,\n{missing},,,\n{good},,48.85,2.35\n{other},,95,2.35\n{other},zz,,\n{other},,48.85,\n",
            good = good.display(),
            missing = f.dir.join("missing.json").display(),
            other = f.dir.join("other.json").display(),
        ),
    )
    .unwrap();
    write_keypair_file(&Keypair::new(), f.dir.join("other.json")).unwrap();
    let out = f.env.depin(
        &f.env.payer,
        &[
            "device",
            "onboard",
            "--network",
            "cli-net",
            "--issuing-key",
            maker_path.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
        ],
    );
    expect_failure(&out, &["device", "onboard", "--csv"], 2, "nothing was sent");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for problem in [
        "line 3: cannot read keypair",
        "line 4: the same device as line 2",
        "line 5: latitude 95 is not within -90 to 90",
        "line 6: ",
        "line 7: lat without lon",
    ] {
        assert!(stderr.contains(problem), "{problem:?} in {stderr}");
    }
    let devices = f.env.json(&["device", "list", "--network", "cli-net"]);
    assert_eq!(devices.as_array().unwrap().len(), 0);
    // An unknown column is named.
    std::fs::write(&csv, format!("keypair,height\n{},3\n", good.display())).unwrap();
    f.env.fails(
        &f.env.payer,
        &[
            "device",
            "onboard",
            "--network",
            "cli-net",
            "--issuing-key",
            maker_path.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
        ],
        2,
        "unknown column \"height\"",
    );
}

#[test]
fn bulk_onboarding_from_a_csv() {
    let f = Fixture::start("bulk");
    f.network();
    let (maker_path, _) = f.maker();
    let (_, onboarded_path) = f.device(&maker_path, "onboarded.json");
    // Good rows onboard; a device already onboarded is reported, the rest go on.
    let (bulk_a, bulk_b) = (f.dir.join("bulk-a.json"), f.dir.join("bulk-b.json"));
    write_keypair_file(&Keypair::new(), &bulk_a).unwrap();
    write_keypair_file(&Keypair::new(), &bulk_b).unwrap();
    let csv = f.dir.join("devices.csv");
    std::fs::write(
        &csv,
        format!(
            "keypair,cell,lat,lon\n{},8c283082a6d5dff,,\n{},,,\n{},,48.8566,2.3522\n",
            bulk_a.display(),
            onboarded_path.display(),
            bulk_b.display(),
        ),
    )
    .unwrap();
    let out = f.env.depin(
        &f.env.payer,
        &[
            "device",
            "onboard",
            "--network",
            "cli-net",
            "--issuing-key",
            maker_path.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
            "--output",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outcomes: Value = serde_json::from_slice(&out.stdout).unwrap();
    snapshot("device_onboard_csv", &outcomes);
    let outcomes = outcomes.as_array().unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes[0]["error"].is_null() && outcomes[2]["error"].is_null());
    assert!(
        outcomes[1]["error"]
            .as_str()
            .unwrap()
            .contains("already onboarded")
    );
    let key = read_keypair_file(&onboarded_path)
        .unwrap()
        .pubkey()
        .to_string();
    assert_eq!(outcomes[1]["device_key"], key.as_str());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 3 devices were not onboarded"));
    let devices = f.env.json(&["device", "list", "--network", "cli-net"]);
    assert_eq!(devices.as_array().unwrap().len(), 3);
}
