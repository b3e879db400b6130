//! GPU jobs a customer buys through an order (RULES.md, "Compute"): the job
//! spec, the hash its order commits to, the work a provider runs and the
//! check the customer makes before it co-signs the receipt. The provider's
//! node and the customer's `depin order` use these, the one definition.
//!
//! A matrix job is `count` products of two `size` x `size` matrices in the
//! field of p = 2^31 - 1, each pair drawn from the job's seed and its index.
//! The result is the products, entry after entry as little-endian `u32`,
//! row-major, product after product; its SHA-256 is the receipt's result
//! hash. The customer checks each product with Freivalds' algorithm in
//! O(n^2) against the provider's O(n^3), with vectors only it draws.

use crate::{
    compute::{FIELD_PRIME, challenge_matrices, freivalds_mismatch, multiply},
    key::Hash32,
};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// First bytes of a job spec's hash: no other hash can be taken for one.
pub const JOB_SPEC_DOMAIN: &[u8; 22] = b"depinkit-matrix-job-v1";

/// Largest side of a job's matrices.
pub const MAX_JOB_SIZE: u16 = 2048;

/// Most products in one job.
pub const MAX_JOB_COUNT: u16 = 256;

/// A matrix-multiplication job.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct MatrixJob {
    /// Side of each matrix, n.
    pub size: u16,
    /// Products to compute.
    pub count: u16,
    /// Draws every input ([`MatrixJob::inputs`]).
    pub seed: Hash32,
}

/// Why a job spec is not one a node runs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The side is 0 or above [`MAX_JOB_SIZE`].
    #[error("the matrices' side must be 1 to {MAX_JOB_SIZE}, not {0}")]
    Size(u16),
    /// The count is 0 or above [`MAX_JOB_COUNT`].
    #[error("a job has 1 to {MAX_JOB_COUNT} products, not {0}")]
    Count(u16),
}

/// Why a result is not the job's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WrongResult {
    /// The result has the wrong number of bytes.
    #[error("the result has {got} bytes, the job's has {want}")]
    Length {
        /// Its bytes.
        got: usize,
        /// The job's.
        want: usize,
    },
    /// An entry is not an element of the field.
    #[error("product {product}: entry {entry} is not below 2^31 - 1")]
    NotInField {
        /// Which product.
        product: u16,
        /// Which entry of it.
        entry: usize,
    },
    /// A product fails Freivalds' check.
    #[error("product {product}: row {row} is not A x B's")]
    Product {
        /// Which product.
        product: u16,
        /// A row of it that is wrong.
        row: usize,
    },
}

impl MatrixJob {
    /// Whether a node may run it (sides and count within bounds).
    pub fn check(&self) -> Result<(), JobError> {
        if self.size == 0 || self.size > MAX_JOB_SIZE {
            return Err(JobError::Size(self.size));
        }
        if self.count == 0 || self.count > MAX_JOB_COUNT {
            return Err(JobError::Count(self.count));
        }
        Ok(())
    }

    /// What the order commits to (`spec_hash`): SHA-256 of the domain and
    /// the spec in borsh.
    pub fn hash(&self) -> Hash32 {
        let mut bytes = JOB_SPEC_DOMAIN.to_vec();
        BorshSerialize::serialize(self, &mut bytes).expect("writing to a Vec cannot fail");
        Hash32::sha256(&bytes)
    }

    /// Multiply-adds the job takes: count x n^3. Nodes bound what they take
    /// by it.
    pub fn work(&self) -> u64 {
        u64::from(self.count) * u64::from(self.size).pow(3)
    }

    /// Bytes of its result.
    pub fn result_len(&self) -> usize {
        usize::from(self.count) * usize::from(self.size).pow(2) * 4
    }

    /// The two matrices of product `index`: drawn from the SHA-256 of the
    /// seed and the index, as a compute challenge's are from its seed.
    pub fn inputs(&self, index: u16) -> (Vec<u32>, Vec<u32>) {
        let mut preimage = self.seed.0.to_vec();
        preimage.extend_from_slice(&index.to_le_bytes());
        challenge_matrices(&Hash32::sha256(&preimage), self.size)
    }

    /// Runs the job: every product, encoded as the result.
    pub fn run(&self) -> Vec<u8> {
        let mut result = Vec::with_capacity(self.result_len());
        for index in 0..self.count {
            let (a, b) = self.inputs(index);
            for entry in multiply(&a, &b, self.size) {
                result.extend_from_slice(&entry.to_le_bytes());
            }
        }
        result
    }

