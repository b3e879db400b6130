//! Ingest: a batch of device reports in, one verdict per report out, every
//! accepted report durably stored before the answer. Screening (fields,
//! registry, signatures, in-batch duplicates) comes first; then the epoch the
//! report falls in must still take reports; then the device's rate; then the
//! store, which refuses reports it already keeps and epochs already closed.
//! One bad report costs only itself.

use crate::{
    chain::{Chain, ChainError},
    registry::Registry,
    screen::{Screened, screen},
    store::{NewReport, Store, StoreError, Stored},
};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{
    BatchAnswer, Body, Key, Rejection, Verdict, decode_batch, decode_json_batch,
};
use reward_pool::state::Pool;
use std::{collections::HashMap, sync::Arc};
use tokio::{
    sync::{Mutex, RwLock},
    time::Instant,
};

/// The limits of `[ingest]` that the pipeline enforces (the HTTP layer
/// enforces the body size).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most reports in one batch.
    pub max_batch_reports: usize,
    /// Reports a device may send per minute, sustained.
    pub device_reports_per_minute: u32,
    /// Reports a device may send at once after a quiet period.
    pub device_burst: u32,
    /// Seconds after an epoch's end during which its reports are still taken.
    pub grace_secs: i64,
    /// Most milliseconds from a compute challenge's issue to its answer's
    /// arrival (the rules' largest bound and a margin for the network).
    pub max_answer_delay_ms: i64,
}

/// How a batch is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `depinkit_reports::encode_batch`.
    Binary,
    /// A JSON array of signed reports.
    Json,
}

