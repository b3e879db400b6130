//! Payments: settings, prices, credits and their escrow, orders and settlements.

use crate::common::*;
use solana_sdk::signature::Signer;

#[test]
fn payment_settings_and_prices() {
    let f = Fixture::start("payments");
    f.network();
    f.mint_to_payer(50_000_000);
    f.env.fails(
        &f.env.payer,
        &["credits", "buy", "--network", "cli-net", "--amount", "1"],
        2,
        "payments are not set up on this network",
    );
    f.payments();
    f.env.fails(
        &f.env.payer,
        &["payments", "init", "--network", "cli-net"],
        2,
        "payments are already set up",
    );
    let shown = f.env.json(&["payments", "show", "--network", "cli-net"]);
    snapshot("payments_show", &shown);
    assert_eq!(shown["credit_usd_micros"], 10);
    assert_eq!(shown["order_fee_bps"], 100);
    assert_eq!(shown["withdrawal_notice_secs"], 3_600);
    assert!(shown["price"]["price"].as_u64().unwrap() > 0);
    let display = f
        .env
        .ok(&f.env.payer, &["payments", "show", "--network", "cli-net"]);
    assert!(display.contains("Credit value:      $0.00001"), "{display}");
    f.env.json(&[
        "payments",
        "update",
        "--network",
        "cli-net",
        "--order-fee-bps",
        "250",
    ]);
    let shown = f.env.json(&["payments", "show", "--network", "cli-net"]);
    assert_eq!(shown["order_fee_bps"], 250);
    assert_eq!(shown["max_price_age_secs"], 3_600, "unchanged");
    // Only the network's oracles vote prices.
    f.env.fails(
        &f.env.payer,
        &[
            "oracle",
            "vote-price",
            "--network",
            "cli-net",
            "--price",
            "9",
        ],
        3,
        "NotAnOracle",
    );
}

#[test]
fn credits_buy_delegate_withdraw_and_burn() {
    let f = Fixture::start("credits");
    f.network();
    f.mint_to_payer(50_000_000);
    f.payments();
    let bought = f
        .env
        .json(&["credits", "buy", "--network", "cli-net", "--amount", "1"]);
    assert_eq!(
        bought["credits"], 100_000,
        "1 token at $1 buys 100,000 credits of $0.00001"
    );
    assert_eq!(bought["burned"], 1_000_000, "JSON carries base units");
    f.env.fails(
        &f.env.payer,
        &["credits", "buy", "--network", "cli-net", "--amount", "100"],
        2,
        "less than 100",
    );
    f.env.json(&[
        "credits",
        "delegate",
        "--network",
        "cli-net",
        "--amount",
        "400",
    ]);
    let balance = f.env.json(&["credits", "balance", "--network", "cli-net"]);
    snapshot("credits_balance", &balance);
    assert_eq!(
        (balance["credits"].as_u64(), balance["escrowed"].as_u64()),
        (Some(99_600), Some(400))
    );
    f.env.fails(
        &f.env.payer,
        &[
            "credits",
            "delegate",
            "--network",
            "cli-net",
            "--amount",
            "100000",
        ],
        2,
        "less than 100000",
    );
    // Withdrawal: asked first, then after the notice.
    f.env.fails(
        &f.env.payer,
        &["credits", "withdraw", "--network", "cli-net"],
        2,
        "no withdrawal is requested",
    );
    f.env.json(&[
        "credits",
        "withdraw-request",
        "--network",
        "cli-net",
        "--amount",
        "100",
    ]);
    f.env.fails(
        &f.env.payer,
        &["credits", "withdraw", "--network", "cli-net"],
        2,
        "the withdrawal's notice has not passed",
    );
    f.time_travel(3_601);
    let withdrawn = f.env.json(&["credits", "withdraw", "--network", "cli-net"]);
    assert_eq!(withdrawn["withdrawn"], 100);
    // The oracle burns usage from the escrow, in the pool's running epoch.
    f.env
        .json(&["pool", "create", "--network", "cli-net", "--emission", "1"]);
    f.env.json_as(
        &f.oracle_path,
        &[
            "oracle",
            "burn-usage",
            "--network",
            "cli-net",
            "--customer",
            &f.payer.pubkey().to_string(),
            "--amount",
            "50",
        ],
    );
    let balance = f.env.json(&["credits", "balance", "--network", "cli-net"]);
    assert_eq!(
        (balance["credits"].as_u64(), balance["escrowed"].as_u64()),
        (Some(99_700), Some(250))
    );
}

