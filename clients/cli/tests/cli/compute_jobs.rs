//! GPU jobs bought and paid end to end, with the built binaries: two compute
//! nodes (`depin-device compute-node`, one honest, one returning a wrong
//! result) announce themselves to the oracle (the built `depin-oracle`,
//! compute rules). A customer (a wallet of its own) buys a job with
//! `depin order job`: the order is opened, the honest node accepts it on
//! chain and runs it, the customer checks the result (Freivalds) and
//! co-signs the receipt to the oracle; once the epoch is finalized the
//! oracle settles the order and the device's holder is paid exactly the
//! provider's part. The node's receipt without the customer's signature is
//! refused at ingest, a second co-signed receipt of the same job is refused
//! (`overlapping_jobs`: it bills the same GPU time) and paid nothing, and the cheating node's wrong result is caught:
//! the customer does not sign, nothing is paid, and the escrow comes back
//! whole once the service deadline and the settlement grace have passed.
//! No token is created or lost at any step.

use super::{
    oracle_daemon::{free_port, oracle_command, wait_for},
    storage_node::{Running, device_binary},
};
use crate::common::*;
use depinkit_reports::{Hash32, SignedReport, Verdict, job::MatrixJob};
use serde_json::Value;
use service_payments::state::{Order, OrderStatus, SETTLEMENT_GRACE_SECS};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, read_keypair_file},
};
use std::{
    path::Path,
    process::{Command, Stdio},
};

/// Seconds per epoch: both receipts of the honest job land in one.
const EPOCH_SECS: i64 = 20;
/// Each job's escrow (one token).
const ESCROW: u64 = 1_000_000;
/// Seconds each job's order serves.
const SERVE_WITHIN: i64 = 600;

fn order_at(f: &Fixture, address: &Pubkey) -> Option<Order> {
    use anchor_lang::AccountDeserialize;
    let account = f.rpc.get_account(address).ok()?;
    Order::try_deserialize(&mut &account.data[..]).ok()
}

/// Starts `depin-device compute-node` for the device whose keypair file is
/// `keypair` (its NFT held by the payer) on `port`, with `extra` options.
fn start_compute_node(
    f: &Fixture,
    keypair: &Path,
    network: &Pubkey,
    oracle_url: &str,
    port: u16,
    extra: &[&str],
) -> Running {
    Running(
        Command::new(device_binary())
            .args(["compute-node", "--keypair"])
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
                "--gpu-class",
                "a100",
                "--watch-secs",
                "1",
            ])
            .arg("--data")
            .arg(f.dir.join(format!("jobs-{port}")))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// One HTTP request: the status and the JSON body (`Null` if none).
fn http(method: reqwest::Method, url: &str, body: Option<Value>) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut request = reqwest::Client::new().request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

/// Sends `receipt` to the oracle: its verdict.
fn send_receipt(oracle_url: &str, receipt: &SignedReport) -> Verdict {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(
            depinkit_device::OracleClient::new(oracle_url)
                .send_all(std::slice::from_ref(receipt), 1),
        )
        .unwrap()
        .remove(0)
}

/// `args` as the `&str`s a command takes.
fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn signing_key(path: &Path) -> ed25519_dalek::SigningKey {
    let keypair: Keypair = read_keypair_file(path).unwrap();
    ed25519_dalek::SigningKey::from_bytes(keypair.to_bytes()[..32].try_into().unwrap())
}

