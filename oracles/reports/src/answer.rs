//! What an oracle answers to a batch of reports: one verdict per report, in
//! the batch's order, so a device knows which to keep, drop or send again.

use crate::{key::Hash32, reject::Rejection};
use serde::{Deserialize, Serialize};

/// The verdict on one report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    /// Kept durably; it will count in its epoch.
    Accepted {
        /// The report's identity ([`crate::Report::content_hash`]).
        content_hash: Hash32,
    },
    /// Not kept, and why (`duplicate`: the same content is kept already).
    Rejected {
        /// The stable reason code.
        reason: Rejection,
    },
}

/// The answer to a whole batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchAnswer {
    /// How many reports were accepted.
    pub accepted: u32,
    /// How many were rejected.
    pub rejected: u32,
    /// One verdict per report, in the batch's order.
    pub results: Vec<Verdict>,
}

impl BatchAnswer {
    /// Counts the verdicts.
    pub fn new(results: Vec<Verdict>) -> Self {
        let accepted = results
            .iter()
            .filter(|v| matches!(v, Verdict::Accepted { .. }))
            .count() as u32;
        BatchAnswer {
            accepted,
            rejected: results.len() as u32 - accepted,
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_read_as_status_and_reason() {
        let answer = BatchAnswer::new(vec![
            Verdict::Accepted {
                content_hash: Hash32([0; 32]),
            },
            Verdict::Rejected {
                reason: Rejection::BadSignature,
            },
        ]);
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["accepted"], 1);
        assert_eq!(json["rejected"], 1);
        assert_eq!(json["results"][0]["status"], "accepted");
        assert_eq!(json["results"][1]["status"], "rejected");
        assert_eq!(json["results"][1]["reason"], "bad_signature");
        assert_eq!(serde_json::from_value::<BatchAnswer>(json).unwrap(), answer);
    }
}
