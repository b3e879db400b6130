//! Every way the reward pool refuses an instruction. Codes start at 6000 and are
//! part of the public interface: append, never reorder.

use anchor_lang::prelude::*;

/// Errors of the reward-pool program.
#[error_code]
pub enum PoolError {
    #[msg("Only the network authority may do this")]
    NotNetworkAuthority,
    #[msg("The reward mint is not the network's reward mint")]
    WrongRewardMint,
    #[msg("The epoch length must be between 1 second and 366 days")]
    InvalidEpochLength,
    #[msg("The decay must keep at most 10,000 basis points, with an interval when it decays")]
    InvalidSchedule,
    #[msg("The amount must be greater than zero")]
    ZeroAmount,
    #[msg("The signer is not in the network's oracle set")]
    NotAnOracle,
    #[msg(
        "This oracle already voted for this epoch (no longer returned: a new vote replaces the last)"
    )]
    AlreadyVoted,
    #[msg("This epoch is already finalized")]
    EpochAlreadyFinalized,
    #[msg("Epochs finalize in order; this is not the next one")]
    EpochNotNext,
    #[msg("The epoch has not ended yet")]
    EpochNotEnded,
    #[msg("The total is above what the pool has received and scheduled")]
    TotalExceedsAvailable,
    #[msg("Cumulative totals never decrease")]
    TotalDecreased,
    #[msg("More leaves than a proof of 24 hashes can reach")]
    TooManyLeaves,
    #[msg("The merkle proof does not lead to the pool's root")]
    InvalidProof,
    #[msg("A proof has at most 24 hashes")]
    ProofTooLong,
    #[msg("The device belongs to another network")]
    WrongNetwork,
    #[msg("The device is suspended")]
    DeviceSuspended,
    #[msg("The token account does not hold this device's NFT")]
    NotDeviceHolder,
    #[msg("Rewards must be paid to the NFT holder's associated token account of the reward mint")]
    WrongRewardAccount,
    #[msg("The vault holds less than this claim pays")]
    VaultInsufficient,
    #[msg("The claim record is for another device or pool")]
    WrongClaimRecord,
    #[msg("Arithmetic overflow")]
    ArithmeticOverflow,
    #[msg("Claims would pay more than the finalized root's total")]
    ClaimExceedsRootTotal,
    #[msg("The start time must be at most one epoch in the past and 366 days ahead")]
    InvalidStartTime,
    #[msg("The network's oracle-change delay is shorter than one epoch")]
    OracleChangeDelayTooShort,
    #[msg("The reward mint has an extension that can move, withhold or lock funds")]
    UnsupportedMint,
    #[msg("A token account already at the vault address is not fully controlled by the pool")]
    VaultNotControlled,
    #[msg("The lookup table must be frozen, active, and hold exactly the pool's claim accounts")]
    InvalidClaimLookupTable,
}
