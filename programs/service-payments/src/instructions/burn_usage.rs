//! `burn_usage`: oracles attest a customer's usage for an epoch; at the
//! threshold the credits are burned from the usage escrow and the epoch's usage
//! total grows, so rewards can follow usage. Usage is attested only for epochs
//! the reward pool has started and not finalized, so once an epoch is final its
//! reports can be closed (`close_usage`) and never re-opened.

use crate::{
    credits::burn_from_escrow,
    errors::PaymentError,
    events::{UsageBurned, UsageVoted},
    pda::{EPOCH_USAGE_SEED, USAGE_ESCROW_SEED, USAGE_REPORT_SEED},
    state::{ACCOUNT_VERSION, EpochUsage, PaymentsConfig, UsageEscrow, UsageReport},
    votes::refusal_error,
};
use anchor_lang::prelude::*;
use anchor_spl::{
    associated_token::get_associated_token_address_with_program_id,
    token_2022::{self, Token2022},
    token_interface::{Mint, TokenAccount},
};
use device_registry::{quorum::record_vote, state::Network};
use reward_pool::state::Pool;
use solana_sha256_hasher::hashv;

/// Domain tag of a usage vote's payload hash.
pub const USAGE_PAYLOAD_DOMAIN: &[u8] = b"depinkit/service-payments/usage";

/// Arguments of `burn_usage`: what the oracle attests.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurnUsageArgs {
    /// Reward-pool epoch of the usage.
    pub epoch: u32,
    /// Credits used.
    pub amount: u64,
    /// Merkle root of the usage receipts.
    pub receipt_root: [u8; 32],
}

/// The hash identical usage votes share (the escrow is part of it).
pub fn usage_payload_hash(escrow: &Pubkey, args: &BurnUsageArgs) -> [u8; 32] {
    hashv(&[
        USAGE_PAYLOAD_DOMAIN,
        escrow.as_ref(),
        &args.epoch.to_le_bytes(),
        &args.amount.to_le_bytes(),
        &args.receipt_root,
    ])
    .to_bytes()
}

/// Accounts of `burn_usage`.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: BurnUsageArgs)]
pub struct BurnUsage<'info> {
    /// An oracle of the network; pays for the report and the epoch total.
    #[account(mut)]
    pub oracle: Signer<'info>,
    /// The network.
    pub network: Box<Account<'info, Network>>,
    /// The network's payments config.
    #[account(has_one = network, has_one = credits_mint)]
    pub config: Box<Account<'info, PaymentsConfig>>,
    /// The network's reward pool, whose epochs usage is counted in.
    #[account(has_one = network @ PaymentError::WrongPool)]
    pub pool: Box<Account<'info, Pool>>,
    /// The customer's usage escrow.
    #[account(
        mut,
        seeds = [USAGE_ESCROW_SEED, network.key().as_ref(), usage_escrow.customer.as_ref()],
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
    /// Votes on this escrow's usage in this epoch.
    #[account(
        init_if_needed,
        payer = oracle,
        space = 8 + UsageReport::INIT_SPACE,
        seeds = [USAGE_REPORT_SEED, usage_escrow.key().as_ref(), &args.epoch.to_le_bytes()],
        bump,
    )]
    pub usage_report: Box<Account<'info, UsageReport>>,
    /// The network's usage total for the epoch.
    #[account(
        init_if_needed,
        payer = oracle,
        space = 8 + EpochUsage::INIT_SPACE,
        seeds = [EPOCH_USAGE_SEED, network.key().as_ref(), &args.epoch.to_le_bytes()],
        bump,
    )]
    pub epoch_usage: Box<Account<'info, EpochUsage>>,
    /// Token-2022.
    pub token_program: Program<'info, Token2022>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Records the vote; at the threshold burns the credits and records the usage.
///
/// CHECK: signer in the oracle set in force now (one live vote each); the epoch
/// has started and is not finalized in the network's pool; report not
/// finalized; amount > 0 and within the escrow's credits; escrow, its account,
/// the mint and the pool are this network's.
pub fn handler(ctx: Context<BurnUsage>, args: BurnUsageArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let oracles = ctx.accounts.network.oracle_set(now);
    require!(
        oracles.contains(&ctx.accounts.oracle.key()),
        PaymentError::NotAnOracle
    );
    require!(args.amount > 0, PaymentError::ZeroAmount);
    let pool = &ctx.accounts.pool;
    let running = pool.epoch_at(now).ok_or(PaymentError::EpochOutOfRange)?;
    require!(
        args.epoch >= pool.next_epoch && args.epoch <= running,
        PaymentError::EpochOutOfRange
    );
    let network_key = ctx.accounts.network.key();
    let oracle_key = ctx.accounts.oracle.key();
    let escrow_key = ctx.accounts.usage_escrow.key();
    let report = &mut ctx.accounts.usage_report;
    if report.version == 0 {
        report.version = ACCOUNT_VERSION;
        report.bump = ctx.bumps.usage_report;
        report.network = network_key;
        report.escrow = escrow_key;
        report.epoch = args.epoch;
        report.rent_payer = oracle_key;
    }
    require!(!report.finalized, PaymentError::UsageAlreadyFinalized);
    require!(
        args.amount <= ctx.accounts.escrow_credits.amount,
        PaymentError::UsageExceedsEscrow
    );
    let usage = &mut ctx.accounts.epoch_usage;
    if usage.version == 0 {
        usage.version = ACCOUNT_VERSION;
        usage.bump = ctx.bumps.epoch_usage;
        usage.network = network_key;
        usage.epoch = args.epoch;
        usage.rent_payer = oracle_key;
    }
    let finalized = record_vote(
        &mut report.votes,
        &oracles,
        oracle_key,
        usage_payload_hash(&escrow_key, &args),
    )
    .map_err(refusal_error)?;
    emit_cpi!(UsageVoted {
        network: network_key,
        usage_escrow: escrow_key,
        oracle: oracle_key,
        epoch: args.epoch,
        amount: args.amount,
        receipt_root: args.receipt_root,
    });
    if !finalized {
        return Ok(());
    }
    let report = &mut ctx.accounts.usage_report;
    report.finalized = true;
    report.amount = args.amount;
    report.receipt_root = args.receipt_root;
    report.votes.clear();

    burn_from_escrow(
        &ctx.accounts.usage_escrow,
        &ctx.accounts.escrow_credits,
        &ctx.accounts.credits_mint,
        &ctx.accounts.token_program.to_account_info(),
        args.amount,
    )?;
    let escrow = &mut ctx.accounts.usage_escrow;
    escrow.burned = escrow
        .burned
        .checked_add(args.amount)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    let usage = &mut ctx.accounts.epoch_usage;
    usage.credits_burned = usage
        .credits_burned
        .checked_add(args.amount)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    usage.reports = usage
        .reports
        .checked_add(1)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    emit_cpi!(UsageBurned {
        network: network_key,
        usage_escrow: escrow_key,
        epoch: args.epoch,
        amount: args.amount,
        receipt_root: args.receipt_root,
    });
    Ok(())
}
