//! The whole device-registry story in one run, printing each step: a network
//! builder creates a network, a maker registers and is approved, an owner
//! onboards a device, sells its NFT, and the buyer moves the device.
//!
//! `RUST_LOG=error cargo test -p depinkit-tests --test e2e_onboarding -- --nocapture`

use depinkit_tests::{Harness, registry::*};
use device_registry::state::{Device, Network};
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::signature::{Keypair, Signer};

#[tokio::test]
async fn network_maker_device_transfer_and_move() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "demo-wireless").await;
    let network: Network = h.anchor_account(&f.network).await;
    println!(
        "1. network {} \"{}\" ({:?}), {} oracles, threshold {}",
        f.network,
        network.name,
        network.category,
        network.oracles.len(),
        network.threshold
    );
    println!("2. maker {} approved", f.maker);

    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let sf = cell(37.7749, -122.4194);
    let before = h.lamports(&owner.pubkey()).await;
    f.onboard(&mut h, &owner, &device, sf)
        .await
        .expect("onboard");
    let spent = before - h.lamports(&owner.pubkey()).await;
    let mint = f.mint_address(&device.pubkey());
    let record: Device = h.anchor_account(&f.device_address(&device.pubkey())).await;
    assert_eq!(record.location, sf);
    println!(
        "3. device {} onboarded at {sf:x}; NFT {mint}; rent paid {spent} lamports ({:.5} SOL)",
        device.pubkey(),
        spent as f64 / LAMPORTS_PER_SOL as f64
    );

    let buyer = f.owner(&mut h).await;
    let buyer_nft = h.transfer_nft(&mint, &owner, &buyer.pubkey()).await;
    assert_eq!(h.token_balance(&buyer_nft).await, 1);
    println!("4. NFT sold to {}", buyer.pubkey());

    let paris = cell(48.8566, 2.3522);
    let expires_at = h.clock().await.unix_timestamp + 600;
    let ixs = f.assert_location_ixs(&buyer.pubkey(), &device, paris, 0, expires_at);
    h.send(&ixs, &[&buyer]).await.expect("assert location");
    let record: Device = h.anchor_account(&f.device_address(&device.pubkey())).await;
    assert_eq!(record.location, paris);
    println!(
        "5. new holder moved the device to {paris:x}; treasury holds {} fee units",
        h.token_balance(&f.treasury_fee_account).await
    );
}
