//! Fee collection shared by onboarding and location assertion.

use crate::{errors::RegistryError, state::Fee};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

/// The accounts that pay a fee, nested in every instruction that charges one.
/// Each is optional (a client passes the program id for `None`) and may be
/// omitted when the fee is zero.
#[derive(Accounts)]
pub struct FeeAccounts<'info> {
    /// Mint the fee is paid in.
    pub fee_mint: Option<Box<InterfaceAccount<'info, Mint>>>,
    /// Payer's token account of that mint.
    #[account(mut)]
    pub payer_fee_account: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    /// Treasury's token account of that mint; the payer's own when the
    /// treasury pays (the network authority onboarding its own devices).
    #[account(mut, dup)]
    pub treasury_fee_account: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    /// SPL Token or Token-2022, whichever owns the mint.
    pub fee_token_program: Option<Interface<'info, TokenInterface>>,
}

impl<'info> FeeAccounts<'info> {
    /// Moves `fee` from `payer` to the network treasury and returns what was
    /// charged (0 for a free action).
    ///
    /// CHECK: the mint is the fee's mint; both token accounts are of that mint;
    /// the destination is owned by `treasury`; the token program owns the mint.
    /// The token program checks that `payer` may spend from the source.
    pub fn charge(&self, fee: &Fee, treasury: &Pubkey, payer: &Signer<'info>) -> Result<u64> {
        if fee.amount == 0 {
            return Ok(0);
        }
        let (Some(mint), Some(from), Some(to), Some(token_program)) = (
            &self.fee_mint,
            &self.payer_fee_account,
            &self.treasury_fee_account,
            &self.fee_token_program,
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
        )?;
        Ok(fee.amount)
    }
}
