//! `update_network`: the authority changes fees, treasury, name or URI at once,
//! and schedules oracle-set changes, which apply only after the network's delay.

use crate::{
    errors::RegistryError,
    events::NetworkUpdated,
    instructions::create_network::{
        check_fee_mint, check_fees, check_oracle_change_delay, check_oracles, check_text,
    },
    state::{Fee, MAX_NAME_LEN, MAX_URI_BASE_LEN, Network, PendingOracleChange},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::Mint;

/// Arguments of `update_network`; `None` leaves a field as it is.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateNetworkArgs {
    /// New display name.
    pub name: Option<String>,
    /// New treasury wallet.
    pub treasury: Option<Pubkey>,
    /// New onboarding fee (payers are protected by their `max_fee`).
    pub onboarding_fee: Option<Fee>,
    /// New location fee.
    pub location_fee: Option<Fee>,
    /// New oracle set, scheduled: it applies `oracle_change_delay_secs` from now.
    pub oracles: Option<Vec<Pubkey>>,
    /// New threshold, scheduled with the oracle set (a field not given keeps the
    /// value in force now).
    pub threshold: Option<u8>,
    /// Drops the scheduled oracle-set change before it applies.
    pub cancel_oracle_change: bool,
    /// New oracle-change delay; it can only grow, and applies at once.
    pub oracle_change_delay_secs: Option<i64>,
    /// New metadata URI base (applies to devices onboarded from now on).
    pub metadata_uri_base: Option<String>,
}

/// Accounts of `update_network`.
#[event_cpi]
#[derive(Accounts)]
pub struct UpdateNetwork<'info> {
    /// The network authority.
    pub authority: Signer<'info>,
    /// The network to change.
    #[account(mut, has_one = authority @ RegistryError::NotNetworkAuthority)]
    pub network: Box<Account<'info, Network>>,
    /// Mint of the non-zero fees, needed when a fee changes.
    pub fee_mint: Option<Box<InterfaceAccount<'info, Mint>>>,
}

/// Applies the given changes.
///
/// 1. A scheduled oracle-set change whose time has come becomes the current set.
/// 2. Name, URI, treasury and fees change now.
/// 3. The delay grows now; a cancelled change is dropped; a new oracle set or
///    threshold is scheduled for `now + delay`, replacing any scheduled one.
///
/// CHECK: signer is the authority; lengths; non-zero fees share a mint, given
/// and safe; the delay is within bounds and does not shrink; the scheduled set
/// has 1 to 16 distinct keys and a majority threshold.
pub fn handler(ctx: Context<UpdateNetwork>, args: UpdateNetworkArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let network = &mut ctx.accounts.network;
    network.apply_due_oracle_change(now);
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
    let fees_change = args.onboarding_fee.is_some() || args.location_fee.is_some();
    if let Some(fee) = args.onboarding_fee {
        network.onboarding_fee = fee;
    }
    if let Some(fee) = args.location_fee {
        network.location_fee = fee;
    }
    check_fees(&network.onboarding_fee, &network.location_fee)?;
    if fees_change {
        check_fee_mint(
            &network.onboarding_fee,
            &network.location_fee,
            ctx.accounts.fee_mint.as_deref(),
        )?;
    }
    if let Some(delay) = args.oracle_change_delay_secs {
        check_oracle_change_delay(delay)?;
        require!(
            delay >= network.oracle_change_delay_secs,
            RegistryError::InvalidOracleChangeDelay
        );
        network.oracle_change_delay_secs = delay;
    }
    if args.cancel_oracle_change {
        require!(
            network.pending_oracle_change.take().is_some(),
            RegistryError::NoPendingOracleChange
        );
    }
    if args.oracles.is_some() || args.threshold.is_some() {
        let oracles = args.oracles.unwrap_or_else(|| network.oracles.clone());
        let threshold = args.threshold.unwrap_or(network.threshold);
        check_oracles(&oracles, threshold)?;
        let effective_at = now
            .checked_add(network.oracle_change_delay_secs)
            .ok_or(RegistryError::ArithmeticOverflow)?;
        network.pending_oracle_change = Some(PendingOracleChange {
            oracles,
            threshold,
            effective_at,
        });
    }
    let network = &ctx.accounts.network;
    emit_cpi!(NetworkUpdated {
        network: network.key(),
        name: network.name.clone(),
        treasury: network.treasury,
        onboarding_fee: network.onboarding_fee,
        location_fee: network.location_fee,
        metadata_uri_base: network.metadata_uri_base.clone(),
        oracles: network.oracles.clone(),
        threshold: network.threshold,
        oracle_change_delay_secs: network.oracle_change_delay_secs,
        pending_oracle_change: network.pending_oracle_change.clone(),
    });
    Ok(())
}
