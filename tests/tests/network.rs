//! `create_network`, `update_network`, the authority hand-over and makers.

use anchor_lang::error::ErrorCode as AnchorError;
use depinkit_tests::{
    Harness,
    harness::{assert_anchor_error, token_id},
    registry::*,
};
use device_registry::{
    errors::RegistryError,
    instructions::UpdateNetworkArgs,
    pda,
    state::{Category, Fee, Maker, MakerStatus, Network},
};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

fn oracles(n: usize) -> Vec<Pubkey> {
    (0..n).map(|_| Pubkey::new_unique()).collect()
}

#[tokio::test]
async fn create_network_stores_every_setting() {
    let mut h = Harness::start().await;
    let creator = h.funded_wallet().await;
    let payer = h.payer().pubkey();
    let reward_mint = h.create_mint(&token_id(), &payer, 6).await;
    let treasury = Pubkey::new_unique();
    let fee_mint = Pubkey::new_unique();
    let set = oracles(16);
    let mut args = network_args("helium-iot", treasury, fee_mint, set.clone());
    args.threshold = 11;
    args.category = Category::Mapping;
    h.send(
        &[create_network(&creator.pubkey(), &reward_mint, args)],
        &[&creator],
    )
    .await
    .expect("create network");
    let (address, bump) = pda::find_network_address(&creator.pubkey(), b"helium-iot");
    let network: Network = h.anchor_account(&address).await;
    assert_eq!(network.bump, bump);
    assert_eq!(network.creator, creator.pubkey());
    assert_eq!(network.authority, creator.pubkey());
    assert_eq!(network.pending_authority, None);
    assert_eq!(network.seed, b"helium-iot");
    assert_eq!(network.category, Category::Mapping);
    assert_eq!(network.reward_mint, reward_mint);
    assert_eq!(network.treasury, treasury);
    assert_eq!(
        network.onboarding_fee,
        Fee {
            mint: fee_mint,
            amount: ONBOARDING_FEE
        }
    );
    assert_eq!(
        network.location_fee,
        Fee {
            mint: fee_mint,
            amount: LOCATION_FEE
        }
    );
    assert_eq!(network.oracles, set);
    assert_eq!(network.threshold, 11);
    assert_eq!(network.location_resolution, RESOLUTION);
    assert_eq!(network.metadata_uri_base, "https://example.org/devices/");

    // The same creator and seed cannot be created twice; another creator can use it.
    let again = network_args("helium-iot", treasury, fee_mint, oracles(1));
    let result = h
        .send(
            &[create_network(
                &creator.pubkey(),
                &reward_mint,
                again.clone(),
            )],
            &[&creator],
        )
        .await;
    assert!(result.is_err());
    let other = h.funded_wallet().await;
    h.send(
        &[create_network(&other.pubkey(), &reward_mint, again)],
        &[&other],
    )
    .await
    .expect("same seed, other creator");
}

#[tokio::test]
async fn create_network_refuses_bad_settings() {
    let mut h = Harness::start().await;
    let creator = h.funded_wallet().await;
    let payer = h.payer().pubkey();
    let reward_mint = h.create_mint(&token_id(), &payer, 6).await;
    let base = network_args("n", Pubkey::new_unique(), Pubkey::new_unique(), oracles(3));
    let mut cases: Vec<(_, u32)> = Vec::new();

    let mut a = base.clone();
    a.oracles = oracles(17);
    a.threshold = 9;
    cases.push((a, RegistryError::TooManyOracles.into()));
    let mut a = base.clone();
    a.threshold = 0;
    cases.push((a, RegistryError::InvalidThreshold.into()));
    let mut a = base.clone();
    a.threshold = 4;
    cases.push((a, RegistryError::InvalidThreshold.into()));
    let mut a = base.clone();
    a.oracles = vec![];
    a.threshold = 1;
    cases.push((a, RegistryError::InvalidThreshold.into()));
    let mut a = base.clone();
    a.oracles[2] = a.oracles[0];
    cases.push((a, RegistryError::DuplicateOracle.into()));
    let mut a = base.clone();
    a.seed = vec![7; 33];
    cases.push((a, RegistryError::InvalidSeed.into()));
    let mut a = base.clone();
    a.seed = vec![];
    cases.push((a, RegistryError::InvalidSeed.into()));
    let mut a = base.clone();
    a.name = "x".repeat(33);
    cases.push((a, RegistryError::InvalidName.into()));
    let mut a = base.clone();
    a.symbol = String::new();
    cases.push((a, RegistryError::InvalidSymbol.into()));
    let mut a = base.clone();
    a.metadata_uri_base = "u".repeat(129);
    cases.push((a, RegistryError::UriTooLong.into()));
    let mut a = base.clone();
    a.location_resolution = 16;
    cases.push((a, RegistryError::InvalidResolution.into()));
    let mut a = base.clone();
    a.location_fee.mint = Pubkey::new_unique();
    cases.push((a, RegistryError::FeeMintsDiffer.into()));

    for (args, code) in cases {
        let seed = args.seed.clone();
        let result = h
            .send(
                &[create_network(&creator.pubkey(), &reward_mint, args)],
                &[&creator],
            )
            .await;
        assert_anchor_error(&result, code);
        if seed.len() <= 32 {
            let (address, _) = pda::find_network_address(&creator.pubkey(), &seed);
            assert!(h.account_data(&address).await.is_none());
        }
    }

    // A reward "mint" that is not a mint.
    let result = h
        .send(
            &[create_network(&creator.pubkey(), &creator.pubkey(), base)],
            &[&creator],
        )
        .await;
    assert_anchor_error(&result, AnchorError::AccountOwnedByWrongProgram as u32);
}

