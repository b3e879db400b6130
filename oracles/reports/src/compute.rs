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

/// A x B in the field (n x n, row-major): what an honest device computes.
pub fn multiply(a: &[u32], b: &[u32], size: u16) -> Vec<u32> {
    let n = usize::from(size);
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
}
