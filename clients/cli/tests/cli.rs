//! End-to-end: the built `depin` binary against a localnet on a free port (one
//! per test), each command's happy path, its error messages and exit codes, and
//! the shapes of `--output json` (snapshots in tests/snapshots;
//! `UPDATE_SNAPSHOTS=1` rewrites them).

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

/// One test's world: a localnet of its own, a config directory, the funded
/// payer, a reward mint (SPL Token, 6 decimals, the payer its authority) and a
/// funded oracle. The localnet stops when the fixture drops.
struct Fixture {
    env: Env,
    dir: PathBuf,
    payer: Keypair,
    rpc: RpcClient,
    reward_mint: Pubkey,
    oracle: Keypair,
    _localnet: Localnet,
}

impl Fixture {
    fn start(name: &str) -> Self {
        let port = depinkit_localnet::free_port_pair();
        let dir = std::env::temp_dir().join(format!(
            "depin-cli-test-{name}-{}-{port}",
            std::process::id()
        ));
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
        let reward_mint = create_mint(&rpc, &payer);
        let oracle = Keypair::new();
        send(
            &rpc,
            &payer,
            &[anchor_lang::solana_program::system_instruction::transfer(
                &payer.pubkey(),
                &oracle.pubkey(),
                1_000_000_000,
            )],
            &[],
        );
        Self {
            env,
            dir,
            payer,
            rpc,
            reward_mint,
            oracle,
            _localnet: localnet,
        }
    }

    /// `network create` of the network `cli-net`, its one oracle the fixture's.
    fn network(&self) -> Value {
        self.env.json(&[
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
            &self.reward_mint.to_string(),
            "--oracle",
            &self.oracle.pubkey().to_string(),
            "--uri-base",
            "https://example.org/",
        ])
    }

    /// A maker registered and approved on `cli-net`: its issuing keypair file
    /// and key.
    fn maker(&self) -> (PathBuf, String) {
        let path = self.dir.join("maker.json");
        write_keypair_file(&Keypair::new(), &path).unwrap();
        let key = read_keypair_file(&path).unwrap().pubkey().to_string();
        self.env.json(&[
            "maker",
            "register",
            "--network",
            "cli-net",
            "--name",
            "Acme",
            "--issuing-key",
            path.to_str().unwrap(),
        ]);
        self.env
            .json(&["maker", "approve", "--network", "cli-net", &key]);
        (path, key)
    }

    /// A device onboarded by the payer from a new keypair file `file` at San
    /// Francisco: the `device onboard` output, and the keypair file.
    fn device(&self, maker: &Path, file: &str) -> (Value, PathBuf) {
        let path = self.dir.join(file);
        self.env
            .json(&["device", "keygen", "-o", path.to_str().unwrap()]);
        let onboarded = self.env.json(&[
            "device",
            "onboard",
            "--network",
            "cli-net",
            "--issuing-key",
            maker.to_str().unwrap(),
            "--device-keypair",
            path.to_str().unwrap(),
            "--lat",
            "37.7749",
            "--lon",
            "-122.4194",
        ]);
        (onboarded, path)
    }

