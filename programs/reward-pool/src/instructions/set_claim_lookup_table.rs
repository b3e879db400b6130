//! `set_claim_lookup_table`: anyone registers a frozen address lookup table
//! holding the pool's fixed claim accounts, so that clients send claims with
//! deep proofs (24 hashes, 16.7 M devices) as v0 transactions that fit one
//! packet. The table is checked here, so a client can trust the pool's entry.

use crate::{errors::PoolError, events::ClaimLookupTableSet, state::Pool};
use anchor_lang::prelude::*;

/// Size of an address lookup table's metadata, before its addresses.
const LOOKUP_TABLE_META_LEN: usize = 56;
/// The metadata's variant tag of an initialized table (`ProgramState::LookupTable`).
const LOOKUP_TABLE_TAG: u32 = 1;

/// Accounts of `set_claim_lookup_table`.
#[event_cpi]
#[derive(Accounts)]
pub struct SetClaimLookupTable<'info> {
    /// The pool.
    #[account(mut)]
    pub pool: Box<Account<'info, Pool>>,
    /// CHECK: an address lookup table, parsed and checked by the handler.
    #[account(owner = solana_sdk_ids::address_lookup_table::ID @ PoolError::InvalidClaimLookupTable)]
    pub lookup_table: UncheckedAccount<'info>,
}

/// Records the table on the pool.
///
/// CHECK: owned by the address lookup table program; an initialized table,
/// not deactivating, frozen (no authority, so it can never change or close);
/// its addresses are exactly [`Pool::claim_table_addresses`], in order.
pub fn handler(ctx: Context<SetClaimLookupTable>) -> Result<()> {
    let expected = ctx
        .accounts
        .pool
        .claim_table_addresses(&ctx.accounts.pool.key());
    let data = ctx.accounts.lookup_table.try_borrow_data()?;
    require!(
        is_frozen_table_of(&data, &expected),
        PoolError::InvalidClaimLookupTable
    );
    drop(data);
    let table = ctx.accounts.lookup_table.key();
    ctx.accounts.pool.claim_lookup_table = table;
    emit_cpi!(ClaimLookupTableSet {
        pool: ctx.accounts.pool.key(),
        lookup_table: table,
    });
    Ok(())
}

/// Whether `data` is an address lookup table that is active, frozen, and holds
/// exactly `addresses`. The layout is the lookup table program's: a u32 tag,
/// the deactivation slot (u64::MAX while active), the last extension slot and
/// index, the authority as a bincode `Option<Pubkey>` (tag byte at 21), padding
/// to 56 bytes, then the addresses.
fn is_frozen_table_of(data: &[u8], addresses: &[Pubkey]) -> bool {
    let Some((meta, listed)) = data.split_at_checked(LOOKUP_TABLE_META_LEN) else {
        return false;
    };
    let tag = u32::from_le_bytes([meta[0], meta[1], meta[2], meta[3]]);
    let mut deactivation = [0u8; 8];
    deactivation.copy_from_slice(&meta[4..12]);
    let frozen = meta[21] == 0;
    tag == LOOKUP_TABLE_TAG
        && u64::from_le_bytes(deactivation) == u64::MAX
        && frozen
        && listed.len() == addresses.len() * 32
        && listed
            .chunks_exact(32)
            .zip(addresses)
            .all(|(listed, expected)| listed == expected.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(authority: Option<Pubkey>, deactivation: u64, addresses: &[Pubkey]) -> Vec<u8> {
        let mut data = vec![0u8; LOOKUP_TABLE_META_LEN];
        data[..4].copy_from_slice(&LOOKUP_TABLE_TAG.to_le_bytes());
        data[4..12].copy_from_slice(&deactivation.to_le_bytes());
        if let Some(key) = authority {
            data[21] = 1;
            data[22..54].copy_from_slice(key.as_ref());
        }
        for address in addresses {
            data.extend_from_slice(address.as_ref());
        }
        data
    }

    #[test]
    fn only_a_frozen_active_table_of_exactly_the_addresses() {
        let want: Vec<Pubkey> = (0..6).map(|_| Pubkey::new_unique()).collect();
        assert!(is_frozen_table_of(&table(None, u64::MAX, &want), &want));
        let authority = Some(Pubkey::new_unique());
        assert!(!is_frozen_table_of(
            &table(authority, u64::MAX, &want),
            &want
        ));
        assert!(!is_frozen_table_of(&table(None, 7, &want), &want));
        assert!(!is_frozen_table_of(
            &table(None, u64::MAX, &want[..5]),
            &want
        ));
        let mut swapped = want.clone();
        swapped.swap(0, 1);
        assert!(!is_frozen_table_of(&table(None, u64::MAX, &swapped), &want));
        let mut longer = want.clone();
        longer.push(Pubkey::new_unique());
        assert!(!is_frozen_table_of(&table(None, u64::MAX, &longer), &want));
        let mut wrong_tag = table(None, u64::MAX, &want);
        wrong_tag[0] = 0;
        assert!(!is_frozen_table_of(&wrong_tag, &want));
        assert!(!is_frozen_table_of(&[0u8; 10], &want));
    }
}
