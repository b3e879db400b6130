//! The settler: pays orders per epoch as their service is proven (DESIGN.md,
//! "Payments"; the storage rules' deals).
//!
//! Scoring records what each epoch did for each such order
//! ([`crate::verifier::OrderOutcome`]). Once the chain finalizes the epoch
//! with this oracle's root, its outcomes are queued, and the settler votes
//! them order by order, oldest epoch first, each under the order's next
//! settlement number:
//!
//! - a proven epoch pays one epoch's share of the escrow
//!   ([`epoch_share`]: the escrow times the epoch's length over the
//!   order's time in service, so a deal proven in every epoch it is due is
//!   paid at most its escrow);
//! - the epoch that faults a deal, or its last epoch in service, completes
//!   the order: the program refunds what is left to the customer and closes
//!   it.
//!
//! A GPU job's outcome (the compute rules': its receipt counted) pays what
//! is left of its escrow and completes it ([`Payment::Whole`]).
//!
//! Every oracle of the network computes the same outcomes, amounts and
//! receipts from the same finalized epochs, so their votes count together.
//! The chain's settlement count says which of an order's queued
//! settlements it has taken, so a restart resumes where it stopped and an
//! oracle never votes one twice under the same number.

use crate::{
    chain::{Chain, ChainError},
    store::{QueuedSettlement, SettlementState, Store, StoreError},
};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Key, storage::settlement_receipt};
use futures_util::{StreamExt, stream};
use service_payments::{
    instructions::{VoteSettlementArgs, settlement_payload_hash},
    state::Order,
};
use std::{collections::BTreeMap, sync::Arc};

/// Settlement votes in flight at once.
const CONCURRENT_VOTES: usize = 8;

/// A round that failed before it voted: the next round retries.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// A chain read failed.
    #[error("{0}")]
    Chain(#[from] ChainError),
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Finalized epochs whose settlements were queued.
    pub queued_epochs: usize,
    /// Votes that landed this round.
    pub voted: usize,
    /// Votes that failed (tried again next round).
    pub failed: usize,
    /// Settlements the chain took since the last round.
    pub landed: usize,
    /// Settlements dropped: their order closed first, or its window passed.
    pub dropped: usize,
    /// Settlements this oracle voted that wait for the other oracles.
    pub awaiting_quorum: usize,
}

/// One epoch's share of an order's escrow: the escrow times `epoch_secs`
/// over the order's time in service (acceptance to service deadline),
/// rounded down, at most the escrow.
pub fn epoch_share(order: &Order, epoch_secs: i64) -> u64 {
    let service = order
        .service_deadline
        .saturating_sub(order.accepted_at)
        .max(1) as u128;
    let epoch = epoch_secs.max(0) as u128;
    let share = u128::from(order.max_amount) * epoch / service;
    u64::try_from(share)
        .unwrap_or(u64::MAX)
        .min(order.max_amount)
}

/// What a delivered outcome pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payment {
    /// One epoch's share of the escrow ([`epoch_share`]): service over
    /// time (storage deals).
    EpochShare,
    /// What is left of the escrow: a job done (GPU jobs).
    Whole,
}

/// The settler of one network's orders, voting as `oracle`.
pub struct Settler<C> {
    chain: Arc<C>,
    network: Pubkey,
    store: Store,
    oracle: Pubkey,
    payment: Payment,
}

impl<C: Chain> Settler<C> {
    /// A settler voting as `oracle` (the chain's signing key), a delivered
    /// outcome paying `payment`.
    pub fn new(
        chain: Arc<C>,
        network: Pubkey,
        store: Store,
        oracle: Pubkey,
        payment: Payment,
    ) -> Self {
        Settler {
            chain,
            network,
            store,
            oracle,
            payment,
        }
    }

