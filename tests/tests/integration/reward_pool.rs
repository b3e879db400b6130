//! The reward pool: creation, funding, oracle votes and claims, with each refusal.

use anchor_lang::error::ErrorCode as AnchorError;
use depinkit_sdk::events::DepinEvent;
use depinkit_tests::{
    Harness,
    harness::{assert_anchor_error, ata, token_id},
    pool::*,
    registry::*,
};
use device_registry::{instructions::UpdateNetworkArgs, state::DeviceStatus};
use reward_pool::{
    errors::PoolError,
    events::{ClaimPaid, EpochFinalized, EpochRootVoted, PoolCreated, PoolFunded},
    instructions::{CreatePoolArgs, VoteEpochRootArgs},
    merkle::RewardTree,
    pda,
    state::{ClaimRecord, EmissionSchedule, FundingKind, Pool},
};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

/// A tree paying `amounts[i]` to device `i` of the fixture.
fn tree(f: &PoolFixture, amounts: &[u64]) -> RewardTree {
    RewardTree::new(f.devices.iter().zip(amounts).map(|(d, a)| (d.mint, *a))).unwrap()
}

#[tokio::test]
async fn create_pool_records_the_schedule_and_opens_a_vault() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "pool", 0).await;
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.network, f.net.network);
    assert_eq!(pool.reward_mint, f.net.reward_mint);
    assert_eq!(
        pool.vault,
        ata(&f.keys.pool, &f.net.reward_mint, &token_id())
    );
    assert_eq!(pool.schedule, halving_schedule());
    assert_eq!(pool.next_epoch, 0);
    assert_eq!(pool.next_epoch_emission, INITIAL_EMISSION);
    assert_eq!(pool.epoch_length_secs, EPOCH_SECS);
    assert_eq!(pool.total_inflow, FUNDING);
    assert_eq!(pool.revenue_inflow, 0);
    assert_eq!(h.token_balance(&f.keys.vault).await, FUNDING);
}

#[tokio::test]
async fn create_pool_refusals() {
    let mut h = Harness::start().await;
    let net = NetworkFixture::create(&mut h, "bad-pool").await;
    let start_time = h.clock().await.unix_timestamp;
    let good = CreatePoolArgs {
        start_time,
        epoch_length_secs: EPOCH_SECS,
        schedule: halving_schedule(),
    };
    let create = |authority: &Pubkey, mint: &Pubkey, args: CreatePoolArgs| {
        let keys = PoolKeys::new(&net.network, mint, &token_id());
        create_pool(authority, &net.network, &keys, args)
    };

    let stranger = h.funded_wallet().await;
    let result = h
        .send(
            &[create(&stranger.pubkey(), &net.reward_mint, good.clone())],
            &[&stranger],
        )
        .await;
    assert_anchor_error(&result, PoolError::NotNetworkAuthority);

    let result = h
        .send(
            &[create(&net.authority.pubkey(), &net.fee_mint, good.clone())],
            &[&net.authority],
        )
        .await;
    assert_anchor_error(&result, PoolError::WrongRewardMint);

    let mut cases = Vec::new();
    for length in [0, -1, 366 * 24 * 3600 + 1] {
        let mut args = good.clone();
        args.epoch_length_secs = length;
        cases.push((args, PoolError::InvalidEpochLength));
    }
    let mut args = good.clone();
    args.schedule.retain_bps = 10_001;
    cases.push((args, PoolError::InvalidSchedule));
    let mut args = good.clone();
    args.schedule = EmissionSchedule {
        initial_per_epoch: 5,
        decay_interval_epochs: 0,
        retain_bps: 5_000,
    };
    cases.push((args, PoolError::InvalidSchedule));
    // A start far in the past would let ended epochs finalize back to back.
    for start in [
        start_time - EPOCH_SECS - 1,
        start_time - 1_000 * EPOCH_SECS,
        i64::MIN,
        start_time + 366 * 24 * 3600 + 1,
        i64::MAX - 10,
    ] {
        let mut args = good.clone();
        args.start_time = start;
        cases.push((args, PoolError::InvalidStartTime));
    }
    // Epochs longer than the network's oracle-change delay: a new quorum could
    // vote an epoch it was not announced a whole epoch before.
    let mut args = good.clone();
    args.epoch_length_secs = ORACLE_CHANGE_DELAY + 1;
    cases.push((args, PoolError::OracleChangeDelayTooShort));
    for (args, code) in cases {
        let result = h
            .send(
                &[create(&net.authority.pubkey(), &net.reward_mint, args)],
                &[&net.authority],
            )
            .await;
        assert_anchor_error(&result, code);
    }
    let pool = pda::find_pool_address(&net.network).0;
    assert!(h.account_data(&pool).await.is_none());

    // A network account faked by another program.
    let mut fake = h
        .ctx
        .banks_client
        .get_account(net.network)
        .await
        .unwrap()
        .unwrap();
    fake.owner = Pubkey::new_unique();
    let fake_address = Pubkey::new_unique();
    h.ctx.set_account(&fake_address, &fake.into());
    let keys = PoolKeys::new(&fake_address, &net.reward_mint, &token_id());
    let ix = create_pool(&net.authority.pubkey(), &fake_address, &keys, good.clone());
    let result = h.send(&[ix], &[&net.authority]).await;
    assert_anchor_error(&result, AnchorError::AccountOwnedByWrongProgram as u32);

    // One epoch in the past is accepted.
    let mut late = good;
    late.start_time = start_time - EPOCH_SECS;
    h.send(
        &[create(&net.authority.pubkey(), &net.reward_mint, late)],
        &[&net.authority],
    )
    .await
    .expect("valid pool");
}

