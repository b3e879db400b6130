//! The workspace's integration tests, one module per subject, linked into one
//! binary: each test binary carries the whole Solana runtime, so one binary
//! builds and links once instead of once per file.
//!
//! `cargo test -p depinkit-tests --test integration <module>::` runs one subject,
//! e.g. `cargo test -p depinkit-tests --test integration orders::`.

mod claim_size;
mod credits;
mod demo;
mod job_market;
mod localnet_rpc;
mod location;
mod network;
mod onboarding;
mod oracle;
mod oracle_fleet;
mod oracle_follow;
mod oracle_services;
mod orders;
mod reward_pool;
