//! `init_payments`: the network authority sets up credits and order fees.

use crate::{
    errors::PaymentError,
    events::PaymentsInitialized,
    pda::{CREDITS_MINT_SEED, PAYMENTS_SEED},
    state::{ACCOUNT_VERSION, BPS, MAX_WITHDRAWAL_NOTICE_SECS, PaymentsConfig},
};
use anchor_lang::prelude::*;
use anchor_spl::{
    token_2022::{
        self, InitializeMint2, Token2022,
        spl_token_2022::{extension::ExtensionType, state::Mint as MintState},
    },
    token_interface::{
        Mint, NonTransferableMintInitialize, TokenInterface, non_transferable_mint_initialize,
    },
};
use device_registry::{
    account_util::create_pda_account, state::Network, token_safety::is_safe_mint,
};

/// Arguments of `init_payments`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitPaymentsArgs {
    /// Decimals of the credits mint.
    pub credits_decimals: u8,
    /// USD value of one whole credit in millionths (Helium: 10, i.e. $0.00001).
    pub credit_usd_micros: u64,
    /// Oldest price `buy_credits` accepts, in seconds.
    pub max_price_age_secs: i64,
    /// Protocol fee on order settlements, in basis points.
    pub order_fee_bps: u16,
    /// Share of a provider's settlement routed to the reward pool, in basis points.
    pub pool_share_bps: u16,
    /// Notice before unused credits leave a usage escrow (at most 90 days):
    /// long enough for the oracles to attest usage already served.
    pub withdrawal_notice_secs: i64,
}

/// Checks payment settings: fee and share at most 10,000 bps; credit value and
/// price age positive; a withdrawal notice of 0 to 90 days.
pub(crate) fn check_settings(
    credit_usd_micros: u64,
    max_price_age_secs: i64,
    order_fee_bps: u16,
    pool_share_bps: u16,
    withdrawal_notice_secs: i64,
) -> Result<()> {
    require!(
        u64::from(order_fee_bps) <= BPS && u64::from(pool_share_bps) <= BPS,
        PaymentError::InvalidBps
    );
    require!(
        credit_usd_micros > 0 && max_price_age_secs > 0,
        PaymentError::InvalidCreditSettings
    );
    require!(
        (0..=MAX_WITHDRAWAL_NOTICE_SECS).contains(&withdrawal_notice_secs),
        PaymentError::InvalidWithdrawalNotice
    );
    Ok(())
}

/// Accounts of `init_payments`.
#[event_cpi]
#[derive(Accounts)]
pub struct InitPayments<'info> {
    /// The network authority; pays rent.
    #[account(mut)]
    pub authority: Signer<'info>,
    /// The network.
    #[account(has_one = authority @ PaymentError::NotNetworkAuthority)]
    pub network: Box<Account<'info, Network>>,
    /// The new config.
    #[account(
        init,
        payer = authority,
        space = 8 + PaymentsConfig::INIT_SPACE,
        seeds = [PAYMENTS_SEED, network.key().as_ref()],
        bump,
    )]
    pub config: Box<Account<'info, PaymentsConfig>>,
    /// CHECK: the credits mint PDA, created by the handler (Anchor has no
    /// constraint for the non-transferable extension).
    #[account(mut, seeds = [CREDITS_MINT_SEED, network.key().as_ref()], bump)]
    pub credits_mint: UncheckedAccount<'info>,
    /// The network token burned to buy credits.
    #[account(
        mint::token_program = burn_token_program,
        constraint = is_safe_mint(&burn_mint) @ PaymentError::UnsupportedMint,
    )]
    pub burn_mint: Box<InterfaceAccount<'info, Mint>>,
    /// Token program of the burn mint.
    pub burn_token_program: Interface<'info, TokenInterface>,
    /// Token-2022, which holds the credits.
    pub token_program: Program<'info, Token2022>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Creates the config and the non-transferable credits mint.
///
/// CHECK: signer is the network authority; settings ([`check_settings`]); the
/// burn mint belongs to its program and has descriptive extensions only.
pub fn handler(ctx: Context<InitPayments>, args: InitPaymentsArgs) -> Result<()> {
    check_settings(
        args.credit_usd_micros,
        args.max_price_age_secs,
        args.order_fee_bps,
        args.pool_share_bps,
        args.withdrawal_notice_secs,
    )?;
    let network = ctx.accounts.network.key();
    let config_bump = ctx.bumps.config;
    let mint_bump = ctx.bumps.credits_mint;
    let mint_len =
        ExtensionType::try_calculate_account_len::<MintState>(&[ExtensionType::NonTransferable])?;
    create_pda_account(
        &ctx.accounts.authority,
        &ctx.accounts.credits_mint,
        mint_len,
        Rent::get()?.minimum_balance(mint_len),
        &token_2022::ID,
        &[CREDITS_MINT_SEED, network.as_ref(), &[mint_bump]],
    )?;
    non_transferable_mint_initialize(CpiContext::new(
        token_2022::ID,
        NonTransferableMintInitialize {
            token_program_id: ctx.accounts.token_program.to_account_info(),
            mint: ctx.accounts.credits_mint.to_account_info(),
        },
    ))?;
    token_2022::initialize_mint2(
        CpiContext::new(
            token_2022::ID,
            InitializeMint2 {
                mint: ctx.accounts.credits_mint.to_account_info(),
            },
        ),
        args.credits_decimals,
        &ctx.accounts.config.key(),
        None,
    )?;
    ctx.accounts.config.set_inner(PaymentsConfig {
        version: ACCOUNT_VERSION,
        bump: config_bump,
        network,
        credits_mint: ctx.accounts.credits_mint.key(),
        credits_decimals: args.credits_decimals,
        burn_mint: ctx.accounts.burn_mint.key(),
        burn_token_program: ctx.accounts.burn_token_program.key(),
        credit_usd_micros: args.credit_usd_micros,
        max_price_age_secs: args.max_price_age_secs,
        order_fee_bps: args.order_fee_bps,
        pool_share_bps: args.pool_share_bps,
        withdrawal_notice_secs: args.withdrawal_notice_secs,
        price: None,
        price_votes: Vec::new(),
    });
    let config = &ctx.accounts.config;
    emit_cpi!(PaymentsInitialized {
        network,
        config: config.key(),
        credits_mint: config.credits_mint,
        burn_mint: config.burn_mint,
        credit_usd_micros: config.credit_usd_micros,
        burn_token_program: config.burn_token_program,
        credits_decimals: config.credits_decimals,
        max_price_age_secs: config.max_price_age_secs,
        order_fee_bps: config.order_fee_bps,
        pool_share_bps: config.pool_share_bps,
        withdrawal_notice_secs: config.withdrawal_notice_secs,
    });
    Ok(())
}
