//! Device-registry fixtures: instruction builders over the program's own Anchor
//! client types and a ready network (fee mint, treasury, approved maker).

use crate::harness::{Harness, anchor_ix, ata, token_id};
use anchor_lang::system_program;
use device_registry::{
    accounts, instruction,
    instructions::{AssertLocationArgs, CreateNetworkArgs, OnboardDeviceArgs, UpdateNetworkArgs},
    messages::{AssertLocationMessage, OnboardDeviceMessage},
    pda,
    state::{Category, DeviceStatus, Fee, MakerStatus},
};
use h3o::{LatLng, Resolution};
use solana_program_test::BanksClientError;
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
    sysvar,
};

/// Onboarding fee of the fixture network, in fee-mint base units.
pub const ONBOARDING_FEE: u64 = 40_000_000;
/// Location fee of the fixture network, in fee-mint base units.
pub const LOCATION_FEE: u64 = 1_000_000;
/// H3 resolution of the fixture network.
pub const RESOLUTION: u8 = 12;
/// Fee-mint tokens each fixture wallet starts with.
pub const WALLET_FEE_TOKENS: u64 = 1_000_000_000;

/// An H3 cell at [`RESOLUTION`] near the given coordinates.
pub fn cell(lat: f64, lng: f64) -> u64 {
    let res = Resolution::try_from(RESOLUTION).expect("resolution");
    u64::from(LatLng::new(lat, lng).expect("coordinates").to_cell(res))
}

/// Arguments of a network with fees paid in `fee_mint` and one oracle per key.
pub fn network_args(
    seed: &str,
    treasury: Pubkey,
    fee_mint: Pubkey,
    oracles: Vec<Pubkey>,
) -> CreateNetworkArgs {
    CreateNetworkArgs {
        seed: seed.as_bytes().to_vec(),
        name: "Test Wireless".to_string(),
        symbol: "TWD".to_string(),
        category: Category::Wireless,
        treasury,
        onboarding_fee: Fee {
            mint: fee_mint,
            amount: ONBOARDING_FEE,
        },
        location_fee: Fee {
            mint: fee_mint,
            amount: LOCATION_FEE,
        },
        location_resolution: RESOLUTION,
        threshold: 1,
        oracles,
        metadata_uri_base: "https://example.org/devices/".to_string(),
    }
}

