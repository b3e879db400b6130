//! Storage paid as it is proven, end to end: a customer (a wallet of its
//! own) puts a 10 MiB file across six node processes; two nodes die before
//! the first epoch. Each epoch the oracle (the built `depin-oracle`, storage
//! rules) challenges every deal; once the epoch is finalized it settles
//! each order on chain: the four healthy deals are paid one epoch's share
//! of their escrow per proven epoch, the two dead ones take a strike per
//! epoch and at the third are faulted, the rest of their escrow refunded to
//! the customer. `depin storage status` shows it; `depin storage repair`
//! rebuilds the two lost shards from the four healthy ones and places them
//! with two new nodes, and the file comes back with two of the original
//! four stopped. `depin storage extend` keeps every order in service
//! longer at its own rate; `depin storage cancel` refunds nothing while the
//! orders are in service and everything left once their settlement window
//! has passed. Throughout, no token is created or lost: what left the customer
//! is with the providers' holder, the treasury, the pool or back with the
//! customer.

use super::{
    oracle_daemon::{free_port, wait_for},
    storage_node::{Running, start_node, start_storage_oracle},
};
use crate::common::*;
use anchor_lang::AccountDeserialize;
use serde_json::Value;
use service_payments::state::{Order, SETTLEMENT_GRACE_SECS};
use solana_sdk::pubkey::Pubkey;

/// Seconds per epoch: long enough for six nodes to answer 20 challenges each.
const EPOCH_SECS: u32 = 8;
/// Each shard's escrow (one token).
const ESCROW: u64 = 1_000_000;
/// Seconds each shard is served.
const SERVE_WITHIN: i64 = 3_600;

fn order_at(f: &Fixture, address: &Pubkey) -> Option<Order> {
    let account = f.rpc.get_account(address).ok()?;
    Order::try_deserialize(&mut &account.data[..]).ok()
}

