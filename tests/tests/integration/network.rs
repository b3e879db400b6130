//! `create_network`, `update_network` (with delayed oracle-set changes), the
//! authority hand-over and makers, with the events each emits.

use anchor_lang::error::ErrorCode as AnchorError;
use depinkit_sdk::events::DepinEvent;
use depinkit_tests::{
    Harness,
    harness::{MintExtension, assert_anchor_error, token_id},
    registry::*,
};
use device_registry::{
    errors::RegistryError,
    events::{
        AuthorityChanged, AuthorityProposed, MakerRegistered, MakerStatusChanged, NetworkCreated,
    },
    instructions::UpdateNetworkArgs,
    pda,
    state::{Category, Fee, Maker, MakerStatus, Network, PendingOracleChange},
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
    // Token-2022 with a descriptive extension only: accepted.
    let fee_mint = h
        .create_mint_2022(&payer, 6, &[MintExtension::MetadataPointer])
        .await;
    let set = oracles(16);
    let mut args = network_args("helium-iot", treasury, fee_mint, set.clone());
    args.threshold = 11;
    args.category = Category::Mapping;
    args.oracle_change_delay_secs = 7 * 86_400;
    let events = h
        .send_events(
            &[create_network(&creator.pubkey(), &reward_mint, args)],
            &[&creator],
        )
        .await
        .expect("create network");
    let (address, bump) = pda::find_network_address(&creator.pubkey(), b"helium-iot");
    assert_eq!(
        events,
        vec![DepinEvent::NetworkCreated(NetworkCreated {
            network: address,
            creator: creator.pubkey(),
            category: Category::Mapping,
            reward_mint,
            oracles: set.clone(),
            threshold: 11,
            oracle_change_delay_secs: 7 * 86_400,
        })]
    );
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
    assert_eq!(network.oracle_change_delay_secs, 7 * 86_400);
    assert_eq!(network.pending_oracle_change, None);
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
    let fee_mint = h.create_mint(&token_id(), &payer, 6).await;
    let mut base = network_args("n", Pubkey::new_unique(), fee_mint, oracles(3));
    base.threshold = 2;
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
    // 1 of 3 is not a majority: two disagreeing oracles could both finalize.
    let mut a = base.clone();
    a.threshold = 1;
    cases.push((a, RegistryError::InvalidThreshold.into()));
    let mut a = base.clone();
    a.oracles = oracles(4);
    a.threshold = 2;
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
    for delay in [0, 3_599, 90 * 86_400 + 1, -1] {
        let mut a = base.clone();
        a.oracle_change_delay_secs = delay;
        cases.push((a, RegistryError::InvalidOracleChangeDelay.into()));
    }

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
    let valid = base.clone();
    let result = h
        .send(
            &[create_network(
                &creator.pubkey(),
                &creator.pubkey(),
                valid.clone(),
            )],
            &[&creator],
        )
        .await;
    assert_anchor_error(&result, AnchorError::AccountOwnedByWrongProgram as u32);

    // A non-zero fee needs its mint account, and the right one.
    let mut ix = create_network(&creator.pubkey(), &reward_mint, valid.clone());
    ix.accounts[3].pubkey = device_registry::ID;
    let result = h.send(&[ix], &[&creator]).await;
    assert_anchor_error(&result, RegistryError::FeeMintAccountMissing);
    let mut ix = create_network(&creator.pubkey(), &reward_mint, valid.clone());
    ix.accounts[3].pubkey = reward_mint;
    let result = h.send(&[ix], &[&creator]).await;
    assert_anchor_error(&result, RegistryError::WrongFeeMint);

    // Reward and fee mints whose extensions can move, withhold or lock funds.
    for extension in MintExtension::UNSAFE {
        let unsafe_mint = h.create_mint_2022(&payer, 6, &[extension]).await;
        let result = h
            .send(
                &[create_network(
                    &creator.pubkey(),
                    &unsafe_mint,
                    valid.clone(),
                )],
                &[&creator],
            )
            .await;
        assert_anchor_error(&result, RegistryError::UnsupportedMint);
        let mut args = valid.clone();
        args.onboarding_fee.mint = unsafe_mint;
        args.location_fee.mint = unsafe_mint;
        let result = h
            .send(
                &[create_network(&creator.pubkey(), &reward_mint, args)],
                &[&creator],
            )
            .await;
        assert_anchor_error(&result, RegistryError::UnsupportedMint);
    }
    let (address, _) = pda::find_network_address(&creator.pubkey(), b"n");
    assert!(h.account_data(&address).await.is_none());
}

