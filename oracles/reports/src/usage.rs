//! Metered usage of a paid oracle API: each charged request is a charge,
//! its hash names the wallet, the epoch, the request and what it cost; an
//! epoch's charges of one wallet are attested on chain by `burn_usage` with
//! their receipt root, which the customer rebuilds from the charges the
//! oracle lists. Defined once here, for the oracle and the customer.

use crate::{
    key::{Hash32, Key},
    storage::{EMPTY_NODE, StorageTree},
};
use sha2::{Digest, Sha256};

/// Prefix of a charge's hash.
pub const CHARGE_DOMAIN: &[u8; 16] = b"depinkit-charge1";

/// One charged request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charge {
    /// The paying wallet.
    pub wallet: Key,
    /// The reward-pool epoch it was charged in.
    pub epoch: u64,
    /// SHA-256 of the request's signed message (one per nonce).
    pub request: Hash32,
    /// Units served (map cells).
    pub units: u64,
    /// Credits charged, base units.
    pub credits: u64,
}

impl Charge {
    /// SHA-256 of the domain, the wallet, the epoch, the request, the units
    /// and the credits (integers little-endian).
    pub fn hash(&self) -> Hash32 {
        let mut hasher = Sha256::new();
        hasher.update(CHARGE_DOMAIN);
        hasher.update(self.wallet.0);
        hasher.update(self.epoch.to_le_bytes());
        hasher.update(self.request.0);
        hasher.update(self.units.to_le_bytes());
        hasher.update(self.credits.to_le_bytes());
        Hash32(hasher.finalize().into())
    }
}

/// The receipt root of a wallet's charges in an epoch: the storage tree
/// (`crate::storage`, positional, its own domain bytes) over the charges'
/// hashes in ascending order, one 32-byte leaf each; [`EMPTY_NODE`] for none.
pub fn receipt_root(charges: &[Charge]) -> Hash32 {
    let mut hashes: Vec<Hash32> = charges.iter().map(Charge::hash).collect();
    hashes.sort_unstable();
    let bytes: Vec<u8> = hashes.iter().flat_map(|h| h.0).collect();
    if bytes.is_empty() {
        return EMPTY_NODE;
    }
    StorageTree::build(&bytes, 32)
        .map(|tree| tree.spec().root)
        .unwrap_or(EMPTY_NODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(n: u8, credits: u64) -> Charge {
        Charge {
            wallet: Key([1; 32]),
            epoch: 4,
            request: Hash32([n; 32]),
            units: 3,
            credits,
        }
    }

    #[test]
    fn the_root_commits_to_every_charge_in_any_order() {
        let charges = [charge(1, 30), charge(2, 30), charge(3, 60)];
        let root = receipt_root(&charges);
        let mut reversed = charges;
        reversed.reverse();
        assert_eq!(receipt_root(&reversed), root);
        assert_ne!(receipt_root(&charges[..2]), root);
        assert_ne!(
            receipt_root(&[charge(1, 30), charge(2, 30), charge(3, 61)]),
            root
        );
        assert_eq!(receipt_root(&[]), EMPTY_NODE);
        assert_ne!(receipt_root(&charges[..1]), EMPTY_NODE);
    }
}
