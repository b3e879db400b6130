//! Moving tokens out of an order's escrow, signed by the order PDA: shared by
//! settlements and cancellations.

use crate::{pda::ORDER_SEED, state::Order};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    self, CloseAccount, Mint, TokenAccount, TokenInterface, TransferChecked,
};

/// The accounts every escrow payment names, and the order PDA's seeds.
pub struct OrderEscrow<'a, 'info> {
    /// The order PDA, the escrow's authority.
    pub order: AccountInfo<'info>,
    /// The escrow token account.
    pub escrow: AccountInfo<'info>,
    /// The payment mint.
    pub mint: &'a InterfaceAccount<'info, Mint>,
    /// Token program of the payment mint.
    pub token_program: Pubkey,
    network: Pubkey,
    customer: Pubkey,
    id: [u8; 8],
    bump: [u8; 1],
}

impl<'a, 'info> OrderEscrow<'a, 'info> {
    /// The escrow of `order`.
    pub fn new(
        order: &Account<'info, Order>,
        escrow: &InterfaceAccount<'info, TokenAccount>,
        mint: &'a InterfaceAccount<'info, Mint>,
        token_program: &Interface<'info, TokenInterface>,
    ) -> Self {
        let (id, bump) = order.seed_bytes();
        Self {
            order: order.to_account_info(),
            escrow: escrow.to_account_info(),
            mint,
            token_program: token_program.key(),
            network: order.network,
            customer: order.customer,
            id,
            bump,
        }
    }

    /// Runs `f` with the order PDA's signer seeds.
    pub fn with_signer<R>(&self, f: impl FnOnce(&[&[&[u8]]]) -> R) -> R {
        let seeds: [&[u8]; 5] = [
            ORDER_SEED,
            self.network.as_ref(),
            self.customer.as_ref(),
            &self.id,
            &self.bump,
        ];
        f(&[&seeds])
    }

    /// The escrow's balance now, read from its data (transfers made in this
    /// instruction included; both token programs keep the amount at 64..72).
    pub fn balance(&self) -> Result<u64> {
        let data = self.escrow.try_borrow_data()?;
        let bytes: [u8; 8] = data
            .get(64..72)
            .and_then(|b| b.try_into().ok())
            .ok_or(ProgramError::InvalidAccountData)?;
        Ok(u64::from_le_bytes(bytes))
    }

    /// Pays `amount` (nothing when 0) from the escrow to `to`.
    pub fn pay(&self, to: AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        self.with_signer(|signer| {
            token_interface::transfer_checked(
                CpiContext::new_with_signer(
                    self.token_program,
                    TransferChecked {
                        from: self.escrow.clone(),
                        mint: self.mint.to_account_info(),
                        to,
                        authority: self.order.clone(),
                    },
                    signer,
                ),
                amount,
                self.mint.decimals,
            )
        })
    }

    /// Closes the (empty) escrow, its rent to `destination`.
    pub fn close(&self, destination: AccountInfo<'info>) -> Result<()> {
        self.with_signer(|signer| {
            token_interface::close_account(CpiContext::new_with_signer(
                self.token_program,
                CloseAccount {
                    account: self.escrow.clone(),
                    destination,
                    authority: self.order.clone(),
                },
                signer,
            ))
        })
    }
}