#[tokio::test]
async fn a_vault_created_first_by_someone_else_does_not_block_the_pool() {
    let mut h = Harness::start().await;
    let net = NetworkFixture::create(&mut h, "squat").await;
    let keys = PoolKeys::new(&net.network, &net.reward_mint, &token_id());
    // A griefer creates the pool's vault address for 0.002 SOL and sends dust.
    h.create_ata(&keys.pool, &net.reward_mint, &token_id())
        .await;
    let payer = h.payer().insecure_clone();
    h.mint_to(&token_id(), &net.reward_mint, &keys.vault, &payer, 7)
        .await;
    let start_time = h.clock().await.unix_timestamp;
    let args = CreatePoolArgs {
        start_time,
        epoch_length_secs: EPOCH_SECS,
        schedule: halving_schedule(),
    };
    let events = h
        .send_events(
            &[create_pool(
                &net.authority.pubkey(),
                &net.network,
                &keys,
                args.clone(),
            )],
            &[&net.authority],
        )
        .await
        .expect("create_pool over an existing vault");
    assert_eq!(
        events,
        vec![DepinEvent::PoolCreated(PoolCreated {
            pool: keys.pool,
            network: net.network,
            reward_mint: net.reward_mint,
            vault: keys.vault,
            start_time,
            epoch_length_secs: EPOCH_SECS,
            schedule: halving_schedule(),
        })]
    );
    let pool: Pool = h.anchor_account(&keys.pool).await;
    assert_eq!(pool.vault, keys.vault);
    // The dust is not counted as inflow: it is never promised to anyone.
    assert_eq!(pool.total_inflow, 0);
    assert_eq!(h.token_balance(&keys.vault).await, 7);

    // A vault the pool does not fully control is refused: a token account at
    // that address with a delegate (written into the bank directly, since only
    // the pool could sign for one).
    let other = NetworkFixture::create(&mut h, "squat-2").await;
    let other_keys = PoolKeys::new(&other.network, &other.reward_mint, &token_id());
    h.create_ata(&other_keys.pool, &other.reward_mint, &token_id())
        .await;
    let mut vault = h
        .ctx
        .banks_client
        .get_account(other_keys.vault)
        .await
        .unwrap()
        .unwrap();
    vault.data[72..76].copy_from_slice(&1u32.to_le_bytes());
    vault.data[76..108].copy_from_slice(Pubkey::new_unique().as_ref());
    h.ctx.set_account(&other_keys.vault, &vault.into());
    let result = h
        .send(
            &[create_pool(
                &other.authority.pubkey(),
                &other.network,
                &other_keys,
                args,
            )],
            &[&other.authority],
        )
        .await;
    assert_anchor_error(&result, PoolError::VaultNotControlled);
    assert!(h.account_data(&other_keys.pool).await.is_none());
}

