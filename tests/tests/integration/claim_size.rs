//! Claim transactions at the deepest trees: serialized sizes against the 1,232
//! bytes a Solana packet carries, and a real 24-level claim through the bank.
//!
//! `cargo test -p depinkit-tests --test integration claim_size -- --nocapture` prints the figures.

use depinkit_tests::{Harness, harness::token_id, pool::*};
use reward_pool::{
    instructions::VoteEpochRootArgs,
    merkle::{Hash32, leaf_hash, node_hash},
    pda,
};
use solana_sdk::{
    hash::Hash,
    instruction::Instruction,
    signature::{Keypair, Signer},
    transaction::Transaction,
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
