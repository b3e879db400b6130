//! `register_maker`: a manufacturer registers its issuing key with a network; the
//! network authority then approves it with `set_maker_status`.

use crate::{
    errors::RegistryError,
    events::MakerRegistered,
    instructions::create_network::check_text,
    pda::MAKER_SEED,
    state::{ACCOUNT_VERSION, MAX_NAME_LEN, Maker, MakerStatus, Network},
};
use anchor_lang::prelude::*;

/// Accounts of `register_maker`.
#[event_cpi]
#[derive(Accounts)]
pub struct RegisterMaker<'info> {
    /// Pays rent.
    #[account(mut)]
    pub payer: Signer<'info>,
    /// The maker's issuing key; signs to prove the registrant holds it.
    pub issuing_key: Signer<'info>,
    /// The network to build for.
    #[account(mut)]
    pub network: Box<Account<'info, Network>>,
    /// The new maker, pending approval.
    #[account(
        init,
        payer = payer,
        space = 8 + Maker::INIT_SPACE,
        seeds = [MAKER_SEED, network.key().as_ref(), issuing_key.key().as_ref()],
        bump,
    )]
    pub maker: Box<Account<'info, Maker>>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Registers a maker as `Pending`.
///
/// CHECK: the issuing key signs; name length; the maker PDA is fresh (one per key
/// and network).
pub fn handler(ctx: Context<RegisterMaker>, name: String) -> Result<()> {
    check_text(&name, MAX_NAME_LEN, RegistryError::InvalidName)?;
    let network = &mut ctx.accounts.network;
    network.maker_count = network
        .maker_count
        .checked_add(1)
        .ok_or(RegistryError::ArithmeticOverflow)?;
    ctx.accounts.maker.set_inner(Maker {
        version: ACCOUNT_VERSION,
        bump: ctx.bumps.maker,
        network: network.key(),
        issuing_key: ctx.accounts.issuing_key.key(),
        name,
        status: MakerStatus::Pending,
        registered_at: Clock::get()?.unix_timestamp,
        device_count: 0,
    });
    let maker = &ctx.accounts.maker;
    emit_cpi!(MakerRegistered {
        network: maker.network,
        maker: maker.key(),
        issuing_key: maker.issuing_key,
        name: maker.name.clone(),
    });
    Ok(())
}
