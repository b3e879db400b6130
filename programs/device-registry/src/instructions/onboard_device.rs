//! `onboard_device`: a device joins a network. The owner's wallet pays, the
//! maker's issuing key vouches for the hardware, the device's own key proves
//! possession through an Ed25519 instruction just before this one.

use crate::{
    account_util::create_pda_account,
    ed25519,
    errors::RegistryError,
    events::DeviceOnboarded,
    fees::*,
    h3,
    messages::OnboardDeviceMessage,
    nft::{MintDeviceNft, NftMetadata},
    pda::{DEVICE_MINT_SEED, DEVICE_SEED, MAKER_SEED},
    state::{
        ACCOUNT_VERSION, Device, DeviceStatus, MAX_SIGNATURE_LIFETIME_SECS, Maker, MakerStatus,
        Network,
    },
};
use anchor_lang::prelude::*;
use anchor_spl::{
    associated_token::{AssociatedToken, get_associated_token_address_with_program_id},
    token_2022::{self, Token2022},
};

/// Arguments of `onboard_device`; the device signed them (see [`OnboardDeviceMessage`]).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct OnboardDeviceArgs {
    /// The device's ed25519 public key.
    pub device_key: Pubkey,
    /// H3 cell at the network's resolution, or 0 to assert later.
    pub location: u64,
    /// Unix time after which the device's signature is refused (at most 7 days ahead).
    pub expires_at: i64,
    /// Most the owner pays in fees (onboarding plus location), as shown to
    /// them: a fee raised after they signed makes the onboarding fail instead.
    pub max_fee: u64,
}

/// Accounts of `onboard_device`.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: OnboardDeviceArgs)]
pub struct OnboardDevice<'info> {
    /// Wallet that receives the NFT; pays rent and the fees.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The maker's issuing key, vouching for the hardware.
    pub issuing_key: Signer<'info>,
    /// The network joined.
    #[account(mut)]
    pub network: Box<Account<'info, Network>>,
    /// The maker of `issuing_key` on this network; must be approved.
    #[account(
        mut,
        seeds = [MAKER_SEED, network.key().as_ref(), issuing_key.key().as_ref()],
        bump = maker.bump,
        constraint = maker.status == MakerStatus::Approved @ RegistryError::MakerNotApproved,
    )]
    pub maker: Box<Account<'info, Maker>>,
    /// CHECK: the device PDA, created by the handler (so that a second onboarding
    /// of the same key fails with `DeviceAlreadyOnboarded`).
    #[account(mut, seeds = [DEVICE_SEED, network.key().as_ref(), args.device_key.as_ref()], bump)]
    pub device: UncheckedAccount<'info>,
    /// CHECK: the NFT mint PDA, created by the handler.
    #[account(mut, seeds = [DEVICE_MINT_SEED, network.key().as_ref(), args.device_key.as_ref()], bump)]
    pub mint: UncheckedAccount<'info>,
    /// CHECK: the owner's associated token account for the mint, created by the handler.
    #[account(
        mut,
        address = get_associated_token_address_with_program_id(&owner.key(), &mint.key(), &token_2022::ID),
    )]
    pub owner_nft_account: UncheckedAccount<'info>,
    /// Fee payment accounts; omit when the network charges no fee.
    pub fee: FeeAccounts<'info>,
    /// CHECK: the instructions sysvar, by address.
    #[account(address = solana_instructions_sysvar::ID)]
    pub instructions: UncheckedAccount<'info>,
    /// Token-2022, which holds the NFT.
    pub token_program: Program<'info, Token2022>,
    /// Associated Token program.
    pub associated_token_program: Program<'info, AssociatedToken>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Onboards a device.
