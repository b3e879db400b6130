//! `depin localnet`.

use crate::error::CliError;
use depinkit_localnet::{Localnet, LocalnetConfig};
use std::net::SocketAddr;

/// Starts the localnet and serves until Ctrl-C or SIGTERM.
pub fn run(bind: SocketAddr) -> Result<(), CliError> {
    let localnet = Localnet::start(LocalnetConfig {
        bind,
        ..LocalnetConfig::default()
    })
    .map_err(|e| CliError::Rpc(e.to_string()))?;
    println!("RPC URL:       {}", localnet.rpc_url);
    println!("Websocket URL: {}", localnet.ws_url);
    println!("Keypair:       {}", localnet.keypair_path.display());
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
