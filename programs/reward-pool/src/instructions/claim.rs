//! `init_claim_record` and `claim`: anyone pays a device its due, with a merkle
//! proof against the pool's root, to whoever holds the device NFT now.
//!
//! The claim instruction names only the accounts it must read or write (eight,
//! and the two of its event), so that a claim with a deep proof fits one
//! packet (a legacy transaction up to 23 hashes, 8.4 M devices). The one-time
//! setup (the claim record, the holder's reward token account) is a separate
//! instruction a client prepends when needed.

use crate::{
    errors::PoolError,
    events::ClaimPaid,
    merkle::{self, Hash32, MAX_PROOF_LEN},
    pda::{CLAIM_SEED, POOL_SEED},
    state::{ACCOUNT_VERSION, ClaimRecord, Pool},
};
use anchor_lang::prelude::*;
use anchor_spl::{
    associated_token::get_associated_token_address_with_program_id,
    token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked},
};
use device_registry::state::{Device, DeviceStatus};

/// Accounts of `init_claim_record`.
#[derive(Accounts)]
pub struct InitClaimRecord<'info> {
    /// Pays rent (anyone: the holder or a crank).
    #[account(mut)]
    pub payer: Signer<'info>,
    /// The pool.
    pub pool: Box<Account<'info, Pool>>,
    /// A device of the pool's network.
    #[account(constraint = device.network == pool.network @ PoolError::WrongNetwork)]
    pub device: Box<Account<'info, Device>>,
    /// The new claim record.
    #[account(
        init,
        payer = payer,
        space = 8 + ClaimRecord::INIT_SPACE,
        seeds = [CLAIM_SEED, pool.key().as_ref(), device.mint.as_ref()],
        bump,
    )]
    pub claim_record: Box<Account<'info, ClaimRecord>>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Creates a device's claim record with nothing claimed.
///
/// CHECK: the device is of the pool's network; one record per pool and device.
pub fn init_handler(ctx: Context<InitClaimRecord>) -> Result<()> {
    ctx.accounts.claim_record.set_inner(ClaimRecord {
        version: ACCOUNT_VERSION,
        bump: ctx.bumps.claim_record,
        pool: ctx.accounts.pool.key(),
        device_mint: ctx.accounts.device.mint,
        claimed: 0,
        last_claimed_at: 0,
    });
    Ok(())
}

/// Arguments of `claim`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ClaimArgs {
    /// The device's cumulative reward under the pool's root.
    pub cumulative_amount: u64,
    /// Sibling hashes from the leaf up (at most 24).
    pub proof: Vec<Hash32>,
}

/// Accounts of `claim`.
#[event_cpi]
#[derive(Accounts)]
pub struct Claim<'info> {
    /// The pool.
    #[account(mut, has_one = vault, has_one = reward_mint, has_one = reward_token_program)]
    pub pool: Box<Account<'info, Pool>>,
    /// The pool's vault, paying.
    #[account(mut)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The reward mint.
    pub reward_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The device claimed for; active and of the pool's network.
    #[account(
        constraint = device.network == pool.network @ PoolError::WrongNetwork,
        constraint = device.status == DeviceStatus::Active @ PoolError::DeviceSuspended,
    )]
    pub device: Box<Account<'info, Device>>,
    /// The token account holding the device NFT now; its owner is paid.
    #[account(
        constraint = device.is_held_in(&holder_nft_account, None) @ PoolError::NotDeviceHolder,
    )]
    pub holder_nft_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The NFT holder's associated token account for the reward mint (a client
    /// creates it first when missing).
    #[account(
        mut,
        address = get_associated_token_address_with_program_id(
            &holder_nft_account.owner,
            &pool.reward_mint,
            &pool.reward_token_program,
        ) @ PoolError::WrongRewardAccount,
    )]
    pub holder_reward_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// What this device has been paid.
    #[account(
        mut,
        seeds = [CLAIM_SEED, pool.key().as_ref(), device.mint.as_ref()],
        bump = claim_record.bump,
    )]
    pub claim_record: Box<Account<'info, ClaimRecord>>,
    /// Token program of the reward mint.
    pub reward_token_program: Interface<'info, TokenInterface>,
}

/// Pays the device's cumulative amount minus what it was already paid.
///
/// 1. Verifies the leaf (device mint, cumulative amount) against the pool root.
/// 2. Pays the difference, if any, from the vault to the NFT holder.
/// 3. Records the new claimed total.
///
/// CHECK: proof length; proof valid for this device's mint and amount; device
/// active and of the pool's network; the NFT account holds this device's NFT
/// ([`Device::is_held_in`]); the reward account is the holder's associated
/// token account of the reward mint; vault, mint and token program are the
/// pool's; everything ever claimed stays within the finalized root's total (so
/// the schedule cap holds whatever the leaves say); the vault holds enough.
pub fn handler(ctx: Context<Claim>, args: ClaimArgs) -> Result<()> {
    require!(args.proof.len() <= MAX_PROOF_LEN, PoolError::ProofTooLong);
    let pool = &ctx.accounts.pool;
    let leaf = merkle::leaf_hash(&ctx.accounts.device.mint, args.cumulative_amount);
    require!(
        merkle::verify(&args.proof, &pool.root, leaf),
        PoolError::InvalidProof
    );
    let due = args
        .cumulative_amount
        .saturating_sub(ctx.accounts.claim_record.claimed);
    if due == 0 {
        return Ok(());
    }
    let claimed_total = pool
        .total_claimed
        .checked_add(due)
        .ok_or(PoolError::ArithmeticOverflow)?;
    require!(
        claimed_total <= pool.root_total,
        PoolError::ClaimExceedsRootTotal
    );
    require!(
        ctx.accounts.vault.amount >= due,
        PoolError::VaultInsufficient
    );
    let network = pool.network;
    let bump = [pool.bump];
    let seeds: [&[u8]; 3] = [POOL_SEED, network.as_ref(), &bump];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            ctx.accounts.reward_token_program.key(),
            TransferChecked {
                from: ctx.accounts.vault.to_account_info(),
                mint: ctx.accounts.reward_mint.to_account_info(),
                to: ctx.accounts.holder_reward_account.to_account_info(),
                authority: ctx.accounts.pool.to_account_info(),
            },
            &[&seeds],
        ),
        due,
        ctx.accounts.reward_mint.decimals,
    )?;
    let record = &mut ctx.accounts.claim_record;
    record.claimed = args.cumulative_amount;
    record.last_claimed_at = Clock::get()?.unix_timestamp;
    ctx.accounts.pool.total_claimed = claimed_total;
    emit_cpi!(ClaimPaid {
        pool: ctx.accounts.pool.key(),
        device_mint: ctx.accounts.device.mint,
        holder: ctx.accounts.holder_nft_account.owner,
        amount: due,
        claimed: args.cumulative_amount,
    });
    Ok(())
}
