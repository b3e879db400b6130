//! The depinkit story in one run, printing each step: a network builder creates
//! a network and its reward pool, a maker is approved, owners onboard devices
//! with their key proofs, an NFT is sold and its device moved, the oracles agree
//! on an epoch's rewards, and claims pay whoever holds each NFT.
//!
//! `RUST_LOG=error cargo test -p depinkit-tests --test integration demo -- --nocapture`

use depinkit_tests::{Harness, pool::*, registry::*};
use device_registry::state::{Device, Network};
use reward_pool::{merkle::RewardTree, state::Pool};
use solana_sdk::{native_token::LAMPORTS_PER_SOL, signature::Signer};

#[tokio::test]
async fn network_devices_rewards_and_claims() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "demo-wireless", 3).await;
    let network: Network = h.anchor_account(&f.net.network).await;
    println!(
        "1. network {} \"{}\" ({:?}): {} oracles, threshold {}, maker {} approved",
        f.net.network,
        network.name,
        network.category,
        network.oracles.len(),
        network.threshold,
        f.net.maker
    );
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    println!(
        "2. reward pool {}: epochs of {} s, {} units in epoch 0, halving every {} epochs; vault holds {}",
        f.keys.pool,
        pool.epoch_length_secs,
        pool.next_epoch_emission,
        pool.schedule.decay_interval_epochs,
        h.token_balance(&f.keys.vault).await
    );
    let rent: u64 = {
        let mut total = 0;
        for address in [
            f.devices[0].device,
            f.devices[0].mint,
            f.claim_accounts(0).holder_nft_account,
        ] {
            total += h.lamports(&address).await;
        }
        total
    };
    for (i, d) in f.devices.iter().enumerate() {
        let record: Device = h.anchor_account(&d.device).await;
        println!(
            "3.{i} device {} onboarded at cell {:x}, NFT {} held by {}",
            d.key.pubkey(),
            record.location,
            d.mint,
            d.holder.pubkey()
        );
    }
    println!(
        "   rent of one onboarding: {rent} lamports ({:.5} SOL)",
        rent as f64 / LAMPORTS_PER_SOL as f64
    );

    // Device 2's NFT is sold; the buyer moves the device.
    let buyer = f.net.owner(&mut h).await;
    let seller = f.devices[2].holder.insecure_clone();
    h.transfer_nft(&f.devices[2].mint, &seller, &buyer.pubkey())
        .await;
    let paris = cell(48.8566, 2.3522);
    let expires_at = h.clock().await.unix_timestamp + 600;
    let ixs = f
        .net
        .assert_location_ixs(&buyer.pubkey(), &f.devices[2].key, paris, 0, expires_at);
    h.send(&ixs, &[&buyer]).await.expect("assert location");
    println!(
        "4. device 2's NFT sold to {}; the buyer moved it to {paris:x}",
        buyer.pubkey()
    );

    // Epoch 0 ends; two of the three oracles vote the same root.
    let rewards = [300_000_000u64, 500_000_000, 200_000_000];
    let tree = RewardTree::new(f.devices.iter().zip(rewards).map(|(d, r)| (d.mint, r))).unwrap();
    f.finalize(&mut h, 0, &tree).await;
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.root, tree.root());
    println!(
        "5. epoch 0 finalized by 2 of 3 oracles: root {}, {} devices, {} units",
        tree.root()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        tree.len(),
        tree.total()
    );

    // Claims pay whoever holds each NFT now: device 2 pays the buyer.
    for (i, reward) in rewards.iter().enumerate().take(2) {
        f.claim(&mut h, i, &tree).await.expect("claim");
        let paid = h
            .token_balance(&f.claim_accounts(i).holder_reward_account)
            .await;
        assert_eq!(paid, *reward);
        println!(
            "6.{i} device {i} claimed {paid} units for {}",
            f.devices[i].holder.pubkey()
        );
    }
    let to_buyer = f.claim_accounts_for(2, &buyer.pubkey());
    let index = tree.position(&f.devices[2].mint).unwrap();
    f.claim_with(&mut h, to_buyer, rewards[2], tree.proof(index))
        .await
        .expect("claim for the buyer");
    let paid = h.token_balance(&to_buyer.holder_reward_account).await;
    assert_eq!(paid, rewards[2]);
    println!(
        "6.2 device 2 claimed {paid} units for the buyer {}",
        buyer.pubkey()
    );
    println!(
        "7. vault now holds {} units",
        h.token_balance(&f.keys.vault).await
    );
}
