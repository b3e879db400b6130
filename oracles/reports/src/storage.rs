//! Storage deals and their proofs (RULES.md, "Storage"): the one definition of
//! the tree a deal commits to, of the challenges an epoch draws, and of the
//! check of an answer, shared by the provider, the client that opens the deal
//! and every oracle.
//!
//! A deal is a storage order whose `spec_hash` is [`DealSpec::hash`]: the
//! root of a merkle tree over the stored bytes cut into `leaf_size` leaves,
//! and the byte size. The tree is positional (a leaf's index decides, bit by
//! bit, whether it hashes on the left or the right), so an answer for leaf i
//! can only be the bytes stored at i. Its hashes carry their own domain bytes,
//! distinct from the reward tree's (`reward_pool::merkle`: 0x00, 0x01), so no
//! storage hash can pass for a reward hash or the other way round; a lone
//! level is padded with [`EMPTY_NODE`].
//!
//! Each epoch the oracles draw `k` leaves per deal from a seed: an oracle's
//! [`Entropy`] issued in the epoch's first minute (a hash of the time and a
//! blockhash read then, unknown before the epoch began). The provider answers
//! each with the leaf and its path in a [`crate::StorageProof`].

use crate::{
    entropy::Entropy,
    key::{Hash32, Key},
    kinds::{MAX_STORAGE_LEAF, MAX_STORAGE_PATH},
};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// First byte hashed into every storage leaf.
pub const STORAGE_LEAF_DOMAIN: u8 = 0x02;
/// First byte hashed into every storage inner node.
pub const STORAGE_NODE_DOMAIN: u8 = 0x03;
/// Preimage prefix of a deal's `spec_hash`.
pub const DEAL_DOMAIN: &[u8; 16] = b"depinkit-deal-v1";
/// Preimage prefix of a challenged leaf index.
pub const STORAGE_CHALLENGE_DOMAIN: &[u8; 20] = b"depinkit-storage-chl";
/// Preimage prefix of a storage settlement's receipt hash.
pub const SETTLEMENT_RECEIPT_DOMAIN: &[u8; 24] = b"depinkit-storage-receipt";
/// The hash standing for a missing subtree (past the last leaf).
pub const EMPTY_NODE: Hash32 = Hash32([0; 32]);
/// Smallest leaf a deal may cut its bytes into.
pub const MIN_STORAGE_LEAF: u32 = 32;

/// What a storage deal commits to (its order's `spec_hash` is [`Self::hash`]).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
pub struct DealSpec {
    /// Root of the storage tree over the bytes.
    pub root: Hash32,
    /// Bytes stored.
    pub size: u64,
    /// Bytes per leaf (the last leaf holds the rest).
    pub leaf_size: u32,
}

/// An epoch's storage seed as an oracle serves it (`GET
/// /v1/challenges/storage`): the entropy it issued in the epoch's first
/// minute, from which a provider draws its deals' challenges
/// ([`challenged_leaf`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageSeed {
    /// The reward-pool epoch.
    pub epoch: u32,
    /// Its start, unix milliseconds.
    pub epoch_start_ms: i64,
    /// Its end: answers must be in before it.
    pub epoch_end_ms: i64,
    /// The seed.
    pub seed: Entropy,
    /// Challenges per deal (the network's storage rules' k).
    pub challenges_per_deal: u16,
}

/// Why a deal's spec is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Nothing stored.
    #[error("a deal stores at least one byte")]
    Empty,
    /// The leaf size is out of bounds or not a power of two.
    #[error("leaf_size must be a power of two from {MIN_STORAGE_LEAF} to {MAX_STORAGE_LEAF} bytes")]
    LeafSize,
    /// More leaves than a path can reach.
    #[error("more than 2^{MAX_STORAGE_PATH} leaves")]
    TooLarge,
}

impl DealSpec {
    /// The `spec_hash` of the deal's order: SHA-256 of [`DEAL_DOMAIN`] and the
    /// spec in borsh.
    pub fn hash(&self) -> Hash32 {
        let mut hasher = Sha256::new();
        hasher.update(DEAL_DOMAIN);
        hasher.update(borsh::to_vec(self).expect("a spec always serializes"));
        Hash32(hasher.finalize().into())
    }

    /// Whether the spec describes a tree a proof can reach.
    pub fn check(&self) -> Result<(), SpecError> {
        if self.size == 0 {
            return Err(SpecError::Empty);
        }
        if !self.leaf_size.is_power_of_two()
            || !(MIN_STORAGE_LEAF..=MAX_STORAGE_LEAF as u32).contains(&self.leaf_size)
        {
            return Err(SpecError::LeafSize);
        }
        if self.leaves() > 1u64 << MAX_STORAGE_PATH {
            return Err(SpecError::TooLarge);
        }
        Ok(())
    }

