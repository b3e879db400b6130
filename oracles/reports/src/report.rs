//! A report, its signed encoding, and its signatures.

use crate::{
    key::{Hash32, Key, Sig},
    kinds::{Body, Kind},
    reject::Rejection,
};
use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

/// First bytes of every signed report message: no other depinkit message (an
/// onboarding proof, a transaction) can be mistaken for a report.
pub const REPORT_DOMAIN: &[u8; 15] = b"depinkit-report";
/// Version of the encoding below; a change of any field's encoding takes a
/// new version, and oracles say which versions they take.
pub const ENCODING_VERSION: u8 = 1;
/// Most bytes of one encoded signed report.
pub const MAX_REPORT_BYTES: usize = 8 * 1024;

/// What a device states, before signing.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Report {
    /// The network (its address) the report is for.
    pub network: Key,
    /// The device's key: the signer.
    pub device: Key,
    /// When the device made it, unix milliseconds.
    pub timestamp_ms: i64,
    /// The kind-specific part.
    pub body: Body,
}

impl Report {
    /// The report's kind.
    pub fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// The bytes the device (and a co-signer) sign: the domain tag, the
    /// encoding version, the kind, then the report in borsh (network first).
    pub fn message(&self) -> Vec<u8> {
        let mut message = Vec::with_capacity(128);
        message.extend_from_slice(REPORT_DOMAIN);
        message.push(ENCODING_VERSION);
        message.push(self.kind() as u8);
        BorshSerialize::serialize(self, &mut message).expect("writing to a Vec cannot fail");
        message
    }

    /// SHA-256 of the message: the report's identity. Two reports with the
    /// same content are one report, whatever their signatures.
    pub fn content_hash(&self) -> Hash32 {
        Hash32::sha256(&self.message())
    }

    /// Signs as the device. `device` must be the key named in the report.
    pub fn sign(self, device: &SigningKey) -> SignedReport {
        let signature = Sig(device.sign(&self.message()).to_bytes());
        SignedReport {
            report: self,
            signature,
            cosignature: None,
        }
    }
}

/// A report with its device's signature and, for kinds a second party
/// accepts, that party's.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct SignedReport {
    /// The report.
    pub report: Report,
    /// The device's signature of [`Report::message`].
    pub signature: Sig,
    /// The co-signer's ([`Body::cosigner`]) signature of the same message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosignature: Option<Sig>,
}

impl SignedReport {
    /// Adds the co-signer's signature (the customer of a data transfer, the
    /// client of a GPU job).
    pub fn cosign(mut self, cosigner: &SigningKey) -> Self {
        self.cosignature = Some(Sig(cosigner.sign(&self.report.message()).to_bytes()));
        self
    }

    /// The compact binary encoding (borsh).
    pub fn to_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("writing to a Vec cannot fail")
    }

    /// Decodes and checks the structure (size, fields); signatures are
    /// checked apart, in batches ([`crate::verify_signatures`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Rejection> {
        if bytes.len() > MAX_REPORT_BYTES {
            return Err(Rejection::TooLarge);
        }
        let report = Self::try_from_slice(bytes).map_err(|_| Rejection::Malformed)?;
        report.check()?;
        Ok(report)
    }

    /// Decodes one report of a JSON batch and checks it as
    /// [`SignedReport::from_bytes`] does.
    pub fn from_json(value: serde_json::Value) -> Result<Self, Rejection> {
        let report: Self = serde_json::from_value(value).map_err(|_| Rejection::Malformed)?;
        if report.to_bytes().len() > MAX_REPORT_BYTES {
            return Err(Rejection::TooLarge);
        }
        report.check()?;
        Ok(report)
    }

    /// Structural checks: field limits, and a co-signature exactly when the
    /// kind has a co-signer.
    pub fn check(&self) -> Result<(), Rejection> {
        self.report
            .body
            .check()
            .map_err(|_| Rejection::InvalidField)?;
        match (self.report.body.cosigner(), self.cosignature) {
            (Some(_), None) => Err(Rejection::BadCosignature),
            (None, Some(_)) => Err(Rejection::InvalidField),
            _ => Ok(()),
        }
    }
}
