//! Compute challenges (RULES.md, "Compute"): an oracle asks a GPU provider
//! to multiply two matrices it draws from a seed; the provider answers with
//! the product in a signed report; the oracle checks it with Freivalds'
//! algorithm in O(n^2). Both sides draw the same matrices from the seed with
//! the functions here, the one definition.
//!
//! Arithmetic is in the prime field of p = 2^31 - 1, so a wrong product
//! passes one Freivalds round with probability at most 1/p.

use crate::key::{Hash32, Key, Sig};
use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// First bytes of a signed compute challenge.
pub const CHALLENGE_DOMAIN: &[u8; 26] = b"depinkit-compute-challenge";

/// The field's prime: 2^31 - 1.
pub const FIELD_PRIME: u64 = (1 << 31) - 1;

/// Largest side of a challenge's matrices: its product (n x n entries of 4
/// bytes) fits a report (8 KiB).
pub const MAX_CHALLENGE_SIZE: u16 = 40;

/// A challenge as an oracle issues it to one device.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct ComputeChallenge {
    /// The device challenged.
    pub device: Key,
    /// The GPU class the device declared.
    pub gpu_class: String,
    /// Draws the matrices ([`challenge_matrices`]).
    pub seed: Hash32,
    /// Their side, n.
    pub size: u16,
    /// When it was issued, unix milliseconds.
    pub issued_ms: i64,
    /// The oracle that issued it: one of the network's oracle keys.
    pub oracle: Key,
    /// The oracle's signature over [`ComputeChallenge::message`].
    pub signature: Sig,
}

impl ComputeChallenge {
    /// The bytes an oracle signs: the domain, the network, then the fields.
    #[allow(clippy::too_many_arguments)]
    pub fn message(
        network: &Key,
        device: &Key,
        gpu_class: &str,
        seed: &Hash32,
        size: u16,
        issued_ms: i64,
    ) -> Vec<u8> {
        let mut message = Vec::with_capacity(26 + 32 + 32 + 2 + gpu_class.len() + 32 + 2 + 8);
        message.extend_from_slice(CHALLENGE_DOMAIN);
        message.extend_from_slice(&network.0);
        message.extend_from_slice(&device.0);
        message.extend_from_slice(&(gpu_class.len() as u16).to_le_bytes());
        message.extend_from_slice(gpu_class.as_bytes());
        message.extend_from_slice(&seed.0);
        message.extend_from_slice(&size.to_le_bytes());
        message.extend_from_slice(&issued_ms.to_le_bytes());
        message
    }

    /// Issues a challenge to `device` for `network`, signed by `oracle`.
    pub fn issue(
        network: &Key,
        device: Key,
        gpu_class: &str,
        seed: Hash32,
        size: u16,
        issued_ms: i64,
        oracle: &SigningKey,
    ) -> Self {
        let message = Self::message(network, &device, gpu_class, &seed, size, issued_ms);
        ComputeChallenge {
            device,
            gpu_class: gpu_class.into(),
            seed,
            size,
            issued_ms,
            oracle: Key(oracle.verifying_key().to_bytes()),
            signature: Sig(oracle.sign(&message).to_bytes()),
        }
    }

    /// Whether the signature is the named oracle's over this challenge for
    /// `network` (strict; a weak key never verifies). Whether that oracle is
    /// one of the network's is the caller's to check.
    pub fn verify(&self, network: &Key) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.oracle.0) else {
            return false;
        };
        let message = Self::message(
            network,
            &self.device,
            &self.gpu_class,
            &self.seed,
            self.size,
            self.issued_ms,
        );
        !key.is_weak()
            && key
                .verify_strict(
                    &message,
                    &ed25519_dalek::Signature::from_bytes(&self.signature.0),
                )
                .is_ok()
    }
}

/// A device's answer to a challenge: the product, row by row.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ComputeAnswer {
    /// The challenge, as the oracle signed it.
    pub challenge: ComputeChallenge,
    /// A x B in the field, n x n entries, row-major.
    pub product: Vec<u32>,
}

/// A small deterministic generator (SplitMix64) for the matrices' entries.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The two n x n matrices a challenge's seed draws (row-major, entries in
/// the field).
pub fn challenge_matrices(seed: &Hash32, size: u16) -> (Vec<u32>, Vec<u32>) {
    let n = usize::from(size);
    let mut rng = SplitMix(u64::from_le_bytes(seed.0[..8].try_into().expect("8 bytes")));
    let mut draw = || (rng.next() % FIELD_PRIME) as u32;
    let a = (0..n * n).map(|_| draw()).collect();
    let b = (0..n * n).map(|_| draw()).collect();
    (a, b)
}

/// `x mod p` folded once: since 2^31 = 1 (mod p), `hi * 2^31 + lo` is
/// congruent to `hi + lo`. For a product of two entries below 2^32 the
/// result is below 2^33, so thousands of them add up in a `u64` before one
/// final reduction.
#[inline]
fn fold(x: u64) -> u64 {
    (x & FIELD_PRIME) + (x >> 31)
}

/// A x B in the field (n x n, row-major): what an honest device computes.
/// Rows of B are walked in order (cache-friendly) and each entry reduced
/// once at the end of its sum.
pub fn multiply(a: &[u32], b: &[u32], size: u16) -> Vec<u32> {
    let n = usize::from(size);
    let mut c = vec![0u32; n * n];
    let mut sums = vec![0u64; n];
    for i in 0..n {
        sums.fill(0);
        for k in 0..n {
            let aik = u64::from(a[i * n + k]);
            for (sum, &bkj) in sums.iter_mut().zip(&b[k * n..(k + 1) * n]) {
                *sum += fold(aik * u64::from(bkj));
            }
        }
        for (cij, sum) in c[i * n..(i + 1) * n].iter_mut().zip(&sums) {
            *cij = (sum % FIELD_PRIME) as u32;
        }
    }
    c
}

