//! Maps the registry's quorum refusals to this program's error codes.

use crate::errors::PaymentError;
use device_registry::quorum::VoteRefusal;

/// The payments error for a refused oracle vote.
pub fn refusal_error(refusal: VoteRefusal) -> PaymentError {
    match refusal {
        VoteRefusal::NotAnOracle => PaymentError::NotAnOracle,
    }
}
