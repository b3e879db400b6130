//! Instructions of the device registry.

use crate::{anchor_ix, ata};
use anchor_lang::system_program;
use device_registry::{
    EVENT_AUTHORITY_AND_BUMP, accounts, instruction,
    instructions::{AssertLocationArgs, CreateNetworkArgs, OnboardDeviceArgs, UpdateNetworkArgs},
    messages::{AssertLocationMessage, OnboardDeviceMessage},
    pda,
    state::{Device, DeviceStatus, Fee, MAX_SEED_LEN, MakerStatus, Network},
};
use solana_sdk::{
    instruction::Instruction, pubkey::Pubkey, signature::Signature, signer::Signer, sysvar,
};

/// The mint of the non-zero fees among `fees`, which the registry checks when
/// fees are set (`None` when every fee is free).
pub fn charged_fee_mint(fees: &[&Fee]) -> Option<Pubkey> {
    fees.iter().find(|fee| fee.amount > 0).map(|fee| fee.mint)
}

/// The H3 cell at `lat`, `lon` (degrees) at `resolution`, refusing coordinates
/// off the globe: latitude within +-90, longitude within +-180 (a latitude past
/// 90 is usually a swapped pair).
pub fn cell_at(lat: f64, lon: f64, resolution: u8) -> Result<u64, String> {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(format!(
            "latitude {lat} is not within -90 to 90{}",
            if (-180.0..=180.0).contains(&lat) && (-90.0..=90.0).contains(&lon) {
                " (latitude and longitude swapped?)"
            } else {
                ""
            }
        ));
    }
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(format!("longitude {lon} is not within -180 to 180"));
    }
    let resolution = h3o::Resolution::try_from(resolution)
        .map_err(|_| format!("resolution {resolution} is not 0 to 15"))?;
    let point = h3o::LatLng::new(lat, lon).map_err(|e| format!("{lat}, {lon}: {e}"))?;
    Ok(u64::from(point.to_cell(resolution)))
}

/// The center of an H3 cell in degrees (latitude, longitude), to echo where a
/// cell is; `None` for an index that is not a cell.
pub fn cell_center(cell: u64) -> Option<(f64, f64)> {
    let cell = h3o::CellIndex::try_from(cell).ok()?;
    let center = h3o::LatLng::from(cell);
    Some((center.lat(), center.lng()))
}

/// What onboarding a device at `location` (0 for none) charges on `network`
/// now: the value to show the owner and pass as `max_fee`.
pub fn onboarding_fee_total(network: &Network, location: u64) -> u64 {
    let location_fee = if location == Device::NO_LOCATION {
        0
    } else {
        network.location_fee.amount
    };
    network.onboarding_fee.amount.saturating_add(location_fee)
}

/// `create_network`, signed by `creator` (who becomes the authority). A seed
/// longer than 32 bytes is cut for the address, as the program does, so the
/// program's `InvalidSeed` reaches the caller instead of a derivation panic.
pub fn create_network(
    creator: &Pubkey,
    reward_mint: &Pubkey,
    args: CreateNetworkArgs,
) -> Instruction {
    let seed = &args.seed[..args.seed.len().min(MAX_SEED_LEN)];
    let (network, _) = pda::find_network_address(creator, seed);
    let fee_mint = charged_fee_mint(&[&args.onboarding_fee, &args.location_fee]);
    anchor_ix(
        device_registry::ID,
        accounts::CreateNetwork {
            creator: *creator,
            network,
            reward_mint: *reward_mint,
            fee_mint,
            system_program: system_program::ID,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: device_registry::ID,
        },
        instruction::CreateNetwork { args },
    )
}

/// `update_network`, signed by the network authority. `fee_mint` is the mint of
/// the non-zero fees the network will charge, needed when `args` changes a fee
/// (see [`charged_fee_mint`]).
pub fn update_network(
    authority: &Pubkey,
    network: &Pubkey,
    args: UpdateNetworkArgs,
    fee_mint: Option<Pubkey>,
) -> Instruction {
    anchor_ix(
        device_registry::ID,
        accounts::UpdateNetwork {
            authority: *authority,
            network: *network,
            fee_mint,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: device_registry::ID,
        },
        instruction::UpdateNetwork { args },
    )
}

/// `propose_network_authority`, signed by the authority (`None` withdraws).
pub fn propose_network_authority(
    authority: &Pubkey,
    network: &Pubkey,
    new_authority: Option<Pubkey>,
) -> Instruction {
    anchor_ix(
        device_registry::ID,
        accounts::ProposeNetworkAuthority {
            authority: *authority,
            network: *network,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: device_registry::ID,
        },
        instruction::ProposeNetworkAuthority { new_authority },
    )
}

