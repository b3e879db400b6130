//! `depinkit-localnet`: serves a local chain with the depinkit programs until
//! SIGINT or SIGTERM.

use clap::Parser;
use depinkit_localnet::{DEFAULT_AIRDROP_LAMPORTS, LocalnetConfig};
use std::{net::SocketAddr, path::PathBuf};

/// A local Solana chain running the depinkit programs natively, with the
/// standard JSON-RPC (and websocket pubsub on the next port).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// JSON-RPC address; the websocket listens on the next port.
    #[arg(long, default_value = "127.0.0.1:8899")]
    bind: SocketAddr,
    /// Account file to load at start (`solana account ADDRESS --output json`); repeatable.
    #[arg(long = "account", value_name = "FILE")]
    accounts: Vec<PathBuf>,
    /// Where to write the funded keypair.
    #[arg(long, value_name = "FILE")]
    keypair: Option<PathBuf>,
    /// Lamports for the funded keypair.
    #[arg(long, default_value_t = DEFAULT_AIRDROP_LAMPORTS)]
    airdrop: u64,
}

fn main() {
    let args = Args::parse();
    let mut config = LocalnetConfig {
        bind: args.bind,
        account_files: args.accounts,
        airdrop_lamports: args.airdrop,
        ..LocalnetConfig::default()
    };
    if let Some(path) = args.keypair {
        config.keypair_path = path;
    }
    if let Err(error) = depinkit_localnet::serve(config) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
