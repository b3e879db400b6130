//! The network authority's switches: approve or revoke a maker, suspend or
//! reactivate a device.

use crate::{
    errors::RegistryError,
    events::{DeviceStatusChanged, MakerStatusChanged},
    state::{Device, DeviceStatus, Maker, MakerStatus, Network},
};
use anchor_lang::prelude::*;

/// Accounts of `set_maker_status`.
#[event_cpi]
#[derive(Accounts)]
pub struct SetMakerStatus<'info> {
    /// The network authority.
    pub authority: Signer<'info>,
    /// The maker's network.
    #[account(has_one = authority @ RegistryError::NotNetworkAuthority)]
    pub network: Box<Account<'info, Network>>,
    /// The maker to change.
    #[account(mut, has_one = network @ RegistryError::WrongNetwork)]
    pub maker: Box<Account<'info, Maker>>,
}

/// Sets a maker's status. Revoking stops new onboardings with its key; devices
/// already onboarded stay.
///
/// CHECK: signer is the authority of the maker's network.
pub fn maker_handler(ctx: Context<SetMakerStatus>, status: MakerStatus) -> Result<()> {
    ctx.accounts.maker.status = status;
    emit_cpi!(MakerStatusChanged {
        network: ctx.accounts.network.key(),
        maker: ctx.accounts.maker.key(),
        status,
    });
    Ok(())
}

/// Accounts of `set_device_status`.
#[event_cpi]
#[derive(Accounts)]
pub struct SetDeviceStatus<'info> {
    /// The network authority.
    pub authority: Signer<'info>,
    /// The device's network.
    #[account(has_one = authority @ RegistryError::NotNetworkAuthority)]
    pub network: Box<Account<'info, Network>>,
    /// The device to change.
    #[account(mut, has_one = network @ RegistryError::WrongNetwork)]
    pub device: Box<Account<'info, Device>>,
}

/// Suspends or reactivates a device.
///
/// CHECK: signer is the authority of the device's network.
pub fn device_handler(ctx: Context<SetDeviceStatus>, status: DeviceStatus) -> Result<()> {
    ctx.accounts.device.status = status;
    emit_cpi!(DeviceStatusChanged {
        network: ctx.accounts.network.key(),
        device: ctx.accounts.device.key(),
        status,
    });
    Ok(())
}
