//! `accept_order`: the holder of a device NFT takes an order for that device.

use crate::{
    errors::PaymentError,
    state::{Order, OrderStatus, Provider},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use device_registry::state::{Device, DeviceStatus};

/// Accounts of `accept_order`.
#[derive(Accounts)]
pub struct AcceptOrder<'info> {
    /// Holds the device NFT.
    pub holder: Signer<'info>,
    /// The order.
    #[account(mut)]
    pub order: Box<Account<'info, Order>>,
    /// The device that will serve it.
    #[account(
        constraint = device.network == order.network @ PaymentError::WrongNetwork,
        constraint = device.status == DeviceStatus::Active @ PaymentError::DeviceSuspended,
    )]
    pub device: Box<Account<'info, Device>>,
    /// The holder's token account with the device NFT.
    #[account(
        constraint = holder_nft_account.mint == device.mint
            && holder_nft_account.owner == holder.key()
            && holder_nft_account.amount == 1 @ PaymentError::NotDeviceHolder,
    )]
    pub holder_nft_account: Box<InterfaceAccount<'info, TokenAccount>>,
}

/// Marks the order accepted by the device.
///
/// CHECK: the order is open and before its deadline; the device is this
/// network's, active, allowed by the order, and its NFT is the signer's.
pub fn handler(ctx: Context<AcceptOrder>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let device = ctx.accounts.device.key();
    let order = &mut ctx.accounts.order;
    require!(
        order.status == OrderStatus::Open,
        PaymentError::OrderNotOpen
    );
    require!(now <= order.deadline, PaymentError::OrderExpired);
    match order.provider {
        Provider::Device(named) => {
            require_keys_eq!(named, device, PaymentError::WrongProviderDevice)
        }
        Provider::AnyDevice => {}
        Provider::Network => return err!(PaymentError::NotAcceptable),
    }
    order.status = OrderStatus::Accepted;
    order.accepted_device = Some(device);
    order.accepted_at = now;
    Ok(())
}
