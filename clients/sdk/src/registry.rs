//! Instructions of the device registry.

use crate::{anchor_ix, ata};
use anchor_lang::system_program;
use device_registry::{
    accounts, instruction,
    instructions::{AssertLocationArgs, CreateNetworkArgs, OnboardDeviceArgs, UpdateNetworkArgs},
    messages::{AssertLocationMessage, OnboardDeviceMessage},
    pda,
    state::{DeviceStatus, MAX_SEED_LEN, MakerStatus},
};
use solana_sdk::{
    instruction::Instruction, pubkey::Pubkey, signature::Signature, signer::Signer, sysvar,
};

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
    anchor_ix(
        device_registry::ID,
        accounts::CreateNetwork {
            creator: *creator,
            network,
            reward_mint: *reward_mint,
            system_program: system_program::ID,
        },
        instruction::CreateNetwork { args },
    )
}

/// `update_network`, signed by the network authority.
pub fn update_network(
    authority: &Pubkey,
    network: &Pubkey,
    args: UpdateNetworkArgs,
) -> Instruction {
    anchor_ix(
        device_registry::ID,
        accounts::UpdateNetwork {
            authority: *authority,
            network: *network,
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

/// The message a device signs to be onboarded (program id filled in).
pub fn onboard_message(
    network: &Pubkey,
    owner: &Pubkey,
    device_key: &Pubkey,
    location: u64,
    expires_at: i64,
) -> OnboardDeviceMessage {
    OnboardDeviceMessage {
        program_id: device_registry::ID,
        network: *network,
        owner: *owner,
        device_key: *device_key,
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
        },
        instruction::OnboardDevice { args },
    )
}

/// The device's proof and `onboard_device`, in order, signed here by `device`.
pub fn onboard_device_signed(
    owner: &Pubkey,
    issuing_key: &Pubkey,
    network: &Pubkey,
    device: &dyn Signer,
    location: u64,
    expires_at: i64,
    fee: Option<FeePayment>,
) -> [Instruction; 2] {
    let message = onboard_message(network, owner, &device.pubkey(), location, expires_at);
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
        },
        instruction::AssertLocation { args },
    )
}

/// The device's proof and `assert_location` by the holder of the NFT in their
/// associated token account, signed here by `device`.
pub fn assert_location_signed(
    holder: &Pubkey,
    network: &Pubkey,
    device: &dyn Signer,
    location: u64,
    nonce: u32,
    expires_at: i64,
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
            },
            fee,
        ),
    ]
}
