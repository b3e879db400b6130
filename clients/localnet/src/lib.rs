//! A local Solana chain running the depinkit programs natively, serving the
//! standard JSON-RPC and websocket pubsub API (as `solana-test-validator` does),
//! so that the CLI, the oracle and any RPC client run their real code paths.
//!
//! It embeds surfpool (the local chain behind Anchor's default `anchor
//! localnet`), registers each program as a native builtin on its LiteSVM, and runs
//! offline. Programs cannot be loaded as SBF here (no platform-tools), which is
//! why they run natively.
//!
//! ```no_run
//! let localnet = depinkit_localnet::Localnet::start(depinkit_localnet::LocalnetConfig::default())?;
//! println!("{} {}", localnet.rpc_url, localnet.ws_url);
//! # Ok::<(), depinkit_localnet::LocalnetError>(())
//! ```
//!
//! Time: `surfnet_timeTravel` (JSON-RPC) moves the clock so epochs end without
//! waiting. `surfnet_resetNetwork` is disabled: it would drop the builtins (and a
//! watcher re-registers them should a client re-enable it).

pub mod accounts;
pub mod programs;

use crossbeam_channel::{Receiver, Sender, unbounded};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use std::{net::SocketAddr, path::PathBuf, sync::Once, thread::JoinHandle, time::Duration};
use surfpool_core::{
    runloops::start_local_surfnet_runloop,
    surfnet::{
        locker::SurfnetSvmLocker,
        svm::{SurfnetSvm, SurfnetSvmConfig},
    },
    types::SurfnetTransactionStatus,
};
use surfpool_types::{RpcConfig, SimnetCommand, SimnetConfig, SimnetEvent, SurfpoolConfig};

/// Lamports the funded keypair starts with (1,000 SOL).
pub const DEFAULT_AIRDROP_LAMPORTS: u64 = 1_000_000_000_000;
/// How long `start` waits for the chain to come up.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How to run a localnet.
#[derive(Clone, Debug)]
pub struct LocalnetConfig {
    /// JSON-RPC address; the websocket listens on the next port.
    pub bind: SocketAddr,
    /// Account files (`solana account --output json`) to load before starting.
    pub account_files: Vec<PathBuf>,
    /// The funded keypair's file: read if it exists, else created.
    pub keypair_path: PathBuf,
    /// Lamports for the funded keypair.
    pub airdrop_lamports: u64,
    /// Log one line per transaction (signature, instructions, ok or the error
    /// name) at info, as the `depinkit-localnet` binary does.
    pub log_transactions: bool,
}

impl Default for LocalnetConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8899)),
            account_files: Vec::new(),
            keypair_path: std::env::temp_dir().join("depinkit-localnet-payer.json"),
            airdrop_lamports: DEFAULT_AIRDROP_LAMPORTS,
            log_transactions: false,
        }
    }
}

/// Why the localnet could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalnetError {
    /// An initial account file was unusable.
    #[error(transparent)]
    AccountFile(#[from] accounts::AccountFileError),
    /// The chain refused an initial account.
    #[error("cannot load account {0}: {1}")]
    SetAccount(Pubkey, String),
    /// The keypair file could not be written.
    #[error("cannot write the keypair to {0}: {1}")]
    Keypair(String, std::io::Error),
    /// The websocket port would overflow.
    #[error("no port after {0} for the websocket")]
    NoWebsocketPort(u16),
    /// surfpool failed.
    #[error("the local chain failed to start: {0}")]
    Surfnet(String),
}

/// A running localnet.
pub struct Localnet {
    /// The JSON-RPC URL.
    pub rpc_url: String,
    /// The websocket pubsub URL.
    pub ws_url: String,
    /// Path of the funded keypair file.
    pub keypair_path: PathBuf,
    /// The funded keypair.
    pub payer: Keypair,
    commands: Sender<SimnetCommand>,
    runloop: Option<JoinHandle<()>>,
}

