//! Every way the device registry refuses an instruction. Codes start at 6000 and
//! are part of the public interface: append, never reorder.

use anchor_lang::prelude::*;

/// Errors of the device-registry program.
#[error_code]
pub enum RegistryError {
    #[msg("The network seed must be 1 to 32 bytes")]
    InvalidSeed,
    #[msg("A name must be 1 to 32 bytes")]
    InvalidName,
    #[msg("The NFT symbol must be 1 to 10 bytes")]
    InvalidSymbol,
    #[msg("The metadata URI base is longer than 128 bytes")]
    UriTooLong,
    #[msg("The oracle set holds more than 16 keys")]
    TooManyOracles,
    #[msg("The oracle set names the same key twice")]
    DuplicateOracle,
    #[msg("The threshold must be more than half the oracles and at most all of them")]
    InvalidThreshold,
    #[msg("The H3 resolution must be between 0 and 15")]
    InvalidResolution,
    #[msg("Only the network authority may do this")]
    NotNetworkAuthority,
    #[msg("The signer is not the proposed network authority")]
    NotPendingAuthority,
    #[msg("No authority hand-over has been proposed")]
    NoPendingAuthority,
    #[msg("The maker is not approved by the network")]
    MakerNotApproved,
    #[msg("The account belongs to another network")]
    WrongNetwork,
    #[msg("This device key is already onboarded on this network")]
    DeviceAlreadyOnboarded,
    #[msg("The location is not a valid H3 cell")]
    InvalidH3Cell,
    #[msg("The H3 cell has another resolution than the network requires")]
    WrongH3Resolution,
    #[msg("The instruction before this one must be an Ed25519 signature check")]
    MissingDeviceSignature,
    #[msg("The Ed25519 instruction is not in the strict form this program accepts")]
    MalformedDeviceSignature,
    #[msg("The Ed25519 signature is by another key than the device key")]
    WrongDeviceSigner,
    #[msg("The device signed another message than this instruction expects")]
    WrongDeviceMessage,
    #[msg("The device-signed message has expired")]
    MessageExpired,
    #[msg("The fee is paid in another mint than the network charges")]
    WrongFeeMint,
    #[msg("The fee token accounts are missing")]
    FeeAccountsMissing,
    #[msg("The fee must be paid into a token account of the network treasury")]
    WrongTreasuryAccount,
    #[msg("The signer does not hold this device's NFT")]
    NotDeviceHolder,
    #[msg("The device is suspended")]
    DeviceSuspended,
    #[msg("The device NFT mint does not match the device")]
    WrongDeviceMint,
    #[msg("Arithmetic overflow")]
    ArithmeticOverflow,
    #[msg("The onboarding and location fees must be paid in the same mint")]
    FeeMintsDiffer,
    #[msg("The oracle-change delay must be 1 hour to 90 days, and can only grow")]
    InvalidOracleChangeDelay,
    #[msg("No oracle-set change is scheduled")]
    NoPendingOracleChange,
    #[msg("The fee is above the maximum the payer accepted")]
    FeeAboveMaximum,
    #[msg("The mint has an extension that can move, withhold or lock funds")]
    UnsupportedMint,
    #[msg("A non-zero fee needs its mint account, to check it")]
    FeeMintAccountMissing,
    #[msg("The device signature's expiry is more than 7 days away")]
    ExpiryTooFar,
}
