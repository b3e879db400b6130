//! Claim transactions at the deepest trees: serialized sizes against the 1,232
//! bytes a Solana packet carries, legacy and v0 with the pool's claim lookup
//! table, and a real 24-level claim through the bank.
//!
//! `cargo test -p depinkit-tests --test integration claim_size -- --nocapture` prints the figures.

use depinkit_sdk::events::DepinEvent;
use depinkit_tests::{
    Harness,
    harness::{assert_anchor_error, token_id},
    pool::*,
};
use reward_pool::{
    errors::PoolError,
    events::ClaimLookupTableSet,
    instructions::VoteEpochRootArgs,
    merkle::{Hash32, leaf_hash, node_hash},
    pda,
    state::Pool,
};
use solana_address_lookup_table_interface::instruction as lookup_table;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::{
    hash::Hash,
    instruction::Instruction,
    message::{AddressLookupTableAccount, VersionedMessage, v0},
    pubkey::Pubkey,
    signature::{Keypair, Signer},
    transaction::{Transaction, VersionedTransaction},
};

/// Largest transaction a Solana packet carries: the IPv6 minimum MTU (1,280)
/// less the IPv6 (40) and UDP (8) headers.
const PACKET_DATA_SIZE: usize = 1280 - 40 - 8;

/// Bytes of a legacy transaction on the wire: signatures and message.
fn wire_size(instructions: &[Instruction], payer: &Keypair) -> usize {
    let tx = Transaction::new_signed_with_payer(
        instructions,
        Some(&payer.pubkey()),
        &[payer],
        Hash::new_unique(),
    );
    // compact-u16 count (1 byte for one signature) + signatures + message.
    1 + 64 * tx.signatures.len() + tx.message_data().len()
}

/// Bytes of a v0 transaction using `table`, signed by `payer` alone.
fn v0_wire_size(
    instructions: &[Instruction],
    payer: &Keypair,
    table: &AddressLookupTableAccount,
) -> usize {
    let message = v0::Message::try_compile(
        &payer.pubkey(),
        instructions,
        std::slice::from_ref(table),
        Hash::new_unique(),
    )
    .expect("compile");
    let tx = VersionedTransaction::try_new(VersionedMessage::V0(message), &[payer]).expect("sign");
    bincode_len(&tx)
}

fn bincode_len(tx: &VersionedTransaction) -> usize {
    1 + 64 * tx.signatures.len() + tx.message.serialize().len()
}

/// The compute-budget instructions every sender adds (a limit and a price).
fn priority_fee_instructions() -> [Instruction; 2] {
    [
        ComputeBudgetInstruction::set_compute_unit_limit(200_000),
        ComputeBudgetInstruction::set_compute_unit_price(1_000),
    ]
}

/// A synthetic proof of `depth` distinct hashes and the root it leads to.
fn synthetic_proof(leaf: Hash32, depth: usize) -> (Vec<Hash32>, Hash32) {
    let proof: Vec<Hash32> = (0..depth)
        .map(|i| {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&(i as u64 + 1).wrapping_mul(0x9e37_79b9).to_le_bytes());
            h[31] = 0xff;
            h
        })
        .collect();
    let root = proof.iter().fold(leaf, |node, s| node_hash(&node, s));
    (proof, root)
}

#[tokio::test]
async fn legacy_claim_transaction_sizes_by_depth() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "size", 1).await;
    let payer = h.payer().insecure_clone();
    let accounts = f.claim_accounts(0);
    let leaf = leaf_hash(&accounts.device_mint, 1_000);
    for depth in 18..=24usize {
        let (proof, _) = synthetic_proof(leaf, depth);
        let claim = claim(&f.keys, accounts, 1_000, proof);
        let steady = wire_size(std::slice::from_ref(&claim), &payer);
        let setup = [
            spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                &payer.pubkey(),
                &f.devices[0].holder.pubkey(),
                &f.keys.reward_mint,
                &token_id(),
            ),
            init_claim_record(&payer.pubkey(), &f.keys.pool, &accounts.device, &accounts.device_mint),
        ];
        let first = wire_size(&[setup[0].clone(), setup[1].clone(), claim], &payer);
        println!(
            "legacy claim tx, depth {depth} (up to {} devices): {steady} bytes; \
             first claim with ATA and record setup in the same tx: {first} bytes \
             (limit {PACKET_DATA_SIZE})",
            1u64 << depth
        );
        // 32 bytes a level: the claim alone fits up to 23 levels (8 M devices),
        // with its setup up to 19.
        assert_eq!(
            steady <= PACKET_DATA_SIZE,
            depth <= 23,
            "depth {depth}: {steady} bytes"
        );
        assert_eq!(
            first <= PACKET_DATA_SIZE,
            depth <= 19,
            "depth {depth}: {first} bytes"
        );
    }
}

