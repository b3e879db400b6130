//! `depin`: every depinkit user flow from a terminal, in the style of the
//! `solana` and `anchor` CLIs.

mod commands;
mod config;
mod context;
mod error;
mod location;
mod output;

use clap::{Parser, Subcommand};
use commands::{
    credits::CreditsCommand, device::DeviceCommand, maker::MakerCommand, network::NetworkCommand,
    oracle::OracleCommand, order::OrderCommand, pool::PoolCommand, rewards::RewardsCommand,
};
use context::Context;
use output::OutputFormat;

/// depinkit: decentralized physical infrastructure networks on Solana.
#[derive(Parser, Debug)]
#[command(name = "depin", version, about, propagate_version = true)]
struct Cli {
    /// RPC URL or moniker: localhost, devnet, testnet, mainnet-beta
    /// [default: the solana CLI config's, else localhost]
    #[arg(short = 'u', long, global = true, value_name = "URL_OR_MONIKER")]
    url: Option<String>,
    /// Keypair file that signs and pays
    /// [default: the solana CLI config's, else ~/.config/solana/id.json]
    #[arg(short = 'k', long, global = true, value_name = "FILE")]
    keypair: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value = "display")]
    output: OutputFormat,
    /// Network address, or a name from the depinkit config (~/.config/depinkit/config.json).
    #[arg(long, global = true, value_name = "ADDRESS_OR_NAME")]
    network: Option<String>,
    /// Skip confirmations.
    #[arg(short = 'y', long = "yes", global = true)]
    yes: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start a local chain with the depinkit programs (JSON-RPC and websocket).
    Localnet {
        /// JSON-RPC address; the websocket listens on the next port.
        #[arg(long, default_value = "127.0.0.1:8899")]
        bind: std::net::SocketAddr,
    },
    /// Create, change and inspect networks.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Register device makers; approve or revoke them (network authority).
    #[command(subcommand)]
    Maker(MakerCommand),
    /// Device keys, onboarding, locations, and listings.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// The network's reward pool.
    #[command(subcommand)]
    Pool(PoolCommand),
    /// Claimable rewards, and claiming them.
    #[command(subcommand)]
    Rewards(RewardsCommand),
    /// Burn-and-mint credits.
    #[command(subcommand)]
    Credits(CreditsCommand),
    /// Escrowed service orders.
    #[command(subcommand)]
    Order(OrderCommand),
    /// An oracle operator's manual tools: build a reward tree, vote its root.
    #[command(subcommand)]
    Oracle(OracleCommand),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Localnet { bind } => commands::localnet::run(bind),
        command => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            let ctx = Context::new(
                cli.url.as_deref(),
                cli.keypair.as_deref(),
                cli.output,
                cli.network.clone(),
                cli.yes,
            );
            runtime.block_on(async move {
                match command {
                    Command::Network(c) => commands::network::run(&ctx, c).await,
                    Command::Maker(c) => commands::maker::run(&ctx, c).await,
                    Command::Device(c) => commands::device::run(&ctx, c).await,
                    Command::Pool(c) => commands::pool::run(&ctx, c).await,
                    Command::Rewards(c) => commands::rewards::run(&ctx, c).await,
                    Command::Credits(c) => commands::credits::run(&ctx, c).await,
                    Command::Order(c) => commands::order::run(&ctx, c).await,
                    Command::Oracle(c) => commands::oracle::run(&ctx, c).await,
                    Command::Localnet { .. } => unreachable!("handled above"),
                }
            })
        }
    };
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(error.exit_code());
    }
}
