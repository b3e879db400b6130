//! Token mints and accounts as clients read and show them: a mint's decimals,
//! symbol and authorities, amounts in whole tokens ("1.5 DEMO") and back, token
//! balances, who holds a device NFT and which device NFTs a wallet holds, and
//! the instructions that make a test token.
//!
//! One rule for amounts, used by `depin` and meant for every client: what a
//! person reads or types is in whole tokens of the mint (its decimals applied,
//! its symbol shown); what a program or a file carries is in base units.

use crate::{accounts::memcmp, errors::SdkError};
use anchor_lang::solana_program::program_pack::Pack;
use anchor_spl::token_2022::spl_token_2022::{
    extension::{BaseStateWithExtensions, StateWithExtensions},
    state::{Account as TokenAccount, Mint},
};
use anchor_spl::token_interface::spl_token_metadata_interface::state::TokenMetadata;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{account::Account, instruction::Instruction, pubkey::Pubkey};
use std::str::FromStr;

/// A mint, as clients need it to show and parse amounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MintInfo {
    /// The mint.
    pub address: Pubkey,
    /// SPL Token or Token-2022.
    pub token_program: Pubkey,
    /// Decimals.
    pub decimals: u8,
    /// The symbol in its Token-2022 metadata, if any (classic mints carry none).
    pub symbol: Option<String>,
    /// Tokens in existence, base units.
    pub supply: u64,
    /// Who may mint more, if anyone.
    pub mint_authority: Option<Pubkey>,
    /// Who may freeze token accounts of this mint, if anyone.
    pub freeze_authority: Option<Pubkey>,
}

impl MintInfo {
    /// Decodes a mint account (SPL Token or Token-2022); an error names the
    /// address when the account is not a mint.
    pub fn from_account(address: &Pubkey, account: &Account) -> Result<Self, SdkError> {
        let not_a_mint = |why: &str| SdkError::Decode(*address, "token mint", why.to_string());
        if account.owner != anchor_spl::token::ID && account.owner != anchor_spl::token_2022::ID {
            return Err(not_a_mint("not owned by a token program"));
        }
        let state = StateWithExtensions::<Mint>::unpack(&account.data)
            .map_err(|_| not_a_mint("not a mint"))?;
        let symbol = state
            .get_variable_len_extension::<TokenMetadata>()
            .ok()
            .map(|m| m.symbol)
            .filter(|s| !s.is_empty());
        Ok(Self {
            address: *address,
            token_program: account.owner,
            decimals: state.base.decimals,
            symbol,
            supply: state.base.supply,
            mint_authority: state.base.mint_authority.into(),
            freeze_authority: state.base.freeze_authority.into(),
        })
    }

    /// `amount` base units in whole tokens with the symbol: "1.5 DEMO", or
    /// "1.5" for a mint without one.
    pub fn ui(&self, amount: u64) -> String {
        match &self.symbol {
            Some(symbol) => format!("{} {symbol}", ui_amount(amount, self.decimals)),
            None => ui_amount(amount, self.decimals),
        }
    }

    /// Whole tokens as typed ("1.5") in base units.
    pub fn parse_ui(&self, text: &str) -> Result<u64, String> {
        parse_ui_amount(text, self.decimals).ok_or_else(|| {
            format!(
                "{text:?} is not an amount of this token (at most {} decimals)",
                self.decimals
            )
        })
    }
}

/// Fetches and decodes a mint.
pub async fn mint_info(rpc: &RpcClient, mint: &Pubkey) -> Result<MintInfo, SdkError> {
    let account = rpc
        .get_account_with_commitment(mint, rpc.commitment())
        .await?
        .value
        .ok_or(SdkError::AccountNotFound(*mint))?;
    MintInfo::from_account(mint, &account)
}

/// A base-unit amount in whole tokens with `decimals`: 1500000 at 6 is "1.5".
pub fn ui_amount(amount: u64, decimals: u8) -> String {
    if decimals == 0 {
        return amount.to_string();
    }
    let scale = 10u128.pow(u32::from(decimals));
    let whole = u128::from(amount) / scale;
    let fraction = u128::from(amount) % scale;
    let fraction = format!("{fraction:0width$}", width = usize::from(decimals));
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

/// Whole tokens as typed ("1.5", "2", "0.000001") in base units with
/// `decimals`; `None` for anything else, more decimals than the mint has, or
/// an amount past `u64`.
pub fn parse_ui_amount(text: &str, decimals: u8) -> Option<u64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > usize::from(decimals)
    {
        return None;
    }
    let scale = 10u128.checked_pow(u32::from(decimals))?;
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        u128::from_str(whole).ok()?
    };
    let fraction: u128 = if fraction.is_empty() {
        0
    } else {
        let digits = u128::from_str(fraction).ok()?;
        digits * 10u128.pow(u32::from(decimals) - fraction.len() as u32)
    };
    u64::try_from(whole.checked_mul(scale)?.checked_add(fraction)?).ok()
}

/// The balance of a token account in base units, `None` if it does not exist.
pub async fn balance(rpc: &RpcClient, account: &Pubkey) -> Result<Option<u64>, SdkError> {
    let found = rpc
        .get_account_with_commitment(account, rpc.commitment())
        .await?
        .value;
    Ok(found.and_then(|a| {
        StateWithExtensions::<TokenAccount>::unpack(&a.data)
            .ok()
            .map(|s| s.base.amount)
    }))
}

