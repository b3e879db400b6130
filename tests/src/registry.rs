//! Device-registry fixtures: instruction builders over the program's own Anchor
//! client types and a ready network (fee mint, treasury, approved maker).

use crate::harness::{Harness, ata, token_id};
pub use depinkit_sdk::registry::{
    FeePayment, accept_network_authority, assert_location, create_network, device_proof,
    fee_accounts, onboard_device, propose_network_authority, register_maker, set_device_status,
    set_maker_status, update_network,
};
use device_registry::{
    instructions::{AssertLocationArgs, CreateNetworkArgs, OnboardDeviceArgs},
    messages::{AssertLocationMessage, OnboardDeviceMessage},
    pda,
    state::{Category, Fee, MakerStatus},
};
use h3o::{LatLng, Resolution};
use solana_program_test::BanksClientError;
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

/// Onboarding fee of the fixture network, in fee-mint base units.
pub const ONBOARDING_FEE: u64 = 40_000_000;
/// Location fee of the fixture network, in fee-mint base units.
pub const LOCATION_FEE: u64 = 1_000_000;
/// H3 resolution of the fixture network.
pub const RESOLUTION: u8 = 12;
/// Fee-mint tokens each fixture wallet starts with.
pub const WALLET_FEE_TOKENS: u64 = 1_000_000_000;
/// Oracle-change delay of the fixture network: one day.
pub const ORACLE_CHANGE_DELAY: i64 = 86_400;

/// What onboarding at `location` costs on the fixture network.
pub fn onboarding_fee(location: u64) -> u64 {
    if location == 0 {
        ONBOARDING_FEE
    } else {
        ONBOARDING_FEE + LOCATION_FEE
    }
}

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
        oracle_change_delay_secs: ORACLE_CHANGE_DELAY,
        metadata_uri_base: "https://example.org/devices/".to_string(),
    }
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
        let ix = create_network(&authority.pubkey(), &reward_mint, args);
        h.send(&[ix], &[&authority]).await.expect("create network");
        let (network, _) = pda::find_network_address(&authority.pubkey(), seed.as_bytes());

        let issuing_key = Keypair::new();
        let maker = pda::find_maker_address(&network, &issuing_key.pubkey()).0;
        let register = register_maker(&payer, &issuing_key.pubkey(), &network, "Acme Radios");
        h.send(&[register], &[&issuing_key])
            .await
            .expect("register maker");
        let approve =
            set_maker_status(&authority.pubkey(), &network, &maker, MakerStatus::Approved);
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
            issuing_key: self.issuing_key.pubkey(),
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
            device_proof(device, &message.to_bytes()),
            onboard_device(
                owner,
                &self.issuing_key.pubkey(),
                &self.network,
                OnboardDeviceArgs {
                    device_key: device.pubkey(),
                    location,
                    expires_at,
                    max_fee: onboarding_fee(location),
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
            device_proof(device, &message.to_bytes()),
            assert_location(
                holder,
                &ata(holder, &mint, &anchor_spl::token_2022::ID),
                &self.network,
                &device.pubkey(),
                AssertLocationArgs {
                    location,
                    expires_at,
                    max_fee: LOCATION_FEE,
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
