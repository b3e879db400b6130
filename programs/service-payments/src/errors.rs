//! Every way service payments refuses an instruction. Codes start at 6000 and are
//! part of the public interface: append, never reorder.

use anchor_lang::prelude::*;

/// Errors of the service-payments program.
#[error_code]
pub enum PaymentError {
    #[msg("Only the network authority may do this")]
    NotNetworkAuthority,
    #[msg("A fee or share is above 10,000 basis points")]
    InvalidBps,
    #[msg("The credit value and the maximum price age must be positive")]
    InvalidCreditSettings,
    #[msg("The burn mint is not owned by the given token program")]
    WrongTokenProgram,
    #[msg("The signer is not in the network's oracle set")]
    NotAnOracle,
    #[msg("This oracle already voted on this (no longer returned: a new vote replaces the last)")]
    AlreadyVoted,
    #[msg("The price must be positive, its confidence below it, its exponent within +-18")]
    InvalidPrice,
    #[msg("The price is not newer than the last finalized one, or is in the future")]
    StalePriceVote,
    #[msg("No finalized price yet")]
    NoPrice,
    #[msg("The finalized price is older than the maximum age")]
    PriceTooOld,
    #[msg("The amount must be greater than zero")]
    ZeroAmount,
    #[msg("This burn buys fewer credits than the buyer's minimum")]
    SlippageExceeded,
    #[msg("The attested usage exceeds the credits in escrow")]
    UsageExceedsEscrow,
    #[msg("This usage report is already finalized")]
    UsageAlreadyFinalized,
    #[msg("The acceptance deadline must be in the future, and the service deadline not before it")]
    InvalidDeadline,
    #[msg("The payment is in another mint than the order's")]
    WrongPaymentMint,
    #[msg("Network-wide orders must be paid in the reward pool's mint")]
    NetworkOrderNeedsRewardMint,
    #[msg("The order is not open")]
    OrderNotOpen,
    #[msg("The order's acceptance deadline has passed")]
    OrderExpired,
    #[msg("This device may not serve the order")]
    WrongProviderDevice,
    #[msg("Network-wide orders are not accepted by a device")]
    NotAcceptable,
    #[msg("The device belongs to another network")]
    WrongNetwork,
    #[msg("The device is suspended")]
    DeviceSuspended,
    #[msg("The signer does not hold the device NFT")]
    NotDeviceHolder,
    #[msg("The order has not been accepted by a device")]
    OrderNotAccepted,
    #[msg("The settlement sequence number is not the order's next")]
    WrongSettlementSequence,
    #[msg("The settlement would pay more than the order's maximum")]
    SettlementAboveMax,
    #[msg(
        "An accepted order can be cancelled only after its service deadline and the settlement grace"
    )]
    CancelAfterAcceptance,
    #[msg("A settlement vote is pending (no longer returned: see CancelAfterAcceptance)")]
    SettlementPending,
    #[msg("Provider accounts are missing or do not match the accepting device")]
    WrongProviderAccounts,
    #[msg("Reward-pool accounts are missing or wrong")]
    WrongPoolAccounts,
    #[msg("The fee must go to the network treasury's token account")]
    WrongTreasuryAccount,
    #[msg("Refunds go to the customer's token account")]
    WrongRefundAccount,
    #[msg("Arithmetic overflow")]
    ArithmeticOverflow,
    #[msg("The mint has an extension that can move, withhold or lock funds")]
    UnsupportedMint,
    #[msg("A token account already at the escrow address is not fully controlled by the order")]
    EscrowNotControlled,
    #[msg("The order's service deadline and settlement grace have passed: no more settlements")]
    ServiceDeadlinePassed,
    #[msg("The vote is for an earlier order under the same id")]
    WrongOrderInstance,
    #[msg("Usage may only be attested for an epoch that has started and is not finalized")]
    EpochOutOfRange,
    #[msg("The epoch is not finalized yet")]
    EpochNotFinalized,
    #[msg("The reward pool is not this network's")]
    WrongPool,
    #[msg("No credit withdrawal has been requested")]
    NoWithdrawalRequested,
    #[msg("The withdrawal's notice period has not passed")]
    WithdrawalNotReady,
    #[msg("The withdrawal notice must be at most 90 days")]
    InvalidWithdrawalNotice,
    #[msg("The rent goes back to the account that paid it")]
    WrongRentPayer,
    #[msg("The withdrawal request lapsed a day after its notice: request again")]
    WithdrawalExpired,
    #[msg("An extension must pay at least the order's rate so far for the added time")]
    ExtensionBelowRate,
}
