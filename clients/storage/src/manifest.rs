//! The manifest: what a stored file's owner keeps to get it back, check on
//! it and repair it. It names the file, its hash and size, the layout, each
//! shard's deal (spec, provider, order), and the file key wrapped under a key
//! only the owner's wallet secret derives, so a copy of the manifest alone
//! opens nothing.

use crate::seal::{Layout, NONCE_BYTES, SealedFile};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce, aead::Aead};
use depinkit_reports::{Hash32, Key, storage::DealSpec};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};

/// The manifest format's version.
pub const MANIFEST_VERSION: u32 = 1;
/// Domain of the wrapping key's derivation.
const WRAP_DOMAIN: &[u8] = b"depinkit-storage-wrap-v1";

/// Where one shard lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardPlacement {
    /// The shard's number: data shards first, then parity.
    pub index: usize,
    /// What its deal commits to.
    pub spec: DealSpec,
    /// The provider's device key (registry key), once placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Key>,
    /// Where the provider's node serves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The storage order paying for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Key>,
}

impl ShardPlacement {
    /// Records that the shard is now held by `provider`'s node at
    /// `endpoint`, paid through `order`.
    pub fn place(&mut self, provider: Key, endpoint: &str, order: Key) {
        self.provider = Some(provider);
        self.endpoint = Some(endpoint.to_string());
        self.order = Some(order);
    }
}

/// The file key, encrypted under the owner's wrapping key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// The wrapping nonce, hex.
    pub nonce: String,
    /// The key and its tag, hex.
    pub sealed: String,
}

/// A stored file's manifest (JSON on disk).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// The file's name when it was put.
    pub name: String,
    /// The owner's wallet: the only key that unwraps the file key.
    pub owner: Key,
    /// SHA-256 of the file.
    pub file_hash: Hash32,
    /// Bytes of the file.
    pub file_size: u64,
    /// Bytes the shards hold before their zero padding.
    pub sealed_size: u64,
    /// How it is cut.
    pub layout: Layout,
    /// The file key, wrapped.
    pub key: WrappedKey,
    /// Every shard, by index.
    pub shards: Vec<ShardPlacement>,
}

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    /// Not a manifest this build reads.
    #[error("not a manifest: {0}")]
    Format(String),
    /// The wallet given is not the owner's, or the manifest was altered.
    #[error("this wallet does not open this manifest (it belongs to {0})")]
    NotOwner(Key),
}

/// The wrapping key of `owner_secret` (the wallet's 32-byte ed25519 seed) for
/// the file `file_hash`.
fn wrapping_key(owner_secret: &[u8; 32], file_hash: &Hash32) -> [u8; 32] {
    Hash32::sha256(&[WRAP_DOMAIN, owner_secret.as_slice(), file_hash.0.as_slice()].concat()).0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Manifest {
    /// The manifest of `sealed`, named `name`, for the wallet `owner` whose
    /// seed is `owner_secret`; no shard placed yet.
    pub fn new(name: &str, owner: Key, owner_secret: &[u8; 32], sealed: &SealedFile) -> Self {
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let wrapped = XChaCha20Poly1305::new(&wrapping_key(owner_secret, &sealed.file_hash).into())
            .encrypt(XNonce::from_slice(&nonce), sealed.key.as_slice())
            .expect("32 bytes always encrypt");
        Manifest {
            version: MANIFEST_VERSION,
            name: name.to_string(),
            owner,
            file_hash: sealed.file_hash,
            file_size: sealed.file_size,
            sealed_size: sealed.sealed_size,
            layout: sealed.layout,
            key: WrappedKey {
                nonce: hex(&nonce),
                sealed: hex(&wrapped),
            },
            shards: sealed
                .specs
                .iter()
                .enumerate()
                .map(|(index, spec)| ShardPlacement {
                    index,
                    spec: *spec,
                    provider: None,
                    endpoint: None,
                    order: None,
                })
                .collect(),
        }
    }

    /// Reads a manifest's JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ManifestError> {
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Format(e.to_string()))?;
        if manifest.version != MANIFEST_VERSION {
            return Err(ManifestError::Format(format!(
                "version {} (this build reads {MANIFEST_VERSION})",
                manifest.version
            )));
        }
        if manifest.shards.len() != manifest.layout.shards()
            || manifest
                .shards
                .iter()
                .enumerate()
                .any(|(i, s)| s.index != i)
        {
            return Err(ManifestError::Format(format!(
                "{} shards listed for a layout of {}",
                manifest.shards.len(),
                manifest.layout.shards()
            )));
        }
        Ok(manifest)
    }

    /// The manifest as JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a manifest always serializes")
    }

    /// What opening the file needs, unwrapped with the owner's seed.
    pub fn unseal(&self, owner_secret: &[u8; 32]) -> Result<SealedFile, ManifestError> {
        let refused = || ManifestError::NotOwner(self.owner);
        let nonce = unhex(&self.key.nonce)
            .filter(|n| n.len() == NONCE_BYTES)
            .ok_or_else(refused)?;
        let wrapped = unhex(&self.key.sealed).ok_or_else(refused)?;
        let key: [u8; 32] =
            XChaCha20Poly1305::new(&wrapping_key(owner_secret, &self.file_hash).into())
                .decrypt(XNonce::from_slice(&nonce), wrapped.as_slice())
                .ok()
                .and_then(|key| key.try_into().ok())
                .ok_or_else(refused)?;
        Ok(SealedFile {
            layout: self.layout,
            key,
            file_hash: self.file_hash,
            file_size: self.file_size,
            sealed_size: self.sealed_size,
            specs: self.shards.iter().map(|s| s.spec).collect(),
        })
    }
}