#[test]
fn a_gpu_job_is_run_checked_co_signed_and_settled_and_a_wrong_result_is_never_paid() {
    let f = Fixture::start("compute-jobs");
    let network: Pubkey = f.network_of("compute")["network"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (maker, _) = f.maker();
    let (honest, honest_path) = f.device(&maker, "gpu-honest.json");
    let (_, cheat_path) = f.device(&maker, "gpu-cheat.json");
    let honest_key = read_keypair_file(&honest_path).unwrap();
    let cheat_key = read_keypair_file(&cheat_path).unwrap();
    use solana_sdk::signature::Signer;
    let (honest_key, cheat_key) = (honest_key.pubkey(), cheat_key.pubkey());
    f.mint_to_payer(50_000_000);
    f.payments();
    let (customer_path, customer_tokens) = f.customer(10_000_000);
    let start = chain_time(&f.rpc);
    pool(&f, EPOCH_SECS as u32, Some(start));

    let oracle_bind = format!("127.0.0.1:{}", free_port());
    let oracle_url = format!("http://{oracle_bind}");
    let _oracle = Running(
        oracle_command(&f, &network, &oracle_bind, &["run"])
            .env("DEPIN_ORACLE__RULES__SET", "category")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(&format!("{oracle_url}/health"), "the oracle", |h| {
        h["devices"] == 2
    });
    let honest_port = free_port();
    let honest_url = format!("http://127.0.0.1:{honest_port}");
    // The honest node asks one token (6 decimals) per million
    // multiply-adds.
    let _honest_node = start_compute_node(
        &f,
        &honest_path,
        &network,
        &oracle_url,
        honest_port,
        &["--price-per-million-ops", "1000000"],
    );
    let _cheat_node = start_compute_node(
        &f,
        &cheat_path,
        &network,
        &oracle_url,
        free_port(),
        &["--cheat", "wrong-result"],
    );
    wait_for(&format!("{oracle_url}/v1/providers"), "two nodes", |l| {
        l["providers"].as_array().is_some_and(|p| p.len() == 2)
    });

    let mut ledger = Ledger::of_payments(&f, &network, customer_tokens);
    let customer = read_keypair_file(&customer_path).unwrap().pubkey();
    let order_address =
        |id: u64| service_payments::pda::find_order_address(&network, &customer, id).0;
    let escrow_of = |id: u64| {
        depinkit_sdk::payments::OrderKeys::new(&network, &customer, id, &f.reward_mint, &SPL_TOKEN)
            .escrow
    };
    ledger.accounts.push(("escrow 1".into(), escrow_of(1)));
    ledger.accounts.push(("escrow 2".into(), escrow_of(2)));
    ledger.accounts.push(("escrow 3".into(), escrow_of(3)));
    let total = ledger.total(&f);
    let before = ledger.balances(&f);

    // Early in an epoch: the job and both receipts fall in the same one.
    eventually(3 * EPOCH_SECS as u64, "the start of an epoch", || {
        (chain_time(&f.rpc) - start).rem_euclid(EPOCH_SECS) < 3
    });

    // `depin order job` for order `id`: one token for `count` products of
    // `size` with `seed` on `device`, and `extra` options.
    let job_args =
        |id: &str, size: &str, count: &str, seed: &str, device: &Pubkey, extra: &[&str]| {
            let mut args: Vec<String> = [
                "order",
                "job",
                "--network",
                "cli-net",
                "--id",
                id,
                "--amount",
                "1",
                "--size",
                size,
                "--count",
                count,
                "--seed",
                seed,
                "--provider",
            ]
            .iter()
            .map(|a| a.to_string())
            .collect();
            args.push(device.to_string());
            args.extend(["--serve-within".into(), SERVE_WITHIN.to_string()]);
            args.extend(["--oracle".into(), oracle_url.clone()]);
            args.extend(extra.iter().map(|a| a.to_string()));
            args
        };

    // The honest job: opened, taken, run, checked, co-signed.
    let seed = "5a".repeat(32);
    let out = f.dir.join("result.bin");
    let bought = f.env.json_as(
        &customer_path,
        &strs(&job_args(
            "1",
            "48",
            "3",
            &seed,
            &honest_key,
            &["--out", out.to_str().unwrap()],
        )),
    );
    let spec = MatrixJob {
        size: 48,
        count: 3,
        seed: seed.parse::<Hash32>().unwrap(),
    };
    assert_eq!(bought["node"], honest_url.as_str(), "{bought}");
    assert_eq!(bought["result_bytes"], 3 * 48 * 48 * 4);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        spec.run(),
        "the job's products"
    );
    let accepted = order_at(&f, &order_address(1)).expect("the order is open");
    assert_eq!(
        accepted.accepted_device,
        Some(device_registry::pda::find_device_address(&network, &honest_key).0)
    );
    assert_eq!(accepted.spec_hash, spec.hash().0);

    // The node's receipt without the customer's signature: refused at ingest.
    // (Fetched a little later: a receipt is signed when asked for, once the
    // job's billed second has ended, so this one is not the one co-signed.)
    std::thread::sleep(std::time::Duration::from_millis(1_200));
    let job = format!("{honest_url}/v1/jobs/{}", order_address(1));
    let (status, receipt) = http(reqwest::Method::GET, &format!("{job}/receipt"), None);
    assert_eq!(status, 200, "{receipt}");
    let unsigned: SignedReport = serde_json::from_value(receipt).unwrap();
    assert!(matches!(
        send_receipt(&oracle_url, &unsigned),
        Verdict::Rejected { reason } if reason.code() == "bad_cosignature"
    ));
    // A second receipt of the same job, co-signed: kept, but not paid.
    let again = unsigned.cosign(&signing_key(&customer_path));
    let verdict = send_receipt(&oracle_url, &again);
    assert!(matches!(verdict, Verdict::Accepted { .. }), "{verdict:?}");

    // The node refuses by name what it may not take, and takes nothing.
    let spec_json = serde_json::to_value(spec).unwrap();
    let (status, body) = http(
        reqwest::Method::PUT,
        &format!("{honest_url}/v1/jobs/{}", Pubkey::new_unique()),
        Some(spec_json.clone()),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_order"))
    );
    let mut huge = spec_json.clone();
    huge["size"] = 2048.into();
    huge["count"] = 256.into();
    // Too large for the node: refused before the order is read.
    let (status, body) = http(
        reqwest::Method::PUT,
        &format!("{honest_url}/v1/jobs/{}", Pubkey::new_unique()),
        Some(huge.clone()),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("too_much_work"))
    );
    // A known order with another job: refused as that, whatever its size.
    let (status, body) = http(reqwest::Method::PUT, &job, Some(huge));
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("order_holds_another_job"))
    );
    let mut other = spec_json.clone();
    other["count"] = 2.into();
    let (status, body) = http(reqwest::Method::PUT, &job, Some(other));
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("order_holds_another_job"))
    );
    let (status, body) = http(
        reqwest::Method::PUT,
        &job,
        Some(serde_json::json!({"size": 0})),
    );
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_job")));

    // A job priced above its escrow: 128^3 multiply-adds at the node's price
    // are 2.1 tokens, the order escrows 1. Refused before any acceptance;
    // the order stays open and is cancelled at once.
    let (_, health) = http(reqwest::Method::GET, &format!("{honest_url}/health"), None);
    assert_eq!(health["terms"]["price_per_million_ops"], 1_000_000);
    assert_eq!(health["terms"]["payment_mint"], f.reward_mint.to_string());
    let underpaid = f.env.depin(
        &customer_path,
        &strs(&job_args(
            "3",
            "128",
            "1",
            &"3c".repeat(32),
            &honest_key,
            &[],
        )),
    );
    expect_failure(
        &underpaid,
        &["order", "job", "--id", "3"],
        2,
        "no compute node took the job; order 3 stays open",
    );
    let stderr = String::from_utf8_lossy(&underpaid.stderr);
    assert!(
        stderr.contains("402 underpaid") && stderr.contains("asks 2097152"),
        "{stderr}"
    );
    let open = order_at(&f, &order_address(3)).expect("the order stays open");
    assert_eq!(
        (open.status, open.accepted_device),
        (OrderStatus::Open, None)
    );
    f.env.json_as(
        &customer_path,
        &["order", "cancel", "--network", "cli-net", "--id", "3"],
    );
    assert!(order_at(&f, &order_address(3)).is_none(), "cancelled");

    // The cheating node's job: its wrong result is caught and not signed.
    let cheat_seed = "a7".repeat(32);
    let disputed = f.env.depin(
        &customer_path,
        &strs(&job_args("2", "32", "2", &cheat_seed, &cheat_key, &[])),
    );
    expect_failure(
        &disputed,
        &["order", "job", "--id", "2"],
        1,
        "the result is wrong (product 1: row 31 is not A x B's)",
    );
    let held = order_at(&f, &order_address(2)).expect("the disputed order stays");
    assert_eq!(held.settled, 0);
    assert_eq!(
        held.accepted_device,
        Some(device_registry::pda::find_device_address(&network, &cheat_key).0)
    );
    // The cheat took that order: the honest node may not, nor a job that is
    // not the order's.
    let cheat_spec = MatrixJob {
        size: 32,
        count: 2,
        seed: cheat_seed.parse::<Hash32>().unwrap(),
    };
    let taken = format!("{honest_url}/v1/jobs/{}", order_address(2));
    let (status, body) = http(
        reqwest::Method::PUT,
        &taken,
        Some(serde_json::to_value(cheat_spec).unwrap()),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("taken_by_another"))
    );
    let (status, body) = http(
        reqwest::Method::PUT,
        &taken,
        Some(
            serde_json::to_value(MatrixJob {
                count: 1,
                ..cheat_spec
            })
            .unwrap(),
        ),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("spec_mismatch"))
    );

    // The epoch ends: the receipt counts, the second is refused, and the
    // oracle settles the order: the holder is paid the provider's part.
    eventually(4 * EPOCH_SECS as u64 + 30, "order 1 settled", || {
        order_at(&f, &order_address(1)).is_none()
    });
    let mint = honest["mint"].as_str().unwrap();
    let mut receipts = Vec::new();
    for epoch in 0..=((chain_time(&f.rpc) - start) / EPOCH_SECS) {
        let (_, reports) = http(
            reqwest::Method::GET,
            &format!("{oracle_url}/v1/devices/{mint}/reports?epoch={epoch}"),
            None,
        );
        for report in reports["reports"].as_array().cloned().unwrap_or_default() {
            if report["kind"] == "gpu_receipt" {
                receipts.push(
                    report["rule"]
                        .as_str()
                        .unwrap_or(report["status"].as_str().unwrap())
                        .to_string(),
                );
            }
        }
    }
    receipts.sort();
    // The second receipt bills the GPU time the first did: refused before
    // its order is found billed (a second job of one order is refused as
    // `order_billed_already`: tests/tests/integration/oracle_services.rs).
    assert_eq!(receipts, ["counted", "overlapping_jobs"]);
    let parts = service_payments::instructions::split(
        accepted.max_amount,
        accepted.fee_bps,
        accepted.pool_share_bps,
        false,
        true,
    );
    assert!(parts.provider > 0 && parts.fee > 0);
    let after = ledger.balances(&f);
    let treasury_is_holder = !after.contains_key("treasury");
    assert_eq!(
        after["holder"] - before["holder"],
        parts.provider + if treasury_is_holder { parts.fee } else { 0 },
        "{after:?}"
    );
    assert_eq!(before["customer"] - after["customer"], 2 * ESCROW);
    assert_eq!(after["escrow 1"], 0);
    assert_eq!(after["escrow 2"], ESCROW);
    assert_eq!(after["escrow 3"], 0, "refunded");
    assert_eq!(ledger.total(&f), total, "no token created or lost");

    // The settled order is closed: nothing left to fetch or sign.
    f.env.fails(
        &customer_path,
        &[
            "order",
            "result",
            "--network",
            "cli-net",
            "--id",
            "1",
            "--oracle",
            &oracle_url,
        ],
        2,
        "you have no open order 1",
    );
    // The disputed escrow stays until the deadline and the grace have passed,
    // then comes back whole.
    f.env.fails(
        &customer_path,
        &["order", "cancel", "--network", "cli-net", "--id", "2"],
        3,
        "CancelAfterAcceptance",
    );
    f.time_travel(SERVE_WITHIN + SETTLEMENT_GRACE_SECS + 5);
    f.env.json_as(
        &customer_path,
        &["order", "cancel", "--network", "cli-net", "--id", "2"],
    );
    let refunded = ledger.balances(&f);
    assert_eq!(before["customer"] - refunded["customer"], ESCROW);
    assert_eq!(refunded["escrow 2"], 0);
    assert_eq!(ledger.total(&f), total, "no token created or lost");
}
