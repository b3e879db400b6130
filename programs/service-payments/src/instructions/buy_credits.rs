//! `buy_credits`: burn network tokens at the latest finalized price, receive
//! non-transferable credits.

use crate::{
    credits::{credits_for_burn, mint_credits},
    errors::PaymentError,
    events::CreditsBought,
    state::PaymentsConfig,
};
use anchor_lang::prelude::*;
use anchor_spl::{
    associated_token::AssociatedToken,
    token_2022::Token2022,
    token_interface::{self, BurnChecked, Mint, TokenAccount, TokenInterface},
};

/// Accounts of `buy_credits`.
#[event_cpi]
#[derive(Accounts)]
pub struct BuyCredits<'info> {
    /// Burns their tokens, receives the credits, pays for their credits account.
    #[account(mut)]
    pub buyer: Signer<'info>,
    /// The network's payments config (mint authority of the credits).
    #[account(has_one = burn_mint, has_one = credits_mint, has_one = burn_token_program)]
    pub config: Box<Account<'info, PaymentsConfig>>,
    /// The network token.
    #[account(mut)]
    pub burn_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The buyer's network-token account.
    #[account(mut, token::mint = burn_mint, token::authority = buyer)]
    pub buyer_burn_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The credits mint.
    #[account(mut)]
    pub credits_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The buyer's credits account (created if missing).
    #[account(
        init_if_needed,
        payer = buyer,
        associated_token::mint = credits_mint,
        associated_token::authority = buyer,
        associated_token::token_program = token_program,
    )]
    pub buyer_credits: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the network token.
    pub burn_token_program: Interface<'info, TokenInterface>,
    /// Token-2022, which holds the credits.
    pub token_program: Program<'info, Token2022>,
    /// Associated Token program.
    pub associated_token_program: Program<'info, AssociatedToken>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Burns `amount` network tokens and mints the credits they buy.
///
/// CHECK: a finalized price no older than the maximum age; price minus
/// confidence is used; at least `min_credits` and at least one credit unit;
/// mints and programs are the config's.
pub fn handler(ctx: Context<BuyCredits>, amount: u64, min_credits: u64) -> Result<()> {
    require!(amount > 0, PaymentError::ZeroAmount);
    let config = &ctx.accounts.config;
    let price = config.price.ok_or(PaymentError::NoPrice)?;
    let age = Clock::get()?
        .unix_timestamp
        .checked_sub(price.publish_time)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    require!(age <= config.max_price_age_secs, PaymentError::PriceTooOld);
    let credits = credits_for_burn(
        amount,
        ctx.accounts.burn_mint.decimals,
        &price,
        config.credit_usd_micros,
        config.credits_decimals,
    )
    .ok_or(PaymentError::ArithmeticOverflow)?;
    require!(credits > 0, PaymentError::ZeroAmount);
    require!(credits >= min_credits, PaymentError::SlippageExceeded);

    token_interface::burn_checked(
        CpiContext::new(
            ctx.accounts.burn_token_program.key(),
            BurnChecked {
                mint: ctx.accounts.burn_mint.to_account_info(),
                from: ctx.accounts.buyer_burn_account.to_account_info(),
                authority: ctx.accounts.buyer.to_account_info(),
            },
        ),
        amount,
        ctx.accounts.burn_mint.decimals,
    )?;
    mint_credits(
        &ctx.accounts.config,
        &ctx.accounts.credits_mint,
        &ctx.accounts.buyer_credits,
        &ctx.accounts.token_program.to_account_info(),
        credits,
    )?;
    emit_cpi!(CreditsBought {
        network: ctx.accounts.config.network,
        buyer: ctx.accounts.buyer.key(),
        burned: amount,
        credits,
    });
    Ok(())
}