#[tokio::test]
async fn with_the_claim_lookup_table_a_24_level_claim_fits_one_packet() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "size-v0", 1).await;
    let payer = h.payer().insecure_clone();
    let accounts = f.claim_accounts(0);
    let leaf = leaf_hash(&accounts.device_mint, 1_000);
    let table = depinkit_sdk::pool::claim_lookup_table(&Pubkey::new_unique(), &f.keys);
    for depth in [20usize, 22, 23, 24] {
        let (proof, _) = synthetic_proof(leaf, depth);
        let claim = claim(&f.keys, accounts, 1_000, proof);
        let mut with_fees = priority_fee_instructions().to_vec();
        with_fees.push(claim.clone());
        let steady = v0_wire_size(&with_fees, &payer, &table);
        let mut first = priority_fee_instructions().to_vec();
        first.extend(depinkit_sdk::pool::claim_with_setup(
            &payer.pubkey(),
            &f.devices[0].holder.pubkey(),
            &f.keys,
            accounts,
            depinkit_sdk::pool::ClaimSetup {
                create_reward_account: true,
                create_claim_record: true,
            },
            1_000,
            synthetic_proof(leaf, depth).0,
        ));
        let first = v0_wire_size(&first, &payer, &table);
        let legacy = wire_size(&with_fees, &payer);
        println!(
            "v0 claim tx with the claim lookup table and priority-fee instructions, depth \
             {depth}: {steady} bytes; first claim with its setup: {first} bytes \
             (legacy with the same instructions: {legacy} bytes; limit {PACKET_DATA_SIZE})"
        );
        assert!(steady <= PACKET_DATA_SIZE, "depth {depth}: {steady} bytes");
        // With its setup (the holder's reward account and the claim record) a
        // first claim fits up to 22 levels; deeper, the setup goes first.
        assert_eq!(
            first <= PACKET_DATA_SIZE,
            depth <= 22,
            "depth {depth}: {first} bytes"
        );
    }
}

#[tokio::test]
async fn only_a_frozen_table_of_the_pool_claim_accounts_is_registered() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "alt", 1).await;
    let payer = h.payer().pubkey();
    let addresses = depinkit_sdk::pool::claim_table_addresses(&f.keys).to_vec();
    // A table that is not frozen: its authority could still change it.
    let slot = h.recent_slot().await;
    let (create, open_table) = lookup_table::create_lookup_table(payer, payer, slot);
    let extend =
        lookup_table::extend_lookup_table(open_table, payer, Some(payer), addresses.clone());
    h.send(&[create, extend], &[]).await.unwrap();
    let register = depinkit_sdk::pool::set_claim_lookup_table(&f.keys, &open_table);
    assert_anchor_error(
        &h.send(&[register], &[]).await,
        PoolError::InvalidClaimLookupTable,
    );
    // A frozen table with another pool's accounts, or in another order.
    h.warp_seconds(1).await;
    let mut swapped = addresses.clone();
    swapped.swap(1, 2);
    let slot = h.recent_slot().await;
    let (create, wrong) = lookup_table::create_lookup_table(payer, payer, slot);
    let extend = lookup_table::extend_lookup_table(wrong, payer, Some(payer), swapped);
    let freeze = lookup_table::freeze_lookup_table(wrong, payer);
    h.send(&[create, extend, freeze], &[]).await.unwrap();
    let register = depinkit_sdk::pool::set_claim_lookup_table(&f.keys, &wrong);
    assert_anchor_error(
        &h.send(&[register], &[]).await,
        PoolError::InvalidClaimLookupTable,
    );
    // An account that is not a lookup table.
    let register = depinkit_sdk::pool::set_claim_lookup_table(&f.keys, &f.keys.vault);
    assert_anchor_error(
        &h.send(&[register], &[]).await,
        PoolError::InvalidClaimLookupTable,
    );
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.claim_lookup_table, Pubkey::default());
    // The right one, registered by anyone.
    h.warp_seconds(1).await;
    let slot = h.recent_slot().await;
    let (table, ixs) = depinkit_sdk::pool::claim_lookup_table_setup(&payer, &f.keys, slot);
    let events = h.send_events(&ixs, &[]).await.expect("register");
    assert_eq!(
        events,
        vec![DepinEvent::ClaimLookupTableSet(ClaimLookupTableSet {
            pool: f.keys.pool,
            lookup_table: table,
        })]
    );
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.claim_lookup_table, table);
}

