//! Error messages and exit codes across commands.

use crate::common::*;
use solana_sdk::signature::{Keypair, Signer, write_keypair_file};

#[test]
fn error_messages_and_exit_codes() {
    let f = Fixture::start("errors");
    f.network();
    let (maker_path, maker_key) = f.maker();
    let (device, device_path) = f.device(&maker_path, "device.json");
    let device_key = device["device_key"].as_str().unwrap();
    let env = &f.env;
    let payer_path = env.payer.clone();
    env.fails(
        &f.dir.join("missing.json"),
        &["network", "update", "--network", "cli-net", "--name", "X"],
        2,
        "cannot read keypair",
    );
    env.fails(
        &payer_path,
        &["device", "show", "--network", "no-such-net", device_key],
        2,
        "unknown network",
    );
    for (cell, error) in [
        ("8c283082a6d5dfe", "not a valid H3 cell"),
        ("zz", "not a hex H3 index"),
    ] {
        env.fails(
            &payer_path,
            &[
                "device",
                "onboard-message",
                "--network",
                "cli-net",
                "--device",
                device_key,
                "--issuing-key",
                &maker_key,
                "--cell",
                cell,
            ],
            2,
            error,
        );
    }
    env.fails(
        &payer_path,
        &[
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
        ],
        2,
        "DeviceAlreadyOnboarded",
    );
    let poor = f.dir.join("poor.json");
    write_keypair_file(&Keypair::new(), &poor).unwrap();
    env.fails(
        &poor,
        &[
            "network",
            "create",
            "--seed",
            "poor",
            "--name",
            "Poor",
            "--symbol",
            "P",
            "--category",
            "storage",
            "--reward-mint",
            &f.reward_mint.to_string(),
            "--oracle",
            &f.oracle.pubkey().to_string(),
        ],
        3,
        "cannot pay",
    );
    // A fee above what the owner accepts: refused, nothing charged.
    f.mint_to_payer(10_000_000);
    env.json(&[
        "network",
        "update",
        "--network",
        "cli-net",
        "--onboarding-fee",
        "5",
        "--fee-mint",
        &f.reward_mint.to_string(),
    ]);
    let pricey = f.dir.join("pricey.json");
    write_keypair_file(&Keypair::new(), &pricey).unwrap();
    env.fails(
        &payer_path,
        &[
            "device",
            "onboard",
            "--network",
            "cli-net",
            "--issuing-key",
            maker_path.to_str().unwrap(),
            "--device-keypair",
            pricey.to_str().unwrap(),
            "--max-fee",
            "4",
        ],
        3,
        "FeeAboveMaximum",
    );
    env.fails(
        &payer_path,
        &["maker", "revoke", "--network", "cli-net", &maker_key],
        2,
        "Pass -y",
    );
    env.json(&["maker", "revoke", "--network", "cli-net", &maker_key, "-y"]);
    let other_device = f.dir.join("other.json");
    write_keypair_file(&Keypair::new(), &other_device).unwrap();
    env.fails(
        &payer_path,
        &[
            "device",
            "onboard",
            "--network",
            "cli-net",
            "--issuing-key",
            maker_path.to_str().unwrap(),
            "--device-keypair",
            other_device.to_str().unwrap(),
        ],
        2,
        "is revoked: the network authority approves it",
    );
}

#[test]
fn refusals_are_named_before_anything_is_sent() {
    let f = Fixture::start("refusals");
    let network = f.network()["network"].as_str().unwrap().to_string();
    let (maker_path, _) = f.maker();
    let (_, device_path) = f.device(&maker_path, "device.json");
    let env = &f.env;
    let payer = f.payer.pubkey().to_string();
    // A wallet where a mint belongs, and where a network belongs.
    env.fails(
        &env.payer,
        &[
            "network",
            "create",
            "--seed",
            "wallet-mint",
            "--name",
            "W",
            "--symbol",
            "W",
            "--category",
            "storage",
            "--reward-mint",
            &payer,
            "--oracle",
            &payer,
        ],
        2,
        "is not a token mint (is it a wallet?)",
    );
    env.fails(
        &env.payer,
        &["network", "show", "--network", &payer],
        2,
        "is not a depinkit network",
    );
    // Funding from a wallet with no reward tokens; more decimals than the token has.
    env.json(&["pool", "create", "--network", "cli-net", "--emission", "1"]);
    env.fails(
        &f.oracle_path,
        &["pool", "fund", "--network", "cli-net", "--amount", "1"],
        2,
        "holds 0 of the reward token",
    );
    env.fails(
        &env.payer,
        &[
            "pool",
            "fund",
            "--network",
            "cli-net",
            "--amount",
            "0.0000001",
        ],
        2,
        "--amount",
    );
    // Moving a device whose NFT someone else holds.
    env.fails(
        &f.oracle_path,
        &[
            "device",
            "assert-location",
            "--network",
            "cli-net",
            "--device-keypair",
            device_path.to_str().unwrap(),
            "--cell",
            "8c1fb46625551ff",
        ],
        2,
        "does not hold device",
    );
    // With the cluster down, the connection is the error, not a missing account.
    let down = Env {
        dir: f.dir.clone(),
        url: "http://127.0.0.1:9".into(),
        payer: env.payer.clone(),
    };
    down.fails(
        &down.payer,
        &["network", "show", "--network", &network],
        4,
        "cannot reach the cluster at http://127.0.0.1:9",
    );
}
