//! End-to-end: the built `depin` binary against a localnet on a free port (one
//! per test), each command's happy path, its error messages and exit codes, and
//! the shapes of `--output json` (snapshots in tests/snapshots;
//! `UPDATE_SNAPSHOTS=1` rewrites them).

mod common;
mod compute_jobs;
mod data_transfer;
mod demo;
mod devices;
mod errors;
mod faults;
mod help;
mod localnet;
mod map;
mod network;
mod oracle_daemon;
mod payments;
mod rewards;
mod storage;
mod storage_node;
mod storage_paid;
mod wallet;
