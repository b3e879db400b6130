//! What the epoch worker persists for each epoch: scores, rewards, cumulative
//! totals and root, written in the same transaction that marks the epoch
//! scored, so a restart never computes (and never votes) a second root; then
//! the vote's signature and the root the chain finalized.

use super::{Backend, EpochState, Store, StoreError, StoredReport, now_ms, push_values, to_i64};
use crate::verifier::{Refusal, RuleSet, State, StateKey};
use anchor_lang::prelude::{AnchorDeserialize, AnchorSerialize, Pubkey};
use depinkit_reports::{Hash32, Key};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::BTreeSet;

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
    /// What the rules read beyond the reports, and carried on.
    pub rule_io: RuleIo,
}

/// The rules' inputs beyond the reports and what they carried to later
/// epochs: with the reports, all a bundle needs to score the epoch again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleIo {
    /// The network's oracles when scoring.
    #[serde(default)]
    pub oracles: Vec<Pubkey>,
    /// The orders the rules read, as the chain had them when scoring.
    #[serde(default)]
    pub orders: Vec<(Key, crate::verifier::compute::OrderView)>,
    /// Devices the rules read: key, H3 location, active.
    pub devices: Vec<(Key, u64, bool)>,
    /// Carried values read (a key asked for and absent was never set).
    pub state_read: Vec<(StateKey, i64)>,
    /// Values this epoch carries on.
    pub carried: Vec<(StateKey, i64)>,
    /// What the epoch's service did for each order paid per epoch, which
    /// the settler pays once the epoch is finalized.
    #[serde(default)]
    pub settlements: Vec<(Key, crate::verifier::OrderOutcome)>,
    /// The credits each customer's usage escrow could spend when scoring
    /// (data transfer), by wallet.
    #[serde(default)]
    pub usage_escrows: Vec<(Key, u64)>,
}

/// A report the rules refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedReport {
    /// Its identity.
    pub content_hash: Hash32,
    /// The device it was for.
    pub device_mint: Pubkey,
    /// Which rule, and why.
    pub refusal: Refusal,
}

/// Where one kept report stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReportStatus {
    /// Its epoch is not scored yet.
    Pending,
    /// Scored: the rules took it into the device's score.
    Counted,
    /// Scored: a rule refused it.
    Refused {
        /// The rule.
        rule: String,
        /// What broke it.
        detail: String,
    },
}

