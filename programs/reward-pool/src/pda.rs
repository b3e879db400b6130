//! PDA seeds of the reward pool's accounts: the one definition off-chain code
//! derives addresses from.

use anchor_lang::prelude::*;

/// Seed prefix of [`crate::state::Pool`]: `[POOL_SEED, network]`.
pub const POOL_SEED: &[u8] = b"pool";
/// Seed prefix of [`crate::state::ClaimRecord`]: `[CLAIM_SEED, pool, device_mint]`.
pub const CLAIM_SEED: &[u8] = b"claim";

/// Address and bump of `network`'s pool.
pub fn find_pool_address(network: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[POOL_SEED, network.as_ref()], &crate::ID)
}

/// Address and bump of the claim record of `device_mint` in `pool`.
pub fn find_claim_record_address(pool: &Pubkey, device_mint: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[CLAIM_SEED, pool.as_ref(), device_mint.as_ref()],
        &crate::ID,
    )
}