#[test]
fn storage_is_paid_per_proven_epoch_faulted_deals_are_refunded_and_repair_restores_the_file() {
    let f = Fixture::start("storage-paid");
    let network: Pubkey = f.network_of("storage")["network"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (maker, _) = f.maker();
    let devices: Vec<_> = (0..8)
        .map(|i| f.device(&maker, &format!("node-{i}.json")))
        .collect();
    f.mint_to_payer(50_000_000);
    f.payments();

    // The customer: a wallet of its own, with SOL for fees and rent and ten
    // tokens (minted before the ledger's baseline).
    let (customer_path, customer_tokens) = f.customer(10_000_000);

    // Epochs begin once the file is in place (a deal is due from the first
    // epoch that begins after its acceptance).
    pool(&f, EPOCH_SECS, Some(chain_time(&f.rpc) + 25));
    let oracle_bind = format!("127.0.0.1:{}", free_port());
    let oracle_url = format!("http://{oracle_bind}");
    let oracle = start_storage_oracle(&f, &network, &oracle_bind);
    wait_for(&format!("{oracle_url}/health"), "the oracle", |h| {
        h["devices"] == 8
    });
    let node = |i: usize| {
        Some(start_node(
            &f,
            &devices[i].1,
            &network,
            &oracle_url,
            free_port(),
            &f.dir.join(format!("node-data-{i}")),
            &["--seed-secs", "1"],
        ))
    };
    let mut nodes: Vec<Option<Running>> = (0..6).map(node).collect();
    nodes.extend([None, None]);
    wait_for(
        &format!("{oracle_url}/v1/providers"),
        "six providers",
        |l| l["providers"].as_array().is_some_and(|p| p.len() == 6),
    );

    let mut ledger = Ledger::of_payments(&f, &network, customer_tokens);
    let before = ledger.total(&f);
    let customer_before = token_balance(&f, &customer_tokens);

    let file: Vec<u8> = (0..10u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let path = f.dir.join("archive.bin");
    std::fs::write(&path, &file).unwrap();
    let put = f.env.json_as(
        &customer_path,
        &[
            "storage",
            "put",
            path.to_str().unwrap(),
            "--network",
            "cli-net",
            "--oracle",
            &oracle_url,
            "--escrow",
            "1",
            "--serve-within",
            &SERVE_WITHIN.to_string(),
        ],
    );
    let manifest = put["manifest"].as_str().unwrap().to_string();
    let orders: Vec<Pubkey> = put["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["order"].as_str().unwrap().parse().unwrap())
        .collect();
    for order in &orders {
        let escrow = order_at(&f, order).unwrap().escrow;
        ledger.accounts.push((format!("escrow {order}"), escrow));
    }
    assert_eq!(
        token_balance(&f, &customer_tokens),
        customer_before - 6 * ESCROW
    );
    assert_eq!(
        ledger.total(&f),
        before,
        "the escrows hold what the customer paid"
    );

    // The nodes holding shards 0 and 1 die before the first epoch.
    let node_of = |shard: &Value| -> usize {
        (0..8)
            .find(|&i| shard["provider"] == devices[i].0["device_key"])
            .unwrap()
    };
    let shards = put["shards"].as_array().unwrap();
    let dead: Vec<usize> = shards[..2].iter().map(node_of).collect();
    let healthy: Vec<usize> = shards[2..].iter().map(node_of).collect();
    for &i in &dead {
        nodes[i] = None;
    }

    // Three epochs: the dead deals are struck three times and faulted; the
    // oracle's completing settlement refunds their escrow and closes them.
    eventually(150, "the two dead deals faulted and refunded", || {
        orders[..2].iter().all(|o| order_at(&f, o).is_none())
    });
    // The healthy deals are paid for each of those three epochs.
    eventually(60, "three settlements of each healthy deal", || {
        orders[2..]
            .iter()
            .all(|o| order_at(&f, o).is_some_and(|o| o.settlement_count >= 3))
    });
    let epoch_secs = i64::from(EPOCH_SECS);
    for address in &orders[2..] {
        let order = order_at(&f, address).unwrap();
        let share = (u128::from(order.max_amount) * epoch_secs as u128
            / (order.service_deadline - order.accepted_at) as u128) as u64;
        assert!(share > 0);
        assert_eq!(
            order.settled,
            u64::from(order.settlement_count) * share,
            "one epoch's share per proven epoch: {address}"
        );
    }
    let deal = wait_for(
        &format!("{oracle_url}/v1/deals/{}", orders[0]),
        "the dead deal's settlements",
        |d| d["faulted"] == true,
    );
    assert_eq!(deal["strikes"], 3, "{deal}");
    let settlements = deal["settlements"].as_array().unwrap();
    assert_eq!(settlements.len(), 1, "one settlement: the fault's {deal}");
    assert_eq!(
        (
            &settlements[0]["proven"],
            &settlements[0]["completes"],
            &settlements[0]["epoch"]
        ),
        (&Value::Bool(false), &Value::Bool(true), &Value::from(2)),
        "{deal}"
    );
    let healthy_deal = wait_for(
        &format!("{oracle_url}/v1/deals/{}", orders[2]),
        "a healthy deal",
        |d| d["last_proven_epoch"].as_u64().is_some_and(|e| e >= 2),
    );
    assert_eq!(healthy_deal["strikes"], 0, "{healthy_deal}");

    // Conservation: the customer paid six escrows and got two back whole;
    // what the healthy orders settled is with the holder, the treasury and
    // the pool; the rest is still in their escrows.
    let now = ledger.balances(&f);
    assert_eq!(
        ledger.total(&f),
        before,
        "no token created or lost: {now:?}"
    );
    assert_eq!(
        now["customer"],
        customer_before - 6 * ESCROW + 2 * ESCROW,
        "the faulted deals' escrow refunded whole"
    );
    // Each healthy order's escrow holds its escrow less what it settled,
    // order and escrow read in one call.
    let mut addresses: Vec<Pubkey> = orders[2..].to_vec();
    addresses.extend(orders[2..].iter().map(|o| order_at(&f, o).unwrap().escrow));
    let found = f.rpc.get_multiple_accounts(&addresses).unwrap();
    for i in 0..4 {
        let order = Order::try_deserialize(&mut &found[i].as_ref().unwrap().data[..]).unwrap();
        let data = &found[4 + i].as_ref().unwrap().data;
        let held = u64::from_le_bytes(data[64..72].try_into().unwrap());
        assert_eq!(held, ESCROW - order.settled, "the escrow less what it paid");
    }

    let status = |expect_healthy: u64| -> Value {
        let status = f.env.json_as(
            &customer_path,
            &["storage", "status", &manifest, "--oracle", &oracle_url],
        );
        assert_eq!(status["healthy_shards"], expect_healthy, "{status}");
        status
    };
    let standing = status(4);
    for shard in &standing["shards"].as_array().unwrap()[..2] {
        assert_eq!(
            (
                shard["order_status"].as_str(),
                shard["faulted"].as_bool(),
                shard["node_up"].as_bool()
            ),
            (Some("closed"), Some(true), Some(false)),
            "{shard}"
        );
    }
    for shard in &standing["shards"].as_array().unwrap()[2..] {
        assert!(shard["paid"].as_u64().unwrap() > 0, "{shard}");
        assert!(shard["last_proven_epoch"].as_u64().unwrap() >= 2, "{shard}");
    }

    // Repair: two new nodes; the lost shards are rebuilt from the four
    // healthy ones and placed with them (never with a provider of this file).
    nodes[6] = node(6);
    nodes[7] = node(7);
    wait_for(
        &format!("{oracle_url}/v1/providers"),
        "eight providers listed",
        |l| l["providers"].as_array().is_some_and(|p| p.len() == 8),
    );
    let repaired = f.env.json_as(
        &customer_path,
        &[
            "storage",
            "repair",
            &manifest,
            "--network",
            "cli-net",
            "--oracle",
            &oracle_url,
            "--escrow",
            "1",
            "--serve-within",
            &SERVE_WITHIN.to_string(),
        ],
    );
    let repaired = repaired["repaired"].as_array().unwrap().clone();
    assert_eq!(repaired.len(), 2, "{repaired:?}");
    let mut new_providers: Vec<&str> = repaired
        .iter()
        .map(|r| r["provider"].as_str().unwrap())
        .collect();
    new_providers.sort();
    let mut expected: Vec<&str> = [6, 7]
        .iter()
        .map(|&i| devices[i].0["device_key"].as_str().unwrap())
        .collect();
    expected.sort();
    assert_eq!(new_providers, expected);
    for r in &repaired {
        let order: Pubkey = r["order"].as_str().unwrap().parse().unwrap();
        let order = order_at(&f, &order).expect("the new order is open");
        assert_eq!(order.status, service_payments::state::OrderStatus::Accepted);
        ledger
            .accounts
            .push((format!("escrow {}", r["order"]), order.escrow));
    }
    status(6);
    // Two of the original four stop: the file comes back from the two
    // rebuilt shards and the two left.
    for &i in &healthy[..2] {
        nodes[i] = None;
    }
    let got = f.env.json_as(
        &customer_path,
        &[
            "storage",
            "get",
            &manifest,
            "--out",
            f.dir.join("back.bin").to_str().unwrap(),
        ],
    );
    assert_eq!(got["shards_reached"], 4, "{got}");
    assert!(std::fs::read(f.dir.join("back.bin")).unwrap() == file);
    assert_eq!(
        ledger.total(&f),
        before,
        "no token created or lost by repair"
    );

    // Extend: every order in service ten minutes longer, its escrow grown
    // at its own rate.
    let first_new: Pubkey = repaired[0]["order"].as_str().unwrap().parse().unwrap();
    let was = order_at(&f, &first_new).unwrap();
    let extended = f.env.json_as(
        &customer_path,
        &["storage", "extend", &manifest, "--by", "600"],
    );
    let now = order_at(&f, &first_new).unwrap();
    let served = (was.service_deadline - was.accepted_at) as u64;
    assert_eq!(now.service_deadline, was.service_deadline + 600);
    assert_eq!(
        now.max_amount,
        was.max_amount + (was.max_amount * 600).div_ceil(served)
    );
    let outcomes = extended["orders"].as_array().unwrap();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| o["outcome"].as_str().unwrap().starts_with("extended"))
            .count(),
        6,
        "{extended}"
    );
    assert_eq!(
        ledger.total(&f),
        before,
        "no token created or lost by extend"
    );

    // Cancel: nothing while the orders are in service...
    drop(oracle);
    let cancelled = f
        .env
        .json_as(&customer_path, &["storage", "cancel", &manifest]);
    assert_eq!(cancelled["refunded"], 0, "{cancelled}");
    // ...everything left once their deadline and settlement grace passed.
    f.time_travel(SERVE_WITHIN + 600 + SETTLEMENT_GRACE_SECS + 60);
    let left_in_escrow: u64 = ledger
        .balances(&f)
        .iter()
        .filter(|(name, _)| name.starts_with("escrow"))
        .map(|(_, amount)| amount)
        .sum();
    let customer_now = token_balance(&f, &customer_tokens);
    let cancelled = f
        .env
        .json_as(&customer_path, &["storage", "cancel", &manifest]);
    assert_eq!(cancelled["refunded"], left_in_escrow, "{cancelled}");
    assert_eq!(
        token_balance(&f, &customer_tokens),
        customer_now + left_in_escrow
    );
    assert_eq!(
        ledger.total(&f),
        before,
        "no token created or lost by cancel"
    );
    drop(nodes);
}
