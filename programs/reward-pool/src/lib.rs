//! depinkit reward pool: how devices get paid.
//!
//! Each epoch the network's oracles agree, by an M-of-N vote, on one merkle root
//! of every device's cumulative reward ([`instructions::vote_epoch_root`]).
//! Anyone may then claim a device's due with a proof ([`instructions::claim`]);
//! it is paid to whoever holds the device NFT. The cost is a constant number of
//! transactions per epoch, however many devices there are.
//!
//! The merkle hashing in [`merkle`] is the only implementation: the oracle and
//! the SDK build trees with it (feature `merkle-tree`).

use anchor_lang::prelude::*;

pub mod errors;
pub mod events;
pub mod instructions;
pub mod merkle;
pub mod pda;
pub mod state;

use instructions::*;
use state::FundingKind;

declare_id!("95S3JyaUCYKqbCFGjTLFLC2CB9AAC4nTxexesa39NFFf");

// Who to tell about a vulnerability, readable from the deployed program
// (explorers show it). Left out of builds linked into other programs.
#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "depinkit reward pool",
    project_url: "https://github.com/depinkit/depinkit",
    contacts: "link:https://github.com/depinkit/depinkit/security/advisories/new",
    policy: "https://github.com/depinkit/depinkit#security",
    preferred_languages: "en",
    source_code: "https://github.com/depinkit/depinkit/tree/main/programs/reward-pool"
}

/// Instructions of the reward pool; each one is documented in its module.
#[program]
pub mod reward_pool {
    use super::*;

    /// Opens a network's reward pool (network authority).
    pub fn create_pool(ctx: Context<CreatePool>, args: CreatePoolArgs) -> Result<()> {
        instructions::create_pool::handler(ctx, args)
    }

    /// Deposits reward tokens as emission backing or service revenue (anyone).
    pub fn fund_pool(ctx: Context<FundPool>, amount: u64, kind: FundingKind) -> Result<()> {
        instructions::fund_pool::handler(ctx, amount, kind)
    }

    /// Votes an ended epoch's cumulative reward root (an oracle of the network).
    pub fn vote_epoch_root(ctx: Context<VoteEpochRoot>, args: VoteEpochRootArgs) -> Result<()> {
        instructions::vote_epoch_root::handler(ctx, args)
    }

    /// Creates a device's claim record (anyone, once per device).
    pub fn init_claim_record(ctx: Context<InitClaimRecord>) -> Result<()> {
        instructions::claim::init_handler(ctx)
    }

    /// Registers the pool's frozen claim lookup table (anyone; it is checked).
    pub fn set_claim_lookup_table(ctx: Context<SetClaimLookupTable>) -> Result<()> {
        instructions::set_claim_lookup_table::handler(ctx)
    }

    /// Pays a device's due to the NFT holder, with a merkle proof (anyone).
    pub fn claim(ctx: Context<Claim>, args: ClaimArgs) -> Result<()> {
        instructions::claim::handler(ctx, args)
    }
}
