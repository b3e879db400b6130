//! Data transfer paid end to end: on a wireless network, a customer buys and
//! delegates credits (`depin credits`); a hotspot reports a session it
//! carried for the customer, co-signed by the customer's wallet, and
//! another for a customer with no credits. When the epoch ends the oracle
//! (the built `depin-oracle`, category rules) charges the paid session's
//! credits, burns them on chain with `burn_usage` before voting the root,
//! and pays the hotspot the data-transfer share of the epoch (the rest,
//! coverage, has no beacons this epoch: carried on as dust); the unpaid
//! session is refused by name.

use super::{
    oracle_daemon::{free_port, oracle_command, wait_for},
    storage_node::Running,
};
use crate::common::*;
use anchor_lang::AccountDeserialize;
use depinkit_reports::{Body, DataTransfer, Key, Report, Verdict};
use service_payments::state::{UsageEscrow, UsageReport};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer, read_keypair_file},
};
use std::process::Stdio;

const EPOCH_SECS: i64 = 600;

fn signing_key(keypair: &Keypair) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(keypair.to_bytes()[..32].try_into().unwrap())
}

#[test]
fn a_hotspot_is_paid_the_data_transfer_share_and_the_customers_credits_burn() {
    let f = Fixture::start("data-transfer");
    let network: Pubkey = f.network_of("wireless")["network"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (maker, _) = f.maker();
    let (onboarded, hotspot_path) = f.device(&maker, "hotspot.json");
    let hotspot = read_keypair_file(&hotspot_path).unwrap();
    let mint = onboarded["mint"].as_str().unwrap().to_string();
    f.mint_to_payer(50_000_000);
    f.payments();
    f.env
        .json(&["credits", "buy", "--network", "cli-net", "--amount", "1"]);
    f.env.json(&[
        "credits",
        "delegate",
        "--network",
        "cli-net",
        "--amount",
        "2000",
    ]);
    let start = chain_time(&f.rpc);
    pool(&f, EPOCH_SECS as u32, Some(start));
    let bind = format!("127.0.0.1:{}", free_port());
    let url = format!("http://{bind}");
    let _oracle = Running(
        oracle_command(&f, &network, &bind, &["run"])
            .env("DEPIN_ORACLE__RULES__SET", "category")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(&format!("{url}/health"), "the oracle", |h| {
        h["devices"] == 1
    });

    // 24,000 bytes for the payer (1,000 credits at 24 bytes a credit), and
    // 2,400 for a wallet with no escrow on this network.
    let now_ms = start * 1000 + 30_000;
    let session = |customer: &Keypair, bytes: u64| {
        Report {
            network: Key(network.to_bytes()),
            device: Key(hotspot.pubkey().to_bytes()),
            timestamp_ms: now_ms,
            body: Body::DataTransfer(DataTransfer {
                customer: Key(customer.pubkey().to_bytes()),
                bytes,
                start_ms: start * 1000 + 1_000,
                end_ms: now_ms,
            }),
        }
        .sign(&signing_key(&hotspot))
        .cosign(&signing_key(customer))
    };
    let stranger = Keypair::new();
    let paid = session(&f.payer, 24_000);
    let unpaid = session(&stranger, 2_400);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let verdicts = runtime
        .block_on(depinkit_device::OracleClient::new(&url).send_all(&[paid.clone(), unpaid], 10))
        .unwrap();
    assert!(
        verdicts
            .iter()
            .all(|v| matches!(v, Verdict::Accepted { .. })),
        "{verdicts:?}"
    );

    // The epoch ends: scored, the usage burned, the root voted.
    f.time_travel(EPOCH_SECS + 2);
    let epoch = wait_for(&format!("{url}/v1/epochs/0"), "epoch 0 voted", |e| {
        !e["vote_signature"].is_null()
    });
    // One token emitted: the data-transfer share (20 %) to the hotspot; no
    // coverage this epoch, so the rest is carried on.
    assert_eq!(epoch["amount"], 1_000_000, "{epoch}");
    assert_eq!(epoch["rewards_paid"], 200_000, "{epoch}");
    assert_eq!(epoch["dust"], 800_000, "{epoch}");
    let rewards = wait_for(
        &format!("{url}/v1/devices/{mint}/rewards"),
        "the hotspot's rewards",
        |r| r["claims"].as_array().is_some_and(|c| !c.is_empty()),
    );
    assert_eq!(
        rewards["claims"][0]["cumulative_amount"], 200_000,
        "{rewards}"
    );
    let reports = wait_for(
        &format!("{url}/v1/devices/{mint}/reports?epoch=0"),
        "the sessions' verdicts",
        |r| r["reports"].as_array().is_some_and(|r| r.len() == 2),
    );
    let mut rules: Vec<String> = reports["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["rule"]
                .as_str()
                .unwrap_or(r["status"].as_str().unwrap())
                .to_string()
        })
        .collect();
    rules.sort();
    assert_eq!(rules, ["counted", "customer_out_of_credits"]);

    // The customer's 1,000 credits are burned on chain, attested for epoch 0.
    let escrow = service_payments::pda::find_usage_escrow_address(&network, &f.payer.pubkey()).0;
    let report = service_payments::pda::find_usage_report_address(&escrow, 0).0;
    let report =
        UsageReport::try_deserialize(&mut &f.rpc.get_account_data(&report).unwrap()[..]).unwrap();
    assert!(report.finalized);
    assert_eq!(report.amount, 1_000);
    let escrow =
        UsageEscrow::try_deserialize(&mut &f.rpc.get_account_data(&escrow).unwrap()[..]).unwrap();
    assert_eq!((escrow.delegated, escrow.burned), (2_000, 1_000));
}
