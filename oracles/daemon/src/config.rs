//! The operator's settings: one TOML file (`oracles/oracle.example.toml`
//! documents every setting beside its default), each setting overridable by
//! an environment variable `DEPIN_ORACLE__SECTION__SETTING`
//! (`DEPIN_ORACLE__CHAIN__RPC_URL=http://...`), as containers are configured.

use anchor_lang::prelude::Pubkey;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Prefix of the environment variables that override settings.
pub const ENV_PREFIX: &str = "DEPIN_ORACLE__";

/// Everything the daemon is told.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the chain is and what the oracle is on it.
    pub chain: ChainConfig,
    /// Where reports and epoch progress are kept.
    #[serde(default)]
    pub store: StoreConfig,
    /// The HTTP API and its limits.
    #[serde(default)]
    pub ingest: IngestConfig,
    /// When epochs stop taking reports.
    #[serde(default)]
    pub epochs: EpochsConfig,
    /// The network's other oracles.
    #[serde(default)]
    pub quorum: QuorumConfig,
    /// Where epoch bundles are published.
    #[serde(default)]
    pub bundles: BundlesConfig,
    /// The price feed for credits.
    #[serde(default)]
    pub price: PriceConfig,
    /// Claims sent for devices by this oracle.
    #[serde(default)]
    pub crank: CrankConfig,
    /// The rules that score each epoch.
    #[serde(default)]
    pub rules: RulesConfig,
    /// The compute challenges this oracle issues.
    #[serde(default)]
    pub challenges: ChallengesConfig,
    /// The map a mapping network's oracle sells.
    #[serde(default)]
    pub map: crate::map::MapSettings,
    /// How the daemon logs.
    #[serde(default)]
    pub log: LogConfig,
}

/// `[price]`: the token price this oracle votes for credits.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriceConfig {
    /// `none` (no price votes), `fixed` (`usd`) or `pyth` (`pyth_account`).
    pub source: String,
    /// The fixed USD price of one whole token (`"0.50"`).
    pub usd: String,
    /// A Pyth `PriceUpdateV2` account of the token's USD feed.
    pub pyth_account: String,
    /// Oldest Pyth price voted, seconds.
    pub max_age_secs: i64,
    /// Seconds between price votes.
    pub interval_secs: u64,
}

impl Default for PriceConfig {
    fn default() -> Self {
        PriceConfig {
            source: "none".into(),
            usd: String::new(),
            pyth_account: String::new(),
            max_age_secs: 60,
            interval_secs: 300,
        }
    }
}

impl PriceConfig {
    /// The source configured, if any.
    pub fn source(&self) -> Result<Option<crate::price::PriceSource>, String> {
        use crate::price::PriceSource;
        match self.source.as_str() {
            "none" => Ok(None),
            "fixed" => {
                crate::price::fixed_vote(&self.usd, 0, 1).map_err(|e| e.to_string())?;
                Ok(Some(PriceSource::Fixed(self.usd.clone())))
            }
            "pyth" => {
                let account = self.pyth_account.parse().map_err(|_| {
                    format!(
                        "price.pyth_account {:?} is not an address",
                        self.pyth_account
                    )
                })?;
                Ok(Some(PriceSource::Pyth {
                    account,
                    max_age_secs: self.max_age_secs,
                }))
            }
            other => Err(format!(
                "price.source {other:?} is none of \"none\", \"fixed\", \"pyth\""
            )),
        }
    }
}

/// `[rules]`: which rules score each epoch, and their constants.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// `category`: the rules of the network's category (RULES.md);
    /// `report-count`: one point per accepted report.
    pub set: String,
    /// Most points one device earns in an epoch under `report-count`.
    pub max_reports_per_device: u64,
    /// The mapping rules' constants.
    pub mapping: crate::verifier::mapping::MappingRules,
    /// The wireless proof-of-coverage rules' constants.
    pub wireless: crate::verifier::wireless::WirelessRules,
    /// The compute rules' constants.
    pub compute: crate::verifier::compute::ComputeRules,
    /// The storage rules' constants.
    pub storage: crate::verifier::storage::StorageRules,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            set: "category".into(),
            max_reports_per_device: 10_000,
            mapping: Default::default(),
            wireless: Default::default(),
            compute: Default::default(),
            storage: Default::default(),
        }
    }
}