#[test]
fn orders_open_accept_cancel() {
    let f = Fixture::start("orders");
    f.network();
    let (maker_path, _) = f.maker();
    let (device, _) = f.device(&maker_path, "device.json");
    let device_key = device["device_key"].as_str().unwrap();
    f.mint_to_payer(50_000_000);
    f.payments();
    let opened = f.env.json(&[
        "order",
        "open",
        "--network",
        "cli-net",
        "--id",
        "1",
        "--amount",
        "0.001",
        "--provider",
        device_key,
    ]);
    snapshot("order_open", &opened);
    let order = f
        .env
        .json(&["order", "show", "--network", "cli-net", "--id", "1"]);
    snapshot("order_show", &order);
    assert_eq!(order["status"], "open");
    assert_eq!(
        order["provider"], device_key,
        "the provider is named by its device key"
    );
    assert_eq!(order["max_amount"], 1_000);
    // The same id again shows the order and opens nothing.
    f.env.fails(
        &f.env.payer,
        &[
            "order",
            "open",
            "--network",
            "cli-net",
            "--id",
            "1",
            "--amount",
            "5",
        ],
        2,
        "order 1 exists (shown above)",
    );
    assert_eq!(order["fee_bps"], 100);
    f.env.json(&[
        "order",
        "accept",
        "--network",
        "cli-net",
        "--customer",
        &f.payer.pubkey().to_string(),
        "--id",
        "1",
        "--device",
        device_key,
    ]);
    let orders = f.env.json(&["order", "list", "--network", "cli-net"]);
    snapshot("order_list", &orders);
    assert_eq!(orders[0]["status"], "accepted");
    f.env.fails(
        &f.env.payer,
        &["order", "cancel", "--network", "cli-net", "--id", "1"],
        3,
        "CancelAfterAcceptance",
    );
    // A network-wide order: open, then cancelled before the network takes it.
    f.env.json(&[
        "order",
        "open",
        "--network",
        "cli-net",
        "--id",
        "2",
        "--amount",
        "0.0005",
        "--provider",
        "network",
    ]);
    let cancelled = f
        .env
        .json(&["order", "cancel", "--network", "cli-net", "--id", "2"]);
    assert!(cancelled["signature"].is_string());
    // Another, accepted by the network's oracle: no longer cancellable.
    f.env.json(&[
        "order",
        "open",
        "--network",
        "cli-net",
        "--id",
        "3",
        "--amount",
        "0.0005",
        "--provider",
        "network",
    ]);
    let accepted = f.env.depin(
        &f.oracle_path,
        &[
            "order",
            "accept",
            "--network",
            "cli-net",
            "--customer",
            &f.payer.pubkey().to_string(),
            "--id",
            "3",
        ],
    );
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );
    f.env.fails(
        &f.env.payer,
        &["order", "cancel", "--network", "cli-net", "--id", "3"],
        3,
        "CancelAfterAcceptance",
    );
    // A device order needs the device to accept it.
    f.env.json(&[
        "order",
        "open",
        "--network",
        "cli-net",
        "--id",
        "4",
        "--amount",
        "0.00001",
    ]);
    f.env.fails(
        &f.env.payer,
        &[
            "order",
            "accept",
            "--network",
            "cli-net",
            "--customer",
            &f.payer.pubkey().to_string(),
            "--id",
            "4",
        ],
        2,
        "--device is required",
    );
}

#[test]
fn an_order_is_settled_to_the_device_holder_with_the_fee_to_the_treasury() {
    let f = Fixture::start("settlement");
    f.network();
    let treasury = solana_sdk::signature::Keypair::new().pubkey().to_string();
    f.env.json(&[
        "network",
        "update",
        "--network",
        "cli-net",
        "--treasury",
        &treasury,
    ]);
    let (maker_path, _) = f.maker();
    let (device, _) = f.device(&maker_path, "device.json");
    let device_key = device["device_key"].as_str().unwrap();
    f.mint_to_payer(10_000_000);
    f.payments();
    let mint = f.reward_mint.to_string();
    let customer = f.payer.pubkey().to_string();
    f.env.json(&[
        "order",
        "open",
        "--network",
        "cli-net",
        "--id",
        "7",
        "--amount",
        "1",
        "--provider",
        device_key,
    ]);
    f.env.json(&[
        "order",
        "accept",
        "--network",
        "cli-net",
        "--customer",
        &customer,
        "--id",
        "7",
        "--device",
        device_key,
    ]);
    let settle = |amount: &str, complete: bool| {
        let mut args = vec![
            "oracle",
            "vote-settlement",
            "--network",
            "cli-net",
            "--customer",
            &customer,
            "--id",
            "7",
            "--amount",
            amount,
        ];
        if complete {
            args.push("--complete");
        }
        f.env.json_as(&f.oracle_path, &args)
    };
    let too_much = [
        "oracle",
        "vote-settlement",
        "--network",
        "cli-net",
        "--customer",
        &customer,
        "--id",
        "7",
        "--amount",
        "2",
    ];
    f.env.fails(
        &f.oracle_path,
        &too_much,
        2,
        "the network has no reward pool yet",
    );
    f.env
        .json(&["pool", "create", "--network", "cli-net", "--emission", "1"]);
    f.env
        .fails(&f.oracle_path, &too_much, 3, "SettlementAboveMax");
    let first = settle("0.5", false);
    assert_eq!(first["settled"], true);
    let order = f
        .env
        .json(&["order", "show", "--network", "cli-net", "--id", "7"]);
    assert_eq!(order["settled"], 500_000);
    settle("0.2", true);
    f.env.fails(
        &f.env.payer,
        &["order", "show", "--network", "cli-net", "--id", "7"],
        2,
        "no open order 7",
    );
    // The holder (also the customer here) paid 1, got 0.7 less the 1 % fee
    // and the 0.3 not settled back; the treasury has the fee.
    let holder = f.env.json(&["token", "balance", &mint]);
    let fees = f
        .env
        .json(&["token", "balance", &mint, "--owner", &treasury]);
    assert_eq!(fees["balance"], 7_000);
    assert_eq!(holder["balance"], 10_000_000 - 7_000);
}