    /// How many leaves the bytes make.
    pub fn leaves(&self) -> u64 {
        self.size.div_ceil(u64::from(self.leaf_size.max(1)))
    }

    /// Hashes in every path: the tree's height.
    pub fn height(&self) -> u32 {
        let leaves = self.leaves().max(1);
        u64::BITS - (leaves - 1).leading_zeros()
    }

    /// The length leaf `index` must have (the last one holds the rest; 0 past
    /// the end).
    pub fn leaf_len(&self, index: u64) -> usize {
        let leaf_size = u64::from(self.leaf_size);
        let start = index.saturating_mul(leaf_size);
        if start >= self.size {
            return 0;
        }
        (self.size - start).min(leaf_size) as usize
    }

    /// Whether `leaf` at `index` with `path` leads to the root: the path is
    /// exactly as long as the tree is high and the leaf exactly as long as
    /// its place in the bytes.
    pub fn verify(&self, index: u64, leaf: &[u8], path: &[Hash32]) -> bool {
        if self.check().is_err()
            || index >= self.leaves()
            || path.len() != self.height() as usize
            || leaf.len() != self.leaf_len(index)
        {
            return false;
        }
        let mut node = leaf_hash(leaf);
        for (level, sibling) in path.iter().enumerate() {
            node = if (index >> level) & 1 == 0 {
                node_hash(&node, sibling)
            } else {
                node_hash(sibling, &node)
            };
        }
        node == self.root
    }
}

/// Hash of a stored leaf's bytes.
pub fn leaf_hash(bytes: &[u8]) -> Hash32 {
    let mut hasher = Sha256::new();
    hasher.update([STORAGE_LEAF_DOMAIN]);
    hasher.update(bytes);
    Hash32(hasher.finalize().into())
}

/// Hash of an inner node over its `left` and `right` children.
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    let mut hasher = Sha256::new();
    hasher.update([STORAGE_NODE_DOMAIN]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash32(hasher.finalize().into())
}

/// A storage tree held whole: what a client builds to open a deal and a
/// provider keeps to answer challenges (32 bytes per leaf, about twice over).
#[derive(Clone, Debug)]
pub struct StorageTree {
    spec: DealSpec,
    /// Level 0 the leaves' hashes, the last level the root alone.
    levels: Vec<Vec<Hash32>>,
}

impl StorageTree {
    /// The tree over `bytes` cut into `leaf_size` leaves.
    pub fn build(bytes: &[u8], leaf_size: u32) -> Result<Self, SpecError> {
        let mut spec = DealSpec {
            root: EMPTY_NODE,
            size: bytes.len() as u64,
            leaf_size,
        };
        spec.check()?;
        let mut level: Vec<Hash32> = bytes.chunks(leaf_size as usize).map(leaf_hash).collect();
        let mut levels = Vec::with_capacity(spec.height() as usize + 1);
        while level.len() > 1 {
            let next = level
                .chunks(2)
                .map(|pair| node_hash(&pair[0], pair.get(1).unwrap_or(&EMPTY_NODE)))
                .collect();
            levels.push(std::mem::replace(&mut level, next));
        }
        spec.root = level[0];
        levels.push(level);
        Ok(StorageTree { spec, levels })
    }

    /// What a deal over these bytes commits to.
    pub fn spec(&self) -> DealSpec {
        self.spec
    }

    /// The hashes below the root, level by level (level 0: the leaves'),
    /// for a provider to keep on disk beside the bytes; their counts are
    /// [`level_lengths`] of the leaf count.
    pub fn levels(&self) -> &[Vec<Hash32>] {
        &self.levels[..self.levels.len() - 1]
    }

    /// The sibling hashes from leaf `index` up to the root (`None` past the
    /// last leaf).
    pub fn path(&self, index: u64) -> Option<Vec<Hash32>> {
        if index >= self.spec.leaves() {
            return None;
        }
        let levels = &self.levels[..self.levels.len() - 1];
        Some(
            levels
                .iter()
                .enumerate()
                .map(|(height, level)| {
                    let sibling = ((index >> height) ^ 1) as usize;
                    level.get(sibling).copied().unwrap_or(EMPTY_NODE)
                })
                .collect(),
        )
    }
}

/// How many hashes each level below the root of a tree of `leaves` leaves
/// holds (level 0: the leaves'; a lone last node is paired with
/// [`EMPTY_NODE`] one level up).
pub fn level_lengths(leaves: u64) -> Vec<u64> {
    let mut lengths = Vec::new();
    let mut length = leaves;
    while length > 1 {
        lengths.push(length);
        length = length.div_ceil(2);
    }
    lengths
}