#[tokio::test]
async fn funding_counts_emissions_and_revenue() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "fund", 0).await;
    f.fund(&mut h, 500, FundingKind::ServiceRevenue).await;
    let donor = h.funded_wallet().await;
    let donor_account = h
        .create_ata(&donor.pubkey(), &f.keys.reward_mint, &token_id())
        .await;
    let payer = h.payer().insecure_clone();
    h.mint_to(&token_id(), &f.keys.reward_mint, &donor_account, &payer, 9)
        .await;
    let events = h
        .send_events(
            &[fund_pool(
                &donor.pubkey(),
                &f.keys,
                &donor_account,
                9,
                FundingKind::Emissions,
            )],
            &[&donor],
        )
        .await
        .unwrap();
    assert_eq!(
        events,
        vec![DepinEvent::PoolFunded(PoolFunded {
            pool: f.keys.pool,
            funder: donor.pubkey(),
            amount: 9,
            kind: FundingKind::Emissions,
            total_inflow: FUNDING + 509,
        })]
    );
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.total_inflow, FUNDING + 509);
    assert_eq!(pool.revenue_inflow, 500);
    assert_eq!(h.token_balance(&f.keys.vault).await, FUNDING + 509);

    let funder = h.funded_wallet().await;
    let account = h
        .create_ata(&funder.pubkey(), &f.keys.reward_mint, &token_id())
        .await;
    let ix = fund_pool(
        &funder.pubkey(),
        &f.keys,
        &account,
        0,
        FundingKind::Emissions,
    );
    assert_anchor_error(&h.send(&[ix], &[&funder]).await, PoolError::ZeroAmount);
    // A source in another mint.
    let owner = f.net.owner(&mut h).await;
    let fee_account = f.net.fee_payment(&owner.pubkey()).from;
    let ix = fund_pool(
        &owner.pubkey(),
        &f.keys,
        &fee_account,
        10,
        FundingKind::Emissions,
    );
    assert_anchor_error(
        &h.send(&[ix], &[&owner]).await,
        AnchorError::ConstraintTokenMint as u32,
    );
}

