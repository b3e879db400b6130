//! Settlements of orders paid per epoch (the storage rules' deals): each
//! finalized epoch's outcomes are queued once, then voted one after another
//! per order ([`crate::settle`]), and marked as the chain takes them.

use super::{Store, StoreError, to_i64};
use crate::verifier::OrderOutcome;
use depinkit_reports::{Hash32, Key};
use sqlx::Row;

/// One epoch's settlement of one order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuedSettlement {
    /// The order's address.
    pub order: Key,
    /// The epoch whose service it pays.
    pub epoch: u64,
    /// What the epoch did for the order.
    pub outcome: OrderOutcome,
    /// The receipt the vote attests.
    pub receipt_hash: Hash32,
}

/// Where a queued settlement stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettlementState {
    /// Not yet taken by the chain.
    Pending,
    /// The chain counted it (the order's settlement count passed it).
    Landed,
    /// The order was gone first (completed or cancelled).
    Closed,
    /// Its settlement window passed first.
    Expired,
}

impl SettlementState {
    fn as_str(self) -> &'static str {
        match self {
            SettlementState::Pending => "pending",
            SettlementState::Landed => "landed",
            SettlementState::Closed => "closed",
            SettlementState::Expired => "expired",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "pending" => SettlementState::Pending,
            "landed" => SettlementState::Landed,
            "closed" => SettlementState::Closed,
            "expired" => SettlementState::Expired,
            other => return Err(StoreError::Corrupt(format!("settlement state {other:?}"))),
        })
    }
}

/// A settlement as kept, with where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptSettlement {
    /// The settlement.
    pub settlement: QueuedSettlement,
    /// Where it stands.
    pub state: SettlementState,
    /// The last transaction this oracle voted it in.
    pub signature: Option<String>,
}

impl Store {
    /// Finalized epochs whose settlements are not queued yet, oldest first.
    pub async fn epochs_to_settle(&self) -> Result<Vec<u64>, StoreError> {
        let epochs: Vec<i64> = sqlx::query_scalar(
            "SELECT epoch FROM epoch_results WHERE settlements_queued = 0 \
             AND finalized_root IS NOT NULL ORDER BY epoch",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(epochs.into_iter().map(|e| e as u64).collect())
    }

    /// Queues `epoch`'s settlements and marks the epoch queued, in one
    /// transaction (a settlement queued twice is kept once).
    pub async fn queue_settlements(
        &self,
        epoch: u64,
        settlements: &[QueuedSettlement],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for s in settlements {
            sqlx::query(
                "INSERT INTO settlements \
                 (order_address, epoch, delivered, closes, receipt_hash, state) \
                 VALUES ($1, $2, $3, $4, $5, 'pending') \
                 ON CONFLICT (order_address, epoch) DO NOTHING",
            )
            .bind(s.order.0.to_vec())
            .bind(to_i64(s.epoch)?)
            .bind(i64::from(s.outcome.delivered))
            .bind(i64::from(s.outcome.closes))
            .bind(s.receipt_hash.0.to_vec())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE epoch_results SET settlements_queued = 1 WHERE epoch = $1")
            .bind(to_i64(epoch)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The settlements waiting for the chain, by order then epoch.
    pub async fn pending_settlements(&self) -> Result<Vec<QueuedSettlement>, StoreError> {
        let rows = sqlx::query(
            "SELECT order_address, epoch, delivered, closes, receipt_hash, state, signature \
             FROM settlements WHERE state = 'pending' ORDER BY order_address, epoch",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| kept(row).map(|k| k.settlement))
            .collect()
    }

    /// Every settlement of `order`, oldest epoch first.
    pub async fn order_settlements(&self, order: &Key) -> Result<Vec<KeptSettlement>, StoreError> {
        let rows = sqlx::query(
            "SELECT order_address, epoch, delivered, closes, receipt_hash, state, signature \
             FROM settlements WHERE order_address = $1 ORDER BY epoch",
        )
        .bind(order.0.to_vec())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(kept).collect()
    }

    /// How many of `order`'s settlements the chain took.
    pub async fn landed_settlements(&self, order: &Key) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM settlements WHERE order_address = $1 AND state = 'landed'",
        )
        .bind(order.0.to_vec())
        .fetch_one(&self.pool)
        .await?;
        Ok(count as u64)
    }

    /// Moves `order`'s pending settlements of `epochs` to `state`.
    pub async fn mark_settlements(
        &self,
        order: &Key,
        epochs: &[u64],
        state: SettlementState,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for &epoch in epochs {
            sqlx::query(
                "UPDATE settlements SET state = $3 \
                 WHERE order_address = $1 AND epoch = $2 AND state = 'pending'",
            )
            .bind(order.0.to_vec())
            .bind(to_i64(epoch)?)
            .bind(state.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records the transaction this oracle voted `order`'s settlement of
    /// `epoch` in.
    pub async fn record_settlement_vote(
        &self,
        order: &Key,
        epoch: u64,
        signature: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE settlements SET signature = $3 WHERE order_address = $1 AND epoch = $2",
        )
        .bind(order.0.to_vec())
        .bind(to_i64(epoch)?)
        .bind(signature)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn kept(row: &sqlx::any::AnyRow) -> Result<KeptSettlement, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("settlement {what}"));
    let order: [u8; 32] = row
        .try_get::<Vec<u8>, _>("order_address")?
        .try_into()
        .map_err(|_| corrupt("order"))?;
    let receipt: [u8; 32] = row
        .try_get::<Vec<u8>, _>("receipt_hash")?
        .try_into()
        .map_err(|_| corrupt("receipt"))?;
    let epoch: i64 = row.try_get("epoch")?;
    let delivered: i64 = row.try_get("delivered")?;
    let closes: i64 = row.try_get("closes")?;
    let state: String = row.try_get("state")?;
    Ok(KeptSettlement {
        settlement: QueuedSettlement {
            order: Key(order),
            epoch: epoch as u64,
            outcome: OrderOutcome {
                delivered: delivered != 0,
                closes: closes != 0,
            },
            receipt_hash: Hash32(receipt),
        },
        state: SettlementState::parse(&state)?,
        signature: row.try_get("signature")?,
    })
}