impl Localnet {
    /// Starts the chain with every depinkit program and serves it until
    /// [`Localnet::shutdown`] (or drop).
    pub fn start(config: LocalnetConfig) -> Result<Self, LocalnetError> {
        install_syscall_stubs();
        // Starting a ProgramTest (above) sets a DEBUG logger; quiet it again:
        // errors only (and our transaction lines when asked), unless RUST_LOG says otherwise.
        agave_logger::setup_with_default(if config.log_transactions {
            "error,depinkit_localnet=info"
        } else {
            "error"
        });
        let ws_port = config
            .bind
            .port()
            .checked_add(1)
            .ok_or(LocalnetError::NoWebsocketPort(config.bind.port()))?;
        let payer = load_or_create_keypair(&config.keypair_path)?;

        let svm_config = SurfnetSvmConfig {
            instruction_profiling_enabled: false,
            ..SurfnetSvmConfig::default()
        };
        let (mut svm, events, geyser) =
            SurfnetSvm::new(svm_config).map_err(|e| LocalnetError::Surfnet(e.to_string()))?;
        register_programs(&mut svm);
        for path in &config.account_files {
            let (address, account) = accounts::load_account_file(path)?;
            svm.set_account(&address, account)
                .map_err(|e| LocalnetError::SetAccount(address, e.to_string()))?;
        }

        let surfpool_config = SurfpoolConfig {
            simnets: vec![SimnetConfig {
                offline_mode: true,
                remote_rpc_url: None,
                instruction_profiling_enabled: false,
                airdrop_addresses: vec![payer.pubkey()],
                airdrop_token_amount: config.airdrop_lamports,
                ..SimnetConfig::default()
            }],
            rpc: RpcConfig {
                bind_host: config.bind.ip().to_string(),
                bind_port: config.bind.port(),
                ws_port,
                ..RpcConfig::default()
            },
            ..SurfpoolConfig::default()
        };
        let locker = SurfnetSvmLocker::new(svm);
        let (commands, commands_rx) = unbounded();
        let runloop_commands = commands.clone();
        let runloop_locker = locker.clone();
        let runloop = std::thread::Builder::new()
            .name("depinkit-localnet".into())
            .spawn(move || {
                let future = start_local_surfnet_runloop(
                    runloop_locker,
                    surfpool_config,
                    runloop_commands,
                    commands_rx,
                    geyser,
                );
                if let Err(error) = hiro_system_kit::nestable_block_on(future) {
                    eprintln!("depinkit-localnet: the local chain stopped: {error}");
                }
            })
            .map_err(|e| LocalnetError::Surfnet(e.to_string()))?;
        wait_until_ready(&events)?;
        spawn_event_drain(events, locker.clone(), config.log_transactions);
        spawn_builtin_watcher(locker);

        let host = config.bind.ip();
        let localnet = Self {
            rpc_url: format!("http://{host}:{}", config.bind.port()),
            ws_url: format!("ws://{host}:{ws_port}"),
            keypair_path: config.keypair_path,
            payer,
            commands,
            runloop: Some(runloop),
        };
        localnet.disable_reset()?;
        Ok(localnet)
    }

    /// Stops the chain and waits for it.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.commands.send(SimnetCommand::Terminate(None));
        if let Some(runloop) = self.runloop.take() {
            let _ = runloop.join();
        }
    }

    /// Turns off `surfnet_resetNetwork`, which would rebuild the chain without
    /// the native programs.
    fn disable_reset(&self) -> Result<(), LocalnetError> {
        let client = solana_rpc_client::rpc_client::RpcClient::new(self.rpc_url.clone());
        client
            .send::<serde_json::Value>(
                solana_rpc_client_api::request::RpcRequest::Custom {
                    method: "surfnet_disableCheatcode",
                },
                serde_json::json!([["surfnet_resetNetwork"]]),
            )
            .map(|_| ())
            .map_err(|e| LocalnetError::Surfnet(format!("disabling surfnet_resetNetwork: {e}")))
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A free loopback port whose next port is free too (the websocket listens
/// there), for tests that start a localnet next to others.
pub fn free_port_pair() -> u16 {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = first.local_addr().expect("bound address").port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// Starts a localnet, prints where it listens, and serves until SIGINT or
/// SIGTERM: what the `depinkit-localnet` binary and `depin localnet` do.
pub fn serve(config: LocalnetConfig) -> Result<(), LocalnetError> {
    let config_airdrop_sol = config.airdrop_lamports / 1_000_000_000;
    let localnet = Localnet::start(LocalnetConfig {
        log_transactions: true,
        ..config
    })?;
    println!("RPC URL:       {}", localnet.rpc_url);
    println!("Websocket URL: {}", localnet.ws_url);
    println!(
        "Funded wallet: {} ({} SOL; keypair {})",
        localnet.payer.pubkey(),
        config_airdrop_sol,
        localnet.keypair_path.display()
    );
    println!("Ready. Ctrl-C to stop.");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    });
    localnet.shutdown();
    Ok(())
}

/// Moves the chain's clock to `unix_timestamp` (seconds) with surfpool's
/// `surfnet_timeTravel`, so that epochs end without waiting.
pub async fn time_travel(
    rpc: &solana_rpc_client::nonblocking::rpc_client::RpcClient,
    unix_timestamp: i64,
) -> Result<(), LocalnetError> {
    let millis = u64::try_from(unix_timestamp)
        .ok()
        .and_then(|s| s.checked_mul(1_000))
        .ok_or_else(|| LocalnetError::Surfnet(format!("bad timestamp {unix_timestamp}")))?;
    rpc.send::<serde_json::Value>(
        solana_rpc_client_api::request::RpcRequest::Custom {
            method: "surfnet_timeTravel",
        },
        serde_json::json!([{ "absoluteTimestamp": millis }]),
    )
    .await
    .map(|_| ())
    .map_err(|e| LocalnetError::Surfnet(format!("time travel: {e}")))
}

/// Native CPI from a builtin goes through the global syscall stubs that
/// `solana-program-test` installs when a `ProgramTest` starts: without them a
/// CPI from a native program silently does nothing. Start one, once.
fn install_syscall_stubs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(async {
            let program_test = solana_program_test::ProgramTest::default();
            drop(program_test.start_with_context().await);
        });
    });
}

