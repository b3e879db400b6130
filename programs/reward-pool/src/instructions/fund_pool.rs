//! `fund_pool`: anyone deposits reward tokens; the pool counts them as emission
//! backing or as service revenue (the payments program routes revenue here).

use crate::{
    errors::PoolError,
    events::PoolFunded,
    state::{FundingKind, Pool},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

/// Accounts of `fund_pool`.
#[event_cpi]
#[derive(Accounts)]
pub struct FundPool<'info> {
    /// Owner (or delegate) of the source account.
    pub funder: Signer<'info>,
    /// The pool.
    #[account(mut, has_one = vault, has_one = reward_mint, has_one = reward_token_program)]
    pub pool: Box<Account<'info, Pool>>,
    /// The reward mint.
    pub reward_mint: Box<InterfaceAccount<'info, Mint>>,
    /// Source of the tokens.
    #[account(mut, token::mint = reward_mint)]
    pub funder_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The pool's vault.
    #[account(mut)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the reward mint.
    pub reward_token_program: Interface<'info, TokenInterface>,
}

/// Moves `amount` into the vault and records it.
///
/// CHECK: amount > 0; vault, mint and token program are the pool's; the token
/// program checks the funder may spend the source.
pub fn handler(ctx: Context<FundPool>, amount: u64, kind: FundingKind) -> Result<()> {
    require!(amount > 0, PoolError::ZeroAmount);
    token_interface::transfer_checked(
        CpiContext::new(
            ctx.accounts.reward_token_program.key(),
            TransferChecked {
                from: ctx.accounts.funder_account.to_account_info(),
                mint: ctx.accounts.reward_mint.to_account_info(),
                to: ctx.accounts.vault.to_account_info(),
                authority: ctx.accounts.funder.to_account_info(),
            },
        ),
        amount,
        ctx.accounts.reward_mint.decimals,
    )?;
    let pool = &mut ctx.accounts.pool;
    pool.total_inflow = pool
        .total_inflow
        .checked_add(amount)
        .ok_or(PoolError::ArithmeticOverflow)?;
    if kind == FundingKind::ServiceRevenue {
        pool.revenue_inflow = pool
            .revenue_inflow
            .checked_add(amount)
            .ok_or(PoolError::ArithmeticOverflow)?;
    }
    emit_cpi!(PoolFunded {
        pool: ctx.accounts.pool.key(),
        funder: ctx.accounts.funder.key(),
        amount,
        kind,
        total_inflow: ctx.accounts.pool.total_inflow,
    });
    Ok(())
}
