//! `extend_order`: the customer keeps a service going longer (a file stored
//! past its first term, a job given more time): more escrow and a later
//! service deadline, before the deadline passes, at no lower a rate.

use crate::{
    errors::PaymentError,
    events::OrderExtended,
    state::{Order, OrderStatus},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

/// Arguments of `extend_order`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtendOrderArgs {
    /// Added to the escrow (and to the most the customer pays).
    pub additional_amount: u64,
    /// The new service deadline: later than the current one.
    pub service_deadline: i64,
}

/// Accounts of `extend_order`.
#[event_cpi]
#[derive(Accounts)]
pub struct ExtendOrder<'info> {
    /// The customer: pays the addition.
    pub customer: Signer<'info>,
    /// The order.
    #[account(
        mut,
        has_one = customer,
        has_one = escrow,
        has_one = payment_mint,
        has_one = payment_token_program,
    )]
    pub order: Box<Account<'info, Order>>,
    /// The order's escrow.
    #[account(mut)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The payment mint.
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The customer's token account paying.
    #[account(
        mut,
        constraint = customer_payment_account.mint == payment_mint.key() @ PaymentError::WrongPaymentMint,
    )]
    pub customer_payment_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub payment_token_program: Interface<'info, TokenInterface>,
}

/// Whether `additional` for `extra` more seconds pays at least the order's
/// rate so far (`max_amount` over the seconds from `start` to its deadline),
/// so a provider in service is never paid less per epoch for serving longer.
pub fn keeps_rate(order: &Order, start: i64, additional: u64, extra: i64) -> bool {
    let served = order.service_deadline.saturating_sub(start).max(1) as u128;
    u128::from(additional) * served >= u128::from(order.max_amount) * extra.max(0) as u128
}

/// Adds to the escrow and moves the service deadline.
///
/// CHECK: the signer is the customer; the service deadline has not passed;
/// the new one is later; the addition keeps the order's rate (escrow over
/// time in service, from its acceptance, or its opening while open); the
/// payment account is of the payment mint.
pub fn handler(ctx: Context<ExtendOrder>, args: ExtendOrderArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let order = &ctx.accounts.order;
    require!(
        now <= order.service_deadline,
        PaymentError::ServiceDeadlinePassed
    );
    require!(
        args.service_deadline > order.service_deadline,
        PaymentError::InvalidDeadline
    );
    let start = match order.status {
        OrderStatus::Accepted => order.accepted_at,
        OrderStatus::Open => order.opened_at,
    };
    let extra = args.service_deadline - order.service_deadline;
    require!(
        keeps_rate(order, start, args.additional_amount, extra),
        PaymentError::ExtensionBelowRate
    );
    let max_amount = order
        .max_amount
        .checked_add(args.additional_amount)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    token_interface::transfer_checked(
        CpiContext::new(
            ctx.accounts.payment_token_program.key(),
            TransferChecked {
                from: ctx.accounts.customer_payment_account.to_account_info(),
                mint: ctx.accounts.payment_mint.to_account_info(),
                to: ctx.accounts.escrow.to_account_info(),
                authority: ctx.accounts.customer.to_account_info(),
            },
        ),
        args.additional_amount,
        ctx.accounts.payment_mint.decimals,
    )?;
    let order = &mut ctx.accounts.order;
    order.max_amount = max_amount;
    order.service_deadline = args.service_deadline;
    emit_cpi!(OrderExtended {
        order: order.key(),
        additional_amount: args.additional_amount,
        max_amount,
        service_deadline: args.service_deadline,
    });
    Ok(())
}