impl RulesConfig {
    /// The verifier for a network of `category`.
    pub fn verifier(
        &self,
        category: device_registry::state::Category,
    ) -> Box<dyn crate::verifier::Verifier> {
        use crate::verifier::ReportCount;
        use device_registry::state::Category;
        match (self.set.as_str(), category) {
            ("category", Category::Mapping) => Box::new(self.mapping),
            ("category", Category::Wireless) => Box::new(self.wireless),
            ("category", Category::Compute) => Box::new(self.compute.clone()),
            ("category", Category::Storage) => Box::new(self.storage),
            _ => Box::new(ReportCount {
                max_per_device: self.max_reports_per_device,
            }),
        }
    }

    fn check(&self) -> Result<(), String> {
        if !matches!(self.set.as_str(), "category" | "report-count") {
            return Err(format!(
                "rules.set {:?} is neither \"category\" nor \"report-count\"",
                self.set
            ));
        }
        if self.max_reports_per_device == 0 {
            return Err("rules.max_reports_per_device must be at least 1".into());
        }
        self.mapping.check().map_err(|e| format!("rules.{e}"))?;
        self.wireless.check().map_err(|e| format!("rules.{e}"))?;
        self.compute.check().map_err(|e| format!("rules.{e}"))?;
        self.storage.check().map_err(|e| format!("rules.{e}"))
    }

    /// Most milliseconds ingest lets pass between a compute challenge and
    /// its answer's arrival: the longest answer bound of the compute rules,
    /// and 2 s for the network.
    pub fn max_answer_delay_ms(&self) -> i64 {
        let longest = self
            .compute
            .answer_bounds_ms
            .values()
            .copied()
            .chain([self.compute.default_answer_bound_ms])
            .max()
            .unwrap_or(0);
        longest.saturating_add(2_000)
    }
}

/// `[challenges]`: the compute challenges this oracle issues (compute
/// networks only), and how often it issues entropy (beacons, storage seeds).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChallengesConfig {
    /// Side of the challenge's matrices (2 to 40; the product must fit a report).
    pub size: u16,
    /// Seconds between two challenges to one device.
    pub interval_secs: u64,
    /// Seconds between two entropies (RULES.md: 60). Shorter suits epochs of
    /// less than a minute (a storage epoch's seed is issued within its
    /// `rules.storage.seed_window_ms`); the wireless rules' entropy age limit
    /// must stay above it.
    pub entropy_interval_secs: u64,
}

impl Default for ChallengesConfig {
    fn default() -> Self {
        ChallengesConfig {
            size: crate::challenges::DEFAULT_CHALLENGE_SIZE,
            interval_secs: crate::challenges::DEFAULT_CHALLENGE_INTERVAL_SECS,
            entropy_interval_secs: (crate::entropy::ENTROPY_INTERVAL_MS / 1000) as u64,
        }
    }
}

/// `[crank]`: claims this oracle sends for devices, paying the fees.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrankConfig {
    /// Whether to claim for devices at all.
    pub enabled: bool,
    /// Least unclaimed amount worth a claim, in base units of the reward token.
    pub min_unclaimed: u64,
    /// Most claims sent in one round.
    pub max_claims_per_round: usize,
    /// Seconds between rounds (a round also follows each finalized epoch).
    pub interval_secs: u64,
}

impl Default for CrankConfig {
    fn default() -> Self {
        CrankConfig {
            enabled: false,
            min_unclaimed: 1,
            max_claims_per_round: 1000,
            interval_secs: 600,
        }
    }
}

/// `[bundles]`: where each epoch's bundle is published.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BundlesConfig {
    /// A directory, or `s3://bucket/prefix` / `gs://bucket/prefix`.
    pub location: String,
}

impl Default for BundlesConfig {
    fn default() -> Self {
        BundlesConfig {
            location: "depin-oracle-bundles".into(),
        }
    }
}

