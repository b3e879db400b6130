//! `cancel_order`: the customer takes the escrow back: at any time while no
//! provider has accepted the order, and after its service deadline plus the
//! settlement grace whatever its state (settlements are refused from then
//! on, so nothing pending can land).

use crate::{
    errors::PaymentError,
    escrow::OrderEscrow,
    events::OrderCancelled,
    state::{Order, OrderStatus},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

/// Accounts of `cancel_order`.
#[event_cpi]
#[derive(Accounts)]
pub struct CancelOrder<'info> {
    /// The customer; receives the refund and the rent.
    #[account(mut)]
    pub customer: Signer<'info>,
    /// The order, closed to the customer.
    #[account(
        mut,
        close = customer,
        has_one = customer,
        has_one = escrow,
        has_one = payment_mint,
        has_one = payment_token_program,
    )]
    pub order: Box<Account<'info, Order>>,
    /// The order's escrow, closed to the customer.
    #[account(mut)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The payment mint.
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The customer's token account receiving the refund.
    #[account(
        mut,
        constraint = customer_payment_account.mint == payment_mint.key() @ PaymentError::WrongPaymentMint,
        constraint = customer_payment_account.owner == customer.key() @ PaymentError::WrongRefundAccount,
    )]
    pub customer_payment_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub payment_token_program: Interface<'info, TokenInterface>,
}

/// Refunds the escrow and closes the order.
///
/// CHECK: the signer is the customer; the order is not accepted, or its
/// service deadline plus the settlement grace has passed.
pub fn handler(ctx: Context<CancelOrder>) -> Result<()> {
    let order = &ctx.accounts.order;
    let now = Clock::get()?.unix_timestamp;
    require!(
        order.status == OrderStatus::Open || now > order.settlement_end(),
        PaymentError::CancelAfterAcceptance
    );
    let accounts = &ctx.accounts;
    let escrow = OrderEscrow::new(
        &accounts.order,
        &accounts.escrow,
        &accounts.payment_mint,
        &accounts.payment_token_program,
    );
    let refunded = accounts.escrow.amount;
    escrow.pay(
        accounts.customer_payment_account.to_account_info(),
        refunded,
    )?;
    escrow.close(accounts.customer.to_account_info())?;
    emit_cpi!(OrderCancelled {
        order: ctx.accounts.order.key(),
        refunded,
    });
    Ok(())
}
