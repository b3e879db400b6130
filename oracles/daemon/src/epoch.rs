//! The epoch worker: takes the pool's next epoch from open to finalized, one
//! persisted step at a time (DESIGN.md, "Epoch worker"):
//!
//! 1. **close** once the epoch has ended plus the grace period: no report of
//!    it is taken any more ([`Store::close_epoch`]); then, with peers
//!    configured, **exchange**: pull the reports devices sent to the other
//!    oracles ([`crate::exchange`]);
//! 2. **score**: the epoch's reports, sorted by content hash, through the
//!    verifier; the distributable amount (the epoch's emission plus the dust
//!    carried in) split by score; added to the previous epoch's cumulative
//!    totals (those the chain finalized); the tree built; all of it persisted
//!    with the move to `scored`, so the root is computed once;
//! 3. **vote** the persisted root (a restart re-sends that same root, never
//!    another), after publishing the epoch's bundle ([`crate::bundle`]);
//! 4. **finalized** once the pool moves past the epoch, recording the root the
//!    chain finalized.
//!
//! Each [`EpochWorker::tick`] advances as far as it can and says where it
//! stopped; the daemon calls it on an interval, only on the replica that
//! holds the store's leadership.

use crate::{
    bundle::{self, BundleError, Bundles},
    chain::{Chain, ChainError},
    exchange::Exchange,
    rewards::{RewardsError, cumulative_tree, split_with_usage},
    store::{
        DeviceReward, EpochResult, EpochState, Leaf, RefusedReport, RuleIo, Store, StoreError,
    },
    verifier::{Devices, EpochInput, RuleSet, Verifier, compute::Orders},
};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Hash32, Key};
use depinkit_sdk::proofs::ProofFile;
use reward_pool::merkle::RewardTree;
use reward_pool::{instructions::VoteEpochRootArgs, state::Pool};
use std::{collections::BTreeMap, sync::Arc};

/// Where a tick left the worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The next epoch has not ended plus grace: nothing to do before `until`
    /// (unix seconds).
    Waiting {
        /// The epoch.
        epoch: u64,
        /// When it may close.
        until: i64,
    },
    /// Closed here; waiting for peers to serve their reports of it (until
    /// the exchange's timeout).
    Exchanging {
        /// The epoch.
        epoch: u64,
        /// The peers not yet pulled.
        waiting_for: Vec<String>,
    },
    /// Our vote is on chain; the other oracles' votes are awaited.
    AwaitingQuorum {
        /// The epoch.
        epoch: u64,
    },
    /// The epoch cannot be scored or voted yet, and why (the next tick tries
    /// again): a pool that has not received enough, totals of the previous
    /// epoch this oracle does not hold.
    Blocked {
        /// The epoch.
        epoch: u64,
        /// Why, for the operator.
        reason: String,
    },
}

