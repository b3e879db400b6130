//! `onboard_device`: the happy path with everything it creates, and each refusal.

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_spl::token_interface::spl_token_metadata_interface::state::TokenMetadata;
use depinkit_sdk::events::DepinEvent;
use depinkit_tests::{
    Harness,
    harness::{assert_anchor_error, ata, token_2022_id},
    registry::*,
};
use device_registry::{
    errors::RegistryError,
    events::DeviceOnboarded,
    instructions::{OnboardDeviceArgs, UpdateNetworkArgs},
    state::{Device, DeviceStatus, Fee, Maker, MakerStatus, Network},
};
use solana_sdk::{
    account::Account,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use spl_token_2022_interface::{
    extension::{BaseStateWithExtensions, StateWithExtensions, metadata_pointer::MetadataPointer},
    state::{Account as TokenAccountState, Mint as MintState},
};

const SF: (f64, f64) = (37.7749, -122.4194);

#[tokio::test]
async fn onboarding_creates_device_and_nft_and_pays_fees() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "wireless-1").await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let location = cell(SF.0, SF.1);
    let owner_before = h.lamports(&owner.pubkey()).await;

    let expires_at = h.clock().await.unix_timestamp + 600;
    let ixs = f.onboard_ixs(&owner.pubkey(), &device, location, expires_at);
    let events = h
        .send_events(&ixs, &[&owner, &f.issuing_key])
        .await
        .expect("onboard");

    let device_address = f.device_address(&device.pubkey());
    let mint = f.mint_address(&device.pubkey());
    assert_eq!(
        events,
        vec![DepinEvent::DeviceOnboarded(DeviceOnboarded {
            network: f.network,
            device: device_address,
            device_key: device.pubkey(),
            mint,
            maker: f.maker,
            owner: owner.pubkey(),
            location,
            fee_paid: ONBOARDING_FEE + LOCATION_FEE,
        })]
    );
    let record: Device = h.anchor_account(&device_address).await;
    assert_eq!(record.network, f.network);
    assert_eq!(record.device_key, device.pubkey());
    assert_eq!(record.maker, f.maker);
    assert_eq!(record.mint, mint);
    assert_eq!(record.location, location);
    assert_eq!(record.status, DeviceStatus::Active);
    assert_eq!(record.onboarded_at, h.clock().await.unix_timestamp);
    assert_eq!(record.location_assert_count, 0);

    // The NFT: decimals 0, supply 1, no mint or freeze authority, metadata on itself.
    let mint_data = h.account_data(&mint).await.expect("mint");
    let state = StateWithExtensions::<MintState>::unpack(&mint_data).expect("mint state");
    assert_eq!(state.base.decimals, 0);
    assert_eq!(state.base.supply, 1);
    assert!(state.base.mint_authority.is_none());
    assert!(state.base.freeze_authority.is_none());
    let pointer = state.get_extension::<MetadataPointer>().expect("pointer");
    assert_eq!(Option::<Pubkey>::from(pointer.metadata_address), Some(mint));
    let metadata = state
        .get_variable_len_extension::<TokenMetadata>()
        .expect("metadata");
    assert_eq!(metadata.symbol, "TWD");
    assert_eq!(
        metadata.uri,
        format!("https://example.org/devices/{}.json", device.pubkey())
    );
    assert!(metadata.name.starts_with("Test Wireless "));
    assert_eq!(
        metadata.additional_metadata,
        vec![
            ("category".to_string(), "wireless".to_string()),
            ("location".to_string(), format!("{location:x}")),
        ]
    );
    let owner_nft = ata(&owner.pubkey(), &mint, &token_2022_id());
    let holding = h.account_data(&owner_nft).await.expect("owner ATA");
    let holding = StateWithExtensions::<TokenAccountState>::unpack(&holding).unwrap();
    assert_eq!(holding.base.amount, 1);
    assert_eq!(holding.base.owner, owner.pubkey());

    // Fees: onboarding + first location went to the treasury.
    assert_eq!(
        h.token_balance(&f.treasury_fee_account).await,
        ONBOARDING_FEE + LOCATION_FEE
    );
    let owner_fee = f.fee_payment(&owner.pubkey()).from;
    assert_eq!(
        h.token_balance(&owner_fee).await,
        WALLET_FEE_TOKENS - ONBOARDING_FEE - LOCATION_FEE
    );
    let network: Network = h.anchor_account(&f.network).await;
    assert_eq!(network.device_count, 1);
    let maker: Maker = h.anchor_account(&f.maker).await;
    assert_eq!(maker.device_count, 1);

    // Rent of one onboarding, read from the bank: every account it creates is
    // exactly rent exempt, and the owner paid for all of them.
    let rent = h.rent().await;
    let mut total = 0;
    for (name, address) in [
        ("device", device_address),
        ("mint", mint),
        ("owner ATA", owner_nft),
    ] {
        let account: Account = h
            .ctx
            .banks_client
            .get_account(address)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            account.lamports,
            rent.minimum_balance(account.data.len()),
            "{name} holds exactly its rent"
        );
        println!(
            "rent: {name}: {} bytes, {} lamports",
            account.data.len(),
            account.lamports
        );
        total += account.lamports;
    }
    println!("rent: one onboarding: {total} lamports");
    assert_eq!(owner_before - h.lamports(&owner.pubkey()).await, total);
}

