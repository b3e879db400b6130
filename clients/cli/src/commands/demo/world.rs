//! What the demo puts on its chain: a reward token, and per category a
//! network with its oracles, an approved maker, a funded reward pool of short
//! epochs, payments, and the onboarded devices (their keys made on the
//! device side, each with its owner's wallet holding the NFT).

use super::DemoError;
use depinkit_device::{DeviceKey, Position, layout};
use depinkit_sdk::{
    accounts,
    payments::{self, PaymentsKeys},
    pool::{self, PoolKeys},
    registry,
    sender::TransactionSender,
    tokens,
};
use device_registry::{
    instructions::CreateNetworkArgs,
    pda,
    state::{Category, Fee, MakerStatus},
};
use reward_pool::{
    instructions::CreatePoolArgs,
    state::{EmissionSchedule, FundingKind},
};
use service_payments::instructions::InitPaymentsArgs;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use std::sync::Arc;

/// The reward token's decimals.
pub const DECIMALS: u8 = 6;
/// Reward tokens (base units) each epoch emits on each network: 1,000 tokens.
pub const EMISSION: u64 = 1_000_000_000;
/// The classic SPL Token program (the demo's reward mint).
pub const SPL_TOKEN: Pubkey = anchor_spl::token::ID;

/// The demo's connection to its chain, and the wallet that pays for it all.
pub struct DemoChain {
    /// JSON-RPC.
    pub rpc: Arc<RpcClient>,
    /// Sends and confirms.
    pub sender: TransactionSender,
    /// The localnet's funded wallet: mint authority and fee payer.
    pub payer: Keypair,
}

impl DemoChain {
    /// Sends `instructions` signed by the payer and `signers`.
    pub async fn send(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), DemoError> {
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend(signers.iter().filter(|s| s.pubkey() != self.payer.pubkey()));
        self.sender
            .send(instructions, &self.payer.pubkey(), &all)
            .await
            .map(|_| ())
            .map_err(|e| DemoError::Chain(e.to_string()))
    }

    /// A new wallet with `sol` SOL from the payer.
    pub async fn wallet(&self, sol: u64) -> Result<Keypair, DemoError> {
        let wallet = Keypair::new();
        let fund = anchor_lang::solana_program::system_instruction::transfer(
            &self.payer.pubkey(),
            &wallet.pubkey(),
            sol * 1_000_000_000,
        );
        self.send(&[fund], &[]).await?;
        Ok(wallet)
    }

    /// The chain's clock, unix seconds.
    pub async fn now(&self) -> Result<i64, DemoError> {
        accounts::chain_time(&self.rpc)
            .await
            .map_err(|e| DemoError::Chain(e.to_string()))
    }
}

/// One device as the demo plays it.
pub struct DemoDevice {
    /// Its key (on the device side).
    pub key: DeviceKey,
    /// Where it is.
    pub place: Position,
    /// Its NFT.
    pub mint: Pubkey,
    /// Its registry account (what orders name as their provider).
    pub address: Pubkey,
}

/// One network of the demo.
pub struct DemoNetwork {
    /// Its category.
    pub category: Category,
    /// Its address.
    pub address: Pubkey,
    /// Its authority (creates the pool).
    pub authority: Keypair,
    /// Its oracles' keys.
    pub oracles: Vec<Keypair>,
    /// The wallet every device's NFT is held by.
    pub owner: Keypair,
    /// Its devices.
    pub devices: Vec<DemoDevice>,
    /// Its reward pool's accounts.
    pub pool: PoolKeys,
}

/// Where each category's devices are: a city each.
fn center(category: Category) -> Position {
    match category {
        Category::Wireless => Position::degrees(48.8566, 2.3522),
        Category::Mapping => Position::degrees(37.7749, -122.4194),
        Category::Storage => Position::degrees(52.52, 13.405),
        Category::Compute => Position::degrees(35.6762, 139.6503),
    }
}

/// The reward token, minted by the payer.
pub async fn reward_mint(chain: &DemoChain) -> Result<Pubkey, DemoError> {
    let mint = Keypair::new();
    let rent = chain
        .rpc
        .get_minimum_balance_for_rent_exemption(tokens::MINT_LEN)
        .await
        .map_err(|e| DemoError::Chain(e.to_string()))?;
    let create = tokens::create_mint(
        &chain.payer.pubkey(),
        &mint.pubkey(),
        &chain.payer.pubkey(),
        DECIMALS,
        rent,
    );
    chain.send(&create, &[&mint]).await?;
    Ok(mint.pubkey())
}

