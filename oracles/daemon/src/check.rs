//! `depin-oracle check`: whether a configuration can run, step by step, with
//! the reason when it cannot (the keypair, the cluster, the network and this
//! oracle's place in it, the devices, the database).

use crate::{
    chain::{Chain, RpcChain},
    config::Config,
    store::Store,
};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::signature::Signer;

/// One step's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was checked.
    pub step: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, or why it failed.
    pub detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = if self.ok { "ok  " } else { "FAIL" };
        write!(f, "{mark} {:<9} {}", self.step, self.detail)
    }
}

/// Checks `config` against the chain; stops at the first step the next ones
/// need.
pub async fn check(config: &Config) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut finding = |step, ok, detail: String| {
        findings.push(Finding { step, ok, detail });
        ok
    };
    let path = config.keypair_path();
    let keypair = match solana_sdk::signature::read_keypair_file(&path) {
        Ok(keypair) => keypair,
        Err(e) => {
            finding(
                "keypair",
                false,
                format!("cannot read {}: {e}", path.display()),
            );
            return findings;
        }
    };
    finding(
        "keypair",
        true,
        format!("{} ({})", keypair.pubkey(), path.display()),
    );
    let rpc = RpcClient::new(config.chain.rpc_url.clone());
    match rpc.get_version().await {
        Ok(version) => finding(
            "cluster",
            true,
            format!(
                "{} (solana-core {})",
                config.chain.rpc_url, version.solana_core
            ),
        ),
        Err(e) => {
            finding(
                "cluster",
                false,
                format!("cannot reach {}: {e}", config.chain.rpc_url),
            );
            return findings;
        }
    };
    let network = config.network().expect("checked when loaded");
    let chain = RpcChain::new(rpc);
    let info = match chain.network(&network).await {
        Ok(info) => info,
        Err(e) => {
            finding("network", false, format!("{network}: {e}"));
            return findings;
        }
    };
    let is_oracle = info.oracles.contains(&keypair.pubkey());
    finding(
        "network",
        true,
        format!(
            "{network} ({:?}; {} of {} oracles finalize a root)",
            info.category,
            info.threshold,
            info.oracles.len()
        ),
    );
    finding(
        "oracle",
        is_oracle,
        if is_oracle {
            format!("{} is one of the network's oracles", keypair.pubkey())
        } else {
            format!(
                "{} is not one of the network's oracles: the network authority adds it with `depin network update --oracle ...`",
                keypair.pubkey()
            )
        },
    );
    match chain.devices(&network).await {
        Ok(devices) => finding("devices", true, format!("{} onboarded", devices.len())),
        Err(e) => finding("devices", false, e.to_string()),
    };
    match Store::open(&config.store.database_url).await {
        Ok(store) => finding(
            "database",
            true,
            format!(
                "{} ({:?}, migrations applied)",
                redact_password(&config.store.database_url),
                store.backend()
            ),
        ),
        Err(e) => finding("database", false, e.to_string()),
    };
    findings
}

/// The URL with its password hidden, for printing.
fn redact_password(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***{}", &url[..scheme], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
