//! What the paid APIs charge: each signed request's nonce (served once) and
//! its charge, then the burn that attested an epoch's charges on chain.

use super::{Store, StoreError, to_i64};
use depinkit_reports::{Hash32, Key, usage::Charge};
use sqlx::Row;

/// Why a charge was not kept.
#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    /// The wallet used this nonce before.
    #[error("this request was served already (its nonce is used)")]
    Replayed,
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ChargeError {
    fn from(error: sqlx::Error) -> Self {
        ChargeError::Store(error.into())
    }
}

fn charge(row: &sqlx::any::AnyRow) -> Result<Charge, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("charge {what}"));
    let wallet: [u8; 32] = row
        .try_get::<Vec<u8>, _>("wallet")?
        .try_into()
        .map_err(|_| corrupt("wallet"))?;
    let request: [u8; 32] = row
        .try_get::<Vec<u8>, _>("request")?
        .try_into()
        .map_err(|_| corrupt("request"))?;
    let epoch: i64 = row.try_get("epoch")?;
    let units: i64 = row.try_get("units")?;
    let credits: i64 = row.try_get("credits")?;
    Ok(Charge {
        wallet: Key(wallet),
        epoch: epoch as u64,
        request: Hash32(request),
        units: units as u64,
        credits: credits as u64,
    })
}

/// Keeps `charges` (scored usage) in the scoring's transaction, not yet
/// burned; a charge kept already is kept once.
pub(super) async fn insert_charges(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    charges: &[Charge],
    at_ms: i64,
) -> Result<(), StoreError> {
    for charge in charges {
        sqlx::query(
            "INSERT INTO charges (wallet, request, epoch, units, credits, at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (wallet, request) DO NOTHING",
        )
        .bind(charge.wallet.0.to_vec())
        .bind(charge.request.0.to_vec())
        .bind(to_i64(charge.epoch)?)
        .bind(charge.units as i64)
        .bind(charge.credits as i64)
        .bind(at_ms)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Keeps the request's nonce and its charge in one transaction;
    /// [`ChargeError::Replayed`] (and nothing kept) when the nonce was used.
    pub async fn keep_charge(
        &self,
        nonce: &[u8; 16],
        timestamp_ms: i64,
        charge: &Charge,
        at_ms: i64,
    ) -> Result<(), ChargeError> {
        let mut tx = self.pool.begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO request_nonces (wallet, nonce, timestamp_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (wallet, nonce) DO NOTHING",
        )
        .bind(charge.wallet.0.to_vec())
        .bind(nonce.to_vec())
        .bind(timestamp_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if fresh != 1 {
            tx.rollback().await?;
            return Err(ChargeError::Replayed);
        }
        sqlx::query(
            "INSERT INTO charges (wallet, request, epoch, units, credits, at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(charge.wallet.0.to_vec())
        .bind(charge.request.0.to_vec())
        .bind(to_i64(charge.epoch)?)
        .bind(charge.units as i64)
        .bind(charge.credits as i64)
        .bind(at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets nonces signed before `before_ms` (requests that old are
    /// refused as stale anyway).
    pub async fn prune_nonces(&self, before_ms: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM request_nonces WHERE timestamp_ms < $1")
                .bind(before_ms)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Credits charged to `wallet` and not yet burned on chain.
    pub async fn unburned_credits(&self, wallet: &Key) -> Result<u64, StoreError> {
        let total: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(credits) AS BIGINT) FROM charges \
             WHERE wallet = $1 AND burn_signature IS NULL",
        )
        .bind(wallet.0.to_vec())
        .fetch_one(&self.pool)
        .await?;
        Ok(total.unwrap_or(0) as u64)
    }

    /// `wallet`'s charges in `epoch`, by request.
    pub async fn charges(&self, wallet: &Key, epoch: u64) -> Result<Vec<Charge>, StoreError> {
        let rows = sqlx::query(
            "SELECT wallet, request, epoch, units, credits FROM charges \
             WHERE wallet = $1 AND epoch = $2 ORDER BY request",
        )
        .bind(wallet.0.to_vec())
        .bind(to_i64(epoch)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(charge).collect()
    }

    /// The wallets with charges in `epoch` not yet burned.
    pub async fn wallets_to_burn(&self, epoch: u64) -> Result<Vec<Key>, StoreError> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT DISTINCT wallet FROM charges WHERE epoch = $1 AND burn_signature IS NULL \
             ORDER BY wallet",
        )
        .bind(to_i64(epoch)?)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|w| {
                w.try_into()
                    .map(Key)
                    .map_err(|_| StoreError::Corrupt("charge wallet".into()))
            })
            .collect()
    }

    /// Records that `wallet`'s charges in `epoch` were burned by the
    /// transaction `signature`.
    pub async fn record_burn(
        &self,
        wallet: &Key,
        epoch: u64,
        signature: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE charges SET burn_signature = $3 WHERE wallet = $1 AND epoch = $2 \
             AND burn_signature IS NULL",
        )
        .bind(wallet.0.to_vec())
        .bind(to_i64(epoch)?)
        .bind(signature)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The burn signature of `wallet`'s charges in `epoch`, once burned.
    pub async fn burn_signature(
        &self,
        wallet: &Key,
        epoch: u64,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT MAX(burn_signature) FROM charges WHERE wallet = $1 AND epoch = $2",
        )
        .bind(wallet.0.to_vec())
        .bind(to_i64(epoch)?)
        .fetch_one(&self.pool)
        .await?)
    }
}
