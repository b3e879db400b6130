//! Where the CLI connects and who signs: solana CLI conventions, plus a small
//! depinkit config file naming networks.

use crate::error::CliError;
use serde::{Deserialize, Serialize};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, read_keypair_file},
};
use std::{collections::BTreeMap, path::PathBuf, str::FromStr};

/// The RPC URL for `--url`: a URL, or the monikers the solana CLI knows.
pub fn resolve_url(url: &str) -> String {
    match url {
        "localhost" | "l" => "http://127.0.0.1:8899".into(),
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        other => other.into(),
    }
}

/// The solana CLI's config file, of which the CLI reads two fields.
#[derive(Deserialize, Default)]
struct SolanaCliConfig {
    json_rpc_url: Option<String>,
    keypair_path: Option<String>,
}

fn solana_config() -> SolanaCliConfig {
    let Some(home) = dirs::home_dir() else {
        return SolanaCliConfig::default();
    };
    std::fs::read_to_string(home.join(".config/solana/cli/config.yml"))
        .ok()
        .and_then(|text| serde_yaml::from_str(&text).ok())
        .unwrap_or_default()
}

/// `--url`, else the solana CLI config's, else localhost.
pub fn url(flag: Option<&str>) -> String {
    let chosen = flag
        .map(str::to_string)
        .or_else(|| solana_config().json_rpc_url)
        .unwrap_or_else(|| "localhost".into());
    resolve_url(&chosen)
}

/// The keypair path: `--keypair`, else the solana CLI config's, else
/// `~/.config/solana/id.json`.
pub fn keypair_path(flag: Option<&str>) -> PathBuf {
    if let Some(path) = flag {
        return PathBuf::from(path);
    }
    if let Some(path) = solana_config().keypair_path {
        return PathBuf::from(path);
    }
    dirs::home_dir()
        .unwrap_or_default()
        .join(".config/solana/id.json")
}

/// Reads a keypair file, with an error that says which file and what to do.
pub fn read_keypair(path: &std::path::Path) -> Result<Keypair, CliError> {
    read_keypair_file(path).map_err(|e| {
        CliError::Input(format!(
            "cannot read keypair {}: {e} (pass one with -k/--keypair, or create it with `solana-keygen new`)",
            path.display()
        ))
    })
}

/// The depinkit config: network names chosen by the user.
#[derive(Serialize, Deserialize, Default, Debug)]
pub struct DepinConfig {
    /// Network name to network address.
    pub networks: BTreeMap<String, String>,
}

/// Path of the depinkit config: `$DEPIN_CONFIG`, else `~/.config/depinkit/config.json`.
pub fn depin_config_path() -> PathBuf {
    std::env::var_os("DEPIN_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            dirs::home_dir()
                .unwrap_or_default()
                .join(".config/depinkit/config.json")
        })
}

impl DepinConfig {
    /// Reads the config (empty if missing).
    pub fn load() -> Result<Self, CliError> {
        let path = depin_config_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                CliError::Input(format!("{} is not a depinkit config: {e}", path.display()))
            }),
            Err(_) => Ok(Self::default()),
        }
    }

    /// Writes the config.
    pub fn save(&self) -> Result<(), CliError> {
        let path = depin_config_path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::Input(format!("cannot create {}: {e}", dir.display())))?;
        }
        std::fs::write(&path, serde_json::to_string_pretty(self).expect("json"))
            .map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))
    }

    /// The address `--network` names: an address, or a name in this config.
    pub fn resolve_network(&self, value: &str) -> Result<Pubkey, CliError> {
        if let Ok(address) = Pubkey::from_str(value) {
            return Ok(address);
        }
        self.networks
            .get(value)
            .and_then(|address| Pubkey::from_str(address).ok())
            .ok_or_else(|| {
                CliError::Input(format!(
                    "unknown network {value:?}: pass its address, or a name from `depin network list` ({})",
                    depin_config_path().display()
                ))
            })
    }
}

/// Parses a public key flag.
pub fn pubkey(value: &str, what: &str) -> Result<Pubkey, CliError> {
    Pubkey::from_str(value)
        .map_err(|_| CliError::Input(format!("{what} {value:?} is not a valid address")))
}
