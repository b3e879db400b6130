//! Creating and funding program accounts by hand, for the accounts Anchor's
//! `init` cannot create (PDAs that must tolerate pre-funded addresses, Token-2022
//! mints with extensions). Shared by every depinkit program.

use anchor_lang::{
    prelude::*,
    system_program::{self, Allocate, Assign, CreateAccount, Transfer},
};

/// Creates `target` as a PDA account of `space` bytes owned by `owner`, holding
/// `lamports`. Works when someone has already sent lamports to the address (which
/// would make a plain `create_account` fail): tops up, allocates and assigns instead.
pub fn create_pda_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    space: usize,
    lamports: u64,
    owner: &Pubkey,
    signer_seeds: &[&[u8]],
) -> Result<()> {
    let seeds = [signer_seeds];
    let current = target.lamports();
    if current == 0 {
        return system_program::create_account(
            CpiContext::new_with_signer(
                system_program::ID,
                CreateAccount {
                    from: payer.clone(),
                    to: target.clone(),
                },
                &seeds,
            ),
            lamports,
            space as u64,
            owner,
        );
    }
    if lamports > current {
        system_program::transfer(
            CpiContext::new(
                system_program::ID,
                Transfer {
                    from: payer.clone(),
                    to: target.clone(),
                },
            ),
            lamports - current,
        )?;
    }
    system_program::allocate(
        CpiContext::new_with_signer(
            system_program::ID,
            Allocate {
                account_to_allocate: target.clone(),
            },
            &seeds,
        ),
        space as u64,
    )?;
    system_program::assign(
        CpiContext::new_with_signer(
            system_program::ID,
            Assign {
                account_to_assign: target.clone(),
            },
            &seeds,
        ),
        owner,
    )
}

/// Sends `account` the lamports it needs to stay rent exempt at `new_len` bytes.
pub fn top_up_rent<'info>(
    payer: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    new_len: usize,
) -> Result<()> {
    let needed = Rent::get()?.minimum_balance(new_len);
    let current = account.lamports();
    if needed > current {
        system_program::transfer(
            CpiContext::new(
                system_program::ID,
                Transfer {
                    from: payer.clone(),
                    to: account.clone(),
                },
            ),
            needed - current,
        )?;
    }
    Ok(())
}
