//! depinkit-storage: the customer's side of the storage category. A file is
//! encrypted under a key of its own, erasure-coded into `k` data and `m`
//! parity shards, and each shard becomes one storage deal with one provider,
//! committing to the shard's storage tree (`depinkit_reports::storage`, the
//! tree the oracle checks proofs against). Any `k` shards that match their
//! roots give the file back.

pub mod seal;

pub use seal::{
    Layout, SealError, SealedFile, Timings, open, rebuild, seal, seal_with, shard_matches,
};
pub mod manifest;

pub use manifest::{Manifest, ManifestError, ShardPlacement};
pub mod nodes;
