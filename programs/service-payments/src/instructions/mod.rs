//! One module per instruction (or per pair of instructions that belong
//! together): its arguments, its accounts and its handler.

pub mod accept_order;
pub mod burn_usage;
pub mod buy_credits;
pub mod cancel_order;
pub mod close_usage;
pub mod delegate_credits;
pub mod extend_order;
pub mod init_payments;
pub mod open_order;
pub mod update_payments;
pub mod vote_price;
pub mod vote_settlement;
pub mod withdraw_credits;

// Anchor's `#[program]` needs each `Accounts` struct (and the client modules it
// generates) at the crate root; the `handler`s stay reachable by module path.
#[allow(ambiguous_glob_reexports)]
pub use accept_order::*;
pub use burn_usage::*;
pub use buy_credits::*;
pub use cancel_order::*;
pub use close_usage::*;
pub use delegate_credits::*;
#[allow(ambiguous_glob_reexports)]
pub use extend_order::*;
pub use init_payments::*;
pub use open_order::*;
pub use update_payments::*;
pub use vote_price::*;
pub use vote_settlement::*;
pub use withdraw_credits::*;
