//! `depin localnet`: the same options and behaviour as `depinkit-localnet`.

use crate::error::CliError;
use depinkit_localnet::LocalnetArgs;

/// Starts the localnet and serves until Ctrl-C or SIGTERM; without
/// `--keypair` it funds the keypair depin signs with (created if missing).
pub fn run(args: LocalnetArgs) -> Result<(), CliError> {
    let default_keypair = crate::config::keypair_path(None)?.value.into();
    depinkit_localnet::serve(args.config(default_keypair)).map_err(|e| CliError::Rpc(e.to_string()))
}