/// `create_network` signed by `creator`. An over-long seed is cut to 32 bytes
/// for the address, as the program does, so that tests reach its refusal.
pub fn create_network_ix(
    creator: &Pubkey,
    reward_mint: &Pubkey,
    args: CreateNetworkArgs,
) -> Instruction {
    let seed = &args.seed[..args.seed.len().min(32)];
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

/// `update_network` signed by `authority`.
pub fn update_network_ix(
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

/// `propose_network_authority` signed by `authority`.
pub fn propose_authority_ix(
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

/// `accept_network_authority` signed by `new_authority`.
pub fn accept_authority_ix(new_authority: &Pubkey, network: &Pubkey) -> Instruction {
    anchor_ix(
        device_registry::ID,
        accounts::AcceptNetworkAuthority {
            new_authority: *new_authority,
            network: *network,
        },
        instruction::AcceptNetworkAuthority {},
    )
}

/// `register_maker` for `issuing_key`, rent paid by `payer`.
pub fn register_maker_ix(
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

/// `set_maker_status` signed by `authority`.
pub fn set_maker_status_ix(
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

/// `set_device_status` signed by `authority`.
pub fn set_device_status_ix(
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

/// Token accounts paying a fee.
#[derive(Clone, Copy, Debug)]
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

/// The nested fee accounts of an instruction; `None` passes none.
pub fn fee_accounts(fee: Option<FeePayment>) -> accounts::FeeAccounts {
    accounts::FeeAccounts {
        fee_mint: fee.map(|f| f.mint),
        payer_fee_account: fee.map(|f| f.from),
        treasury_fee_account: fee.map(|f| f.to),
        fee_token_program: fee.map(|f| f.token_program),
    }
}

/// The Ed25519 program instruction proving `signer` signed `message`, in the
/// strict layout the registry accepts.
pub fn device_signature_ix(signer: &Keypair, message: &[u8]) -> Instruction {
    let signature = signer.sign_message(message);
    solana_ed25519_program::new_ed25519_instruction_with_signature(
        message,
        signature.as_array(),
        &signer.pubkey().to_bytes(),
    )
}

/// `onboard_device` (without the Ed25519 instruction that must precede it).
pub fn onboard_device_ix(
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

/// `assert_location` (without the Ed25519 instruction that must precede it).
pub fn assert_location_ix(
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

/// A network with fees, a treasury and one approved maker, ready for onboarding.
pub struct NetworkFixture {
    /// The network account.
    pub network: Pubkey,
    /// Its authority (also the creator).
    pub authority: Keypair,
    /// Reward mint.
    pub reward_mint: Pubkey,
    /// Fee mint (SPL Token), whose authority is the harness payer.
    pub fee_mint: Pubkey,
    /// Treasury wallet.
    pub treasury: Pubkey,
    /// Treasury's fee-mint token account.
    pub treasury_fee_account: Pubkey,
    /// The approved maker's issuing key.
    pub issuing_key: Keypair,
    /// The approved maker account.
    pub maker: Pubkey,
    /// The oracle set (threshold 2), funded wallets.
    pub oracles: Vec<Keypair>,
}

impl NetworkFixture {
    /// Creates the network (seed `seed`) and approves one maker.
    pub async fn create(h: &mut Harness, seed: &str) -> Self {
        let authority = h.funded_wallet().await;
        let payer = h.payer().pubkey();
        let reward_mint = h.create_mint(&token_id(), &payer, 6).await;
        let fee_mint = h.create_mint(&token_id(), &payer, 6).await;
        let treasury = Pubkey::new_unique();
        let treasury_fee_account = h.create_ata(&treasury, &fee_mint, &token_id()).await;
        // Funded: oracles pay for the vote records some programs create.
        let mut oracles = Vec::new();
        for _ in 0..3 {
            oracles.push(h.funded_wallet().await);
        }
        let oracle_keys = oracles.iter().map(|o| o.pubkey()).collect();
        let mut args = network_args(seed, treasury, fee_mint, oracle_keys);
        args.threshold = 2;
        let ix = create_network_ix(&authority.pubkey(), &reward_mint, args);
        h.send(&[ix], &[&authority]).await.expect("create network");
        let (network, _) = pda::find_network_address(&authority.pubkey(), seed.as_bytes());

        let issuing_key = Keypair::new();
        let maker = pda::find_maker_address(&network, &issuing_key.pubkey()).0;
        let register = register_maker_ix(&payer, &issuing_key.pubkey(), &network, "Acme Radios");
        h.send(&[register], &[&issuing_key])
            .await
            .expect("register maker");
        let approve =
            set_maker_status_ix(&authority.pubkey(), &network, &maker, MakerStatus::Approved);
        h.send(&[approve], &[&authority])
            .await
            .expect("approve maker");
        Self {
            network,
            authority,
            reward_mint,
            fee_mint,
            treasury,
            treasury_fee_account,
            issuing_key,
            maker,
            oracles,
        }
    }

    /// A funded wallet holding [`WALLET_FEE_TOKENS`] of the fee mint.
    pub async fn owner(&self, h: &mut Harness) -> Keypair {
        let owner = h.funded_wallet().await;
        let account = h
            .create_ata(&owner.pubkey(), &self.fee_mint, &token_id())
            .await;
        let mint_authority = h.payer().insecure_clone();
        h.mint_to(
            &token_id(),
            &self.fee_mint,
            &account,
            &mint_authority,
            WALLET_FEE_TOKENS,
        )
        .await;
        owner
    }

    /// The fee accounts `payer` uses.
    pub fn fee_payment(&self, payer: &Pubkey) -> FeePayment {
        FeePayment {
            mint: self.fee_mint,
            from: ata(payer, &self.fee_mint, &token_id()),
            to: self.treasury_fee_account,
            token_program: token_id(),
        }
    }

    /// The onboarding message `device` signs for `owner`.
    pub fn onboard_message(
        &self,
        owner: &Pubkey,
        device: &Pubkey,
        location: u64,
        expires_at: i64,
    ) -> OnboardDeviceMessage {
        OnboardDeviceMessage {
            program_id: device_registry::ID,
            network: self.network,
            owner: *owner,
            device_key: *device,
            location,
            expires_at,
        }
    }

    /// The instructions of a correct onboarding: Ed25519 proof, then onboarding.
    pub fn onboard_ixs(
        &self,
        owner: &Pubkey,
        device: &Keypair,
        location: u64,
        expires_at: i64,
    ) -> Vec<Instruction> {
        let message = self.onboard_message(owner, &device.pubkey(), location, expires_at);
        vec![
            device_signature_ix(device, &message.to_bytes()),
            onboard_device_ix(
                owner,
                &self.issuing_key.pubkey(),
                &self.network,
                OnboardDeviceArgs {
                    device_key: device.pubkey(),
                    location,
                    expires_at,
                },
                Some(self.fee_payment(owner)),
            ),
        ]
    }

    /// Onboards `device` for `owner` at `location`, signed as a real client would.
    pub async fn onboard(
        &self,
        h: &mut Harness,
        owner: &Keypair,
        device: &Keypair,
        location: u64,
    ) -> Result<(), BanksClientError> {
        let expires_at = h.clock().await.unix_timestamp + 600;
        let ixs = self.onboard_ixs(&owner.pubkey(), device, location, expires_at);
        h.send(&ixs, &[owner, &self.issuing_key]).await
    }

    /// The instructions of a correct location assertion by `holder`.
    pub fn assert_location_ixs(
        &self,
        holder: &Pubkey,
        device: &Keypair,
        location: u64,
        nonce: u32,
        expires_at: i64,
    ) -> Vec<Instruction> {
        let message = AssertLocationMessage {
            program_id: device_registry::ID,
            network: self.network,
            device_key: device.pubkey(),
            holder: *holder,
            location,
            nonce,
            expires_at,
        };
        let mint = pda::find_device_mint_address(&self.network, &device.pubkey()).0;
        vec![
            device_signature_ix(device, &message.to_bytes()),
            assert_location_ix(
                holder,
                &ata(holder, &mint, &anchor_spl::token_2022::ID),
                &self.network,
                &device.pubkey(),
                AssertLocationArgs {
                    location,
                    expires_at,
                },
                Some(self.fee_payment(holder)),
            ),
        ]
    }

    /// Device PDA of `device`.
    pub fn device_address(&self, device: &Pubkey) -> Pubkey {
        pda::find_device_address(&self.network, device).0
    }

    /// NFT mint of `device`.
    pub fn mint_address(&self, device: &Pubkey) -> Pubkey {
        pda::find_device_mint_address(&self.network, device).0
    }
}
