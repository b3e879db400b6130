//! Keys, signatures and hashes as reports carry them: fixed-size bytes in the
//! binary encoding, base58 (keys, signatures) or hex (hashes) in JSON, the way
//! Solana tools print them.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use std::{fmt, str::FromStr};

/// An ed25519 public key: a device key, a customer's wallet, an order or a
/// deal address. The same 32 bytes as a Solana `Pubkey`
/// (`Pubkey::new_from_array(key.0)`), without the Solana crates, so the device
/// side stays small.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, BorshSerialize, BorshDeserialize,
)]
pub struct Key(pub [u8; 32]);

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash, BorshSerialize, BorshDeserialize)]
pub struct Sig(pub [u8; 64]);

/// A 32-byte hash (SHA-256 unless a field says otherwise).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, BorshSerialize, BorshDeserialize,
)]
pub struct Hash32(pub [u8; 32]);

/// Why a text is not a key, signature or hash.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// Not base58, or not hex.
    #[error("{0:?} is not {1}")]
    Encoding(String, &'static str),
    /// The wrong number of bytes.
    #[error("{0:?} is {1} bytes, not {2}")]
    Length(String, usize, usize),
}

fn base58_bytes<const N: usize>(text: &str) -> Result<[u8; N], ParseError> {
    let bytes = bs58::decode(text)
        .into_vec()
        .map_err(|_| ParseError::Encoding(text.into(), "base58"))?;
    let length = bytes.len();
    bytes
        .try_into()
        .map_err(|_| ParseError::Length(text.into(), length, N))
}

impl FromStr for Key {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        base58_bytes(text).map(Key)
    }
}

impl FromStr for Sig {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        base58_bytes(text).map(Sig)
    }
}

impl FromStr for Hash32 {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != 64 {
            return Err(ParseError::Length(text.into(), text.len() / 2, 32));
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2).unwrap_or("zz"), 16)
                .map_err(|_| ParseError::Encoding(text.into(), "hex"))?;
        }
        Ok(Hash32(bytes))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

macro_rules! debug_as_display {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(D::Error::custom)
            }
        }
    )*};
}
debug_as_display!(Key, Sig, Hash32);

impl Hash32 {
    /// SHA-256 of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Hash32(sha2::Sha256::digest(bytes).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip_and_refuse_wrong_lengths() {
        let key = Key([7; 32]);
        assert_eq!(key.to_string().parse::<Key>(), Ok(key));
        let hash = Hash32::sha256(b"depinkit");
        assert_eq!(hash.to_string().parse::<Hash32>(), Ok(hash));
        assert_eq!(
            serde_json::from_str::<Key>(&serde_json::to_string(&key).unwrap()).unwrap(),
            key
        );
        assert!(matches!(
            Sig([1; 64]).to_string().parse::<Key>(),
            Err(ParseError::Length(_, 64, 32))
        ));
        assert!(matches!(
            "0OIl".parse::<Key>(),
            Err(ParseError::Encoding(..))
        ));
        assert!("zz".repeat(32).parse::<Hash32>().is_err());
    }
}
