//! PDA seeds of every registry account: the one definition that the program, the
//! SDK and the oracle all derive addresses from.

use anchor_lang::prelude::*;

/// Seed prefix of [`crate::state::Network`]: `[NETWORK_SEED, creator, seed]`.
pub const NETWORK_SEED: &[u8] = b"network";
/// Seed prefix of [`crate::state::Maker`]: `[MAKER_SEED, network, issuing_key]`.
pub const MAKER_SEED: &[u8] = b"maker";
/// Seed prefix of [`crate::state::Device`]: `[DEVICE_SEED, network, device_key]`.
pub const DEVICE_SEED: &[u8] = b"device";
/// Seed prefix of a device NFT mint: `[DEVICE_MINT_SEED, network, device_key]`.
pub const DEVICE_MINT_SEED: &[u8] = b"device_mint";

/// Address and bump of the network `creator` made with `seed`.
pub fn find_network_address(creator: &Pubkey, seed: &[u8]) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[NETWORK_SEED, creator.as_ref(), seed], &crate::ID)
}

/// Address and bump of a maker of `network` identified by its issuing key.
pub fn find_maker_address(network: &Pubkey, issuing_key: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[MAKER_SEED, network.as_ref(), issuing_key.as_ref()],
        &crate::ID,
    )
}

/// Address and bump of the device account of `device_key` on `network`.
pub fn find_device_address(network: &Pubkey, device_key: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[DEVICE_SEED, network.as_ref(), device_key.as_ref()],
        &crate::ID,
    )
}

/// Address and bump of the NFT mint of `device_key` on `network`.
pub fn find_device_mint_address(network: &Pubkey, device_key: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[DEVICE_MINT_SEED, network.as_ref(), device_key.as_ref()],
        &crate::ID,
    )
}
