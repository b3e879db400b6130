//! The device side of depinkit: what runs on (or plays) the hardware of a
//! network. Device keys ([`keys`]) in the Solana keypair file format;
//! signed reports for each category, made the way the devices make them
//! ([`dashcam`] tracks with frames, [`hotspot`] beacons carrying an oracle's
//! entropy and witnesses with physically possible signal strengths, [`gpu`]
//! answers to compute challenges with real matrix products, and receipts,
//! [`storage`] answers to storage challenges with real leaves and paths); a
//! [`fleet`] simulator that plays many devices, each honest unless told one
//! of the cheats the oracle's rules must refuse; and a [`client`] for an
//! oracle's API. Tests, the demo and the benchmarks use it, and
//! `depin-device` runs it from the command line.
//!
//! It depends on `depinkit-reports` alone of the project (no Solana crates):
//! a device needs its key and the report formats, nothing of the chain.

pub mod client;
#[cfg(feature = "node")]
pub mod compute_node;
pub mod dashcam;
pub mod fleet;
pub mod gpu;
pub mod hotspot;
pub mod job_client;
pub mod keys;
#[cfg(feature = "node")]
pub mod node;
pub mod shards;
pub mod sim;
pub mod storage;

pub use client::{ClientError, OracleClient};
pub use fleet::{Category, Cheat, Fleet, layout};
pub use keys::DeviceKey;
pub use sim::Position;
