//! Fee collection shared by onboarding and location assertion.

use crate::{errors::RegistryError, state::Fee};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

/// The optional accounts an instruction takes to pay a fee. They may be omitted
/// (passed as the program id, Anchor's `None`) when the fee is zero.
pub struct FeeAccounts<'a, 'info> {
    /// Mint the fee is paid in.
    pub mint: Option<&'a InterfaceAccount<'info, Mint>>,
    /// Payer's token account of that mint.
    pub from: Option<&'a InterfaceAccount<'info, TokenAccount>>,
    /// Treasury's token account of that mint.
    pub to: Option<&'a InterfaceAccount<'info, TokenAccount>>,
    /// SPL Token or Token-2022, whichever owns the mint.
    pub token_program: Option<&'a Interface<'info, TokenInterface>>,
}

/// Moves `fee` from the payer to the network treasury.
///
/// CHECK: the mint is the fee's mint; both token accounts are of that mint; the
/// destination is owned by `treasury`; the token program owns the mint. The token
/// program checks that `payer` may spend from the source.
pub fn charge<'info>(
    fee: &Fee,
    treasury: &Pubkey,
    payer: &Signer<'info>,
    accounts: FeeAccounts<'_, 'info>,
) -> Result<()> {
    if fee.amount == 0 {
        return Ok(());
    }
    let (Some(mint), Some(from), Some(to), Some(token_program)) = (
        accounts.mint,
        accounts.from,
        accounts.to,
        accounts.token_program,
    ) else {
        return err!(RegistryError::FeeAccountsMissing);
    };
    require_keys_eq!(mint.key(), fee.mint, RegistryError::WrongFeeMint);
    require_keys_eq!(from.mint, fee.mint, RegistryError::WrongFeeMint);
    require_keys_eq!(to.mint, fee.mint, RegistryError::WrongFeeMint);
    require_keys_eq!(to.owner, *treasury, RegistryError::WrongTreasuryAccount);
    require_keys_eq!(
        *mint.to_account_info().owner,
        token_program.key(),
        RegistryError::WrongFeeMint
    );
    token_interface::transfer_checked(
        CpiContext::new(
            token_program.key(),
            TransferChecked {
                from: from.to_account_info(),
                mint: mint.to_account_info(),
                to: to.to_account_info(),
                authority: payer.to_account_info(),
            },
        ),
        fee.amount,
        mint.decimals,
    )
}
