//! Batches on the wire: the compact binary form devices send, and JSON for
//! people and scripts. A bad report never costs the others of its batch:
//! each decodes on its own and gets its own answer.

use crate::{reject::Rejection, report::SignedReport};

/// First bytes of a binary batch.
pub const BATCH_MAGIC: &[u8; 4] = b"DPKB";
/// Version of the batch framing.
pub const BATCH_VERSION: u8 = 1;
/// Content type of the binary form.
pub const BINARY_CONTENT_TYPE: &str = "application/vnd.depinkit.reports";

/// Why a whole batch could not be read (nothing in it is answered one by one).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    /// Not a binary batch of a version this code reads.
    #[error("not a depinkit report batch (magic {BATCH_MAGIC:?}, version {BATCH_VERSION})")]
    Header,
    /// Not JSON, or not a JSON array.
    #[error("the body is not a JSON array of reports: {0}")]
    Json(String),
}

/// Encodes reports as a binary batch: magic, version, then each report's
/// borsh bytes after its length (u32, little endian).
pub fn encode_batch(reports: &[SignedReport]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + reports.len() * 200);
    out.extend_from_slice(BATCH_MAGIC);
    out.push(BATCH_VERSION);
    for report in reports {
        let bytes = report.to_bytes();
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

/// Decodes a binary batch into one outcome per framed report, in order. A
/// frame that does not decode is `Malformed` and the next frame is read; a
/// frame cut short ends the batch with `Truncated`.
pub fn decode_batch(bytes: &[u8]) -> Result<Vec<Result<SignedReport, Rejection>>, BatchError> {
    let rest = bytes
        .strip_prefix(BATCH_MAGIC.as_slice())
        .and_then(|r| r.strip_prefix(&[BATCH_VERSION]))
        .ok_or(BatchError::Header)?;
    let mut outcomes = Vec::new();
    let mut at = 0usize;
    while at < rest.len() {
        let Some(length) = rest.get(at..at + 4) else {
            outcomes.push(Err(Rejection::Truncated));
            break;
        };
        let length = u32::from_le_bytes(length.try_into().expect("4 bytes")) as usize;
        at += 4;
        let Some(frame) = at.checked_add(length).and_then(|end| rest.get(at..end)) else {
            outcomes.push(Err(Rejection::Truncated));
            break;
        };
        at += length;
        outcomes.push(SignedReport::from_bytes(frame));
    }
    Ok(outcomes)
}

/// Decodes a JSON array of reports into one outcome per element, in order.
pub fn decode_json_batch(bytes: &[u8]) -> Result<Vec<Result<SignedReport, Rejection>>, BatchError> {
    let values: Vec<serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|e| BatchError::Json(e.to_string()))?;
    Ok(values.into_iter().map(SignedReport::from_json).collect())
}
