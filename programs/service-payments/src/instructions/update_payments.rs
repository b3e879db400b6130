//! `update_payments`: the network authority changes payment settings. Changes
//! apply at once without hurting anyone mid-way: each order keeps the fee and
//! pool share it was opened with, each withdrawal request keeps the time it was
//! given, and buyers of credits are protected by their `min_credits`.

use crate::{
    errors::PaymentError, events::PaymentsUpdated, instructions::init_payments::check_settings,
    state::PaymentsConfig,
};
use anchor_lang::prelude::*;
use device_registry::state::Network;

/// Arguments of `update_payments`; `None` leaves a setting as it is.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdatePaymentsArgs {
    /// New USD value of one whole credit, in millionths.
    pub credit_usd_micros: Option<u64>,
    /// New oldest price `buy_credits` accepts, in seconds.
    pub max_price_age_secs: Option<i64>,
    /// New protocol fee, for orders opened from now on.
    pub order_fee_bps: Option<u16>,
    /// New pool share, for orders opened from now on.
    pub pool_share_bps: Option<u16>,
    /// New withdrawal notice, for requests made from now on.
    pub withdrawal_notice_secs: Option<i64>,
}

/// Accounts of `update_payments`.
#[event_cpi]
#[derive(Accounts)]
pub struct UpdatePayments<'info> {
    /// The network authority.
    pub authority: Signer<'info>,
    /// The network.
    #[account(has_one = authority @ PaymentError::NotNetworkAuthority)]
    pub network: Box<Account<'info, Network>>,
    /// The network's payments config.
    #[account(mut, has_one = network)]
    pub config: Box<Account<'info, PaymentsConfig>>,
}

/// Applies the given settings.
///
/// CHECK: signer is the network authority; the resulting settings pass the
/// same checks as `init_payments`.
pub fn handler(ctx: Context<UpdatePayments>, args: UpdatePaymentsArgs) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let credit_usd_micros = args.credit_usd_micros.unwrap_or(config.credit_usd_micros);
    let max_price_age_secs = args.max_price_age_secs.unwrap_or(config.max_price_age_secs);
    let order_fee_bps = args.order_fee_bps.unwrap_or(config.order_fee_bps);
    let pool_share_bps = args.pool_share_bps.unwrap_or(config.pool_share_bps);
    let withdrawal_notice_secs = args
        .withdrawal_notice_secs
        .unwrap_or(config.withdrawal_notice_secs);
    check_settings(
        credit_usd_micros,
        max_price_age_secs,
        order_fee_bps,
        pool_share_bps,
        withdrawal_notice_secs,
    )?;
    config.credit_usd_micros = credit_usd_micros;
    config.max_price_age_secs = max_price_age_secs;
    config.order_fee_bps = order_fee_bps;
    config.pool_share_bps = pool_share_bps;
    config.withdrawal_notice_secs = withdrawal_notice_secs;
    emit_cpi!(PaymentsUpdated {
        network: config.network,
        credit_usd_micros,
        max_price_age_secs,
        order_fee_bps,
        pool_share_bps,
        withdrawal_notice_secs,
    });
    Ok(())
}
