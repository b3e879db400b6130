//! Rust SDK for the depinkit programs: every instruction builder, account
//! fetching and decoding, event decoding, and a transaction sender for daemons
//! and the CLI.
//!
//! Everything is built on the program crates' own types (their Anchor client
//! structs, PDA seeds, signed messages and merkle hashing, re-exported here), so
//! the SDK cannot disagree with the programs. It is the one place off-chain code
//! builds depinkit instructions.
//!
//! ```
//! use depinkit_sdk::{registry, device_registry::{pda, state::MakerStatus}};
//! use solana_sdk::{pubkey::Pubkey, signature::{Keypair, Signer}};
//!
//! let authority = Keypair::new();
//! let (network, _) = pda::find_network_address(&authority.pubkey(), b"helium-iot");
//! let maker = pda::find_maker_address(&network, &Pubkey::new_unique()).0;
//! let ix = registry::set_maker_status(&authority.pubkey(), &network, &maker, MakerStatus::Approved);
//! assert_eq!(ix.program_id, device_registry::ID);
//! ```

pub mod accounts;
pub mod errors;
pub mod events;
pub mod idl;
pub mod payments;
pub mod pool;
pub mod proofs;
pub mod registry;
pub mod sender;
pub mod settle;
pub mod tokens;

pub use device_registry;
pub use errors::SdkError;
pub use reward_pool;
pub use service_payments;

use anchor_lang::{InstructionData, ToAccountMetas};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

/// An instruction from a program's generated Anchor `accounts` and `instruction` types.
pub fn anchor_ix(
    program_id: Pubkey,
    accounts: impl ToAccountMetas,
    data: impl InstructionData,
) -> Instruction {
    Instruction {
        program_id,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// Associated token account of `owner` for `mint` under `token_program`.
pub fn ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
        owner,
        mint,
        token_program,
    )
}
