//! End-to-end: the built `depin` binary against a localnet on a free port,
//! each command's happy path, its error messages and exit codes, and the shapes
//! of `--output json` (snapshots in tests/snapshots; `UPDATE_SNAPSHOTS=1`
//! rewrites them).

use depinkit_localnet::{Localnet, LocalnetConfig};
use serde_json::Value;
use solana_rpc_client::rpc_client::RpcClient;
use solana_sdk::{
    program_pack::Pack,
    pubkey::Pubkey,
    signature::{Keypair, Signer, read_keypair_file, write_keypair_file},
    transaction::Transaction,
};
use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

const SPL_TOKEN: Pubkey = anchor_spl::token::ID;

struct Env {
    dir: PathBuf,
    url: String,
    payer: PathBuf,
}

impl Env {
    fn depin(&self, keypair: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_depin"))
            .arg("-u")
            .arg(&self.url)
            .arg("-k")
            .arg(keypair)
            .args(args)
            .env("HOME", &self.dir)
            .env("DEPIN_CONFIG", self.dir.join("depinkit.json"))
            .env("RUST_LOG", "error")
            .output()
            .expect("run depin")
    }

    /// Runs as the payer with `--output json` and returns the JSON.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let out = self.depin(&self.payer, &all);
        assert!(
            out.status.success(),
            "depin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "depin {args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs and expects failure with `code` and one stderr line containing `needle`.
    fn fails(&self, keypair: &Path, args: &[&str], code: i32, needle: &str) {
        let out = self.depin(keypair, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(out.status.code(), Some(code), "depin {args:?}: {stderr}");
        assert_eq!(lines.len(), 1, "one error line for {args:?}: {stderr}");
        assert!(
            lines[0].contains(needle),
            "{needle:?} not in {:?}",
            lines[0]
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// The JSON's shape: keys and value kinds, not values.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        Value::String(_) => "string".into(),
        Value::Number(_) => "number".into(),
        Value::Bool(_) => "bool".into(),
        Value::Null => "null".into(),
    }
}

fn snapshot(name: &str, value: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"));
    let actual = serde_json::to_string_pretty(&shape(value)).unwrap();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, format!("{actual}\n")).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}: run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(expected.trim_end(), actual, "JSON shape of {name} changed");
}

fn send(
    rpc: &RpcClient,
    payer: &Keypair,
    ixs: &[solana_sdk::instruction::Instruction],
    signers: &[&Keypair],
) {
    let mut all = vec![payer];
    all.extend_from_slice(signers);
    let tx = Transaction::new_signed_with_payer(
        ixs,
        Some(&payer.pubkey()),
        &all,
        rpc.get_latest_blockhash().unwrap(),
    );
    rpc.send_and_confirm_transaction(&tx)
        .expect("setup transaction");
}

fn chain_time(rpc: &RpcClient) -> i64 {
    let clock = rpc.get_account(&solana_sdk::sysvar::clock::ID).unwrap();
    i64::from_le_bytes(clock.data[32..40].try_into().unwrap())
}

fn create_mint(rpc: &RpcClient, payer: &Keypair) -> Pubkey {
    let mint = Keypair::new();
    let len = spl_token_2022_interface::state::Mint::LEN;
    let rent = rpc.get_minimum_balance_for_rent_exemption(len).unwrap();
    let ixs = [
        anchor_lang::solana_program::system_instruction::create_account(
            &payer.pubkey(),
            &mint.pubkey(),
            rent,
            len as u64,
            &SPL_TOKEN,
        ),
        spl_token_2022_interface::instruction::initialize_mint2(
            &SPL_TOKEN,
            &mint.pubkey(),
            &payer.pubkey(),
            None,
            6,
        )
        .unwrap(),
    ];
    let tx = Transaction::new_signed_with_payer(
        &ixs,
        Some(&payer.pubkey()),
        &[payer, &mint],
        rpc.get_latest_blockhash().unwrap(),
    );
    rpc.send_and_confirm_transaction(&tx).unwrap();
    mint.pubkey()
}

#[test]
fn every_command_against_a_localnet() {
    let port = depinkit_localnet::free_port_pair();
    let dir = std::env::temp_dir().join(format!("depin-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let localnet = Localnet::start(LocalnetConfig {
        bind: ([127, 0, 0, 1], port).into(),
        keypair_path: dir.join("payer.json"),
        ..LocalnetConfig::default()
    })
    .expect("localnet");
    let env = Env {
        dir: dir.clone(),
        url: localnet.rpc_url.clone(),
        payer: localnet.keypair_path.clone(),
    };
    let payer = read_keypair_file(&env.payer).unwrap();
    let rpc = RpcClient::new_with_commitment(
        env.url.clone(),
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    let reward_mint_key = create_mint(&rpc, &payer);
    let reward_mint = reward_mint_key.to_string();
    let oracle_keypair = Keypair::new();
    let oracle = oracle_keypair.pubkey().to_string();
    send(
        &rpc,
        &payer,
        &[anchor_lang::solana_program::system_instruction::transfer(
            &payer.pubkey(),
            &oracle_keypair.pubkey(),
            1_000_000_000,
        )],
        &[],
    );

    // Network.
    let created = env.json(&[
        "network",
        "create",
        "--seed",
        "cli-net",
        "--name",
        "CLI Net",
        "--symbol",
        "CLI",
        "--category",
        "wireless",
        "--reward-mint",
        &reward_mint,
        "--oracle",
        &oracle,
        "--uri-base",
        "https://example.org/",
    ]);
    snapshot("network_create", &created);
    let network = created["network"].as_str().unwrap().to_string();
    let shown = env.json(&["network", "show", "--network", "cli-net"]);
    snapshot("network_show", &shown);
    assert_eq!(shown["address"], network.as_str());
    assert_eq!(shown["category"], "wireless");
    assert_eq!(shown["threshold"], 1);
    let updated = env.json(&[
        "network",
        "update",
        "--network",
        "cli-net",
        "--name",
        "CLI Network",
    ]);
    assert!(updated["signature"].is_string());
    let listed = env.json(&["network", "list"]);
    snapshot("network_list", &listed);
    assert_eq!(listed[0]["name"], "CLI Network");
    assert_eq!(listed[0]["local_name"], "cli-net");

    // Makers.
    let maker_path = dir.join("maker.json");
    write_keypair_file(&Keypair::new(), &maker_path).unwrap();
    let maker_key = read_keypair_file(&maker_path).unwrap().pubkey().to_string();
    let maker = env.json(&[
        "maker",
        "register",
        "--network",
        "cli-net",
        "--name",
        "Acme",
        "--issuing-key",
        maker_path.to_str().unwrap(),
    ]);
    snapshot("maker_register", &maker);
    env.json(&["maker", "approve", "--network", "cli-net", &maker_key]);
    let makers = env.json(&["maker", "list", "--network", "cli-net"]);
    snapshot("maker_list", &makers);
    assert_eq!(makers[0]["status"], "approved");

    // Devices: onboarding signed locally from a keypair file.
    let device_path = dir.join("device.json");
    let keygen = env.json(&["device", "keygen", "-o", device_path.to_str().unwrap()]);
    snapshot("device_keygen", &keygen);
    let onboarded = env.json(&[
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
    let device = env.json(&["device", "show", "--network", "cli-net", &device_key]);
    snapshot("device_show", &device);
    assert_eq!(device["holder"], payer.pubkey().to_string().as_str());
    assert_eq!(device["status"], "active");

    // Onboarding with a signature made "on the device".
    let remote = Keypair::new();
    let message = env.json(&[
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
    env.json(&[
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
    let mine = env.json(&[
        "device",
        "list",
        "--network",
        "cli-net",
        "--owner",
        &payer.pubkey().to_string(),
    ]);
    snapshot("device_list", &mine);
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let none = env.json(&[
        "device",
        "list",
        "--network",
        "cli-net",
        "--owner",
        &Pubkey::new_unique().to_string(),
    ]);
    assert_eq!(none.as_array().unwrap().len(), 0);

    // Moving a device.
    let moved = env.json(&[
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
    let device = env.json(&["device", "show", "--network", "cli-net", &device_key]);
    assert_eq!(device["location"], "8c1fb46625551ff");
    assert_eq!(device["location_assert_count"], 1);

    // Pool and rewards.
    let ata_ix = spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
        &payer.pubkey(), &payer.pubkey(), &reward_mint_key, &SPL_TOKEN);
    let payer_tokens = depinkit_sdk::ata(&payer.pubkey(), &reward_mint_key, &SPL_TOKEN);
    let mint_ix = spl_token_2022_interface::instruction::mint_to(
        &SPL_TOKEN,
        &reward_mint_key,
        &payer_tokens,
        &payer.pubkey(),
        &[],
        50_000_000,
    )
    .unwrap();
    send(&rpc, &payer, &[ata_ix, mint_ix], &[]);
    let created_pool = env.json(&[
        "pool",
        "create",
        "--network",
        "cli-net",
        "--emission",
        "1000000",
        "--epoch-length",
        "60",
    ]);
    snapshot("pool_create", &created_pool);
    env.json(&[
        "pool",
        "fund",
        "--network",
        "cli-net",
        "--amount",
        "5000000",
    ]);
    let shown_pool = env.json(&["pool", "show", "--network", "cli-net"]);
    snapshot("pool_show", &shown_pool);
    assert_eq!(shown_pool["vault_balance"], 5_000_000);
    // The epoch ends (time travel), the oracle votes a root, the proof file is written.
    let network_key: Pubkey = network.parse().unwrap();
    let now = chain_time(&rpc);
    rpc.send::<Value>(
        solana_rpc_client_api::request::RpcRequest::Custom {
            method: "surfnet_timeTravel",
        },
        serde_json::json!([{ "absoluteTimestamp": ((now + 61) * 1000) as u64 }]),
    )
    .unwrap();
    let mints: Vec<Pubkey> = [&device_key, &remote.pubkey().to_string()]
        .iter()
        .map(|k| {
            depinkit_sdk::device_registry::pda::find_device_mint_address(
                &network_key,
                &k.parse().unwrap(),
            )
            .0
        })
        .collect();
    let pool_keys = depinkit_sdk::pool::PoolKeys::new(&network_key, &reward_mint_key, &SPL_TOKEN);
    // The oracle builds the tree from the epoch's amounts and votes its root.
    let amounts = dir.join("amounts.csv");
    std::fs::write(
        &amounts,
        format!(
            "device,cumulative\n{device_key},1000\n{},1000\n",
            remote.pubkey()
        ),
    )
    .unwrap();
    let proofs = dir.join("proofs.json");
    let tree_out = env.json(&[
        "oracle",
        "tree",
        "--network",
        "cli-net",
        "--amounts",
        amounts.to_str().unwrap(),
        "--epoch",
        "0",
        "-o",
        proofs.to_str().unwrap(),
    ]);
    snapshot("oracle_tree", &tree_out);
    assert_eq!(tree_out["devices"], 2);
    let oracle_path = dir.join("oracle.json");
    write_keypair_file(&oracle_keypair, &oracle_path).unwrap();
    let vote_args = vec![
        "oracle",
        "vote-root",
        "--network",
        "cli-net",
        "--proofs",
        proofs.to_str().unwrap(),
        "--output",
        "json",
    ];
    let voted = env.depin(&oracle_path, &vote_args);
    assert!(
        voted.status.success(),
        "{}",
        String::from_utf8_lossy(&voted.stderr)
    );
    let proofs_arg = proofs.to_str().unwrap();
    let due = env.json(&[
        "rewards",
        "show",
        "--network",
        "cli-net",
        "--all",
        "--proofs",
        proofs_arg,
    ]);
    snapshot("rewards_show", &due);
    assert_eq!(due.as_array().unwrap().len(), 2);
    assert_eq!(due[0]["claimable"], 1_000);
    let claimed = env.json(&[
        "rewards",
        "claim",
        "--network",
        "cli-net",
        "--all",
        "--proofs",
        proofs_arg,
    ]);
    snapshot("rewards_claim", &claimed);
    assert_eq!(claimed["paid"], 2_000);
    let due = env.json(&[
        "rewards",
        "show",
        "--network",
        "cli-net",
        "--device",
        &device_key,
        "--proofs",
        proofs_arg,
    ]);
    assert_eq!(due[0]["claimable"], 0);
    let stale = dir.join("stale.json");
    let other_tree = reward_pool::merkle::RewardTree::new([(mints[0], 5)]).unwrap();
    std::fs::write(
        &stale,
        serde_json::to_string(&depinkit_sdk::proofs::ProofFile::from_tree(
            &pool_keys.pool,
            0,
            &other_tree,
        ))
        .unwrap(),
    )
    .unwrap();
    env.fails(
        &env.payer,
        &[
            "rewards",
            "show",
            "--network",
            "cli-net",
            "--all",
            "--proofs",
            stale.to_str().unwrap(),
        ],
        2,
        "another",
    );

    // Credits: payments set up and priced by the oracle (no CLI commands for those).
    let pay_keys =
        depinkit_sdk::payments::PaymentsKeys::new(&network_key, &reward_mint_key, &SPL_TOKEN);
    let init = depinkit_sdk::payments::init_payments(
        &payer.pubkey(),
        &pay_keys,
        service_payments::instructions::InitPaymentsArgs {
            credits_decimals: 0,
            credit_usd_micros: 10,
            max_price_age_secs: 3_600,
            order_fee_bps: 100,
            pool_share_bps: 0,
            withdrawal_notice_secs: 3_600,
        },
    );
    send(&rpc, &payer, &[init], &[]);
    let price = service_payments::instructions::VotePriceArgs {
        price: 100_000_000,
        conf: 0,
        expo: -8,
        publish_time: chain_time(&rpc),
    };
    send(
        &rpc,
        &oracle_keypair,
        &[depinkit_sdk::payments::vote_price(
            &oracle_keypair.pubkey(),
            &pay_keys,
            price,
        )],
        &[],
    );
    let bought = env.json(&[
        "credits",
        "buy",
        "--network",
        "cli-net",
        "--amount",
        "1000000",
    ]);
    assert_eq!(
        bought["credits"], 100_000,
        "1 token at $1 buys 100,000 credits of $0.00001"
    );
    env.json(&[
        "credits",
        "delegate",
        "--network",
        "cli-net",
        "--amount",
        "400",
    ]);
    let balance = env.json(&["credits", "balance", "--network", "cli-net"]);
    snapshot("credits_balance", &balance);
    assert_eq!(
        (balance["credits"].as_u64(), balance["escrowed"].as_u64()),
        (Some(99_600), Some(400))
    );

    // Orders.
    let opened = env.json(&[
        "order",
        "open",
        "--network",
        "cli-net",
        "--id",
        "1",
        "--amount",
        "1000",
    ]);
    snapshot("order_open", &opened);
    let order = env.json(&["order", "show", "--network", "cli-net", "--id", "1"]);
    snapshot("order_show", &order);
    assert_eq!(order["status"], "open");
    env.json(&[
        "order",
        "accept",
        "--network",
        "cli-net",
        "--customer",
        &payer.pubkey().to_string(),
        "--id",
        "1",
        "--device",
        &device_key,
    ]);
    let orders = env.json(&["order", "list", "--network", "cli-net"]);
    snapshot("order_list", &orders);
    assert_eq!(orders[0]["status"], "accepted");
    env.fails(
        &env.payer,
        &["order", "cancel", "--network", "cli-net", "--id", "1"],
        3,
        "CancelAfterAcceptance",
    );
    env.json(&[
        "order",
        "open",
        "--network",
        "cli-net",
        "--id",
        "2",
        "--amount",
        "500",
        "--provider",
        "network",
    ]);
    let cancelled = env.json(&["order", "cancel", "--network", "cli-net", "--id", "2"]);
    assert!(cancelled["signature"].is_string());

    // Bulk onboarding from a CSV: good rows onboard, a bad row is reported.
    let (bulk_a, bulk_b) = (dir.join("bulk-a.json"), dir.join("bulk-b.json"));
    write_keypair_file(&Keypair::new(), &bulk_a).unwrap();
    write_keypair_file(&Keypair::new(), &bulk_b).unwrap();
    let csv = dir.join("devices.csv");
    std::fs::write(
        &csv,
        format!(
            "keypair,cell,lat,lon\n{},8c283082a6d5dff,,\n{},,48.8566,2.3522\n{},8c283082a6d5dfe,,\n",
            bulk_a.display(),
            bulk_b.display(),
            dir.join("missing-device.json").display()
        ),
    )
    .unwrap();
    let out = env.depin(
        &env.payer,
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
    assert!(outcomes[0]["device_key"].is_string() && outcomes[1]["device_key"].is_string());
    assert!(
        outcomes[2]["error"]
            .as_str()
            .unwrap()
            .contains("cannot read keypair")
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 3 devices were not onboarded"));

    // Error messages and exit codes.
    let payer_path = env.payer.clone();
    env.fails(
        &dir.join("missing.json"),
        &["network", "update", "--network", "cli-net", "--name", "X"],
        2,
        "cannot read keypair",
    );
    env.fails(
        &payer_path,
        &["device", "show", "--network", "no-such-net", &device_key],
        2,
        "unknown network",
    );
    env.fails(
        &payer_path,
        &[
            "device",
            "onboard-message",
            "--network",
            "cli-net",
            "--device",
            &device_key,
            "--issuing-key",
            &device_key,
            "--cell",
            "8c283082a6d5dfe",
        ],
        2,
        "not a valid H3 cell",
    );
    env.fails(
        &payer_path,
        &[
            "device",
            "onboard-message",
            "--network",
            "cli-net",
            "--device",
            &device_key,
            "--issuing-key",
            &device_key,
            "--cell",
            "zz",
        ],
        2,
        "not a hex H3 index",
    );
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
        3,
        "DeviceAlreadyOnboarded",
    );
    let poor = dir.join("poor.json");
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
            &reward_mint,
            "--oracle",
            &oracle,
        ],
        3,
        "cannot pay",
    );
    env.fails(
        &payer_path,
        &["maker", "revoke", "--network", "cli-net", &maker_key],
        2,
        "Pass -y",
    );
    env.json(&["maker", "revoke", "--network", "cli-net", &maker_key, "-y"]);
    let other_device = dir.join("other.json");
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
        3,
        "MakerNotApproved",
    );

    // Help for every command.
    for args in [
        vec!["--help"],
        vec!["network", "--help"],
        vec!["network", "create", "--help"],
        vec!["network", "update", "--help"],
        vec!["network", "show", "--help"],
        vec!["network", "list", "--help"],
        vec!["maker", "--help"],
        vec!["maker", "register", "--help"],
        vec!["maker", "approve", "--help"],
        vec!["maker", "revoke", "--help"],
        vec!["maker", "list", "--help"],
        vec!["device", "--help"],
        vec!["device", "keygen", "--help"],
        vec!["device", "onboard-message", "--help"],
        vec!["device", "onboard", "--help"],
        vec!["device", "assert-location", "--help"],
        vec!["device", "show", "--help"],
        vec!["device", "list", "--help"],
        vec!["localnet", "--help"],
        vec!["pool", "create", "--help"],
        vec!["pool", "fund", "--help"],
        vec!["pool", "show", "--help"],
        vec!["rewards", "show", "--help"],
        vec!["rewards", "claim", "--help"],
        vec!["credits", "buy", "--help"],
        vec!["credits", "delegate", "--help"],
        vec!["credits", "balance", "--help"],
        vec!["order", "open", "--help"],
        vec!["order", "accept", "--help"],
        vec!["order", "cancel", "--help"],
        vec!["order", "show", "--help"],
        vec!["oracle", "tree", "--help"],
        vec!["oracle", "vote-root", "--help"],
        vec!["order", "list", "--help"],
    ] {
        let out = env.depin(&payer_path, &args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
    localnet.shutdown();
}

#[test]
fn depin_localnet_serves_until_sigterm() {
    use std::io::{BufRead, BufReader};
    let port = depinkit_localnet::free_port_pair();
    let dir = std::env::temp_dir().join(format!("depin-localnet-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_depin"))
        .args(["localnet", "--bind", &format!("127.0.0.1:{port}")])
        .env("HOME", &dir)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start depin localnet");
    let mut printed = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let ready = line.starts_with("Ready");
        printed.push(line);
        if ready {
            break;
        }
    }
    assert!(
        printed
            .iter()
            .any(|l| l.contains(&format!("http://127.0.0.1:{port}"))),
        "{printed:?}"
    );
    assert!(
        printed
            .iter()
            .any(|l| l.contains(&format!("ws://127.0.0.1:{}", port + 1))),
        "{printed:?}"
    );
    let rpc = RpcClient::new(format!("http://127.0.0.1:{port}"));
    assert!(rpc.get_version().is_ok());
    assert!(
        rpc.get_account(&depinkit_sdk::device_registry::ID)
            .unwrap()
            .executable
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(
        exit.success(),
        "depin localnet exits cleanly on SIGTERM: {exit:?}"
    );
}
