//! A provider's announcement: where its node takes work (a storage node's
//! shards, a compute node's jobs) and, for storage, how much room it has,
//! signed with the device's key. A node sends one
//! to its network's oracle on start and every few minutes (`POST
//! /v1/providers`); customers pick providers from the oracle's list (`GET
//! /v1/providers`). The signature proves the device said it; the oracle also
//! checks that the device is an active device of its network.

use crate::key::{Key, Sig};
use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// First bytes of every signed announcement: no report, entropy or
/// transaction can be mistaken for one.
pub const ANNOUNCEMENT_DOMAIN: &[u8; 20] = b"depinkit-provider-v1";
/// Longest endpoint URL, bytes.
pub const MAX_ENDPOINT_BYTES: usize = 200;

/// What a provider announces.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Announcement {
    /// The network.
    pub network: Key,
    /// The device key (the node signs with it).
    pub device: Key,
    /// The node's base URL (`http://` or `https://`).
    pub endpoint: String,
    /// Bytes the node can still take (a compute node announces 0).
    pub free_bytes: u64,
    /// When it was made, unix milliseconds: a newer one replaces an older.
    pub timestamp_ms: i64,
}

/// An announcement with the device's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedAnnouncement {
    /// What is announced.
    pub announcement: Announcement,
    /// The device's signature over [`Announcement::message`].
    pub signature: Sig,
}

/// Why an announcement is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnnouncementError {
    /// The endpoint is not an http(s) URL of at most [`MAX_ENDPOINT_BYTES`]
    /// without spaces.
    #[error(
        "the endpoint must be an http:// or https:// URL of at most {MAX_ENDPOINT_BYTES} bytes without spaces"
    )]
    BadEndpoint,
    /// The device's signature does not verify (or its key is weak).
    #[error("the device's signature does not verify")]
    BadSignature,
}

impl Announcement {
    /// The bytes the device signs: the domain, then the announcement in borsh.
    pub fn message(&self) -> Vec<u8> {
        let mut message = ANNOUNCEMENT_DOMAIN.to_vec();
        BorshSerialize::serialize(self, &mut message).expect("writing to a Vec cannot fail");
        message
    }

    /// Signs as the device; `device` must be the key named in it.
    pub fn sign(self, device: &SigningKey) -> SignedAnnouncement {
        let signature = Sig(device.sign(&self.message()).to_bytes());
        SignedAnnouncement {
            announcement: self,
            signature,
        }
    }
}

impl SignedAnnouncement {
    /// Checks the endpoint's form and the device's signature (strictly: no
    /// weak key, no malleable signature).
    pub fn verify(&self) -> Result<(), AnnouncementError> {
        let endpoint = &self.announcement.endpoint;
        let scheme_ok = endpoint
            .strip_prefix("http://")
            .or_else(|| endpoint.strip_prefix("https://"))
            .is_some_and(|rest| !rest.is_empty());
        if !scheme_ok
            || endpoint.len() > MAX_ENDPOINT_BYTES
            || endpoint
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(AnnouncementError::BadEndpoint);
        }
        let key = VerifyingKey::from_bytes(&self.announcement.device.0)
            .ok()
            .filter(|k| !k.is_weak())
            .ok_or(AnnouncementError::BadSignature)?;
        key.verify_strict(
            &self.announcement.message(),
            &Signature::from_bytes(&self.signature.0),
        )
        .map_err(|_| AnnouncementError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announcement(endpoint: &str) -> Announcement {
        Announcement {
            network: Key([1; 32]),
            device: Key(SigningKey::from_bytes(&[7; 32]).verifying_key().to_bytes()),
            endpoint: endpoint.into(),
            free_bytes: 1 << 30,
            timestamp_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn a_signed_announcement_verifies_and_any_change_breaks_it() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let signed = announcement("http://10.0.0.7:8790").sign(&key);
        assert_eq!(signed.verify(), Ok(()));
        let mut more_room = signed.clone();
        more_room.announcement.free_bytes += 1;
        assert_eq!(more_room.verify(), Err(AnnouncementError::BadSignature));
        let by_another =
            announcement("http://10.0.0.7:8790").sign(&SigningKey::from_bytes(&[8; 32]));
        assert_eq!(by_another.verify(), Err(AnnouncementError::BadSignature));
        assert!(
            signed
                .announcement
                .message()
                .starts_with(ANNOUNCEMENT_DOMAIN)
        );
    }

    #[test]
    fn endpoints_that_are_not_http_urls_are_refused() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let long = format!("http://{}", "a".repeat(MAX_ENDPOINT_BYTES));
        for endpoint in [
            "",
            "ftp://x",
            "http://",
            "http://a b",
            "node:8790",
            long.as_str(),
        ] {
            assert_eq!(
                announcement(endpoint).sign(&key).verify(),
                Err(AnnouncementError::BadEndpoint),
                "{endpoint:?}"
            );
        }
        assert_eq!(
            announcement("https://node.example").sign(&key).verify(),
            Ok(())
        );
    }
}
