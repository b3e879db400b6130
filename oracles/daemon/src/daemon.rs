//! `depin-oracle run`: the daemon. Opens the store, reads the network's
//! devices and pool (retrying while the RPC node is down), serves the API,
//! re-reads the chain on an interval, and on shutdown stops accepting,
//! finishes the requests in flight (their reports are stored or refused,
//! never half-taken) and returns.

use crate::{
    api::Proofs,
    bundle::{BundleError, Bundles},
    chain::{Chain, RpcChain},
    challenges::{ChallengeIssuer, StorageSeeds},
    config::Config,
    crank::{ClaimCrank, CrankSettings},
    entropy::{EntropySource, issue_loop},
    epoch::EpochWorker,
    events::{Follower, follow},
    exchange::Exchange,
    ingest::{Ingest, Limits},
    price::price_loop,
    registry::Registry,
    server::{AppState, router},
    settle::{Payment, Round, Settler},
    store::{Role, Store, StoreError},
    verifier::Verifier,
};
use anchor_lang::prelude::Pubkey;
use depinkit_sdk::sender::{SenderConfig, TransactionSender};
use device_registry::state::Category;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::signature::Signer as _;
use std::{future::Future, sync::Arc};
use tokio::{
    sync::Notify,
    time::{Duration, sleep},
};

/// Why the daemon could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The settings cannot be used.
    #[error("{0}")]
    Config(String),
    /// The store cannot be opened.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The bundle location cannot be used.
    #[error("{0}")]
    Bundles(#[from] BundleError),
    /// The API address cannot be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    /// The server failed.
    #[error("server: {0}")]
    Serve(std::io::Error),
}

