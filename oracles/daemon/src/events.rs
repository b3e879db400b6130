//! Following the programs' events: the oracle learns of a device onboarded,
//! moved or suspended, a pool funded and an epoch finalized within a second
//! instead of at its next periodic read.
//!
//! A websocket `logsSubscribe` per address (the network and its pool: every
//! instruction that changes what the oracle relies on names one of them)
//! yields the signatures of confirmed transactions; each is fetched once with
//! its inner instructions, where `emit_cpi!` events live, and decoded with the
//! SDK ([`depinkit_sdk::events`]). A registry event re-reads the one device
//! it names; a pool event re-reads the pool and wakes the epoch worker and the
//! claim crank. The periodic reads stay: after every (re)connection the
//! follower reads everything again, so what happened while the socket was down
//! is caught, and the interval reads catch anything else.

use crate::{
    chain::{Chain, ChainError},
    ingest::Ingest,
};
use anchor_lang::prelude::Pubkey;
use depinkit_sdk::events::DepinEvent;
use futures_util::StreamExt;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcTransactionLogsConfig, RpcTransactionLogsFilter};
use std::{
    collections::{HashSet, VecDeque},
    sync::Arc,
};
use tokio::{
    sync::{Mutex, Notify},
    time::{Duration, sleep},
};

/// What the oracle does about one event of its network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reaction {
    /// Re-read the device account at this address (onboarded, moved,
    /// suspended or reactivated).
    Device(Pubkey),
    /// Re-read the pool (funded, a root voted or finalized) and wake the
    /// workers that wait on it.
    Pool,
}

/// The reactions `events` call for in `network` (whose pool is `pool`), in
/// order, each once; events of other networks and pools call for none.
pub fn reactions(network: &Pubkey, pool: &Pubkey, events: &[DepinEvent]) -> Vec<Reaction> {
    let mut out = Vec::new();
    for event in events {
        let reaction = match event {
            DepinEvent::DeviceOnboarded(e) if e.network == *network => Reaction::Device(e.device),
            DepinEvent::LocationAsserted(e) if e.network == *network => Reaction::Device(e.device),
            DepinEvent::DeviceStatusChanged(e) if e.network == *network => {
                Reaction::Device(e.device)
            }
            DepinEvent::PoolFunded(e) if e.pool == *pool => Reaction::Pool,
            DepinEvent::EpochRootVoted(e) if e.pool == *pool => Reaction::Pool,
            DepinEvent::EpochFinalized(e) if e.pool == *pool => Reaction::Pool,
            _ => continue,
        };
        if !out.contains(&reaction) {
            out.push(reaction);
        }
    }
    out
}

/// Signatures remembered so that a transaction naming both the network and
/// the pool (two notifications) is handled once.
const REMEMBERED_SIGNATURES: usize = 4096;

/// How long a signature that the node has not yet served is asked for again
/// (a notification can arrive a moment before the transaction is readable).
const FETCH_ATTEMPTS: u32 = 10;

