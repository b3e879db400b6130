//! `close_usage_report` and `close_epoch_usage`: once the reward pool has
//! finalized an epoch, its usage reports and usage total can change no more
//! (`burn_usage` refuses finalized epochs), so anyone may close them and their
//! rent goes back to the oracle that paid it. Usage stays on record in the
//! `UsageBurned` events and the epoch bundles.

use crate::{
    errors::PaymentError,
    state::{EpochUsage, UsageReport},
};
use anchor_lang::prelude::*;
use reward_pool::state::Pool;

/// Accounts of `close_usage_report`.
#[derive(Accounts)]
pub struct CloseUsageReport<'info> {
    /// The report, closed to its rent payer.
    #[account(
        mut,
        close = rent_payer,
        has_one = rent_payer @ PaymentError::WrongRentPayer,
    )]
    pub usage_report: Box<Account<'info, UsageReport>>,
    /// The report's network's reward pool.
    #[account(constraint = pool.network == usage_report.network @ PaymentError::WrongPool)]
    pub pool: Box<Account<'info, Pool>>,
    /// CHECK: the oracle that paid the rent (by `has_one`); receives it.
    #[account(mut)]
    pub rent_payer: UncheckedAccount<'info>,
}

/// Closes a usage report of a finalized epoch.
///
/// CHECK: the pool is the report's network's and has finalized the report's
/// epoch; the rent goes to the report's rent payer.
pub fn report_handler(ctx: Context<CloseUsageReport>) -> Result<()> {
    require!(
        ctx.accounts.usage_report.epoch < ctx.accounts.pool.next_epoch,
        PaymentError::EpochNotFinalized
    );
    Ok(())
}

/// Accounts of `close_epoch_usage`.
#[derive(Accounts)]
pub struct CloseEpochUsage<'info> {
    /// The usage total, closed to its rent payer.
    #[account(
        mut,
        close = rent_payer,
        has_one = rent_payer @ PaymentError::WrongRentPayer,
    )]
    pub epoch_usage: Box<Account<'info, EpochUsage>>,
    /// The network's reward pool.
    #[account(constraint = pool.network == epoch_usage.network @ PaymentError::WrongPool)]
    pub pool: Box<Account<'info, Pool>>,
    /// CHECK: the oracle that paid the rent (by `has_one`); receives it.
    #[account(mut)]
    pub rent_payer: UncheckedAccount<'info>,
}

/// Closes a network's usage total of a finalized epoch.
///
/// CHECK: the pool is the total's network's and has finalized its epoch; the
/// rent goes to its rent payer.
pub fn epoch_handler(ctx: Context<CloseEpochUsage>) -> Result<()> {
    require!(
        ctx.accounts.epoch_usage.epoch < ctx.accounts.pool.next_epoch,
        PaymentError::EpochNotFinalized
    );
    Ok(())
}
