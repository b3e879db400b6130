//! `vote_epoch_root`: an oracle votes the cumulative reward root of an ended
//! epoch; `threshold` identical votes from the current oracle set finalize it.

use crate::{
    errors::PoolError,
    events::{EpochFinalized, EpochRootVoted},
    merkle::{Hash32, MAX_LEAVES},
    state::Pool,
};
use anchor_lang::prelude::*;
use device_registry::{
    quorum::{VoteRefusal, record_vote},
    state::Network,
};
use solana_sha256_hasher::hashv;

/// Domain tag of a vote's payload hash.
pub const VOTE_PAYLOAD_DOMAIN: &[u8] = b"depinkit/reward-pool/epoch-root";

/// Arguments of `vote_epoch_root`: what the oracle attests.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoteEpochRootArgs {
    /// The epoch (must be the pool's next one, and ended).
    pub epoch: u32,
    /// Merkle root of every device's cumulative reward.
    pub root: Hash32,
    /// Sum of the cumulative amounts under `root`.
    pub total: u64,
    /// Number of leaves under `root`.
    pub leaf_count: u64,
}

/// The hash identical votes share: votes count together only when they attest
/// the same epoch, root, total and leaf count.
pub fn vote_payload_hash(args: &VoteEpochRootArgs) -> Hash32 {
    hashv(&[
        VOTE_PAYLOAD_DOMAIN,
        &args.epoch.to_le_bytes(),
        &args.root,
        &args.total.to_le_bytes(),
        &args.leaf_count.to_le_bytes(),
    ])
    .to_bytes()
}

/// Accounts of `vote_epoch_root`.
#[event_cpi]
#[derive(Accounts)]
pub struct VoteEpochRoot<'info> {
    /// An oracle of the network.
    pub oracle: Signer<'info>,
    /// The network, whose oracle set and threshold apply.
    pub network: Box<Account<'info, Network>>,
    /// The pool.
    #[account(mut, has_one = network)]
    pub pool: Box<Account<'info, Pool>>,
}

/// Records the vote and finalizes the epoch on reaching the threshold.
///
/// 1. Records (oracle, payload hash) for the pool's next epoch.
/// 2. Applies the quorum rule (`device_registry::quorum`): at `threshold`
///    identical votes of the current set the root becomes the pool's root, the
///    schedule advances and the votes are cleared for the next epoch.
///
/// CHECK: signer in the oracle set in force now; epoch is the next one and has
/// ended; one live vote per oracle (a new one replaces its last); the total never decreases and never exceeds what the pool has
/// received nor the schedule to date plus revenue; leaf count reachable by a
/// 24-hash proof.
pub fn handler(ctx: Context<VoteEpochRoot>, args: VoteEpochRootArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let oracles = ctx.accounts.network.oracle_set(now);
    let oracle = ctx.accounts.oracle.key();
    require!(oracles.contains(&oracle), PoolError::NotAnOracle);
    let pool = &mut ctx.accounts.pool;
    require!(
        args.epoch >= pool.next_epoch,
        PoolError::EpochAlreadyFinalized
    );
    require!(args.epoch == pool.next_epoch, PoolError::EpochNotNext);
    let end = pool
        .epoch_end(args.epoch)
        .ok_or(PoolError::ArithmeticOverflow)?;
    require!(now >= end, PoolError::EpochNotEnded);
    require!(args.leaf_count <= MAX_LEAVES, PoolError::TooManyLeaves);
    require!(args.total >= pool.root_total, PoolError::TotalDecreased);
    require!(
        args.total <= pool.max_total_for_next_epoch(),
        PoolError::TotalExceedsAvailable
    );

    let payload_hash = vote_payload_hash(&args);
    let finalized =
        record_vote(&mut pool.votes, &oracles, oracle, payload_hash).map_err(|refusal| {
            match refusal {
                VoteRefusal::NotAnOracle => PoolError::NotAnOracle,
            }
        })?;
    if finalized {
        finalize(pool, &args, now)?;
    }
    let pool_key = ctx.accounts.pool.key();
    emit_cpi!(EpochRootVoted {
        pool: pool_key,
        oracle,
        epoch: args.epoch,
        root: args.root,
        total: args.total,
        leaf_count: args.leaf_count,
    });
    if finalized {
        emit_cpi!(EpochFinalized {
            pool: pool_key,
            epoch: args.epoch,
            root: args.root,
            total: args.total,
            leaf_count: args.leaf_count,
        });
    }
    Ok(())
}

/// Makes `args` the pool's root and moves on to the next epoch.
fn finalize(pool: &mut Pool, args: &VoteEpochRootArgs, now: i64) -> Result<()> {
    pool.root = args.root;
    pool.root_total = args.total;
    pool.root_leaf_count = args.leaf_count;
    pool.root_finalized_at = now;
    pool.scheduled_to_date = pool
        .scheduled_to_date
        .checked_add(u128::from(pool.next_epoch_emission))
        .ok_or(PoolError::ArithmeticOverflow)?;
    pool.next_epoch_emission = pool
        .schedule
        .next_emission(pool.next_epoch, pool.next_epoch_emission);
    pool.next_epoch = pool
        .next_epoch
        .checked_add(1)
        .ok_or(PoolError::ArithmeticOverflow)?;
    pool.votes.clear();
    Ok(())
}