/// Why a whole batch was refused (nothing of it stored).
#[derive(Debug, thiserror::Error)]
pub enum BatchRefused {
    /// The batch itself does not decode (not its reports: those are answered one by one).
    #[error("the batch does not decode: {0}")]
    Malformed(String),
    /// More reports than `max_batch_reports`.
    #[error("{count} reports in one batch; at most {max}")]
    TooManyReports {
        /// Reports sent.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The store failed: nothing was accepted; send again.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The ingest pipeline of one oracle.
pub struct Ingest<C> {
    chain: Arc<C>,
    network: Pubkey,
    registry: Arc<Registry<C>>,
    store: Store,
    pool: RwLock<Pool>,
    limits: Limits,
    rates: Mutex<HashMap<Key, Bucket>>,
}

impl<C: Chain> Ingest<C> {
    /// Reads the network's pool, and takes reports into `store`.
    pub async fn new(
        chain: Arc<C>,
        network: Pubkey,
        registry: Arc<Registry<C>>,
        store: Store,
        limits: Limits,
    ) -> Result<Self, ChainError> {
        let pool = chain.pool(&network).await?;
        Ok(Ingest {
            chain,
            network,
            registry,
            store,
            pool: RwLock::new(pool),
            limits,
            rates: Mutex::new(HashMap::new()),
        })
    }

    /// The registry reports are authenticated against.
    pub fn registry(&self) -> &Arc<Registry<C>> {
        &self.registry
    }

    /// The pool as last read.
    pub async fn pool(&self) -> Pool {
        self.pool.read().await.clone()
    }

    /// Reads the pool again (which epochs are finalized on chain).
    pub async fn refresh_pool(&self) -> Result<(), ChainError> {
        let pool = self.chain.pool(&self.network).await?;
        *self.pool.write().await = pool;
        Ok(())
    }

    /// Takes one batch at the oracle's clock `now_ms` (unix milliseconds).
    pub async fn ingest(
        &self,
        format: Format,
        body: &[u8],
        now_ms: i64,
    ) -> Result<BatchAnswer, BatchRefused> {
        let decoded = match format {
            Format::Binary => decode_batch(body),
            Format::Json => decode_json_batch(body),
        }
        .map_err(|e| BatchRefused::Malformed(e.to_string()))?;
        if decoded.len() > self.limits.max_batch_reports {
            return Err(BatchRefused::TooManyReports {
                count: decoded.len(),
                max: self.limits.max_batch_reports,
            });
        }
        let screened = screen(&self.registry, decoded, now_ms).await;
        let pool = self.pool.read().await;
        let mut outcomes: Vec<Result<(u32, Screened), Rejection>> = Vec::new();
        {
            let mut rates = self.rates.lock().await;
            let now = Instant::now();
            for outcome in screened {
                outcomes.push(outcome.and_then(|screened| {
                    if let Body::ComputeAnswer(answer) = &screened.report.report.body
                        && now_ms - answer.challenge.issued_ms > self.limits.max_answer_delay_ms
                    {
                        return Err(Rejection::LateAnswer);
                    }
                    let epoch = open_epoch(
                        &pool,
                        screened.report.report.timestamp_ms,
                        now_ms,
                        self.limits.grace_secs,
                    )?;
                    let bucket = rates
                        .entry(screened.report.report.device)
                        .or_insert_with(|| Bucket::full(&self.limits, now));
                    if !bucket.take(&self.limits, now) {
                        return Err(Rejection::RateLimited);
                    }
                    Ok((epoch, screened))
                }));
            }
            if rates.len() > MAX_TRACKED_DEVICES {
                rates.retain(|_, bucket| !bucket.is_full(&self.limits, now));
            }
        }
        drop(pool);

        let to_store: Vec<NewReport> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok())
            .map(|(epoch, screened)| NewReport {
                epoch: u64::from(*epoch),
                content_hash: screened.content_hash,
                device_mint: screened.device.mint,
                report: &screened.report,
                received_ms: now_ms,
            })
            .collect();
        let mut stored = self.store.store_reports(&to_store).await?.into_iter();
        let verdicts: Vec<Verdict> = outcomes
            .iter()
            .map(|outcome| match outcome {
                Err(reason) => Verdict::Rejected { reason: *reason },
                Ok((_, screened)) => match stored.next().expect("one answer per stored report") {
                    Stored::Accepted => Verdict::Accepted {
                        content_hash: screened.content_hash,
                    },
                    Stored::Duplicate => Verdict::Rejected {
                        reason: Rejection::Duplicate,
                    },
                    Stored::EpochClosed => Verdict::Rejected {
                        reason: Rejection::EpochClosed,
                    },
                },
            })
            .collect();
        Ok(BatchAnswer::new(verdicts))
    }
}

/// Beyond this many devices in the rate table, devices whose allowance is
/// full again are forgotten (they would start full anyway).
const MAX_TRACKED_DEVICES: usize = 100_000;

/// The epoch a report stamped `timestamp_ms` counts in, if that epoch still
/// takes reports at `now_ms`: started, not finalized on chain, and not past
/// its end plus `grace_secs`.
pub fn open_epoch(
    pool: &Pool,
    timestamp_ms: i64,
    now_ms: i64,
    grace_secs: i64,
) -> Result<u32, Rejection> {
    let epoch = pool
        .epoch_at(timestamp_ms.div_euclid(1000))
        .ok_or(Rejection::EpochClosed)?;
    if epoch < pool.next_epoch {
        return Err(Rejection::EpochClosed);
    }
    let end = pool.epoch_end(epoch).ok_or(Rejection::EpochClosed)?;
    if now_ms.div_euclid(1000) >= end.saturating_add(grace_secs) {
        return Err(Rejection::EpochClosed);
    }
    Ok(epoch)
}

/// A device's allowance: a token bucket counted in report-milliseconds, so
/// integer arithmetic refills it exactly (`per_minute` per 60,000 ms).
struct Bucket {
    /// Allowance in units of 1/60,000 report.
    allowance: u64,
    refilled_at: Instant,
}

const UNITS_PER_REPORT: u64 = 60_000;

impl Bucket {
    fn full(limits: &Limits, now: Instant) -> Self {
        Bucket {
            allowance: capacity(limits),
            refilled_at: now,
        }
    }

    fn refill(&mut self, limits: &Limits, now: Instant) {
        let elapsed_ms = now.duration_since(self.refilled_at).as_millis() as u64;
        let added = elapsed_ms.saturating_mul(u64::from(limits.device_reports_per_minute));
        self.allowance = self.allowance.saturating_add(added).min(capacity(limits));
        self.refilled_at = now;
    }

    /// Takes one report's allowance if there is one.
    fn take(&mut self, limits: &Limits, now: Instant) -> bool {
        self.refill(limits, now);
        if self.allowance < UNITS_PER_REPORT {
            return false;
        }
        self.allowance -= UNITS_PER_REPORT;
        true
    }

    fn is_full(&mut self, limits: &Limits, now: Instant) -> bool {
        self.refill(limits, now);
        self.allowance == capacity(limits)
    }
}

fn capacity(limits: &Limits) -> u64 {
    u64::from(limits.device_burst.max(1)) * UNITS_PER_REPORT
}