    /// Mints `amount` reward tokens to the payer's associated account.
    fn mint_to_payer(&self, amount: u64) {
        let payer = self.payer.pubkey();
        let ata = spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
            &payer, &payer, &self.reward_mint, &SPL_TOKEN);
        let account = depinkit_sdk::ata(&payer, &self.reward_mint, &SPL_TOKEN);
        let mint = spl_token_2022_interface::instruction::mint_to(
            &SPL_TOKEN,
            &self.reward_mint,
            &account,
            &payer,
            &[],
            amount,
        )
        .unwrap();
        send(&self.rpc, &self.payer, &[ata, mint], &[]);
    }

    /// The network's payments, set up with the SDK (no CLI command for it), and
    /// the token priced at $1 by the oracle.
    fn payments(&self, network: &Pubkey) {
        let keys =
            depinkit_sdk::payments::PaymentsKeys::new(network, &self.reward_mint, &SPL_TOKEN);
        let init = depinkit_sdk::payments::init_payments(
            &self.payer.pubkey(),
            &keys,
            service_payments::instructions::InitPaymentsArgs {
                credits_decimals: 0,
                credit_usd_micros: 10,
                max_price_age_secs: 3_600,
                order_fee_bps: 100,
                pool_share_bps: 0,
                withdrawal_notice_secs: 3_600,
            },
        );
        send(&self.rpc, &self.payer, &[init], &[]);
        let price = service_payments::instructions::VotePriceArgs {
            price: 100_000_000,
            conf: 0,
            expo: -8,
            publish_time: chain_time(&self.rpc),
        };
        send(
            &self.rpc,
            &self.oracle,
            &[depinkit_sdk::payments::vote_price(
                &self.oracle.pubkey(),
                &keys,
                price,
            )],
            &[],
        );
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn network_create_show_update_list() {
    let f = Fixture::start("network");
    let created = f.network();
    snapshot("network_create", &created);
    let network = created["network"].as_str().unwrap().to_string();
    let shown = f.env.json(&["network", "show", "--network", "cli-net"]);
    snapshot("network_show", &shown);
    assert_eq!(shown["address"], network.as_str());
    assert_eq!(shown["category"], "wireless");
    assert_eq!(shown["threshold"], 1);
    assert_eq!(shown["oracle_change_delay_secs"], 86_400);
    let updated = f.env.json(&[
        "network",
        "update",
        "--network",
        "cli-net",
        "--name",
        "CLI Network",
    ]);
    assert!(updated["signature"].is_string());
    let listed = f.env.json(&["network", "list"]);
    snapshot("network_list", &listed);
    assert_eq!(listed[0]["name"], "CLI Network");
    assert_eq!(listed[0]["local_name"], "cli-net");
    // An oracle-set change is scheduled, shown, and cancelled.
    let next = Keypair::new().pubkey().to_string();
    f.env.json(&[
        "network",
        "update",
        "--network",
        "cli-net",
        "--oracle",
        &next,
    ]);
    let shown = f.env.json(&["network", "show", "--network", "cli-net"]);
    assert_eq!(shown["oracles"][0], f.oracle.pubkey().to_string().as_str());
    assert_eq!(shown["pending_oracle_change"]["oracles"][0], next.as_str());
    f.env.json(&[
        "network",
        "update",
        "--network",
        "cli-net",
        "--cancel-oracle-change",
    ]);
    let shown = f.env.json(&["network", "show", "--network", "cli-net"]);
    assert!(shown["pending_oracle_change"].is_null());
}

#[test]
fn makers_register_approve_list() {
    let f = Fixture::start("makers");
    f.network();
    let path = f.dir.join("maker.json");
    write_keypair_file(&Keypair::new(), &path).unwrap();
    let key = read_keypair_file(&path).unwrap().pubkey().to_string();
    let maker = f.env.json(&[
        "maker",
        "register",
        "--network",
        "cli-net",
        "--name",
        "Acme",
        "--issuing-key",
        path.to_str().unwrap(),
    ]);
    snapshot("maker_register", &maker);
    f.env
        .json(&["maker", "approve", "--network", "cli-net", &key]);
    let makers = f.env.json(&["maker", "list", "--network", "cli-net"]);
    snapshot("maker_list", &makers);
    assert_eq!(makers[0]["status"], "approved");
}

#[test]
fn devices_onboard_move_show_list() {
    let f = Fixture::start("devices");
    f.network();
    let (maker_path, maker_key) = f.maker();
    // Onboarding signed locally from a keypair file.
    let device_path = f.dir.join("device.json");
    let keygen = f
        .env
        .json(&["device", "keygen", "-o", device_path.to_str().unwrap()]);
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
fn pool_oracle_votes_and_reward_claims() {
    let f = Fixture::start("rewards");
    let network: Pubkey = f.network()["network"].as_str().unwrap().parse().unwrap();
    let (maker_path, _) = f.maker();
    let (first, _) = f.device(&maker_path, "device-a.json");
    let (second, _) = f.device(&maker_path, "device-b.json");
    let keys: Vec<String> = [&first, &second]
        .iter()
        .map(|d| d["device_key"].as_str().unwrap().to_string())
        .collect();
    f.mint_to_payer(50_000_000);
    let created_pool = f.env.json(&[
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
    f.env.json(&[
        "pool",
        "fund",
        "--network",
        "cli-net",
        "--amount",
        "5000000",
    ]);
    let shown_pool = f.env.json(&["pool", "show", "--network", "cli-net"]);
    snapshot("pool_show", &shown_pool);
    assert_eq!(shown_pool["vault_balance"], 5_000_000);
    assert_eq!(
        shown_pool["claim_lookup_table"],
        created_pool["claim_lookup_table"]
    );
    // The epoch ends (time travel); the oracle builds the tree from the
    // epoch's amounts, writes the proof file and votes its root.
    let now = chain_time(&f.rpc);
    f.rpc
        .send::<Value>(
            solana_rpc_client_api::request::RpcRequest::Custom {
                method: "surfnet_timeTravel",
            },
            serde_json::json!([{ "absoluteTimestamp": ((now + 61) * 1000) as u64 }]),
        )
        .unwrap();
    let amounts = f.dir.join("amounts.csv");
    std::fs::write(
        &amounts,
        format!("device,cumulative\n{},1000\n{},1000\n", keys[0], keys[1]),
    )
    .unwrap();
    let proofs = f.dir.join("proofs.json");
    let tree_out = f.env.json(&[
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
    let oracle_path = f.dir.join("oracle.json");
    write_keypair_file(&f.oracle, &oracle_path).unwrap();
    let voted = f.env.depin(
        &oracle_path,
        &[
            "oracle",
            "vote-root",
            "--network",
            "cli-net",
            "--proofs",
            proofs.to_str().unwrap(),
            "--output",
            "json",
        ],
    );
    assert!(
        voted.status.success(),
        "{}",
        String::from_utf8_lossy(&voted.stderr)
    );
    let proofs_arg = proofs.to_str().unwrap();
    let due = f.env.json(&[
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
    // Claims go as v0 transactions with the pool's claim lookup table.
    let claimed = f.env.json(&[
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
    let due = f.env.json(&[
        "rewards",
        "show",
        "--network",
        "cli-net",
        "--device",
        &keys[0],
        "--proofs",
        proofs_arg,
    ]);
    assert_eq!(due[0]["claimable"], 0);
    // A proof file of another root.
    let pool_keys = depinkit_sdk::pool::PoolKeys::new(&network, &f.reward_mint, &SPL_TOKEN);
    let mint = depinkit_sdk::device_registry::pda::find_device_mint_address(
        &network,
        &keys[0].parse().unwrap(),
    )
    .0;
    let stale = f.dir.join("stale.json");
    let other_tree = reward_pool::merkle::RewardTree::new([(mint, 5)]).unwrap();
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
    f.env.fails(
        &f.env.payer,
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
}

#[test]
fn credits_buy_delegate_balance() {
    let f = Fixture::start("credits");
    let network: Pubkey = f.network()["network"].as_str().unwrap().parse().unwrap();
    f.mint_to_payer(50_000_000);
    f.payments(&network);
    let bought = f.env.json(&[
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
}

#[test]
fn orders_open_accept_cancel() {
    let f = Fixture::start("orders");
    let network: Pubkey = f.network()["network"].as_str().unwrap().parse().unwrap();
    let (maker_path, _) = f.maker();
    let (device, _) = f.device(&maker_path, "device.json");
    let device_key = device["device_key"].as_str().unwrap();
    f.mint_to_payer(50_000_000);
    f.payments(&network);
    let opened = f.env.json(&[
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
    let order = f
        .env
        .json(&["order", "show", "--network", "cli-net", "--id", "1"]);
    snapshot("order_show", &order);
    assert_eq!(order["status"], "open");
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
        "500",
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
        "500",
        "--provider",
        "network",
    ]);
    let oracle_path = f.dir.join("oracle.json");
    write_keypair_file(&f.oracle, &oracle_path).unwrap();
    let accepted = f.env.depin(
        &oracle_path,
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
        "10",
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
fn bulk_onboarding_from_a_csv() {
    let f = Fixture::start("bulk");
    f.network();
    let (maker_path, _) = f.maker();
    // Good rows onboard, a bad row is reported.
    let (bulk_a, bulk_b) = (f.dir.join("bulk-a.json"), f.dir.join("bulk-b.json"));
    write_keypair_file(&Keypair::new(), &bulk_a).unwrap();
    write_keypair_file(&Keypair::new(), &bulk_b).unwrap();
    let csv = f.dir.join("devices.csv");
    std::fs::write(
        &csv,
        format!(
            "keypair,cell,lat,lon\n{},8c283082a6d5dff,,\n{},,48.8566,2.3522\n{},8c283082a6d5dfe,,\n",
            bulk_a.display(),
            bulk_b.display(),
            f.dir.join("missing-device.json").display()
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
    assert!(outcomes[0]["device_key"].is_string() && outcomes[1]["device_key"].is_string());
    assert!(
        outcomes[2]["error"]
            .as_str()
            .unwrap()
            .contains("cannot read keypair")
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 3 devices were not onboarded"));
}

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
        3,
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
    f.mint_to_payer(1_000);
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
        3,
        "MakerNotApproved",
    );
}

#[test]
fn help_for_every_command() {
    let dir = std::env::temp_dir().join(format!("depin-cli-help-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let env = Env {
        dir: dir.clone(),
        url: "http://127.0.0.1:9".into(),
        payer: dir.join("none.json"),
    };
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
        let out = env.depin(&env.payer, &args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
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
