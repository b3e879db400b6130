//! `request_credit_withdrawal` and `withdraw_credits`: a customer takes unused
//! credits back out of their usage escrow after the network's notice period,
//! during which the oracles can still attest and burn usage already served
//! (services stop serving an escrow once a withdrawal is requested: they see
//! the `CreditWithdrawalRequested` event). A request covers at most what the
//! escrow held when it was made, and lapses a day after its notice.
//!
//! Credits are non-transferable, so they move back by burn and mint: burned from
//! the escrow (signed by the escrow PDA) and minted to the customer by the
//! config PDA.

use crate::{
    credits::{burn_from_escrow, mint_credits},
    errors::PaymentError,
    events::{CreditWithdrawalRequested, CreditsWithdrawn},
    pda::USAGE_ESCROW_SEED,
    state::{PaymentsConfig, PendingWithdrawal, UsageEscrow, WITHDRAWAL_WINDOW_SECS},
};
use anchor_lang::prelude::*;
use anchor_spl::{
    associated_token::{AssociatedToken, get_associated_token_address_with_program_id},
    token_2022::{self, Token2022},
    token_interface::{Mint, TokenAccount},
};

/// Accounts of `request_credit_withdrawal`.
#[event_cpi]
#[derive(Accounts)]
pub struct RequestCreditWithdrawal<'info> {
    /// The customer.
    pub customer: Signer<'info>,
    /// The network's payments config (its notice period).
    #[account(has_one = credits_mint)]
    pub config: Box<Account<'info, PaymentsConfig>>,
    /// The customer's usage escrow on the config's network.
    #[account(
        mut,
        has_one = customer,
        seeds = [USAGE_ESCROW_SEED, config.network.as_ref(), customer.key().as_ref()],
        bump = usage_escrow.bump,
    )]
    pub usage_escrow: Box<Account<'info, UsageEscrow>>,
    /// The escrow's credits account (what it holds bounds the request).
    #[account(
        address = get_associated_token_address_with_program_id(
            &usage_escrow.key(),
            &credits_mint.key(),
            &token_2022::ID,
        ),
    )]
    pub escrow_credits: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The credits mint.
    pub credits_mint: Box<InterfaceAccount<'info, Mint>>,
}

/// Asks for `amount` unused credits back after the notice period (at most what
/// the escrow holds now); a new request replaces the last (its notice starts
/// again) and 0 withdraws the request.
///
/// CHECK: the customer signs and owns the escrow, which is the config
/// network's; the credits account is the escrow's.
pub fn request_handler(ctx: Context<RequestCreditWithdrawal>, amount: u64) -> Result<()> {
    let amount = amount.min(ctx.accounts.escrow_credits.amount);
    let now = Clock::get()?.unix_timestamp;
    let available_at = now
        .checked_add(ctx.accounts.config.withdrawal_notice_secs)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    let escrow = &mut ctx.accounts.usage_escrow;
    escrow.pending_withdrawal = (amount > 0).then_some(PendingWithdrawal {
        amount,
        available_at,
    });
    emit_cpi!(CreditWithdrawalRequested {
        network: ctx.accounts.config.network,
        customer: ctx.accounts.customer.key(),
        amount,
        available_at,
    });
    Ok(())
}

/// Accounts of `withdraw_credits`.
#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawCredits<'info> {
    /// The customer; pays for their credits account if it is missing.
    #[account(mut)]
    pub customer: Signer<'info>,
    /// The network's payments config (mint authority of the credits).
    #[account(has_one = credits_mint)]
    pub config: Box<Account<'info, PaymentsConfig>>,
    /// The customer's usage escrow on the config's network.
    #[account(
        mut,
        has_one = customer,
        seeds = [USAGE_ESCROW_SEED, config.network.as_ref(), customer.key().as_ref()],
        bump = usage_escrow.bump,
    )]
    pub usage_escrow: Box<Account<'info, UsageEscrow>>,
    /// The escrow's credits account.
    #[account(
        mut,
        address = get_associated_token_address_with_program_id(
            &usage_escrow.key(),
            &credits_mint.key(),
            &token_2022::ID,
        ),
    )]
    pub escrow_credits: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The credits mint.
    #[account(mut)]
    pub credits_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The customer's credits account (created if missing).
    #[account(
        init_if_needed,
        payer = customer,
        associated_token::mint = credits_mint,
        associated_token::authority = customer,
        associated_token::token_program = token_program,
    )]
    pub customer_credits: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token-2022.
    pub token_program: Program<'info, Token2022>,
    /// Associated Token program.
    pub associated_token_program: Program<'info, AssociatedToken>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Returns the requested credits, or what is left in escrow if less, to the
/// customer, and clears the request.
///
/// CHECK: a request exists, its notice has passed and it has not lapsed; the
/// customer owns the escrow; escrow account and mint are the config's.
pub fn withdraw_handler(ctx: Context<WithdrawCredits>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let request = ctx
        .accounts
        .usage_escrow
        .pending_withdrawal
        .ok_or(PaymentError::NoWithdrawalRequested)?;
    require!(
        now >= request.available_at,
        PaymentError::WithdrawalNotReady
    );
    let lapses_at = request
        .available_at
        .checked_add(WITHDRAWAL_WINDOW_SECS)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    require!(now <= lapses_at, PaymentError::WithdrawalExpired);
    let amount = request.amount.min(ctx.accounts.escrow_credits.amount);
    if amount > 0 {
        burn_from_escrow(
            &ctx.accounts.usage_escrow,
            &ctx.accounts.escrow_credits,
            &ctx.accounts.credits_mint,
            &ctx.accounts.token_program.to_account_info(),
            amount,
        )?;
        mint_credits(
            &ctx.accounts.config,
            &ctx.accounts.credits_mint,
            &ctx.accounts.customer_credits,
            &ctx.accounts.token_program.to_account_info(),
            amount,
        )?;
    }
    let escrow = &mut ctx.accounts.usage_escrow;
    escrow.pending_withdrawal = None;
    escrow.withdrawn = escrow
        .withdrawn
        .checked_add(amount)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    emit_cpi!(CreditsWithdrawn {
        network: ctx.accounts.config.network,
        customer: ctx.accounts.customer.key(),
        amount,
    });
    Ok(())
}
