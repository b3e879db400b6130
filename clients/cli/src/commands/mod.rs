//! One module per command group.

pub mod credits;
pub mod device;
pub mod localnet;
pub mod maker;
pub mod network;
pub mod oracle;
pub mod order;
pub mod pool;
pub mod rewards;
