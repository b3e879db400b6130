//! Where the CLI connects and who signs: solana CLI conventions, plus a small
//! depinkit config file (`depin config set`) with a URL, a keypair and network
//! names. Precedence: the flag, then the depinkit config, then the solana CLI's
//! config, then the default (localhost, `~/.config/solana/id.json`).

use crate::error::CliError;
use serde::{Deserialize, Serialize};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, read_keypair_file},
};
use std::{collections::BTreeMap, path::PathBuf, str::FromStr};

/// The RPC URL for `--url`: an http(s) URL, or a moniker the solana CLI knows;
/// anything else is bad input.
pub fn resolve_url(url: &str) -> Result<String, CliError> {
    Ok(match url {
        "localhost" | "l" => "http://127.0.0.1:8899".into(),
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        other => {
            let rest = other
                .strip_prefix("http://")
                .or_else(|| other.strip_prefix("https://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                    other.into()
                }
                _ => {
                    return Err(CliError::Input(format!(
                        "{other:?} is not a cluster URL: give http(s)://HOST:PORT or one of localhost, devnet, testnet, mainnet-beta"
                    )));
                }
            }
        }
    })
}

/// Whether `url` is Solana's mainnet, where test tokens and airdrops make no sense.
pub fn is_mainnet(url: &str) -> bool {
    url.contains("mainnet")
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

/// A setting and where it came from, as `depin config get` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Setting {
    /// The value.
    pub value: String,
    /// `flag`, `depinkit config`, `solana config` or `default`.
    pub source: &'static str,
}

/// The URL: `--url`, else the depinkit config's, else the solana CLI config's,
/// else localhost (monikers resolved).
pub fn url(flag: Option<&str>) -> Result<Setting, CliError> {
    let (chosen, source) = match flag {
        Some(url) => (url.to_string(), "flag"),
        None => match DepinConfig::load()?.url {
            Some(url) => (url, "depinkit config"),
            None => match solana_config().json_rpc_url {
                Some(url) => (url, "solana config"),
                None => ("localhost".to_string(), "default"),
            },
        },
    };
    Ok(Setting {
        value: resolve_url(&chosen)?,
        source,
    })
}

/// The keypair path: `--keypair`, else the depinkit config's, else the solana
/// CLI config's, else `~/.config/solana/id.json`.
pub fn keypair_path(flag: Option<&str>) -> Result<Setting, CliError> {
    let (path, source) = match flag {
        Some(path) => (path.to_string(), "flag"),
        None => match DepinConfig::load()?.keypair {
            Some(path) => (path, "depinkit config"),
            None => match solana_config().keypair_path {
                Some(path) => (path, "solana config"),
                None => (
                    dirs::home_dir()
                        .unwrap_or_default()
                        .join(".config/solana/id.json")
                        .display()
                        .to_string(),
                    "default",
                ),
            },
        },
    };
    Ok(Setting {
        value: path,
        source,
    })
}

/// Reads a keypair file, with an error that says which file and what to do.
pub fn read_keypair(path: &std::path::Path) -> Result<Keypair, CliError> {
    read_keypair_file(path).map_err(|e| {
        CliError::Input(format!(
            "cannot read keypair {}: {e} (pass one with -k/--keypair, or create one with `depin wallet new`)",
            path.display()
        ))
    })
}

/// Writes a new keypair file readable by its owner only (mode 0600), never over
/// an existing file.
pub fn write_new_keypair(keypair: &Keypair, path: &std::path::Path) -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::Input(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => CliError::Input(format!(
                "{} exists: keys are never overwritten (choose another file)",
                path.display()
            )),
            _ => CliError::Input(format!("cannot write {}: {e}", path.display())),
        })?;
    let bytes = serde_json::to_string(&keypair.to_bytes().to_vec()).expect("json");
    file.write_all(bytes.as_bytes())
        .map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))
}

/// The depinkit config: a URL and a keypair (`depin config set`), and network
/// names chosen by the user.
#[derive(Serialize, Deserialize, Default, Debug)]
pub struct DepinConfig {
    /// RPC URL or moniker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Keypair file path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keypair: Option<String>,
    /// Network name to network address.
    #[serde(default)]
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