#[tokio::test]
async fn votes_finalize_at_threshold_in_order_after_the_epoch() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "votes", 3).await;
    let t0 = tree(&f, &[100, 200, 300]);
    let args = PoolFixture::vote_args(0, &t0);

    // Before the epoch ends.
    assert_anchor_error(&f.vote(&mut h, 0, args).await, PoolError::EpochNotEnded);
    h.warp_seconds(EPOCH_SECS).await;

    // Not an oracle.
    let stranger = Keypair::new();
    let ix = vote_epoch_root(&stranger.pubkey(), &f.net.network, &f.keys.pool, args);
    assert_anchor_error(&h.send(&[ix], &[&stranger]).await, PoolError::NotAnOracle);
    // Not the next epoch.
    let mut later = args;
    later.epoch = 1;
    assert_anchor_error(&f.vote(&mut h, 0, later).await, PoolError::EpochNotNext);

    // One vote (threshold - 1) records but does not finalize; voting again
    // counts once.
    f.vote(&mut h, 0, args).await.expect("first vote");
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.votes.len(), 1);
    assert_eq!(pool.next_epoch, 0);
    assert_eq!(pool.root, [0; 32]);
    h.warp_seconds(1).await;
    f.vote(&mut h, 0, args).await.expect("the same vote again");
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.votes.len(), 1);
    assert_eq!(
        pool.next_epoch, 0,
        "one oracle never reaches a threshold of 2"
    );

    // A disagreeing oracle: recorded, counts only for its own payload.
    let mut other = args;
    other.root[0] ^= 1;
    f.vote(&mut h, 1, other).await.expect("disagreeing vote");
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.votes.len(), 2);
    assert_eq!(pool.next_epoch, 0);

    // The third oracle agrees with the first: 2 of 3, finalized.
    let third = &f.net.oracles[2];
    let ix = vote_epoch_root(&third.pubkey(), &f.net.network, &f.keys.pool, args);
    let events = h.send_events(&[ix], &[third]).await.expect("agreeing vote");
    assert_eq!(
        events,
        vec![
            DepinEvent::EpochRootVoted(EpochRootVoted {
                pool: f.keys.pool,
                oracle: third.pubkey(),
                epoch: 0,
                root: t0.root(),
                total: 600,
                leaf_count: 3,
            }),
            DepinEvent::EpochFinalized(EpochFinalized {
                pool: f.keys.pool,
                epoch: 0,
                root: t0.root(),
                total: 600,
                leaf_count: 3,
            }),
        ]
    );
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.root, t0.root());
    assert_eq!(pool.root_total, 600);
    assert_eq!(pool.root_leaf_count, 3);
    assert_eq!(pool.next_epoch, 1);
    assert!(pool.votes.is_empty());
    assert_eq!(pool.scheduled_to_date, u128::from(INITIAL_EMISSION));

    // The finalized epoch cannot be voted again.
    assert_anchor_error(
        &f.vote(&mut h, 1, args).await,
        PoolError::EpochAlreadyFinalized,
    );
}

#[tokio::test]
async fn a_split_vote_resolves_when_an_oracle_corrects_its_vote() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "split", 3).await;
    h.warp_seconds(EPOCH_SECS).await;
    let trees = [
        tree(&f, &[1, 2, 3]),
        tree(&f, &[1, 2, 4]),
        tree(&f, &[1, 2, 5]),
    ];
    // Three oracles, three different roots: no root has 2 votes.
    for (oracle, t) in trees.iter().enumerate() {
        f.vote(&mut h, oracle, PoolFixture::vote_args(0, t))
            .await
            .expect("vote");
    }
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.next_epoch, 0);
    assert_eq!(pool.votes.len(), 3);
    // Oracle 1 recomputes and agrees with oracle 0: its new vote replaces its
    // old one and the epoch finalizes.
    f.vote(&mut h, 1, PoolFixture::vote_args(0, &trees[0]))
        .await
        .expect("corrected vote");
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.next_epoch, 1);
    assert_eq!(pool.root, trees[0].root());
}

