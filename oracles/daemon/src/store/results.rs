//! What the epoch worker persists for each epoch: scores, rewards, cumulative
//! totals and root, written in the same transaction that marks the epoch
//! scored, so a restart never computes (and never votes) a second root; then
//! the vote's signature and the root the chain finalized.

use super::{EpochState, Store, StoreError, now_ms, to_i64};
use crate::verifier::RuleSet;
use anchor_lang::prelude::{AnchorDeserialize, AnchorSerialize, Pubkey};
use sqlx::Row;

/// One device's part of an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct DeviceReward {
    /// The device NFT.
    pub mint: Pubkey,
    /// Its score under the rule set.
    pub score: u64,
    /// What it earned this epoch.
    pub reward: u64,
}

/// A leaf of the reward tree: a device's cumulative total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct Leaf {
    /// The device NFT.
    pub mint: Pubkey,
    /// Everything it has earned through this epoch.
    pub cumulative: u64,
}

/// An epoch as the worker closed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochResult {
    /// The epoch.
    pub epoch: u64,
    /// The rules that scored it.
    pub rule_set: RuleSet,
    /// Reports scored.
    pub report_count: u64,
    /// Distributable: the epoch's emission plus the dust carried in.
    pub amount: u64,
    /// What the split's floors left, carried to the next epoch.
    pub dust: u64,
    /// The root voted.
    pub root: [u8; 32],
    /// Sum of the cumulative totals.
    pub total: u64,
    /// Leaves in the tree.
    pub leaf_count: u64,
    /// This epoch's scores and rewards, by mint.
    pub rewards: Vec<DeviceReward>,
    /// Cumulative totals after this epoch, by mint.
    pub leaves: Vec<Leaf>,
    /// The vote's transaction signature, once it landed.
    pub vote_signature: Option<String>,
    /// The root the chain finalized for this epoch, once final.
    pub finalized_root: Option<[u8; 32]>,
}

impl Store {
    /// Persists `result` and moves its epoch from closed to scored, in one
    /// transaction; false (and nothing written) if the epoch was not closed.
    pub async fn save_scored(&self, result: &EpochResult) -> Result<bool, StoreError> {
        let epoch = to_i64(result.epoch)?;
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE epochs SET state = 'scored', updated_ms = $2 WHERE epoch = $1 AND state = 'closed'",
        )
        .bind(epoch)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_result(&mut tx, result).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Keeps `result` as an epoch the chain finalized without this oracle
    /// having scored it (taken from a proof file checked against the chain);
    /// false if this oracle already holds a result for it.
    pub async fn import_finalized(&self, result: &EpochResult) -> Result<bool, StoreError> {
        if self.epoch_result(result.epoch).await?.is_some() {
            return Ok(false);
        }
        let epoch = to_i64(result.epoch)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO epochs (epoch, state, updated_ms) VALUES ($1, 'finalized', $2) \
             ON CONFLICT (epoch) DO UPDATE SET state = 'finalized', updated_ms = $2",
        )
        .bind(epoch)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        insert_result(&mut tx, result).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The result of `epoch`, if it was scored.
    pub async fn epoch_result(&self, epoch: u64) -> Result<Option<EpochResult>, StoreError> {
        let row = sqlx::query(
            "SELECT epoch, rule_set, report_count, amount, dust, root, total, leaf_count, \
             rewards, leaves, vote_signature, finalized_root FROM epoch_results WHERE epoch = $1",
        )
        .bind(to_i64(epoch)?)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| epoch_result(&row)).transpose()
    }

    /// The latest epoch the chain finalized with a root this oracle holds
    /// the leaves of.
    pub async fn latest_finalized(&self) -> Result<Option<EpochResult>, StoreError> {
        let epoch: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(epoch) FROM epoch_results WHERE finalized_root IS NOT NULL \
             AND finalized_root = root",
        )
        .fetch_one(&self.pool)
        .await?;
        match epoch {
            Some(epoch) => self.epoch_result(epoch as u64).await,
            None => Ok(None),
        }
    }

    /// Records the landed vote of a scored epoch and moves it to voted.
    pub async fn record_vote(&self, epoch: u64, signature: &str) -> Result<bool, StoreError> {
        let epoch = to_i64(epoch)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE epoch_results SET vote_signature = $2 WHERE epoch = $1")
            .bind(epoch)
            .bind(signature)
            .execute(&mut *tx)
            .await?;
        let moved = sqlx::query(
            "UPDATE epochs SET state = 'voted', updated_ms = $2 WHERE epoch = $1 AND state = 'scored'",
        )
        .bind(epoch)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(moved == 1)
    }

    /// Records the root the chain finalized for `epoch` and moves it to
    /// finalized (from scored or voted: another quorum may finalize first).
    pub async fn record_finalized(&self, epoch: u64, root: [u8; 32]) -> Result<bool, StoreError> {
        let epoch = to_i64(epoch)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE epoch_results SET finalized_root = $2 WHERE epoch = $1")
            .bind(epoch)
            .bind(root.to_vec())
            .execute(&mut *tx)
            .await?;
        let moved = sqlx::query(
            "UPDATE epochs SET state = 'finalized', updated_ms = $2 \
             WHERE epoch = $1 AND state IN ('scored', 'voted')",
        )
        .bind(epoch)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(moved == 1)
    }

    /// Epochs in `state`, oldest first.
    pub async fn epochs_in(&self, state: EpochState) -> Result<Vec<u64>, StoreError> {
        let epochs: Vec<i64> =
            sqlx::query_scalar("SELECT epoch FROM epochs WHERE state = $1 ORDER BY epoch")
                .bind(state.as_str())
                .fetch_all(&self.pool)
                .await?;
        Ok(epochs.into_iter().map(|e| e as u64).collect())
    }
}

