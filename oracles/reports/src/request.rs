//! A customer's signed request to a paid oracle API (the map service): the
//! wallet that pays signs the method, the path, the query, a time and a
//! nonce, so the oracle knows whose credits to charge and refuses a request
//! sent again. Defined once here, for the client that signs and the oracle
//! that checks.
//!
//! On the wire, four headers: [`WALLET_HEADER`] (the wallet, base58),
//! [`TIMESTAMP_HEADER`] (unix milliseconds), [`NONCE_HEADER`] (16 bytes,
//! hex) and [`SIGNATURE_HEADER`] (ed25519 over [`request_message`],
//! base58).

use crate::key::{Key, Sig};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// Prefix of every signed request's message.
pub const REQUEST_DOMAIN: &[u8; 19] = b"depinkit-request-v1";
/// The paying wallet.
pub const WALLET_HEADER: &str = "x-depin-wallet";
/// When the request was signed, unix milliseconds.
pub const TIMESTAMP_HEADER: &str = "x-depin-timestamp";
/// A value the wallet uses once.
pub const NONCE_HEADER: &str = "x-depin-nonce";
/// The wallet's signature.
pub const SIGNATURE_HEADER: &str = "x-depin-signature";

/// What authenticates one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestAuth {
    /// The paying wallet.
    pub wallet: Key,
    /// When it was signed, unix milliseconds.
    pub timestamp_ms: i64,
    /// Used once per wallet.
    pub nonce: [u8; 16],
    /// The wallet's signature of [`request_message`] of the request.
    pub signature: Sig,
}

/// The bytes a wallet signs for a request: the domain, then the method,
/// the path and the query (each followed by a zero byte), the time (8 bytes,
/// little-endian) and the nonce.
pub fn request_message(
    method: &str,
    path: &str,
    query: &str,
    timestamp_ms: i64,
    nonce: &[u8; 16],
) -> Vec<u8> {
    let mut message = REQUEST_DOMAIN.to_vec();
    for part in [method, path, query] {
        message.extend_from_slice(part.as_bytes());
        message.push(0);
    }
    message.extend_from_slice(&timestamp_ms.to_le_bytes());
    message.extend_from_slice(nonce);
    message
}

impl RequestAuth {
    /// Signs `method path?query` as `wallet` at `timestamp_ms` with `nonce`.
    pub fn sign(
        wallet: &SigningKey,
        method: &str,
        path: &str,
        query: &str,
        timestamp_ms: i64,
        nonce: [u8; 16],
    ) -> Self {
        let message = request_message(method, path, query, timestamp_ms, &nonce);
        RequestAuth {
            wallet: Key(wallet.verifying_key().to_bytes()),
            timestamp_ms,
            nonce,
            signature: Sig(wallet.sign(&message).to_bytes()),
        }
    }

    /// Whether the signature is the wallet's over this request (strictly:
    /// no weak key, no malleable signature).
    pub fn verify(&self, method: &str, path: &str, query: &str) -> bool {
        let Some(key) = VerifyingKey::from_bytes(&self.wallet.0)
            .ok()
            .filter(|k| !k.is_weak())
        else {
            return false;
        };
        let message = request_message(method, path, query, self.timestamp_ms, &self.nonce);
        key.verify_strict(&message, &Signature::from_bytes(&self.signature.0))
            .is_ok()
    }

    /// The four headers, as (name, value).
    pub fn headers(&self) -> [(&'static str, String); 4] {
        [
            (WALLET_HEADER, self.wallet.to_string()),
            (TIMESTAMP_HEADER, self.timestamp_ms.to_string()),
            (NONCE_HEADER, hex(&self.nonce)),
            (SIGNATURE_HEADER, self.signature.to_string()),
        ]
    }

    /// Reads the four headers through `header` (a header's value by name);
    /// which one is missing or malformed, if any.
    pub fn from_headers<'a>(
        header: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Self, &'static str> {
        let wallet = header(WALLET_HEADER)
            .and_then(|v| v.parse().ok())
            .ok_or(WALLET_HEADER)?;
        let timestamp_ms = header(TIMESTAMP_HEADER)
            .and_then(|v| v.parse().ok())
            .ok_or(TIMESTAMP_HEADER)?;
        let nonce = header(NONCE_HEADER).and_then(unhex16).ok_or(NONCE_HEADER)?;
        let signature = header(SIGNATURE_HEADER)
            .and_then(|v| v.parse().ok())
            .ok_or(SIGNATURE_HEADER)?;
        Ok(RequestAuth {
            wallet,
            timestamp_ms,
            nonce,
            signature,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex16(text: &str) -> Option<[u8; 16]> {
    if text.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_request_verifies_round_trips_its_headers_and_any_change_breaks_it() {
        let wallet = SigningKey::from_bytes(&[3; 32]);
        let auth = RequestAuth::sign(&wallet, "GET", "/v1/map/cells", "cells=8c", 1_000, [9; 16]);
        assert!(auth.verify("GET", "/v1/map/cells", "cells=8c"));
        for (method, path, query) in [
            ("POST", "/v1/map/cells", "cells=8c"),
            ("GET", "/v1/map/cellz", "cells=8c"),
            ("GET", "/v1/map/cells", "cells=8d"),
            // The separators keep the parts apart.
            ("GET", "/v1/map/cells\0cells=8c", ""),
        ] {
            assert!(!auth.verify(method, path, query), "{method} {path} {query}");
        }
        let mut later = auth;
        later.timestamp_ms += 1;
        assert!(!later.verify("GET", "/v1/map/cells", "cells=8c"));
        let mut other_nonce = auth;
        other_nonce.nonce[0] ^= 1;
        assert!(!other_nonce.verify("GET", "/v1/map/cells", "cells=8c"));
        let headers = auth.headers();
        let read = RequestAuth::from_headers(|name| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        });
        assert_eq!(read, Ok(auth));
        assert_eq!(
            RequestAuth::from_headers(|name| (name != NONCE_HEADER).then(|| headers
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap()
                .1
                .as_str())),
            Err(NONCE_HEADER)
        );
    }
}