    /// Product `index` of `result` (already checked to be the job's
    /// length).
    fn product(&self, result: &[u8], index: u16) -> Vec<u32> {
        let entries = usize::from(self.size).pow(2);
        let start = usize::from(index) * entries * 4;
        result[start..start + entries * 4]
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect()
    }

    /// Checks `result` is this job's: its length, every entry in the field,
    /// and `rounds` rounds (at least one) of Freivalds' check per product, each with a
    /// vector of entries drawn by `draw` (the customer's own randomness: a
    /// provider that cannot foresee them cannot pass a wrong product but
    /// with probability 1/p per round).
    pub fn check_result(
        &self,
        result: &[u8],
        rounds: u32,
        mut draw: impl FnMut() -> u32,
    ) -> Result<(), WrongResult> {
        if result.len() != self.result_len() {
            return Err(WrongResult::Length {
                got: result.len(),
                want: self.result_len(),
            });
        }
        let n = usize::from(self.size);
        for index in 0..self.count {
            let c = self.product(result, index);
            if let Some(entry) = c.iter().position(|&x| u64::from(x) >= FIELD_PRIME) {
                return Err(WrongResult::NotInField {
                    product: index,
                    entry,
                });
            }
            let (a, b) = self.inputs(index);
            for _ in 0..rounds.max(1) {
                let r: Vec<u32> = (0..n).map(|_| draw() % FIELD_PRIME as u32).collect();
                if let Some(row) = freivalds_mismatch(&a, &b, &c, &r, self.size) {
                    return Err(WrongResult::Product {
                        product: index,
                        row,
                    });
                }
            }
        }
        Ok(())
    }
}

/// The result hash a receipt carries: SHA-256 of the result's bytes.
pub fn result_hash(result: &[u8]) -> Hash32 {
    Hash32::sha256(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(size: u16, count: u16) -> MatrixJob {
        MatrixJob {
            size,
            count,
            seed: Hash32([9; 32]),
        }
    }

    /// A small generator for the tests' vectors.
    fn counter() -> impl FnMut() -> u32 {
        let mut x = 0x1234_5678u32;
        move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        }
    }

    #[test]
    fn specs_are_bounded_and_their_hash_binds_every_field() {
        assert_eq!(job(16, 2).check(), Ok(()));
        assert_eq!(job(0, 2).check(), Err(JobError::Size(0)));
        assert_eq!(
            job(MAX_JOB_SIZE + 1, 2).check(),
            Err(JobError::Size(MAX_JOB_SIZE + 1))
        );
        assert_eq!(job(16, 0).check(), Err(JobError::Count(0)));
        let hash = job(16, 2).hash();
        assert_ne!(hash, job(17, 2).hash());
        assert_ne!(hash, job(16, 3).hash());
        assert_ne!(
            hash,
            MatrixJob {
                seed: Hash32([8; 32]),
                ..job(16, 2)
            }
            .hash()
        );
        assert_eq!(job(16, 2).work(), 2 * 16 * 16 * 16);
    }

    #[test]
    fn a_run_passes_its_check_and_every_kind_of_wrong_result_is_named() {
        let spec = job(12, 3);
        let result = spec.run();
        assert_eq!(result.len(), spec.result_len());
        // Each product is A x B of its own inputs; the inputs differ.
        let (a1, b1) = spec.inputs(1);
        assert_ne!(spec.inputs(0), (a1.clone(), b1.clone()));
        assert_eq!(spec.product(&result, 1), multiply(&a1, &b1, 12));
        assert_eq!(spec.check_result(&result, 2, counter()), Ok(()));

        assert_eq!(
            spec.check_result(&result[4..], 2, counter()),
            Err(WrongResult::Length {
                got: result.len() - 4,
                want: result.len()
            })
        );
        // Row 5 of product 2 off by one.
        let mut wrong = result.clone();
        let at = (2 * 144 + 5 * 12 + 3) * 4;
        let entry = u32::from_le_bytes(wrong[at..at + 4].try_into().unwrap());
        let off = (entry + 1) % FIELD_PRIME as u32;
        wrong[at..at + 4].copy_from_slice(&off.to_le_bytes());
        assert_eq!(
            spec.check_result(&wrong, 2, counter()),
            Err(WrongResult::Product { product: 2, row: 5 })
        );
        // An entry no field element has: the check names it.
        let mut outside = result.clone();
        outside[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            spec.check_result(&outside, 2, counter()),
            Err(WrongResult::NotInField {
                product: 0,
                entry: 0
            })
        );
        assert_ne!(result_hash(&result), result_hash(&wrong));
    }
}
