//! One module per command group. A command file holds its clap definitions,
//! its flow and its output; chain reads live in the SDK, and no command
//! imports another.

pub mod config;
pub mod credits;
pub mod demo;
pub mod device;
pub mod localnet;
pub mod maker;
pub mod map;
pub mod network;
pub mod oracle;
pub mod order;
pub mod payments;
pub mod pool;
pub mod rewards;
pub mod storage;
pub mod token;
pub mod wallet;