fn register_programs(svm: &mut SurfnetSvm) {
    for program in programs::depinkit_programs() {
        svm.inner.svm.add_builtin(program.id, program.entry);
    }
}

/// The funded keypair: the one in `path` when the file exists (a key file is
/// never overwritten), else a new one written there readable by its owner only.
fn load_or_create_keypair(path: &PathBuf) -> Result<Keypair, LocalnetError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let error = |e| LocalnetError::Keypair(path.display().to_string(), e);
    if path.exists() {
        return solana_sdk::signature::read_keypair_file(path).map_err(|e| {
            LocalnetError::Keypair(
                path.display().to_string(),
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("exists but is not a keypair file ({e}); keys are never overwritten"),
                ),
            )
        });
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    let keypair = Keypair::new();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(error)?;
    let bytes: Vec<u8> = keypair.to_bytes().to_vec();
    file.write_all(serde_json::to_string(&bytes).expect("json").as_bytes())
        .map_err(error)?;
    Ok(keypair)
}

/// The localnet's command-line options, shared by the `depinkit-localnet`
/// binary and `depin localnet` so both take exactly the same ones.
#[derive(clap::Args, Debug, Clone)]
pub struct LocalnetArgs {
    /// JSON-RPC address; the websocket listens on the next port.
    #[arg(long, default_value = "127.0.0.1:8899")]
    pub bind: SocketAddr,
    /// Account file to load at start (`solana account ADDRESS --output json`); repeatable.
    #[arg(long = "account", value_name = "FILE")]
    pub accounts: Vec<PathBuf>,
    /// The funded keypair's file: used if it exists, else created (mode 0600)
    /// [default: ~/.config/solana/id.json; for `depin localnet`, the keypair
    /// depin signs with].
    #[arg(long, value_name = "FILE")]
    pub keypair: Option<PathBuf>,
    /// Lamports for the funded keypair.
    #[arg(long, default_value_t = DEFAULT_AIRDROP_LAMPORTS)]
    pub airdrop: u64,
}

impl LocalnetArgs {
    /// The configuration these options describe; without `--keypair` the
    /// funded keypair is `default_keypair`, so the wallet the user signs with
    /// has SOL from the start.
    pub fn config(self, default_keypair: PathBuf) -> LocalnetConfig {
        let mut config = LocalnetConfig {
            bind: self.bind,
            account_files: self.accounts,
            airdrop_lamports: self.airdrop,
            ..LocalnetConfig::default()
        };
        config.keypair_path = self.keypair.unwrap_or(default_keypair);
        config
    }
}

fn wait_until_ready(events: &Receiver<SimnetEvent>) -> Result<(), LocalnetError> {
    let deadline = std::time::Instant::now() + READY_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match events.recv_timeout(left) {
            Ok(SimnetEvent::Ready(_)) => return Ok(()),
            Ok(SimnetEvent::Aborted(reason)) => return Err(LocalnetError::Surfnet(reason)),
            Ok(_) => {}
            Err(e) => return Err(LocalnetError::Surfnet(format!("not ready: {e}"))),
        }
    }
}

