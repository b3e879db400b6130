//! `update_network`: the authority changes fees, treasury, oracles, threshold or URI.

use crate::{
    errors::RegistryError,
    instructions::create_network::{check_fees, check_oracles, check_text},
    state::{Fee, MAX_NAME_LEN, MAX_URI_BASE_LEN, Network},
};
use anchor_lang::prelude::*;

/// Arguments of `update_network`; `None` leaves a field as it is.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateNetworkArgs {
    /// New display name.
    pub name: Option<String>,
    /// New treasury wallet.
    pub treasury: Option<Pubkey>,
    /// New onboarding fee.
    pub onboarding_fee: Option<Fee>,
    /// New location fee.
    pub location_fee: Option<Fee>,
    /// New oracle set (checked against the resulting threshold).
    pub oracles: Option<Vec<Pubkey>>,
    /// New threshold (checked against the resulting oracle set).
    pub threshold: Option<u8>,
    /// New metadata URI base (applies to devices onboarded from now on).
    pub metadata_uri_base: Option<String>,
}

/// Accounts of `update_network`.
#[derive(Accounts)]
pub struct UpdateNetwork<'info> {
    /// The network authority.
    pub authority: Signer<'info>,
    /// The network to change.
    #[account(mut, has_one = authority @ RegistryError::NotNetworkAuthority)]
    pub network: Box<Account<'info, Network>>,
}

/// Applies the given changes.
///
/// CHECK: signer is the authority; lengths; the resulting oracle set and threshold
/// satisfy 1 <= threshold <= oracles <= 16 with distinct keys; non-zero fees
/// share a mint.
pub fn handler(ctx: Context<UpdateNetwork>, args: UpdateNetworkArgs) -> Result<()> {
    let network = &mut ctx.accounts.network;
    if let Some(name) = args.name {
        check_text(&name, MAX_NAME_LEN, RegistryError::InvalidName)?;
        network.name = name;
    }
    if let Some(uri) = args.metadata_uri_base {
        require!(uri.len() <= MAX_URI_BASE_LEN, RegistryError::UriTooLong);
        network.metadata_uri_base = uri;
    }
    if let Some(treasury) = args.treasury {
        network.treasury = treasury;
    }
    if let Some(fee) = args.onboarding_fee {
        network.onboarding_fee = fee;
    }
    if let Some(fee) = args.location_fee {
        network.location_fee = fee;
    }
    check_fees(&network.onboarding_fee, &network.location_fee)?;
    let oracles = args.oracles.unwrap_or_else(|| network.oracles.clone());
    let threshold = args.threshold.unwrap_or(network.threshold);
    check_oracles(&oracles, threshold)?;
    network.oracles = oracles;
    network.threshold = threshold;
    Ok(())
}
