//! `depin`: every depinkit user flow from a terminal, in the style of the
//! `solana` and `anchor` CLIs, with nothing else to install.

mod commands;
mod config;
mod context;
mod csv_file;
mod error;
mod location;
mod output;

use clap::{Parser, Subcommand};
use commands::{
    config::ConfigCommand, credits::CreditsCommand, device::DeviceCommand, maker::MakerCommand,
    network::NetworkCommand, oracle::OracleCommand, order::OrderCommand, payments::PaymentsCommand,
    pool::PoolCommand, rewards::RewardsCommand, token::TokenCommand, wallet::WalletCommand,
};
use context::{Context, Globals};
use error::CliError;
use output::OutputFormat;

/// depinkit: decentralized physical infrastructure networks on Solana.
///
/// Amounts you type and read are in whole tokens of their mint ("1.5"); JSON
/// output, files and `--base-units` use base units.
#[derive(Parser, Debug)]
#[command(name = "depin", version, about, propagate_version = true)]
struct Cli {
    /// RPC URL or moniker: localhost, devnet, testnet, mainnet-beta
    /// [default: `depin config`'s, else the solana CLI config's, else localhost]
    #[arg(
        short = 'u',
        long,
        global = true,
        value_name = "URL_OR_MONIKER",
        help_heading = "Global options"
    )]
    url: Option<String>,
    /// Keypair file that signs and pays [default: `depin config`'s, else the
    /// solana CLI config's, else ~/.config/solana/id.json]
    #[arg(
        short = 'k',
        long,
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    keypair: Option<String>,
    /// Output format (JSON carries amounts in base units).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "display",
        help_heading = "Global options"
    )]
    output: OutputFormat,
    /// Network address, or a name from the depinkit config.
    #[arg(
        long,
        global = true,
        value_name = "ADDRESS_OR_NAME",
        help_heading = "Global options"
    )]
    network: Option<String>,
    /// Amounts you type are base units, not whole tokens.
    #[arg(long, global = true, help_heading = "Global options")]
    base_units: bool,
    /// Skip confirmations.
    #[arg(
        short = 'y',
        long = "yes",
        global = true,
        help_heading = "Global options"
    )]
    yes: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Where depin connects and who signs (url, keypair), like `solana config`.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Your wallet: a new keypair, its address, its SOL balance.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// SOL for a wallet on localnet, devnet or testnet.
    Airdrop {
        /// SOL to ask for.
        sol: String,
        /// Who receives it [default: the keypair's address].
        #[arg(value_name = "RECIPIENT")]
        to: Option<String>,
    },
    /// Test tokens off mainnet: create a mint, mint to a wallet, balances.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Start a local chain with the depinkit programs (see `depin localnet --help`).
    Localnet,
    /// Create, change and inspect networks.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Register device makers; approve or revoke them (network authority).
    #[command(subcommand)]
    Maker(MakerCommand),
    /// Device keys, onboarding, locations, status and listings.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// The network's reward pool.
    #[command(subcommand)]
    Pool(PoolCommand),
    /// Claimable rewards, and claiming them.
    #[command(subcommand)]
    Rewards(RewardsCommand),
    /// The network's payment settings (credits, order fees).
    #[command(subcommand)]
    Payments(PaymentsCommand),
    /// Burn-and-mint credits.
    #[command(subcommand)]
    Credits(CreditsCommand),
    /// Escrowed service orders.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Files stored across the network's storage providers: put, get.
    #[command(subcommand)]
    Storage(commands::storage::StorageCommand),
    /// The mapping network's verified map, bought with credits.
    #[command(subcommand)]
    Map(commands::map::MapCommand),
    /// An oracle operator's manual tools: reward trees and roots, prices,
    /// usage and settlements.
    #[command(subcommand)]
    Oracle(OracleCommand),
    /// The whole system on this machine: a localnet, a network per category,
    /// their oracles and a fleet of simulated devices, for a few epochs.
    Demo(commands::demo::DemoArgs),
}

/// `depin localnet`: exactly the options of `depinkit-localnet`, none of depin's.
#[derive(Parser, Debug)]
#[command(
    name = "depin localnet",
    version,
    about = "A local chain with the depinkit programs: JSON-RPC, and websocket on the next port. Serves until Ctrl-C or SIGTERM."
)]
struct LocalnetCli {
    #[command(flatten)]
    localnet: depinkit_localnet::LocalnetArgs,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = if args.get(1).map(String::as_str) == Some("localnet") {
        let cli = LocalnetCli::parse_from(
            std::iter::once("depin localnet".to_string()).chain(args.into_iter().skip(2)),
        );
        commands::localnet::run(cli.localnet)
    } else {
        run(Cli::parse())
    };
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(error.exit_code());
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    let globals = Globals {
        url: cli.url,
        keypair: cli.keypair,
        output: cli.output,
        network: cli.network,
        yes: cli.yes,
        base_units: cli.base_units,
    };
    let command = match cli.command {
        Command::Localnet => {
            return Err(CliError::Input(
                "put `localnet` first, with its own options only: `depin localnet --help`".into(),
            ));
        }
        Command::Config(c) => return commands::config::run(&globals, c),
        Command::Demo(args) => return commands::demo::run(args, globals.output),
        command => command,
    };
    let ctx = Context::new(&globals)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async move {
        match command {
            Command::Wallet(c) => commands::wallet::run(&ctx, c).await,
            Command::Airdrop { sol, to } => commands::wallet::airdrop(&ctx, &sol, to).await,
            Command::Token(c) => commands::token::run(&ctx, c).await,
            Command::Network(c) => commands::network::run(&ctx, c).await,
            Command::Maker(c) => commands::maker::run(&ctx, c).await,
            Command::Device(c) => commands::device::run(&ctx, c).await,
            Command::Pool(c) => commands::pool::run(&ctx, c).await,
            Command::Rewards(c) => commands::rewards::run(&ctx, c).await,
            Command::Payments(c) => commands::payments::run(&ctx, c).await,
            Command::Credits(c) => commands::credits::run(&ctx, c).await,
            Command::Order(c) => commands::order::run(&ctx, c).await,
            Command::Storage(c) => commands::storage::run(&ctx, c).await,
            Command::Map(c) => commands::map::run(&ctx, c).await,
            Command::Oracle(c) => commands::oracle::run(&ctx, c).await,
            Command::Localnet | Command::Config(_) | Command::Demo(_) => {
                unreachable!("handled above")
            }
        }
    })
}
