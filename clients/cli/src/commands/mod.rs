//! One module per command group.

pub mod device;
pub mod localnet;
pub mod maker;
pub mod network;