///
/// 1. Charges the onboarding fee, and the location fee when a location is given.
/// 2. Creates the `Device` account.
/// 3. Creates the NFT mint with metadata, mints 1 to the owner's associated token
///    account and removes the mint authority.
///
/// CHECK: owner and issuing key sign; the maker is this network's and approved;
/// the device key signed exactly this onboarding, naming this maker (strict
/// Ed25519 introspection), and the message has not expired nor expires more
/// than 7 days ahead; the location is a valid cell at the network's
/// resolution; the device key is new on this network; the fees are within the
/// owner's maximum; fee accounts match.
pub fn handler(ctx: Context<OnboardDevice>, args: OnboardDeviceArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    check_expiry(args.expires_at, now)?;
    let network_key = ctx.accounts.network.key();
    let network = &ctx.accounts.network;
    let located = args.location != Device::NO_LOCATION;
    if located {
        check_location(args.location, network.location_resolution)?;
    }
    let location_fee = if located {
        network.location_fee.amount
    } else {
        0
    };
    let total_fee = network
        .onboarding_fee
        .amount
        .checked_add(location_fee)
        .ok_or(RegistryError::ArithmeticOverflow)?;
    require!(total_fee <= args.max_fee, RegistryError::FeeAboveMaximum);
    let message = OnboardDeviceMessage {
        program_id: crate::ID,
        network: network_key,
        owner: ctx.accounts.owner.key(),
        device_key: args.device_key,
        issuing_key: ctx.accounts.issuing_key.key(),
        location: args.location,
        expires_at: args.expires_at,
    };
    ed25519::verify_previous_instruction(
        &ctx.accounts.instructions,
        &args.device_key,
        &message.to_bytes(),
    )?;
    for account in [&ctx.accounts.device, &ctx.accounts.mint] {
        require!(
            account.data_is_empty() && account.owner == &System::id(),
            RegistryError::DeviceAlreadyOnboarded
        );
    }

    ctx.accounts.fee.charge(
        &network.onboarding_fee,
        &network.treasury,
        &ctx.accounts.owner,
    )?;
    if located {
        ctx.accounts.fee.charge(
            &network.location_fee,
            &network.treasury,
            &ctx.accounts.owner,
        )?;
    }

    let device_bump = ctx.bumps.device;
    let mint_bump = ctx.bumps.mint;
    let device = Device {
        version: ACCOUNT_VERSION,
        bump: device_bump,
        mint_bump,
        network: network_key,
        device_key: args.device_key,
        maker: ctx.accounts.maker.key(),
        mint: ctx.accounts.mint.key(),
        location: args.location,
        status: DeviceStatus::Active,
        onboarded_at: now,
        location_asserted_at: if located { now } else { 0 },
        location_assert_count: 0,
    };
    let space = 8 + Device::INIT_SPACE;
    create_pda_account(
        &ctx.accounts.owner,
        &ctx.accounts.device,
        space,
        Rent::get()?.minimum_balance(space),
        &crate::ID,
        &[
            DEVICE_SEED,
            network_key.as_ref(),
            args.device_key.as_ref(),
            &[device_bump],
        ],
    )?;
    device.try_serialize(&mut &mut ctx.accounts.device.try_borrow_mut_data()?[..])?;

    let device_key = args.device_key.to_string();
    let metadata = NftMetadata {
        name: format!("{} {}", network.name, &device_key[..8]),
        symbol: network.symbol.clone(),
        uri: format!("{}{}.json", network.metadata_uri_base, device_key),
        category: network.category,
        location: args.location,
    };
    MintDeviceNft {
        payer: &ctx.accounts.owner,
        owner: &ctx.accounts.owner,
        mint: &ctx.accounts.mint,
        owner_token_account: &ctx.accounts.owner_nft_account,
        token_program: &ctx.accounts.token_program,
        associated_token_program: &ctx.accounts.associated_token_program,
        system_program: &ctx.accounts.system_program,
    }
    .run(
        &metadata,
        &[
            DEVICE_MINT_SEED,
            network_key.as_ref(),
            args.device_key.as_ref(),
            &[mint_bump],
        ],
    )?;

    let maker = &mut ctx.accounts.maker;
    maker.device_count = maker
        .device_count
        .checked_add(1)
        .ok_or(RegistryError::ArithmeticOverflow)?;
    let network = &mut ctx.accounts.network;
    network.device_count = network
        .device_count
        .checked_add(1)
        .ok_or(RegistryError::ArithmeticOverflow)?;
    emit_cpi!(DeviceOnboarded {
        network: network_key,
        device: ctx.accounts.device.key(),
        device_key: args.device_key,
        mint: ctx.accounts.mint.key(),
        maker: ctx.accounts.maker.key(),
        owner: ctx.accounts.owner.key(),
        location: args.location,
        fee_paid: total_fee,
    });
    Ok(())
}

/// Refuses a device signature that has expired, or that would stay valid more
/// than [`MAX_SIGNATURE_LIFETIME_SECS`] from `now`.
pub(crate) fn check_expiry(expires_at: i64, now: i64) -> Result<()> {
    require!(now <= expires_at, RegistryError::MessageExpired);
    require!(
        expires_at - now <= MAX_SIGNATURE_LIFETIME_SECS,
        RegistryError::ExpiryTooFar
    );
    Ok(())
}

/// Refuses anything but a valid H3 cell at `resolution`.
pub(crate) fn check_location(cell: u64, resolution: u8) -> Result<()> {
    let actual = h3::validate_cell(cell).map_err(|_| RegistryError::InvalidH3Cell)?;
    require_eq!(actual, resolution, RegistryError::WrongH3Resolution);
    Ok(())
}
