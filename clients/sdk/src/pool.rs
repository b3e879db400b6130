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
use solana_address_lookup_table_interface::instruction as lookup_table;
use solana_sdk::{instruction::Instruction, message::AddressLookupTableAccount, pubkey::Pubkey};

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

/// The accounts a claim lookup table of the pool holds (the program's
/// `claim_table_addresses`, the one definition).
pub fn claim_table_addresses(keys: &PoolKeys) -> [Pubkey; 6] {
    reward_pool::state::claim_table_addresses(
        &keys.pool,
        &keys.vault,
        &keys.reward_mint,
        &keys.reward_token_program,
    )
}

/// `set_claim_lookup_table`: registers `table` for the pool (anyone; the
/// program checks it is frozen and holds exactly the pool's claim accounts).
pub fn set_claim_lookup_table(keys: &PoolKeys, table: &Pubkey) -> Instruction {
    anchor_ix(
        reward_pool::ID,
        accounts::SetClaimLookupTable {
            pool: keys.pool,
            lookup_table: *table,
            event_authority: reward_pool::EVENT_AUTHORITY_AND_BUMP.0,
            program: reward_pool::ID,
        },
        instruction::SetClaimLookupTable {},
    )
}

/// Creates, fills and freezes a claim lookup table for the pool, and registers
/// it: one transaction, paid by `payer` (about 0.003 SOL of rent, kept by the
/// frozen table). `recent_slot` is a recently rooted slot (the lookup table
/// program derives the address from it). Returns the table's address.
pub fn claim_lookup_table_setup(
    payer: &Pubkey,
    keys: &PoolKeys,
    recent_slot: u64,
) -> (Pubkey, Vec<Instruction>) {
    let (create, table) = lookup_table::create_lookup_table(*payer, *payer, recent_slot);
    let extend = lookup_table::extend_lookup_table(
        table,
        *payer,
        Some(*payer),
        claim_table_addresses(keys).to_vec(),
    );
    let freeze = lookup_table::freeze_lookup_table(table, *payer);
    let register = set_claim_lookup_table(keys, &table);
    (table, vec![create, extend, freeze, register])
}

/// The pool's claim lookup table as a transaction compiler needs it (its
/// contents are known: the program checked them when it was registered).
pub fn claim_lookup_table(table: &Pubkey, keys: &PoolKeys) -> AddressLookupTableAccount {
    AddressLookupTableAccount {
        key: *table,
        addresses: claim_table_addresses(keys).to_vec(),
    }
}

/// Deepest proof whose claim still fits one packet together with its setup, as
/// a v0 transaction with the pool's claim lookup table and the sender's
/// priority-fee instructions (measured in `tests/.../claim_size.rs`).
pub const MAX_PROOF_WITH_SETUP_V0: usize = 22;
/// The same as a legacy transaction without priority-fee instructions.
pub const MAX_PROOF_WITH_SETUP_LEGACY: usize = 19;

/// The transactions (their instructions, in order) that pay a claim: the claim
/// with its setup in one, or, when the proof is too deep for both to fit one
/// packet, the setup first and the claim after. `with_lookup_table` says the
/// claim goes as a v0 transaction with the pool's [`claim_lookup_table`].
#[allow(clippy::too_many_arguments)]
pub fn claim_transactions(
    payer: &Pubkey,
    holder: &Pubkey,
    keys: &PoolKeys,
    accounts_: ClaimAccounts,
    setup: ClaimSetup,
    cumulative_amount: u64,
    proof: Vec<Hash32>,
    with_lookup_table: bool,
) -> Vec<Vec<Instruction>> {
    let limit = if with_lookup_table {
        MAX_PROOF_WITH_SETUP_V0
    } else {
        MAX_PROOF_WITH_SETUP_LEGACY
    };
    let deep = proof.len() > limit;
    let mut all = claim_with_setup(
        payer,
        holder,
        keys,
        accounts_,
        setup,
        cumulative_amount,
        proof,
    );
    if deep && all.len() > 1 {
        let claim = all.pop().expect("the claim is last");
        vec![all, vec![claim]]
    } else {
        vec![all]
    }
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
/// (owner of the reward ATA). Sent as a v0 transaction with the pool's
/// [`claim_lookup_table`] and priority-fee instructions, a claim fits one
/// packet up to 24 hashes, and with its setup up to 22; a legacy one with its
/// setup only up to 19. Deeper, send the setup first, then the claim.
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
