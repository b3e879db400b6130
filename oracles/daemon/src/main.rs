//! `depin-oracle`: the depinkit oracle daemon's command line.

use clap::{Parser, Subcommand};
use depinkit_oracle::{
    api, bundle::Bundles, chain::RpcChain, check, config::Config, daemon, epoch, store::Store,
    verify_epoch,
};
use depinkit_sdk::proofs::ProofFile;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use std::path::{Path, PathBuf};

/// The depinkit oracle: authenticates device reports, closes epochs, votes roots.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the daemon: ingest reports over HTTP, keep them, follow the chain.
    /// Stops cleanly on SIGTERM or Ctrl-C.
    Run {
        /// The settings file (see oracles/oracle.example.toml).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Take the cumulative totals of the pool's latest finalized root from a
    /// proof file (`depin oracle tree` writes one; an epoch finalized before
    /// this oracle ran), checked against the chain's root, so the epoch
    /// worker can go on from it.
    ImportRoot {
        /// The settings file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The proof file of the latest finalized root.
        #[arg(long, value_name = "FILE")]
        proofs: PathBuf,
    },
    /// Recompute an epoch's root from its bundle (every signature checked
    /// again, the rule set re-run) and compare it with the root the pool
    /// finalized. Exits 0 only when they are equal.
    VerifyEpoch {
        /// The epoch.
        epoch: u64,
        /// The bundle: a file, or an oracle's URL for it
        /// (`http://HOST:8780/v1/epochs/N/bundle`).
        #[arg(long, value_name = "URL|FILE")]
        bundle: String,
        /// JSON-RPC URL of the cluster.
        #[arg(long, default_value = "http://127.0.0.1:8899")]
        rpc_url: String,
    },
    /// What this oracle's store holds of an epoch (the API's
    /// `GET /v1/epochs/{n}`, read from the database directly), as JSON.
    EpochShow {
        /// The epoch.
        epoch: u64,
        /// The settings file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Write an epoch's published bundle to a file (or stdout), for
    /// `verify-epoch` or an archive.
    BundleExport {
        /// The epoch.
        epoch: u64,
        /// The settings file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Where to write it (stdout when absent).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Check a configuration: keypair, cluster, network, this oracle's place
    /// in it, devices, database. Exits non-zero with the reason when one fails.
    Check {
        /// The settings file (see oracles/oracle.example.toml).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

fn load(path: &Path) -> Config {
    match Config::load(path, std::env::vars()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}

/// Prints `message` as the one-line error and exits 2.
fn fail(message: String) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

/// Completes on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config } => {
            let config = load(&config);
            daemon::init_logging(config.log.format);
            if let Err(e) = daemon::run(&config, shutdown_signal()).await {
                tracing::error!(error = %e, "depin-oracle stopped");
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
        Command::ImportRoot { config, proofs } => {
            let config = load(&config);
            let text = std::fs::read_to_string(&proofs)
                .unwrap_or_else(|e| fail(format!("cannot read {}: {e}", proofs.display())));
            let file: ProofFile = serde_json::from_str(&text)
                .unwrap_or_else(|e| fail(format!("{} is not a proof file: {e}", proofs.display())));
            let network = config.network().unwrap_or_else(|e| fail(e));
            let store = Store::open(&config.store.database_url)
                .await
                .unwrap_or_else(|e| fail(e.to_string()));
            let chain = RpcChain::new(RpcClient::new(config.chain.rpc_url.clone()));
            match epoch::import_root(&chain, &network, &store, &file).await {
                Ok(epoch) => println!(
                    "imported epoch {epoch}: {} devices, {} in total",
                    file.claims.len(),
                    file.total
                ),
                Err(e) => fail(e.to_string()),
            }
        }
        Command::VerifyEpoch {
            epoch,
            bundle,
            rpc_url,
        } => {
            let bundle = match verify_epoch::read_bundle(&bundle).await {
                Ok(bundle) => bundle,
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(2);
                }
            };
            let chain = RpcChain::new(RpcClient::new(rpc_url));
            match verify_epoch::verify_epoch(&chain, epoch, &bundle).await {
                Ok(agreed) => println!("ok: {agreed}"),
                Err(why) => {
                    eprintln!("error: {why}");
                    std::process::exit(1);
                }
            }
        }
        Command::EpochShow { epoch, config } => {
            let config = load(&config);
            let store = Store::open(&config.store.database_url)
                .await
                .unwrap_or_else(|e| fail(e.to_string()));
            match api::epoch_summary(&store, epoch).await {
                Ok(Some(summary)) => println!("{summary:#}"),
                Ok(None) => fail(format!("epoch {epoch} has no reports here yet")),
                Err(e) => fail(e.to_string()),
            }
        }
        Command::BundleExport { epoch, config, out } => {
            let config = load(&config);
            let bundles =
                Bundles::open(&config.bundles.location).unwrap_or_else(|e| fail(e.to_string()));
            let bytes = match bundles.get(epoch).await {
                Ok(Some(bytes)) => bytes,
                Ok(None) => fail(format!(
                    "no bundle of epoch {epoch} under {} (it is published before the vote)",
                    config.bundles.location
                )),
                Err(e) => fail(e.to_string()),
            };
            match out {
                Some(path) => std::fs::write(&path, &bytes)
                    .unwrap_or_else(|e| fail(format!("cannot write {}: {e}", path.display()))),
                None => {
                    use std::io::Write;
                    std::io::stdout()
                        .write_all(&bytes)
                        .unwrap_or_else(|e| fail(e.to_string()));
                }
            }
        }
        Command::Check { config } => {
            let config = load(&config);
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
