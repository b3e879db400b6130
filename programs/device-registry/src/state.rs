//! Accounts owned by the device registry.
//!
//! Every account starts with a `version` byte so a later layout can be migrated
//! in place (we version accounts, not instruction names).

use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

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
/// Shortest delay before an oracle-set change applies: one hour. A reward pool
/// also requires at least one of its epochs (see `reward_pool::create_pool`).
pub const MIN_ORACLE_CHANGE_DELAY_SECS: i64 = 60 * 60;
/// Longest delay before an oracle-set change applies: 90 days.
pub const MAX_ORACLE_CHANGE_DELAY_SECS: i64 = 90 * 24 * 60 * 60;
/// Longest a device signature may stay valid: 7 days from the time it is used.
/// Long enough for a signature made offline on the device, short enough that a
/// leaked one soon expires.
pub const MAX_SIGNATURE_LIFETIME_SECS: i64 = 7 * 24 * 60 * 60;
/// Bytes of an Anchor account discriminator, where every account's data starts.
pub const DISCRIMINATOR_LEN: usize = 8;

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
    /// Oracle keys whose votes count (until a scheduled change applies: read
    /// the set through [`Network::oracle_set`]).
    #[max_len(MAX_ORACLES)]
    pub oracles: Vec<Pubkey>,
    /// Identical oracle votes needed to finalize a result: more than half of
    /// `oracles`, so two disagreeing results can never both finalize.
    pub threshold: u8,
    /// Seconds between scheduling an oracle-set change and its taking effect, so
    /// device owners see a new quorum on chain before it can vote.
    pub oracle_change_delay_secs: i64,
    /// The oracle set and threshold that replace the current ones at `effective_at`.
    pub pending_oracle_change: Option<PendingOracleChange>,
    /// Base of every device NFT's metadata URI.
    #[max_len(MAX_URI_BASE_LEN)]
    pub metadata_uri_base: String,
    /// Makers ever registered.
    pub maker_count: u32,
    /// Devices ever onboarded.
    pub device_count: u64,
}

/// An oracle-set change scheduled by the authority, visible before it applies.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, PartialEq, Eq, Debug)]
pub struct PendingOracleChange {
    /// The new oracle set.
    #[max_len(MAX_ORACLES)]
    pub oracles: Vec<Pubkey>,
    /// The new threshold.
    pub threshold: u8,
    /// Unix time from which the new set counts.
    pub effective_at: i64,
}

/// The oracles whose votes count at some moment, and how many must agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OracleSet<'a> {
    /// Oracle keys.
    pub oracles: &'a [Pubkey],
    /// Identical votes needed.
    pub threshold: u8,
}

impl OracleSet<'_> {
    /// Whether `key` is one of the oracles.
    pub fn contains(&self, key: &Pubkey) -> bool {
        self.oracles.contains(key)
    }
}

impl Network {
    /// The oracle set in force at unix time `now`: the scheduled change once its
    /// time has come, else the current set. Every quorum reads it through here,
    /// so a change applies everywhere at the same moment without a transaction.
    pub fn oracle_set(&self, now: i64) -> OracleSet<'_> {
        match &self.pending_oracle_change {
            Some(change) if now >= change.effective_at => OracleSet {
                oracles: &change.oracles,
                threshold: change.threshold,
            },
            _ => OracleSet {
                oracles: &self.oracles,
                threshold: self.threshold,
            },
        }
    }

    /// Makes a scheduled change whose time has come the current set.
    pub fn apply_due_oracle_change(&mut self, now: i64) {
        if let Some(change) = self.pending_oracle_change.take() {
            if now >= change.effective_at {
                self.oracles = change.oracles;
                self.threshold = change.threshold;
            } else {
                self.pending_oracle_change = Some(change);
            }
        }
    }
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

impl Maker {
    /// Byte offset of `network` in a `Maker` account, for `getProgramAccounts` filters.
    pub const NETWORK_OFFSET: usize = DISCRIMINATOR_LEN + 1 + 1;
}

impl Device {
    /// `location` of a device that has not asserted one (0 is never a valid H3 cell).
    pub const NO_LOCATION: u64 = 0;
    /// Byte offset of `network` in a `Device` account (after discriminator,
    /// version and two bumps), for `getProgramAccounts` filters.
    pub const NETWORK_OFFSET: usize = DISCRIMINATOR_LEN + 1 + 1 + 1;

    /// The one rule for "this token account holds the device": it is a Token-2022
    /// account of the device's NFT mint holding the one token, and, when
    /// `holder` is given, owned by that wallet. Whoever owns that account owns
    /// the device's rewards, payments and location.
    pub fn is_held_in(
        &self,
        nft_account: &InterfaceAccount<TokenAccount>,
        holder: Option<&Pubkey>,
    ) -> bool {
        nft_account.mint == self.mint
            && nft_account.amount == 1
            && *nft_account.to_account_info().owner == anchor_spl::token_2022::ID
            && holder.is_none_or(|holder| nft_account.owner == *holder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Pubkey {
        Pubkey::new_from_array([byte; 32])
    }

    #[test]
    fn filter_offsets_find_their_fields() {
        let device = Device {
            version: 1,
            bump: 2,
            mint_bump: 3,
            network: key(9),
            device_key: key(1),
            maker: key(2),
            mint: key(3),
            location: 4,
            status: DeviceStatus::Active,
            onboarded_at: 5,
            location_asserted_at: 6,
            location_assert_count: 7,
        };
        let mut data = Vec::new();
        device.try_serialize(&mut data).unwrap();
        let at = Device::NETWORK_OFFSET;
        assert_eq!(&data[at..at + 32], key(9).as_ref());

        let maker = Maker {
            version: 1,
            bump: 2,
            network: key(9),
            issuing_key: key(1),
            name: "m".into(),
            status: MakerStatus::Approved,
            registered_at: 0,
            device_count: 0,
        };
        let mut data = Vec::new();
        maker.try_serialize(&mut data).unwrap();
        let at = Maker::NETWORK_OFFSET;
        assert_eq!(&data[at..at + 32], key(9).as_ref());
    }

    #[test]
    fn a_scheduled_oracle_change_applies_at_its_time() {
        let mut network = crate::quorum::tests::network(&[key(1), key(2), key(3)], 2);
        network.pending_oracle_change = Some(PendingOracleChange {
            oracles: vec![key(4)],
            threshold: 1,
            effective_at: 100,
        });
        assert_eq!(network.oracle_set(99).oracles, &[key(1), key(2), key(3)]);
        assert_eq!(network.oracle_set(100).oracles, &[key(4)]);
        assert_eq!(network.oracle_set(100).threshold, 1);
        network.apply_due_oracle_change(99);
        assert!(network.pending_oracle_change.is_some());
        network.apply_due_oracle_change(100);
        assert_eq!(network.oracles, vec![key(4)]);
        assert_eq!(network.threshold, 1);
        assert!(network.pending_oracle_change.is_none());
    }
}
