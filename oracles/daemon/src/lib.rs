//! The depinkit oracle (`depin-oracle`): it authenticates device reports
//! against the chain's device registry, keeps them, closes epochs into reward
//! roots and votes them (DESIGN.md, "The oracle").
//!
//! Built in layers: [`config`] is what the operator sets; [`chain`] is the one
//! boundary to Solana (the SDK over RPC, or a double in logic tests);
//! [`registry`] is the oracle's view of the network's devices, which every
//! report is checked against; [`screen`] decides each report of a batch
//! before it is stored; [`rewards`] turns an epoch's scores into cumulative
//! totals and the tree whose root is voted; [`store`] keeps accepted reports
//! and epoch progress (SQLite or PostgreSQL); [`ingest`] takes a batch from
//! bytes to verdicts and [`server`] serves it over HTTP; [`epoch`] closes
//! epochs, pulls peers' reports ([`exchange`]), scores them with a
//! [`verifier`] and votes their roots, and [`api`] serves what came of them; [`check`] tells an
//! operator whether a configuration can run; [`daemon`] runs it all. Each
//! epoch's [`bundle`] lets anyone recompute its root ([`verify_epoch`]);
//! [`price`] votes the token's price for credits; [`events`] follows the
//! programs' events so the oracle's views change when the chain does; the
//! [`crank`] claims for devices.

pub mod api;
pub mod bundle;
pub mod chain;
pub mod challenges;
pub mod check;
pub mod config;
pub mod crank;
pub mod daemon;
pub mod dashboard;
pub mod deals;
pub mod entropy;
pub mod epoch;
pub mod events;
pub mod exchange;
pub mod ingest;
pub mod map;
pub mod price;
pub mod providers;
pub mod registry;
pub mod rewards;
pub mod screen;
pub mod server;
pub mod settle;
pub mod store;
pub mod verifier;
pub mod verify_epoch;