#[tokio::test]
async fn onboarding_without_location_or_fees() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "free").await;
    let update = update_network(
        &f.authority.pubkey(),
        &f.network,
        UpdateNetworkArgs {
            onboarding_fee: Some(Fee {
                mint: f.fee_mint,
                amount: 0,
            }),
            ..Default::default()
        },
        Some(f.fee_mint),
    );
    h.send(&[update], &[&f.authority]).await.unwrap();
    let owner = h.funded_wallet().await;
    let device = Keypair::new();
    let expires_at = h.clock().await.unix_timestamp + 60;
    let message = f.onboard_message(&owner.pubkey(), &device.pubkey(), 0, expires_at);
    let ixs = [
        device_proof(&device, &message.to_bytes()),
        onboard_device(
            &owner.pubkey(),
            &f.issuing_key.pubkey(),
            &f.network,
            OnboardDeviceArgs {
                device_key: device.pubkey(),
                location: 0,
                expires_at,
                max_fee: 0,
            },
            None,
        ),
    ];
    h.send(&ixs, &[&owner, &f.issuing_key])
        .await
        .expect("free onboarding");
    let record: Device = h.anchor_account(&f.device_address(&device.pubkey())).await;
    assert_eq!(record.location, Device::NO_LOCATION);
    assert_eq!(record.location_asserted_at, 0);
    assert_eq!(h.token_balance(&f.treasury_fee_account).await, 0);
}

/// Sends `ixs` signed by the owner and the maker, expects `expected`, and checks
/// the device was not created.
async fn refused(
    h: &mut Harness,
    f: &NetworkFixture,
    owner: &Keypair,
    device: &Pubkey,
    ixs: &[Instruction],
    expected: impl Into<u32>,
) {
    let result = h.send(ixs, &[owner, &f.issuing_key]).await;
    assert_anchor_error(&result, expected);
    assert!(h.account_data(&f.device_address(device)).await.is_none());
    assert!(h.account_data(&f.mint_address(device)).await.is_none());
}

#[tokio::test]
async fn the_same_device_key_onboards_once_per_network() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "dup").await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let location = cell(SF.0, SF.1);
    f.onboard(&mut h, &owner, &device, location).await.unwrap();
    let other_owner = f.owner(&mut h).await;
    let result = f.onboard(&mut h, &other_owner, &device, location).await;
    assert_anchor_error(&result, RegistryError::DeviceAlreadyOnboarded);
    // The same key on another network is another device.
    let g = NetworkFixture::create(&mut h, "dup-2").await;
    let owner_g = g.owner(&mut h).await;
    g.onboard(&mut h, &owner_g, &device, location)
        .await
        .expect("other network");
}

