//! `create_pool`: the network authority opens the network's reward pool.

use crate::{
    errors::PoolError,
    events::PoolCreated,
    pda::POOL_SEED,
    state::{ACCOUNT_VERSION, BPS, EmissionSchedule, MAX_EPOCH_LENGTH_SECS, Pool},
};
use anchor_lang::prelude::*;
use anchor_spl::{
    associated_token::AssociatedToken,
    token_interface::{Mint, TokenAccount, TokenInterface},
};
use device_registry::{
    state::Network,
    token_safety::{is_controlled_custody, is_safe_mint},
};

/// Arguments of `create_pool`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreatePoolArgs {
    /// Unix time epoch 0 starts: at most one epoch in the past (so ended epochs
    /// cannot be finalized back to back) and at most 366 days ahead.
    pub start_time: i64,
    /// Seconds per epoch (1 to 366 days).
    pub epoch_length_secs: i64,
    /// Emission schedule.
    pub schedule: EmissionSchedule,
}

/// Accounts of `create_pool`.
#[event_cpi]
#[derive(Accounts)]
pub struct CreatePool<'info> {
    /// The network authority; pays rent.
    #[account(mut)]
    pub authority: Signer<'info>,
    /// The network the pool pays (owned by the device registry).
    #[account(has_one = authority @ PoolError::NotNetworkAuthority)]
    pub network: Box<Account<'info, Network>>,
    /// The new pool, one per network.
    #[account(
        init,
        payer = authority,
        space = 8 + Pool::INIT_SPACE,
        seeds = [POOL_SEED, network.key().as_ref()],
        bump,
    )]
    pub pool: Box<Account<'info, Pool>>,
    /// The network's reward mint, without extensions that can move, withhold or
    /// lock funds.
    #[account(
        address = network.reward_mint @ PoolError::WrongRewardMint,
        mint::token_program = reward_token_program,
        constraint = is_safe_mint(&reward_mint) @ PoolError::UnsupportedMint,
    )]
    pub reward_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The pool's associated token account for the reward mint, owned by the
    /// pool PDA. Anyone can create that address first, so an existing one is
    /// used when the pool fully controls it (no delegate, no close authority,
    /// not frozen); tokens already in it are never counted as inflow.
    #[account(
        init_if_needed,
        payer = authority,
        associated_token::mint = reward_mint,
        associated_token::authority = pool,
        associated_token::token_program = reward_token_program,
        constraint = is_controlled_custody(&vault, &reward_mint.key(), &pool.key())
            @ PoolError::VaultNotControlled,
    )]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the reward mint.
    pub reward_token_program: Interface<'info, TokenInterface>,
    /// Associated Token program.
    pub associated_token_program: Program<'info, AssociatedToken>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Creates the pool.
///
/// CHECK: signer is the network authority; the mint is the network's reward
/// mint under the given token program, with descriptive extensions only; a
/// vault already at its address is fully controlled by the pool; epoch length
/// within bounds; the network's oracle-change delay is at least one epoch (an
/// oracle-set change is on chain for a whole epoch before it votes); start
/// time near the present; the schedule never grows (retain <= 10,000 bps) and
/// decays only with an interval.
pub fn handler(ctx: Context<CreatePool>, args: CreatePoolArgs) -> Result<()> {
    require!(
        args.epoch_length_secs > 0 && args.epoch_length_secs <= MAX_EPOCH_LENGTH_SECS,
        PoolError::InvalidEpochLength
    );
    require!(
        ctx.accounts.network.oracle_change_delay_secs >= args.epoch_length_secs,
        PoolError::OracleChangeDelayTooShort
    );
    let now = Clock::get()?.unix_timestamp;
    require!(
        args.start_time >= now.saturating_sub(args.epoch_length_secs)
            && args.start_time <= now.saturating_add(MAX_EPOCH_LENGTH_SECS),
        PoolError::InvalidStartTime
    );
    let schedule = args.schedule;
    require!(
        u64::from(schedule.retain_bps) <= BPS
            && (schedule.decay_interval_epochs != 0 || u64::from(schedule.retain_bps) == BPS),
        PoolError::InvalidSchedule
    );
    let pool = Pool {
        version: ACCOUNT_VERSION,
        bump: ctx.bumps.pool,
        network: ctx.accounts.network.key(),
        reward_mint: ctx.accounts.reward_mint.key(),
        reward_token_program: ctx.accounts.reward_token_program.key(),
        vault: ctx.accounts.vault.key(),
        start_time: args.start_time,
        epoch_length_secs: args.epoch_length_secs,
        schedule,
        next_epoch: 0,
        next_epoch_emission: schedule.initial_per_epoch,
        scheduled_to_date: 0,
        total_inflow: 0,
        revenue_inflow: 0,
        total_claimed: 0,
        root: [0; 32],
        root_total: 0,
        root_leaf_count: 0,
        root_finalized_at: 0,
        votes: Vec::new(),
        claim_lookup_table: Pubkey::default(),
    };
    // The last epoch's end must be representable: every later check relies on it.
    pool.epoch_end(u32::MAX)
        .ok_or(PoolError::ArithmeticOverflow)?;
    ctx.accounts.pool.set_inner(pool);
    let pool = &ctx.accounts.pool;
    emit_cpi!(PoolCreated {
        pool: pool.key(),
        network: pool.network,
        reward_mint: pool.reward_mint,
        vault: pool.vault,
        start_time: pool.start_time,
        epoch_length_secs: pool.epoch_length_secs,
        schedule: pool.schedule,
    });
    Ok(())
}
