//! Accounts owned by the device registry.
//!
//! Every account starts with a `version` byte so a later layout can be migrated
//! in place (we version accounts, not instruction names).

use anchor_lang::prelude::*;

/// Most oracles a network may name; bounds every loop over the set (16 x 32 bytes).
pub const MAX_ORACLES: usize = 16;
/// Longest network or maker display name, in bytes.
pub const MAX_NAME_LEN: usize = 32;
/// Longest seed a network creator may choose, in bytes (a PDA seed is at most 32).
pub const MAX_SEED_LEN: usize = 32;
/// Longest NFT symbol, in bytes (Metaplex's limit, which wallets expect).
pub const MAX_SYMBOL_LEN: usize = 10;
/// Longest metadata URI base; the device key in base58 and `.json` are appended.
pub const MAX_URI_BASE_LEN: usize = 128;
/// Layout version written into new accounts.
pub const ACCOUNT_VERSION: u8 = 1;

/// What kind of physical infrastructure a network rewards; decides the oracle rules.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Category {
    /// Hotspots proving radio coverage (Helium-style).
    Wireless,
    /// Dashcams mapping H3 cells (Hivemapper-style).
    Mapping,
    /// Drives proving they keep stored data (Filecoin-style).
    Storage,
    /// GPUs running paid jobs (Render / Nosana-style).
    Compute,
}

impl Category {
    /// The lowercase name written into each device NFT's metadata.
    pub fn as_str(&self) -> &'static str {
        match self {
            Category::Wireless => "wireless",
            Category::Mapping => "mapping",
            Category::Storage => "storage",
            Category::Compute => "compute",
        }
    }
}

/// A fee charged in some SPL / Token-2022 mint; an amount of 0 means free.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fee {
    /// Mint the fee is paid in.
    pub mint: Pubkey,
    /// Amount in the mint's base units.
    pub amount: u64,
}

/// One DePIN network: its rules, fees and oracle set.
#[account]
#[derive(InitSpace, Debug)]
pub struct Network {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// Who created the network; part of the PDA seeds, never changes.
    pub creator: Pubkey,
    /// The seed the creator chose; part of the PDA seeds, never changes.
    #[max_len(MAX_SEED_LEN)]
    pub seed: Vec<u8>,
    /// Current authority: approves makers, sets fees, oracles and device status.
    pub authority: Pubkey,
    /// Authority proposed by the current one; takes over when it accepts.
    pub pending_authority: Option<Pubkey>,
    /// Display name.
    #[max_len(MAX_NAME_LEN)]
    pub name: String,
    /// Symbol of the device NFTs.
    #[max_len(MAX_SYMBOL_LEN)]
    pub symbol: String,
    /// Kind of infrastructure.
    pub category: Category,
    /// Mint rewards are paid in.
    pub reward_mint: Pubkey,
    /// Wallet that owns the token accounts fees are paid into (one per fee mint).
    pub treasury: Pubkey,
    /// Charged once when a device is onboarded.
    pub onboarding_fee: Fee,
    /// Charged whenever a device's asserted cell changes.
    pub location_fee: Fee,
    /// H3 resolution every asserted location must have.
    pub location_resolution: u8,
    /// Oracle keys whose votes count.
    #[max_len(MAX_ORACLES)]
    pub oracles: Vec<Pubkey>,
    /// Identical oracle votes needed to finalize a result (1..=oracles.len()).
    pub threshold: u8,
    /// Base of every device NFT's metadata URI.
    #[max_len(MAX_URI_BASE_LEN)]
    pub metadata_uri_base: String,
    /// Makers ever registered.
    pub maker_count: u32,
    /// Devices ever onboarded.
    pub device_count: u64,
}

/// Whether a maker's devices may be onboarded.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, PartialEq, Eq, Debug)]
pub enum MakerStatus {
    /// Registered, waiting for the network authority.
    Pending,
    /// Its issuing key may co-sign onboardings.
    Approved,
    /// No longer trusted; devices already onboarded stay.
    Revoked,
}

/// A device manufacturer; its issuing key co-signs every onboarding of its devices.
#[account]
#[derive(InitSpace, Debug)]
pub struct Maker {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// Network the maker builds for.
    pub network: Pubkey,
    /// Key that co-signs onboardings.
    pub issuing_key: Pubkey,
    /// Display name.
    #[max_len(MAX_NAME_LEN)]
    pub name: String,
    /// Set by the network authority.
    pub status: MakerStatus,
    /// Unix time of registration.
    pub registered_at: i64,
    /// Devices onboarded with this maker's key.
    pub device_count: u64,
}

/// Whether a device takes part in the network.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DeviceStatus {
    /// Earns and may be used.
    Active,
    /// Suspended by the network authority: no rewards, no location changes.
    Suspended,
}

/// One onboarded device. Whoever holds its NFT owns it.
#[account]
#[derive(InitSpace, Debug)]
pub struct Device {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// Bump of the NFT mint PDA.
    pub mint_bump: u8,
    /// Network the device belongs to.
    pub network: Pubkey,
    /// The device's own ed25519 key; signs its reports and location changes.
    pub device_key: Pubkey,
    /// Maker account whose issuing key co-signed the onboarding.
    pub maker: Pubkey,
    /// The device NFT (Token-2022, supply 1).
    pub mint: Pubkey,
    /// Asserted H3 cell index, or [`Device::NO_LOCATION`].
    pub location: u64,
    /// Active or suspended.
    pub status: DeviceStatus,
    /// Unix time of onboarding.
    pub onboarded_at: i64,
    /// Unix time of the last location change, 0 if never.
    pub location_asserted_at: i64,
    /// Location assertions so far; also the nonce the device signs, so each
    /// device signature can be used once.
    pub location_assert_count: u32,
}

impl Device {
    /// `location` of a device that has not asserted one (0 is never a valid H3 cell).
    pub const NO_LOCATION: u64 = 0;
}