#[tokio::test]
async fn prefunded_device_addresses_do_not_block_onboarding() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "grief").await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    // A griefer sends lamports to the device and mint PDAs before onboarding.
    for address in [
        f.device_address(&device.pubkey()),
        f.mint_address(&device.pubkey()),
    ] {
        let ix = anchor_lang::solana_program::system_instruction::transfer(
            &h.payer().pubkey(),
            &address,
            1_000_000,
        );
        h.send(&[ix], &[]).await.unwrap();
    }
    f.onboard(&mut h, &owner, &device, cell(SF.0, SF.1))
        .await
        .expect("onboarding despite prefunded addresses");
    let record: Device = h.anchor_account(&f.device_address(&device.pubkey())).await;
    assert_eq!(record.device_key, device.pubkey());
}

#[tokio::test]
async fn device_signature_must_be_strict_and_exact() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "sig").await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let location = cell(SF.0, SF.1);
    let expires_at = h.clock().await.unix_timestamp + 600;
    let correct = f.onboard_ixs(&owner.pubkey(), &device, location, expires_at);
    let onboard = correct[1].clone();
    let d = device.pubkey();

    // No Ed25519 instruction at all.
    refused(
        &mut h,
        &f,
        &owner,
        &d,
        std::slice::from_ref(&onboard),
        RegistryError::MissingDeviceSignature,
    )
    .await;

    // Another instruction in its place.
    let memo_like = anchor_lang::solana_program::system_instruction::transfer(
        &owner.pubkey(),
        &owner.pubkey(),
        1,
    );
    refused(
        &mut h,
        &f,
        &owner,
        &d,
        &[memo_like, onboard.clone()],
        RegistryError::MissingDeviceSignature,
    )
    .await;

    // A valid signature by another key over the right message.
    let impostor = Keypair::new();
    let message = f
        .onboard_message(&owner.pubkey(), &d, location, expires_at)
        .to_bytes();
    let by_impostor = device_proof(&impostor, &message);
    refused(
        &mut h,
        &f,
        &owner,
        &d,
        &[by_impostor.clone(), onboard.clone()],
        RegistryError::WrongDeviceSigner,
    )
    .await;

    // The attack strict offsets stop: the Ed25519 program verifies the
    // impostor's real signature in instruction 0, while instruction 1 carries
    // the device key and the message at the positions we read, with offsets
    // pointing into instruction 0.
    let mut forged = device_proof(&device, &message);
    for index_field in [4usize, 8, 14] {
        forged.data[index_field..index_field + 2].copy_from_slice(&0u16.to_le_bytes());
    }
    refused(
        &mut h,
        &f,
        &owner,
        &d,
        &[by_impostor.clone(), forged, onboard.clone()],
        RegistryError::MalformedDeviceSignature,
    )
    .await;

    // Two signatures in one Ed25519 instruction.
    let mut two = device_proof(&device, &message);
    two.data[0] = 2;
    let result = h
        .send(&[two, onboard.clone()], &[&owner, &f.issuing_key])
        .await;
    assert!(result.is_err());
    assert!(h.account_data(&f.device_address(&d)).await.is_none());

    // The device key in the instruction, but the signature bytes by another key:
    // the Ed25519 program itself fails the transaction.
    let mut bad_signature = device_proof(&device, &message);
    let other = impostor.sign_message(&message);
    bad_signature.data[48..112].copy_from_slice(other.as_ref());
    let result = h
        .send(&[bad_signature, onboard.clone()], &[&owner, &f.issuing_key])
        .await;
    assert!(result.is_err(), "a bad signature must fail");
    assert!(
        matches!(
            result,
            Err(solana_program_test::BanksClientError::TransactionError(
                solana_sdk::transaction::TransactionError::InstructionError(0, _)
            ))
        ),
        "refused by the Ed25519 program (instruction 0), not by us: {result:?}"
    );
    assert!(h.account_data(&f.device_address(&d)).await.is_none());

    // Messages for another network, another owner, another location, another
    // expiry, another program: each a correct signature over the wrong bytes.
    let mut variants = Vec::new();
    let mut m = f.onboard_message(&owner.pubkey(), &d, location, expires_at);
    m.network = Pubkey::new_unique();
    variants.push(m);
    let mut m = f.onboard_message(&owner.pubkey(), &d, location, expires_at);
    m.owner = Pubkey::new_unique();
    variants.push(m);
    let mut m = f.onboard_message(&owner.pubkey(), &d, location, expires_at);
    m.location = cell(48.85, 2.35);
    variants.push(m);
    let mut m = f.onboard_message(&owner.pubkey(), &d, location, expires_at);
    m.expires_at += 1;
    variants.push(m);
    let mut m = f.onboard_message(&owner.pubkey(), &d, location, expires_at);
    m.program_id = Pubkey::new_unique();
    variants.push(m);
    let mut m = f.onboard_message(&owner.pubkey(), &d, location, expires_at);
    m.issuing_key = Pubkey::new_unique();
    variants.push(m);
    for message in variants {
        let proof = device_proof(&device, &message.to_bytes());
        refused(
            &mut h,
            &f,
            &owner,
            &d,
            &[proof, onboard.clone()],
            RegistryError::WrongDeviceMessage,
        )
        .await;
    }
    // A truncated message.
    let proof = device_proof(&device, &message[..message.len() - 1]);
    refused(
        &mut h,
        &f,
        &owner,
        &d,
        &[proof, onboard.clone()],
        RegistryError::WrongDeviceMessage,
    )
    .await;

    // And the correct pair still works.
    h.send(&correct, &[&owner, &f.issuing_key])
        .await
        .expect("correct onboarding");
}