/// The leaf challenge number `challenge` of `deal` asks for in `epoch` under
/// `seed`: SHA-256 of the domain, the seed's value, the deal, the epoch and the
/// challenge number, its first 8 bytes little-endian modulo the leaf count
/// (at most 2^40 leaves: the bias is below 2^-24).
pub fn challenged_leaf(seed: &Entropy, deal: &Key, epoch: u32, challenge: u16, leaves: u64) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(STORAGE_CHALLENGE_DOMAIN);
    hasher.update(seed.value.0);
    hasher.update(deal.0);
    hasher.update(epoch.to_le_bytes());
    hasher.update(challenge.to_le_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    let draw = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
    draw % leaves.max(1)
}

/// The receipt a storage order's settlement for `epoch` attests (the
/// `receipt_hash` of its `vote_settlement`): SHA-256 of the domain, the
/// order, the epoch, whether the deal was proven in it, whether the
/// settlement completes the order, and the reward root the chain finalized
/// for the epoch (which commits to the scoring behind it). Every oracle of
/// the network computes the same, so their votes count together.
pub fn settlement_receipt(
    order: &Key,
    epoch: u64,
    proven: bool,
    completes: bool,
    epoch_root: &[u8; 32],
) -> Hash32 {
    let mut hasher = Sha256::new();
    hasher.update(SETTLEMENT_RECEIPT_DOMAIN);
    hasher.update(order.0);
    hasher.update(epoch.to_le_bytes());
    hasher.update([u8::from(proven), u8::from(completes)]);
    hasher.update(epoch_root);
    Hash32(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_levels_kept_are_the_ones_the_paths_read() {
        for size in [1usize, 32, 33, 1000, 4097] {
            let bytes = vec![7u8; size];
            let tree = StorageTree::build(&bytes, 32).unwrap();
            let lengths: Vec<u64> = tree.levels().iter().map(|l| l.len() as u64).collect();
            assert_eq!(lengths, level_lengths(tree.spec().leaves()), "size {size}");
        }
    }

    #[test]
    fn a_settlement_receipt_names_its_order_epoch_outcome_and_root() {
        let order = Key([1; 32]);
        let base = settlement_receipt(&order, 7, true, false, &[9; 32]);
        assert_eq!(base, settlement_receipt(&order, 7, true, false, &[9; 32]));
        for other in [
            settlement_receipt(&Key([2; 32]), 7, true, false, &[9; 32]),
            settlement_receipt(&order, 8, true, false, &[9; 32]),
            settlement_receipt(&order, 7, false, false, &[9; 32]),
            settlement_receipt(&order, 7, true, true, &[9; 32]),
            settlement_receipt(&order, 7, true, false, &[8; 32]),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn every_leaf_of_uneven_trees_proves_and_no_other_bytes_do() {
        for size in [1usize, 31, 32, 33, 64, 95, 96, 97, 1000, 4096, 4097] {
            let bytes: Vec<u8> = (0..size).map(|i| (i * 7 + 3) as u8).collect();
            let tree = StorageTree::build(&bytes, 32).unwrap();
            let spec = tree.spec();
            assert_eq!(spec.leaves(), size.div_ceil(32) as u64);
            for (index, leaf) in bytes.chunks(32).enumerate() {
                let index = index as u64;
                let path = tree.path(index).unwrap();
                assert!(spec.verify(index, leaf, &path), "size {size} leaf {index}");
                let mut wrong = leaf.to_vec();
                wrong[0] ^= 1;
                assert!(!spec.verify(index, &wrong, &path));
                if spec.leaves() > 1 {
                    let other = (index + 1) % spec.leaves();
                    assert!(!spec.verify(other, leaf, &path), "moved to {other}");
                }
            }
            assert_eq!(tree.path(spec.leaves()), None);
        }
    }

    #[test]
    fn specs_out_of_bounds_are_refused() {
        let spec = |size, leaf_size| DealSpec {
            root: EMPTY_NODE,
            size,
            leaf_size,
        };
        assert_eq!(spec(0, 64).check(), Err(SpecError::Empty));
        assert_eq!(spec(10, 48).check(), Err(SpecError::LeafSize));
        assert_eq!(spec(10, 16).check(), Err(SpecError::LeafSize));
        assert_eq!(spec(10, 2048).check(), Err(SpecError::LeafSize));
        assert_eq!(
            spec((1 << 40) * 1024 + 1, 1024).check(),
            Err(SpecError::TooLarge)
        );
        assert_eq!(spec((1 << 40) * 1024, 1024).check(), Ok(()));
        assert_eq!(spec((1 << 40) * 1024, 1024).height(), 40);
    }

    #[test]
    fn the_spec_hash_changes_with_every_field() {
        let base = DealSpec {
            root: Hash32([1; 32]),
            size: 100,
            leaf_size: 64,
        };
        let hashes = [
            base.hash(),
            DealSpec {
                root: Hash32([2; 32]),
                ..base
            }
            .hash(),
            DealSpec { size: 101, ..base }.hash(),
            DealSpec {
                leaf_size: 128,
                ..base
            }
            .hash(),
        ];
        for (i, a) in hashes.iter().enumerate() {
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
