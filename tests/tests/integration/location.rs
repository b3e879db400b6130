//! `assert_location` and `set_device_status`, including an NFT that changes hands.

use anchor_spl::token_interface::spl_token_metadata_interface::state::TokenMetadata;
use depinkit_sdk::events::DepinEvent;
use depinkit_tests::{
    Harness,
    harness::{assert_anchor_error, ata, token_2022_id, token_id},
    registry::*,
};
use device_registry::{
    errors::RegistryError,
    events::{DeviceStatusChanged, LocationAsserted},
    instructions::{AssertLocationArgs, UpdateNetworkArgs},
    state::{Device, DeviceStatus, Fee},
};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use spl_token_2022_interface::{
    extension::{BaseStateWithExtensions, StateWithExtensions},
    state::Mint as MintState,
};

const SF: (f64, f64) = (37.7749, -122.4194);
const PARIS: (f64, f64) = (48.8566, 2.3522);
const TOKYO: (f64, f64) = (35.6762, 139.6503);

/// A fixture network with one device onboarded at San Francisco.
async fn onboarded(seed: &str) -> (Harness, NetworkFixture, Keypair, Keypair) {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, seed).await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    f.onboard(&mut h, &owner, &device, cell(SF.0, SF.1))
        .await
        .expect("onboard");
    (h, f, owner, device)
}

async fn metadata_location(h: &mut Harness, f: &NetworkFixture, device: &Pubkey) -> Option<String> {
    let data = h.account_data(&f.mint_address(device)).await.unwrap();
    let state = StateWithExtensions::<MintState>::unpack(&data).unwrap();
    let metadata = state.get_variable_len_extension::<TokenMetadata>().unwrap();
    metadata
        .additional_metadata
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone())
}

async fn assert_by(
    h: &mut Harness,
    f: &NetworkFixture,
    holder: &Keypair,
    device: &Keypair,
    location: u64,
) -> Result<(), solana_program_test::BanksClientError> {
    let nonce = h
        .anchor_account::<Device>(&f.device_address(&device.pubkey()))
        .await
        .location_assert_count;
    let expires_at = h.clock().await.unix_timestamp + 600;
    let ixs = f.assert_location_ixs(&holder.pubkey(), device, location, nonce, expires_at);
    h.send(&ixs, &[holder]).await
}

#[tokio::test]
async fn the_holder_moves_the_device_and_pays_only_for_a_new_cell() {
    let (mut h, f, owner, device) = onboarded("move").await;
    let d = device.pubkey();
    let treasury_before = h.token_balance(&f.treasury_fee_account).await;
    let paris = cell(PARIS.0, PARIS.1);
    h.warp_seconds(100).await;
    let expires_at = h.clock().await.unix_timestamp + 600;
    let ixs = f.assert_location_ixs(&owner.pubkey(), &device, paris, 0, expires_at);
    let events = h.send_events(&ixs, &[&owner]).await.expect("assert");
    assert_eq!(
        events,
        vec![DepinEvent::LocationAsserted(LocationAsserted {
            network: f.network,
            device: f.device_address(&d),
            holder: owner.pubkey(),
            previous_location: cell(SF.0, SF.1),
            location: paris,
            nonce: 0,
            fee_paid: LOCATION_FEE,
        })]
    );
    let record: Device = h.anchor_account(&f.device_address(&d)).await;
    assert_eq!(record.location, paris);
    assert_eq!(record.location_assert_count, 1);
    assert_eq!(record.location_asserted_at, h.clock().await.unix_timestamp);
    assert_eq!(
        metadata_location(&mut h, &f, &d).await,
        Some(format!("{paris:x}"))
    );
    assert_eq!(
        h.token_balance(&f.treasury_fee_account).await,
        treasury_before + LOCATION_FEE
    );

    // The same cell again: no fee, the nonce still advances.
    assert_by(&mut h, &f, &owner, &device, paris)
        .await
        .expect("same cell");
    let record: Device = h.anchor_account(&f.device_address(&d)).await;
    assert_eq!(record.location_assert_count, 2);
    assert_eq!(
        h.token_balance(&f.treasury_fee_account).await,
        treasury_before + LOCATION_FEE
    );
}

#[tokio::test]
async fn first_assertion_after_onboarding_without_location_grows_the_metadata() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "late").await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    f.onboard(&mut h, &owner, &device, 0)
        .await
        .expect("onboard");
    let d = device.pubkey();
    assert_eq!(metadata_location(&mut h, &f, &d).await, None);
    let tokyo = cell(TOKYO.0, TOKYO.1);
    assert_by(&mut h, &f, &owner, &device, tokyo)
        .await
        .expect("assert");
    assert_eq!(
        metadata_location(&mut h, &f, &d).await,
        Some(format!("{tokyo:x}"))
    );
    // Still exactly rent exempt after growing.
    let mint = f.mint_address(&d);
    let len = h.account_data(&mint).await.unwrap().len();
    let rent = h.rent().await;
    assert_eq!(h.lamports(&mint).await, rent.minimum_balance(len));
}