    /// Queues the epochs finalized since the last round, then votes each
    /// order's next settlement.
    pub async fn round(&self) -> Result<Round, SettleError> {
        let mut round = Round {
            queued_epochs: self.queue_finalized().await?,
            ..Round::default()
        };
        let mut by_order: BTreeMap<Key, Vec<QueuedSettlement>> = BTreeMap::new();
        for settlement in self.store.pending_settlements().await? {
            by_order
                .entry(settlement.order)
                .or_default()
                .push(settlement);
        }
        if by_order.is_empty() {
            return Ok(round);
        }
        let addresses: Vec<Pubkey> = by_order
            .keys()
            .map(|k| Pubkey::new_from_array(k.0))
            .collect();
        let orders = self.chain.settlement_orders(&addresses).await?;
        let epoch_secs = self.chain.pool(&self.network).await?.epoch_length_secs;
        let now = self.chain.now().await?;
        let mut votes = Vec::new();
        for ((key, mut queued), (address, order)) in
            by_order.into_iter().zip(addresses.into_iter().zip(orders))
        {
            let epochs =
                |rows: &[QueuedSettlement]| rows.iter().map(|s| s.epoch).collect::<Vec<_>>();
            let Some(order) = order else {
                // Completed (by its last settlement) or cancelled.
                self.store
                    .mark_settlements(&key, &epochs(&queued), SettlementState::Closed)
                    .await?;
                round.dropped += queued.len();
                continue;
            };
            let landed = self.store.landed_settlements(&key).await?;
            let taken = u64::from(order.settlement_count).saturating_sub(landed);
            let taken = usize::try_from(taken)
                .unwrap_or(usize::MAX)
                .min(queued.len());
            if taken > 0 {
                let done: Vec<QueuedSettlement> = queued.drain(..taken).collect();
                self.store
                    .mark_settlements(&key, &epochs(&done), SettlementState::Landed)
                    .await?;
                round.landed += taken;
            }
            let Some(next) = queued.first().copied() else {
                continue;
            };
            if now > order.settlement_end() {
                self.store
                    .mark_settlements(&key, &epochs(&queued), SettlementState::Expired)
                    .await?;
                round.dropped += queued.len();
                continue;
            }
            let remaining = order.max_amount.saturating_sub(order.settled);
            let args = VoteSettlementArgs {
                opened_slot: order.opened_slot,
                sequence: order.settlement_count,
                amount: match (next.outcome.delivered, self.payment) {
                    (false, _) => 0,
                    (true, Payment::EpochShare) => epoch_share(&order, epoch_secs).min(remaining),
                    (true, Payment::Whole) => remaining,
                },
                receipt_hash: next.receipt_hash.0,
                complete: next.outcome.closes,
            };
            let payload = settlement_payload_hash(&address, &args);
            if order
                .votes
                .iter()
                .any(|v| v.oracle == self.oracle && v.payload_hash == payload)
            {
                round.awaiting_quorum += 1;
                continue;
            }
            votes.push((address, order, args, next));
        }
        let sent: Vec<_> = stream::iter(votes)
            .map(|(address, order, args, next)| async move {
                let sent = self.chain.vote_settlement(&address, &order, args).await;
                (args, next, sent)
            })
            .buffer_unordered(CONCURRENT_VOTES)
            .collect()
            .await;
        for (args, next, sent) in sent {
            match sent {
                Ok(signature) => {
                    self.store
                        .record_settlement_vote(&next.order, next.epoch, &signature)
                        .await?;
                    metrics::counter!("depin_oracle_settlement_votes_total").increment(1);
                    tracing::info!(
                        order = %next.order,
                        epoch = next.epoch,
                        sequence = args.sequence,
                        amount = args.amount,
                        complete = args.complete,
                        %signature,
                        "settlement voted"
                    );
                    round.voted += 1;
                }
                Err(e) => {
                    tracing::warn!(
                        order = %next.order,
                        epoch = next.epoch,
                        error = %e,
                        "settlement vote failed; retrying next round"
                    );
                    round.failed += 1;
                }
            }
        }
        Ok(round)
    }

    /// Queues the settlements of every epoch the chain finalized since the
    /// last round; how many epochs. An epoch finalized with another root
    /// than this oracle's queues nothing (its outcomes are not the
    /// network's); one whose root the pool no longer shows (it moved past
    /// several epochs at once) counts as this oracle's once the next epoch
    /// is scored here (scoring it required this oracle's totals to be the
    /// chain's).
    async fn queue_finalized(&self) -> Result<usize, StoreError> {
        let mut queued = 0;
        for epoch in self.store.epochs_to_settle().await? {
            let Some(result) = self.store.epoch_result(epoch).await? else {
                continue;
            };
            let ours = match result.finalized_root {
                Some(root) if root == result.root => true,
                Some(root) if root == [0; 32] => {
                    if self.store.epoch_result(epoch + 1).await?.is_none() {
                        break;
                    }
                    true
                }
                _ => false,
            };
            let settlements: Vec<QueuedSettlement> = if ours {
                result
                    .rule_io
                    .settlements
                    .iter()
                    .map(|(order, outcome)| QueuedSettlement {
                        order: *order,
                        epoch,
                        outcome: *outcome,
                        receipt_hash: settlement_receipt(
                            order,
                            epoch,
                            outcome.delivered,
                            outcome.closes,
                            &result.root,
                        ),
                    })
                    .collect()
            } else {
                if !result.rule_io.settlements.is_empty() {
                    tracing::error!(
                        epoch,
                        "the epoch was finalized with another root than this oracle's: its \
                         settlements are left to the oracles that agree with the chain"
                    );
                }
                Vec::new()
            };
            self.store.queue_settlements(epoch, &settlements).await?;
            queued += 1;
        }
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use service_payments::state::{OrderStatus, Provider};

    fn order(max_amount: u64, accepted_at: i64, service_deadline: i64) -> Order {
        Order {
            version: 1,
            bump: 0,
            network: Pubkey::new_unique(),
            customer: Pubkey::new_unique(),
            order_id: 1,
            payment_mint: Pubkey::new_unique(),
            payment_token_program: Pubkey::new_unique(),
            escrow: Pubkey::new_unique(),
            provider: Provider::AnyDevice,
            accepted_device: None,
            max_amount,
            settled: 0,
            accept_deadline: 0,
            service_deadline,
            spec_hash: [0; 32],
            fee_bps: 0,
            pool_share_bps: 0,
            status: OrderStatus::Accepted,
            opened_at: 0,
            opened_slot: 0,
            accepted_at,
            settlement_count: 0,
            votes: Vec::new(),
        }
    }

    #[test]
    fn an_epochs_share_is_the_escrow_over_the_time_in_service() {
        // A day in service, hour-long epochs: 1/24 of the escrow each.
        assert_eq!(
            epoch_share(&order(2_400, 1_000, 1_000 + 86_400), 3_600),
            100
        );
        // Rounded down: 24 proven epochs never pay more than the escrow.
        let odd = order(1_000, 0, 86_400);
        assert_eq!(epoch_share(&odd, 3_600), 41);
        assert!(24 * epoch_share(&odd, 3_600) <= 1_000);
        // An epoch longer than the service pays at most the escrow, and a
        // deadline before the acceptance cannot divide by zero.
        assert_eq!(epoch_share(&order(500, 0, 60), 3_600), 500);
        assert_eq!(epoch_share(&order(500, 100, 100), 3_600), 500);
        assert_eq!(epoch_share(&order(u64::MAX, 0, 1), i64::MAX), u64::MAX);
    }
}