#[tokio::test]
async fn update_network_changes_settings_for_the_authority_only() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "upd").await;
    let before: Network = h.anchor_account(&f.network).await;

    // Not the authority.
    let stranger = h.funded_wallet().await;
    let args = UpdateNetworkArgs {
        threshold: Some(1),
        ..Default::default()
    };
    let result = h
        .send(
            &[update_network(&stranger.pubkey(), &f.network, args)],
            &[&stranger],
        )
        .await;
    assert_anchor_error(&result, RegistryError::NotNetworkAuthority);

    // Threshold above the set, zero, a set shrunk below the threshold, a set too large.
    let bad = [
        (
            UpdateNetworkArgs {
                threshold: Some(4),
                ..Default::default()
            },
            RegistryError::InvalidThreshold,
        ),
        (
            UpdateNetworkArgs {
                threshold: Some(0),
                ..Default::default()
            },
            RegistryError::InvalidThreshold,
        ),
        (
            UpdateNetworkArgs {
                oracles: Some(oracles(1)),
                ..Default::default()
            },
            RegistryError::InvalidThreshold,
        ),
        (
            UpdateNetworkArgs {
                oracles: Some(oracles(17)),
                ..Default::default()
            },
            RegistryError::TooManyOracles,
        ),
        (
            UpdateNetworkArgs {
                metadata_uri_base: Some("u".repeat(129)),
                ..Default::default()
            },
            RegistryError::UriTooLong,
        ),
        (
            UpdateNetworkArgs {
                onboarding_fee: Some(Fee {
                    mint: Pubkey::new_unique(),
                    amount: 1,
                }),
                ..Default::default()
            },
            RegistryError::FeeMintsDiffer,
        ),
    ];
    for (args, code) in bad {
        let result = h
            .send(
                &[update_network(&f.authority.pubkey(), &f.network, args)],
                &[&f.authority],
            )
            .await;
        assert_anchor_error(&result, code);
    }
    let unchanged: Network = h.anchor_account(&f.network).await;
    assert_eq!(unchanged.oracles, before.oracles);
    assert_eq!(unchanged.threshold, before.threshold);
    assert_eq!(unchanged.metadata_uri_base, before.metadata_uri_base);

    // The authority changes everything at once.
    let new_set = oracles(5);
    let treasury = Pubkey::new_unique();
    let fee = Fee {
        mint: Pubkey::new_unique(),
        amount: 5,
    };
    let args = UpdateNetworkArgs {
        name: Some("Renamed".into()),
        treasury: Some(treasury),
        onboarding_fee: Some(fee),
        location_fee: Some(fee),
        oracles: Some(new_set.clone()),
        threshold: Some(3),
        metadata_uri_base: Some("ipfs://base/".into()),
    };
    h.send(
        &[update_network(&f.authority.pubkey(), &f.network, args)],
        &[&f.authority],
    )
    .await
    .expect("update");
    let after: Network = h.anchor_account(&f.network).await;
    assert_eq!(after.name, "Renamed");
    assert_eq!(after.treasury, treasury);
    assert_eq!(after.onboarding_fee, fee);
    assert_eq!(after.location_fee, fee);
    assert_eq!(after.oracles, new_set);
    assert_eq!(after.threshold, 3);
    assert_eq!(after.metadata_uri_base, "ipfs://base/");
    assert_eq!(after.creator, before.creator);
}

