//! Messages a device signs with its ed25519 key. The program rebuilds the exact
//! bytes and compares them with what the Ed25519 instruction verified; devices,
//! the SDK and the CLI build them with these same functions.
//!
//! A signed message is 64 bytes: a 32-byte domain tag naming the program and
//! the purpose, so a signature made for one purpose (or for a report to an
//! oracle) can never be replayed as another, then the SHA-256 of the fields
//! ([`OnboardDeviceMessage::body`]). The fields name the program id, network
//! and owner/holder, so a signature cannot move to another deployment, network
//! or wallet, and the onboarding message names the maker, so only the device's
//! own maker is credited with it. Signing the digest rather than the fields
//! keeps the Ed25519 instruction small: an onboarding (a dozen accounts, two
//! signers, priority-fee instructions) must fit one 1,232-byte packet.

use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

/// Length of every signed message: domain tag and digest.
pub const SIGNED_MESSAGE_LEN: usize = 64;

/// The bytes a device signs: `domain` followed by the SHA-256 of `body`.
fn signed(domain: &[u8; 32], body: &[u8]) -> [u8; SIGNED_MESSAGE_LEN] {
    let mut out = [0u8; SIGNED_MESSAGE_LEN];
    out[..32].copy_from_slice(domain);
    out[32..].copy_from_slice(&hashv(&[body]).to_bytes());
    out
}

/// Domain tag of the onboarding proof.
pub const ONBOARD_DEVICE_DOMAIN: &[u8; 32] = b"depinkit/device-registry/onboard";
/// Domain tag of the location proof.
pub const ASSERT_LOCATION_DOMAIN: &[u8; 32] = b"depinkit/device-registry/locate\0";

/// What a device signs to be onboarded to `network` and held by `owner`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OnboardDeviceMessage {
    /// The device-registry program id.
    pub program_id: Pubkey,
    /// Network the device joins.
    pub network: Pubkey,
    /// Wallet that will hold the device NFT.
    pub owner: Pubkey,
    /// The device's own key (the signer).
    pub device_key: Pubkey,
    /// Issuing key of the device's maker, which co-signs the onboarding.
    pub issuing_key: Pubkey,
    /// H3 cell, or 0 for none.
    pub location: u64,
    /// Unix time after which the signature is refused.
    pub expires_at: i64,
}

impl OnboardDeviceMessage {
    /// Length of the fields' encoding ([`Self::body`]).
    pub const BODY_LEN: usize = 5 * 32 + 8 + 8;

    /// The exact bytes the device signs: the domain tag and the fields' digest.
    pub fn to_bytes(&self) -> [u8; SIGNED_MESSAGE_LEN] {
        signed(ONBOARD_DEVICE_DOMAIN, &self.body())
    }

    /// The fields in order, little-endian: program id, network, owner, device
    /// key, issuing key, location, expiry.
    pub fn body(&self) -> [u8; Self::BODY_LEN] {
        let mut out = [0u8; Self::BODY_LEN];
        let mut w = Writer::new(&mut out);
        w.put(self.program_id.as_ref());
        w.put(self.network.as_ref());
        w.put(self.owner.as_ref());
        w.put(self.device_key.as_ref());
        w.put(self.issuing_key.as_ref());
        w.put(&self.location.to_le_bytes());
        w.put(&self.expires_at.to_le_bytes());
        out
    }
}

/// What a device signs to move to `location`, asked by the current NFT `holder`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssertLocationMessage {
    /// The device-registry program id.
    pub program_id: Pubkey,
    /// Network of the device.
    pub network: Pubkey,
    /// The device's own key (the signer).
    pub device_key: Pubkey,
    /// Wallet holding the device NFT that submits the assertion.
    pub holder: Pubkey,
    /// The new H3 cell.
    pub location: u64,
    /// The device's `location_assert_count` when signing: each signature is used once.
    pub nonce: u32,
    /// Unix time after which the signature is refused.
    pub expires_at: i64,
}

impl AssertLocationMessage {
    /// Length of the fields' encoding ([`Self::body`]).
    pub const BODY_LEN: usize = 4 * 32 + 8 + 4 + 8;

