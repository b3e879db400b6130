//! Talking to the storage market over HTTP: the providers an oracle lists
//! (each listing's signature checked against its device key, so an oracle
//! cannot invent a provider), and shards sent to and fetched from the
//! providers' nodes (`depin-device storage-node`).

use depinkit_reports::{
    Key, Sig,
    provider::{Announcement, SignedAnnouncement},
};
use serde::Deserialize;

/// Why a provider or a node could not be used.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// It could not be reached.
    #[error("cannot reach {0}: {1}")]
    Unreachable(String, String),
    /// It answered with a refusal.
    #[error("{0} answered {1}: {2}")]
    Refused(String, u16, String),
}

/// A provider as the oracle lists it, its announcement checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// The device key.
    pub device: Key,
    /// The device NFT.
    pub device_mint: String,
    /// The node's URL.
    pub endpoint: String,
    /// Room it announced.
    pub free_bytes: u64,
}

#[derive(Deserialize)]
struct Listed {
    device: Key,
    device_mint: String,
    endpoint: String,
    free_bytes: u64,
    announced_ms: i64,
    signature: Sig,
}

#[derive(Deserialize)]
struct ListedProviders {
    providers: Vec<Listed>,
}

/// GETs `url`; the response when it is a success, else why not.
async fn get_ok(http: &reqwest::Client, url: &str) -> Result<reqwest::Response, NodeError> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| NodeError::Unreachable(url.to_string(), e.to_string()))?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    Err(NodeError::Refused(url.to_string(), status, body))
}

/// The providers the oracle at `oracle` lists for `network`, keeping only
/// those whose announcement verifies.
pub async fn providers(
    http: &reqwest::Client,
    oracle: &str,
    network: Key,
) -> Result<Vec<Listing>, NodeError> {
    let url = format!("{}/v1/providers", oracle.trim_end_matches('/'));
    let listed: ListedProviders = get_ok(http, &url)
        .await?
        .json()
        .await
        .map_err(|e| NodeError::Unreachable(url, e.to_string()))?;
    Ok(listed
        .providers
        .into_iter()
        .filter(|p| {
            SignedAnnouncement {
                announcement: Announcement {
                    network,
                    device: p.device,
                    endpoint: p.endpoint.clone(),
                    free_bytes: p.free_bytes,
                    timestamp_ms: p.announced_ms,
                },
                signature: p.signature,
            }
            .verify()
            .is_ok()
        })
        .map(|p| Listing {
            device: p.device,
            device_mint: p.device_mint,
            endpoint: p.endpoint,
            free_bytes: p.free_bytes,
        })
        .collect())
}

/// Sends `shard` to the node at `endpoint` for the order `order`, its tree
/// cut in `leaf_size` leaves; `Ok` once the node kept it and accepted the
/// order.
pub async fn upload(
    http: &reqwest::Client,
    endpoint: &str,
    order: &Key,
    shard: Vec<u8>,
    leaf_size: u32,
) -> Result<(), NodeError> {
    let url = format!(
        "{}/v1/shards/{order}?leaf_size={leaf_size}",
        endpoint.trim_end_matches('/')
    );
    let response = http
        .put(&url)
        .body(shard)
        .send()
        .await
        .map_err(|e| NodeError::Unreachable(url.clone(), e.to_string()))?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    Err(NodeError::Refused(url, status, body))
}

/// The shard of `order` from the node at `endpoint` (unchecked: opening
/// checks it against its root).
pub async fn download(
    http: &reqwest::Client,
    endpoint: &str,
    order: &Key,
) -> Result<Vec<u8>, NodeError> {
    let url = format!("{}/v1/shards/{order}", endpoint.trim_end_matches('/'));
    get_ok(http, &url)
        .await?
        .bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(|e| NodeError::Unreachable(url, e.to_string()))
}

/// Picks `count` distinct providers with room for `shard_bytes` each, the
/// roomiest first (ties by device key, so a choice is reproducible); `None`
/// when fewer have room.
pub fn pick(listings: &[Listing], count: usize, shard_bytes: u64) -> Option<Vec<Listing>> {
    let mut fit: Vec<&Listing> = listings
        .iter()
        .filter(|l| l.free_bytes >= shard_bytes)
        .collect();
    fit.sort_by(|a, b| {
        b.free_bytes
            .cmp(&a.free_bytes)
            .then(a.device.cmp(&b.device))
    });
    let mut seen = std::collections::BTreeSet::new();
    fit.retain(|l| seen.insert(l.device));
    (fit.len() >= count).then(|| fit.into_iter().take(count).cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(device: u8, free_bytes: u64) -> Listing {
        Listing {
            device: Key([device; 32]),
            device_mint: String::new(),
            endpoint: format!("http://10.0.0.{device}:8790"),
            free_bytes,
        }
    }

    #[test]
    fn the_roomiest_distinct_providers_with_room_are_picked() {
        let listed = [
            listing(1, 100),
            listing(2, 500),
            listing(3, 50),
            listing(4, 500),
            listing(2, 500),
        ];
        let picked = pick(&listed, 3, 100).unwrap();
        let devices: Vec<u8> = picked.iter().map(|l| l.device.0[0]).collect();
        assert_eq!(devices, [2, 4, 1]);
        assert_eq!(pick(&listed, 4, 100), None, "only three have room");
    }
}
