//! `create_network`: a new DePIN network with its fees, oracles and NFT metadata.

use crate::{
    errors::RegistryError,
    pda::NETWORK_SEED,
    state::{
        ACCOUNT_VERSION, Category, Fee, MAX_NAME_LEN, MAX_ORACLES, MAX_SEED_LEN, MAX_SYMBOL_LEN,
        MAX_URI_BASE_LEN, Network,
    },
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
    /// Fee charged once per onboarded device.
    pub onboarding_fee: Fee,
    /// Fee charged when a device's cell changes.
    pub location_fee: Fee,
    /// H3 resolution of asserted locations (0 to 15).
    pub location_resolution: u8,
    /// Oracle keys (1 to 16, distinct).
    pub oracles: Vec<Pubkey>,
    /// Identical votes needed (1 to the number of oracles).
    pub threshold: u8,
    /// Base of the device NFTs' metadata URI (at most 128 bytes).
    pub metadata_uri_base: String,
}

/// Accounts of `create_network`.
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
    /// Mint rewards are paid in (SPL Token or Token-2022).
    pub reward_mint: Box<InterfaceAccount<'info, Mint>>,
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

/// Checks an oracle set and threshold: 1..=16 distinct keys, 1 <= threshold <= len.
pub(crate) fn check_oracles(oracles: &[Pubkey], threshold: u8) -> Result<()> {
    require!(oracles.len() <= MAX_ORACLES, RegistryError::TooManyOracles);
    for (i, key) in oracles.iter().enumerate() {
        require!(!oracles[..i].contains(key), RegistryError::DuplicateOracle);
    }
    require!(
        threshold >= 1 && usize::from(threshold) <= oracles.len(),
        RegistryError::InvalidThreshold
    );
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
/// threshold; resolution; non-zero fees share a mint; the reward mint is a token
/// mint.
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
    check_fees(&args.onboarding_fee, &args.location_fee)?;

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
        metadata_uri_base: args.metadata_uri_base,
        maker_count: 0,
        device_count: 0,
    });
    Ok(())
}
