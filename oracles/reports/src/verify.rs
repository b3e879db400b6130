//! Signature verification of many reports at once.
//!
//! Every signature of a batch (devices' and co-signers') is checked in one
//! ed25519 batch equation; only when it fails is each checked alone, to find
//! the bad ones. Both paths use the same (cofactored) equation, so whether a
//! report is accepted never depends on which reports shared its batch: every
//! oracle decides the same for the same report.

use crate::{key::Key, reject::Rejection, report::SignedReport};
use ed25519_dalek::{Signature, VerifyingKey};

/// One signature to check: which report, whose key, over what.
struct Item {
    report: usize,
    signature: Signature,
    key: VerifyingKey,
    cosigner: bool,
}

fn verifying_key(key: &Key) -> Option<VerifyingKey> {
    VerifyingKey::from_bytes(&key.0)
        .ok()
        .filter(|k| !k.is_weak())
}

/// Checks every report's signatures: `Ok` for each whose device signature
/// (and co-signature, for kinds that need one) verify; `BadSignature` or
/// `BadCosignature` otherwise. Structure is checked earlier, at decoding.
pub fn verify_signatures(reports: &[SignedReport]) -> Vec<Result<(), Rejection>> {
    let mut results: Vec<Result<(), Rejection>> = vec![Ok(()); reports.len()];
    let messages: Vec<Vec<u8>> = reports.iter().map(|r| r.report.message()).collect();
    let mut items = Vec::with_capacity(reports.len());
    for (index, signed) in reports.iter().enumerate() {
        let Some(key) = verifying_key(&signed.report.device) else {
            results[index] = Err(Rejection::BadSignature);
            continue;
        };
        items.push(Item {
            report: index,
            signature: Signature::from_bytes(&signed.signature.0),
            key,
            cosigner: false,
        });
        match (signed.report.body.cosigner(), signed.cosignature) {
            (None, None) => {}
            (Some(cosigner), Some(signature)) => match verifying_key(&cosigner) {
                Some(key) => items.push(Item {
                    report: index,
                    signature: Signature::from_bytes(&signature.0),
                    key,
                    cosigner: true,
                }),
                None => results[index] = Err(Rejection::BadCosignature),
            },
            (Some(_), None) => results[index] = Err(Rejection::BadCosignature),
            (None, Some(_)) => results[index] = Err(Rejection::InvalidField),
        }
    }
    items.retain(|item| results[item.report].is_ok());
    if batch_holds(&messages, &items) {
        return results;
    }
    for item in &items {
        if results[item.report].is_ok() && !batch_holds(&messages, std::slice::from_ref(item)) {
            results[item.report] = Err(if item.cosigner {
                Rejection::BadCosignature
            } else {
                Rejection::BadSignature
            });
        }
    }
    results
}

fn batch_holds(messages: &[Vec<u8>], items: &[Item]) -> bool {
    if items.is_empty() {
        return true;
    }
    let messages: Vec<&[u8]> = items
        .iter()
        .map(|i| messages[i.report].as_slice())
        .collect();
    let signatures: Vec<Signature> = items.iter().map(|i| i.signature).collect();
    let keys: Vec<VerifyingKey> = items.iter().map(|i| i.key).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}