impl Store {
    /// Persists `result` and moves its epoch from closed to scored, in one
    /// transaction; false (and nothing written) if the epoch was not closed.
    /// The reports the rules refused are kept with it, the values it
    /// carries replace the ones before, and the cells it mapped update the
    /// network's map.
    pub async fn save_scored(
        &self,
        result: &EpochResult,
        refused: &[RefusedReport],
        map_cells: &[crate::verifier::mapping::MappedCell],
        charges: &[depinkit_reports::usage::Charge],
    ) -> Result<bool, StoreError> {
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
        insert_refusals(&mut tx, self.backend, epoch, refused).await?;
        write_state(&mut tx, self.backend, epoch, &result.rule_io.carried).await?;
        super::map::write_map_cells(&mut tx, self.backend, epoch, map_cells).await?;
        super::charges::insert_charges(&mut tx, charges, now_ms()).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The carried values of `keys` that were ever set.
    pub async fn rule_state(&self, keys: &BTreeSet<StateKey>) -> Result<State, StoreError> {
        let mut state = State::new();
        let mut by_space: std::collections::BTreeMap<u8, Vec<[u8; 32]>> = Default::default();
        for key in keys {
            by_space.entry(key.space).or_default().push(key.key);
        }
        for (space, keys) in by_space {
            for chunk in keys.chunks(super::INSERT_ROWS) {
                let placeholders: Vec<String> = (0..chunk.len())
                    .map(|i| match self.backend {
                        Backend::Sqlite => "?".to_string(),
                        Backend::Postgres => format!("${}", i + 2),
                    })
                    .collect();
                let first = match self.backend {
                    Backend::Sqlite => "?",
                    Backend::Postgres => "$1",
                };
                let sql = format!(
                    "SELECT key, value FROM rule_state WHERE space = {first} AND key IN ({})",
                    placeholders.join(", ")
                );
                let mut query = sqlx::query(&sql).bind(i64::from(space));
                for key in chunk {
                    query = query.bind(key.to_vec());
                }
                for row in query.fetch_all(&self.pool).await? {
                    let key: Vec<u8> = row.try_get("key")?;
                    let key: [u8; 32] = key.try_into().map_err(|_| {
                        StoreError::Corrupt("a rule state key is not 32 bytes".into())
                    })?;
                    state.insert(StateKey { space, key }, row.try_get("value")?);
                }
            }
        }
        Ok(state)
    }

    /// The reports of `epoch` the rules refused, by content hash.
    pub async fn epoch_refusals(&self, epoch: u64) -> Result<Vec<RefusedReport>, StoreError> {
        let rows = sqlx::query(
            "SELECT content_hash, device_mint, rule, detail FROM report_refusals \
             WHERE epoch = $1 ORDER BY content_hash",
        )
        .bind(to_i64(epoch)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(refused_report).collect()
    }

    /// Every kept report of the device `mint` in `epoch`, oldest first, with
    /// where each stands.
    pub async fn device_reports(
        &self,
        mint: &Pubkey,
        epoch: u64,
    ) -> Result<Vec<(StoredReport, ReportStatus)>, StoreError> {
        let epoch = to_i64(epoch)?;
        let rows = sqlx::query(
            "SELECT id, epoch, device_mint, content_hash, received_ms, signed FROM reports \
             WHERE device_mint = $1 AND epoch = $2 ORDER BY timestamp_ms, id",
        )
        .bind(mint.to_bytes().to_vec())
        .bind(epoch)
        .fetch_all(&self.pool)
        .await?;
        let reports: Vec<StoredReport> = rows
            .iter()
            .map(super::stored_report)
            .collect::<Result<_, _>>()?;
        let scored = matches!(
            self.epoch_state(epoch as u64).await?,
            Some(EpochState::Scored | EpochState::Voted | EpochState::Finalized)
        );
        let refusals: std::collections::HashMap<Hash32, Refusal> = sqlx::query(
            "SELECT content_hash, device_mint, rule, detail FROM report_refusals \
             WHERE device_mint = $1 AND epoch = $2",
        )
        .bind(mint.to_bytes().to_vec())
        .bind(epoch)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| refused_report(row).map(|r| (r.content_hash, r.refusal)))
        .collect::<Result<_, _>>()?;
        Ok(reports
            .into_iter()
            .map(|report| {
                let status = match refusals.get(&report.content_hash) {
                    Some(refusal) => ReportStatus::Refused {
                        rule: refusal.rule.clone(),
                        detail: refusal.detail.clone(),
                    },
                    None if scored => ReportStatus::Counted,
                    None => ReportStatus::Pending,
                };
                (report, status)
            })
            .collect())
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
             rewards, leaves, vote_signature, finalized_root, rule_io FROM epoch_results \
             WHERE epoch = $1",
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

    /// The `limit` latest epochs this store has heard of, newest first.
    pub async fn recent_epochs(&self, limit: u32) -> Result<Vec<u64>, StoreError> {
        let epochs: Vec<i64> =
            sqlx::query_scalar("SELECT epoch FROM epochs ORDER BY epoch DESC LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        Ok(epochs.into_iter().map(|e| e as u64).collect())
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
    let rule_io =
        serde_json::to_string(&result.rule_io).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO epoch_results (epoch, rule_set, report_count, amount, dust, root, total, \
         leaf_count, rewards, leaves, finalized_root, rule_io) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
    .bind(rule_io)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keeps the refusals of `epoch`.
async fn insert_refusals(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    epoch: i64,
    refused: &[RefusedReport],
) -> Result<(), StoreError> {
    for chunk in refused.chunks(super::INSERT_ROWS) {
        let mut sql = String::from(
            "INSERT INTO report_refusals (epoch, content_hash, device_mint, rule, detail) VALUES ",
        );
        push_values(&mut sql, backend, chunk.len(), 5);
        let mut query = sqlx::query(&sql);
        for refused in chunk {
            query = query
                .bind(epoch)
                .bind(refused.content_hash.0.to_vec())
                .bind(refused.device_mint.to_bytes().to_vec())
                .bind(refused.refusal.rule.clone())
                .bind(refused.refusal.detail.clone());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Sets the carried values `carried` as written by `epoch`.
async fn write_state(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    epoch: i64,
    carried: &[(StateKey, i64)],
) -> Result<(), StoreError> {
    for chunk in carried.chunks(super::INSERT_ROWS) {
        let mut sql = String::from("INSERT INTO rule_state (space, key, value, epoch) VALUES ");
        push_values(&mut sql, backend, chunk.len(), 4);
        sql.push_str(
            " ON CONFLICT (space, key) DO UPDATE SET value = excluded.value, epoch = excluded.epoch",
        );
        let mut query = sqlx::query(&sql);
        for (key, value) in chunk {
            query = query
                .bind(i64::from(key.space))
                .bind(key.key.to_vec())
                .bind(*value)
                .bind(epoch);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

fn refused_report(row: &sqlx::any::AnyRow) -> Result<RefusedReport, StoreError> {
    let bytes32 = |column: &str| -> Result<[u8; 32], StoreError> {
        let bytes: Vec<u8> = row.try_get(column)?;
        bytes
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("refusal: {column} is not 32 bytes")))
    };
    Ok(RefusedReport {
        content_hash: Hash32(bytes32("content_hash")?),
        device_mint: Pubkey::new_from_array(bytes32("device_mint")?),
        refusal: Refusal {
            rule: row.try_get("rule")?,
            detail: row.try_get("detail")?,
        },
    })
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
    let rule_io: String = row.try_get("rule_io")?;
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
        rule_io: serde_json::from_str(&rule_io).map_err(|_| corrupt("rule inputs"))?,
    })
}
