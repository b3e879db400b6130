//! The reward merkle tree: THE definition of leaves, nodes and proofs that the
//! program verifies and the oracle and SDK build (with the `merkle-tree` feature).
//!
//! - Leaf = SHA-256(`LEAF_DOMAIN` || borsh(device mint, cumulative amount)).
//! - Node = SHA-256(`NODE_DOMAIN` || min(a, b) || max(a, b)).
//!
//! The distinct domain bytes make a leaf never hash like an inner node, which
//! defeats the second-preimage attack where an inner node (64 bytes of two
//! child hashes) is presented as a leaf (see RFC 6962, section 2.1). Children are
//! hashed in sorted order so a proof needs no left/right flags. A lone node at
//! the end of a level is promoted unchanged to the next level.

use anchor_lang::prelude::Pubkey;
use solana_sha256_hasher::hashv;

/// First byte hashed into every leaf.
pub const LEAF_DOMAIN: u8 = 0x00;
/// First byte hashed into every inner node.
pub const NODE_DOMAIN: u8 = 0x01;
/// Longest proof a claim accepts: 2^24 (16.7 M) devices.
pub const MAX_PROOF_LEN: usize = 24;
/// Most leaves a root may commit to, so every leaf's proof fits [`MAX_PROOF_LEN`].
pub const MAX_LEAVES: u64 = 1 << MAX_PROOF_LEN;

/// A 32-byte SHA-256 digest.
pub type Hash32 = [u8; 32];

/// Hash of the leaf paying `cumulative_amount` in total to the device `device_mint`.
pub fn leaf_hash(device_mint: &Pubkey, cumulative_amount: u64) -> Hash32 {
    // borsh of (Pubkey, u64): the 32 key bytes, then the amount little-endian.
    hashv(&[
        &[LEAF_DOMAIN],
        device_mint.as_ref(),
        &cumulative_amount.to_le_bytes(),
    ])
    .to_bytes()
}

/// Hash of the inner node over two children, in either order.
pub fn node_hash(a: &Hash32, b: &Hash32) -> Hash32 {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    hashv(&[&[NODE_DOMAIN], low, high]).to_bytes()
}

/// True when `proof` leads from `leaf` to `root`. Longer proofs than
/// [`MAX_PROOF_LEN`] are refused outright.
pub fn verify(proof: &[Hash32], root: &Hash32, leaf: Hash32) -> bool {
    if proof.len() > MAX_PROOF_LEN {
        return false;
    }
    let computed = proof
        .iter()
        .fold(leaf, |node, sibling| node_hash(&node, sibling));
    computed == *root
}

#[cfg(feature = "merkle-tree")]
pub use tree::*;

#[cfg(feature = "merkle-tree")]
mod tree {
    use super::*;

    /// Why a tree could not be built.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum TreeError {
        /// Two leaves name the same device mint.
        DuplicateDevice(Pubkey),
        /// More leaves than [`MAX_LEAVES`].
        TooManyLeaves(usize),
        /// The cumulative amounts add up past `u64::MAX`.
        TotalOverflow,
    }

    impl std::fmt::Display for TreeError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                TreeError::DuplicateDevice(mint) => write!(f, "device {mint} appears twice"),
                TreeError::TooManyLeaves(n) => {
                    write!(f, "{n} leaves exceed the maximum of {MAX_LEAVES}")
                }
                TreeError::TotalOverflow => write!(f, "cumulative amounts overflow u64"),
            }
        }
    }

    impl std::error::Error for TreeError {}

    /// A reward tree over (device mint, cumulative amount) leaves, sorted by
    /// mint so that every oracle builds the same tree from the same amounts.
    #[derive(Debug, Clone)]
    pub struct RewardTree {
        entries: Vec<(Pubkey, u64)>,
        /// `levels[0]` are the leaf hashes, the last level is the root.
        levels: Vec<Vec<Hash32>>,
        total: u64,
    }

    impl RewardTree {
        /// Builds the tree; the order of `amounts` does not matter.
        pub fn new(amounts: impl IntoIterator<Item = (Pubkey, u64)>) -> Result<Self, TreeError> {
            let mut entries: Vec<(Pubkey, u64)> = amounts.into_iter().collect();
            if entries.len() as u64 > MAX_LEAVES {
                return Err(TreeError::TooManyLeaves(entries.len()));
            }
            entries.sort_unstable_by_key(|entry| entry.0);
            let mut total: u64 = 0;
            for (i, (mint, amount)) in entries.iter().enumerate() {
                if i > 0 && entries[i - 1].0 == *mint {
                    return Err(TreeError::DuplicateDevice(*mint));
                }
                total = total.checked_add(*amount).ok_or(TreeError::TotalOverflow)?;
            }
            let leaves: Vec<Hash32> = entries
                .iter()
                .map(|(mint, amount)| leaf_hash(mint, *amount))
                .collect();
            let mut levels = vec![leaves];
            while levels.last().is_some_and(|level| level.len() > 1) {
                let below = levels.last().expect("a level");
                let above: Vec<Hash32> = below
                    .chunks(2)
                    .map(|pair| match pair {
                        [a, b] => node_hash(a, b),
                        [lone] => *lone,
                        _ => unreachable!("chunks(2) yields one or two"),
                    })
                    .collect();
                levels.push(above);
            }
            Ok(Self {
                entries,
                levels,
                total,
            })
        }

        /// The root; all zeros for an empty tree.
        pub fn root(&self) -> Hash32 {
            self.levels
                .last()
                .and_then(|level| level.first())
                .copied()
                .unwrap_or([0; 32])
        }

        /// Number of leaves.
        pub fn len(&self) -> usize {
            self.entries.len()
        }

        /// True when the tree has no leaves.
        pub fn is_empty(&self) -> bool {
            self.entries.is_empty()
        }

        /// Sum of every cumulative amount (what the root promises in total).
        pub fn total(&self) -> u64 {
            self.total
        }

        /// The (device mint, cumulative amount) leaves, sorted by mint.
        pub fn entries(&self) -> &[(Pubkey, u64)] {
            &self.entries
        }

        /// Position of `device_mint`'s leaf.
        pub fn position(&self, device_mint: &Pubkey) -> Option<usize> {
            self.entries
                .binary_search_by(|(mint, _)| mint.cmp(device_mint))
                .ok()
        }

        /// The proof of the leaf at `index`, bottom up.
        pub fn proof(&self, index: usize) -> Vec<Hash32> {
            let mut proof = Vec::with_capacity(self.levels.len());
            let mut at = index;
            for level in &self.levels[..self.levels.len().saturating_sub(1)] {
                let sibling = at ^ 1;
                if let Some(hash) = level.get(sibling) {
                    proof.push(*hash);
                }
                at /= 2;
            }
            proof
        }
    }
}