#[tokio::test]
async fn expired_messages_are_refused() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "exp").await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let expires_at = h.clock().await.unix_timestamp + 30;
    let ixs = f.onboard_ixs(&owner.pubkey(), &device, cell(SF.0, SF.1), expires_at);
    h.warp_seconds(31).await;
    refused(
        &mut h,
        &f,
        &owner,
        &device.pubkey(),
        &ixs,
        RegistryError::MessageExpired,
    )
    .await;

    // A signature valid for more than 7 days is refused; exactly 7 days is not.
    let now = h.clock().await.unix_timestamp;
    let week = device_registry::state::MAX_SIGNATURE_LIFETIME_SECS;
    let ixs = f.onboard_ixs(&owner.pubkey(), &device, cell(SF.0, SF.1), now + week + 1);
    refused(
        &mut h,
        &f,
        &owner,
        &device.pubkey(),
        &ixs,
        RegistryError::ExpiryTooFar,
    )
    .await;
    let ixs = f.onboard_ixs(&owner.pubkey(), &device, cell(SF.0, SF.1), now + week);
    h.send(&ixs, &[&owner, &f.issuing_key])
        .await
        .expect("a week is allowed");
}

#[tokio::test]
async fn the_device_signature_names_its_maker() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "maker-bound").await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let location = cell(SF.0, SF.1);
    let expires_at = h.clock().await.unix_timestamp + 600;
    // A second approved maker co-signs a device that signed for the first.
    let rival = Keypair::new();
    let register = register_maker(&owner.pubkey(), &rival.pubkey(), &f.network, "Rival");
    h.send(&[register], &[&owner, &rival]).await.unwrap();
    let rival_maker = device_registry::pda::find_maker_address(&f.network, &rival.pubkey()).0;
    let approve = set_maker_status(
        &f.authority.pubkey(),
        &f.network,
        &rival_maker,
        MakerStatus::Approved,
    );
    h.send(&[approve], &[&f.authority]).await.unwrap();
    let mut ixs = f.onboard_ixs(&owner.pubkey(), &device, location, expires_at);
    ixs[1] = onboard_device(
        &owner.pubkey(),
        &rival.pubkey(),
        &f.network,
        OnboardDeviceArgs {
            device_key: device.pubkey(),
            location,
            expires_at,
            max_fee: onboarding_fee(location),
        },
        Some(f.fee_payment(&owner.pubkey())),
    );
    let result = h.send(&ixs, &[&owner, &rival]).await;
    assert_anchor_error(&result, RegistryError::WrongDeviceMessage);
    assert!(
        h.account_data(&f.device_address(&device.pubkey()))
            .await
            .is_none()
    );
    let rival_record: Maker = h.anchor_account(&rival_maker).await;
    assert_eq!(rival_record.device_count, 0);
    // Its own maker is credited.
    f.onboard(&mut h, &owner, &device, location).await.unwrap();
    let record: Device = h.anchor_account(&f.device_address(&device.pubkey())).await;
    assert_eq!(record.maker, f.maker);
}

