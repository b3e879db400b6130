//! `assert_location`: the current NFT holder moves a device to a new H3 cell,
//! with the device's own signature proving it agrees.

use crate::{
    account_util::top_up_rent,
    ed25519,
    errors::RegistryError,
    events::LocationAsserted,
    fees::*,
    instructions::onboard_device::{check_expiry, check_location},
    messages::AssertLocationMessage,
    nft::{LOCATION_KEY, location_field_len, location_value, update_metadata_field},
    pda::DEVICE_MINT_SEED,
    state::{Device, DeviceStatus, Network},
};
use anchor_lang::prelude::*;
use anchor_spl::{token_2022::Token2022, token_interface::TokenAccount};

/// Arguments of `assert_location`; the device signed them (see [`AssertLocationMessage`]).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AssertLocationArgs {
    /// The new H3 cell at the network's resolution.
    pub location: u64,
    /// Unix time after which the device's signature is refused (at most 7 days ahead).
    pub expires_at: i64,
    /// Most the holder pays in fees, as shown to them (not signed by the device).
    pub max_fee: u64,
}

/// Accounts of `assert_location`.
#[event_cpi]
#[derive(Accounts)]
pub struct AssertLocation<'info> {
    /// Whoever holds the device NFT now; pays the fee and any rent.
    #[account(mut)]
    pub holder: Signer<'info>,
    /// The device's network.
    pub network: Box<Account<'info, Network>>,
    /// The device.
    #[account(
        mut,
        has_one = network @ RegistryError::WrongNetwork,
        has_one = mint @ RegistryError::WrongDeviceMint,
        constraint = device.status == DeviceStatus::Active @ RegistryError::DeviceSuspended,
    )]
    pub device: Box<Account<'info, Device>>,
    /// CHECK: the device NFT mint (address checked by `has_one` on `device`); its
    /// metadata `location` field is updated.
    #[account(mut)]
    pub mint: UncheckedAccount<'info>,
    /// The holder's token account proving they hold the NFT.
    #[account(
        constraint = device.is_held_in(&holder_nft_account, Some(&holder.key()))
            @ RegistryError::NotDeviceHolder,
    )]
    pub holder_nft_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Fee payment accounts; may be omitted when the network charges no fee.
    pub fee: FeeAccounts<'info>,
    /// CHECK: the instructions sysvar, by address.
    #[account(address = solana_instructions_sysvar::ID)]
    pub instructions: UncheckedAccount<'info>,
    /// Token-2022, which holds the NFT.
    pub token_program: Program<'info, Token2022>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Asserts a device's location.
///
/// 1. When the cell changes: charges the location fee, updates the device and the
///    NFT's `location` metadata field (funding its growth on first assertion).
/// 2. Counts the assertion, which also retires the device signature's nonce.
///
/// CHECK: the holder signs and holds the NFT ([`Device::is_held_in`]); the
/// device is this network's and active; the device key signed exactly this
/// assertion with the current nonce (strict Ed25519 introspection), not expired
/// nor expiring more than 7 days ahead; valid cell at the network resolution;
/// a fee within the holder's maximum.
pub fn handler(ctx: Context<AssertLocation>, args: AssertLocationArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    check_expiry(args.expires_at, now)?;
    let network = &ctx.accounts.network;
    check_location(args.location, network.location_resolution)?;
    let device = &ctx.accounts.device;
    let previous_location = device.location;
    let nonce = device.location_assert_count;
    let message = AssertLocationMessage {
        program_id: crate::ID,
        network: network.key(),
        device_key: device.device_key,
        holder: ctx.accounts.holder.key(),
        location: args.location,
        nonce: device.location_assert_count,
        expires_at: args.expires_at,
    };
    ed25519::verify_previous_instruction(
        &ctx.accounts.instructions,
        &device.device_key,
        &message.to_bytes(),
    )?;

    let mut fee_paid = 0;
    if args.location != device.location {
        require!(
            network.location_fee.amount <= args.max_fee,
            RegistryError::FeeAboveMaximum
        );
        fee_paid = ctx.accounts.fee.charge(
            &network.location_fee,
            &network.treasury,
            &ctx.accounts.holder,
        )?;
        let mint = ctx.accounts.mint.to_account_info();
        if device.location == Device::NO_LOCATION {
            let new_len = mint
                .data_len()
                .checked_add(location_field_len(args.location))
                .ok_or(RegistryError::ArithmeticOverflow)?;
            top_up_rent(&ctx.accounts.holder, &mint, new_len)?;
        }
        update_metadata_field(
            &ctx.accounts.token_program,
            &mint,
            LOCATION_KEY.to_string(),
            location_value(args.location),
            &[
                DEVICE_MINT_SEED,
                network.key().as_ref(),
                device.device_key.as_ref(),
                &[device.mint_bump],
            ],
        )?;
        let device = &mut ctx.accounts.device;
        device.location = args.location;
        device.location_asserted_at = now;
    }
    let device = &mut ctx.accounts.device;
    device.location_assert_count = device
        .location_assert_count
        .checked_add(1)
        .ok_or(RegistryError::ArithmeticOverflow)?;
    emit_cpi!(LocationAsserted {
        network: ctx.accounts.network.key(),
        device: ctx.accounts.device.key(),
        holder: ctx.accounts.holder.key(),
        previous_location,
        location: args.location,
        nonce,
        fee_paid,
    });
    Ok(())
}