#[tokio::test]
async fn totals_never_exceed_inflow_or_schedule_and_never_decrease() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "caps", 2).await;
    h.warp_seconds(EPOCH_SECS).await;
    // Epoch 0 may promise at most its emission (inflow is far larger).
    let over_schedule = tree(&f, &[INITIAL_EMISSION, 1]);
    assert_anchor_error(
        &f.vote(&mut h, 0, PoolFixture::vote_args(0, &over_schedule))
            .await,
        PoolError::TotalExceedsAvailable,
    );
    // Service revenue raises what may be distributed.
    f.fund(&mut h, 1, FundingKind::ServiceRevenue).await;
    f.finalize(&mut h, 0, &over_schedule).await;

    // Schedule: epochs 0,1 emit 1e9, epochs 2,3 emit 5e8 (halving every 2).
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.next_epoch_emission, INITIAL_EMISSION);
    let e1 = tree(&f, &[INITIAL_EMISSION, 1 + INITIAL_EMISSION]);
    f.finalize(&mut h, 1, &e1).await;
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.next_epoch_emission, INITIAL_EMISSION / 2);
    assert_eq!(pool.scheduled_to_date, 2 * u128::from(INITIAL_EMISSION));

    // A total below the previous root's is refused.
    h.warp_seconds(EPOCH_SECS).await;
    let smaller = tree(&f, &[1, 1]);
    assert_anchor_error(
        &f.vote(&mut h, 0, PoolFixture::vote_args(2, &smaller)).await,
        PoolError::TotalDecreased,
    );
    // More than the pool ever received: a pool whose schedule is generous
    // but which holds only 1,000 tokens.
    let mut h2 = Harness::start().await;
    let generous = EmissionSchedule {
        initial_per_epoch: 1_000_000_000_000_000,
        decay_interval_epochs: 0,
        retain_bps: 10_000,
    };
    let small = PoolFixture::create_with(&mut h2, "small", 0, generous, 1_000).await;
    h2.warp_seconds(EPOCH_SECS).await;
    let device = Pubkey::new_unique();
    let beyond_inflow = RewardTree::new([(device, 1_001)]).unwrap();
    assert_anchor_error(
        &small
            .vote(&mut h2, 0, PoolFixture::vote_args(0, &beyond_inflow))
            .await,
        PoolError::TotalExceedsAvailable,
    );
    let all_of_it = RewardTree::new([(device, 1_000)]).unwrap();
    small
        .vote(&mut h2, 0, PoolFixture::vote_args(0, &all_of_it))
        .await
        .expect("within inflow");
    // Leaf count past what a 24-hash proof reaches.
    let too_many = VoteEpochRootArgs {
        epoch: 0,
        root: [1; 32],
        total: 0,
        leaf_count: (1 << 24) + 1,
    };
    assert_anchor_error(
        &small.vote(&mut h2, 1, too_many).await,
        PoolError::TooManyLeaves,
    );
}

#[tokio::test]
async fn votes_of_removed_oracles_do_not_count() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "rotate", 1).await;
    h.warp_seconds(EPOCH_SECS).await;
    let t0 = tree(&f, &[10]);
    let args = PoolFixture::vote_args(0, &t0);
    f.vote(&mut h, 0, args).await.expect("vote by oracle 0");
    // Oracle 0 leaves the set; a new oracle joins. Threshold stays 2.
    let newcomer = Keypair::new();
    let set = vec![
        f.net.oracles[1].pubkey(),
        f.net.oracles[2].pubkey(),
        newcomer.pubkey(),
    ];
    let update = update_network(
        &f.net.authority.pubkey(),
        &f.net.network,
        UpdateNetworkArgs {
            oracles: Some(set),
            ..Default::default()
        },
        None,
    );
    h.send(&[update], &[&f.net.authority]).await.unwrap();
    // The change applies after the network's delay.
    h.warp_seconds(ORACLE_CHANGE_DELAY).await;
    // Oracle 1 agrees with oracle 0's vote, but only one current vote counts.
    f.vote(&mut h, 1, args).await.expect("vote by oracle 1");
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.next_epoch, 0, "a removed oracle's vote must not count");
    assert_eq!(pool.votes.len(), 1, "the removed oracle's vote is dropped");
    // The removed oracle cannot vote any more.
    let ix = vote_epoch_root(
        &f.net.oracles[0].pubkey(),
        &f.net.network,
        &f.keys.pool,
        args,
    );
    assert_anchor_error(
        &h.send(&[ix], &[&f.net.oracles[0]]).await,
        PoolError::NotAnOracle,
    );
    // The newcomer makes two current votes: finalized.
    let ix = vote_epoch_root(&newcomer.pubkey(), &f.net.network, &f.keys.pool, args);
    h.send(&[ix], &[&newcomer]).await.expect("newcomer votes");
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.next_epoch, 1);
    assert_eq!(pool.root, t0.root());
}

