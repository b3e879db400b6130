//! Two-step hand-over of a network's authority: the current authority proposes,
//! the new one accepts. A mistyped key can never take over, and a proposal can be
//! withdrawn until it is accepted.

use crate::{
    errors::RegistryError,
    events::{AuthorityChanged, AuthorityProposed},
    state::Network,
};
use anchor_lang::prelude::*;

/// Accounts of `propose_network_authority`.
#[event_cpi]
#[derive(Accounts)]
pub struct ProposeNetworkAuthority<'info> {
    /// The current authority.
    pub authority: Signer<'info>,
    /// The network.
    #[account(mut, has_one = authority @ RegistryError::NotNetworkAuthority)]
    pub network: Box<Account<'info, Network>>,
}

/// Records `new_authority` as pending; `None` withdraws a proposal.
///
/// CHECK: signer is the current authority.
pub fn propose_handler(
    ctx: Context<ProposeNetworkAuthority>,
    new_authority: Option<Pubkey>,
) -> Result<()> {
    ctx.accounts.network.pending_authority = new_authority;
    emit_cpi!(AuthorityProposed {
        network: ctx.accounts.network.key(),
        proposed: new_authority,
    });
    Ok(())
}

/// Accounts of `accept_network_authority`.
#[event_cpi]
#[derive(Accounts)]
pub struct AcceptNetworkAuthority<'info> {
    /// The proposed authority.
    pub new_authority: Signer<'info>,
    /// The network.
    #[account(mut)]
    pub network: Box<Account<'info, Network>>,
}

/// Makes the pending authority the authority.
///
/// CHECK: a proposal exists and the signer is the proposed key.
pub fn accept_handler(ctx: Context<AcceptNetworkAuthority>) -> Result<()> {
    let network = &mut ctx.accounts.network;
    let pending = network
        .pending_authority
        .ok_or(RegistryError::NoPendingAuthority)?;
    require_keys_eq!(
        pending,
        ctx.accounts.new_authority.key(),
        RegistryError::NotPendingAuthority
    );
    let previous = network.authority;
    network.authority = pending;
    network.pending_authority = None;
    emit_cpi!(AuthorityChanged {
        network: ctx.accounts.network.key(),
        previous,
        authority: pending,
    });
    Ok(())
}