/// Applies the chain's events to the oracle's views.
pub struct Follower<C> {
    chain: Arc<C>,
    network: Pubkey,
    pool: Pubkey,
    ingest: Arc<Ingest<C>>,
    /// Notified on every pool event: the epoch worker and the claim crank
    /// wait on it between their ticks.
    pool_changed: Arc<Notify>,
    seen: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl<C: Chain> Follower<C> {
    /// A follower of `network` updating `ingest`'s registry and pool, and
    /// notifying `pool_changed`.
    pub fn new(
        chain: Arc<C>,
        network: Pubkey,
        ingest: Arc<Ingest<C>>,
        pool_changed: Arc<Notify>,
    ) -> Self {
        Follower {
            chain,
            network,
            pool: reward_pool::pda::find_pool_address(&network).0,
            ingest,
            pool_changed,
            seen: Mutex::new((HashSet::new(), VecDeque::new())),
        }
    }

    /// The addresses whose transactions carry the events the oracle follows.
    pub fn addresses(&self) -> [Pubkey; 2] {
        [self.network, self.pool]
    }

    /// Handles the confirmed transaction `signature`: its reactions, applied
    /// (none when it was handled before).
    pub async fn on_transaction(&self, signature: &str) -> Result<Vec<Reaction>, ChainError> {
        if !self.first_sight(signature).await {
            return Ok(Vec::new());
        }
        let mut events = None;
        for _ in 0..FETCH_ATTEMPTS {
            events = self.chain.transaction_events(signature).await?;
            if events.is_some() {
                break;
            }
            sleep(Duration::from_millis(200)).await;
        }
        let events = events.ok_or_else(|| {
            ChainError(format!(
                "transaction {signature} was announced but cannot be read"
            ))
        })?;
        for event in &events {
            metrics::counter!("depin_oracle_events_total", "event" => event_name(event))
                .increment(1);
        }
        let reactions = reactions(&self.network, &self.pool, &events);
        for reaction in &reactions {
            self.apply(*reaction).await?;
        }
        Ok(reactions)
    }

    async fn apply(&self, reaction: Reaction) -> Result<(), ChainError> {
        match reaction {
            Reaction::Device(address) => {
                let known = self.ingest.registry().refresh_device(&address).await?;
                tracing::info!(device = %address, known, "device changed on chain");
                metrics::gauge!("depin_oracle_registry_devices")
                    .set(self.ingest.registry().len().await as f64);
            }
            Reaction::Pool => {
                self.ingest.refresh_pool().await?;
                self.pool_changed.notify_waiters();
                tracing::debug!("pool changed on chain");
            }
        }
        Ok(())
    }

    /// Reads the devices and the pool again (after a (re)connection: what
    /// happened while the socket was down).
    pub async fn catch_up(&self) -> Result<(), ChainError> {
        let devices = self.ingest.registry().refresh().await?;
        metrics::gauge!("depin_oracle_registry_devices").set(devices as f64);
        self.ingest.refresh_pool().await?;
        self.pool_changed.notify_waiters();
        Ok(())
    }

    async fn first_sight(&self, signature: &str) -> bool {
        let mut seen = self.seen.lock().await;
        let (set, order) = &mut *seen;
        if !set.insert(signature.to_string()) {
            return false;
        }
        order.push_back(signature.to_string());
        if order.len() > REMEMBERED_SIGNATURES
            && let Some(oldest) = order.pop_front()
        {
            set.remove(&oldest);
        }
        true
    }
}

/// The event's type name, for metrics and logs.
fn event_name(event: &DepinEvent) -> &'static str {
    macro_rules! names {
        ($($name:ident),* $(,)?) => {
            match event {
                $(DepinEvent::$name(_) => stringify!($name),)*
                _ => "other",
            }
        };
    }
    names!(
        DeviceOnboarded,
        LocationAsserted,
        DeviceStatusChanged,
        PoolFunded,
        EpochRootVoted,
        EpochFinalized,
        ClaimPaid,
    )
}

/// Longest wait between two connection attempts.
const MAX_RECONNECT_WAIT: Duration = Duration::from_secs(30);

/// Follows the chain's events at `ws_url` for as long as it runs: connects,
/// subscribes to the follower's addresses, catches up, then handles each
/// notification; reconnects with backoff when the socket closes or fails.
pub async fn follow<C: Chain>(follower: Arc<Follower<C>>, ws_url: String) {
    let mut wait = Duration::from_secs(1);
    loop {
        match follow_once(&follower, &ws_url).await {
            Ok(()) => {
                tracing::warn!(%ws_url, "event stream closed; reconnecting");
                wait = Duration::from_secs(1);
            }
            Err(e) => {
                metrics::counter!("depin_oracle_rpc_errors_total").increment(1);
                tracing::warn!(%ws_url, error = %e, retry_in = ?wait, "event stream failed");
            }
        }
        metrics::gauge!("depin_oracle_event_stream_connected").set(0.0);
        sleep(wait).await;
        wait = (wait * 2).min(MAX_RECONNECT_WAIT);
    }
}

