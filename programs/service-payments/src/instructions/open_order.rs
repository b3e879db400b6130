//! `open_order`: a customer escrows a payment for a service of the network.

use crate::{
    errors::PaymentError,
    events::OrderOpened,
    pda::ORDER_SEED,
    state::{ACCOUNT_VERSION, Order, OrderStatus, PaymentsConfig, Provider},
};
use anchor_lang::prelude::*;
use anchor_spl::{
    associated_token::AssociatedToken,
    token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked},
};
use device_registry::{
    state::Network,
    token_safety::{is_controlled_custody, is_safe_mint},
};

/// Arguments of `open_order`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct OpenOrderArgs {
    /// The customer's number for this order (any unused value).
    pub order_id: u64,
    /// Who may serve it.
    pub provider: Provider,
    /// Amount escrowed: the most the customer pays.
    pub max_amount: u64,
    /// Unix time after which no provider can accept it (in the future).
    pub accept_deadline: i64,
    /// Unix time after which no settlement counts and the customer may cancel,
    /// taking back what was not settled (not before `accept_deadline`). Leave
    /// room after the work for the oracles to attest it.
    pub service_deadline: i64,
    /// Hash of what is bought.
    pub spec_hash: [u8; 32],
}

/// Accounts of `open_order`.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: OpenOrderArgs)]
pub struct OpenOrder<'info> {
    /// The customer: pays the escrow and rent.
    #[account(mut)]
    pub customer: Signer<'info>,
    /// The network serving the order.
    pub network: Box<Account<'info, Network>>,
    /// The network's payments config, whose fee and pool share the order keeps.
    #[account(has_one = network)]
    pub config: Box<Account<'info, PaymentsConfig>>,
    /// The new order.
    #[account(
        init,
        payer = customer,
        space = 8 + Order::INIT_SPACE,
        seeds = [ORDER_SEED, network.key().as_ref(), customer.key().as_ref(), &args.order_id.to_le_bytes()],
        bump,
    )]
    pub order: Box<Account<'info, Order>>,
    /// Mint of the payment (SPL Token, or Token-2022 with descriptive
    /// extensions only, checked with the escrow). Its freeze authority, if any,
    /// can freeze the escrow.
    #[account(mint::token_program = payment_token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The customer's token account paying.
    #[account(
        mut,
        constraint = customer_payment_account.mint == payment_mint.key() @ PaymentError::WrongPaymentMint,
    )]
    pub customer_payment_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The order's escrow: its associated token account for the payment mint.
    /// Anyone can create that address first, so an existing one is used when the
    /// order fully controls it; tokens already there are refunded at the end.
    #[account(
        init_if_needed,
        payer = customer,
        associated_token::mint = payment_mint,
        associated_token::authority = order,
        associated_token::token_program = payment_token_program,
        // The mint is checked here, first: Anchor checks this account (it may
        // create it) before the plain constraints of the others.
        constraint = is_safe_mint(&payment_mint) @ PaymentError::UnsupportedMint,
        constraint = is_controlled_custody(&escrow, &payment_mint.key(), &order.key())
            @ PaymentError::EscrowNotControlled,
    )]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub payment_token_program: Interface<'info, TokenInterface>,
    /// Associated Token program.
    pub associated_token_program: Program<'info, AssociatedToken>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Opens the order and escrows `max_amount`.
///
/// CHECK: amount > 0; acceptance deadline in the future and service deadline
/// not before it; the payment mint has descriptive extensions only; an escrow
/// already at its address is fully controlled by the order; the payment account
/// is of the payment mint (the token program checks the customer may spend it);
/// network-wide orders are paid in the network's reward mint.
pub fn handler(ctx: Context<OpenOrder>, args: OpenOrderArgs) -> Result<()> {
    require!(args.max_amount > 0, PaymentError::ZeroAmount);
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    require!(
        args.accept_deadline > now && args.service_deadline >= args.accept_deadline,
        PaymentError::InvalidDeadline
    );
    if args.provider == Provider::Network {
        require_keys_eq!(
            ctx.accounts.payment_mint.key(),
            ctx.accounts.network.reward_mint,
            PaymentError::NetworkOrderNeedsRewardMint
        );
    }
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
        args.max_amount,
        ctx.accounts.payment_mint.decimals,
    )?;
    let config = &ctx.accounts.config;
    ctx.accounts.order.set_inner(Order {
        version: ACCOUNT_VERSION,
        bump: ctx.bumps.order,
        network: ctx.accounts.network.key(),
        customer: ctx.accounts.customer.key(),
        order_id: args.order_id,
        payment_mint: ctx.accounts.payment_mint.key(),
        payment_token_program: ctx.accounts.payment_token_program.key(),
        escrow: ctx.accounts.escrow.key(),
        provider: args.provider,
        accepted_device: None,
        max_amount: args.max_amount,
        settled: 0,
        accept_deadline: args.accept_deadline,
        service_deadline: args.service_deadline,
        spec_hash: args.spec_hash,
        fee_bps: config.order_fee_bps,
        pool_share_bps: config.pool_share_bps,
        status: OrderStatus::Open,
        opened_at: now,
        opened_slot: clock.slot,
        accepted_at: 0,
        settlement_count: 0,
        votes: Vec::new(),
    });
    let order = &ctx.accounts.order;
    emit_cpi!(OrderOpened {
        order: order.key(),
        network: order.network,
        customer: order.customer,
        order_id: order.order_id,
        provider: order.provider,
        payment_mint: order.payment_mint,
        max_amount: order.max_amount,
        accept_deadline: order.accept_deadline,
        service_deadline: order.service_deadline,
        spec_hash: order.spec_hash,
        opened_slot: order.opened_slot,
    });
    Ok(())
}
