//! One module per instruction: its arguments, its accounts and its handler.

pub mod claim;
pub mod create_pool;
pub mod fund_pool;
pub mod set_claim_lookup_table;
pub mod vote_epoch_root;

// Anchor's `#[program]` needs each `Accounts` struct (and the client modules it
// generates) at the crate root; the `handler`s stay reachable by module path.
#[allow(ambiguous_glob_reexports)]
pub use claim::*;
pub use create_pool::*;
pub use fund_pool::*;
pub use set_claim_lookup_table::*;
pub use vote_epoch_root::*;