/// A network of `category` with `oracles` oracles (a strict majority
/// finalizing), payments, and `devices` onboarded devices; its pool comes
/// with [`open_pool`].
pub async fn network(
    chain: &DemoChain,
    mint: &Pubkey,
    category: Category,
    oracles: usize,
    devices: usize,
) -> Result<DemoNetwork, DemoError> {
    let authority = chain.wallet(10).await?;
    let oracle_keys: Vec<Keypair> = {
        let mut keys = Vec::new();
        for _ in 0..oracles {
            keys.push(chain.wallet(10).await?);
        }
        keys
    };
    let name = format!("demo-{}", category_name(category));
    let free = Fee {
        mint: *mint,
        amount: 0,
    };
    let args = CreateNetworkArgs {
        seed: name.as_bytes().to_vec(),
        name: format!("Demo {}", category_name(category)),
        symbol: "DEMO".into(),
        category,
        treasury: authority.pubkey(),
        onboarding_fee: free,
        location_fee: free,
        location_resolution: 12,
        oracles: oracle_keys.iter().map(|o| o.pubkey()).collect(),
        threshold: (oracles / 2 + 1) as u8,
        oracle_change_delay_secs: 86_400,
        metadata_uri_base: "https://example.org/demo/".into(),
    };
    let address = pda::find_network_address(&authority.pubkey(), name.as_bytes()).0;
    chain
        .send(
            &[registry::create_network(&authority.pubkey(), mint, args)],
            &[&authority],
        )
        .await?;

    // A maker, approved; its issuing key co-signs each onboarding.
    let issuing_key = Keypair::new();
    let maker = pda::find_maker_address(&address, &issuing_key.pubkey()).0;
    chain
        .send(
            &[registry::register_maker(
                &chain.payer.pubkey(),
                &issuing_key.pubkey(),
                &address,
                "Demo Devices",
            )],
            &[&issuing_key],
        )
        .await?;
    chain
        .send(
            &[registry::set_maker_status(
                &authority.pubkey(),
                &address,
                &maker,
                MakerStatus::Approved,
            )],
            &[&authority],
        )
        .await?;

    // Payments, for the customers' orders.
    let payments = PaymentsKeys::new(&address, mint, &SPL_TOKEN);
    let init = payments::init_payments(
        &authority.pubkey(),
        &payments,
        InitPaymentsArgs {
            credits_decimals: 0,
            credit_usd_micros: 10,
            max_price_age_secs: 3_600,
            order_fee_bps: 500,
            pool_share_bps: 1_000,
            withdrawal_notice_secs: 3_600,
        },
    );
    chain.send(&[init], &[&authority]).await?;

    // The devices: keys made on the device side, onboarded by one owner.
    let owner = chain.wallet(10).await?;
    let places = layout(devices, center(category), 1_000.0, 0);
    let expires_at = chain.now().await? + 3_600;
    let mut onboarded = Vec::with_capacity(devices);
    let mut sends = Vec::with_capacity(devices);
    for place in places {
        let key = DeviceKey::generate();
        let signer = Keypair::try_from(&key.signing().to_keypair_bytes()[..])
            .map_err(|e| DemoError::Chain(e.to_string()))?;
        let cell = registry::cell_at(place.lat(), place.lon(), 12).map_err(DemoError::Chain)?;
        sends.push(registry::onboard_device_signed(
            &owner.pubkey(),
            &issuing_key.pubkey(),
            &address,
            &signer,
            cell,
            expires_at,
            0,
            None,
        ));
        onboarded.push(DemoDevice {
            mint: pda::find_device_mint_address(&address, &signer.pubkey()).0,
            address: pda::find_device_address(&address, &signer.pubkey()).0,
            key,
            place,
        });
    }
    // Onboarded 32 at a time: each transaction is independent.
    let signers = [&owner, &issuing_key];
    for batch in sends.chunks(32) {
        let sent = futures_util::future::join_all(
            batch.iter().map(|onboard| chain.send(onboard, &signers)),
        )
        .await;
        sent.into_iter().collect::<Result<Vec<()>, _>>()?;
    }
    let pool = PoolKeys::new(&address, mint, &SPL_TOKEN);
    Ok(DemoNetwork {
        category,
        address,
        authority,
        oracles: oracle_keys,
        owner,
        devices: onboarded,
        pool,
    })
}

/// `network`'s reward pool: epochs of `epoch_secs` from `start`, funded for
/// `epochs` epochs by the payer.
pub async fn open_pool(
    chain: &DemoChain,
    network: &DemoNetwork,
    mint: &Pubkey,
    epoch_secs: i64,
    epochs: u32,
    start: i64,
) -> Result<(), DemoError> {
    let schedule = EmissionSchedule {
        initial_per_epoch: EMISSION,
        decay_interval_epochs: 0,
        retain_bps: 10_000,
    };
    chain
        .send(
            &[pool::create_pool(
                &network.authority.pubkey(),
                &network.address,
                &network.pool,
                CreatePoolArgs {
                    start_time: start,
                    epoch_length_secs: epoch_secs,
                    schedule,
                },
            )],
            &[&network.authority],
        )
        .await?;
    let funding = EMISSION * u64::from(epochs);
    mint_to(chain, mint, &chain.payer.pubkey(), funding).await?;
    let funder = depinkit_sdk::ata(&chain.payer.pubkey(), mint, &SPL_TOKEN);
    chain
        .send(
            &[pool::fund_pool(
                &chain.payer.pubkey(),
                &network.pool,
                &funder,
                funding,
                FundingKind::Emissions,
            )],
            &[],
        )
        .await?;

    Ok(())
}

/// Mints `amount` base units of the reward token `mint` to `owner`'s
/// associated account (created if need be); the payer is the mint authority.
pub async fn mint_to(
    chain: &DemoChain,
    mint: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Result<(), DemoError> {
    let info = tokens::MintInfo {
        address: *mint,
        token_program: SPL_TOKEN,
        decimals: DECIMALS,
        symbol: None,
        supply: 0,
        mint_authority: Some(chain.payer.pubkey()),
        freeze_authority: None,
    };
    let instructions = tokens::mint_to_owner(
        &chain.payer.pubkey(),
        &info,
        owner,
        &chain.payer.pubkey(),
        amount,
    );
    chain.send(&instructions, &[]).await
}

/// A category's name as configs and output spell it.
pub fn category_name(category: Category) -> &'static str {
    match category {
        Category::Wireless => "wireless",
        Category::Mapping => "mapping",
        Category::Storage => "storage",
        Category::Compute => "compute",
    }
}
