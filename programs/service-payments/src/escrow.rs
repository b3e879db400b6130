//! Moving tokens out of an order's escrow, signed by the order PDA: shared by
//! settlements and cancellations.

use crate::state::Order;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    self, CloseAccount, Mint, TokenAccount, TokenInterface, TransferChecked,
};

/// The accounts every escrow payment names.
pub struct OrderEscrow<'a, 'info> {
    /// The order PDA, the escrow's authority.
    pub order: AccountInfo<'info>,
    /// The escrow token account.
    pub escrow: AccountInfo<'info>,
    /// The payment mint.
    pub mint: &'a InterfaceAccount<'info, Mint>,
    /// Token program of the payment mint.
    pub token_program: Pubkey,
    /// The order PDA's signer seeds.
    pub signer: &'a [&'a [&'a [u8]]],
}

impl<'a, 'info> OrderEscrow<'a, 'info> {
    /// The escrow of `order`, signing with `signer` (the order PDA's seeds).
    pub fn new(
        order: &Account<'info, Order>,
        escrow: &InterfaceAccount<'info, TokenAccount>,
        mint: &'a InterfaceAccount<'info, Mint>,
        token_program: &Interface<'info, TokenInterface>,
        signer: &'a [&'a [&'a [u8]]],
    ) -> Self {
        Self {
            order: order.to_account_info(),
            escrow: escrow.to_account_info(),
            mint,
            token_program: token_program.key(),
            signer,
        }
    }

    /// Pays `amount` (nothing when 0) from the escrow to `to`.
    pub fn pay(&self, to: AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                self.token_program,
                TransferChecked {
                    from: self.escrow.clone(),
                    mint: self.mint.to_account_info(),
                    to,
                    authority: self.order.clone(),
                },
                self.signer,
            ),
            amount,
            self.mint.decimals,
        )
    }

    /// Closes the (empty) escrow, its rent to `destination`.
    pub fn close(&self, destination: AccountInfo<'info>) -> Result<()> {
        token_interface::close_account(CpiContext::new_with_signer(
            self.token_program,
            CloseAccount {
                account: self.escrow.clone(),
                destination,
                authority: self.order.clone(),
            },
            self.signer,
        ))
    }
}