#[tokio::test]
async fn a_fee_raised_after_the_owner_signed_fails_the_onboarding() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "max-fee").await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let location = cell(SF.0, SF.1);
    let expires_at = h.clock().await.unix_timestamp + 600;
    // The owner's client shows today's fees and signs them as the maximum...
    let ixs = f.onboard_ixs(&owner.pubkey(), &device, location, expires_at);
    // ...and the authority raises the onboarding fee to everything the owner has
    // just before the transaction lands.
    let raise = update_network(
        &f.authority.pubkey(),
        &f.network,
        UpdateNetworkArgs {
            onboarding_fee: Some(Fee {
                mint: f.fee_mint,
                amount: WALLET_FEE_TOKENS - LOCATION_FEE,
            }),
            ..Default::default()
        },
        Some(f.fee_mint),
    );
    h.send(&[raise], &[&f.authority]).await.unwrap();
    let owner_fee = f.fee_payment(&owner.pubkey()).from;
    refused(
        &mut h,
        &f,
        &owner,
        &device.pubkey(),
        &ixs,
        RegistryError::FeeAboveMaximum,
    )
    .await;
    assert_eq!(h.token_balance(&owner_fee).await, WALLET_FEE_TOKENS);
    assert_eq!(h.token_balance(&f.treasury_fee_account).await, 0);
}

#[tokio::test]
async fn the_treasury_pays_its_own_onboarding_fee() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "self-fee").await;
    // The network authority onboards its own device into its own treasury: the
    // fee's source and destination are the same token account.
    let owner = f.owner(&mut h).await;
    let treasury_is_owner = update_network(
        &f.authority.pubkey(),
        &f.network,
        UpdateNetworkArgs {
            treasury: Some(owner.pubkey()),
            ..Default::default()
        },
        None,
    );
    h.send(&[treasury_is_owner], &[&f.authority]).await.unwrap();
    let device = Keypair::new();
    let location = cell(SF.0, SF.1);
    let expires_at = h.clock().await.unix_timestamp + 600;
    let mut ixs = f.onboard_ixs(&owner.pubkey(), &device, location, expires_at);
    let own_account = f.fee_payment(&owner.pubkey()).from;
    ixs[1] = onboard_device(
        &owner.pubkey(),
        &f.issuing_key.pubkey(),
        &f.network,
        OnboardDeviceArgs {
            device_key: device.pubkey(),
            location,
            expires_at,
            max_fee: onboarding_fee(location),
        },
        Some(FeePayment {
            to: own_account,
            ..f.fee_payment(&owner.pubkey())
        }),
    );
    h.send(&ixs, &[&owner, &f.issuing_key])
        .await
        .expect("the treasury onboards its own device");
    assert_eq!(h.token_balance(&own_account).await, WALLET_FEE_TOKENS);
    let record: Device = h.anchor_account(&f.device_address(&device.pubkey())).await;
    assert_eq!(record.device_key, device.pubkey());
}

#[tokio::test]
async fn locations_must_be_valid_cells_at_the_network_resolution() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "h3").await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let expires_at = h.clock().await.unix_timestamp + 600;
    let good = cell(SF.0, SF.1);
    let garbage = good | 1 << 63;
    let ixs = f.onboard_ixs(&owner.pubkey(), &device, garbage, expires_at);
    refused(
        &mut h,
        &f,
        &owner,
        &device.pubkey(),
        &ixs,
        RegistryError::InvalidH3Cell,
    )
    .await;
    let coarse = u64::from(
        h3o::LatLng::new(SF.0, SF.1)
            .unwrap()
            .to_cell(h3o::Resolution::Seven),
    );
    let ixs = f.onboard_ixs(&owner.pubkey(), &device, coarse, expires_at);
    refused(
        &mut h,
        &f,
        &owner,
        &device.pubkey(),
        &ixs,
        RegistryError::WrongH3Resolution,
    )
    .await;
}

