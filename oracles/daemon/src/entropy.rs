//! The entropy this oracle issues for beacons (`GET /v1/entropy`) and as
//! storage seeds (`GET /v1/challenges/storage`): every
//! minute, the SHA-256 of the network, the time and the chain's latest
//! blockhash, signed with the oracle's key ([`depinkit_reports::Entropy`]).
//! A hotspot puts the latest into its beacon; the wireless rules accept a
//! beacon only with entropy a network oracle issued shortly before it, so no
//! beacon can be made ahead of time; the storage rules draw an epoch's
//! challenges from the entropy issued in its first minute.

use crate::chain::Chain;
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Entropy, Key};
use ed25519_dalek::SigningKey;
use std::{collections::VecDeque, sync::Arc};
use tokio::{
    sync::RwLock,
    time::{Duration, sleep},
};

/// How often entropy is issued by default (RULES.md: every 60 s;
/// `challenges.entropy_interval_secs`).
pub const ENTROPY_INTERVAL_MS: i64 = 60_000;

/// How many issued entropies are kept (a day's at the default interval):
/// the storage seeds of epochs up to a day long are found among them.
pub const ENTROPY_HISTORY: usize = 1440;

/// This oracle's entropy: the latest, and a day of earlier ones.
pub struct EntropySource {
    network: Key,
    signer: SigningKey,
    issued: RwLock<VecDeque<Entropy>>,
}

impl EntropySource {
    /// Entropy for `network`, signed by `signer` (the oracle's key).
    pub fn new(network: &Pubkey, signer: SigningKey) -> Self {
        EntropySource {
            network: Key(network.to_bytes()),
            signer,
            issued: RwLock::new(VecDeque::new()),
        }
    }

    /// The latest entropy issued, if any yet.
    pub async fn latest(&self) -> Option<Entropy> {
        self.issued.read().await.back().copied()
    }

    /// The first entropy issued at or after `from_ms` and before `until_ms`
    /// (a storage epoch's seed: the one issued in its first minute).
    pub async fn first_between(&self, from_ms: i64, until_ms: i64) -> Option<Entropy> {
        self.issued
            .read()
            .await
            .iter()
            .find(|e| e.issued_ms >= from_ms && e.issued_ms < until_ms)
            .copied()
    }

    /// Issues entropy stamped `issued_ms` from `blockhash`, and keeps it as
    /// the latest.
    pub async fn issue(&self, issued_ms: i64, blockhash: &[u8; 32]) -> Entropy {
        let entropy = Entropy::issue(&self.network, issued_ms, blockhash, &self.signer);
        let mut issued = self.issued.write().await;
        if issued.len() >= ENTROPY_HISTORY {
            issued.pop_front();
        }
        issued.push_back(entropy);
        entropy
    }
}

/// Issues entropy at the start of every `interval_ms` (of the oracle's clock,
/// a minute by default) from the chain's latest blockhash; a failed read
/// keeps the last entropy (beacons may use it while it is young enough) and
/// is retried at the next interval.
pub async fn issue_loop<C: Chain>(chain: Arc<C>, source: Arc<EntropySource>, interval_ms: i64) {
    let interval_ms = interval_ms.max(1);
    loop {
        let now = crate::store::now_ms();
        let issued_ms = now - now.rem_euclid(interval_ms);
        match chain.latest_blockhash().await {
            Ok(blockhash) => {
                source.issue(issued_ms, &blockhash).await;
            }
            Err(e) => {
                metrics::counter!("depin_oracle_rpc_errors_total").increment(1);
                tracing::warn!(error = %e, "cannot read a blockhash for entropy; keeping the last");
            }
        }
        let next = issued_ms + interval_ms;
        sleep(Duration::from_millis(
            (next - crate::store::now_ms()).clamp(1, interval_ms) as u64,
        ))
        .await;
    }
}
