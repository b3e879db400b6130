//! PDA seeds of the service-payments accounts: the one definition off-chain code
//! derives addresses from.

use anchor_lang::prelude::*;

/// `[PAYMENTS_SEED, network]`: [`crate::state::PaymentsConfig`].
pub const PAYMENTS_SEED: &[u8] = b"payments";
/// `[CREDITS_MINT_SEED, network]`: the credits mint.
pub const CREDITS_MINT_SEED: &[u8] = b"credits_mint";
/// `[USAGE_ESCROW_SEED, network, customer]`: [`crate::state::UsageEscrow`].
pub const USAGE_ESCROW_SEED: &[u8] = b"usage_escrow";
/// `[USAGE_REPORT_SEED, escrow, epoch u32 LE]`: [`crate::state::UsageReport`].
pub const USAGE_REPORT_SEED: &[u8] = b"usage_report";
/// `[EPOCH_USAGE_SEED, network, epoch u32 LE]`: [`crate::state::EpochUsage`].
pub const EPOCH_USAGE_SEED: &[u8] = b"epoch_usage";
/// `[ORDER_SEED, network, customer, order_id u64 LE]`: [`crate::state::Order`].
pub const ORDER_SEED: &[u8] = b"order";

/// Address of `network`'s payments config.
pub fn find_payments_address(network: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[PAYMENTS_SEED, network.as_ref()], &crate::ID)
}

/// Address of `network`'s credits mint.
pub fn find_credits_mint_address(network: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[CREDITS_MINT_SEED, network.as_ref()], &crate::ID)
}

/// Address of `customer`'s usage escrow on `network`.
pub fn find_usage_escrow_address(network: &Pubkey, customer: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[USAGE_ESCROW_SEED, network.as_ref(), customer.as_ref()],
        &crate::ID,
    )
}

/// Address of the usage report of `escrow` for `epoch`.
pub fn find_usage_report_address(escrow: &Pubkey, epoch: u32) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[USAGE_REPORT_SEED, escrow.as_ref(), &epoch.to_le_bytes()],
        &crate::ID,
    )
}

/// Address of `network`'s usage total for `epoch`.
pub fn find_epoch_usage_address(network: &Pubkey, epoch: u32) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[EPOCH_USAGE_SEED, network.as_ref(), &epoch.to_le_bytes()],
        &crate::ID,
    )
}

/// Address of `customer`'s order `order_id` on `network`.
pub fn find_order_address(network: &Pubkey, customer: &Pubkey, order_id: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[
            ORDER_SEED,
            network.as_ref(),
            customer.as_ref(),
            &order_id.to_le_bytes(),
        ],
        &crate::ID,
    )
}
