//! Instructions of the reward pool.

use crate::{anchor_ix, ata};
use anchor_lang::system_program;
use reward_pool::{
    accounts, instruction,
    instructions::{ClaimArgs, CreatePoolArgs, VoteEpochRootArgs},
    merkle::{Hash32, RewardTree},
    pda,
    state::FundingKind,
};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

/// The addresses of a network's pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolKeys {
    /// The pool PDA.
    pub pool: Pubkey,
    /// Its vault (the pool's associated token account).
    pub vault: Pubkey,
    /// The reward mint.
    pub reward_mint: Pubkey,
    /// Token program of the reward mint.
    pub reward_token_program: Pubkey,
}

impl PoolKeys {
    /// The pool of `network` paying in `reward_mint` under `reward_token_program`.
    pub fn new(network: &Pubkey, reward_mint: &Pubkey, reward_token_program: &Pubkey) -> Self {
        let pool = pda::find_pool_address(network).0;
        Self {
            pool,
            vault: ata(&pool, reward_mint, reward_token_program),
            reward_mint: *reward_mint,
            reward_token_program: *reward_token_program,
        }
    }
}

/// `create_pool`, signed by the network authority.
pub fn create_pool(
    authority: &Pubkey,
    network: &Pubkey,
    keys: &PoolKeys,
    args: CreatePoolArgs,
) -> Instruction {
    anchor_ix(
        reward_pool::ID,
        accounts::CreatePool {
            authority: *authority,
            network: *network,
            pool: keys.pool,
            reward_mint: keys.reward_mint,
            vault: keys.vault,
            reward_token_program: keys.reward_token_program,
            associated_token_program: anchor_spl::associated_token::ID,
            system_program: system_program::ID,
            event_authority: reward_pool::EVENT_AUTHORITY_AND_BUMP.0,
            program: reward_pool::ID,
        },
        instruction::CreatePool { args },
    )
}

/// `fund_pool` from `funder`'s token account `from`.
pub fn fund_pool(
    funder: &Pubkey,
    keys: &PoolKeys,
    from: &Pubkey,
    amount: u64,
    kind: FundingKind,
) -> Instruction {
    anchor_ix(
        reward_pool::ID,
        accounts::FundPool {
            funder: *funder,
            pool: keys.pool,
            reward_mint: keys.reward_mint,
            funder_account: *from,
            vault: keys.vault,
            reward_token_program: keys.reward_token_program,
            event_authority: reward_pool::EVENT_AUTHORITY_AND_BUMP.0,
            program: reward_pool::ID,
        },
        instruction::FundPool { amount, kind },
    )
}

/// `vote_epoch_root`, signed by an oracle of the network.
pub fn vote_epoch_root(
    oracle: &Pubkey,
    network: &Pubkey,
    pool: &Pubkey,
    args: VoteEpochRootArgs,
) -> Instruction {
    anchor_ix(
        reward_pool::ID,
        accounts::VoteEpochRoot {
            oracle: *oracle,
            network: *network,
            pool: *pool,
            event_authority: reward_pool::EVENT_AUTHORITY_AND_BUMP.0,
            program: reward_pool::ID,
        },
        instruction::VoteEpochRoot { args },
    )
}

/// What a vote attests for `epoch` when the oracle built `tree`.
pub fn epoch_root_vote(epoch: u32, tree: &RewardTree) -> VoteEpochRootArgs {
    VoteEpochRootArgs {
        epoch,
        root: tree.root(),
        total: tree.total(),
        leaf_count: tree.len() as u64,
    }
}

/// `init_claim_record` for a device (its registry address and NFT mint).
pub fn init_claim_record(
    payer: &Pubkey,
    pool: &Pubkey,
    device: &Pubkey,
    device_mint: &Pubkey,
) -> Instruction {
    anchor_ix(
        reward_pool::ID,
        accounts::InitClaimRecord {
            payer: *payer,
            pool: *pool,
            device: *device,
            claim_record: pda::find_claim_record_address(pool, device_mint).0,
            system_program: system_program::ID,
        },
        instruction::InitClaimRecord {},
    )
}

/// The accounts naming who a claim pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClaimAccounts {
    /// The device (registry address).
    pub device: Pubkey,
    /// The device NFT mint (the leaf key).
    pub device_mint: Pubkey,
    /// The token account holding the NFT now.
    pub holder_nft_account: Pubkey,
    /// The holder's associated token account for the reward mint.
    pub holder_reward_account: Pubkey,
}

impl ClaimAccounts {
    /// The accounts when `holder` keeps the NFT in their associated account.
    pub fn for_holder(
        keys: &PoolKeys,
        device: &Pubkey,
        device_mint: &Pubkey,
        holder: &Pubkey,
    ) -> Self {
        Self {
            device: *device,
            device_mint: *device_mint,
            holder_nft_account: ata(holder, device_mint, &anchor_spl::token_2022::ID),
            holder_reward_account: ata(holder, &keys.reward_mint, &keys.reward_token_program),
        }
    }
}

/// `claim` of `cumulative_amount` with its merkle `proof` (anyone may send it).
pub fn claim(
    keys: &PoolKeys,
    accounts_: ClaimAccounts,
    cumulative_amount: u64,
    proof: Vec<Hash32>,
) -> Instruction {
    anchor_ix(
        reward_pool::ID,
        accounts::Claim {
            pool: keys.pool,
            vault: keys.vault,
            reward_mint: keys.reward_mint,
            device: accounts_.device,
            holder_nft_account: accounts_.holder_nft_account,
            holder_reward_account: accounts_.holder_reward_account,
            claim_record: pda::find_claim_record_address(&keys.pool, &accounts_.device_mint).0,
            reward_token_program: keys.reward_token_program,
            event_authority: reward_pool::EVENT_AUTHORITY_AND_BUMP.0,
            program: reward_pool::ID,
        },
        instruction::Claim {
            args: ClaimArgs {
                cumulative_amount,
                proof,
            },
        },
    )
}

/// What a first claim needs created before it, paid by `payer`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClaimSetup {
    /// The holder's reward ATA is missing: create it (idempotent).
    pub create_reward_account: bool,
    /// The device's claim record is missing: create it.
    pub create_claim_record: bool,
}

/// The claim and, before it, the setup it needs. `holder` is the NFT holder
/// (owner of the reward ATA). At depth 24 a first claim does not fit one
/// transaction: send the setup instructions first, then the claim.
pub fn claim_with_setup(
    payer: &Pubkey,
    holder: &Pubkey,
    keys: &PoolKeys,
    accounts_: ClaimAccounts,
    setup: ClaimSetup,
    cumulative_amount: u64,
    proof: Vec<Hash32>,
) -> Vec<Instruction> {
    let mut instructions = Vec::new();
    if setup.create_reward_account {
        instructions.push(
            spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                payer,
                holder,
                &keys.reward_mint,
                &keys.reward_token_program,
            ),
        );
    }
    if setup.create_claim_record {
        instructions.push(init_claim_record(
            payer,
            &keys.pool,
            &accounts_.device,
            &accounts_.device_mint,
        ));
    }
    instructions.push(claim(keys, accounts_, cumulative_amount, proof));
    instructions
}
