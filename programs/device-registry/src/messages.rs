//! Messages a device signs with its ed25519 key. The program rebuilds the exact
//! bytes and compares them with what the Ed25519 instruction verified; devices,
//! the SDK and the CLI build them with these same functions.
//!
//! Each message starts with a domain tag naming the program and the purpose, so a
//! signature made for one purpose (or for a report to an oracle) can never be
//! replayed as another. The program id, network and owner/holder follow, so a
//! signature cannot move to another deployment, network or wallet.

use anchor_lang::prelude::*;

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
    /// H3 cell, or 0 for none.
    pub location: u64,
    /// Unix time after which the signature is refused.
    pub expires_at: i64,
}

impl OnboardDeviceMessage {
    /// Length of the encoded message.
    pub const LEN: usize = 32 + 4 * 32 + 8 + 8;

    /// The exact bytes the device signs.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        let mut w = Writer::new(&mut out);
        w.put(ONBOARD_DEVICE_DOMAIN);
        w.put(self.program_id.as_ref());
        w.put(self.network.as_ref());
        w.put(self.owner.as_ref());
        w.put(self.device_key.as_ref());
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
    /// Length of the encoded message.
    pub const LEN: usize = 32 + 4 * 32 + 8 + 4 + 8;

    /// The exact bytes the device signs.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        let mut w = Writer::new(&mut out);
        w.put(ASSERT_LOCATION_DOMAIN);
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

    #[test]
    fn fields_land_at_fixed_offsets() {
        let k = |b: u8| Pubkey::new_from_array([b; 32]);
        let bytes = OnboardDeviceMessage {
            program_id: k(1),
            network: k(2),
            owner: k(3),
            device_key: k(4),
            location: 0x08c2_a107_2b59_ffff,
            expires_at: -2,
        }
        .to_bytes();
        assert_eq!(&bytes[..32], ONBOARD_DEVICE_DOMAIN);
        assert_eq!(&bytes[32..64], &[1; 32]);
        assert_eq!(&bytes[128..160], &[4; 32]);
        assert_eq!(&bytes[160..168], &0x08c2_a107_2b59_ffffu64.to_le_bytes());
        assert_eq!(&bytes[168..], &(-2i64).to_le_bytes());

        let bytes = AssertLocationMessage {
            program_id: k(1),
            network: k(2),
            device_key: k(3),
            holder: k(4),
            location: 7,
            nonce: 9,
            expires_at: 11,
        }
        .to_bytes();
        assert_eq!(&bytes[..32], ASSERT_LOCATION_DOMAIN);
        assert_eq!(&bytes[128..160], &[4; 32]);
        assert_eq!(&bytes[168..172], &9u32.to_le_bytes());
        assert_eq!(&bytes[172..], &11i64.to_le_bytes());
    }
}
