//! Storage providers' latest announcements (`POST /v1/providers`): one row
//! per device, replaced only by an announcement made later, so a replayed
//! old one never hides a node's new address.

use super::{Store, StoreError};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{
    Key, Sig,
    provider::{Announcement, SignedAnnouncement},
};
use sqlx::Row;

/// An announcement as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptAnnouncement {
    /// The device NFT of the announcing device.
    pub device_mint: Pubkey,
    /// When this oracle received it, unix milliseconds.
    pub received_ms: i64,
    /// The announcement and its signature, as received.
    pub signed: SignedAnnouncement,
}

impl Store {
    /// Keeps `signed` (verified, from an active device of the network whose
    /// NFT is `device_mint`) unless the device's kept announcement was made
    /// at the same time or later; whether it was kept.
    pub async fn keep_announcement(
        &self,
        device_mint: &Pubkey,
        signed: &SignedAnnouncement,
        received_ms: i64,
    ) -> Result<bool, StoreError> {
        let a = &signed.announcement;
        let done = sqlx::query(
            "INSERT INTO providers \
             (device, device_mint, endpoint, free_bytes, timestamp_ms, received_ms, signature) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (device) DO UPDATE SET device_mint = excluded.device_mint, \
             endpoint = excluded.endpoint, free_bytes = excluded.free_bytes, \
             timestamp_ms = excluded.timestamp_ms, received_ms = excluded.received_ms, \
             signature = excluded.signature \
             WHERE providers.timestamp_ms < excluded.timestamp_ms",
        )
        .bind(a.device.0.to_vec())
        .bind(device_mint.to_bytes().to_vec())
        .bind(a.endpoint.clone())
        .bind(i64::try_from(a.free_bytes).unwrap_or(i64::MAX))
        .bind(a.timestamp_ms)
        .bind(received_ms)
        .bind(signed.signature.0.to_vec())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The kept announcements made at or after `since_ms`, by device key.
    pub async fn announcements(
        &self,
        network: &Pubkey,
        since_ms: i64,
    ) -> Result<Vec<KeptAnnouncement>, StoreError> {
        let rows = sqlx::query(
            "SELECT device, device_mint, endpoint, free_bytes, timestamp_ms, received_ms, \
             signature FROM providers WHERE timestamp_ms >= $1 ORDER BY device",
        )
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let bytes = |column: &str| -> Result<Vec<u8>, StoreError> {
                    Ok(row.try_get::<Vec<u8>, _>(column)?)
                };
                let corrupt = |what: &str| StoreError::Corrupt(format!("provider {what}"));
                let device: [u8; 32] =
                    bytes("device")?.try_into().map_err(|_| corrupt("device"))?;
                let mint: [u8; 32] = bytes("device_mint")?
                    .try_into()
                    .map_err(|_| corrupt("device_mint"))?;
                let signature: [u8; 64] = bytes("signature")?
                    .try_into()
                    .map_err(|_| corrupt("signature"))?;
                let free_bytes: i64 = row.try_get("free_bytes")?;
                Ok(KeptAnnouncement {
                    device_mint: Pubkey::new_from_array(mint),
                    received_ms: row.try_get("received_ms")?,
                    signed: SignedAnnouncement {
                        announcement: Announcement {
                            network: Key(network.to_bytes()),
                            device: Key(device),
                            endpoint: row.try_get("endpoint")?,
                            free_bytes: free_bytes.max(0) as u64,
                            timestamp_ms: row.try_get("timestamp_ms")?,
                        },
                        signature: Sig(signature),
                    },
                })
            })
            .collect()
    }
}
