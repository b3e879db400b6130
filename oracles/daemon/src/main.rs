//! `depin-oracle`: the depinkit oracle daemon's command line.

use clap::{Parser, Subcommand};
use depinkit_oracle::{check, config::Config};
use std::path::PathBuf;

/// The depinkit oracle: authenticates device reports, closes epochs, votes roots.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a configuration: keypair, cluster, network, this oracle's place
    /// in it, devices. Exits non-zero with the reason when one fails.
    Check {
        /// The settings file (see oracles/oracle.example.toml).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config } => {
            let config = match Config::load(&config, std::env::vars()) {
                Ok(config) => config,
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
            };
            let findings = check::check(&config).await;
            for finding in &findings {
                println!("{finding}");
            }
            if findings.iter().any(|f| !f.ok) {
                std::process::exit(1);
            }
        }
    }
}
