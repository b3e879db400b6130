//! `create_network`: a new DePIN network with its fees, oracles and NFT metadata.

use crate::{
    errors::RegistryError,
    events::NetworkCreated,
    pda::NETWORK_SEED,
    state::{
        ACCOUNT_VERSION, Category, Fee, MAX_NAME_LEN, MAX_ORACLE_CHANGE_DELAY_SECS, MAX_ORACLES,
        MAX_SEED_LEN, MAX_SYMBOL_LEN, MAX_URI_BASE_LEN, MIN_ORACLE_CHANGE_DELAY_SECS, Network,
    },
    token_safety::is_safe_mint,
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::Mint;

/// Arguments of `create_network`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateNetworkArgs {
    /// Seed of the network PDA, chosen by the creator (1 to 32 bytes).
    pub seed: Vec<u8>,
    /// Display name (1 to 32 bytes).
    pub name: String,
    /// Symbol of the device NFTs (1 to 10 bytes).
    pub symbol: String,
    /// Kind of infrastructure.
    pub category: Category,
    /// Wallet owning the token accounts that receive fees.
    pub treasury: Pubkey,
    /// Fee charged once per onboarded device. A non-zero fee needs the
    /// `fee_mint` account, and the mint's freeze authority (if any) can stop
    /// fee payments.
    pub onboarding_fee: Fee,
    /// Fee charged when a device's cell changes (same mint when both are non-zero).
    pub location_fee: Fee,
    /// H3 resolution of asserted locations (0 to 15).
    pub location_resolution: u8,
    /// Oracle keys (1 to 16, distinct).
    pub oracles: Vec<Pubkey>,
    /// Identical votes needed: more than half of the oracles, at most all.
    pub threshold: u8,
    /// Seconds an oracle-set change waits before it applies (1 hour to 90
    /// days; a reward pool also requires at least one epoch).
    pub oracle_change_delay_secs: i64,
    /// Base of the device NFTs' metadata URI (at most 128 bytes).
    pub metadata_uri_base: String,
}

/// Accounts of `create_network`.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: CreateNetworkArgs)]
pub struct CreateNetwork<'info> {
    /// Creator: pays rent and becomes the first authority.
    #[account(mut)]
    pub creator: Signer<'info>,
    /// The new network. The seed is cut to 32 bytes here only so that address
    /// derivation cannot fail; the handler refuses any other length.
    #[account(
        init,
        payer = creator,
        space = 8 + Network::INIT_SPACE,
        seeds = [NETWORK_SEED, creator.key().as_ref(), &args.seed[..args.seed.len().min(MAX_SEED_LEN)]],
        bump,
    )]
    pub network: Box<Account<'info, Network>>,
    /// Mint rewards are paid in (SPL Token, or Token-2022 with descriptive
    /// extensions only). Its freeze authority, if any, can stop claims.
    pub reward_mint: Box<InterfaceAccount<'info, Mint>>,
    /// Mint of the non-zero fees; omit when both fees are zero.
    pub fee_mint: Option<Box<InterfaceAccount<'info, Mint>>>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Checks a name-like string: non-empty and at most `max` bytes.
pub(crate) fn check_text(value: &str, max: usize, error: RegistryError) -> Result<()> {
    if value.is_empty() || value.len() > max {
        return Err(error.into());
    }
    Ok(())
}

/// Checks an oracle set and threshold: 1..=16 distinct keys, and a threshold
/// that is a strict majority (len / 2 < threshold <= len), so that two
/// different results can never both reach it.
pub(crate) fn check_oracles(oracles: &[Pubkey], threshold: u8) -> Result<()> {
    require!(oracles.len() <= MAX_ORACLES, RegistryError::TooManyOracles);
    for (i, key) in oracles.iter().enumerate() {
        require!(!oracles[..i].contains(key), RegistryError::DuplicateOracle);
    }
    let threshold = usize::from(threshold);
    require!(
        threshold * 2 > oracles.len() && threshold <= oracles.len(),
        RegistryError::InvalidThreshold
    );
    Ok(())
}

