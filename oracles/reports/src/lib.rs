//! What devices report to depinkit oracles, in one definition the device side
//! and every oracle share (RULES.md says what each kind is checked for).
//!
//! A [`Report`] names its network, its device key, a timestamp and a
//! kind-specific [`Body`]. The device signs [`Report::message`]: a domain tag,
//! the encoding version, the kind, then the report in borsh, network first; a
//! second party signs the same bytes for kinds it accepts (a customer's data
//! transfer, a client's GPU receipt). [`Report::content_hash`] is the report's
//! identity for de-duplication.
//!
//! On the wire a batch is binary ([`encode_batch`], framed so one bad report
//! does not lose the rest) or a JSON array; [`verify_signatures`] checks all
//! signatures of a batch at once. [`Rejection`] gives every refusal a stable code.
//!
//! ```
//! use depinkit_reports::{Body, Key, MapTrack, GnssFix, Hash32, Report, verify_signatures};
//! use ed25519_dalek::SigningKey;
//!
//! let device = SigningKey::from_bytes(&[7; 32]);
//! let report = Report {
//!     network: Key([1; 32]),
//!     device: Key(device.verifying_key().to_bytes()),
//!     timestamp_ms: 1_767_225_600_000,
//!     body: Body::MapTrack(MapTrack {
//!         fixes: vec![GnssFix {
//!             timestamp_ms: 1_767_225_600_000,
//!             lat_e7: 377_749_000,
//!             lon_e7: -1_224_194_000,
//!             fix_quality: 1,
//!             satellites: 9,
//!             frame_hash: Hash32::sha256(b"frame"),
//!         }],
//!     }),
//! }
//! .sign(&device);
//! let batch = depinkit_reports::encode_batch(&[report.clone()]);
//! let decoded = depinkit_reports::decode_batch(&batch).unwrap();
//! assert_eq!(decoded, vec![Ok(report.clone())]);
//! assert_eq!(verify_signatures(&[report]), vec![Ok(())]);
//! ```

mod answer;
mod compute;
mod entropy;
pub mod job;
mod key;
mod kinds;
pub mod provider;
mod reject;
mod report;
pub mod request;
pub mod storage;
pub mod usage;
mod verify;
mod wire;

pub use answer::{BatchAnswer, Verdict};
pub use compute::{
    CHALLENGE_DOMAIN, ComputeAnswer, ComputeChallenge, FIELD_PRIME, MAX_CHALLENGE_SIZE,
    challenge_matrices, freivalds_mismatch, mat_vec, multiply,
};
pub use entropy::{ENTROPY_DOMAIN, Entropy};
pub use key::{Hash32, Key, ParseError, Sig};
pub use kinds::{
    Beacon, Body, DataTransfer, GnssFix, GpuReceipt, Kind, MAX_BEACON_PAYLOAD, MAX_GPU_CLASS,
    MAX_STORAGE_LEAF, MAX_STORAGE_PATH, MAX_TRACK_FIXES, MapTrack, StorageProof, Witness,
};
pub use reject::Rejection;
pub use report::{ENCODING_VERSION, MAX_REPORT_BYTES, REPORT_DOMAIN, Report, SignedReport};
pub use storage::{DealSpec, StorageTree};
pub use verify::verify_signatures;
pub use wire::{
    BATCH_MAGIC, BATCH_VERSION, BINARY_CONTENT_TYPE, BatchError, decode_batch, decode_json_batch,
    encode_batch,
};