/// Keeps the event channel empty (it is unbounded), reports errors, and logs
/// one line per processed transaction when asked.
fn spawn_event_drain(
    events: Receiver<SimnetEvent>,
    locker: SurfnetSvmLocker,
    log_transactions: bool,
) {
    std::thread::spawn(move || {
        for event in events {
            match event {
                SimnetEvent::ErrorLog(_, message) | SimnetEvent::Aborted(message) => {
                    eprintln!("depinkit-localnet: {message}");
                }
                SimnetEvent::TransactionProcessed(_, metadata, error) if log_transactions => {
                    let instructions = stored_instructions(&locker, &metadata.signature)
                        .unwrap_or_else(|| top_level_programs(&metadata.logs));
                    log::info!(
                        "{}",
                        transaction_line(&metadata.signature, &instructions, error, &metadata.logs)
                    );
                }
                SimnetEvent::Shutdown => break,
                _ => {}
            }
        }
    });
}

/// The instructions of a transaction the chain has stored (it stores each
/// before announcing it processed).
fn stored_instructions(
    locker: &SurfnetSvmLocker,
    signature: &solana_sdk::signature::Signature,
) -> Option<Vec<(Pubkey, Vec<u8>)>> {
    let status = locker
        .with_svm_reader(|svm| svm.transactions.get(&signature.to_string()))
        .ok()??;
    match status {
        SurfnetTransactionStatus::Processed(stored) => {
            Some(transaction_programs(&stored.0.transaction))
        }
        SurfnetTransactionStatus::Received => None,
    }
}

/// The programs a transaction called at the top level, from its logs (for a
/// transaction the chain did not store); without instruction data.
fn top_level_programs(logs: &[String]) -> Vec<(Pubkey, Vec<u8>)> {
    logs.iter()
        .filter_map(|line| {
            let program = line.strip_prefix("Program ")?.strip_suffix(" invoke [1]")?;
            Some((program.parse().ok()?, Vec::new()))
        })
        .collect()
}

/// Each instruction's program id and data.
fn transaction_programs(
    transaction: &solana_sdk::transaction::VersionedTransaction,
) -> Vec<(Pubkey, Vec<u8>)> {
    let keys = transaction.message.static_account_keys();
    transaction
        .message
        .instructions()
        .iter()
        .filter_map(|ix| {
            Some((
                *keys.get(usize::from(ix.program_id_index))?,
                ix.data.clone(),
            ))
        })
        .collect()
}

/// One line for a processed transaction: its signature, its instructions by
/// name, and `ok` or the error by name.
pub fn transaction_line(
    signature: &solana_sdk::signature::Signature,
    instructions: &[(Pubkey, Vec<u8>)],
    error: Option<solana_sdk::transaction::TransactionError>,
    logs: &[String],
) -> String {
    let names: Vec<String> = instructions
        .iter()
        .filter(|(program, _)| *program != solana_sdk_ids::compute_budget::ID)
        .map(|(program, data)| instruction_label(program, data))
        .collect();
    let outcome = match error {
        None => "ok".to_string(),
        Some(error) => {
            let programs: Vec<Pubkey> = instructions.iter().map(|(p, _)| *p).collect();
            let decoded = depinkit_sdk::SdkError::from_transaction_error_and_logs(
                error.clone(),
                &programs,
                logs,
            );
            match decoded.program_error() {
                Some(name) => format!("failed: {name}"),
                None => format!("failed: {error}"),
            }
        }
    };
    format!("{signature} {} {outcome}", names.join(" "))
}

/// `reward_pool::claim`, `token`, `ed25519`, or the program id.
fn instruction_label(program: &Pubkey, data: &[u8]) -> String {
    if let Some(name) = depinkit_sdk::idl::program_name(program) {
        return match depinkit_sdk::idl::instruction_name(program, data) {
            Some(instruction) => format!("{name}::{instruction}"),
            None => name.to_string(),
        };
    }
    let known = [
        (solana_sdk_ids::system_program::ID, "system"),
        (anchor_spl::token::ID, "token"),
        (anchor_spl::token_2022::ID, "token-2022"),
        (anchor_spl::associated_token::ID, "associated-token"),
        (solana_sdk_ids::ed25519_program::ID, "ed25519"),
        (solana_sdk_ids::address_lookup_table::ID, "lookup-table"),
    ];
    known
        .iter()
        .find(|(id, _)| id == program)
        .map_or_else(|| program.to_string(), |(_, name)| (*name).to_string())
}

/// Re-registers the programs if the chain was rebuilt without them.
fn spawn_builtin_watcher(locker: SurfnetSvmLocker) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let missing = locker
                .with_svm_reader(|svm| svm.inner.svm.get_account(&device_registry::ID).is_none());
            if missing {
                locker.with_svm_writer(register_programs);
            }
        }
    });
}