#[cfg(all(test, feature = "merkle-tree"))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mint(i: u64) -> Pubkey {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&i.to_le_bytes());
        bytes[8..16].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
        Pubkey::new_from_array(bytes)
    }

    #[test]
    fn a_single_leaf_is_its_own_root() {
        let tree = RewardTree::new([(mint(1), 5)]).unwrap();
        assert_eq!(tree.root(), leaf_hash(&mint(1), 5));
        assert!(tree.proof(0).is_empty());
        assert!(verify(&[], &tree.root(), leaf_hash(&mint(1), 5)));
    }

    #[test]
    fn leaves_and_nodes_are_domain_separated() {
        let a = leaf_hash(&mint(1), 1);
        let b = leaf_hash(&mint(2), 2);
        let node = node_hash(&a, &b);
        assert_eq!(node, node_hash(&b, &a));
        // An inner node is not the leaf of the same 64 bytes.
        let mut as_leaf = Vec::from([LEAF_DOMAIN]);
        as_leaf.extend_from_slice(if a <= b { &a } else { &b });
        as_leaf.extend_from_slice(if a <= b { &b } else { &a });
        assert_ne!(hashv(&[&as_leaf]).to_bytes(), node);
    }

    #[test]
    fn order_of_input_does_not_change_the_root_and_duplicates_are_refused() {
        let forward = RewardTree::new((0..100).map(|i| (mint(i), i * 3))).unwrap();
        let backward = RewardTree::new((0..100).rev().map(|i| (mint(i), i * 3))).unwrap();
        assert_eq!(forward.root(), backward.root());
        assert_eq!(forward.total(), (0..100).map(|i| i * 3).sum::<u64>());
        assert_eq!(
            RewardTree::new([(mint(1), 1), (mint(1), 2)]).unwrap_err(),
            TreeError::DuplicateDevice(mint(1))
        );
        assert_eq!(
            RewardTree::new([(mint(1), u64::MAX), (mint(2), 1)]).unwrap_err(),
            TreeError::TotalOverflow
        );
    }

    #[test]
    fn proofs_longer_than_the_limit_are_refused() {
        let leaf = leaf_hash(&mint(1), 1);
        let proof = vec![[7u8; 32]; MAX_PROOF_LEN + 1];
        let root = proof.iter().fold(leaf, |n, s| node_hash(&n, s));
        assert!(!verify(&proof, &root, leaf));
    }

    fn flip(bytes: &mut [u8], bit: usize) {
        bytes[bit / 8] ^= 1 << (bit % 8);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// For random trees of 1 to 10,000 leaves every proof verifies, and a
        /// single flipped bit anywhere (mint, amount, any proof element, root)
        /// makes a sampled leaf's verification fail.
        #[test]
        fn every_proof_verifies_and_every_bit_matters(
            n in 1usize..=10_000,
            seed in any::<u64>(),
            pick in any::<prop::sample::Index>(),
        ) {
            let amounts: Vec<(Pubkey, u64)> = (0..n as u64)
                .map(|i| (mint(i ^ seed), (i ^ seed).wrapping_mul(31) % 1_000_000_007))
                .collect();
            let tree = RewardTree::new(amounts).unwrap();
            let root = tree.root();
            for (i, (mint, amount)) in tree.entries().iter().enumerate() {
                let proof = tree.proof(i);
                prop_assert!(proof.len() <= MAX_PROOF_LEN);
                prop_assert!(verify(&proof, &root, leaf_hash(mint, *amount)));
            }

            let i = pick.index(n);
            let (mint, amount) = tree.entries()[i];
            let proof = tree.proof(i);
            for bit in 0..256 {
                let mut m = mint.to_bytes();
                flip(&mut m, bit);
                prop_assert!(!verify(&proof, &root, leaf_hash(&Pubkey::new_from_array(m), amount)));
                let mut r = root;
                flip(&mut r, bit);
                prop_assert!(!verify(&proof, &r, leaf_hash(&mint, amount)));
                for j in 0..proof.len() {
                    let mut p = proof.clone();
                    flip(&mut p[j], bit);
                    prop_assert!(!verify(&p, &root, leaf_hash(&mint, amount)));
                }
            }
            for bit in 0..64 {
                prop_assert!(!verify(&proof, &root, leaf_hash(&mint, amount ^ (1 << bit))));
            }
        }
    }
}