/// `accept_network_authority`, signed by the proposed authority.
pub fn accept_network_authority(new_authority: &Pubkey, network: &Pubkey) -> Instruction {
    anchor_ix(
        device_registry::ID,
        accounts::AcceptNetworkAuthority {
            new_authority: *new_authority,
            network: *network,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: device_registry::ID,
        },
        instruction::AcceptNetworkAuthority {},
    )
}

/// `register_maker` for `issuing_key` (which signs), rent paid by `payer`.
pub fn register_maker(
    payer: &Pubkey,
    issuing_key: &Pubkey,
    network: &Pubkey,
    name: &str,
) -> Instruction {
    anchor_ix(
        device_registry::ID,
        accounts::RegisterMaker {
            payer: *payer,
            issuing_key: *issuing_key,
            network: *network,
            maker: pda::find_maker_address(network, issuing_key).0,
            system_program: system_program::ID,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: device_registry::ID,
        },
        instruction::RegisterMaker {
            name: name.to_string(),
        },
    )
}

/// `set_maker_status`, signed by the network authority.
pub fn set_maker_status(
    authority: &Pubkey,
    network: &Pubkey,
    maker: &Pubkey,
    status: MakerStatus,
) -> Instruction {
    anchor_ix(
        device_registry::ID,
        accounts::SetMakerStatus {
            authority: *authority,
            network: *network,
            maker: *maker,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: device_registry::ID,
        },
        instruction::SetMakerStatus { status },
    )
}

/// `set_device_status`, signed by the network authority.
pub fn set_device_status(
    authority: &Pubkey,
    network: &Pubkey,
    device: &Pubkey,
    status: DeviceStatus,
) -> Instruction {
    anchor_ix(
        device_registry::ID,
        accounts::SetDeviceStatus {
            authority: *authority,
            network: *network,
            device: *device,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: device_registry::ID,
        },
        instruction::SetDeviceStatus { status },
    )
}

/// The token accounts paying a network fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeePayment {
    /// Fee mint.
    pub mint: Pubkey,
    /// Payer's token account.
    pub from: Pubkey,
    /// Treasury's token account.
    pub to: Pubkey,
    /// Token program of the mint.
    pub token_program: Pubkey,
}

