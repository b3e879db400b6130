//! An example third-party dApp: a GPU job board that posts each job as a
//! depinkit service order and withdraws it, both through CPI into
//! service-payments. It keeps its own `Listing` next to the order, as a real
//! marketplace would. Test-only: it proves the order interface works for dApps.

use anchor_lang::prelude::*;
use anchor_spl::{
    associated_token::AssociatedToken,
    token_interface::{Mint, TokenAccount, TokenInterface},
};
use service_payments::{
    cpi::{self, accounts as payments_accounts},
    instructions::OpenOrderArgs,
    program::ServicePayments,
    state::Provider,
};

declare_id!("EKwZ6a9wQTeVfxcXaruVVnnsKdie5i2Vyw5cKdffABiF");

/// Seed prefix of a [`Listing`]: `[LISTING_SEED, order]`.
pub const LISTING_SEED: &[u8] = b"listing";

/// The job board's record of a posted job.
#[account]
#[derive(InitSpace, Debug)]
pub struct Listing {
    /// Who posted it (the order's customer).
    pub poster: Pubkey,
    /// The depinkit order paying for it.
    pub order: Pubkey,
    /// The poster's job number (the order id).
    pub job_id: u64,
    /// Bump of this PDA.
    pub bump: u8,
}

/// Instructions of the job board.
#[program]
pub mod job_market {
    use super::*;

    /// Posts a job any GPU device may take: opens the order (the poster pays the
    /// escrow through CPI) and records the listing.
    pub fn post_job(
        ctx: Context<PostJob>,
        job_id: u64,
        max_amount: u64,
        accept_deadline: i64,
        service_deadline: i64,
        spec_hash: [u8; 32],
    ) -> Result<()> {
        let a = &ctx.accounts;
        cpi::open_order(
            CpiContext::new(
                a.service_payments_program.key(),
                payments_accounts::OpenOrder {
                    customer: a.poster.to_account_info(),
                    network: a.network.to_account_info(),
                    config: a.payments_config.to_account_info(),
                    order: a.order.to_account_info(),
                    payment_mint: a.payment_mint.to_account_info(),
                    customer_payment_account: a.poster_payment_account.to_account_info(),
                    escrow: a.escrow.to_account_info(),
                    payment_token_program: a.payment_token_program.to_account_info(),
                    associated_token_program: a.associated_token_program.to_account_info(),
                    system_program: a.system_program.to_account_info(),
                    event_authority: a.payments_event_authority.to_account_info(),
                    program: a.service_payments_program.to_account_info(),
                },
            ),
            OpenOrderArgs {
                order_id: job_id,
                provider: Provider::AnyDevice,
                max_amount,
                accept_deadline,
                service_deadline,
                spec_hash,
            },
        )?;
        ctx.accounts.listing.set_inner(Listing {
            poster: ctx.accounts.poster.key(),
            order: ctx.accounts.order.key(),
            job_id,
            bump: ctx.bumps.listing,
        });
        Ok(())
    }

    /// Withdraws a job: cancels the order through CPI (refund to the poster) and
    /// closes the listing.
    pub fn withdraw_job(ctx: Context<WithdrawJob>) -> Result<()> {
        let a = &ctx.accounts;
        cpi::cancel_order(CpiContext::new(
            a.service_payments_program.key(),
            payments_accounts::CancelOrder {
                customer: a.poster.to_account_info(),
                order: a.order.to_account_info(),
                escrow: a.escrow.to_account_info(),
                payment_mint: a.payment_mint.to_account_info(),
                customer_payment_account: a.poster_payment_account.to_account_info(),
                payment_token_program: a.payment_token_program.to_account_info(),
                event_authority: a.payments_event_authority.to_account_info(),
                program: a.service_payments_program.to_account_info(),
            },
        ))
    }
}

/// Accounts of `post_job`.
#[derive(Accounts)]
pub struct PostJob<'info> {
    /// The poster: pays the escrow and rent.
    #[account(mut)]
    pub poster: Signer<'info>,
    /// CHECK: the depinkit network; checked by service-payments.
    pub network: UncheckedAccount<'info>,
    /// CHECK: the network's payments config; checked by service-payments.
    pub payments_config: UncheckedAccount<'info>,
    /// CHECK: the order PDA, created by service-payments.
    #[account(mut)]
    pub order: UncheckedAccount<'info>,
    /// The payment mint.
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The poster's paying token account.
    #[account(mut)]
    pub poster_payment_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: the order's escrow, created by service-payments.
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    /// The new listing.
    #[account(
        init,
        payer = poster,
        space = 8 + Listing::INIT_SPACE,
        seeds = [LISTING_SEED, order.key().as_ref()],
        bump,
    )]
    pub listing: Box<Account<'info, Listing>>,
    /// Token program of the payment mint.
    pub payment_token_program: Interface<'info, TokenInterface>,
    /// Associated Token program.
    pub associated_token_program: Program<'info, AssociatedToken>,
    /// System program.
    pub system_program: Program<'info, System>,
    /// CHECK: service-payments' event authority; checked by service-payments.
    pub payments_event_authority: UncheckedAccount<'info>,
    /// depinkit service payments.
    pub service_payments_program: Program<'info, ServicePayments>,
}

/// Accounts of `withdraw_job`.
#[derive(Accounts)]
pub struct WithdrawJob<'info> {
    /// The poster.
    #[account(mut)]
    pub poster: Signer<'info>,
    /// The listing, closed to the poster.
    #[account(
        mut,
        close = poster,
        has_one = poster,
        has_one = order,
        seeds = [LISTING_SEED, order.key().as_ref()],
        bump = listing.bump,
    )]
    pub listing: Box<Account<'info, Listing>>,
    /// CHECK: the order; checked and closed by service-payments.
    #[account(mut)]
    pub order: UncheckedAccount<'info>,
    /// CHECK: the order's escrow; checked and closed by service-payments.
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    /// The payment mint.
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The poster's refund account.
    #[account(mut)]
    pub poster_payment_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Token program of the payment mint.
    pub payment_token_program: Interface<'info, TokenInterface>,
    /// CHECK: service-payments' event authority; checked by service-payments.
    pub payments_event_authority: UncheckedAccount<'info>,
    /// depinkit service payments.
    pub service_payments_program: Program<'info, ServicePayments>,
}
