//! Events the reward pool emits through `emit_cpi!`, for oracles, indexers and
//! wallets following epochs and payouts; `depinkit_sdk::events` decodes them.

use crate::state::EmissionSchedule;
use crate::state::FundingKind;
use anchor_lang::prelude::*;

/// A network's reward pool was opened.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolCreated {
    /// The pool.
    pub pool: Pubkey,
    /// Its network.
    pub network: Pubkey,
    /// The reward mint.
    pub reward_mint: Pubkey,
    /// The vault.
    pub vault: Pubkey,
    /// Unix time epoch 0 starts.
    pub start_time: i64,
    /// Seconds per epoch.
    pub epoch_length_secs: i64,
    /// The emission schedule.
    pub schedule: EmissionSchedule,
}

/// Tokens were deposited into the pool.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolFunded {
    /// The pool.
    pub pool: Pubkey,
    /// Who deposited (the order PDA for service revenue routed by settlements).
    pub funder: Pubkey,
    /// Amount deposited.
    pub amount: u64,
    /// How it counts.
    pub kind: FundingKind,
    /// Every token deposited so far.
    pub total_inflow: u64,
}

/// An oracle voted an epoch's root.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochRootVoted {
    /// The pool.
    pub pool: Pubkey,
    /// The voting oracle.
    pub oracle: Pubkey,
    /// The epoch.
    pub epoch: u32,
    /// The root voted.
    pub root: [u8; 32],
    /// Sum of the cumulative amounts under it.
    pub total: u64,
    /// Leaves under it.
    pub leaf_count: u64,
}

/// An epoch's root reached the threshold and is now the pool's root.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochFinalized {
    /// The pool.
    pub pool: Pubkey,
    /// The epoch.
    pub epoch: u32,
    /// The root.
    pub root: [u8; 32],
    /// Sum of the cumulative amounts under it.
    pub total: u64,
    /// Leaves under it.
    pub leaf_count: u64,
}

/// A claim paid a device's due to its NFT holder.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimPaid {
    /// The pool.
    pub pool: Pubkey,
    /// The device NFT mint (the leaf key).
    pub device_mint: Pubkey,
    /// The NFT holder paid.
    pub holder: Pubkey,
    /// Amount paid now.
    pub amount: u64,
    /// Cumulative amount paid to this device.
    pub claimed: u64,
}

/// A claim lookup table was registered for the pool.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimLookupTableSet {
    /// The pool.
    pub pool: Pubkey,
    /// The frozen lookup table.
    pub lookup_table: Pubkey,
}