/// A tick that failed on its way: nothing half-done is left (each step is
/// one transaction); the next tick resumes.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// A chain read or the vote failed.
    #[error("{0}")]
    Chain(#[from] ChainError),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The bundle could not be published.
    #[error("{0}")]
    Bundle(#[from] BundleError),
}

/// What epoch `pool.next_epoch` distributes: everything scheduled through it
/// that earlier roots did not pay out (its emission, plus the floors' dust
/// and the emissions of epochs nobody earned in). Read from the pool alone,
/// so every oracle computes the same amount whatever its own history.
pub fn distributable(pool: &Pool) -> u64 {
    let scheduled = pool
        .scheduled_to_date
        .saturating_add(u128::from(pool.next_epoch_emission));
    u64::try_from(scheduled.saturating_sub(u128::from(pool.root_total))).unwrap_or(u64::MAX)
}

/// Credits a usage escrow can still spend: delegated, less burned,
/// withdrawn and asked back.
pub fn spendable(escrow: &service_payments::state::UsageEscrow) -> u64 {
    escrow
        .delegated
        .saturating_sub(escrow.burned)
        .saturating_sub(escrow.withdrawn)
        .saturating_sub(escrow.pending_withdrawal.map_or(0, |w| w.amount))
}

/// Most epochs one tick takes through to a vote (a worker catching up on
/// epochs that ended while it was down).
const MAX_EPOCHS_PER_TICK: usize = 16;

/// The epoch worker of one network.
pub struct EpochWorker<C, V> {
    chain: Arc<C>,
    network: Pubkey,
    store: Store,
    verifier: V,
    grace_secs: i64,
    exchange: Option<Exchange<C>>,
    bundles: Option<Bundles>,
    /// Burn each ended epoch's paid-API charges (the map's) before scoring
    /// it, forgetting nonces older than this many seconds.
    usage_burns: Option<i64>,
}

impl<C: Chain, V: Verifier> EpochWorker<C, V> {
    /// A worker closing `network`'s epochs `grace_secs` after they end.
    pub fn new(chain: Arc<C>, network: Pubkey, store: Store, verifier: V, grace_secs: i64) -> Self {
        EpochWorker {
            chain,
            network,
            store,
            verifier,
            grace_secs,
            exchange: None,
            bundles: None,
            usage_burns: None,
        }
    }

    /// Burns each ended epoch's charges of the map service with
    /// `burn_usage` before scoring it (usage is attested only until the
    /// epoch is finalized); nonces older than `nonce_secs` are forgotten.
    pub fn with_usage_burns(mut self, nonce_secs: i64) -> Self {
        self.usage_burns = Some(nonce_secs);
        self
    }

    /// Publishes each scored epoch's bundle to `bundles` before voting.
    pub fn with_bundles(mut self, bundles: Bundles) -> Self {
        self.bundles = Some(bundles);
        self
    }

    /// Pulls each closed epoch's reports from the network's other oracles
    /// before scoring it.
    pub fn with_exchange(mut self, exchange: Exchange<C>) -> Self {
        self.exchange = Some(exchange);
        self
    }

    /// Advances the pool's next epoch as far as it can go at unix time `now`,
    /// and the ones after it when its root is finalized at once (a worker
    /// catching up).
    pub async fn tick(&self, now: i64) -> Result<Progress, WorkerError> {
        let mut progress = self.tick_once(now).await?;
        for _ in 1..MAX_EPOCHS_PER_TICK {
            let Progress::AwaitingQuorum { epoch } = progress else {
                break;
            };
            let next = self.chain.pool(&self.network).await?.next_epoch;
            if u64::from(next) <= epoch {
                break;
            }
            progress = self.tick_once(now).await?;
        }
        Ok(progress)
    }

    async fn tick_once(&self, now: i64) -> Result<Progress, WorkerError> {
        let pool = self.chain.pool(&self.network).await?;
        self.record_finalized(&pool).await?;
        let epoch = pool.next_epoch;
        let number = u64::from(epoch);
        let closes_at = pool
            .epoch_end(epoch)
            .map(|end| end.saturating_add(self.grace_secs))
            .unwrap_or(i64::MAX);
        if now < closes_at {
            return Ok(Progress::Waiting {
                epoch: number,
                until: closes_at,
            });
        }
        loop {
            match self.store.epoch_state(number).await? {
                None | Some(EpochState::Open) => {
                    self.store.close_epoch(number).await?;
                    tracing::info!(epoch = number, "epoch closed to reports");
                }
                Some(EpochState::Closed) => {
                    if let Some(exchange) = &self.exchange {
                        let missing = exchange.pull(&self.store, &pool, number).await?;
                        if !missing.is_empty() {
                            if now < closes_at.saturating_add(exchange.timeout_secs) {
                                return Ok(Progress::Exchanging {
                                    epoch: number,
                                    waiting_for: missing
                                        .into_iter()
                                        .map(|(peer, _)| peer)
                                        .collect(),
                                });
                            }
                            tracing::warn!(
                                epoch = number,
                                ?missing,
                                "scoring without these peers' reports"
                            );
                        }
                    }
                    if let Some(nonce_secs) = self.usage_burns {
                        crate::map::burn_epoch(&*self.chain, &self.network, &self.store, number)
                            .await?;
                        let before = crate::store::now_ms() - 2 * nonce_secs * 1000;
                        self.store.prune_nonces(before).await?;
                    }
                    if let Err(reason) = self.score(&pool).await? {
                        return Ok(Progress::Blocked {
                            epoch: number,
                            reason,
                        });
                    }
                }
                Some(EpochState::Scored) => {
                    let result = self.store.epoch_result(number).await?.ok_or_else(|| {
                        StoreError::Corrupt(format!("epoch {number} scored without a result"))
                    })?;
                    if let Some(bundles) = &self.bundles {
                        let start = pool.epoch_end(epoch).unwrap_or(0) - pool.epoch_length_secs;
                        let bundle = bundle::gather(
                            &self.store,
                            &self.network,
                            start,
                            pool.epoch_length_secs,
                            &result,
                        )
                        .await?;
                        bundles.put(&bundle).await?;
                    }
                    if self.usage_burns.is_some() {
                        // Usage charged by the scoring (data transfer) is
                        // attested before the root finalizes the epoch.
                        crate::map::burn_epoch(&*self.chain, &self.network, &self.store, number)
                            .await?;
                    }
                    let vote = VoteEpochRootArgs {
                        epoch,
                        root: result.root,
                        total: result.total,
                        leaf_count: result.leaf_count,
                    };
                    let signature = self.chain.vote_epoch_root(&self.network, vote).await?;
                    self.store.record_vote(number, &signature).await?;
                    metrics::counter!("depin_oracle_votes_total").increment(1);
                    tracing::info!(
                        epoch = number,
                        root = %Pubkey::new_from_array(result.root),
                        total = result.total,
                        %signature,
                        "root voted"
                    );
                }
                Some(EpochState::Voted) | Some(EpochState::Finalized) => {
                    return Ok(Progress::AwaitingQuorum { epoch: number });
                }
            }
        }
    }

    /// Epochs this oracle scored that the chain has since finalized: records
    /// the finalized root (known for the latest one; the pool keeps only it).
    async fn record_finalized(&self, pool: &Pool) -> Result<(), StoreError> {
        let next = u64::from(pool.next_epoch);
        let mut pending = self.store.epochs_in(EpochState::Scored).await?;
        pending.extend(self.store.epochs_in(EpochState::Voted).await?);
        for epoch in pending.into_iter().filter(|&e| e < next) {
            let root = if epoch + 1 == next {
                pool.root
            } else {
                [0; 32]
            };
            self.store.record_finalized(epoch, root).await?;
            let ours = self.store.epoch_result(epoch).await?.map(|r| r.root);
            if ours == Some(root) {
                tracing::info!(epoch, "epoch finalized with our root");
            } else {
                tracing::error!(
                    epoch,
                    finalized = %Pubkey::new_from_array(root),
                    "epoch finalized with a root other than ours: this oracle's totals no \
                     longer match the chain's"
                );
            }
            metrics::gauge!("depin_oracle_finalized_epoch").set(epoch as f64);
        }
        Ok(())
    }

    /// This oracle's totals of `epoch` when they are the ones the chain
    /// finalized (the pool's latest root).
    async fn finalized_totals(
        &self,
        epoch: u64,
        pool: &Pool,
    ) -> Result<Option<BTreeMap<Pubkey, u64>>, WorkerError> {
        Ok(match self.store.epoch_result(epoch).await? {
            Some(result) if result.root == pool.root && result.total == pool.root_total => Some(
                result
                    .leaves
                    .iter()
                    .map(|leaf| (leaf.mint, leaf.cumulative))
                    .collect(),
            ),
            _ => None,
        })
    }

    /// An oracle that fell behind (the others finalized `epoch` before it
    /// scored it) takes `epoch`'s totals from a peer's proof file, checked
    /// against the chain's root as `import-root` checks one; whether it did.
    /// An oracle that scored `epoch` itself and disagrees takes nothing.
    async fn catch_up(&self, epoch: u64) -> Result<bool, WorkerError> {
        let Some(exchange) = &self.exchange else {
            return Ok(false);
        };
        if self.store.epoch_result(epoch).await?.is_some() {
            return Ok(false);
        }
        for (peer, file) in exchange.latest_proofs().await {
            if u64::from(file.epoch) != epoch {
                continue;
            }
            match import_root(&*self.chain, &self.network, &self.store, &file).await {
                Ok(_) => {
                    tracing::warn!(
                        epoch,
                        peer,
                        "the chain finalized this epoch before this oracle scored it: took its \
                         totals from a peer, checked against the chain's root"
                    );
                    return Ok(true);
                }
                Err(ImportError::Worker(e)) => return Err(e),
                Err(ImportError::Mismatch(why)) => {
                    tracing::warn!(
                        epoch,
                        peer,
                        why,
                        "a peer's proof file does not match the chain"
                    );
                }
            }
        }
        Ok(false)
    }

    /// Scores the pool's next epoch and persists the result; `Err(reason)`
    /// when it cannot be scored yet.
    async fn score(&self, pool: &Pool) -> Result<Result<(), String>, WorkerError> {
        let epoch = u64::from(pool.next_epoch);
        let previous_totals: BTreeMap<Pubkey, u64> = match epoch.checked_sub(1) {
            None => BTreeMap::new(),
            Some(previous) => match self.finalized_totals(previous, pool).await? {
                Some(totals) => totals,
                None if self.catch_up(previous).await? => {
                    match self.finalized_totals(previous, pool).await? {
                        Some(totals) => totals,
                        None => return Ok(Err(format!("epoch {previous}'s totals do not match"))),
                    }
                }
                None => {
                    return Ok(Err(format!(
                        "this oracle does not hold the totals of epoch {previous} as the chain \
                         finalized them (`depin-oracle import-root` takes them from a proof file)"
                    )));
                }
            },
        };

        let reports = self.store.all_epoch_reports(epoch).await?;
        let devices: Devices = if self.verifier.uses_devices() {
            self.chain
                .devices(&self.network)
                .await?
                .into_iter()
                .collect()
        } else {
            Devices::new()
        };
        let end_ms = pool
            .epoch_end(pool.next_epoch)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        let oracles = self.chain.network(&self.network).await?.oracles;
        let no_orders = Orders::new();
        let mut input = EpochInput {
            network: self.network,
            oracles: &oracles,
            epoch,
            start_ms: end_ms.saturating_sub(pool.epoch_length_secs.saturating_mul(1000)),
            end_ms,
            reports: &reports,
            devices: &devices,
            orders: &no_orders,
            usage_escrows: &Default::default(),
        };
        let wanted: Vec<Key> = self.verifier.orders_needed(&input).into_iter().collect();
        let mut orders: Orders = if wanted.is_empty() {
            Orders::new()
        } else {
            let addresses: Vec<Pubkey> =
                wanted.iter().map(|k| Pubkey::new_from_array(k.0)).collect();
            let found = self.chain.orders(&addresses).await?;
            wanted
                .into_iter()
                .zip(found)
                .filter_map(|(key, order)| order.map(|o| (key, o)))
                .collect()
        };
        if self.verifier.reads_network_orders() {
            orders.extend(self.chain.network_orders(&self.network).await?);
        }
        input.orders = &orders;
        let mut usage_escrows = crate::verifier::UsageEscrows::new();
        for customer in self.verifier.customers_needed(&input) {
            let wallet = Pubkey::new_from_array(customer.0);
            if let Some(escrow) = self.chain.usage_escrow(&self.network, &wallet).await? {
                // As before this epoch's own burn, had another oracle's
                // votes finalized it already.
                let burned = self
                    .chain
                    .burned_in_epoch(&self.network, &wallet, epoch)
                    .await?;
                usage_escrows.insert(customer, spendable(&escrow).saturating_add(burned));
            }
        }
        input.usage_escrows = &usage_escrows;
        let plan = self.verifier.plan(&input);
        let state = self.store.rule_state(&plan.state_keys).await?;
        let scoring = self.verifier.score(&input, plan, &state);
        let scores = scoring.scores;
        let map_cells = scoring.map_cells;
        let usage = scoring.usage;
        let charges = scoring.charges;
        let mint_of: std::collections::HashMap<Hash32, Pubkey> = reports
            .iter()
            .map(|r| (r.content_hash, r.device_mint))
            .collect();
        let refused: Vec<RefusedReport> = scoring
            .refused
            .into_iter()
            .map(|(content_hash, refusal)| RefusedReport {
                content_hash,
                device_mint: mint_of.get(&content_hash).copied().unwrap_or_default(),
                refusal,
            })
            .collect();
        let rule_io = RuleIo {
            orders: orders.iter().map(|(k, o)| (*k, *o)).collect(),
            oracles: oracles.clone(),
            devices: scoring
                .devices_read
                .iter()
                .filter_map(|key| devices.get(key).map(|d| (*key, d.location, d.active)))
                .collect(),
            state_read: state.into_iter().collect(),
            carried: scoring.carried.into_iter().collect(),
            settlements: scoring.settlements.into_iter().collect(),
            usage_escrows: usage_escrows.into_iter().collect(),
        };

        let amount = distributable(pool);
        let split = split_with_usage(amount, &scores, &usage, scoring.usage_share_bps);
        let received = pool.max_total_for_next_epoch();
        let (totals, tree) = match cumulative_tree(&previous_totals, &split.rewards, received) {
            Ok(built) => built,
            Err(e @ RewardsError::AboveReceived { .. }) => {
                return Ok(Err(format!("{e}: fund the pool")));
            }
            Err(e) => return Ok(Err(e.to_string())),
        };
        // Every device scored or paid for usage: its coverage score (0 when
        // it earned by usage alone) and its whole reward.
        let mut paid: Vec<Pubkey> = scores.keys().chain(split.rewards.keys()).copied().collect();
        paid.sort_unstable();
        paid.dedup();
        let rewards = paid
            .into_iter()
            .map(|mint| DeviceReward {
                mint,
                score: scores.get(&mint).copied().unwrap_or(0),
                reward: split.rewards.get(&mint).copied().unwrap_or(0),
            })
            .collect();
        let result = EpochResult {
            epoch,
            rule_set: self.verifier.rule_set(),
            report_count: reports.len() as u64,
            amount,
            dust: split.dust,
            root: tree.root(),
            total: tree.total(),
            leaf_count: tree.len() as u64,
            rewards,
            leaves: totals
                .iter()
                .map(|(&mint, &cumulative)| Leaf { mint, cumulative })
                .collect(),
            vote_signature: None,
            finalized_root: None,
            rule_io,
        };
        if self
            .store
            .save_scored(&result, &refused, &map_cells, &charges)
            .await?
        {
            tracing::info!(
                epoch,
                reports = result.report_count,
                refused = refused.len(),
                devices = scores.len(),
                amount,
                dust = result.dust,
                root = %Pubkey::new_from_array(result.root),
                "epoch scored"
            );
        }
        Ok(Ok(()))
    }
}

/// Why a proof file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The chain or the store failed.
    #[error("{0}")]
    Worker(#[from] WorkerError),
    /// The file does not match what the chain finalized.
    #[error("{0}")]
    Mismatch(String),
}

/// Takes the cumulative totals of the pool's latest finalized root from a
/// proof file (an epoch finalized before this oracle ran, or by manual
/// votes), after checking them against the chain: the file is for the epoch
/// before the pool's next, and its entries rebuild the pool's root and
/// total. The epoch worker goes on from there. Returns the epoch imported.
pub async fn import_root<C: Chain>(
    chain: &C,
    network: &Pubkey,
    store: &Store,
    file: &ProofFile,
) -> Result<u64, ImportError> {
    let mismatch = |why: String| Err(ImportError::Mismatch(why));
    let pool = chain.pool(network).await.map_err(WorkerError::from)?;
    let Some(latest) = pool.next_epoch.checked_sub(1) else {
        return mismatch("no epoch of the pool is finalized yet: nothing to import".into());
    };
    if file.epoch != latest {
        return mismatch(format!(
            "the file is for epoch {}, but the latest finalized epoch is {latest}",
            file.epoch
        ));
    }
    let mut entries = Vec::with_capacity(file.claims.len());
    for claim in &file.claims {
        let Ok(mint) = claim.device_mint.parse::<Pubkey>() else {
            return mismatch(format!("{:?} is not a mint", claim.device_mint));
        };
        entries.push((mint, claim.cumulative_amount));
    }
    let tree = match RewardTree::new(entries) {
        Ok(tree) => tree,
        Err(e) => return mismatch(format!("the file's entries make no tree: {e}")),
    };
    if tree.root() != pool.root || tree.total() != pool.root_total {
        return mismatch(format!(
            "the file's entries rebuild another root than the one finalized for epoch {latest}"
        ));
    }
    let result = EpochResult {
        epoch: u64::from(latest),
        rule_set: RuleSet {
            name: "imported".into(),
            version: 0,
            constants: BTreeMap::new(),
        },
        report_count: 0,
        amount: 0,
        dust: 0,
        root: tree.root(),
        total: tree.total(),
        leaf_count: tree.len() as u64,
        rewards: Vec::new(),
        leaves: tree
            .entries()
            .iter()
            .map(|&(mint, cumulative)| Leaf { mint, cumulative })
            .collect(),
        vote_signature: None,
        finalized_root: Some(tree.root()),
        rule_io: RuleIo::default(),
    };
    if !store
        .import_finalized(&result)
        .await
        .map_err(WorkerError::from)?
    {
        return mismatch(format!("this oracle already holds epoch {latest}"));
    }
    Ok(u64::from(latest))
}
