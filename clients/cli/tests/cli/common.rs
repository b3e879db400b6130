//! What every scenario shares: the `depin` runner, JSON shape snapshots, and
//! a fixture with a localnet of its own.

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
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

pub const SPL_TOKEN: Pubkey = anchor_spl::token::ID;

/// How `depin` runs: its home, the cluster URL and the default signer.
pub struct Env {
    pub dir: PathBuf,
    pub url: String,
    pub payer: PathBuf,
}

impl Env {
    /// Runs `depin -u URL -k KEYPAIR ARGS`.
    pub fn depin(&self, keypair: &Path, args: &[&str]) -> Output {
        let mut all = vec!["-u", &self.url, "-k", keypair.to_str().unwrap()];
        all.extend_from_slice(args);
        self.raw(&all)
    }

    /// Runs `depin ARGS` as given: the URL and keypair come from the configs.
    pub fn raw(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_depin"))
            .args(args)
            .env("HOME", &self.dir)
            .env_remove("DEPIN_CONFIG")
            .env("RUST_LOG", "error")
            .output()
            .expect("run depin")
    }

    /// Runs as `keypair` and expects success: the stdout.
    pub fn ok(&self, keypair: &Path, args: &[&str]) -> String {
        let out = self.depin(keypair, args);
        assert!(
            out.status.success(),
            "depin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs as the payer with `--output json` and returns the JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        self.json_as(&self.payer.clone(), args)
    }

    /// Runs as `keypair` with `--output json` and returns the JSON.
    pub fn json_as(&self, keypair: &Path, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let out = self.depin(keypair, &all);
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
    pub fn fails(&self, keypair: &Path, args: &[&str], code: i32, needle: &str) {
        let out = self.depin(keypair, args);
        expect_failure(&out, args, code, needle);
    }
}

/// Asserts `out` failed with `code` and one `error:` line containing `needle`.
pub fn expect_failure(out: &Output, args: &[&str], code: i32, needle: &str) {
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

/// The JSON's shape: keys and value kinds, not values.
pub fn shape(value: &Value) -> Value {
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

/// Compares the JSON's shape with tests/snapshots/NAME.json.
pub fn snapshot(name: &str, value: &Value) {
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

/// Sends a setup transaction the CLI has no command for.
pub fn send(
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

/// The chain's clock, unix seconds.
pub fn chain_time(rpc: &RpcClient) -> i64 {
    let clock = rpc.get_account(&solana_sdk::sysvar::clock::ID).unwrap();
    i64::from_le_bytes(clock.data[32..40].try_into().unwrap())
}

/// A new SPL Token mint of 6 decimals, `payer` its authority.
pub fn create_mint(rpc: &RpcClient, payer: &Keypair) -> Pubkey {
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

/// The workspace binary `name`, built beside `depin` by `cargo test --workspace`.
pub fn sibling_binary(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_depin")).with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace's binaries (`cargo build --workspace --bins`)",
        path.display()
    );
    path
}

/// A pool on `cli-net` emitting one token per epoch of `epoch_secs`, from
/// `start` (default now), funded for five epochs.
pub fn pool(f: &Fixture, epoch_secs: u32, start: Option<i64>) {
    let epoch_secs = epoch_secs.to_string();
    let start = start.map(|s| s.to_string());
    let mut args = vec![
        "pool",
        "create",
        "--network",
        "cli-net",
        "--emission",
        "1",
        "--epoch-length",
        &epoch_secs,
    ];
    if let Some(start) = &start {
        args.extend(["--start-time", start]);
    }
    f.env.json(&args);
    f.env
        .json(&["pool", "fund", "--network", "cli-net", "--amount", "5"]);
}

/// One test's world: a localnet of its own, a config directory, the funded
/// payer, a reward mint (SPL Token, 6 decimals, the payer its authority) and a
/// funded oracle. The localnet stops when the fixture drops.
pub struct Fixture {
    pub env: Env,
    pub dir: PathBuf,
    pub payer: Keypair,
    pub rpc: RpcClient,
    pub reward_mint: Pubkey,
    pub oracle: Keypair,
    /// The oracle's keypair file.
    pub oracle_path: PathBuf,
    _localnet: Localnet,
}

impl Fixture {
    /// Starts the localnet and funds the payer's mint and the oracle.
    pub fn start(name: &str) -> Self {
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
        let oracle_path = dir.join("oracle.json");
        write_keypair_file(&oracle, &oracle_path).unwrap();
        Self {
            env,
            dir,
            payer,
            rpc,
            reward_mint,
            oracle,
            oracle_path,
            _localnet: localnet,
        }
    }

    /// `network create` of the wireless network `cli-net`, its one oracle
    /// the fixture's.
    pub fn network(&self) -> Value {
        self.network_of("wireless")
    }

    /// `network create` of the network `cli-net` of `category`, its one
    /// oracle the fixture's.
    pub fn network_of(&self, category: &str) -> Value {
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
            category,
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
    pub fn maker(&self) -> (PathBuf, String) {
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
    pub fn device(&self, maker: &Path, file: &str) -> (Value, PathBuf) {
        let path = self.dir.join(file);
        self.env
            .json(&["device", "keygen", "--outfile", path.to_str().unwrap()]);
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

    /// Mints `amount` base units of the reward token to the payer's associated account.
    pub fn mint_to_payer(&self, amount: u64) {
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

    /// The network's payments set up with `depin payments init` (credits of
    /// $0.00001, a 1 % order fee, an hour's withdrawal notice) and the token
    /// priced at $1 by the oracle with `depin oracle vote-price`.
    pub fn payments(&self) {
        self.env.json(&[
            "payments",
            "init",
            "--network",
            "cli-net",
            "--credit-usd",
            "0.00001",
            "--max-price-age",
            "3600",
            "--order-fee-bps",
            "100",
            "--withdrawal-notice",
            "3600",
        ]);
        self.env.json_as(
            &self.oracle_path,
            &[
                "oracle",
                "vote-price",
                "--network",
                "cli-net",
                "--price",
                "1",
            ],
        );
    }

    /// A customer: a wallet of its own (its keypair file), with SOL for
    /// fees and rent and `tokens` base units of the reward token minted to
    /// its associated account (returned).
    pub fn customer(&self, tokens: u64) -> (PathBuf, Pubkey) {
        let customer = Keypair::new();
        let path = self
            .dir
            .join(format!("customer-{}.json", customer.pubkey()));
        write_keypair_file(&customer, &path).unwrap();
        let account = depinkit_sdk::ata(&customer.pubkey(), &self.reward_mint, &SPL_TOKEN);
        send(
            &self.rpc,
            &self.payer,
            &[
                anchor_lang::solana_program::system_instruction::transfer(
                    &self.payer.pubkey(),
                    &customer.pubkey(),
                    1_000_000_000,
                ),
                spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                    &self.payer.pubkey(),
                    &customer.pubkey(),
                    &self.reward_mint,
                    &SPL_TOKEN,
                ),
                spl_token_2022_interface::instruction::mint_to(
                    &SPL_TOKEN,
                    &self.reward_mint,
                    &account,
                    &self.payer.pubkey(),
                    &[],
                    tokens,
                )
                .unwrap(),
            ],
            &[],
        );
        (path, account)
    }

    /// Moves the chain's clock `secs` seconds on.
    pub fn time_travel(&self, secs: i64) {
        let target = chain_time(&self.rpc) + secs;
        self.rpc
            .send::<Value>(
                solana_rpc_client_api::request::RpcRequest::Custom {
                    method: "surfnet_timeTravel",
                },
                serde_json::json!([{ "absoluteTimestamp": (target * 1000) as u64 }]),
            )
            .unwrap();
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The token balance of `account` (0 when it does not exist).
pub fn token_balance(f: &Fixture, account: &Pubkey) -> u64 {
    f.rpc
        .get_token_account_balance(account)
        .map(|b| b.amount.parse().unwrap())
        .unwrap_or(0)
}

/// Waits up to `secs` for `done`, polling every half second.
pub fn eventually(secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let began = Instant::now();
    while !done() {
        assert!(
            began.elapsed() < Duration::from_secs(secs),
            "waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Every token account the customer's payments can reach: the customer's,
/// the holder's (the payer holds every device NFT), the treasury's, the
/// pool's vault, and each order's escrow.
pub struct Ledger {
    /// Each account, named.
    pub accounts: Vec<(String, Pubkey)>,
}

impl Ledger {
    /// The customer's account `customer_tokens`, the holder's (the payer
    /// holds every device NFT), the pool's vault, and the treasury's when
    /// it is not the payer's, for `network`.
    pub fn of_payments(f: &Fixture, network: &Pubkey, customer_tokens: Pubkey) -> Self {
        use anchor_lang::AccountDeserialize;
        let record = device_registry::state::Network::try_deserialize(
            &mut &f.rpc.get_account_data(network).unwrap()[..],
        )
        .unwrap();
        let pool = reward_pool::pda::find_pool_address(network).0;
        let vault = reward_pool::state::Pool::try_deserialize(
            &mut &f.rpc.get_account_data(&pool).unwrap()[..],
        )
        .unwrap()
        .vault;
        let mut accounts = vec![
            ("customer".into(), customer_tokens),
            (
                "holder".into(),
                depinkit_sdk::ata(&f.payer.pubkey(), &f.reward_mint, &SPL_TOKEN),
            ),
            ("pool".into(), vault),
        ];
        if record.treasury != f.payer.pubkey() {
            accounts.push((
                "treasury".into(),
                depinkit_sdk::ata(&record.treasury, &f.reward_mint, &SPL_TOKEN),
            ));
        }
        Ledger { accounts }
    }

    /// Every balance, read in one call (one slot: a settlement landing
    /// meanwhile cannot tear the sum).
    pub fn balances(&self, f: &Fixture) -> BTreeMap<String, u64> {
        let addresses: Vec<Pubkey> = self.accounts.iter().map(|(_, a)| *a).collect();
        let found = f.rpc.get_multiple_accounts(&addresses).unwrap();
        self.accounts
            .iter()
            .zip(found)
            .map(|((name, _), account)| {
                let amount = account
                    .and_then(|a| {
                        a.data
                            .get(64..72)
                            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
                    })
                    .unwrap_or(0);
                (name.clone(), amount)
            })
            .collect()
    }

    /// Their sum.
    pub fn total(&self, f: &Fixture) -> u64 {
        self.balances(f).values().sum()
    }
}
