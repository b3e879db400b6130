//! `depinkit-localnet`: serves a local chain with the depinkit programs until
//! SIGINT or SIGTERM.

use clap::Parser;
use depinkit_localnet::LocalnetArgs;
use std::path::PathBuf;

/// A local Solana chain running the depinkit programs natively, with the
/// standard JSON-RPC (and websocket pubsub on the next port).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    #[command(flatten)]
    localnet: LocalnetArgs,
}

fn main() {
    let args = Args::parse();
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let default_keypair = home.join(".config/solana/id.json");
    if let Err(error) = depinkit_localnet::serve(args.localnet.config(default_keypair)) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