#[tokio::test]
async fn only_approved_makers_with_their_key_signing() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "makers").await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let location = cell(SF.0, SF.1);
    let expires_at = h.clock().await.unix_timestamp + 600;

    // The issuing key not signing.
    let mut ixs = f.onboard_ixs(&owner.pubkey(), &device, location, expires_at);
    for meta in ixs[1].accounts.iter_mut() {
        if meta.pubkey == f.issuing_key.pubkey() {
            meta.is_signer = false;
        }
    }
    let result = h.send(&ixs, &[&owner]).await;
    assert_anchor_error(&result, AnchorError::AccountNotSigner as u32);

    // Revoked maker.
    let revoke = set_maker_status(
        &f.authority.pubkey(),
        &f.network,
        &f.maker,
        MakerStatus::Revoked,
    );
    h.send(&[revoke], &[&f.authority]).await.unwrap();
    let ixs = f.onboard_ixs(&owner.pubkey(), &device, location, expires_at);
    refused(
        &mut h,
        &f,
        &owner,
        &device.pubkey(),
        &ixs,
        RegistryError::MakerNotApproved,
    )
    .await;

    // A maker that registered but was never approved.
    let pending_key = Keypair::new();
    let register = register_maker(
        &owner.pubkey(),
        &pending_key.pubkey(),
        &f.network,
        "Pending Co",
    );
    h.send(&[register], &[&owner, &pending_key]).await.unwrap();
    let mut ixs = f.onboard_ixs(&owner.pubkey(), &device, location, expires_at);
    ixs[1] = onboard_device(
        &owner.pubkey(),
        &pending_key.pubkey(),
        &f.network,
        OnboardDeviceArgs {
            device_key: device.pubkey(),
            location,
            expires_at,
            max_fee: onboarding_fee(location),
        },
        Some(f.fee_payment(&owner.pubkey())),
    );
    let result = h.send(&ixs, &[&owner, &pending_key]).await;
    assert_anchor_error(&result, RegistryError::MakerNotApproved);

    // Approved again, the original maker works.
    let approve = set_maker_status(
        &f.authority.pubkey(),
        &f.network,
        &f.maker,
        MakerStatus::Approved,
    );
    h.send(&[approve], &[&f.authority]).await.unwrap();
    f.onboard(&mut h, &owner, &device, location)
        .await
        .expect("approved again");
}

#[tokio::test]
async fn fees_are_paid_in_the_right_mint_to_the_treasury() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "fees").await;
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let d = device.pubkey();
    let location = cell(SF.0, SF.1);
    let expires_at = h.clock().await.unix_timestamp + 600;
    let with_fee = |fee: Option<FeePayment>| {
        let mut ixs = f.onboard_ixs(&owner.pubkey(), &device, location, expires_at);
        ixs[1] = onboard_device(
            &owner.pubkey(),
            &f.issuing_key.pubkey(),
            &f.network,
            OnboardDeviceArgs {
                device_key: d,
                location,
                expires_at,
                max_fee: onboarding_fee(location),
            },
            fee,
        );
        ixs
    };

    refused(
        &mut h,
        &f,
        &owner,
        &d,
        &with_fee(None),
        RegistryError::FeeAccountsMissing,
    )
    .await;

    // Paying in another mint.
    let payer = h.payer().insecure_clone();
    let other_mint = h
        .create_mint(&depinkit_tests::harness::token_id(), &payer.pubkey(), 6)
        .await;
    let from = h
        .create_ata(
            &owner.pubkey(),
            &other_mint,
            &depinkit_tests::harness::token_id(),
        )
        .await;
    h.mint_to(
        &depinkit_tests::harness::token_id(),
        &other_mint,
        &from,
        &payer,
        WALLET_FEE_TOKENS,
    )
    .await;
    let to = h
        .create_ata(
            &f.treasury,
            &other_mint,
            &depinkit_tests::harness::token_id(),
        )
        .await;
    let wrong_mint = FeePayment {
        mint: other_mint,
        from,
        to,
        token_program: depinkit_tests::harness::token_id(),
    };
    refused(
        &mut h,
        &f,
        &owner,
        &d,
        &with_fee(Some(wrong_mint)),
        RegistryError::WrongFeeMint,
    )
    .await;

    // Paying the right mint into someone else's account.
    let thief = Pubkey::new_unique();
    let thief_account = h
        .create_ata(&thief, &f.fee_mint, &depinkit_tests::harness::token_id())
        .await;
    let mut to_thief = f.fee_payment(&owner.pubkey());
    to_thief.to = thief_account;
    refused(
        &mut h,
        &f,
        &owner,
        &d,
        &with_fee(Some(to_thief)),
        RegistryError::WrongTreasuryAccount,
    )
    .await;

    // A wallet without enough fee tokens: the token program refuses (its
    // InsufficientFunds = 1) and nothing is created.
    let poor = h.funded_wallet().await;
    h.create_ata(
        &poor.pubkey(),
        &f.fee_mint,
        &depinkit_tests::harness::token_id(),
    )
    .await;
    let poor_ixs = f.onboard_ixs(&poor.pubkey(), &device, location, expires_at);
    refused(&mut h, &f, &poor, &d, &poor_ixs, 1u32).await;
    assert_eq!(h.token_balance(&f.treasury_fee_account).await, 0);
}

