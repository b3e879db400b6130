//! The entropy this oracle issues for beacons (`GET /v1/entropy`): every
//! minute, the SHA-256 of the network, the time and the chain's latest
//! blockhash, signed with the oracle's key ([`depinkit_reports::Entropy`]).
//! A hotspot puts the latest into its beacon; the wireless rules accept a
//! beacon only with entropy a network oracle issued shortly before it, so no
//! beacon can be made ahead of time.

use crate::chain::Chain;
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Entropy, Key};
use ed25519_dalek::SigningKey;
use std::sync::Arc;
use tokio::{
    sync::RwLock,
    time::{Duration, sleep},
};

/// How often entropy is issued (RULES.md: every 60 s).
pub const ENTROPY_INTERVAL_MS: i64 = 60_000;

/// This oracle's latest entropy.
pub struct EntropySource {
    network: Key,
    signer: SigningKey,
    latest: RwLock<Option<Entropy>>,
}

impl EntropySource {
    /// Entropy for `network`, signed by `signer` (the oracle's key).
    pub fn new(network: &Pubkey, signer: SigningKey) -> Self {
        EntropySource {
            network: Key(network.to_bytes()),
            signer,
            latest: RwLock::new(None),
        }
    }

    /// The latest entropy issued, if any yet.
    pub async fn latest(&self) -> Option<Entropy> {
        *self.latest.read().await
    }

    /// Issues entropy stamped `issued_ms` from `blockhash`, and keeps it as
    /// the latest.
    pub async fn issue(&self, issued_ms: i64, blockhash: &[u8; 32]) -> Entropy {
        let entropy = Entropy::issue(&self.network, issued_ms, blockhash, &self.signer);
        *self.latest.write().await = Some(entropy);
        entropy
    }
}

/// Issues entropy at the start of every minute (of the oracle's clock) from
/// the chain's latest blockhash; a failed read keeps the last entropy (beacons
/// may use it while it is young enough) and is retried at the next minute.
pub async fn issue_loop<C: Chain>(chain: Arc<C>, source: Arc<EntropySource>) {
    loop {
        let now = crate::store::now_ms();
        let issued_ms = now - now.rem_euclid(ENTROPY_INTERVAL_MS);
        match chain.latest_blockhash().await {
            Ok(blockhash) => {
                source.issue(issued_ms, &blockhash).await;
            }
            Err(e) => {
                metrics::counter!("depin_oracle_rpc_errors_total").increment(1);
                tracing::warn!(error = %e, "cannot read a blockhash for entropy; keeping the last");
            }
        }
        let next = issued_ms + ENTROPY_INTERVAL_MS;
        sleep(Duration::from_millis(
            (next - crate::store::now_ms()).clamp(1, ENTROPY_INTERVAL_MS) as u64,
        ))
        .await;
    }
}
