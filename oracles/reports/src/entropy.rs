//! Oracle entropy: a value nobody could know before an oracle issued it, so a
//! beacon that carries it was made after that moment (RULES.md: a beacon must
//! carry entropy issued within the last 180 s). The oracle signs it, so anyone
//! can check it without asking that oracle: the value, when it was issued and
//! which of the network's oracles issued it.

use crate::key::{Hash32, Key, Sig};
use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// First bytes of every signed entropy message (and of the value's preimage):
/// no report or transaction can be mistaken for one.
pub const ENTROPY_DOMAIN: &[u8; 16] = b"depinkit-entropy";

/// Entropy as an oracle issues it (`GET /v1/entropy`) and a beacon carries it.
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
pub struct Entropy {
    /// When it was issued, unix milliseconds.
    pub issued_ms: i64,
    /// SHA-256 of the domain, the network, `issued_ms` and a blockhash the
    /// oracle read at that time.
    pub value: Hash32,
    /// The oracle that issued it: one of the network's oracle keys.
    pub oracle: Key,
    /// The oracle's signature over [`Entropy::message`].
    pub signature: Sig,
}

impl Entropy {
    /// The bytes an oracle signs: the domain, the network, the time, the value.
    pub fn message(network: &Key, issued_ms: i64, value: &Hash32) -> Vec<u8> {
        let mut message = Vec::with_capacity(16 + 32 + 8 + 32);
        message.extend_from_slice(ENTROPY_DOMAIN);
        message.extend_from_slice(&network.0);
        message.extend_from_slice(&issued_ms.to_le_bytes());
        message.extend_from_slice(&value.0);
        message
    }

    /// Issues entropy for `network` at `issued_ms` from `blockhash` (the
    /// chain's latest: unknown before it was produced), signed by `oracle`.
    pub fn issue(network: &Key, issued_ms: i64, blockhash: &[u8; 32], oracle: &SigningKey) -> Self {
        let mut preimage = Vec::with_capacity(16 + 32 + 8 + 32);
        preimage.extend_from_slice(ENTROPY_DOMAIN);
        preimage.extend_from_slice(&network.0);
        preimage.extend_from_slice(&issued_ms.to_le_bytes());
        preimage.extend_from_slice(blockhash);
        let value = Hash32::sha256(&preimage);
        let signature = oracle.sign(&Self::message(network, issued_ms, &value));
        Entropy {
            issued_ms,
            value,
            oracle: Key(oracle.verifying_key().to_bytes()),
            signature: Sig(signature.to_bytes()),
        }
    }

    /// Whether the signature is the named oracle's over this entropy for
    /// `network` (strict verification; a weak key never verifies). Whether
    /// that oracle is one of the network's is the caller's to check.
    pub fn verify(&self, network: &Key) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.oracle.0) else {
            return false;
        };
        if key.is_weak() {
            return false;
        }
        let signature = ed25519_dalek::Signature::from_bytes(&self.signature.0);
        key.verify_strict(
            &Self::message(network, self.issued_ms, &self.value),
            &signature,
        )
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_entropy_verifies_for_its_network_only_and_unaltered() {
        let oracle = SigningKey::from_bytes(&[3; 32]);
        let network = Key([1; 32]);
        let entropy = Entropy::issue(&network, 1_767_225_600_000, &[9; 32], &oracle);
        assert!(entropy.verify(&network));
        assert!(!entropy.verify(&Key([2; 32])), "another network's");
        let mut later = entropy;
        later.issued_ms += 60_000;
        assert!(!later.verify(&network), "re-dated");
        let mut other = entropy;
        other.value.0[0] ^= 1;
        assert!(!other.verify(&network), "another value");
        // Another blockhash gives another value.
        let next = Entropy::issue(&network, entropy.issued_ms, &[8; 32], &oracle);
        assert_ne!(next.value, entropy.value);
    }
}
