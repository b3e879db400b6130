//! Why an oracle refused a report: stable codes a device can act on, the same
//! at every oracle.

use serde::{Deserialize, Serialize};

/// The reason a report was not accepted. Serialized in snake case
/// (`bad_signature`); codes are never renamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// The bytes or JSON do not decode as a report.
    #[error("the report does not decode")]
    Malformed,
    /// The binary batch ends inside this report.
    #[error("the batch ends inside the report")]
    Truncated,
    /// The encoded report is over the size limit.
    #[error("the report is larger than allowed")]
    TooLarge,
    /// A field is out of its range or size limit.
    #[error("a field is out of range")]
    InvalidField,
    /// The device's signature does not verify (or its key is not a valid point).
    #[error("the device's signature does not verify")]
    BadSignature,
    /// The co-signer's signature is missing or does not verify.
    #[error("the co-signer's signature is missing or does not verify")]
    BadCosignature,
    /// The report names another network than this oracle's.
    #[error("the report is for another network")]
    WrongNetwork,
    /// No device with this key on the network.
    #[error("no device with this key on the network")]
    UnknownDevice,
    /// The device is suspended.
    #[error("the device is suspended")]
    SuspendedDevice,
    /// The network's category does not send this kind of report.
    #[error("this network's devices do not send this kind of report")]
    WrongCategory,
    /// The report's epoch is closed (or not started).
    #[error("the report's epoch is not open")]
    EpochClosed,
    /// The timestamp is too far in the future.
    #[error("the timestamp is too far in the future")]
    FutureTimestamp,
    /// The same content was already accepted.
    #[error("the same report was already accepted")]
    Duplicate,
    /// The device sent too many reports too fast.
    #[error("the device sends too fast")]
    RateLimited,
    /// A challenge's answer arrived after the oracle's bound.
    #[error("the challenge was answered too late")]
    LateAnswer,
}

impl Rejection {
    /// The code as sent in answers (`bad_signature`).
    pub fn code(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::Truncated => "truncated",
            Rejection::TooLarge => "too_large",
            Rejection::InvalidField => "invalid_field",
            Rejection::BadSignature => "bad_signature",
            Rejection::BadCosignature => "bad_cosignature",
            Rejection::WrongNetwork => "wrong_network",
            Rejection::UnknownDevice => "unknown_device",
            Rejection::SuspendedDevice => "suspended_device",
            Rejection::WrongCategory => "wrong_category",
            Rejection::EpochClosed => "epoch_closed",
            Rejection::FutureTimestamp => "future_timestamp",
            Rejection::Duplicate => "duplicate",
            Rejection::RateLimited => "rate_limited",
            Rejection::LateAnswer => "late_answer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_serialized_names() {
        for rejection in [
            Rejection::Malformed,
            Rejection::Truncated,
            Rejection::TooLarge,
            Rejection::InvalidField,
            Rejection::BadSignature,
            Rejection::BadCosignature,
            Rejection::WrongNetwork,
            Rejection::UnknownDevice,
            Rejection::SuspendedDevice,
            Rejection::WrongCategory,
            Rejection::EpochClosed,
            Rejection::FutureTimestamp,
            Rejection::Duplicate,
            Rejection::RateLimited,
            Rejection::LateAnswer,
        ] {
            assert_eq!(
                serde_json::to_string(&rejection).unwrap(),
                format!("\"{}\"", rejection.code())
            );
        }
    }
}
