//! Accounts owned by the service-payments program.

use anchor_lang::prelude::*;
use device_registry::{quorum::OracleVote, state::MAX_ORACLES};

/// Layout version written into new accounts.
pub const ACCOUNT_VERSION: u8 = 1;
/// Basis points in one whole.
pub const BPS: u64 = 10_000;
/// Longest notice a network may ask before unused credits leave a usage escrow.
pub const MAX_WITHDRAWAL_NOTICE_SECS: i64 = 90 * 24 * 60 * 60;
/// How long a withdrawal stays possible once its notice has passed: one day.
/// A request that could wait forever would let a customer keep using the
/// service and pull the credits out just before the oracles burn its usage.
pub const WITHDRAWAL_WINDOW_SECS: i64 = 24 * 60 * 60;

/// How long after an order's service deadline the oracles may still settle
/// it (service delivered before the deadline is attested only once the
/// epoch it fell in is finalized), and so how long before the customer may
/// cancel an accepted order: one day.
pub const SETTLEMENT_GRACE_SECS: i64 = 24 * 60 * 60;

/// A finalized USD price of the network token: `price * 10^expo` USD per whole
/// token, give or take `conf * 10^expo` (the Pyth convention).
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Price {
    /// Price mantissa.
    pub price: u64,
    /// Confidence interval, same exponent.
    pub conf: u64,
    /// Decimal exponent (usually negative).
    pub expo: i32,
    /// Unix time the oracles attest the price was observed.
    pub publish_time: i64,
    /// Unix time the quorum finalized it.
    pub finalized_at: i64,
}

/// A network's payment settings and its latest price.
#[account]
#[derive(InitSpace, Debug)]
pub struct PaymentsConfig {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// The device-registry network.
    pub network: Pubkey,
    /// The credits mint (Token-2022, non-transferable, authority: this PDA).
    pub credits_mint: Pubkey,
    /// Decimals of the credits mint.
    pub credits_decimals: u8,
    /// The network token burned to buy credits.
    pub burn_mint: Pubkey,
    /// Token program of the burn mint.
    pub burn_token_program: Pubkey,
    /// USD value of one whole credit, in millionths of a dollar (Helium's data
    /// credit: $0.00001 = 10).
    pub credit_usd_micros: u64,
    /// Oldest price `buy_credits` accepts, in seconds since its publish time.
    pub max_price_age_secs: i64,
    /// Protocol fee on each order settlement, to the network treasury. Each
    /// order keeps the fee in force when it was opened.
    pub order_fee_bps: u16,
    /// Share of a provider's settlement routed to the reward pool, when the
    /// order is paid in the pool's reward mint (kept per order like the fee).
    pub pool_share_bps: u16,
    /// Seconds between a customer's withdrawal request and the withdrawal of
    /// unused credits from their usage escrow, so pending usage can still be
    /// attested and burned.
    pub withdrawal_notice_secs: i64,
    /// Latest finalized price, if any.
    pub price: Option<Price>,
    /// Pending price votes (one live vote per oracle).
    #[max_len(MAX_ORACLES)]
    pub price_votes: Vec<OracleVote>,
}

/// A customer's request to take unused credits back out of a usage escrow.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, PartialEq, Eq, Debug)]
pub struct PendingWithdrawal {
    /// Credits asked for, at most what the escrow held at the request (what is
    /// left, if less, at withdrawal).
    pub amount: u64,
    /// Unix time from which they can be withdrawn, for
    /// [`WITHDRAWAL_WINDOW_SECS`]; after that the request lapses.
    pub available_at: i64,
}

/// A customer's credits set aside for a network's service.
#[account]
#[derive(InitSpace, Debug)]
pub struct UsageEscrow {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// The network.
    pub network: Pubkey,
    /// The customer.
    pub customer: Pubkey,
    /// Credits ever delegated here.
    pub delegated: u64,
    /// Credits burned for attested usage.
    pub burned: u64,
    /// Credits taken back by the customer.
    pub withdrawn: u64,
    /// A withdrawal waiting out its notice.
    pub pending_withdrawal: Option<PendingWithdrawal>,
}

/// Oracle votes on one escrow's usage in one epoch, and the result.
#[account]
#[derive(InitSpace, Debug)]
pub struct UsageReport {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// The network.
    pub network: Pubkey,
    /// The usage escrow.
    pub escrow: Pubkey,
    /// Reward-pool epoch of the usage.
    pub epoch: u32,
    /// The oracle that paid the rent; it gets it back when the report closes.
    pub rent_payer: Pubkey,
    /// Votes so far.
    #[max_len(MAX_ORACLES)]
    pub votes: Vec<OracleVote>,
    /// True once burned.
    pub finalized: bool,
    /// Credits burned.
    pub amount: u64,
    /// Merkle root of the usage receipts behind `amount`.
    pub receipt_root: [u8; 32],
}

/// Credits burned for usage in one epoch of a network, so rewards can follow usage.
#[account]
#[derive(InitSpace, Debug)]
pub struct EpochUsage {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// The network.
    pub network: Pubkey,
    /// Reward-pool epoch.
    pub epoch: u32,
    /// The oracle that paid the rent; it gets it back when the total closes.
    pub rent_payer: Pubkey,
    /// Credits burned for usage in the epoch.
    pub credits_burned: u64,
    /// Usage reports finalized in the epoch.
    pub reports: u32,
}