/// Writes `result` (its vote signature left empty; its finalized root when
/// it has one).
async fn insert_result(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    result: &EpochResult,
) -> Result<(), StoreError> {
    let rule_set =
        serde_json::to_string(&result.rule_set).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO epoch_results (epoch, rule_set, report_count, amount, dust, root, total, \
         leaf_count, rewards, leaves, finalized_root) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(to_i64(result.epoch)?)
    .bind(rule_set)
    .bind(result.report_count as i64)
    .bind(result.amount as i64)
    .bind(result.dust as i64)
    .bind(result.root.to_vec())
    .bind(result.total as i64)
    .bind(result.leaf_count as i64)
    .bind(borsh_bytes(&result.rewards))
    .bind(borsh_bytes(&result.leaves))
    .bind(result.finalized_root.map(|root| root.to_vec()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn borsh_bytes<T: AnchorSerialize>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::new();
    value
        .serialize(&mut bytes)
        .expect("writing to a Vec cannot fail");
    bytes
}

fn epoch_result(row: &sqlx::any::AnyRow) -> Result<EpochResult, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("epoch result: {what}"));
    let rule_set: String = row.try_get("rule_set")?;
    let root: Vec<u8> = row.try_get("root")?;
    let rewards: Vec<u8> = row.try_get("rewards")?;
    let leaves: Vec<u8> = row.try_get("leaves")?;
    let finalized_root: Option<Vec<u8>> = row.try_get("finalized_root")?;
    let finalized_root = finalized_root
        .map(|r| r.try_into().map_err(|_| corrupt("finalized root")))
        .transpose()?;
    Ok(EpochResult {
        epoch: row.try_get::<i64, _>("epoch")? as u64,
        rule_set: serde_json::from_str(&rule_set).map_err(|_| corrupt("rule set"))?,
        report_count: row.try_get::<i64, _>("report_count")? as u64,
        amount: row.try_get::<i64, _>("amount")? as u64,
        dust: row.try_get::<i64, _>("dust")? as u64,
        root: root.try_into().map_err(|_| corrupt("root"))?,
        total: row.try_get::<i64, _>("total")? as u64,
        leaf_count: row.try_get::<i64, _>("leaf_count")? as u64,
        rewards: Vec::<DeviceReward>::try_from_slice(&rewards).map_err(|_| corrupt("rewards"))?,
        leaves: Vec::<Leaf>::try_from_slice(&leaves).map_err(|_| corrupt("leaves"))?,
        vote_signature: row.try_get("vote_signature")?,
        finalized_root,
    })
}