/// Checks an oracle-change delay is within bounds.
pub(crate) fn check_oracle_change_delay(delay: i64) -> Result<()> {
    require!(
        (MIN_ORACLE_CHANGE_DELAY_SECS..=MAX_ORACLE_CHANGE_DELAY_SECS).contains(&delay),
        RegistryError::InvalidOracleChangeDelay
    );
    Ok(())
}

/// Checks the mint of the non-zero fees was given and is safe to pay in.
pub(crate) fn check_fee_mint(
    onboarding: &Fee,
    location: &Fee,
    fee_mint: Option<&InterfaceAccount<Mint>>,
) -> Result<()> {
    let Some(charged) = [onboarding, location].into_iter().find(|f| f.amount > 0) else {
        return Ok(());
    };
    let mint = fee_mint.ok_or(RegistryError::FeeMintAccountMissing)?;
    require_keys_eq!(mint.key(), charged.mint, RegistryError::WrongFeeMint);
    require!(is_safe_mint(mint), RegistryError::UnsupportedMint);
    Ok(())
}

/// Checks the fees can be paid together: an onboarding with a location pays both
/// from one fee token account, so two non-zero fees must share a mint.
pub(crate) fn check_fees(onboarding: &Fee, location: &Fee) -> Result<()> {
    require!(
        onboarding.amount == 0 || location.amount == 0 || onboarding.mint == location.mint,
        RegistryError::FeeMintsDiffer
    );
    Ok(())
}

/// Creates a network.
///
/// 1. Validates every argument.
/// 2. Writes the `Network` with the creator as authority.
///
/// CHECK: seed, name, symbol and URI lengths; oracle set size, distinctness and
/// majority threshold; oracle-change delay; resolution; non-zero fees share a
/// mint, given and safe; the reward mint is a token mint without extensions that
/// can move, withhold or lock funds.
pub fn handler(ctx: Context<CreateNetwork>, args: CreateNetworkArgs) -> Result<()> {
    require!(
        !args.seed.is_empty() && args.seed.len() <= MAX_SEED_LEN,
        RegistryError::InvalidSeed
    );
    check_text(&args.name, MAX_NAME_LEN, RegistryError::InvalidName)?;
    check_text(&args.symbol, MAX_SYMBOL_LEN, RegistryError::InvalidSymbol)?;
    require!(
        args.metadata_uri_base.len() <= MAX_URI_BASE_LEN,
        RegistryError::UriTooLong
    );
    require!(
        args.location_resolution <= crate::h3::MAX_RESOLUTION,
        RegistryError::InvalidResolution
    );
    check_oracles(&args.oracles, args.threshold)?;
    check_oracle_change_delay(args.oracle_change_delay_secs)?;
    check_fees(&args.onboarding_fee, &args.location_fee)?;
    check_fee_mint(
        &args.onboarding_fee,
        &args.location_fee,
        ctx.accounts.fee_mint.as_deref(),
    )?;
    require!(
        is_safe_mint(&ctx.accounts.reward_mint),
        RegistryError::UnsupportedMint
    );

    let creator = ctx.accounts.creator.key();
    ctx.accounts.network.set_inner(Network {
        version: ACCOUNT_VERSION,
        bump: ctx.bumps.network,
        creator,
        seed: args.seed,
        authority: creator,
        pending_authority: None,
        name: args.name,
        symbol: args.symbol,
        category: args.category,
        reward_mint: ctx.accounts.reward_mint.key(),
        treasury: args.treasury,
        onboarding_fee: args.onboarding_fee,
        location_fee: args.location_fee,
        location_resolution: args.location_resolution,
        oracles: args.oracles,
        threshold: args.threshold,
        oracle_change_delay_secs: args.oracle_change_delay_secs,
        pending_oracle_change: None,
        metadata_uri_base: args.metadata_uri_base,
        maker_count: 0,
        device_count: 0,
    });
    let network = &ctx.accounts.network;
    emit_cpi!(NetworkCreated {
        network: network.key(),
        creator,
        category: network.category,
        reward_mint: network.reward_mint,
        oracles: network.oracles.clone(),
        threshold: network.threshold,
        oracle_change_delay_secs: network.oracle_change_delay_secs,
    });
    Ok(())
}