/// `[quorum]`: the exchange of reports with the network's other oracles.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuorumConfig {
    /// API base URLs of the other oracles (`http://host:8780`).
    pub peers: Vec<String>,
    /// Seconds after an epoch closes that its exchange waits for peers that
    /// cannot be reached; the epoch is then scored without them.
    pub exchange_timeout_secs: i64,
}

impl Default for QuorumConfig {
    fn default() -> Self {
        QuorumConfig {
            peers: Vec::new(),
            exchange_timeout_secs: 120,
        }
    }
}

/// `[store]`: the database.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite:PATH` (created if missing) or `postgres://user:password@host/db`.
    pub database_url: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            database_url: "sqlite:depin-oracle.db".into(),
        }
    }
}

/// `[ingest]`: the HTTP API and what one request or device may send.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Address the API listens on.
    pub bind: String,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Most reports in one batch.
    pub max_batch_reports: usize,
    /// Reports one device may send per minute, sustained.
    pub device_reports_per_minute: u32,
    /// Reports one device may send at once after a quiet period.
    pub device_burst: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            bind: "127.0.0.1:8780".into(),
            max_body_bytes: 4 * 1024 * 1024,
            max_batch_reports: 1000,
            device_reports_per_minute: 120,
            device_burst: 240,
        }
    }
}

/// `[epochs]`: the epoch worker's timing.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EpochsConfig {
    /// Seconds after an epoch's end during which its reports are still
    /// taken (devices' clocks and queues); the epoch closes after it.
    pub grace_secs: i64,
    /// Seconds between two looks at the pool by the epoch worker.
    pub tick_secs: u64,
}

impl Default for EpochsConfig {
    fn default() -> Self {
        EpochsConfig {
            grace_secs: 60,
            tick_secs: 10,
        }
    }
}

/// `[log]`: the daemon's logs (level from `RUST_LOG`, default `info`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` for people, `json` for log collectors.
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Text,
    /// One JSON object per event.
    Json,
}

/// `[chain]`: the cluster, the network served and the oracle's key.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// JSON-RPC URL of the cluster.
    #[serde(default = "default_rpc_url")]
    pub rpc_url: String,
    /// Websocket URL of the cluster; empty: derived from `rpc_url` (`ws`,
    /// the next port), as Solana's tools do.
    #[serde(default)]
    pub ws_url: String,
    /// Follow the programs' events over the websocket (devices onboarded
    /// or suspended, pools funded, epochs finalized) between the periodic
    /// reads.
    #[serde(default = "default_follow_events")]
    pub follow_events: bool,
    /// Address of the network this oracle serves (`depin network show`).
    pub network: String,
    /// The oracle's keypair file: one of the network's oracle keys.
    #[serde(default = "default_keypair")]
    pub keypair: PathBuf,
    /// Seconds between full reads of the network's devices.
    #[serde(default = "default_registry_refresh_secs")]
    pub registry_refresh_secs: u64,
    /// Fewest seconds between the extra reads that reports from unknown
    /// device keys cause.
    #[serde(default = "default_unknown_key_refresh_secs")]
    pub unknown_key_refresh_secs: u64,
}

fn default_rpc_url() -> String {
    "http://127.0.0.1:8899".into()
}

fn default_follow_events() -> bool {
    true
}

fn default_keypair() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(".config/solana/id.json")
}

fn default_registry_refresh_secs() -> u64 {
    60
}

fn default_unknown_key_refresh_secs() -> u64 {
    10
}

/// Why the settings cannot be used, naming the file or setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The file, after the environment's overrides, is not valid settings.
    #[error("{0}: {1}")]
    Invalid(String, String),
}

