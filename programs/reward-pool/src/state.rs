//! Accounts owned by the reward pool.

use anchor_lang::prelude::*;
use device_registry::{quorum::OracleVote, state::MAX_ORACLES};

/// Layout version written into new accounts.
pub const ACCOUNT_VERSION: u8 = 1;
/// Basis points in one whole.
pub const BPS: u64 = 10_000;
/// Longest epoch: 366 days. With at most `u32::MAX` epochs this keeps every
/// epoch boundary far inside `i64`.
pub const MAX_EPOCH_LENGTH_SECS: i64 = 366 * 24 * 60 * 60;

/// How much each epoch emits: `initial_per_epoch`, multiplied by
/// `retain_bps / 10_000` (rounded down) every `decay_interval_epochs` epochs.
/// Halving every 730 epochs: `retain_bps = 5_000`, `decay_interval_epochs = 730`.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, PartialEq, Eq, Debug)]
pub struct EmissionSchedule {
    /// Emission of epoch 0, in reward-mint base units.
    pub initial_per_epoch: u64,
    /// Epochs between decay steps; 0 means the emission never changes.
    pub decay_interval_epochs: u32,
    /// Share kept at each decay step, in basis points (at most 10,000).
    pub retain_bps: u16,
}

impl EmissionSchedule {
    /// Emission of the epoch after `epoch`, given `emission` of `epoch`. The
    /// iterated rounding is the schedule's definition: off-chain code uses this.
    pub fn next_emission(&self, epoch: u32, emission: u64) -> u64 {
        let next = u64::from(epoch) + 1;
        if self.decay_interval_epochs != 0 && next % u64::from(self.decay_interval_epochs) == 0 {
            // retain_bps <= BPS, so the result never exceeds `emission`.
            (u128::from(emission) * u128::from(self.retain_bps) / u128::from(BPS)) as u64
        } else {
            emission
        }
    }
}

/// How a deposit into the pool is counted.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, PartialEq, Eq, Debug)]
pub enum FundingKind {
    /// Tokens backing the emission schedule.
    Emissions,
    /// Revenue of the network's services, distributed on top of the schedule.
    ServiceRevenue,
}

/// A network's reward pool: its vault, schedule, and the latest agreed root.
#[account]
#[derive(InitSpace, Debug)]
pub struct Pool {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// The device-registry network this pool pays.
    pub network: Pubkey,
    /// Mint rewards are paid in (the network's reward mint).
    pub reward_mint: Pubkey,
    /// Token program of the reward mint.
    pub reward_token_program: Pubkey,
    /// The pool's associated token account for the reward mint.
    pub vault: Pubkey,
    /// Unix time epoch 0 starts.
    pub start_time: i64,
    /// Seconds per epoch.
    pub epoch_length_secs: i64,
    /// Emission schedule.
    pub schedule: EmissionSchedule,
    /// The next epoch to finalize (epochs finalize in order, from 0).
    pub next_epoch: u32,
    /// Scheduled emission of `next_epoch`.
    pub next_epoch_emission: u64,
    /// Scheduled emissions of every finalized epoch.
    pub scheduled_to_date: u128,
    /// Every token deposited, of both kinds.
    pub total_inflow: u64,
    /// The service-revenue part of `total_inflow`.
    pub revenue_inflow: u64,
    /// Every token paid out by claims.
    pub total_claimed: u64,
    /// Root of the latest finalized epoch (zeros before the first).
    pub root: [u8; 32],
    /// Sum of the cumulative amounts `root` commits to.
    pub root_total: u64,
    /// Leaves under `root`.
    pub root_leaf_count: u64,
    /// Unix time `root` was finalized.
    pub root_finalized_at: i64,
    /// A frozen address lookup table holding [`Pool::claim_table_addresses`],
    /// so deep claims fit one packet as v0 transactions; zeros when none is set.
    pub claim_lookup_table: Pubkey,
    /// Votes cast so far for `next_epoch` (last: it is the one variable-size field).
    #[max_len(MAX_ORACLES)]
    pub votes: Vec<OracleVote>,
}

/// The accounts every claim (and its setup) of a pool names whatever the
/// device, in the order the pool's claim lookup table must hold them.
pub fn claim_table_addresses(
    pool: &Pubkey,
    vault: &Pubkey,
    reward_mint: &Pubkey,
    reward_token_program: &Pubkey,
) -> [Pubkey; 6] {
    [
        *pool,
        *vault,
        *reward_mint,
        *reward_token_program,
        crate::EVENT_AUTHORITY_AND_BUMP.0,
        anchor_lang::system_program::ID,
    ]
}

impl Pool {
    /// [`claim_table_addresses`] of this pool (at address `pool`).
    pub fn claim_table_addresses(&self, pool: &Pubkey) -> [Pubkey; 6] {
        claim_table_addresses(
            pool,
            &self.vault,
            &self.reward_mint,
            &self.reward_token_program,
        )
    }

    /// Unix time at which `epoch` ends.
    pub fn epoch_end(&self, epoch: u32) -> Option<i64> {
        i64::from(epoch)
            .checked_add(1)?
            .checked_mul(self.epoch_length_secs)?
            .checked_add(self.start_time)
    }

    /// The epoch running at unix time `now`, `None` before epoch 0 starts (or
    /// past the last epoch).
    pub fn epoch_at(&self, now: i64) -> Option<u32> {
        let elapsed = now.checked_sub(self.start_time)?;
        if elapsed < 0 || self.epoch_length_secs <= 0 {
            return None;
        }
        u32::try_from(elapsed / self.epoch_length_secs).ok()
    }

    /// The most a root for `next_epoch` may promise in total: what has come in,
    /// and no more than the schedule to date plus service revenue.
    pub fn max_total_for_next_epoch(&self) -> u64 {
        let scheduled = self
            .scheduled_to_date
            .saturating_add(u128::from(self.next_epoch_emission))
            .saturating_add(u128::from(self.revenue_inflow));
        let scheduled = u64::try_from(scheduled).unwrap_or(u64::MAX);
        scheduled.min(self.total_inflow)
    }
}

/// What one device has been paid from a pool.
#[account]
#[derive(InitSpace, Debug)]
pub struct ClaimRecord {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// The pool.
    pub pool: Pubkey,
    /// The device NFT mint (the leaf key).
    pub device_mint: Pubkey,
    /// Cumulative amount paid so far.
    pub claimed: u64,
    /// Unix time of the last payment, 0 if none.
    pub last_claimed_at: i64,
}