#[tokio::test]
async fn update_network_changes_settings_for_the_authority_only() {
    let mut h = Harness::start().await;
    let f = NetworkFixture::create(&mut h, "upd").await;
    let before: Network = h.anchor_account(&f.network).await;

    // Not the authority.
    let stranger = h.funded_wallet().await;
    let args = UpdateNetworkArgs {
        name: Some("Mine".into()),
        ..Default::default()
    };
    let result = h
        .send(
            &[update_network(&stranger.pubkey(), &f.network, args, None)],
            &[&stranger],
        )
        .await;
    assert_anchor_error(&result, RegistryError::NotNetworkAuthority);

    // Threshold above the set, zero, not a majority, a set shrunk below the
    // threshold, a set too large, a shrinking delay, nothing to cancel.
    let new_fee_mint = h.create_mint(&token_id(), &h.payer().pubkey(), 6).await;
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
                threshold: Some(1),
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
                oracle_change_delay_secs: Some(ORACLE_CHANGE_DELAY - 1),
                ..Default::default()
            },
            RegistryError::InvalidOracleChangeDelay,
        ),
        (
            UpdateNetworkArgs {
                cancel_oracle_change: true,
                ..Default::default()
            },
            RegistryError::NoPendingOracleChange,
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
                &[update_network(
                    &f.authority.pubkey(),
                    &f.network,
                    args,
                    None,
                )],
                &[&f.authority],
            )
            .await;
        assert_anchor_error(&result, code);
    }
    // A fee change without the fee mint account.
    let fee = Fee {
        mint: new_fee_mint,
        amount: 5,
    };
    let args = UpdateNetworkArgs {
        onboarding_fee: Some(fee),
        location_fee: Some(fee),
        ..Default::default()
    };
    let result = h
        .send(
            &[update_network(
                &f.authority.pubkey(),
                &f.network,
                args.clone(),
                None,
            )],
            &[&f.authority],
        )
        .await;
    assert_anchor_error(&result, RegistryError::FeeMintAccountMissing);
    let unchanged: Network = h.anchor_account(&f.network).await;
    assert_eq!(unchanged.oracles, before.oracles);
    assert_eq!(unchanged.threshold, before.threshold);
    assert_eq!(unchanged.onboarding_fee, before.onboarding_fee);
    assert_eq!(unchanged.metadata_uri_base, before.metadata_uri_base);
    assert_eq!(unchanged.pending_oracle_change, None);

    // The authority changes everything at once; the oracle set is scheduled.
    let new_set = oracles(5);
    let treasury = Pubkey::new_unique();
    let args = UpdateNetworkArgs {
        name: Some("Renamed".into()),
        treasury: Some(treasury),
        onboarding_fee: Some(fee),
        location_fee: Some(fee),
        oracles: Some(new_set.clone()),
        threshold: Some(3),
        cancel_oracle_change: false,
        oracle_change_delay_secs: Some(2 * ORACLE_CHANGE_DELAY),
        metadata_uri_base: Some("ipfs://base/".into()),
    };
    let now = h.clock().await.unix_timestamp;
    let events = h
        .send_events(
            &[update_network(
                &f.authority.pubkey(),
                &f.network,
                args,
                Some(new_fee_mint),
            )],
            &[&f.authority],
        )
        .await
        .expect("update");
    let after: Network = h.anchor_account(&f.network).await;
    assert_eq!(after.name, "Renamed");
    assert_eq!(after.treasury, treasury);
    assert_eq!(after.onboarding_fee, fee);
    assert_eq!(after.location_fee, fee);
    assert_eq!(after.metadata_uri_base, "ipfs://base/");
    assert_eq!(after.creator, before.creator);
    assert_eq!(after.oracle_change_delay_secs, 2 * ORACLE_CHANGE_DELAY);
    // The oracle set in force has not changed: the new one is on chain, dated.
    let scheduled = PendingOracleChange {
        oracles: new_set.clone(),
        threshold: 3,
        effective_at: now + 2 * ORACLE_CHANGE_DELAY,
    };
    assert_eq!(after.oracles, before.oracles);
    assert_eq!(after.threshold, before.threshold);
    assert_eq!(after.pending_oracle_change, Some(scheduled.clone()));
    let [DepinEvent::NetworkUpdated(updated)] = events.as_slice() else {
        panic!("expected one NetworkUpdated event, got {events:?}");
    };
    assert_eq!(updated.network, f.network);
    assert_eq!(updated.oracles, before.oracles);
    assert_eq!(updated.pending_oracle_change, Some(scheduled));
    assert_eq!(updated.treasury, treasury);
    assert_eq!(updated.onboarding_fee, fee);

    // A scheduled change can be cancelled before it applies.
    h.send(
        &[update_network(
            &f.authority.pubkey(),
            &f.network,
            UpdateNetworkArgs {
                cancel_oracle_change: true,
                ..Default::default()
            },
            None,
        )],
        &[&f.authority],
    )
    .await
    .expect("cancel");
    let cancelled: Network = h.anchor_account(&f.network).await;
    assert_eq!(cancelled.pending_oracle_change, None);
    assert_eq!(cancelled.oracles, before.oracles);

    // Scheduled again, it applies when its time comes, and the next update
    // makes it the current set.
    h.send(
        &[update_network(
            &f.authority.pubkey(),
            &f.network,
            UpdateNetworkArgs {
                oracles: Some(new_set.clone()),
                threshold: Some(3),
                ..Default::default()
            },
            None,
        )],
        &[&f.authority],
    )
    .await
    .expect("schedule");
    h.warp_seconds(2 * ORACLE_CHANGE_DELAY).await;
    let due: Network = h.anchor_account(&f.network).await;
    let now = h.clock().await.unix_timestamp;
    assert_eq!(due.oracle_set(now).oracles, new_set.as_slice());
    h.send(
        &[update_network(
            &f.authority.pubkey(),
            &f.network,
            UpdateNetworkArgs {
                name: Some("Applied".into()),
                ..Default::default()
            },
            None,
        )],
        &[&f.authority],
    )
    .await
    .expect("apply");
    let applied: Network = h.anchor_account(&f.network).await;
    assert_eq!(applied.oracles, new_set);
    assert_eq!(applied.threshold, 3);
    assert_eq!(applied.pending_oracle_change, None);
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

    let events = h
        .send_events(
            &[propose_network_authority(
                &f.authority.pubkey(),
                &f.network,
                Some(next.pubkey()),
            )],
            &[&f.authority],
        )
        .await
        .unwrap();
    assert_eq!(
        events,
        vec![DepinEvent::AuthorityProposed(AuthorityProposed {
            network: f.network,
            proposed: Some(next.pubkey()),
        })]
    );
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

    let events = h
        .send_events(
            &[accept_network_authority(&next.pubkey(), &f.network)],
            &[&next],
        )
        .await
        .unwrap();
    assert_eq!(
        events,
        vec![DepinEvent::AuthorityChanged(AuthorityChanged {
            network: f.network,
            previous: f.authority.pubkey(),
            authority: next.pubkey(),
        })]
    );
    let network: Network = h.anchor_account(&f.network).await;
    assert_eq!(network.authority, next.pubkey());
    assert_eq!(network.pending_authority, None);

    // The old authority has lost its powers; the new one has them.
    let args = UpdateNetworkArgs {
        name: Some("Handed over".into()),
        ..Default::default()
    };
    let result = h
        .send(
            &[update_network(
                &f.authority.pubkey(),
                &f.network,
                args.clone(),
                None,
            )],
            &[&f.authority],
        )
        .await;
    assert_anchor_error(&result, RegistryError::NotNetworkAuthority);
    h.send(
        &[update_network(&next.pubkey(), &f.network, args, None)],
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

    let events = h
        .send_events(
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
    assert_eq!(
        events,
        vec![DepinEvent::MakerRegistered(MakerRegistered {
            network: f.network,
            maker,
            issuing_key: issuing_key.pubkey(),
            name: "Bobcat".into(),
        })]
    );
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

    let events = h
        .send_events(
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
    assert_eq!(
        events,
        vec![DepinEvent::MakerStatusChanged(MakerStatusChanged {
            network: f.network,
            maker,
            status: MakerStatus::Approved,
        })]
    );
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