#[tokio::test]
async fn the_authority_cannot_swap_in_its_own_quorum_at_once() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "swap", 1).await;
    // The authority replaces the oracles with two keys of its own (a majority
    // threshold of 2) to vote itself the whole pool.
    let (a, b) = (h.funded_wallet().await, h.funded_wallet().await);
    let update = update_network(
        &f.net.authority.pubkey(),
        &f.net.network,
        UpdateNetworkArgs {
            oracles: Some(vec![a.pubkey(), b.pubkey()]),
            threshold: Some(2),
            ..Default::default()
        },
        None,
    );
    h.send(&[update], &[&f.net.authority]).await.unwrap();
    h.warp_seconds(EPOCH_SECS).await;
    let grab = RewardTree::new([(f.devices[0].mint, INITIAL_EMISSION)]).unwrap();
    let args = PoolFixture::vote_args(0, &grab);
    for key in [&a, &b] {
        let ix = vote_epoch_root(&key.pubkey(), &f.net.network, &f.keys.pool, args);
        assert_anchor_error(&h.send(&[ix], &[key]).await, PoolError::NotAnOracle);
    }
    // The announced oracles still decide until the change applies.
    let honest = tree(&f, &[10]);
    f.finalize(&mut h, 0, &honest).await;
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.root, honest.root());
    // A whole day later (the network's delay) the new set is in force, and the
    // old one is out.
    h.warp_seconds(ORACLE_CHANGE_DELAY).await;
    let next = tree(&f, &[20]);
    let args = PoolFixture::vote_args(1, &next);
    assert_anchor_error(&f.vote(&mut h, 0, args).await, PoolError::NotAnOracle);
    for key in [&a, &b] {
        let ix = vote_epoch_root(&key.pubkey(), &f.net.network, &f.keys.pool, args);
        h.send(&[ix], &[key]).await.expect("the new set votes");
    }
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.root, next.root());
}

#[tokio::test]
async fn claims_never_exceed_the_finalized_total_whatever_the_leaves_say() {
    let mut h = Harness::start().await;
    // Funded a hundred epochs ahead of its schedule.
    let f = PoolFixture::create(&mut h, "bounded", 2).await;
    // Epoch 0: a quorum's root whose leaves pay device 0 400 and say so.
    let e0 = tree(&f, &[400, 0]);
    f.finalize(&mut h, 0, &e0).await;
    f.claim(&mut h, 0, &e0).await.expect("device 0 claims 400");
    // Epoch 1: a root that states the same total (never decreasing, within the
    // schedule) but whose leaves now give device 1 another 400 and device 0 a
    // further 100, as if the pool had paid nothing yet.
    let e1 = tree(&f, &[500, 400]);
    let lying = VoteEpochRootArgs {
        total: 400,
        ..PoolFixture::vote_args(1, &e1)
    };
    h.warp_seconds(EPOCH_SECS).await;
    for oracle in 0..2 {
        f.vote(&mut h, oracle, lying).await.expect("vote");
    }
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.root, e1.root());
    assert_eq!(pool.root_total, 400);
    let vault_before = h.token_balance(&f.keys.vault).await;
    for device in [1, 0] {
        assert_anchor_error(
            &f.claim(&mut h, device, &e1).await,
            PoolError::ClaimExceedsRootTotal,
        );
    }
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.total_claimed, 400);
    assert_eq!(h.token_balance(&f.keys.vault).await, vault_before);
    // An honest root with a higher total lets them be paid, up to it.
    let e2 = tree(&f, &[500, 400]);
    f.finalize(&mut h, 2, &e2).await;
    f.claim(&mut h, 1, &e2).await.expect("within the total");
    f.claim(&mut h, 0, &e2).await.expect("within the total");
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.total_claimed, 900);
    assert_eq!(pool.total_claimed, pool.root_total);
}

