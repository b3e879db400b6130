//! `depin localnet`.

use crate::error::CliError;
use depinkit_localnet::LocalnetConfig;
use std::net::SocketAddr;

/// Starts the localnet and serves until Ctrl-C or SIGTERM.
pub fn run(bind: SocketAddr) -> Result<(), CliError> {
    depinkit_localnet::serve(LocalnetConfig {
        bind,
        ..LocalnetConfig::default()
    })
    .map_err(|e| CliError::Rpc(e.to_string()))
}