impl Config {
    /// Reads `path`, applies the `DEPIN_ORACLE__...` variables of `env`, and
    /// checks the result.
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.into(), e))?;
        Self::parse(&text, &path.display().to_string(), env)
    }

    /// [`Config::load`] from text; `origin` names it in errors.
    pub fn parse(
        text: &str,
        origin: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let invalid = |why: String| ConfigError::Invalid(origin.into(), why);
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| invalid(e.message().into()))?;
        for (name, value) in env {
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            override_setting(&mut table, path, &value)
                .map_err(|why| ConfigError::Invalid(name.clone(), why))?;
        }
        // Read back from text so an error quotes the offending line.
        let merged = toml::to_string(&table).map_err(|e| invalid(e.to_string()))?;
        let config: Config = toml::from_str(&merged).map_err(|e| invalid(one_line(&e)))?;
        config.check().map_err(invalid)?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let chain = &self.chain;
        if !(chain.rpc_url.starts_with("http://") || chain.rpc_url.starts_with("https://")) {
            return Err(format!(
                "chain.rpc_url {:?} is not an http(s) URL",
                chain.rpc_url
            ));
        }
        self.network()?;
        self.websocket_url()?;
        if chain.registry_refresh_secs == 0 {
            return Err("chain.registry_refresh_secs must be at least 1".into());
        }
        let url = &self.store.database_url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(format!(
                "store.database_url {url:?} is neither sqlite:PATH nor postgres://..."
            ));
        }
        self.bind_address()?;
        let ingest = &self.ingest;
        if ingest.max_body_bytes < 1024 || ingest.max_batch_reports == 0 {
            return Err(
                "ingest.max_body_bytes must be at least 1024 and ingest.max_batch_reports at least 1"
                    .into(),
            );
        }
        if ingest.device_reports_per_minute == 0 || ingest.device_burst == 0 {
            return Err(
                "ingest.device_reports_per_minute and ingest.device_burst must be at least 1"
                    .into(),
            );
        }
        self.price.source()?;
        if self.price.interval_secs == 0 {
            return Err("price.interval_secs must be at least 1".into());
        }
        for peer in &self.quorum.peers {
            if !(peer.starts_with("http://") || peer.starts_with("https://")) {
                return Err(format!("quorum.peers: {peer:?} is not an http(s) URL"));
            }
        }
        self.rules.check()?;
        if !(2..=depinkit_reports::MAX_CHALLENGE_SIZE).contains(&self.challenges.size)
            || self.challenges.interval_secs == 0
        {
            return Err(format!(
                "challenges.size must be 2 to {} and challenges.interval_secs at least 1",
                depinkit_reports::MAX_CHALLENGE_SIZE
            ));
        }
        if !(1..=3_600).contains(&self.challenges.entropy_interval_secs) {
            return Err("challenges.entropy_interval_secs must be 1 to 3600".into());
        }
        if self.map.max_cells == 0 || self.map.max_skew_secs <= 0 {
            return Err("map.max_cells and map.max_skew_secs must be at least 1".into());
        }
        if self.crank.max_claims_per_round == 0 || self.crank.interval_secs == 0 {
            return Err(
                "crank.max_claims_per_round and crank.interval_secs must be at least 1".into(),
            );
        }
        if self.quorum.exchange_timeout_secs < 0 {
            return Err("quorum.exchange_timeout_secs must not be negative".into());
        }
        if self.epochs.grace_secs < 0 || self.epochs.tick_secs == 0 {
            return Err(
                "epochs.grace_secs must not be negative and epochs.tick_secs at least 1".into(),
            );
        }
        Ok(())
    }

    /// The keypair file, `~/` expanded to the home directory.
    pub fn keypair_path(&self) -> PathBuf {
        match self.chain.keypair.strip_prefix("~") {
            Ok(rest) => std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join(rest),
            Err(_) => self.chain.keypair.clone(),
        }
    }

    /// The websocket URL events are followed on.
    pub fn websocket_url(&self) -> Result<String, String> {
        let ws = &self.chain.ws_url;
        if ws.is_empty() {
            return crate::events::websocket_url(&self.chain.rpc_url)
                .map_err(|e| format!("chain.rpc_url: no websocket URL follows from it: {e}"));
        }
        if !(ws.starts_with("ws://") || ws.starts_with("wss://")) {
            return Err(format!("chain.ws_url {ws:?} is not a ws(s) URL"));
        }
        Ok(ws.clone())
    }

    /// The address the API listens on.
    pub fn bind_address(&self) -> Result<std::net::SocketAddr, String> {
        self.ingest.bind.parse().map_err(|_| {
            format!(
                "ingest.bind {:?} is not an address:port (e.g. 127.0.0.1:8780)",
                self.ingest.bind
            )
        })
    }

    /// The network's address.
    pub fn network(&self) -> Result<Pubkey, String> {
        self.chain.network.parse().map_err(|_| {
            format!(
                "chain.network {:?} is not an address (see `depin network show`)",
                self.chain.network
            )
        })
    }
}