#[tokio::test]
async fn claims_pay_the_difference_to_the_current_holder() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "claims", 3).await;
    let t0 = tree(&f, &[100, 200, 300]);
    f.finalize(&mut h, 0, &t0).await;

    // The first claim, sent after its setup, emits what it paid and to whom.
    let accounts = f.claim_accounts(0);
    let setup = depinkit_sdk::pool::claim_with_setup(
        &h.payer().pubkey(),
        &f.devices[0].holder.pubkey(),
        &f.keys,
        accounts,
        depinkit_sdk::pool::ClaimSetup {
            create_reward_account: true,
            create_claim_record: true,
        },
        100,
        t0.proof(t0.position(&f.devices[0].mint).unwrap()),
    );
    let events = h.send_events(&setup, &[]).await.expect("claim");
    assert_eq!(
        events,
        vec![DepinEvent::ClaimPaid(ClaimPaid {
            pool: f.keys.pool,
            device_mint: f.devices[0].mint,
            holder: f.devices[0].holder.pubkey(),
            amount: 100,
            claimed: 100,
        })]
    );
    let holder_rewards = f.claim_accounts(0).holder_reward_account;
    assert_eq!(h.token_balance(&holder_rewards).await, 100);
    let record: ClaimRecord = h
        .anchor_account(&pda::find_claim_record_address(&f.keys.pool, &f.devices[0].mint).0)
        .await;
    assert_eq!(record.claimed, 100);
    assert_eq!(record.device_mint, f.devices[0].mint);

    // Claiming twice pays nothing the second time.
    h.warp_seconds(1).await;
    f.claim(&mut h, 0, &t0).await.expect("second claim");
    assert_eq!(h.token_balance(&holder_rewards).await, 100);

    // The next epoch raises the cumulative amount: the difference is paid.
    let t1 = tree(&f, &[150, 260, 300]);
    f.finalize(&mut h, 1, &t1).await;
    f.claim(&mut h, 0, &t1).await.expect("claim epoch 1");
    assert_eq!(h.token_balance(&holder_rewards).await, 150);
    // A device that did not claim epoch 0 gets both epochs at once.
    f.claim(&mut h, 1, &t1).await.expect("claim device 1");
    assert_eq!(
        h.token_balance(&f.claim_accounts(1).holder_reward_account)
            .await,
        260
    );
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.total_claimed, 410);
    assert_eq!(h.token_balance(&f.keys.vault).await, FUNDING - 410);

    // The NFT moves: the new holder is paid, not the old one.
    let t2 = tree(&f, &[150, 260, 400]);
    f.finalize(&mut h, 2, &t2).await;
    f.claim(&mut h, 2, &t1)
        .await
        .expect_err("an old root's proof fails");
    let buyer = h.funded_wallet().await;
    let seller = f.devices[2].holder.insecure_clone();
    h.transfer_nft(&f.devices[2].mint, &seller, &buyer.pubkey())
        .await;
    let seller_accounts = f.claim_accounts(2);
    let index = t2.position(&f.devices[2].mint).unwrap();
    // The seller's NFT account is empty now.
    let result = f
        .claim_with(&mut h, seller_accounts, 400, t2.proof(index))
        .await;
    assert_anchor_error(&result, PoolError::NotDeviceHolder);
    // The buyer's NFT account with the seller's reward account.
    let mut mixed = seller_accounts;
    mixed.holder_nft_account = ata(&buyer.pubkey(), &f.devices[2].mint, &token_2022_id());
    h.create_ata(&seller.pubkey(), &f.keys.reward_mint, &token_id())
        .await;
    let result = f.claim_with(&mut h, mixed, 400, t2.proof(index)).await;
    assert_anchor_error(&result, PoolError::WrongRewardAccount);
    // A reward account of the buyer that is not their associated one.
    let mut not_ata = f.claim_accounts_for(2, &buyer.pubkey());
    not_ata.holder_reward_account = h
        .create_token_account(&buyer.pubkey(), &f.keys.reward_mint, &token_id())
        .await;
    let result = f.claim_with(&mut h, not_ata, 400, t2.proof(index)).await;
    assert_anchor_error(&result, PoolError::WrongRewardAccount);
    // The buyer's accounts: paid.
    let to_buyer = f.claim_accounts_for(2, &buyer.pubkey());
    f.claim_with(&mut h, to_buyer, 400, t2.proof(index))
        .await
        .expect("paid to the buyer");
    assert_eq!(h.token_balance(&to_buyer.holder_reward_account).await, 400);
    assert_eq!(
        h.token_balance(&seller_accounts.holder_reward_account)
            .await,
        0
    );
}

