//! Events service payments emits through `emit_cpi!`, so oracles meter and
//! attest services, and indexers follow payments, without polling accounts;
//! `depinkit_sdk::events` decodes them.

use crate::state::{Price, Provider};
use anchor_lang::prelude::*;

/// A network's payments were set up.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentsInitialized {
    /// The network.
    pub network: Pubkey,
    /// The config.
    pub config: Pubkey,
    /// The credits mint.
    pub credits_mint: Pubkey,
    /// The network token burned for credits.
    pub burn_mint: Pubkey,
    /// USD value of one whole credit, in millionths.
    pub credit_usd_micros: u64,
    /// Token program of the burn mint.
    pub burn_token_program: Pubkey,
    /// Decimals of the credits mint.
    pub credits_decimals: u8,
    /// Oldest price accepted, in seconds.
    pub max_price_age_secs: i64,
    /// Protocol fee on settlements.
    pub order_fee_bps: u16,
    /// Pool share of settlements.
    pub pool_share_bps: u16,
    /// Notice before unused credits leave an escrow.
    pub withdrawal_notice_secs: i64,
}

/// The authority changed payment settings (every setting, as it is now).
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentsUpdated {
    /// The network.
    pub network: Pubkey,
    /// USD value of one whole credit, in millionths.
    pub credit_usd_micros: u64,
    /// Oldest price accepted, in seconds.
    pub max_price_age_secs: i64,
    /// Protocol fee on settlements of orders opened from now on.
    pub order_fee_bps: u16,
    /// Pool share of orders opened from now on.
    pub pool_share_bps: u16,
    /// Notice before unused credits leave an escrow, for requests from now on.
    pub withdrawal_notice_secs: i64,
}

/// An oracle voted a price (its vote replaces its last one).
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceVoted {
    /// The network.
    pub network: Pubkey,
    /// The voting oracle.
    pub oracle: Pubkey,
    /// Price mantissa.
    pub price: u64,
    /// Confidence, same exponent.
    pub conf: u64,
    /// Decimal exponent.
    pub expo: i32,
    /// Unix time the price was observed.
    pub publish_time: i64,
}

/// The oracles' quorum finalized a price.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceFinalized {
    /// The network.
    pub network: Pubkey,
    /// The price.
    pub price: Price,
}

/// Network tokens were burned for credits.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditsBought {
    /// The network.
    pub network: Pubkey,
    /// The buyer.
    pub buyer: Pubkey,
    /// Network tokens burned (base units).
    pub burned: u64,
    /// Credits minted (base units).
    pub credits: u64,
}

/// A customer moved credits into their usage escrow.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditsDelegated {
    /// The network.
    pub network: Pubkey,
    /// The customer.
    pub customer: Pubkey,
    /// The usage escrow.
    pub usage_escrow: Pubkey,
    /// Credits moved.
    pub amount: u64,
}

/// A customer asked for unused credits back (amount 0: withdrew the request).
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditWithdrawalRequested {
    /// The network.
    pub network: Pubkey,
    /// The customer.
    pub customer: Pubkey,
    /// Credits asked for.
    pub amount: u64,
    /// Unix time from which they can be withdrawn.
    pub available_at: i64,
}

/// Unused credits went back from a usage escrow to the customer.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditsWithdrawn {
    /// The network.
    pub network: Pubkey,
    /// The customer.
    pub customer: Pubkey,
    /// Credits returned.
    pub amount: u64,
}

/// An oracle voted a customer's usage for an epoch.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageVoted {
    /// The network.
    pub network: Pubkey,
    /// The usage escrow.
    pub usage_escrow: Pubkey,
    /// The voting oracle.
    pub oracle: Pubkey,
    /// Reward-pool epoch of the usage.
    pub epoch: u32,
    /// Credits attested.
    pub amount: u64,
    /// Merkle root of the usage receipts.
    pub receipt_root: [u8; 32],
}

/// The oracles' quorum burned a customer's credits for an epoch's usage.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageBurned {
    /// The network.
    pub network: Pubkey,
    /// The usage escrow.
    pub usage_escrow: Pubkey,
    /// Reward-pool epoch of the usage.
    pub epoch: u32,
    /// Credits burned.
    pub amount: u64,
    /// Merkle root of the usage receipts.
    pub receipt_root: [u8; 32],
}

/// A customer opened an order and escrowed its payment.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderOpened {
    /// The order.
    pub order: Pubkey,
    /// The network.
    pub network: Pubkey,
    /// The customer.
    pub customer: Pubkey,
    /// The customer's order id.
    pub order_id: u64,
    /// Who may serve it.
    pub provider: Provider,
    /// The payment mint.
    pub payment_mint: Pubkey,
    /// Amount escrowed.
    pub max_amount: u64,
    /// Last moment to accept.
    pub accept_deadline: i64,
    /// Last moment to settle.
    pub service_deadline: i64,
    /// Hash of what is bought.
    pub spec_hash: [u8; 32],
    /// Slot opened (settlement votes name it).
    pub opened_slot: u64,
}

/// A provider accepted an order.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderAccepted {
    /// The order.
    pub order: Pubkey,
    /// Who accepted: the device's holder, or an oracle for a network order.
    pub accepted_by: Pubkey,
    /// The device serving it (`None` for a network order).
    pub device: Option<Pubkey>,
}

/// An oracle voted a settlement of an order.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementVoted {
    /// The order.
    pub order: Pubkey,
    /// The voting oracle.
    pub oracle: Pubkey,
    /// The settlement's sequence number.
    pub sequence: u32,
    /// Amount attested.
    pub amount: u64,
    /// The receipt attested.
    pub receipt_hash: [u8; 32],
    /// Whether the vote completes the order.
    pub complete: bool,
}

/// The oracles' quorum settled part or all of an order.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSettled {
    /// The order.
    pub order: Pubkey,
    /// The settlement's sequence number.
    pub sequence: u32,
    /// Amount taken from the escrow.
    pub amount: u64,
    /// Protocol fee paid to the treasury.
    pub fee: u64,
    /// Service revenue routed to the reward pool.
    pub pool: u64,
    /// Paid to the provider device's holder.
    pub provider: u64,
    /// The receipt attested.
    pub receipt_hash: [u8; 32],
    /// Refunded to the customer when the order closed.
    pub refunded: u64,
    /// True when the order is complete and closed.
    pub closed: bool,
}

/// The customer extended an order: more escrow, a later service deadline.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderExtended {
    /// The order.
    pub order: Pubkey,
    /// Added to the escrow.
    pub additional_amount: u64,
    /// The most the customer pays now.
    pub max_amount: u64,
    /// The new service deadline.
    pub service_deadline: i64,
}

/// The customer cancelled an order and got the escrow back.
#[event]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderCancelled {
    /// The order.
    pub order: Pubkey,
    /// Refunded to the customer.
    pub refunded: u64,
}