/// Who may serve an order.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Provider {
    /// Only the holder of this device (its device-registry address).
    Device(Pubkey),
    /// The holder of any active device of the network.
    AnyDevice,
    /// The whole network: no acceptance, settlements go to the reward pool.
    Network,
}

/// Where an order stands. Completed and cancelled orders are closed.
///
/// The lifecycle: `Open` (the customer may cancel at any time) until a
/// provider accepts it before `accept_deadline` (a device's holder, or for a
/// network-wide order an oracle of the network, which starts serving it).
/// `Accepted` orders are settled by oracle votes until `service_deadline` plus
/// [`SETTLEMENT_GRACE_SECS`] and close when complete or fully paid; the
/// customer cannot cancel them before then, and may after, taking back what
/// was not settled.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, PartialEq, Eq, Debug)]
pub enum OrderStatus {
    /// Waiting for a provider.
    Open,
    /// A provider accepted it and serves it.
    Accepted,
}

/// A customer's escrowed payment for a service.
#[account]
#[derive(InitSpace, Debug)]
pub struct Order {
    /// Layout version ([`ACCOUNT_VERSION`]).
    pub version: u8,
    /// Bump of this PDA.
    pub bump: u8,
    /// The network serving it.
    pub network: Pubkey,
    /// Who pays and gets refunds.
    pub customer: Pubkey,
    /// The customer's number for it (part of the PDA seeds).
    pub order_id: u64,
    /// Mint of the payment.
    pub payment_mint: Pubkey,
    /// Token program of the payment mint.
    pub payment_token_program: Pubkey,
    /// The order's associated token account holding the payment.
    pub escrow: Pubkey,
    /// Who may serve it.
    pub provider: Provider,
    /// The device serving it, once a device accepted it.
    pub accepted_device: Option<Pubkey>,
    /// Most the customer pays (what was escrowed).
    pub max_amount: u64,
    /// Paid out so far by settlements (provider, fee and pool together).
    pub settled: u64,
    /// Unix time after which it can no longer be accepted.
    pub accept_deadline: i64,
    /// Unix time the service ends. Settlements are accepted until
    /// [`SETTLEMENT_GRACE_SECS`] after it; then the customer may cancel,
    /// taking back what was not settled.
    pub service_deadline: i64,
    /// Hash of what is bought (job spec, deal, query).
    pub spec_hash: [u8; 32],
    /// Protocol fee of this order (the network's when it was opened).
    pub fee_bps: u16,
    /// Pool share of this order (the network's when it was opened).
    pub pool_share_bps: u16,
    /// Open or accepted.
    pub status: OrderStatus,
    /// Unix time opened.
    pub opened_at: i64,
    /// Slot opened: settlement votes name it, so a vote meant for an earlier
    /// order under the same id can never count for this one.
    pub opened_slot: u64,
    /// Unix time accepted, 0 if not.
    pub accepted_at: i64,
    /// Settlements finalized so far; the next vote names this sequence number.
    pub settlement_count: u32,
    /// Votes for the pending settlement.
    #[max_len(MAX_ORACLES)]
    pub votes: Vec<OracleVote>,
}

impl Order {
    /// The last unix time a settlement of this order is accepted, and after
    /// which its customer may cancel it once accepted.
    pub fn settlement_end(&self) -> i64 {
        self.service_deadline.saturating_add(SETTLEMENT_GRACE_SECS)
    }

    /// Byte offset of `network` in an `Order` account (after discriminator,
    /// version and bump), for `getProgramAccounts` filters.
    pub const NETWORK_OFFSET: usize = device_registry::state::DISCRIMINATOR_LEN + 1 + 1;

    /// Byte offset of `customer` in an `Order` account (after discriminator,
    /// version, bump and network), for `getProgramAccounts` filters.
    pub const CUSTOMER_OFFSET: usize = device_registry::state::DISCRIMINATOR_LEN + 1 + 1 + 32;

    /// The order id and bump as the byte strings of its PDA seeds:
    /// `[ORDER_SEED, network, customer, id, bump]`.
    pub fn seed_bytes(&self) -> ([u8; 8], [u8; 1]) {
        (self.order_id.to_le_bytes(), [self.bump])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_offsets_find_the_network_and_the_customer() {
        let customer = Pubkey::new_from_array([9; 32]);
        let order = Order {
            version: 1,
            bump: 2,
            network: Pubkey::new_from_array([1; 32]),
            customer,
            order_id: 3,
            payment_mint: Pubkey::new_from_array([4; 32]),
            payment_token_program: Pubkey::new_from_array([5; 32]),
            escrow: Pubkey::new_from_array([6; 32]),
            provider: Provider::AnyDevice,
            accepted_device: None,
            max_amount: 7,
            settled: 0,
            accept_deadline: 8,
            service_deadline: 9,
            spec_hash: [0; 32],
            fee_bps: 10,
            pool_share_bps: 11,
            status: OrderStatus::Open,
            opened_at: 12,
            opened_slot: 13,
            accepted_at: 0,
            settlement_count: 0,
            votes: Vec::new(),
        };
        let mut data = Vec::new();
        order.try_serialize(&mut data).unwrap();
        let at = Order::CUSTOMER_OFFSET;
        assert_eq!(&data[at..at + 32], customer.as_ref());
        let at = Order::NETWORK_OFFSET;
        assert_eq!(&data[at..at + 32], &[1; 32]);
    }
}
