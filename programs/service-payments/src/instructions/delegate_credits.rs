//! `delegate_credits`: a customer sets credits aside for a network's service, in
//! a usage escrow the oracles burn from as usage is attested.
//!
//! Credits are non-transferable, so they move by burn and mint: burned from the
//! customer (who signs) and minted into the escrow's account by the config PDA.

use crate::{
    credits::mint_credits,
    errors::PaymentError,
    events::CreditsDelegated,
    pda::USAGE_ESCROW_SEED,
    state::{ACCOUNT_VERSION, PaymentsConfig, UsageEscrow},
};
use anchor_lang::prelude::*;
use anchor_spl::{
    associated_token::AssociatedToken,
    token_2022::Token2022,
    token_interface::{self, Burn, Mint, TokenAccount},
};

/// Accounts of `delegate_credits`.
#[event_cpi]
#[derive(Accounts)]
pub struct DelegateCredits<'info> {
    /// The customer; pays for the escrow on first use.
    #[account(mut)]
    pub customer: Signer<'info>,
    /// The network's payments config.
    #[account(has_one = credits_mint)]
    pub config: Box<Account<'info, PaymentsConfig>>,
    /// The credits mint.
    #[account(mut)]
    pub credits_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The customer's credits account.
    #[account(mut, token::mint = credits_mint, token::authority = customer)]
    pub customer_credits: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The customer's usage escrow on this network (created if missing).
    #[account(
        init_if_needed,
        payer = customer,
        space = 8 + UsageEscrow::INIT_SPACE,
        seeds = [USAGE_ESCROW_SEED, config.network.as_ref(), customer.key().as_ref()],
        bump,
    )]
    pub usage_escrow: Box<Account<'info, UsageEscrow>>,
    /// The escrow's credits account (created if missing).
    #[account(
        init_if_needed,
        payer = customer,
        associated_token::mint = credits_mint,
        associated_token::authority = usage_escrow,
        associated_token::token_program = token_program,
    )]
    pub escrow_credits: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token-2022.
    pub token_program: Program<'info, Token2022>,
    /// Associated Token program.
    pub associated_token_program: Program<'info, AssociatedToken>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Moves `amount` credits from the customer into their usage escrow.
///
/// CHECK: amount > 0; the customer's account holds the config's credits; the
/// escrow is the customer's PDA for this network.
pub fn handler(ctx: Context<DelegateCredits>, amount: u64) -> Result<()> {
    require!(amount > 0, PaymentError::ZeroAmount);
    token_interface::burn(
        CpiContext::new(
            ctx.accounts.token_program.key(),
            Burn {
                mint: ctx.accounts.credits_mint.to_account_info(),
                from: ctx.accounts.customer_credits.to_account_info(),
                authority: ctx.accounts.customer.to_account_info(),
            },
        ),
        amount,
    )?;
    mint_credits(
        &ctx.accounts.config,
        &ctx.accounts.credits_mint,
        &ctx.accounts.escrow_credits,
        &ctx.accounts.token_program.to_account_info(),
        amount,
    )?;
    let network = ctx.accounts.config.network;
    let escrow = &mut ctx.accounts.usage_escrow;
    if escrow.version == 0 {
        escrow.version = ACCOUNT_VERSION;
        escrow.bump = ctx.bumps.usage_escrow;
        escrow.network = network;
        escrow.customer = ctx.accounts.customer.key();
    }
    escrow.delegated = escrow
        .delegated
        .checked_add(amount)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    emit_cpi!(CreditsDelegated {
        network,
        customer: ctx.accounts.customer.key(),
        usage_escrow: ctx.accounts.usage_escrow.key(),
        amount,
    });
    Ok(())
}
