//! A storage provider (storage): it holds the bytes of the deals its device
//! accepted and answers each epoch's challenges with the challenged leaf and
//! its merkle path, read from those bytes (RULES.md, "Storage"). The tree,
//! the challenge draw and the check are `depinkit_reports::storage`'s, the
//! same the client and every oracle use.

use crate::keys::DeviceKey;
use depinkit_reports::{
    Body, DealSpec, Entropy, Hash32, Key, Report, SignedReport, StorageProof, StorageTree,
    storage::{SpecError, challenged_leaf},
};
use std::collections::BTreeMap;

/// One deal's bytes as the provider holds them, with their tree.
#[derive(Clone, Debug)]
pub struct StoredDeal {
    bytes: Vec<u8>,
    tree: StorageTree,
}

impl StoredDeal {
    /// The deal over `bytes` cut into `leaf_size` leaves.
    pub fn new(bytes: Vec<u8>, leaf_size: u32) -> Result<Self, SpecError> {
        let tree = StorageTree::build(&bytes, leaf_size)?;
        Ok(StoredDeal { bytes, tree })
    }

    /// What the deal's order commits to (its `spec_hash` is `spec().hash()`).
    pub fn spec(&self) -> DealSpec {
        self.tree.spec()
    }

    /// Its tree.
    pub fn tree(&self) -> &StorageTree {
        &self.tree
    }

    /// Leaf `index`'s bytes.
    fn leaf(&self, index: u64) -> &[u8] {
        let leaf_size = self.spec().leaf_size as usize;
        let start = index as usize * leaf_size;
        &self.bytes[start..(start + leaf_size).min(self.bytes.len())]
    }
}

/// Where a provider reads a deal's leaves and paths from: memory (a
/// simulated node, [`StoredDeal`]) or its disk (the storage node's shard
/// and tree files, `crate::shards`).
pub trait DealLeaves {
    /// What the deal commits to.
    fn spec(&self) -> DealSpec;
    /// Leaf `index`'s bytes and its path to the root.
    fn leaf_and_path(&self, index: u64) -> std::io::Result<(Vec<u8>, Vec<Hash32>)>;
}

impl DealLeaves for StoredDeal {
    fn spec(&self) -> DealSpec {
        self.tree.spec()
    }

    fn leaf_and_path(&self, index: u64) -> std::io::Result<(Vec<u8>, Vec<Hash32>)> {
        let path = self
            .tree
            .path(index)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no such leaf"))?;
        Ok((self.leaf(index).to_vec(), path))
    }
}

/// The answers of the device `key` to `challenges` challenges of `epoch`
/// for the deal at `order`, read from `deal` and drawn from `seed`, signed
/// at `at_ms`; a leaf that cannot be read fails the lot (the deal then
/// takes its strike).
#[allow(clippy::too_many_arguments)]
pub fn answer_deal(
    key: &DeviceKey,
    network: Key,
    order: &Key,
    deal: &impl DealLeaves,
    seed: &Entropy,
    epoch: u32,
    challenges: u16,
    at_ms: i64,
    answering: Answering,
) -> std::io::Result<Vec<SignedReport>> {
    let spec = deal.spec();
    let answered = match answering {
        Answering::SkipChallenge => challenges.saturating_sub(1),
        _ => challenges,
    };
    (0..answered)
        .map(|challenge| {
            let index = challenged_leaf(seed, order, epoch, challenge, spec.leaves());
            let (mut leaf, path) = deal.leaf_and_path(index)?;
            if answering == Answering::WrongChunk && challenge == 0 {
                leaf[0] ^= 0xff;
            }
            let proof = StorageProof {
                deal: *order,
                spec,
                epoch,
                seed: *seed,
                challenge,
                leaf_index: index,
                leaf,
                path,
            };
            Ok(Report {
                network,
                device: key.public(),
                timestamp_ms: at_ms,
                body: Body::StorageProof(proof),
            }
            .sign(key.signing()))
        })
        .collect()
}

/// How a provider answers (honest unless told a cheat the rules refuse).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answering {
    /// Every challenge, with the stored leaf.
    Honest,
    /// One answer's leaf has a byte changed (data it no longer holds).
    WrongChunk,
    /// The last challenge goes unanswered.
    SkipChallenge,
}

/// A storage provider's device and the deals it holds, by order address.
#[derive(Clone)]
pub struct StorageNode {
    key: DeviceKey,
    deals: BTreeMap<Key, StoredDeal>,
}

impl StorageNode {
    /// A node with `key` holding no deal yet.
    pub fn new(key: DeviceKey) -> Self {
        StorageNode {
            key,
            deals: BTreeMap::new(),
        }
    }

    /// Its key.
    pub fn key(&self) -> &DeviceKey {
        &self.key
    }

    /// Keeps `deal`'s bytes to answer for the order at `order`.
    pub fn hold(&mut self, order: Key, deal: StoredDeal) {
        self.deals.insert(order, deal);
    }

    /// The deals it holds.
    pub fn deals(&self) -> impl Iterator<Item = (&Key, &StoredDeal)> {
        self.deals.iter()
    }

    /// Its answers for `epoch` to the `challenges` challenges of every deal
    /// it holds, drawn from `seed` (an oracle's entropy issued in the epoch's
    /// first minute), signed at `at_ms`.
    pub fn answer_epoch(
        &self,
        network: Key,
        seed: &Entropy,
        epoch: u32,
        challenges: u16,
        at_ms: i64,
        answering: Answering,
    ) -> Vec<SignedReport> {
        self.deals
            .keys()
            .flat_map(|order| {
                self.answer_deal(network, order, seed, epoch, challenges, at_ms, answering)
            })
            .collect()
    }

    /// Its answers for one deal (none for a deal it does not hold).
    #[allow(clippy::too_many_arguments)]
    pub fn answer_deal(
        &self,
        network: Key,
        order: &Key,
        seed: &Entropy,
        epoch: u32,
        challenges: u16,
        at_ms: i64,
        answering: Answering,
    ) -> Vec<SignedReport> {
        let Some(deal) = self.deals.get(order) else {
            return Vec::new();
        };
        answer_deal(
            &self.key, network, order, deal, seed, epoch, challenges, at_ms, answering,
        )
        .expect("a deal in memory reads every leaf it draws")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honest_answers_prove_their_leaves_and_the_cheats_do_not() {
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let deal = StoredDeal::new(bytes, 256).unwrap();
        let spec = deal.spec();
        let mut node = StorageNode::new(DeviceKey::from_seed([2; 32]));
        let order = Key([9; 32]);
        node.hold(order, deal);
        let seed = Entropy::issue(
            &Key([1; 32]),
            60_000,
            &[4; 32],
            &ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
        );
        let proofs = |answering| {
            node.answer_epoch(Key([1; 32]), &seed, 3, 20, 61_000, answering)
                .into_iter()
                .map(|signed| match signed.report.body {
                    Body::StorageProof(p) => p,
                    _ => panic!("a storage proof"),
                })
                .collect::<Vec<_>>()
        };
        let honest = proofs(Answering::Honest);
        assert_eq!(honest.len(), 20);
        assert!(
            honest
                .iter()
                .all(|p| p.spec == spec && spec.verify(p.leaf_index, &p.leaf, &p.path))
        );
        let wrong = proofs(Answering::WrongChunk);
        assert!(!spec.verify(wrong[0].leaf_index, &wrong[0].leaf, &wrong[0].path));
        assert_eq!(proofs(Answering::SkipChallenge).len(), 19);
    }
}