#[tokio::test]
async fn authority_hands_over_in_two_steps() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "handover").await;
    let next = h.funded_wallet().await;
    let stranger = h.funded_wallet().await;

    // Nothing proposed yet.
    let result = h
        .send(
            &[accept_network_authority(&next.pubkey(), &f.network)],
            &[&next],
        )
        .await;
    assert_anchor_error(&result, RegistryError::NoPendingAuthority);
    // Only the authority proposes.
    let result = h
        .send(
            &[propose_network_authority(
                &stranger.pubkey(),
                &f.network,
                Some(stranger.pubkey()),
            )],
            &[&stranger],
        )
        .await;
    assert_anchor_error(&result, RegistryError::NotNetworkAuthority);

    h.send(
        &[propose_network_authority(
            &f.authority.pubkey(),
            &f.network,
            Some(next.pubkey()),
        )],
        &[&f.authority],
    )
    .await
    .unwrap();
    let network: Network = h.anchor_account(&f.network).await;
    assert_eq!(network.pending_authority, Some(next.pubkey()));
    assert_eq!(
        network.authority,
        f.authority.pubkey(),
        "not yet handed over"
    );

    // Someone else cannot accept.
    let result = h
        .send(
            &[accept_network_authority(&stranger.pubkey(), &f.network)],
            &[&stranger],
        )
        .await;
    assert_anchor_error(&result, RegistryError::NotPendingAuthority);

    h.send(
        &[accept_network_authority(&next.pubkey(), &f.network)],
        &[&next],
    )
    .await
    .unwrap();
    let network: Network = h.anchor_account(&f.network).await;
    assert_eq!(network.authority, next.pubkey());
    assert_eq!(network.pending_authority, None);

    // The old authority has lost its powers; the new one has them.
    let args = UpdateNetworkArgs {
        threshold: Some(1),
        ..Default::default()
    };
    let result = h
        .send(
            &[update_network(
                &f.authority.pubkey(),
                &f.network,
                args.clone(),
            )],
            &[&f.authority],
        )
        .await;
    assert_anchor_error(&result, RegistryError::NotNetworkAuthority);
    h.send(
        &[update_network(&next.pubkey(), &f.network, args)],
        &[&next],
    )
    .await
    .unwrap();

    // A proposal can be withdrawn.
    h.send(
        &[propose_network_authority(
            &next.pubkey(),
            &f.network,
            Some(stranger.pubkey()),
        )],
        &[&next],
    )
    .await
    .unwrap();
    h.send(
        &[propose_network_authority(&next.pubkey(), &f.network, None)],
        &[&next],
    )
    .await
    .unwrap();
    let result = h
        .send(
            &[accept_network_authority(&stranger.pubkey(), &f.network)],
            &[&stranger],
        )
        .await;
    assert_anchor_error(&result, RegistryError::NoPendingAuthority);
}

#[tokio::test]
async fn makers_register_then_the_authority_decides() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "makers").await;
    let payer = h.funded_wallet().await;
    let issuing_key = Keypair::new();
    let maker = pda::find_maker_address(&f.network, &issuing_key.pubkey()).0;

    // The issuing key must sign its own registration.
    let mut ix = register_maker(&payer.pubkey(), &issuing_key.pubkey(), &f.network, "Bobcat");
    ix.accounts[1].is_signer = false;
    let result = h.send(&[ix], &[&payer]).await;
    assert_anchor_error(&result, AnchorError::AccountNotSigner as u32);
    let result = h
        .send(
            &[register_maker(
                &payer.pubkey(),
                &issuing_key.pubkey(),
                &f.network,
                "",
            )],
            &[&payer, &issuing_key],
        )
        .await;
    assert_anchor_error(&result, RegistryError::InvalidName);

    h.send(
        &[register_maker(
            &payer.pubkey(),
            &issuing_key.pubkey(),
            &f.network,
            "Bobcat",
        )],
        &[&payer, &issuing_key],
    )
    .await
    .unwrap();
    let record: Maker = h.anchor_account(&maker).await;
    assert_eq!(record.status, MakerStatus::Pending);
    assert_eq!(record.network, f.network);
    assert_eq!(record.issuing_key, issuing_key.pubkey());
    assert_eq!(record.name, "Bobcat");
    let network: Network = h.anchor_account(&f.network).await;
    assert_eq!(network.maker_count, 2);

    // Only the authority approves, and only with the maker's own network.
    let stranger = h.funded_wallet().await;
    let result = h
        .send(
            &[set_maker_status(
                &stranger.pubkey(),
                &f.network,
                &maker,
                MakerStatus::Approved,
            )],
            &[&stranger],
        )
        .await;
    assert_anchor_error(&result, RegistryError::NotNetworkAuthority);
    let other = NetworkFixture::create(&mut h, "other").await;
    let result = h
        .send(
            &[set_maker_status(
                &other.authority.pubkey(),
                &other.network,
                &maker,
                MakerStatus::Approved,
            )],
            &[&other.authority],
        )
        .await;
    assert_anchor_error(&result, RegistryError::WrongNetwork);
    let record: Maker = h.anchor_account(&maker).await;
    assert_eq!(record.status, MakerStatus::Pending);

    h.send(
        &[set_maker_status(
            &f.authority.pubkey(),
            &f.network,
            &maker,
            MakerStatus::Approved,
        )],
        &[&f.authority],
    )
    .await
    .unwrap();
    let record: Maker = h.anchor_account(&maker).await;
    assert_eq!(record.status, MakerStatus::Approved);
    h.send(
        &[set_maker_status(
            &f.authority.pubkey(),
            &f.network,
            &maker,
            MakerStatus::Revoked,
        )],
        &[&f.authority],
    )
    .await
    .unwrap();
    let record: Maker = h.anchor_account(&maker).await;
    assert_eq!(record.status, MakerStatus::Revoked);
}