#[tokio::test]
async fn a_transferred_nft_moves_the_right_to_assert() {
    let (mut h, f, owner, device) = onboarded("transfer").await;
    let d = device.pubkey();
    let mint = f.mint_address(&d);
    let buyer = f.owner(&mut h).await;
    h.transfer_nft(&mint, &owner, &buyer.pubkey()).await;

    // The previous owner no longer holds it (their account is empty).
    let paris = cell(PARIS.0, PARIS.1);
    let result = assert_by(&mut h, &f, &owner, &device, paris).await;
    assert_anchor_error(&result, RegistryError::NotDeviceHolder);

    // The buyer presenting the seller's (empty) account, or an account of
    // another mint, is refused too.
    let nonce = 0;
    let expires_at = h.clock().await.unix_timestamp + 600;
    let mut ixs = f.assert_location_ixs(&buyer.pubkey(), &device, paris, nonce, expires_at);
    ixs[1].accounts[4].pubkey = ata(&owner.pubkey(), &mint, &token_2022_id());
    let result = h.send(&ixs, &[&buyer]).await;
    assert_anchor_error(&result, RegistryError::NotDeviceHolder);
    let mut ixs = f.assert_location_ixs(&buyer.pubkey(), &device, paris, nonce, expires_at);
    ixs[1].accounts[4].pubkey = f.fee_payment(&buyer.pubkey()).from;
    let result = h.send(&ixs, &[&buyer]).await;
    assert_anchor_error(&result, RegistryError::NotDeviceHolder);

    // The buyer asserts.
    assert_by(&mut h, &f, &buyer, &device, paris)
        .await
        .expect("new holder asserts");
    let record: Device = h.anchor_account(&f.device_address(&d)).await;
    assert_eq!(record.location, paris);
}

#[tokio::test]
async fn device_signatures_for_location_are_single_use_and_bound() {
    let (mut h, f, owner, device) = onboarded("replay").await;
    let d = device.pubkey();
    let paris = cell(PARIS.0, PARIS.1);
    let tokyo = cell(TOKYO.0, TOKYO.1);
    let expires_at = h.clock().await.unix_timestamp + 600;
    let to_paris = f.assert_location_ixs(&owner.pubkey(), &device, paris, 0, expires_at);
    let to_tokyo = f.assert_location_ixs(&owner.pubkey(), &device, tokyo, 1, expires_at);
    h.send(&to_paris, &[&owner]).await.expect("paris");
    h.send(&to_tokyo, &[&owner]).await.expect("tokyo");
    // Replaying the Paris signature (nonce 0) is refused.
    h.warp_seconds(1).await;
    let result = h.send(&to_paris, &[&owner]).await;
    assert_anchor_error(&result, RegistryError::WrongDeviceMessage);
    let record: Device = h.anchor_account(&f.device_address(&d)).await;
    assert_eq!(record.location, tokyo);

    // Signed by another key, missing, expired, for another holder.
    let impostor = Keypair::new();
    let mut forged = f.assert_location_ixs(&owner.pubkey(), &impostor, paris, 2, expires_at);
    forged[1] = f.assert_location_ixs(&owner.pubkey(), &device, paris, 2, expires_at)[1].clone();
    let result = h.send(&forged, &[&owner]).await;
    assert_anchor_error(&result, RegistryError::WrongDeviceSigner);
    let ixs = f.assert_location_ixs(&owner.pubkey(), &device, paris, 2, expires_at);
    let result = h.send(&ixs[1..], &[&owner]).await;
    assert_anchor_error(&result, RegistryError::MissingDeviceSignature);
    let someone = Pubkey::new_unique();
    let mut other_holder = f.assert_location_ixs(&someone, &device, paris, 2, expires_at);
    other_holder[1] = ixs[1].clone();
    let result = h.send(&other_holder, &[&owner]).await;
    assert_anchor_error(&result, RegistryError::WrongDeviceMessage);
    let soon = h.clock().await.unix_timestamp + 5;
    let expiring = f.assert_location_ixs(&owner.pubkey(), &device, paris, 2, soon);
    h.warp_seconds(6).await;
    let result = h.send(&expiring, &[&owner]).await;
    assert_anchor_error(&result, RegistryError::MessageExpired);

    // Invalid cells.
    let result = assert_by(&mut h, &f, &owner, &device, paris ^ 0x7).await;
    assert_anchor_error(&result, RegistryError::InvalidH3Cell);
    let record: Device = h.anchor_account(&f.device_address(&d)).await;
    assert_eq!(record.location, tokyo);
    assert_eq!(record.location_assert_count, 2);
}

