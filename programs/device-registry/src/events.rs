//! Events the device registry emits through `emit_cpi!`: they reach the
//! transaction's metadata as inner instructions (unlike logs, which can be
//! truncated), so oracles and indexers follow the registry without polling.
//! `depinkit_sdk::events` decodes them.

use crate::state::{Category, DeviceStatus, Fee, MakerStatus, PendingOracleChange};
use anchor_lang::prelude::*;

/// A network was created.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkCreated {
    /// The network.
    pub network: Pubkey,
    /// Its creator and first authority.
    pub creator: Pubkey,
    /// Kind of infrastructure.
    pub category: Category,
    /// Mint rewards are paid in.
    pub reward_mint: Pubkey,
    /// Oracle keys.
    pub oracles: Vec<Pubkey>,
    /// Identical votes needed.
    pub threshold: u8,
    /// Delay before an oracle-set change applies.
    pub oracle_change_delay_secs: i64,
}

/// A network's settings changed; every setting `update_network` can touch is
/// given as it is now, including a scheduled oracle-set change.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkUpdated {
    /// The network.
    pub network: Pubkey,
    /// Display name.
    pub name: String,
    /// Treasury wallet.
    pub treasury: Pubkey,
    /// Onboarding fee.
    pub onboarding_fee: Fee,
    /// Location fee.
    pub location_fee: Fee,
    /// Metadata URI base.
    pub metadata_uri_base: String,
    /// Oracle keys in force.
    pub oracles: Vec<Pubkey>,
    /// Threshold in force.
    pub threshold: u8,
    /// Delay before an oracle-set change applies.
    pub oracle_change_delay_secs: i64,
    /// The change scheduled to apply, if any.
    pub pending_oracle_change: Option<PendingOracleChange>,
}

/// The authority proposed a successor (`None`: withdrew the proposal).
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorityProposed {
    /// The network.
    pub network: Pubkey,
    /// The proposed authority.
    pub proposed: Option<Pubkey>,
}

/// The proposed authority took over.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorityChanged {
    /// The network.
    pub network: Pubkey,
    /// The authority before.
    pub previous: Pubkey,
    /// The authority now.
    pub authority: Pubkey,
}

/// A maker registered its issuing key, pending approval.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MakerRegistered {
    /// The network.
    pub network: Pubkey,
    /// The maker account.
    pub maker: Pubkey,
    /// Its issuing key.
    pub issuing_key: Pubkey,
    /// Display name.
    pub name: String,
}

/// The authority approved or revoked a maker.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MakerStatusChanged {
    /// The network.
    pub network: Pubkey,
    /// The maker account.
    pub maker: Pubkey,
    /// Its status now.
    pub status: MakerStatus,
}

/// A device was onboarded and its NFT minted.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceOnboarded {
    /// The network.
    pub network: Pubkey,
    /// The device account.
    pub device: Pubkey,
    /// The device's own key.
    pub device_key: Pubkey,
    /// The NFT mint.
    pub mint: Pubkey,
    /// The maker account credited.
    pub maker: Pubkey,
    /// The wallet holding the NFT.
    pub owner: Pubkey,
    /// H3 cell, or 0.
    pub location: u64,
    /// Fees charged, in the network's fee mint.
    pub fee_paid: u64,
}

/// A device's holder asserted its location (the same cell again only counts the nonce).
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocationAsserted {
    /// The network.
    pub network: Pubkey,
    /// The device account.
    pub device: Pubkey,
    /// The holder who asserted it.
    pub holder: Pubkey,
    /// The cell before.
    pub previous_location: u64,
    /// The cell now.
    pub location: u64,
    /// The nonce the device signed.
    pub nonce: u32,
    /// Fee charged (0 when the cell did not change).
    pub fee_paid: u64,
}

/// The authority suspended or reactivated a device.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceStatusChanged {
    /// The network.
    pub network: Pubkey,
    /// The device account.
    pub device: Pubkey,
    /// Its status now.
    pub status: DeviceStatus,
}
