//! Compute challenges this oracle issues (`GET /v1/challenges/compute`): a
//! device of a compute network asks, and gets a challenge signed with the
//! oracle's key: two matrices to multiply, drawn from a seed only this oracle
//! knew until now (the operating system's randomness), stamped with the
//! time. The device answers in a signed report; ingest refuses an answer
//! that arrives after the bound, and the compute rules check the product
//! with Freivalds' algorithm. A device gets one challenge per interval, so
//! availability cannot be farmed.
//!
//! Storage seeds (`GET /v1/challenges/storage`): the running epoch's seed,
//! the entropy this oracle issued in the epoch's first minute; a storage
//! provider draws its deals' challenges from it.

use crate::{chain::Chain, registry::Registry};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{
    ComputeChallenge, Hash32, Key, MAX_CHALLENGE_SIZE, MAX_GPU_CLASS, storage::StorageSeed,
};
use device_registry::state::Category;
use ed25519_dalek::SigningKey;
use rand_core::RngCore;
use std::{collections::HashMap, sync::Arc};
use tokio::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// Side of the matrices of a challenge: 32 x 32 (a 4 KiB product).
pub const DEFAULT_CHALLENGE_SIZE: u16 = 32;

/// Seconds between two challenges to one device.
pub const DEFAULT_CHALLENGE_INTERVAL_SECS: u64 = 300;

/// Why no challenge was issued.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChallengeRefused {
    /// The network is not a compute network.
    #[error("this oracle's network is not a compute network")]
    NotCompute,
    /// The key is no active device of the network.
    #[error("{0} is no active device of this network")]
    UnknownDevice(Key),
    /// The GPU class is empty or too long.
    #[error("the GPU class must be 1 to {MAX_GPU_CLASS} bytes")]
    BadClass,
    /// The device had one too recently.
    #[error("one challenge per {interval_secs} s: ask again in {retry_after_secs} s")]
    TooSoon {
        /// The interval.
        interval_secs: u64,
        /// Seconds to wait.
        retry_after_secs: u64,
    },
}

/// Issues this oracle's compute challenges.
pub struct ChallengeIssuer {
    network: Key,
    signer: SigningKey,
    size: u16,
    interval: Duration,
    last: Mutex<HashMap<Key, Instant>>,
}

impl ChallengeIssuer {
    /// Challenges for `network` of `size` x `size` matrices, signed by
    /// `signer` (the oracle's key), one per device per `interval`.
    pub fn new(network: &Pubkey, signer: SigningKey, size: u16, interval: Duration) -> Self {
        ChallengeIssuer {
            network: Key(network.to_bytes()),
            signer,
            size: size.clamp(2, MAX_CHALLENGE_SIZE),
            interval,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// A challenge for `device` (declaring `gpu_class`) at `now_ms`, if it is
    /// an active device of the compute network `registry` follows and has
    /// not had one within the interval.
    pub async fn issue<C: Chain>(
        &self,
        registry: &Registry<C>,
        device: Key,
        gpu_class: &str,
        now_ms: i64,
    ) -> Result<ComputeChallenge, ChallengeRefused> {
        if registry.category() != Category::Compute {
            return Err(ChallengeRefused::NotCompute);
        }
        if gpu_class.is_empty() || gpu_class.len() > MAX_GPU_CLASS {
            return Err(ChallengeRefused::BadClass);
        }
        if !registry.device(&device).await.is_some_and(|d| d.active) {
            return Err(ChallengeRefused::UnknownDevice(device));
        }
        {
            let mut last = self.last.lock().await;
            let now = Instant::now();
            if let Some(at) = last.get(&device)
                && now.duration_since(*at) < self.interval
            {
                let wait = self.interval - now.duration_since(*at);
                return Err(ChallengeRefused::TooSoon {
                    interval_secs: self.interval.as_secs(),
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
            last.insert(device, now);
            if last.len() > 100_000 {
                let interval = self.interval;
                last.retain(|_, at| now.duration_since(*at) < interval);
            }
        }
        let mut seed = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut seed);
        Ok(ComputeChallenge::issue(
            &self.network,
            device,
            gpu_class,
            Hash32(seed),
            self.size,
            now_ms,
            &self.signer,
        ))
    }
}

/// Why no storage seed was served.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SeedRefused {
    /// The network is not a storage network.
    #[error("this oracle's network is not a storage network")]
    NotStorage,
    /// No epoch is running (the pool has not started, or the chain cannot
    /// be read).
    #[error("no epoch is running: {0}")]
    NoEpoch(String),
    /// The epoch's first minute is not over and this oracle has not issued
    /// in it yet.
    #[error("epoch {0}'s seed is issued within its first minute: ask again in a moment")]
    NotYet(u32),
    /// This oracle issued nothing in the epoch's first minute (it was down).
    #[error("this oracle has no seed for epoch {0}: ask another of the network's oracles")]
    Missed(u32),
}

/// Serves the running epoch's storage seed.
pub struct StorageSeeds<C> {
    chain: Arc<C>,
    network: Pubkey,
    entropy: Arc<crate::entropy::EntropySource>,
    rules: crate::verifier::storage::StorageRules,
    /// The pool as last read, and when (read again after a minute).
    pool: Mutex<Option<(Instant, reward_pool::state::Pool)>>,
}

impl<C: Chain> StorageSeeds<C> {
    /// The storage rules' constants these seeds follow.
    pub fn rules(&self) -> crate::verifier::storage::StorageRules {
        self.rules
    }

    /// Seeds from `entropy` for `network`'s pool under `rules`.
    pub fn new(
        chain: Arc<C>,
        network: Pubkey,
        entropy: Arc<crate::entropy::EntropySource>,
        rules: crate::verifier::storage::StorageRules,
    ) -> Self {
        StorageSeeds {
            chain,
            network,
            entropy,
            rules,
            pool: Mutex::new(None),
        }
    }

    /// The seed of the epoch running at `now_ms`.
    pub async fn current(&self, now_ms: i64) -> Result<StorageSeed, SeedRefused> {
        let pool = {
            let mut cached = self.pool.lock().await;
            match &*cached {
                Some((at, pool)) if at.elapsed() < Duration::from_secs(60) => pool.clone(),
                _ => {
                    let pool = self
                        .chain
                        .pool(&self.network)
                        .await
                        .map_err(|e| SeedRefused::NoEpoch(e.to_string()))?;
                    *cached = Some((Instant::now(), pool.clone()));
                    pool
                }
            }
        };
        let epoch = pool
            .epoch_at(now_ms.div_euclid(1000))
            .ok_or_else(|| SeedRefused::NoEpoch("the pool's first epoch has not begun".into()))?;
        let end_ms = pool
            .epoch_end(epoch)
            .and_then(|end| end.checked_mul(1000))
            .ok_or_else(|| SeedRefused::NoEpoch("the epoch's end overflows".into()))?;
        let start_ms = end_ms - pool.epoch_length_secs * 1000;
        let window_end = start_ms.saturating_add(self.rules.seed_window_ms);
        match self.entropy.first_between(start_ms, window_end).await {
            Some(seed) => Ok(StorageSeed {
                epoch,
                epoch_start_ms: start_ms,
                epoch_end_ms: end_ms,
                seed,
                challenges_per_deal: self.rules.challenges_per_deal,
            }),
            None if now_ms < window_end => Err(SeedRefused::NotYet(epoch)),
            None => Err(SeedRefused::Missed(epoch)),
        }
    }
}
