//! Which token mints and token accounts depinkit programs accept for money they
//! hold or move: reward vaults, order escrows, fees and payments. Shared by
//! every depinkit program; each maps a refusal to its own error code.
//!
//! Token-2022 mints can carry extensions that take custody away from the
//! account's owner or change what arrives: a permanent delegate can pull any
//! balance back (a customer could empty an escrow after a device accepted the
//! order), a transfer fee makes the receiver get less than was sent (the pool
//! would count inflow it never received, and withheld fees keep an escrow from
//! closing), a transfer hook, pause, non-transferable flag or frozen default
//! state can lock funds, and a mint close authority lets the mint be re-created
//! with other extensions. So only mints whose extensions merely describe the
//! token are accepted: [`DESCRIPTIVE_MINT_EXTENSIONS`].
//!
//! A mint's freeze authority is not an extension: classic SPL mints have it too
//! (USDC does). Its holder can freeze a vault or escrow and so stop claims,
//! settlements and refunds in that mint until it thaws them. Networks and
//! customers choose their mints knowing that; clients show it.

use anchor_lang::{prelude::*, solana_program::program_pack::Pack};
use anchor_spl::{
    token_2022::spl_token_2022::{
        extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
        state::{AccountState, Mint as MintState},
    },
    token_interface::{Mint, TokenAccount},
};

/// Mint extensions that only describe the token (name, symbol, URI, groups);
/// none of them can move, withhold or lock a balance.
pub const DESCRIPTIVE_MINT_EXTENSIONS: &[ExtensionType] = &[
    ExtensionType::MetadataPointer,
    ExtensionType::TokenMetadata,
    ExtensionType::GroupPointer,
    ExtensionType::TokenGroup,
    ExtensionType::GroupMemberPointer,
    ExtensionType::TokenGroupMember,
];

/// The first extension of a mint's account data that is not descriptive, or
/// `None` when the mint is safe to hold and move (a classic SPL mint has none).
/// Data that does not parse as a mint is reported as `Uninitialized`.
pub fn unsafe_mint_extension(mint_data: &[u8]) -> Option<ExtensionType> {
    if mint_data.len() <= MintState::LEN {
        return None;
    }
    let Ok(mint) = StateWithExtensions::<MintState>::unpack(mint_data) else {
        return Some(ExtensionType::Uninitialized);
    };
    let Ok(extensions) = mint.get_extension_types() else {
        return Some(ExtensionType::Uninitialized);
    };
    extensions
        .into_iter()
        .find(|extension| !DESCRIPTIVE_MINT_EXTENSIONS.contains(extension))
}

/// Whether `mint` may be used for money a depinkit program holds or moves.
pub fn is_safe_mint(mint: &InterfaceAccount<Mint>) -> bool {
    let info = mint.to_account_info();
    let Ok(data) = info.try_borrow_data() else {
        return false;
    };
    unsafe_mint_extension(&data).is_none()
}

/// Whether a token account that already exists where a program wants its own
/// custody account (an associated token account anyone may create first) is one
/// the program fully controls: of `mint`, owned by `authority`, not frozen, no
/// delegate, no close authority. A balance already there is accepted: anyone can
/// send tokens to any account, so refusing one would let a dust transfer block
/// the program forever; such tokens are never counted as received.
pub fn is_controlled_custody(
    account: &InterfaceAccount<TokenAccount>,
    mint: &Pubkey,
    authority: &Pubkey,
) -> bool {
    account.mint == *mint
        && account.owner == *authority
        && account.state == AccountState::Initialized
        && account.delegate.is_none()
        && account.close_authority.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_spl::token_2022::spl_token_2022::extension::{
        BaseStateWithExtensionsMut, PodStateWithExtensionsMut, metadata_pointer::MetadataPointer,
        permanent_delegate::PermanentDelegate,
    };
    use anchor_spl::token_2022::spl_token_2022::pod::PodMint;

    fn mint_with(extensions: &[ExtensionType]) -> Vec<u8> {
        let len = ExtensionType::try_calculate_account_len::<MintState>(extensions).unwrap();
        let mut data = vec![0u8; len];
        let mut state =
            PodStateWithExtensionsMut::<PodMint>::unpack_uninitialized(&mut data).unwrap();
        for extension in extensions {
            match extension {
                ExtensionType::MetadataPointer => {
                    state.init_extension::<MetadataPointer>(true).unwrap();
                }
                ExtensionType::PermanentDelegate => {
                    state.init_extension::<PermanentDelegate>(true).unwrap();
                }
                _ => unreachable!("not used by these tests"),
            }
        }
        state.base.is_initialized = true.into();
        state.init_account_type().unwrap();
        data
    }

    #[test]
    fn descriptive_extensions_pass_and_custody_extensions_do_not() {
        assert_eq!(unsafe_mint_extension(&[0u8; MintState::LEN]), None);
        assert_eq!(
            unsafe_mint_extension(&mint_with(&[ExtensionType::MetadataPointer])),
            None
        );
        assert_eq!(
            unsafe_mint_extension(&mint_with(&[
                ExtensionType::MetadataPointer,
                ExtensionType::PermanentDelegate
            ])),
            Some(ExtensionType::PermanentDelegate)
        );
        assert_eq!(
            unsafe_mint_extension(&[7u8; MintState::LEN + 3]),
            Some(ExtensionType::Uninitialized)
        );
    }
}