/// One connection: returns when the stream ends, errs when it cannot start.
async fn follow_once<C: Chain>(follower: &Follower<C>, ws_url: &str) -> Result<(), String> {
    let client = PubsubClient::new(ws_url)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let config = RpcTransactionLogsConfig {
        commitment: Some(CommitmentConfig::confirmed()),
    };
    let mut streams = Vec::new();
    for address in follower.addresses() {
        let (stream, _unsubscribe) = client
            .logs_subscribe(
                RpcTransactionLogsFilter::Mentions(vec![address.to_string()]),
                config.clone(),
            )
            .await
            .map_err(|e| format!("cannot subscribe to {address}: {e}"))?;
        streams.push(stream);
    }
    // Subscribed first, then read: nothing falls between the two.
    follower
        .catch_up()
        .await
        .map_err(|e| format!("cannot catch up: {e}"))?;
    metrics::gauge!("depin_oracle_event_stream_connected").set(1.0);
    tracing::info!(%ws_url, "following the network's events");
    let mut notifications = futures_util::stream::select_all(streams);
    while let Some(notification) = notifications.next().await {
        let logs = notification.value;
        if logs.err.is_some() {
            continue; // A failed transaction changed nothing.
        }
        if let Err(e) = follower.on_transaction(&logs.signature).await {
            // The periodic reads catch what this missed.
            metrics::counter!("depin_oracle_rpc_errors_total").increment(1);
            tracing::warn!(signature = %logs.signature, error = %e, "cannot handle an event");
        }
    }
    Ok(())
}

/// The websocket URL of the JSON-RPC node at `rpc_url`, as Solana's tools
/// derive it: `ws` for `http` (`wss` for `https`), and the next port when
/// the URL names one (`http://127.0.0.1:8899` → `ws://127.0.0.1:8900`).
pub fn websocket_url(rpc_url: &str) -> Result<String, String> {
    let mut url = url::Url::parse(rpc_url).map_err(|e| format!("{rpc_url:?}: {e}"))?;
    let scheme = match url.scheme() {
        "http" => "ws",
        "https" => "wss",
        other => return Err(format!("{rpc_url:?}: scheme {other} is not http(s)")),
    };
    url.set_scheme(scheme)
        .map_err(|()| format!("{rpc_url:?}: cannot be made a websocket URL"))?;
    if let Some(port) = url.port() {
        let next = port
            .checked_add(1)
            .ok_or_else(|| format!("{rpc_url:?}: no port after {port}"))?;
        url.set_port(Some(next))
            .map_err(|()| format!("{rpc_url:?}: cannot set the port"))?;
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use device_registry::{
        events::{DeviceOnboarded, DeviceStatusChanged, MakerStatusChanged},
        state::{DeviceStatus, MakerStatus},
    };
    use reward_pool::events::{ClaimPaid, EpochFinalized};

    #[test]
    fn only_this_networks_device_and_pool_events_call_for_reactions() {
        let network = Pubkey::new_unique();
        let pool = Pubkey::new_unique();
        let device = Pubkey::new_unique();
        let onboarded = |network| {
            DepinEvent::DeviceOnboarded(DeviceOnboarded {
                network,
                device,
                device_key: Pubkey::new_unique(),
                mint: Pubkey::new_unique(),
                maker: Pubkey::new_unique(),
                owner: Pubkey::new_unique(),
                location: 0,
                fee_paid: 0,
            })
        };
        let finalized = |pool| {
            DepinEvent::EpochFinalized(EpochFinalized {
                pool,
                epoch: 3,
                root: [1; 32],
                total: 10,
                leaf_count: 1,
            })
        };
        let events = [
            onboarded(network),
            onboarded(Pubkey::new_unique()),
            DepinEvent::DeviceStatusChanged(DeviceStatusChanged {
                network,
                device,
                status: DeviceStatus::Suspended,
            }),
            DepinEvent::MakerStatusChanged(MakerStatusChanged {
                network,
                maker: Pubkey::new_unique(),
                status: MakerStatus::Approved,
            }),
            finalized(Pubkey::new_unique()),
            DepinEvent::ClaimPaid(ClaimPaid {
                pool,
                device_mint: Pubkey::new_unique(),
                holder: Pubkey::new_unique(),
                amount: 1,
                claimed: 1,
            }),
            finalized(pool),
        ];
        assert_eq!(
            reactions(&network, &pool, &events),
            vec![Reaction::Device(device), Reaction::Pool],
            "the same device twice is one re-read; other networks, other pools, makers \
             and claims change nothing the oracle holds"
        );
        assert_eq!(event_name(&events[2]), "DeviceStatusChanged");
    }

    #[test]
    fn the_websocket_url_follows_the_rpc_url() {
        assert_eq!(
            websocket_url("http://127.0.0.1:8899").unwrap(),
            "ws://127.0.0.1:8900/"
        );
        assert_eq!(
            websocket_url("https://api.devnet.solana.com").unwrap(),
            "wss://api.devnet.solana.com/"
        );
        assert!(websocket_url("ftp://x").is_err());
    }
}