/// The wallet holding the one token of the NFT `mint` now, if any.
pub async fn nft_holder(rpc: &RpcClient, mint: &Pubkey) -> Result<Option<Pubkey>, SdkError> {
    Ok(nft_holding(rpc, mint).await?.map(|holding| holding.owner))
}

/// Where the one token of an NFT is: the token account holding it (which a
/// claim names) and that account's owner (who the claim pays).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NftHolding {
    /// The token account with the token.
    pub account: Pubkey,
    /// Its owner.
    pub owner: Pubkey,
}

/// The token account holding the one token of the NFT `mint` now, and its
/// owner; `None` when no account holds it (burned).
pub async fn nft_holding(rpc: &RpcClient, mint: &Pubkey) -> Result<Option<NftHolding>, SdkError> {
    let largest = rpc.get_token_largest_accounts(mint).await?;
    let Some(holding) = largest.iter().find(|a| a.amount.amount == "1") else {
        return Ok(None);
    };
    let Ok(address) = Pubkey::from_str(&holding.address) else {
        return Ok(None);
    };
    let account = rpc.get_account(&address).await?;
    Ok(StateWithExtensions::<TokenAccount>::unpack(&account.data)
        .ok()
        .map(|s| NftHolding {
            account: address,
            owner: s.base.owner,
        }))
}

/// The mints of which `owner` holds exactly one token in a Token-2022 account
/// (its device NFTs, among others), read with server-side filters.
pub async fn held_nft_mints(rpc: &RpcClient, owner: &Pubkey) -> Result<Vec<Pubkey>, SdkError> {
    // Token accounts keep the owner at 32..64 and the amount at 64..72.
    let filters = vec![memcmp(32, owner.as_ref()), memcmp(64, &1u64.to_le_bytes())];
    let accounts =
        crate::accounts::program_accounts(rpc, &anchor_spl::token_2022::ID, filters).await?;
    Ok(accounts
        .into_iter()
        .filter_map(|(_, data)| {
            let data = data?;
            let state = StateWithExtensions::<TokenAccount>::unpack(&data).ok()?;
            (state.base.owner == *owner && state.base.amount == 1).then_some(state.base.mint)
        })
        .collect())
}

/// The instructions creating an SPL Token mint at `mint` (which signs) with
/// `authority` as mint authority and no freeze authority, rent paid by `payer`
/// (`rent`: the minimum balance of a mint account).
pub fn create_mint(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    decimals: u8,
    rent: u64,
) -> [Instruction; 2] {
    let program = anchor_spl::token::ID;
    [
        anchor_lang::solana_program::system_instruction::create_account(
            payer,
            mint,
            rent,
            Mint::LEN as u64,
            &program,
        ),
        spl_token_2022_interface::instruction::initialize_mint2(
            &program, mint, authority, None, decimals,
        )
        .expect("the SPL Token program id"),
    ]
}

/// Bytes of an SPL Token mint account, for its rent.
pub const MINT_LEN: usize = Mint::LEN;

/// Creates `owner`'s associated account of `mint` unless it exists (a no-op
/// then), `payer` paying the rent: payouts and fees go to associated accounts
/// only, so a sender opens the recipient's first.
pub fn open_ata(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
        payer,
        owner,
        mint,
        token_program,
    )
}

/// The instructions minting `amount` base units of `mint` to `owner`'s
/// associated token account (created if missing), signed by `authority`.
pub fn mint_to_owner(
    payer: &Pubkey,
    mint: &MintInfo,
    owner: &Pubkey,
    authority: &Pubkey,
    amount: u64,
) -> [Instruction; 2] {
    let account = crate::ata(owner, &mint.address, &mint.token_program);
    [
        open_ata(payer, owner, &mint.address, &mint.token_program),
        spl_token_2022_interface::instruction::mint_to_checked(
            &mint.token_program,
            &mint.address,
            &account,
            authority,
            &[],
            amount,
            mint.decimals,
        )
        .expect("a token program id"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_whole_tokens_and_back() {
        assert_eq!(ui_amount(40_000_000, 6), "40");
        assert_eq!(ui_amount(1_500_000, 6), "1.5");
        assert_eq!(ui_amount(7, 0), "7");
        assert_eq!(ui_amount(u64::MAX, 9), "18446744073.709551615");
        assert_eq!(parse_ui_amount("1.5", 6), Some(1_500_000));
        assert_eq!(parse_ui_amount("40", 6), Some(40_000_000));
        assert_eq!(parse_ui_amount(".5", 1), Some(5));
        assert_eq!(parse_ui_amount("0.000001", 6), Some(1));
        assert_eq!(
            parse_ui_amount("0.0000001", 6),
            None,
            "more decimals than the mint"
        );
        assert_eq!(parse_ui_amount("1e3", 6), None);
        assert_eq!(parse_ui_amount("-1", 6), None);
        assert_eq!(parse_ui_amount("", 6), None);
        assert_eq!(parse_ui_amount(".", 6), None);
        assert_eq!(parse_ui_amount("18446744073.709551615", 9), Some(u64::MAX));
        assert_eq!(parse_ui_amount("18446744073.709551616", 9), None);
        for amount in [0u64, 1, 999_999, 1_000_000, 123_456_789, u64::MAX] {
            assert_eq!(parse_ui_amount(&ui_amount(amount, 6), 6), Some(amount));
        }
    }
}