#[tokio::test]
async fn a_24_level_claim_in_one_v0_transaction_through_the_bank() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "deep-v0", 1).await;
    let table_address = f.create_claim_lookup_table(&mut h).await;
    let table = depinkit_sdk::pool::claim_lookup_table(&table_address, &f.keys);
    let accounts = f.claim_accounts(0);
    let amount = 1_000;
    let (proof, root) = synthetic_proof(leaf_hash(&accounts.device_mint, amount), 24);
    let end = f.epoch_end(0);
    let now = h.clock().await.unix_timestamp;
    h.warp_seconds(end - now).await;
    let args = VoteEpochRootArgs {
        epoch: 0,
        root,
        total: amount,
        leaf_count: 1 << 24,
    };
    for oracle in 0..2 {
        f.vote(&mut h, oracle, args).await.expect("vote");
    }
    let payer = h.payer().insecure_clone();
    // The setup first (the holder's reward account, the claim record)...
    let mut setup = depinkit_sdk::pool::claim_with_setup(
        &payer.pubkey(),
        &f.devices[0].holder.pubkey(),
        &f.keys,
        accounts,
        depinkit_sdk::pool::ClaimSetup {
            create_reward_account: true,
            create_claim_record: true,
        },
        amount,
        proof,
    );
    let claim_ix = setup.pop().expect("the claim");
    h.send(&setup, &[]).await.expect("setup");
    // ...then the claim, with priority fees, as a v0 transaction.
    let mut ixs = priority_fee_instructions().to_vec();
    ixs.push(claim_ix);
    let blockhash = h.ctx.get_new_latest_blockhash().await.unwrap();
    let message = v0::Message::try_compile(&payer.pubkey(), &ixs, &[table], blockhash).unwrap();
    let tx = VersionedTransaction::try_new(VersionedMessage::V0(message), &[&payer]).unwrap();
    let size = bincode_len(&tx);
    assert!(size <= PACKET_DATA_SIZE, "{size} bytes");
    h.ctx
        .banks_client
        .process_transaction(tx)
        .await
        .expect("a 24-level claim in one v0 transaction");
    assert_eq!(
        h.token_balance(&accounts.holder_reward_account).await,
        amount
    );
}

#[tokio::test]
async fn a_24_level_proof_claims_through_the_bank() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "deep", 1).await;
    let accounts = f.claim_accounts(0);
    let amount = 1_000;
    let (proof, root) = synthetic_proof(leaf_hash(&accounts.device_mint, amount), 24);
    let end = f.epoch_end(0);
    let now = h.clock().await.unix_timestamp;
    h.warp_seconds(end - now).await;
    let args = VoteEpochRootArgs {
        epoch: 0,
        root,
        total: amount,
        leaf_count: 1 << 24,
    };
    for oracle in 0..2 {
        f.vote(&mut h, oracle, args).await.expect("vote");
    }
    f.claim_with(&mut h, accounts, amount, proof)
        .await
        .expect("24-level claim");
    assert_eq!(
        h.token_balance(&accounts.holder_reward_account).await,
        amount
    );
    let record = pda::find_claim_record_address(&f.keys.pool, &accounts.device_mint).0;
    assert!(h.account_data(&record).await.is_some());
}
