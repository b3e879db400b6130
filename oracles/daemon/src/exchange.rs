//! The exchange between a network's oracles (DESIGN.md, "Quorum"): a device
//! may send its reports to any oracle, so after an epoch closes each oracle
//! pulls from every peer the reports devices sent to that peer
//! (`GET /v1/epochs/{n}/reports`, pages of the binary batch encoding),
//! re-checks each one as ingest would (the registry, the signatures, the
//! epoch), and keeps it. Honest oracles then score the same union and vote
//! the same root. Nothing a peer computed is trusted: only device-signed
//! reports cross.
//!
//! A peer serves an epoch only once it has closed it itself (409 before), so
//! what it serves is complete. A peer that cannot be reached is tried again
//! at each tick until `exchange_timeout_secs` after the close; the epoch is
//! then scored without it.

use crate::{
    chain::Chain,
    registry::Registry,
    screen::screen,
    store::{NewReport, Store, StoreError, now_ms},
};
use depinkit_reports::decode_batch;
use reward_pool::state::Pool;
use std::{collections::HashMap, sync::Arc};
use tokio::sync::Mutex;

/// Reports asked for per page.
pub const PAGE_REPORTS: u32 = 1_000;

/// Header of a page: the id to ask for the next page after.
pub const NEXT_AFTER_HEADER: &str = "x-depinkit-next-after";

/// How far the pull from one peer has come for one epoch.
#[derive(Clone, Copy, Debug, Default)]
struct PeerProgress {
    epoch: u64,
    after: i64,
    done: bool,
}

/// Pulls closed epochs' reports from the network's other oracles.
pub struct Exchange<C> {
    peers: Vec<String>,
    /// Seconds after an epoch closes that its exchange may wait for peers.
    pub timeout_secs: i64,
    http: reqwest::Client,
    registry: Arc<Registry<C>>,
    progress: Mutex<HashMap<String, PeerProgress>>,
}

impl<C: Chain> Exchange<C> {
    /// Pulls from `peers` (API base URLs), checking reports against `registry`.
    pub fn new(peers: Vec<String>, timeout_secs: i64, registry: Arc<Registry<C>>) -> Self {
        Exchange {
            peers: peers
                .into_iter()
                .map(|p| p.trim_end_matches('/').to_string())
                .collect(),
            timeout_secs,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            registry,
            progress: Mutex::new(HashMap::new()),
        }
    }

    /// Each answering peer's proof file of its latest finalized root
    /// (`GET /v1/proofs`), for an oracle that fell behind the chain.
    pub async fn latest_proofs(&self) -> Vec<(String, depinkit_sdk::proofs::ProofFile)> {
        let mut files = Vec::new();
        for peer in &self.peers {
            let Ok(response) = self.http.get(format!("{peer}/v1/proofs")).send().await else {
                continue;
            };
            if !response.status().is_success() {
                continue;
            }
            if let Ok(file) = response.json().await {
                files.push((peer.clone(), file));
            }
        }
        files
    }

    /// Pulls what each peer not yet done has of `epoch` (closed here) into
    /// `store`; the peers still missing, with why.
    pub async fn pull(
        &self,
        store: &Store,
        pool: &Pool,
        epoch: u64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut missing = Vec::new();
        for peer in &self.peers {
            let mut progress = self.progress.lock().await;
            let at = progress.entry(peer.clone()).or_default();
            if at.epoch != epoch {
                *at = PeerProgress {
                    epoch,
                    ..PeerProgress::default()
                };
            }
            let mut at = *at;
            drop(progress);
            while !at.done {
                match self.page(store, pool, epoch, peer, at.after).await? {
                    Ok(Some(next)) => at.after = next,
                    Ok(None) => at.done = true,
                    Err(why) => {
                        missing.push((peer.clone(), why));
                        break;
                    }
                }
            }
            self.progress.lock().await.insert(peer.clone(), at);
        }
        Ok(missing)
    }

    /// One page from `peer`: `Ok(Some(next_after))` when more may follow,
    /// `Ok(None)` at the end, `Err(why)` when the peer cannot serve it now.
    async fn page(
        &self,
        store: &Store,
        pool: &Pool,
        epoch: u64,
        peer: &str,
        after: i64,
    ) -> Result<Result<Option<i64>, String>, StoreError> {
        let url = format!("{peer}/v1/epochs/{epoch}/reports?after={after}&limit={PAGE_REPORTS}");
        let response = match self.http.get(&url).send().await {
            Ok(response) => response,
            Err(e) => return Ok(Err(format!("unreachable: {e}"))),
        };
        let status = response.status();
        let next = response
            .headers()
            .get(NEXT_AFTER_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok());
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) => return Ok(Err(format!("reading the page: {e}"))),
        };
        if !status.is_success() {
            return Ok(Err(format!(
                "answered {status}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        let decoded = match decode_batch(&body) {
            Ok(decoded) => decoded,
            Err(e) => return Ok(Err(format!("sent a page that does not decode: {e}"))),
        };
        let count = decoded.len();
        let now = now_ms();
        let screened = screen(&self.registry, decoded, now).await;
        let kept: Vec<NewReport> = screened
            .iter()
            .filter_map(|outcome| outcome.as_ref().ok())
            .filter(|s| {
                pool.epoch_at(s.report.report.timestamp_ms.div_euclid(1000))
                    .map(u64::from)
                    == Some(epoch)
            })
            .map(|s| NewReport {
                epoch,
                content_hash: s.content_hash,
                device_mint: s.device.mint,
                report: &s.report,
                received_ms: now,
            })
            .collect();
        if kept.len() < count {
            tracing::warn!(
                peer,
                epoch,
                refused = count - kept.len(),
                "a peer served reports that do not check"
            );
        }
        if store.store_exchanged(epoch, &kept, peer).await?.is_none() {
            return Ok(Err(format!("epoch {epoch} is no longer closed here")));
        }
        Ok(Ok(if count == 0 { None } else { next }))
    }
}