/// Longest wait between two attempts at a chain read that keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs until `shutdown` completes (or startup fails).
pub async fn run(
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let network = config.network().map_err(RunError::Config)?;
    let bind = config.bind_address().map_err(RunError::Config)?;
    let price_source = config.price.source().map_err(RunError::Config)?;
    let keypair_path = config.keypair_path();
    let keypair = solana_sdk::signature::read_keypair_file(&keypair_path).map_err(|e| {
        RunError::Config(format!(
            "cannot read the oracle keypair {}: {e}",
            keypair_path.display()
        ))
    })?;
    let crank_keypair = keypair.insecure_clone();
    let oracle_key = keypair.pubkey();
    let oracle_signing_key = ed25519_dalek::SigningKey::from_bytes(
        keypair.to_bytes()[..32]
            .try_into()
            .expect("a keypair's first 32 bytes are its seed"),
    );
    let entropy = Arc::new(EntropySource::new(&network, oracle_signing_key.clone()));
    let store = Store::open(&config.store.database_url).await?;
    tracing::info!(backend = ?store.backend(), "store open");
    let bundles = Bundles::open(&config.bundles.location)?;
    let rpc =
        RpcClient::new_with_commitment(config.chain.rpc_url.clone(), CommitmentConfig::confirmed());
    let chain = Arc::new(RpcChain::signing(rpc, keypair));
    let min_refresh = Duration::from_secs(config.chain.unknown_key_refresh_secs);
    let mut shutdown = Box::pin(shutdown);

    // The registry and the pool: without them no report can be judged, so
    // wait for the chain (the API is not up yet: devices keep their reports).
    let registry = tokio::select! {
        registry = retry("read the network's devices", || {
            Registry::load(chain.clone(), network, min_refresh)
        }) => Arc::new(registry),
        () = &mut shutdown => return Ok(()),
    };
    let devices = registry.len().await;
    metrics::gauge!("depin_oracle_registry_devices").set(devices as f64);
    tracing::info!(devices, %network, "registry read");
    let limits = Limits {
        max_batch_reports: config.ingest.max_batch_reports,
        device_reports_per_minute: config.ingest.device_reports_per_minute,
        device_burst: config.ingest.device_burst,
        grace_secs: config.epochs.grace_secs,
        max_answer_delay_ms: config.rules.max_answer_delay_ms(),
    };
    let ingest = tokio::select! {
        ingest = retry("read the network's pool", || {
            Ingest::new(chain.clone(), network, registry.clone(), store.clone(), limits)
        }) => Arc::new(ingest),
        () = &mut shutdown => return Ok(()),
    };

    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| RunError::Bind(bind.to_string(), e))?;
    let address = listener
        .local_addr()
        .map_err(|e| RunError::Bind(bind.to_string(), e))?;
    tracing::info!(%address, "listening");

    let refresher = tokio::spawn(refresh_loop(
        ingest.clone(),
        store.clone(),
        Duration::from_secs(config.chain.registry_refresh_secs),
    ));
    // Pool events (funded, voted, finalized) wake the epoch worker and the
    // claim crank between their ticks.
    let pool_changed = Arc::new(Notify::new());
    let follower = if config.chain.follow_events {
        let ws_url = config.websocket_url().map_err(RunError::Config)?;
        let follower = Arc::new(Follower::new(
            chain.clone(),
            network,
            ingest.clone(),
            pool_changed.clone(),
        ));
        Some(tokio::spawn(follow(follower, ws_url)))
    } else {
        None
    };
    let verifier = config.rules.verifier(ingest.registry().category());
    let rules = verifier.rule_set();
    tracing::info!(rules = %rules.name, version = rules.version, "scoring rules");
    let mut worker = EpochWorker::new(
        chain.clone(),
        network,
        store.clone(),
        verifier,
        config.epochs.grace_secs,
    );
    worker = worker.with_bundles(bundles.clone());
    if matches!(
        ingest.registry().category(),
        Category::Mapping | Category::Wireless
    ) {
        // What customers were charged in an epoch (the map's queries, the
        // data hotspots carried) is burned before its root is voted.
        worker = worker.with_usage_burns(config.map.max_skew_secs);
    }
    if !config.quorum.peers.is_empty() {
        worker = worker.with_exchange(Exchange::new(
            config.quorum.peers.clone(),
            config.quorum.exchange_timeout_secs,
            ingest.registry().clone(),
        ));
    }
    let tick = Duration::from_secs(config.epochs.tick_secs);
    let worker = tokio::spawn(epoch_loop(
        worker,
        chain.clone(),
        network,
        store.clone(),
        tick,
        pool_changed.clone(),
    ));
    let crank = if config.crank.enabled {
        let rpc = Arc::new(RpcClient::new_with_commitment(
            config.chain.rpc_url.clone(),
            CommitmentConfig::confirmed(),
        ));
        let crank = ClaimCrank::new(
            rpc.clone(),
            TransactionSender::new(rpc, SenderConfig::default()),
            crank_keypair,
            network,
            Proofs::new(store.clone(), &network),
            CrankSettings {
                min_unclaimed: config.crank.min_unclaimed,
                max_claims_per_round: config.crank.max_claims_per_round,
            },
        );
        Some(tokio::spawn(crank_loop(
            crank,
            store.clone(),
            network,
            Duration::from_secs(config.crank.interval_secs),
            tick,
            pool_changed.clone(),
        )))
    } else {
        None
    };
    // Storage deals are paid per proven epoch, GPU jobs once their receipt
    // counts, each once the epoch is finalized.
    let payment = match ingest.registry().category() {
        Category::Storage => Some(Payment::EpochShare),
        Category::Compute => Some(Payment::Whole),
        _ => None,
    };
    let settler = payment.map(|payment| {
        tokio::spawn(settle_loop(
            Settler::new(chain.clone(), network, store.clone(), oracle_key, payment),
            store.clone(),
            network,
            tick,
            pool_changed.clone(),
        ))
    });
    let issuer = tokio::spawn(issue_loop(
        chain.clone(),
        entropy.clone(),
        config.challenges.entropy_interval_secs as i64 * 1000,
    ));
    let challenges = (ingest.registry().category() == Category::Compute).then(|| {
        Arc::new(ChallengeIssuer::new(
            &network,
            oracle_signing_key.clone(),
            config.challenges.size,
            Duration::from_secs(config.challenges.interval_secs),
        ))
    });
    let storage_seeds = (ingest.registry().category() == Category::Storage).then(|| {
        Arc::new(StorageSeeds::new(
            chain.clone(),
            network,
            entropy.clone(),
            config.rules.storage,
        ))
    });
    let map = (ingest.registry().category() == Category::Mapping).then(|| {
        Arc::new(crate::map::MapService {
            chain: chain.clone(),
            network,
            store: store.clone(),
            settings: config.map,
            resolution: config.rules.mapping.resolution,
            charging: tokio::sync::Mutex::new(()),
        })
    });
    let price = price_source.map(|source| {
        tokio::spawn(price_loop(
            chain.clone(),
            network,
            source,
            Duration::from_secs(config.price.interval_secs),
        ))
    });
    let app = router(
        Arc::new(AppState {
            ingest,
            store: store.clone(),
            network,
            bundles: Some(bundles),
            entropy: Some(entropy),
            challenges,
            storage_seeds,
            map,
        }),
        config.ingest.max_body_bytes,
    );
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing requests in flight");
        })
        .await;
    refresher.abort();
    // A step cut short is a transaction rolled back; a vote sent but not
    // recorded is re-sent, the same root, at the next start.
    worker.abort();
    issuer.abort();
    for task in [price, follower, crank, settler].into_iter().flatten() {
        task.abort();
    }
    served.map_err(RunError::Serve)?;
    tracing::info!("stopped");
    Ok(())
}

