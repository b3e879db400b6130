//! depinkit service payments: how customers pay a network, in the two shapes the
//! seed networks use.
//!
//! - **Credits** (Helium data credits, Hivemapper map credits, Render credits):
//!   oracles post the network token's price ([`instructions::vote_price`]);
//!   customers burn network tokens for non-transferable credits
//!   ([`instructions::buy_credits`]), set them aside for a service
//!   ([`instructions::delegate_credits`]), and oracles burn them as usage is
//!   attested ([`instructions::burn_usage`]), recording usage per epoch;
//!   unused credits come back after a notice ([`instructions::withdraw_credits`]).
//! - **Orders** (Nosana / Render jobs, Filecoin deals, map data purchases): a
//!   customer escrows a payment ([`instructions::open_order`]), a provider
//!   accepts ([`instructions::accept_order`]), oracles attest receipts and the
//!   escrow pays the provider, the treasury and the reward pool
//!   ([`instructions::vote_settlement`]); the customer may cancel before
//!   acceptance or after the service deadline ([`instructions::cancel_order`]).
//!   The lifecycle is documented on [`state::OrderStatus`].
//!
//! Every instruction is callable by CPI from a third-party program.

use anchor_lang::prelude::*;

pub mod credits;
pub mod errors;
pub mod escrow;
pub mod events;
pub mod instructions;
pub mod pda;
pub mod state;
pub mod votes;

use instructions::*;

declare_id!("9qoaKFT2KhSyVHSDuTZxYQSUaDqfhVdmi7xQ2WBVx3C5");

// Who to tell about a vulnerability, readable from the deployed program
// (explorers show it). Left out of builds linked into other programs.
#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "depinkit service payments",
    project_url: "https://github.com/depinkit/depinkit",
    contacts: "link:https://github.com/depinkit/depinkit/security/advisories/new",
    policy: "https://github.com/depinkit/depinkit#security",
    preferred_languages: "en",
    source_code: "https://github.com/depinkit/depinkit/tree/main/programs/service-payments"
}

/// Instructions of service payments; each one is documented in its module.
#[program]
pub mod service_payments {
    use super::*;

    /// Sets up a network's credits mint and order fees (network authority).
    pub fn init_payments(ctx: Context<InitPayments>, args: InitPaymentsArgs) -> Result<()> {
        instructions::init_payments::handler(ctx, args)
    }

    /// Changes payment settings (network authority).
    pub fn update_payments(ctx: Context<UpdatePayments>, args: UpdatePaymentsArgs) -> Result<()> {
        instructions::update_payments::handler(ctx, args)
    }

    /// Votes the network token's USD price (an oracle of the network).
    pub fn vote_price(ctx: Context<VotePrice>, args: VotePriceArgs) -> Result<()> {
        instructions::vote_price::handler(ctx, args)
    }

    /// Burns network tokens for credits at the latest finalized price.
    pub fn buy_credits(ctx: Context<BuyCredits>, amount: u64, min_credits: u64) -> Result<()> {
        instructions::buy_credits::handler(ctx, amount, min_credits)
    }

    /// Moves credits into the customer's usage escrow.
    pub fn delegate_credits(ctx: Context<DelegateCredits>, amount: u64) -> Result<()> {
        instructions::delegate_credits::handler(ctx, amount)
    }

    /// Asks for unused credits back after the notice period (the customer).
    pub fn request_credit_withdrawal(
        ctx: Context<RequestCreditWithdrawal>,
        amount: u64,
    ) -> Result<()> {
        instructions::withdraw_credits::request_handler(ctx, amount)
    }

    /// Returns requested credits from the usage escrow (the customer).
    pub fn withdraw_credits(ctx: Context<WithdrawCredits>) -> Result<()> {
        instructions::withdraw_credits::withdraw_handler(ctx)
    }

    /// Votes a customer's usage for an epoch; burns it at the threshold (an oracle).
    pub fn burn_usage(ctx: Context<BurnUsage>, args: BurnUsageArgs) -> Result<()> {
        instructions::burn_usage::handler(ctx, args)
    }

    /// Closes a usage report of a finalized epoch, rent to its payer (anyone).
    pub fn close_usage_report(ctx: Context<CloseUsageReport>) -> Result<()> {
        instructions::close_usage::report_handler(ctx)
    }

    /// Closes a usage total of a finalized epoch, rent to its payer (anyone).
    pub fn close_epoch_usage(ctx: Context<CloseEpochUsage>) -> Result<()> {
        instructions::close_usage::epoch_handler(ctx)
    }

    /// Opens an order and escrows its payment (the customer).
    pub fn open_order(ctx: Context<OpenOrder>, args: OpenOrderArgs) -> Result<()> {
        instructions::open_order::handler(ctx, args)
    }

    /// Accepts an order (a device NFT's holder, or an oracle for network orders).
    pub fn accept_order(ctx: Context<AcceptOrder>) -> Result<()> {
        instructions::accept_order::handler(ctx)
    }

    /// Votes a settlement of an order; pays out at the threshold (an oracle).
    pub fn vote_settlement(ctx: Context<VoteSettlement>, args: VoteSettlementArgs) -> Result<()> {
        instructions::vote_settlement::handler(ctx, args)
    }

    /// Adds escrow and time to an order before its deadline (the customer).
    pub fn extend_order(ctx: Context<ExtendOrder>, args: ExtendOrderArgs) -> Result<()> {
        instructions::extend_order::handler(ctx, args)
    }

    /// Cancels an order and refunds its escrow (the customer).
    pub fn cancel_order(ctx: Context<CancelOrder>) -> Result<()> {
        instructions::cancel_order::handler(ctx)
    }
}