#[tokio::test]
async fn a_network_account_faked_by_another_program_is_refused() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "fake").await;
    // Copy the real network's bytes to an account owned by another program.
    let real = h
        .ctx
        .banks_client
        .get_account(f.network)
        .await
        .unwrap()
        .unwrap();
    let fake = Pubkey::new_unique();
    let mut copy = real.clone();
    copy.owner = Pubkey::new_unique();
    h.ctx.set_account(&fake, &copy.into());
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let expires_at = h.clock().await.unix_timestamp + 600;
    let location = cell(SF.0, SF.1);
    let message = device_registry::messages::OnboardDeviceMessage {
        network: fake,
        ..f.onboard_message(&owner.pubkey(), &device.pubkey(), location, expires_at)
    };
    let ixs = [
        device_proof(&device, &message.to_bytes()),
        onboard_device(
            &owner.pubkey(),
            &f.issuing_key.pubkey(),
            &fake,
            OnboardDeviceArgs {
                device_key: device.pubkey(),
                location,
                expires_at,
                max_fee: onboarding_fee(location),
            },
            Some(f.fee_payment(&owner.pubkey())),
        ),
    ];
    let result = h.send(&ixs, &[&owner, &f.issuing_key]).await;
    assert_anchor_error(&result, AnchorError::AccountOwnedByWrongProgram as u32);
    // Same for the authority switches.
    let approve = set_maker_status(
        &f.authority.pubkey(),
        &fake,
        &f.maker,
        MakerStatus::Approved,
    );
    let result = h.send(&[approve], &[&f.authority]).await;
    assert_anchor_error(&result, AnchorError::AccountOwnedByWrongProgram as u32);
}

#[tokio::test]
async fn counters_refuse_to_overflow() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "overflow").await;
    let mut account = h
        .ctx
        .banks_client
        .get_account(f.network)
        .await
        .unwrap()
        .unwrap();
    let mut network: Network = h.anchor_account(&f.network).await;
    network.device_count = u64::MAX;
    let mut data = Vec::new();
    anchor_lang::AccountSerialize::try_serialize(&network, &mut data).unwrap();
    account.data[..data.len()].copy_from_slice(&data);
    h.ctx.set_account(&f.network, &account.into());
    let owner = f.owner(&mut h).await;
    let device = Keypair::new();
    let result = f.onboard(&mut h, &owner, &device, cell(SF.0, SF.1)).await;
    assert_anchor_error(&result, RegistryError::ArithmeticOverflow);
    assert!(
        h.account_data(&f.device_address(&device.pubkey()))
            .await
            .is_none()
    );
}
