//! The devices' asserted cells over time, as the registry read them: a row
//! when a device's cell differs from its last row. The dashboard shows a
//! device's history from it; the chain keeps only the current cell.

use super::{Store, StoreError};
use anchor_lang::prelude::Pubkey;
use sqlx::Row;
use std::collections::BTreeMap;

impl Store {
    /// Records that each device of `moved` (mint, cell) was seen at its
    /// cell at `seen_ms`: the caller passes those whose cell differs from
    /// their latest row ([`Store::latest_locations`]).
    pub async fn record_locations(
        &self,
        moved: &[(Pubkey, u64)],
        seen_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for (mint, cell) in moved {
            sqlx::query(
                "INSERT INTO device_locations (device_mint, location, seen_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (device_mint, seen_ms) DO NOTHING",
            )
            .bind(mint.to_bytes().to_vec())
            .bind(*cell as i64)
            .bind(seen_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every device's latest recorded cell.
    pub async fn latest_locations(&self) -> Result<BTreeMap<Pubkey, u64>, StoreError> {
        let rows = sqlx::query(
            "SELECT device_mint, location FROM device_locations ORDER BY device_mint, seen_ms",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut latest = BTreeMap::new();
        for row in rows {
            latest.insert(
                mint_of(&row.try_get::<Vec<u8>, _>(0)?)?,
                row.try_get::<i64, _>(1)? as u64,
            );
        }
        Ok(latest)
    }

    /// `mint`'s recorded cells, newest first, at most `limit`: (cell, when
    /// this oracle first saw it there, unix ms).
    pub async fn device_locations(
        &self,
        mint: &Pubkey,
        limit: u32,
    ) -> Result<Vec<(u64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT location, seen_ms FROM device_locations WHERE device_mint = $1 \
             ORDER BY seen_ms DESC LIMIT $2",
        )
        .bind(mint.to_bytes().to_vec())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get::<i64, _>(0)? as u64, row.try_get::<i64, _>(1)?)))
            .collect()
    }
}

fn mint_of(bytes: &[u8]) -> Result<Pubkey, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(Pubkey::new_from_array)
        .map_err(|_| StoreError::Corrupt("a device mint of another length than 32 bytes".into()))
}