/// Calls `attempt` until it succeeds, waiting 1 s, 2 s, 4 s ... up to
/// [`MAX_BACKOFF`] between failures, logging each.
async fn retry<T, E: std::fmt::Display, F: Future<Output = Result<T, E>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> T {
    let mut wait = Duration::from_secs(1);
    loop {
        match attempt().await {
            Ok(value) => return value,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?wait, "cannot {what}");
                metrics::counter!("depin_oracle_rpc_errors_total").increment(1);
                sleep(wait).await;
                wait = (wait * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Re-reads the devices and the pool every `interval`; a failed read keeps
/// the last view and is logged.
async fn refresh_loop<C: Chain>(ingest: Arc<Ingest<C>>, store: Store, interval: Duration) {
    let mut cells = None;
    record_moves(&ingest, &store, &mut cells).await;
    loop {
        sleep(interval).await;
        match ingest.registry().refresh().await {
            Ok(devices) => {
                metrics::gauge!("depin_oracle_registry_devices").set(devices as f64);
                record_moves(&ingest, &store, &mut cells).await;
            }
            Err(e) => {
                metrics::counter!("depin_oracle_rpc_errors_total").increment(1);
                tracing::warn!(error = %e, "device registry refresh failed; keeping the last view");
            }
        }
        if let Err(e) = ingest.refresh_pool().await {
            metrics::counter!("depin_oracle_rpc_errors_total").increment(1);
            tracing::warn!(error = %e, "pool refresh failed; keeping the last view");
        }
    }
}

/// Records in the store the devices whose cell differs from the last one
/// recorded (`cells`: the last recorded, read from the store the first
/// time): the location history the dashboard shows.
async fn record_moves<C: Chain>(
    ingest: &Ingest<C>,
    store: &Store,
    cells: &mut Option<std::collections::BTreeMap<Pubkey, u64>>,
) {
    let known = match cells {
        Some(known) => known,
        None => match store.latest_locations().await {
            Ok(latest) => cells.insert(latest),
            Err(e) => {
                tracing::warn!(error = %e, "reading the devices' recorded cells failed");
                return;
            }
        },
    };
    let moved: Vec<(Pubkey, u64)> = ingest
        .registry()
        .all()
        .await
        .into_iter()
        .map(|(_, device)| (device.mint, device.location))
        .filter(|(mint, cell)| known.get(mint) != Some(cell))
        .collect();
    if moved.is_empty() {
        return;
    }
    match store.record_locations(&moved, crate::store::now_ms()).await {
        Ok(()) => known.extend(moved),
        Err(e) => tracing::warn!(error = %e, "recording the devices' cells failed"),
    }
}

/// Runs the epoch worker whenever this replica holds the store's leadership,
/// one tick per `interval`; logs each change of progress.
async fn epoch_loop<C: Chain, V: crate::verifier::Verifier>(
    worker: EpochWorker<C, V>,
    chain: Arc<C>,
    network: Pubkey,
    store: Store,
    interval: Duration,
    pool_changed: Arc<Notify>,
) {
    loop {
        let mut leadership = match store.try_lead(&network, Role::EpochWorker).await {
            Ok(Some(leadership)) => leadership,
            Ok(None) => {
                sleep(interval).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot ask for the epoch worker's lock");
                sleep(interval).await;
                continue;
            }
        };
        tracing::info!("this replica runs the epoch worker");
        let mut last = None;
        while leadership.still_held().await {
            let progress = match chain.now().await {
                Ok(now) => worker.tick(now).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match progress {
                Ok(progress) => {
                    if last.as_ref() != Some(&progress) {
                        tracing::info!(?progress, "epoch worker");
                        last = Some(progress);
                    }
                }
                Err(e) => {
                    metrics::counter!("depin_oracle_rpc_errors_total").increment(1);
                    tracing::warn!(error = %e, "epoch worker step failed; retrying");
                }
            }
            tokio::select! {
                () = sleep(interval) => {}
                () = pool_changed.notified() => {}
            }
        }
        tracing::warn!("lost the epoch worker's lock; another replica may take over");
    }
}

/// Runs claim rounds whenever this replica holds the crank's lock: every
/// `interval`, and after each pool change (an epoch finalized); a round that
/// finds a root final before the epoch worker recorded it tries again one
/// `tick` later.
async fn crank_loop(
    crank: ClaimCrank,
    store: Store,
    network: Pubkey,
    interval: Duration,
    tick: Duration,
    pool_changed: Arc<Notify>,
) {
    loop {
        let mut leadership = match store.try_lead(&network, Role::ClaimCrank).await {
            Ok(Some(leadership)) => leadership,
            Ok(None) | Err(_) => {
                sleep(interval.min(Duration::from_secs(60))).await;
                continue;
            }
        };
        while leadership.still_held().await {
            let wait = match crank.round().await {
                Ok(round) => {
                    if round.claimed > 0 || round.failed > 0 {
                        tracing::info!(?round, "claim round");
                    }
                    if round.pending { tick } else { interval }
                }
                Err(e) => {
                    metrics::counter!("depin_oracle_rpc_errors_total").increment(1);
                    tracing::warn!(error = %e, "claim round failed; retrying");
                    tick
                }
            };
            tokio::select! {
                () = sleep(wait) => {}
                () = pool_changed.notified() => {}
            }
        }
    }
}

/// Runs settlement rounds whenever this replica holds the settler's lock:
/// every `tick`, and at once after each pool change (an epoch finalized).
async fn settle_loop<C: Chain>(
    settler: Settler<C>,
    store: Store,
    network: Pubkey,
    tick: Duration,
    pool_changed: Arc<Notify>,
) {
    loop {
        let mut leadership = match store.try_lead(&network, Role::Settler).await {
            Ok(Some(leadership)) => leadership,
            Ok(None) | Err(_) => {
                sleep(tick.max(Duration::from_secs(5))).await;
                continue;
            }
        };
        while leadership.still_held().await {
            match settler.round().await {
                Ok(round) => {
                    if round != Round::default() {
                        tracing::info!(?round, "settlement round");
                    }
                }
                Err(e) => {
                    metrics::counter!("depin_oracle_rpc_errors_total").increment(1);
                    tracing::warn!(error = %e, "settlement round failed; retrying");
                }
            }
            tokio::select! {
                () = sleep(tick) => {}
                () = pool_changed.notified() => {}
            }
        }
    }
}

/// Starts logging to stderr in the configured format, at the level
/// `RUST_LOG` gives (default `info`).
pub fn init_logging(format: crate::config::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        crate::config::LogFormat::Text => builder.init(),
        crate::config::LogFormat::Json => builder.json().init(),
    }
}
