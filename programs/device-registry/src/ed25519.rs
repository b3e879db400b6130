//! Reads the Ed25519 program instruction placed just before ours and accepts it
//! only in one strict form, so that the bytes the Ed25519 program verified are the
//! very bytes we compare.
//!
//! The Ed25519 program lets each offset point into any instruction of the
//! transaction. If we accepted that, an attacker could have it verify a real
//! signature found elsewhere while we parse a forged key or message from this
//! instruction. So: exactly one signature, every instruction index `u16::MAX`
//! ("this instruction"), offsets equal to the layout of
//! `new_ed25519_instruction_with_signature`, and the message filling the rest.

use crate::errors::RegistryError;
use anchor_lang::prelude::*;
use solana_instructions_sysvar::{load_current_index_checked, load_instruction_at_checked};

/// Offset of the signature offsets table (after `num_signatures` and a padding byte).
const OFFSETS_START: usize = 2;
/// Size of one offsets entry: seven little-endian u16.
const OFFSETS_LEN: usize = 14;
/// Where the public key sits in a strict instruction.
pub const PUBLIC_KEY_OFFSET: usize = OFFSETS_START + OFFSETS_LEN;
/// Where the signature sits in a strict instruction.
pub const SIGNATURE_OFFSET: usize = PUBLIC_KEY_OFFSET + 32;
/// Where the message starts in a strict instruction.
pub const MESSAGE_OFFSET: usize = SIGNATURE_OFFSET + 64;
/// "The instruction holding these offsets" in the Ed25519 program's encoding.
const THIS_INSTRUCTION: u16 = u16::MAX;

/// Checks that the instruction before the current one proves `signer` signed
/// exactly `message`.
///
/// CHECK: program id is the Ed25519 program; one signature; all three instruction
/// indices are `u16::MAX`; offsets are the strict constants; the key is `signer`;
/// the message is `message`, byte for byte and length for length.
pub fn verify_previous_instruction(
    instructions_sysvar: &AccountInfo,
    signer: &Pubkey,
    message: &[u8],
) -> Result<()> {
    let current = load_current_index_checked(instructions_sysvar)?;
    let previous = current
        .checked_sub(1)
        .ok_or(RegistryError::MissingDeviceSignature)?;
    let ix = load_instruction_at_checked(usize::from(previous), instructions_sysvar)?;
    require_keys_eq!(
        ix.program_id,
        solana_sdk_ids::ed25519_program::ID,
        RegistryError::MissingDeviceSignature
    );
    let data = ix.data.as_slice();
    require!(
        data.len() >= MESSAGE_OFFSET && data[0] == 1 && data[1] == 0,
        RegistryError::MalformedDeviceSignature
    );
    let field = |i: usize| {
        let at = OFFSETS_START + 2 * i;
        u16::from_le_bytes([data[at], data[at + 1]])
    };
    let message_len = data.len() - MESSAGE_OFFSET;
    let strict = usize::from(field(0)) == SIGNATURE_OFFSET
        && field(1) == THIS_INSTRUCTION
        && usize::from(field(2)) == PUBLIC_KEY_OFFSET
        && field(3) == THIS_INSTRUCTION
        && usize::from(field(4)) == MESSAGE_OFFSET
        && usize::from(field(5)) == message_len
        && field(6) == THIS_INSTRUCTION;
    require!(strict, RegistryError::MalformedDeviceSignature);
    require!(
        data[PUBLIC_KEY_OFFSET..SIGNATURE_OFFSET] == signer.to_bytes(),
        RegistryError::WrongDeviceSigner
    );
    require!(
        &data[MESSAGE_OFFSET..] == message,
        RegistryError::WrongDeviceMessage
    );
    Ok(())
}