/// M v in the field (M n x n, row-major; entries of either may be any
/// `u32`, the result is reduced): the O(n^2) step of Freivalds' check.
/// Always `n` entries: a row `m` lacks, or entries `v` lacks, count as 0.
pub fn mat_vec(m: &[u32], v: &[u32], size: u16) -> Vec<u32> {
    let n = usize::from(size);
    (0..n)
        .map(|i| {
            let row = m.get(i * n..).unwrap_or_default();
            let sum: u64 = row
                .iter()
                .take(n)
                .zip(v)
                .map(|(&x, &y)| fold(u64::from(x) * u64::from(y)))
                .sum();
            (sum % FIELD_PRIME) as u32
        })
        .collect()
}

/// The first row where C r differs from A (B r), if any: Freivalds' check
/// of C = A x B for one vector `r`. A wrong C is caught by a random `r`
/// with probability at least 1 - 1/p, and the row named is a wrong row of C.
/// Matrices that are not n x n (or `r` not of n entries) never pass: the
/// row named is C's first incomplete one (row 0 when A, B or r is short).
pub fn freivalds_mismatch(a: &[u32], b: &[u32], c: &[u32], r: &[u32], size: u16) -> Option<usize> {
    let n = usize::from(size);
    let square = n * n;
    if c.len() != square {
        return Some((c.len() / n.max(1)).min(n.saturating_sub(1)));
    }
    if a.len() != square || b.len() != square || r.len() != n {
        return Some(0);
    }
    let expected = mat_vec(a, &mat_vec(b, r, size), size);
    let got = mat_vec(c, r, size);
    expected.iter().zip(&got).position(|(x, y)| x != y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_verify_for_their_network_and_draw_the_same_matrices() {
        let oracle = SigningKey::from_bytes(&[3; 32]);
        let network = Key([1; 32]);
        let challenge = ComputeChallenge::issue(
            &network,
            Key([7; 32]),
            "a100",
            Hash32([9; 32]),
            4,
            1_000,
            &oracle,
        );
        assert!(challenge.verify(&network));
        assert!(!challenge.verify(&Key([2; 32])));
        let mut bigger = challenge.clone();
        bigger.size = 8;
        assert!(!bigger.verify(&network), "a changed size");
        let (a, b) = challenge_matrices(&challenge.seed, 4);
        assert_eq!(
            challenge_matrices(&challenge.seed, 4),
            (a.clone(), b.clone())
        );
        assert!(a.iter().chain(&b).all(|&x| u64::from(x) < FIELD_PRIME));
        // The identity times B is B.
        let identity: Vec<u32> = (0..16).map(|i| u32::from(i % 5 == 0)).collect();
        assert_eq!(multiply(&identity, &b, 4), b);
    }

    /// The schoolbook product, reducing at every step: what `multiply`
    /// must equal.
    fn schoolbook(a: &[u32], b: &[u32], n: usize) -> Vec<u32> {
        let mut c = vec![0u32; n * n];
        for i in 0..n {
            for j in 0..n {
                let mut sum = 0u64;
                for k in 0..n {
                    sum = (sum + u64::from(a[i * n + k]) * u64::from(b[k * n + j])) % FIELD_PRIME;
                }
                c[i * n + j] = sum as u32;
            }
        }
        c
    }

    #[test]
    fn the_folded_product_is_the_schoolbook_one_and_freivalds_names_the_wrong_row() {
        for size in [1u16, 7, 33] {
            let (a, b) = challenge_matrices(&Hash32([size as u8; 32]), size);
            let c = multiply(&a, &b, size);
            assert_eq!(c, schoolbook(&a, &b, usize::from(size)));
            // The largest entries a field element can have.
            let top = vec![(FIELD_PRIME - 1) as u32; usize::from(size).pow(2)];
            assert_eq!(
                multiply(&top, &top, size),
                schoolbook(&top, &top, usize::from(size))
            );
            let r: Vec<u32> = (0..u32::from(size)).map(|i| i * 7 + 1).collect();
            assert_eq!(freivalds_mismatch(&a, &b, &c, &r, size), None);
            let mut wrong = c.clone();
            let at = wrong.len() - 1;
            wrong[at] = (wrong[at] + 1) % FIELD_PRIME as u32;
            assert_eq!(
                freivalds_mismatch(&a, &b, &wrong, &r, size),
                Some(usize::from(size) - 1)
            );
        }
    }

    #[test]
    fn misshapen_matrices_never_pass_and_empty_ones_do_not_panic() {
        assert!(mat_vec(&[], &[], 0).is_empty());
        assert_eq!(freivalds_mismatch(&[], &[], &[], &[], 0), None);
        let identity = [1, 0, 0, 1];
        let m = [2, 3, 4, 5];
        let r = [7, 11];
        assert_eq!(freivalds_mismatch(&identity, &m, &m, &r, 2), None);
        // C one row short: its second row is named.
        assert_eq!(freivalds_mismatch(&identity, &m, &m[..2], &r, 2), Some(1));
        assert_eq!(freivalds_mismatch(&identity, &m, &[], &r, 2), Some(0));
        assert_eq!(
            freivalds_mismatch(&identity, &m, &[2, 3, 4, 5, 6], &r, 2),
            Some(1)
        );
        assert_eq!(freivalds_mismatch(&identity[..3], &m, &m, &r, 2), Some(0));
        assert_eq!(freivalds_mismatch(&identity, &m, &m, &r[..1], 2), Some(0));
        // A short matrix times a vector: missing entries count as zero.
        assert_eq!(mat_vec(&m[..3], &r, 2), vec![2 * 7 + 3 * 11, 4 * 7]);
    }
}
