//! Test support for depinkit's native program tests: a `ProgramTest` bank with
//! every depinkit program loaded as a builtin, plus small helpers (funded
//! wallets, mints, clock warps, sending transactions, decoding Anchor errors).

pub mod harness;
pub mod payments;
pub mod pool;
pub mod programs;
pub mod registry;

pub use harness::Harness;