    /// The exact bytes the device signs: the domain tag and the fields' digest.
    pub fn to_bytes(&self) -> [u8; SIGNED_MESSAGE_LEN] {
        signed(ASSERT_LOCATION_DOMAIN, &self.body())
    }

    /// The fields in order, little-endian: program id, network, device key,
    /// holder, location, nonce, expiry.
    pub fn body(&self) -> [u8; Self::BODY_LEN] {
        let mut out = [0u8; Self::BODY_LEN];
        let mut w = Writer::new(&mut out);
        w.put(self.program_id.as_ref());
        w.put(self.network.as_ref());
        w.put(self.device_key.as_ref());
        w.put(self.holder.as_ref());
        w.put(&self.location.to_le_bytes());
        w.put(&self.nonce.to_le_bytes());
        w.put(&self.expires_at.to_le_bytes());
        out
    }
}

/// Appends byte strings into a fixed buffer; lengths are constants checked by tests.
struct Writer<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl<'a> Writer<'a> {
    fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, at: 0 }
    }

    fn put(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        self.buf[self.at..end].copy_from_slice(bytes);
        self.at = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(b: u8) -> Pubkey {
        Pubkey::new_from_array([b; 32])
    }

    #[test]
    fn fields_land_at_fixed_offsets_and_are_signed_as_a_digest() {
        let onboard = OnboardDeviceMessage {
            program_id: k(1),
            network: k(2),
            owner: k(3),
            device_key: k(4),
            issuing_key: k(5),
            location: 0x08c2_a107_2b59_ffff,
            expires_at: -2,
        };
        let body = onboard.body();
        assert_eq!(&body[..32], &[1; 32]);
        assert_eq!(&body[96..128], &[4; 32]);
        assert_eq!(&body[128..160], &[5; 32]);
        assert_eq!(&body[160..168], &0x08c2_a107_2b59_ffffu64.to_le_bytes());
        assert_eq!(&body[168..], &(-2i64).to_le_bytes());
        let bytes = onboard.to_bytes();
        assert_eq!(&bytes[..32], ONBOARD_DEVICE_DOMAIN);
        assert_eq!(&bytes[32..], hashv(&[&body]).as_ref());

        let locate = AssertLocationMessage {
            program_id: k(1),
            network: k(2),
            device_key: k(3),
            holder: k(4),
            location: 7,
            nonce: 9,
            expires_at: 11,
        };
        let body = locate.body();
        assert_eq!(&body[96..128], &[4; 32]);
        assert_eq!(&body[136..140], &9u32.to_le_bytes());
        assert_eq!(&body[140..], &11i64.to_le_bytes());
        assert_eq!(&locate.to_bytes()[..32], ASSERT_LOCATION_DOMAIN);
    }

    #[test]
    fn every_field_changes_what_is_signed() {
        let base = OnboardDeviceMessage {
            program_id: k(1),
            network: k(2),
            owner: k(3),
            device_key: k(4),
            issuing_key: k(5),
            location: 6,
            expires_at: 7,
        };
        let variants = [
            OnboardDeviceMessage {
                program_id: k(9),
                ..base
            },
            OnboardDeviceMessage {
                network: k(9),
                ..base
            },
            OnboardDeviceMessage {
                owner: k(9),
                ..base
            },
            OnboardDeviceMessage {
                device_key: k(9),
                ..base
            },
            OnboardDeviceMessage {
                issuing_key: k(9),
                ..base
            },
            OnboardDeviceMessage {
                location: 9,
                ..base
            },
            OnboardDeviceMessage {
                expires_at: 9,
                ..base
            },
        ];
        for variant in variants {
            assert_ne!(variant.to_bytes(), base.to_bytes(), "{variant:?}");
        }
        // The same fields under the other purpose never give the same bytes.
        let locate = AssertLocationMessage {
            program_id: k(1),
            network: k(2),
            device_key: k(4),
            holder: k(3),
            location: 6,
            nonce: 0,
            expires_at: 7,
        };
        assert_ne!(locate.to_bytes()[..32], base.to_bytes()[..32]);
    }
}
