//! The proof file: what an epoch's reward tree promises each device, with the
//! merkle proofs claims need. Oracles write it (and will serve the same JSON
//! over HTTP); the CLI and cranks read it.

use reward_pool::merkle::{Hash32, RewardTree};
use serde::{Deserialize, Serialize};
use solana_sdk::pubkey::Pubkey;
use std::str::FromStr;

/// One device's claim.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProofEntry {
    /// The device NFT mint (the leaf key).
    pub device_mint: String,
    /// Cumulative amount in reward-mint base units.
    pub cumulative_amount: u64,
    /// Sibling hashes, hex, leaf to root.
    pub proof: Vec<String>,
}

/// An epoch's tree, as JSON.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProofFile {
    /// The pool.
    pub pool: String,
    /// The epoch the root was voted for.
    pub epoch: u32,
    /// Merkle root, hex.
    pub root: String,
    /// Sum of every cumulative amount.
    pub total: u64,
    /// One entry per device, sorted by mint.
    pub claims: Vec<ProofEntry>,
}

/// A 32-byte hash as lower-case hex, as proof files (and oracle bundles)
/// write hashes.
pub fn hex(hash: &Hash32) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses a 32-byte hex hash.
pub fn parse_hash(text: &str) -> Option<Hash32> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

impl ProofFile {
    /// The file for `tree`, voted for `epoch` of `pool`.
    pub fn from_tree(pool: &Pubkey, epoch: u32, tree: &RewardTree) -> Self {
        Self {
            pool: pool.to_string(),
            epoch,
            root: hex(&tree.root()),
            total: tree.total(),
            claims: tree
                .entries()
                .iter()
                .enumerate()
                .map(|(i, (mint, amount))| ProofEntry {
                    device_mint: mint.to_string(),
                    cumulative_amount: *amount,
                    proof: tree.proof(i).iter().map(hex).collect(),
                })
                .collect(),
        }
    }

    /// The root as bytes.
    pub fn root_bytes(&self) -> Option<Hash32> {
        parse_hash(&self.root)
    }

    /// The entry of `device_mint`, with its proof decoded.
    pub fn claim_for(&self, device_mint: &Pubkey) -> Option<(u64, Vec<Hash32>)> {
        let entry = self
            .claims
            .iter()
            .find(|e| Pubkey::from_str(&e.device_mint).ok().as_ref() == Some(device_mint))?;
        let proof = entry
            .proof
            .iter()
            .map(|h| parse_hash(h))
            .collect::<Option<Vec<_>>>()?;
        Some((entry.cumulative_amount, proof))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reward_pool::merkle::{leaf_hash, verify};

    #[test]
    fn round_trips_and_proofs_verify() {
        let mints: Vec<Pubkey> = (0..5).map(|_| Pubkey::new_unique()).collect();
        let tree = RewardTree::new(mints.iter().map(|m| (*m, 7))).unwrap();
        let file = ProofFile::from_tree(&Pubkey::new_unique(), 3, &tree);
        let json = serde_json::to_string(&file).unwrap();
        let back: ProofFile = serde_json::from_str(&json).unwrap();
        assert_eq!(back, file);
        let root = back.root_bytes().unwrap();
        for mint in &mints {
            let (amount, proof) = back.claim_for(mint).unwrap();
            assert!(verify(&proof, &root, leaf_hash(mint, amount)));
        }
        assert!(back.claim_for(&Pubkey::new_unique()).is_none());
        assert_eq!(parse_hash("zz"), None);
    }
}
