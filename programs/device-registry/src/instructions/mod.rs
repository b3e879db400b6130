//! One module per instruction: its arguments, its accounts and its handler.

pub mod assert_location;
pub mod create_network;
pub mod network_authority;
pub mod onboard_device;
pub mod register_maker;
pub mod set_status;
pub mod update_network;

// Anchor's `#[program]` needs each `Accounts` struct (and the client modules it
// generates) at the crate root; the `handler`s stay reachable by module path.

#[allow(ambiguous_glob_reexports)]
pub use assert_location::*;
pub use create_network::*;
pub use network_authority::*;
pub use onboard_device::*;
pub use register_maker::*;
pub use set_status::*;
pub use update_network::*;