impl FeePayment {
    /// Payment from `payer`'s associated account to the `treasury`'s, in `mint`.
    pub fn between_atas(
        payer: &Pubkey,
        treasury: &Pubkey,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Self {
        Self {
            mint: *mint,
            from: ata(payer, mint, token_program),
            to: ata(treasury, mint, token_program),
            token_program: *token_program,
        }
    }
}

/// The nested fee accounts of an instruction (`None`: the network charges none).
pub fn fee_accounts(fee: Option<FeePayment>) -> accounts::FeeAccounts {
    accounts::FeeAccounts {
        fee_mint: fee.map(|f| f.mint),
        payer_fee_account: fee.map(|f| f.from),
        treasury_fee_account: fee.map(|f| f.to),
        fee_token_program: fee.map(|f| f.token_program),
    }
}

/// The Ed25519 program instruction proving the device signed `message`, in the
/// one layout the registry accepts. Use it when the device's key is at hand.
pub fn device_proof(device: &dyn Signer, message: &[u8]) -> Instruction {
    let signature = device.sign_message(message);
    device_proof_from_signature(&device.pubkey(), &signature, message)
}

/// The same proof from a signature made on the device itself (its key never
/// leaves the hardware): the device signs the message bytes printed for it.
pub fn device_proof_from_signature(
    device_key: &Pubkey,
    signature: &Signature,
    message: &[u8],
) -> Instruction {
    solana_ed25519_program::new_ed25519_instruction_with_signature(
        message,
        signature.as_array(),
        &device_key.to_bytes(),
    )
}

/// The message a device signs to be onboarded (program id filled in);
/// `issuing_key` is its maker's, which co-signs the onboarding.
pub fn onboard_message(
    network: &Pubkey,
    owner: &Pubkey,
    device_key: &Pubkey,
    issuing_key: &Pubkey,
    location: u64,
    expires_at: i64,
) -> OnboardDeviceMessage {
    OnboardDeviceMessage {
        program_id: device_registry::ID,
        network: *network,
        owner: *owner,
        device_key: *device_key,
        issuing_key: *issuing_key,
        location,
        expires_at,
    }
}

/// The message a device signs to move (program id filled in); `nonce` is the
/// device's current `location_assert_count`.
pub fn assert_location_message(
    network: &Pubkey,
    device_key: &Pubkey,
    holder: &Pubkey,
    location: u64,
    nonce: u32,
    expires_at: i64,
) -> AssertLocationMessage {
    AssertLocationMessage {
        program_id: device_registry::ID,
        network: *network,
        device_key: *device_key,
        holder: *holder,
        location,
        nonce,
        expires_at,
    }
}

/// `onboard_device`; it must directly follow the device's proof
/// ([`device_proof`] of [`onboard_message`]). Signers: `owner`, `issuing_key`.
pub fn onboard_device(
    owner: &Pubkey,
    issuing_key: &Pubkey,
    network: &Pubkey,
    args: OnboardDeviceArgs,
    fee: Option<FeePayment>,
) -> Instruction {
    let (device, _) = pda::find_device_address(network, &args.device_key);
    let (mint, _) = pda::find_device_mint_address(network, &args.device_key);
    anchor_ix(
        device_registry::ID,
        accounts::OnboardDevice {
            owner: *owner,
            issuing_key: *issuing_key,
            network: *network,
            maker: pda::find_maker_address(network, issuing_key).0,
            device,
            mint,
            owner_nft_account: ata(owner, &mint, &anchor_spl::token_2022::ID),
            fee: fee_accounts(fee),
            instructions: sysvar::instructions::ID,
            token_program: anchor_spl::token_2022::ID,
            associated_token_program: anchor_spl::associated_token::ID,
            system_program: system_program::ID,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: device_registry::ID,
        },
        instruction::OnboardDevice { args },
    )
}

/// The device's proof and `onboard_device`, in order, signed here by `device`.
/// `max_fee` is the most the owner pays in fees (as shown to them).
#[allow(clippy::too_many_arguments)]
pub fn onboard_device_signed(
    owner: &Pubkey,
    issuing_key: &Pubkey,
    network: &Pubkey,
    device: &dyn Signer,
    location: u64,
    expires_at: i64,
    max_fee: u64,
    fee: Option<FeePayment>,
) -> [Instruction; 2] {
    let message = onboard_message(
        network,
        owner,
        &device.pubkey(),
        issuing_key,
        location,
        expires_at,
    );
    [
        device_proof(device, &message.to_bytes()),
        onboard_device(
            owner,
            issuing_key,
            network,
            OnboardDeviceArgs {
                device_key: device.pubkey(),
                location,
                expires_at,
                max_fee,
            },
            fee,
        ),
    ]
}

/// `assert_location`; it must directly follow the device's proof of
/// [`assert_location_message`]. Signer: `holder`.
pub fn assert_location(
    holder: &Pubkey,
    holder_nft_account: &Pubkey,
    network: &Pubkey,
    device_key: &Pubkey,
    args: AssertLocationArgs,
    fee: Option<FeePayment>,
) -> Instruction {
    anchor_ix(
        device_registry::ID,
        accounts::AssertLocation {
            holder: *holder,
            network: *network,
            device: pda::find_device_address(network, device_key).0,
            mint: pda::find_device_mint_address(network, device_key).0,
            holder_nft_account: *holder_nft_account,
            fee: fee_accounts(fee),
            instructions: sysvar::instructions::ID,
            token_program: anchor_spl::token_2022::ID,
            system_program: system_program::ID,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: device_registry::ID,
        },
        instruction::AssertLocation { args },
    )
}

/// The device's proof and `assert_location` by the holder of the NFT in their
/// associated token account, signed here by `device`. `max_fee` is the most
/// the holder pays (as shown to them).
#[allow(clippy::too_many_arguments)]
pub fn assert_location_signed(
    holder: &Pubkey,
    network: &Pubkey,
    device: &dyn Signer,
    location: u64,
    nonce: u32,
    expires_at: i64,
    max_fee: u64,
    fee: Option<FeePayment>,
) -> [Instruction; 2] {
    let key = device.pubkey();
    let message = assert_location_message(network, &key, holder, location, nonce, expires_at);
    let mint = pda::find_device_mint_address(network, &key).0;
    [
        device_proof(device, &message.to_bytes()),
        assert_location(
            holder,
            &ata(holder, &mint, &anchor_spl::token_2022::ID),
            network,
            &key,
            AssertLocationArgs {
                location,
                expires_at,
                max_fee,
            },
            fee,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_off_the_globe_are_refused() {
        assert!(cell_at(37.7749, -122.4194, 12).is_ok());
        assert!(cell_at(91.0, 0.0, 12).unwrap_err().contains("latitude"));
        assert!(cell_at(0.0, 200.0, 12).unwrap_err().contains("longitude"));
        // San Francisco with latitude and longitude swapped.
        assert!(
            cell_at(-122.4194, 37.7749, 12)
                .unwrap_err()
                .contains("swapped")
        );
        assert!(cell_at(f64::NAN, 0.0, 12).is_err());
        assert!(cell_at(0.0, 0.0, 16).unwrap_err().contains("resolution"));
        let cell = cell_at(48.8566, 2.3522, 12).unwrap();
        let (lat, lon) = cell_center(cell).unwrap();
        assert!((lat - 48.8566).abs() < 0.01 && (lon - 2.3522).abs() < 0.01);
    }
}
