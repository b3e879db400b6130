//! `accept_order`: a provider takes an order and starts serving it. For device
//! orders that is the holder of an allowed device's NFT; for network-wide
//! orders, an oracle of the network (the network serves them). From then on
//! the customer cannot cancel before the service deadline.

use crate::{
    errors::PaymentError,
    events::OrderAccepted,
    state::{Order, OrderStatus, Provider},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;
use device_registry::state::{Device, DeviceStatus, Network};

/// Accounts of `accept_order`.
#[event_cpi]
#[derive(Accounts)]
pub struct AcceptOrder<'info> {
    /// The device NFT's holder, or for a network order an oracle of the network.
    pub acceptor: Signer<'info>,
    /// The order's network.
    pub network: Box<Account<'info, Network>>,
    /// The order.
    #[account(mut, has_one = network)]
    pub order: Box<Account<'info, Order>>,
    /// The device that will serve it (device orders).
    pub device: Option<Box<Account<'info, Device>>>,
    /// The acceptor's token account with the device NFT (device orders).
    pub holder_nft_account: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
}

/// Marks the order accepted.
///
/// CHECK: the order is open and before its acceptance deadline. Device orders:
/// the device is this network's, active, allowed by the order, and its NFT is
/// the signer's ([`Device::is_held_in`]). Network orders: the signer is in the
/// oracle set in force now.
pub fn handler(ctx: Context<AcceptOrder>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let acceptor = ctx.accounts.acceptor.key();
    let order = &ctx.accounts.order;
    require!(
        order.status == OrderStatus::Open,
        PaymentError::OrderNotOpen
    );
    require!(now <= order.accept_deadline, PaymentError::OrderExpired);
    let device = match order.provider {
        Provider::Network => {
            require!(
                ctx.accounts.network.oracle_set(now).contains(&acceptor),
                PaymentError::NotAnOracle
            );
            None
        }
        Provider::Device(_) | Provider::AnyDevice => {
            let (Some(device), Some(nft)) =
                (&ctx.accounts.device, &ctx.accounts.holder_nft_account)
            else {
                return err!(PaymentError::WrongProviderAccounts);
            };
            require_keys_eq!(device.network, order.network, PaymentError::WrongNetwork);
            require!(
                device.status == DeviceStatus::Active,
                PaymentError::DeviceSuspended
            );
            require!(
                device.is_held_in(nft, Some(&acceptor)),
                PaymentError::NotDeviceHolder
            );
            if let Provider::Device(named) = order.provider {
                require_keys_eq!(named, device.key(), PaymentError::WrongProviderDevice);
            }
            Some(device.key())
        }
    };
    let order = &mut ctx.accounts.order;
    order.status = OrderStatus::Accepted;
    order.accepted_device = device;
    order.accepted_at = now;
    emit_cpi!(OrderAccepted {
        order: ctx.accounts.order.key(),
        accepted_by: acceptor,
        device,
    });
    Ok(())
}