/// A TOML error with its quoted line, on one line.
fn one_line(error: &toml::de::Error) -> String {
    error
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "|")
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sets `section__setting` (lower-cased) in `table` to `value`, read as a
/// TOML value when it is one (numbers, booleans, arrays), else as a string.
fn override_setting(table: &mut toml::Table, path: &str, value: &str) -> Result<(), String> {
    let keys: Vec<String> = path.split("__").map(str::to_lowercase).collect();
    let (last, sections) = keys.split_last().ok_or("empty name")?;
    let mut at = table;
    for section in sections {
        at = at
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("{section} is not a section"))?;
    }
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.into()));
    at.insert(last.clone(), parsed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NETWORK: &str = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_example_documents_every_setting_and_loads() {
        let example = include_str!("../../oracle.example.toml");
        let config = Config::parse(
            example,
            "example",
            env(&[("DEPIN_ORACLE__CHAIN__NETWORK", NETWORK)]),
        )
        .unwrap();
        assert_eq!(config.chain.rpc_url, "http://127.0.0.1:8899");
        assert_eq!(config.network().unwrap().to_string(), NETWORK);
        // The example shows the defaults.
        assert_eq!(config.store, StoreConfig::default());
        assert_eq!(config.ingest, IngestConfig::default());
        assert_eq!(config.epochs, EpochsConfig::default());
        assert_eq!(config.log, LogConfig::default());
        assert_eq!(config.quorum, QuorumConfig::default());
        assert_eq!(config.bundles, BundlesConfig::default());
        assert_eq!(config.price, PriceConfig::default());
        assert_eq!(config.crank, CrankConfig::default());
        assert_eq!(config.rules, RulesConfig::default());
        assert_eq!(config.challenges, ChallengesConfig::default());
        assert_eq!(config.rules.max_answer_delay_ms(), 7_000);
        assert_eq!(config.chain.ws_url, "");
        assert!(config.chain.follow_events);
        assert_eq!(
            config.websocket_url().unwrap(),
            "ws://127.0.0.1:8900/",
            "the localnet's websocket"
        );
        for setting in [
            "rpc_url",
            "ws_url",
            "follow_events",
            "enabled",
            "min_unclaimed",
            "max_claims_per_round",
            "set",
            "max_reports_per_device",
            "resolution",
            "max_speed_kmh",
            "min_satellites",
            "contributors_per_cell",
            "base_value",
            "max_value",
            "freshness_cap_secs",
            "gpus_per_device",
            "class_weights",
            "default_class_weight",
            "challenge_rounds",
            "answer_bounds_ms",
            "default_answer_bound_ms",
            "availability_units",
            "max_rewarded_challenges",
            "[challenges]",
            "size",
            "entropy_max_age_ms",
            "beacon_interval_ms",
            "max_distance_m",
            "min_distance_resolution",
            "min_cell_distance",
            "max_frequency_delta_hz",
            "max_beacon_lag_ms",
            "max_witness_lag_ms",
            "max_antenna_gain_ddbi",
            "max_witnesses_per_beacon",
            "witness_redundancy",
            "witness_decay_ppm",
            "density_resolution",
            "density_target",
            "network",
            "keypair",
            "registry_refresh_secs",
            "unknown_key_refresh_secs",
            "database_url",
            "bind",
            "max_body_bytes",
            "max_batch_reports",
            "device_reports_per_minute",
            "device_burst",
            "grace_secs",
            "tick_secs",
            "peers",
            "exchange_timeout_secs",
            "location",
            "source",
            "usd",
            "pyth_account",
            "max_age_secs",
            "interval_secs",
            "entropy_interval_secs",
            "format",
        ] {
            assert!(example.contains(setting), "{setting} is documented");
        }
    }

    #[test]
    fn defaults_and_environment_overrides() {
        let text = format!("[chain]\nnetwork = \"{NETWORK}\"\n");
        let config = Config::parse(&text, "t", env(&[])).unwrap();
        assert_eq!(config.chain.registry_refresh_secs, 60);
        assert_eq!(config.chain.unknown_key_refresh_secs, 10);
        assert!(config.chain.keypair.ends_with(".config/solana/id.json"));
        let config = Config::parse(
            &text,
            "t",
            env(&[
                ("DEPIN_ORACLE__CHAIN__REGISTRY_REFRESH_SECS", "5"),
                ("DEPIN_ORACLE__CHAIN__RPC_URL", "https://rpc.example:8899"),
                ("OTHER__CHAIN__RPC_URL", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(config.chain.registry_refresh_secs, 5);
        assert_eq!(config.chain.rpc_url, "https://rpc.example:8899");
    }

    #[test]
    fn bad_settings_are_named() {
        let cases = [
            (String::from("[chain]\n"), "network"),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\ntypo = 1\n"),
                "typo",
            ),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\nrpc_url = \"localhost\"\n"),
                "chain.rpc_url",
            ),
            ("[chain]\nnetwork = \"devnet\"\n".into(), "chain.network"),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\nregistry_refresh_secs = \"soon\"\n"),
                "registry_refresh_secs",
            ),
            ("[chain\n".into(), "t"),
            (
                format!(
                    "[chain]\nnetwork = \"{NETWORK}\"\n[store]\ndatabase_url = \"mysql://x\"\n"
                ),
                "store.database_url",
            ),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\n[ingest]\nbind = \"localhost\"\n"),
                "ingest.bind",
            ),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\n[ingest]\ndevice_burst = 0\n"),
                "ingest.device_burst",
            ),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\n[log]\nformat = \"xml\"\n"),
                "format",
            ),
            (
                format!(
                    "[chain]\nnetwork = \"{NETWORK}\"\n[price]\nsource = \"fixed\"\nusd = \"-1\"\n"
                ),
                "price.usd",
            ),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\n[price]\nsource = \"pyth\"\n"),
                "price.pyth_account",
            ),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\nws_url = \"http://x:8900\"\n"),
                "chain.ws_url",
            ),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\n[crank]\nmax_claims_per_round = 0\n"),
                "crank.max_claims_per_round",
            ),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\n[rules.mapping]\nresolution = 16\n"),
                "rules.mapping.resolution",
            ),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\n[rules]\nset = \"mine\"\n"),
                "rules.set",
            ),
            (
                format!(
                    "[chain]\nnetwork = \"{NETWORK}\"\n[rules.compute]\nchallenge_rounds = 0\n"
                ),
                "compute.gpus_per_device and compute.challenge_rounds",
            ),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\n[rules.storage]\nseed_window_ms = 0\n"),
                "storage.seed_window_ms",
            ),
            (
                format!("[chain]\nnetwork = \"{NETWORK}\"\n[challenges]\nsize = 41\n"),
                "challenges.size",
            ),
            (
                format!(
                    "[chain]\nnetwork = \"{NETWORK}\"\n[challenges]\nentropy_interval_secs = 0\n"
                ),
                "challenges.entropy_interval_secs",
            ),
        ];
        for (text, named) in cases {
            let error = Config::parse(&text, "t", env(&[])).unwrap_err().to_string();
            assert!(error.contains(named), "{named:?} in {error:?}");
        }
        let error = Config::parse(
            &format!("[chain]\nnetwork = \"{NETWORK}\"\n"),
            "t",
            env(&[("DEPIN_ORACLE__CHAIN__NETWORK__X", "1")]),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("DEPIN_ORACLE__CHAIN__NETWORK__X")
        );
    }
}