fn token_2022_id() -> Pubkey {
    depinkit_tests::harness::token_2022_id()
}

#[tokio::test]
async fn wrong_proofs_devices_and_amounts_are_refused() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "proofs", 3).await;
    let t0 = tree(&f, &[100, 200, 300]);
    f.finalize(&mut h, 0, &t0).await;
    let i0 = t0.position(&f.devices[0].mint).unwrap();
    let i1 = t0.position(&f.devices[1].mint).unwrap();
    let accounts = f.claim_accounts(0);

    // Inflated amount.
    let result = f.claim_with(&mut h, accounts, 101, t0.proof(i0)).await;
    assert_anchor_error(&result, PoolError::InvalidProof);
    // Another device's proof and amount for this device.
    let result = f.claim_with(&mut h, accounts, 200, t0.proof(i1)).await;
    assert_anchor_error(&result, PoolError::InvalidProof);
    // A corrupted proof.
    let mut proof = t0.proof(i0);
    proof[0][5] ^= 0x10;
    let result = f.claim_with(&mut h, accounts, 100, proof).await;
    assert_anchor_error(&result, PoolError::InvalidProof);
    // Too long.
    let result = f.claim_with(&mut h, accounts, 100, vec![[0; 32]; 25]).await;
    assert_anchor_error(&result, PoolError::ProofTooLong);
    // Nothing was paid.
    assert!(
        h.account_data(&accounts.holder_reward_account)
            .await
            .is_none()
    );
    assert_eq!(h.token_balance(&f.keys.vault).await, FUNDING);

    // A device of another network: its claim record cannot be made in this
    // pool, and presented with a real record of this pool it is refused.
    let other = PoolFixture::create(&mut h, "proofs-2", 1).await;
    let foreign = other.claim_accounts(0);
    let setup = init_claim_record(
        &h.payer().pubkey(),
        &f.keys.pool,
        &foreign.device,
        &foreign.device_mint,
    );
    assert_anchor_error(&h.send(&[setup], &[]).await, PoolError::WrongNetwork);
    f.claim(&mut h, 0, &t0)
        .await
        .expect("device 0 claims, creating its record");
    let mut with_local_record = foreign;
    with_local_record.device_mint = f.devices[0].mint;
    with_local_record.holder_reward_account = f.claim_accounts(0).holder_reward_account;
    let ix = claim(&f.keys, with_local_record, 100, t0.proof(i0));
    assert_anchor_error(&h.send(&[ix], &[]).await, PoolError::WrongNetwork);
}

#[tokio::test]
async fn suspended_devices_cannot_claim_and_short_vaults_change_nothing() {
    let mut h = Harness::start().await;
    let f = PoolFixture::create(&mut h, "suspend", 2).await;
    let t0 = tree(&f, &[100, 200]);
    f.finalize(&mut h, 0, &t0).await;

    let suspend = set_device_status(
        &f.net.authority.pubkey(),
        &f.net.network,
        &f.devices[0].device,
        DeviceStatus::Suspended,
    );
    h.send(&[suspend], &[&f.net.authority]).await.unwrap();
    assert_anchor_error(&f.claim(&mut h, 0, &t0).await, PoolError::DeviceSuspended);

    // Drain the vault below the claim behind the program's back.
    let mut vault = h
        .ctx
        .banks_client
        .get_account(f.keys.vault)
        .await
        .unwrap()
        .unwrap();
    vault.data[64..72].copy_from_slice(&150u64.to_le_bytes());
    h.ctx.set_account(&f.keys.vault, &vault.into());
    assert_anchor_error(&f.claim(&mut h, 1, &t0).await, PoolError::VaultInsufficient);
    let pool: Pool = h.anchor_account(&f.keys.pool).await;
    assert_eq!(pool.total_claimed, 0);
    assert_eq!(h.token_balance(&f.keys.vault).await, 150);
}