#[tokio::test]
async fn suspended_devices_cannot_move_until_reactivated() {
    let (mut h, f, owner, device) = onboarded("suspend").await;
    let d = f.device_address(&device.pubkey());
    let stranger = h.funded_wallet().await;
    let result = h
        .send(
            &[set_device_status(
                &stranger.pubkey(),
                &f.network,
                &d,
                DeviceStatus::Suspended,
            )],
            &[&stranger],
        )
        .await;
    assert_anchor_error(&result, RegistryError::NotNetworkAuthority);

    let events = h
        .send_events(
            &[set_device_status(
                &f.authority.pubkey(),
                &f.network,
                &d,
                DeviceStatus::Suspended,
            )],
            &[&f.authority],
        )
        .await
        .unwrap();
    assert_eq!(
        events,
        vec![DepinEvent::DeviceStatusChanged(DeviceStatusChanged {
            network: f.network,
            device: d,
            status: DeviceStatus::Suspended,
        })]
    );
    let record: Device = h.anchor_account(&d).await;
    assert_eq!(record.status, DeviceStatus::Suspended);
    let paris = cell(PARIS.0, PARIS.1);
    let result = assert_by(&mut h, &f, &owner, &device, paris).await;
    assert_anchor_error(&result, RegistryError::DeviceSuspended);

    // Another network's authority cannot touch this device.
    let other = NetworkFixture::create(&mut h, "suspend-2").await;
    let result = h
        .send(
            &[set_device_status(
                &other.authority.pubkey(),
                &other.network,
                &d,
                DeviceStatus::Active,
            )],
            &[&other.authority],
        )
        .await;
    assert_anchor_error(&result, RegistryError::WrongNetwork);

    h.send(
        &[set_device_status(
            &f.authority.pubkey(),
            &f.network,
            &d,
            DeviceStatus::Active,
        )],
        &[&f.authority],
    )
    .await
    .unwrap();
    assert_by(&mut h, &f, &owner, &device, paris)
        .await
        .expect("active again");
}

#[tokio::test]
async fn location_fee_accounts_are_checked() {
    let (mut h, f, owner, device) = onboarded("locfee").await;
    let paris = cell(PARIS.0, PARIS.1);
    let expires_at = h.clock().await.unix_timestamp + 600;
    let mint = f.mint_address(&device.pubkey());
    let mut ixs = f.assert_location_ixs(&owner.pubkey(), &device, paris, 0, expires_at);
    ixs[1] = assert_location(
        &owner.pubkey(),
        &ata(&owner.pubkey(), &mint, &token_2022_id()),
        &f.network,
        &device.pubkey(),
        AssertLocationArgs {
            location: paris,
            expires_at,
            max_fee: LOCATION_FEE,
        },
        None,
    );
    let result = h.send(&ixs, &[&owner]).await;
    assert_anchor_error(&result, RegistryError::FeeAccountsMissing);
    let mut to_thief = f.fee_payment(&owner.pubkey());
    to_thief.to = h
        .create_ata(&Pubkey::new_unique(), &f.fee_mint, &token_id())
        .await;
    ixs[1] = assert_location(
        &owner.pubkey(),
        &ata(&owner.pubkey(), &mint, &token_2022_id()),
        &f.network,
        &device.pubkey(),
        AssertLocationArgs {
            location: paris,
            expires_at,
            max_fee: LOCATION_FEE,
        },
        Some(to_thief),
    );
    let result = h.send(&ixs, &[&owner]).await;
    assert_anchor_error(&result, RegistryError::WrongTreasuryAccount);
}

#[tokio::test]
async fn a_location_fee_raised_after_the_holder_signed_fails_the_move() {
    let (mut h, f, owner, device) = onboarded("loc-max-fee").await;
    let paris = cell(PARIS.0, PARIS.1);
    let expires_at = h.clock().await.unix_timestamp + 600;
    let ixs = f.assert_location_ixs(&owner.pubkey(), &device, paris, 0, expires_at);
    let raise = update_network(
        &f.authority.pubkey(),
        &f.network,
        UpdateNetworkArgs {
            location_fee: Some(Fee {
                mint: f.fee_mint,
                amount: LOCATION_FEE + 1,
            }),
            ..Default::default()
        },
        Some(f.fee_mint),
    );
    h.send(&[raise], &[&f.authority]).await.unwrap();
    let treasury_before = h.token_balance(&f.treasury_fee_account).await;
    let result = h.send(&ixs, &[&owner]).await;
    assert_anchor_error(&result, RegistryError::FeeAboveMaximum);
    let record: Device = h.anchor_account(&f.device_address(&device.pubkey())).await;
    assert_eq!(record.location, cell(SF.0, SF.1));
    assert_eq!(record.location_assert_count, 0);
    assert_eq!(
        h.token_balance(&f.treasury_fee_account).await,
        treasury_before
    );
}
