//! Burn-and-mint credits: setup, price votes, buying, delegating, attested usage.

use anchor_lang::solana_program::program_pack::Pack;
use depinkit_sdk::{events::DepinEvent, payments};
use depinkit_tests::{
    Harness,
    harness::{assert_anchor_error, token_2022_id, token_id},
    payments::*,
    pool::EPOCH_SECS,
};
use reward_pool::merkle::RewardTree;
use service_payments::{
    errors::PaymentError,
    events::{CreditWithdrawalRequested, CreditsWithdrawn, UsageBurned},
    instructions::{BurnUsageArgs, VotePriceArgs},
    pda,
    state::{EpochUsage, PaymentsConfig, PendingWithdrawal, UsageEscrow, UsageReport},
};
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use spl_token_2022_interface::{
    extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
    state::Mint as MintState,
};

/// $5.00 +- $0.01 with 8 decimals of exponent.
const PRICE: u64 = 500_000_000;
const CONF: u64 = 1_000_000;
const EXPO: i32 = -8;
/// One whole network token (6 decimals) buys (5.00 - 0.01) / 0.00001 credits.
const CREDITS_PER_TOKEN: u64 = 499_000;
const ONE_TOKEN: u64 = 1_000_000;

#[tokio::test]
async fn init_payments_creates_a_non_transferable_credits_mint() {
    let mut h = Harness::start().await;
    let f = PaymentsFixture::create(&mut h, "credits", 0).await;
    let config: PaymentsConfig = h.anchor_account(&f.config).await;
    assert_eq!(config.network, f.network());
    assert_eq!(config.burn_mint, f.token_mint());
    assert_eq!(config.credits_mint, f.credits_mint);
    assert_eq!(config.order_fee_bps, ORDER_FEE_BPS);
    assert_eq!(config.price, None);
    let data = h.account_data(&f.credits_mint).await.unwrap();
    let mint = StateWithExtensions::<MintState>::unpack(&data).unwrap();
    assert_eq!(
        mint.get_extension_types().unwrap(),
        vec![ExtensionType::NonTransferable]
    );
    assert_eq!(
        Option::<Pubkey>::from(mint.base.mint_authority),
        Some(f.config)
    );
    assert!(mint.base.freeze_authority.is_none());
    assert_eq!(mint.base.decimals, 0);
}

#[tokio::test]
async fn init_payments_refusals() {
    let mut h = Harness::start().await;
    let f = depinkit_tests::pool::PoolFixture::create(&mut h, "bad-pay", 0).await;
    let net = &f.net;
    let stranger = h.funded_wallet().await;
    let ix = init_payments_ix(
        &stranger.pubkey(),
        &net.network,
        &net.reward_mint,
        payments_args(),
    );
    assert_anchor_error(
        &h.send(&[ix], &[&stranger]).await,
        PaymentError::NotNetworkAuthority,
    );
    let mut args = payments_args();
    args.order_fee_bps = 10_001;
    let ix = init_payments_ix(
        &net.authority.pubkey(),
        &net.network,
        &net.reward_mint,
        args,
    );
    assert_anchor_error(
        &h.send(&[ix], &[&net.authority]).await,
        PaymentError::InvalidBps,
    );
    let mut args = payments_args();
    args.credit_usd_micros = 0;
    let ix = init_payments_ix(
        &net.authority.pubkey(),
        &net.network,
        &net.reward_mint,
        args,
    );
    assert_anchor_error(
        &h.send(&[ix], &[&net.authority]).await,
        PaymentError::InvalidCreditSettings,
    );
    for notice in [-1, 90 * 86_400 + 1] {
        let mut args = payments_args();
        args.withdrawal_notice_secs = notice;
        let ix = init_payments_ix(
            &net.authority.pubkey(),
            &net.network,
            &net.reward_mint,
            args,
        );
        assert_anchor_error(
            &h.send(&[ix], &[&net.authority]).await,
            PaymentError::InvalidWithdrawalNotice,
        );
    }
    // A burn mint whose extensions can move or lock funds.
    let payer = h.payer().pubkey();
    let burn_mint = h
        .create_mint_2022(
            &payer,
            6,
            &[depinkit_tests::harness::MintExtension::PermanentDelegate],
        )
        .await;
    let keys =
        depinkit_sdk::payments::PaymentsKeys::new(&net.network, &burn_mint, &token_2022_id());
    let ix = depinkit_sdk::payments::init_payments(&net.authority.pubkey(), &keys, payments_args());
    assert_anchor_error(
        &h.send(&[ix], &[&net.authority]).await,
        PaymentError::UnsupportedMint,
    );
    assert!(
        h.account_data(&pda::find_payments_address(&net.network).0)
            .await
            .is_none()
    );
    // The valid setup says what it set.
    let ix = init_payments_ix(
        &net.authority.pubkey(),
        &net.network,
        &net.reward_mint,
        payments_args(),
    );
    let events = h.send_events(&[ix], &[&net.authority]).await.unwrap();
    let keys =
        depinkit_sdk::payments::PaymentsKeys::new(&net.network, &net.reward_mint, &token_id());
    assert_eq!(
        events,
        vec![DepinEvent::PaymentsInitialized(
            service_payments::events::PaymentsInitialized {
                network: net.network,
                config: keys.config,
                credits_mint: keys.credits_mint,
                burn_mint: net.reward_mint,
                credit_usd_micros: CREDIT_USD_MICROS,
                burn_token_program: token_id(),
                credits_decimals: 0,
                max_price_age_secs: MAX_PRICE_AGE,
                order_fee_bps: ORDER_FEE_BPS,
                pool_share_bps: POOL_SHARE_BPS,
                withdrawal_notice_secs: WITHDRAWAL_NOTICE,
            }
        )]
    );
}

#[tokio::test]
async fn payment_settings_change_for_the_authority_only() {
    let mut h = Harness::start().await;
    let f = PaymentsFixture::create(&mut h, "pay-upd", 0).await;
    let net = &f.base.net;
    let args = service_payments::instructions::UpdatePaymentsArgs {
        credit_usd_micros: Some(20),
        max_price_age_secs: Some(60),
        order_fee_bps: Some(100),
        pool_share_bps: Some(2_000),
        withdrawal_notice_secs: Some(86_400),
    };
    let stranger = h.funded_wallet().await;
    let ix = payments::update_payments(&stranger.pubkey(), &f.keys, args.clone());
    assert_anchor_error(
        &h.send(&[ix], &[&stranger]).await,
        PaymentError::NotNetworkAuthority,
    );
    for (bad, code) in [
        (
            service_payments::instructions::UpdatePaymentsArgs {
                pool_share_bps: Some(10_001),
                ..Default::default()
            },
            PaymentError::InvalidBps,
        ),
        (
            service_payments::instructions::UpdatePaymentsArgs {
                max_price_age_secs: Some(0),
                ..Default::default()
            },
            PaymentError::InvalidCreditSettings,
        ),
        (
            service_payments::instructions::UpdatePaymentsArgs {
                withdrawal_notice_secs: Some(-5),
                ..Default::default()
            },
            PaymentError::InvalidWithdrawalNotice,
        ),
    ] {
        let ix = payments::update_payments(&net.authority.pubkey(), &f.keys, bad);
        assert_anchor_error(&h.send(&[ix], &[&net.authority]).await, code);
    }
    let unchanged: PaymentsConfig = h.anchor_account(&f.config).await;
    assert_eq!(unchanged.order_fee_bps, ORDER_FEE_BPS);
    let ix = payments::update_payments(&net.authority.pubkey(), &f.keys, args);
    let events = h.send_events(&[ix], &[&net.authority]).await.unwrap();
    assert_eq!(
        events,
        vec![DepinEvent::PaymentsUpdated(
            service_payments::events::PaymentsUpdated {
                network: f.network(),
                credit_usd_micros: 20,
                max_price_age_secs: 60,
                order_fee_bps: 100,
                pool_share_bps: 2_000,
                withdrawal_notice_secs: 86_400,
            }
        )]
    );
    let config: PaymentsConfig = h.anchor_account(&f.config).await;
    assert_eq!(
        (
            config.credit_usd_micros,
            config.max_price_age_secs,
            config.order_fee_bps,
            config.pool_share_bps,
            config.withdrawal_notice_secs
        ),
        (20, 60, 100, 2_000, 86_400)
    );
}

#[tokio::test]
async fn prices_finalize_by_quorum_and_only_move_forward() {
    let mut h = Harness::start().await;
    let f = PaymentsFixture::create(&mut h, "price", 0).await;
    let now = h.clock().await.unix_timestamp;
    let args = VotePriceArgs {
        price: PRICE,
        conf: CONF,
        expo: EXPO,
        publish_time: now,
    };
    // Not an oracle.
    let stranger = Keypair::new();
    let ix = vote_price_ix(&stranger.pubkey(), &f.network(), args);
    assert_anchor_error(
        &h.send(&[ix], &[&stranger]).await,
        PaymentError::NotAnOracle,
    );
    // Malformed prices.
    for bad in [
        VotePriceArgs {
            price: 0,
            conf: 0,
            ..args
        },
        VotePriceArgs {
            conf: PRICE,
            ..args
        },
        VotePriceArgs { expo: 19, ..args },
        VotePriceArgs { expo: -19, ..args },
        // `abs` of i32::MIN overflows: refused with an error, not a panic.
        VotePriceArgs {
            expo: i32::MIN,
            ..args
        },
    ] {
        assert_anchor_error(
            &f.vote_price(&mut h, 0, bad).await,
            PaymentError::InvalidPrice,
        );
    }
    // From the future.
    let future = VotePriceArgs {
        publish_time: now + 60,
        ..args
    };
    assert_anchor_error(
        &f.vote_price(&mut h, 0, future).await,
        PaymentError::StalePriceVote,
    );

    // Oracle 0 votes A, then changes to B (its vote is replaced).
    let b = VotePriceArgs {
        price: PRICE + 1,
        ..args
    };
    f.vote_price(&mut h, 0, args).await.unwrap();
    f.vote_price(&mut h, 0, b).await.unwrap();
    // Oracle 1 votes A: only one live vote for A, nothing final.
    f.vote_price(&mut h, 1, args).await.unwrap();
    let config: PaymentsConfig = h.anchor_account(&f.config).await;
    assert_eq!(config.price, None);
    assert_eq!(config.price_votes.len(), 2);
    // Oracle 2 votes B: 2 of 3 for B, final.
    let oracle2 = &f.base.net.oracles[2];
    let ix = vote_price_ix(&oracle2.pubkey(), &f.network(), b);
    let events = h.send_events(&[ix], &[oracle2]).await.unwrap();
    let config: PaymentsConfig = h.anchor_account(&f.config).await;
    assert_eq!(
        events,
        vec![
            DepinEvent::PriceVoted(service_payments::events::PriceVoted {
                network: f.network(),
                oracle: oracle2.pubkey(),
                price: b.price,
                conf: b.conf,
                expo: b.expo,
                publish_time: b.publish_time,
            }),
            DepinEvent::PriceFinalized(service_payments::events::PriceFinalized {
                network: f.network(),
                price: config.price.unwrap(),
            }),
        ]
    );
    let price = config.price.expect("finalized");
    assert_eq!(
        (price.price, price.conf, price.expo),
        (PRICE + 1, CONF, EXPO)
    );
    assert_eq!(price.publish_time, now);
    assert!(config.price_votes.is_empty());
    // The same or an older publish time is refused from now on.
    assert_anchor_error(
        &f.vote_price(&mut h, 0, args).await,
        PaymentError::StalePriceVote,
    );
}

#[tokio::test]
async fn buying_credits_burns_tokens_at_price_minus_confidence() {
    let mut h = Harness::start().await;
    let f = PaymentsFixture::create(&mut h, "buy", 0).await;
    let buyer = f.wallet_with_tokens(&mut h, 10 * ONE_TOKEN).await;
    let ix = f.buy_credits_ix(&buyer.pubkey(), ONE_TOKEN, 0);
    assert_anchor_error(&h.send(&[ix], &[&buyer]).await, PaymentError::NoPrice);

    f.set_price(&mut h, PRICE, CONF, EXPO).await;
    let supply_before = token_supply(&mut h, &f.token_mint()).await;
    let ix = f.buy_credits_ix(&buyer.pubkey(), ONE_TOKEN, CREDITS_PER_TOKEN + 1);
    assert_anchor_error(
        &h.send(&[ix], &[&buyer]).await,
        PaymentError::SlippageExceeded,
    );
    let ix = f.buy_credits_ix(&buyer.pubkey(), ONE_TOKEN, CREDITS_PER_TOKEN);
    let events = h.send_events(&[ix], &[&buyer]).await.expect("buy");
    assert_eq!(
        events,
        vec![DepinEvent::CreditsBought(
            service_payments::events::CreditsBought {
                network: f.network(),
                buyer: buyer.pubkey(),
                burned: ONE_TOKEN,
                credits: CREDITS_PER_TOKEN,
            }
        )]
    );
    assert_eq!(
        h.token_balance(&f.credits_account(&buyer.pubkey())).await,
        CREDITS_PER_TOKEN
    );
    let buyer_tokens = depinkit_tests::harness::ata(&buyer.pubkey(), &f.token_mint(), &token_id());
    assert_eq!(h.token_balance(&buyer_tokens).await, 9 * ONE_TOKEN);
    assert_eq!(
        token_supply(&mut h, &f.token_mint()).await,
        supply_before - ONE_TOKEN
    );

    // Zero, dust that buys nothing, and an amount whose credits overflow u64.
    let ix = f.buy_credits_ix(&buyer.pubkey(), 0, 0);
    assert_anchor_error(&h.send(&[ix], &[&buyer]).await, PaymentError::ZeroAmount);
    let ix = f.buy_credits_ix(&buyer.pubkey(), 1, 0);
    assert_anchor_error(&h.send(&[ix], &[&buyer]).await, PaymentError::ZeroAmount);
    h.warp_seconds(1).await;
    f.set_price(&mut h, 1_000_000_000_000_000_000, 0, 0).await;
    let ix = f.buy_credits_ix(&buyer.pubkey(), u64::MAX, 0);
    assert_anchor_error(
        &h.send(&[ix], &[&buyer]).await,
        PaymentError::ArithmeticOverflow,
    );

    // A price older than the maximum age.
    h.warp_seconds(MAX_PRICE_AGE + 1).await;
    let ix = f.buy_credits_ix(&buyer.pubkey(), ONE_TOKEN, 0);
    assert_anchor_error(&h.send(&[ix], &[&buyer]).await, PaymentError::PriceTooOld);
    assert_eq!(h.token_balance(&buyer_tokens).await, 9 * ONE_TOKEN);
}

async fn token_supply(h: &mut Harness, mint: &Pubkey) -> u64 {
    let data = h.account_data(mint).await.unwrap();
    spl_token_2022_interface::state::Mint::unpack_from_slice(&data[..82])
        .unwrap()
        .supply
}

#[tokio::test]
async fn credits_cannot_be_transferred() {
    let mut h = Harness::start().await;
    let f = PaymentsFixture::create(&mut h, "nontransfer", 0).await;
    f.set_price(&mut h, PRICE, CONF, EXPO).await;
    let buyer = f.wallet_with_tokens(&mut h, ONE_TOKEN).await;
    let ix = f.buy_credits_ix(&buyer.pubkey(), ONE_TOKEN, 1);
    h.send(&[ix], &[&buyer]).await.unwrap();
    let friend = Pubkey::new_unique();
    let to = h
        .create_ata(&friend, &f.credits_mint, &token_2022_id())
        .await;
    let from = f.credits_account(&buyer.pubkey());
    let transfer = spl_token_2022_interface::instruction::transfer_checked(
        &token_2022_id(),
        &from,
        &f.credits_mint,
        &to,
        &buyer.pubkey(),
        &[],
        10,
        0,
    )
    .unwrap();
    let result = h.send(&[transfer], &[&buyer]).await;
    // Token-2022's NonTransferable error.
    let non_transferable = spl_token_2022_interface::error::TokenError::NonTransferable as u32;
    assert_anchor_error(&result, non_transferable);
    assert_eq!(h.token_balance(&from).await, CREDITS_PER_TOKEN);
    assert_eq!(h.token_balance(&to).await, 0);
}

#[tokio::test]
async fn delegated_credits_burn_on_attested_usage() {
    let mut h = Harness::start().await;
    let f = PaymentsFixture::create(&mut h, "usage", 0).await;
    f.set_price(&mut h, PRICE, CONF, EXPO).await;
    let customer = f.wallet_with_tokens(&mut h, ONE_TOKEN).await;
    let ix = f.buy_credits_ix(&customer.pubkey(), ONE_TOKEN, 1);
    h.send(&[ix], &[&customer]).await.unwrap();

    let ix = f.delegate_credits_ix(&customer.pubkey(), 0);
    assert_anchor_error(&h.send(&[ix], &[&customer]).await, PaymentError::ZeroAmount);
    let ix = f.delegate_credits_ix(&customer.pubkey(), 100_000);
    let events = h.send_events(&[ix], &[&customer]).await.expect("delegate");
    let (escrow, _) = f.usage_escrow(&customer.pubkey());
    assert_eq!(
        events,
        vec![DepinEvent::CreditsDelegated(
            service_payments::events::CreditsDelegated {
                network: f.network(),
                customer: customer.pubkey(),
                usage_escrow: escrow,
                amount: 100_000,
            }
        )]
    );
    let ix = f.delegate_credits_ix(&customer.pubkey(), 50_000);
    h.send(&[ix], &[&customer]).await.expect("delegate more");
    let (escrow, escrow_credits) = f.usage_escrow(&customer.pubkey());
    assert_eq!(h.token_balance(&escrow_credits).await, 150_000);
    assert_eq!(
        h.token_balance(&f.credits_account(&customer.pubkey()))
            .await,
        CREDITS_PER_TOKEN - 150_000
    );
    let record: UsageEscrow = h.anchor_account(&escrow).await;
    assert_eq!(record.delegated, 150_000);
    assert_eq!(record.customer, customer.pubkey());

    let oracles: Vec<Keypair> = f
        .base
        .net
        .oracles
        .iter()
        .map(|o| o.insecure_clone())
        .collect();
    let usage = BurnUsageArgs {
        epoch: 3,
        amount: 40_000,
        receipt_root: [9; 32],
    };
    // Usage counts in reward-pool epochs that have started: epoch 3 has not.
    assert_anchor_error(
        &burn_vote(&mut h, &f, &oracles[0], &customer.pubkey(), usage).await,
        PaymentError::EpochOutOfRange,
    );
    h.warp_seconds(3 * EPOCH_SECS).await;
    let future = BurnUsageArgs { epoch: 4, ..usage };
    assert_anchor_error(
        &burn_vote(&mut h, &f, &oracles[0], &customer.pubkey(), future).await,
        PaymentError::EpochOutOfRange,
    );
    // Not an oracle (funded, so it could pay for the report); more than the
    // escrow holds.
    let stranger = h.funded_wallet().await;
    assert_anchor_error(
        &burn_vote(&mut h, &f, &stranger, &customer.pubkey(), usage).await,
        PaymentError::NotAnOracle,
    );
    let too_much = BurnUsageArgs {
        amount: 150_001,
        ..usage
    };
    assert_anchor_error(
        &burn_vote(&mut h, &f, &oracles[0], &customer.pubkey(), too_much).await,
        PaymentError::UsageExceedsEscrow,
    );

    // One vote, then a disagreeing one: nothing burned.
    burn_vote(&mut h, &f, &oracles[0], &customer.pubkey(), usage)
        .await
        .expect("vote 0");
    // The same oracle again counts once.
    h.warp_seconds(1).await;
    burn_vote(&mut h, &f, &oracles[0], &customer.pubkey(), usage)
        .await
        .expect("vote 0 again");
    let report: UsageReport = h
        .anchor_account(&pda::find_usage_report_address(&escrow, 3).0)
        .await;
    assert_eq!(report.votes.len(), 1);
    assert!(!report.finalized);
    let other = BurnUsageArgs {
        amount: 39_999,
        ..usage
    };
    burn_vote(&mut h, &f, &oracles[1], &customer.pubkey(), other)
        .await
        .expect("vote 1");
    assert_eq!(h.token_balance(&escrow_credits).await, 150_000);
    // The third agrees with the first: burned.
    let ix = f.burn_usage_ix(&oracles[2].pubkey(), &customer.pubkey(), usage);
    let events = h.send_events(&[ix], &[&oracles[2]]).await.expect("vote 2");
    assert_eq!(
        events,
        vec![
            DepinEvent::UsageVoted(service_payments::events::UsageVoted {
                network: f.network(),
                usage_escrow: escrow,
                oracle: oracles[2].pubkey(),
                epoch: 3,
                amount: 40_000,
                receipt_root: [9; 32],
            }),
            DepinEvent::UsageBurned(UsageBurned {
                network: f.network(),
                usage_escrow: escrow,
                epoch: 3,
                amount: 40_000,
                receipt_root: [9; 32],
            })
        ]
    );
    assert_eq!(h.token_balance(&escrow_credits).await, 110_000);
    let report: UsageReport = h
        .anchor_account(&pda::find_usage_report_address(&escrow, 3).0)
        .await;
    assert!(report.finalized);
    assert_eq!(report.amount, 40_000);
    assert_eq!(report.receipt_root, [9; 32]);
    let epoch: EpochUsage = h
        .anchor_account(&pda::find_epoch_usage_address(&f.network(), 3).0)
        .await;
    assert_eq!(
        (epoch.credits_burned, epoch.reports, epoch.epoch),
        (40_000, 1, 3)
    );
    let record: UsageEscrow = h.anchor_account(&escrow).await;
    assert_eq!(record.burned, 40_000);
    h.warp_seconds(1).await;
    assert_anchor_error(
        &burn_vote(&mut h, &f, &oracles[1], &customer.pubkey(), usage).await,
        PaymentError::UsageAlreadyFinalized,
    );

    // The report and the epoch total stay until the pool finalizes epoch 3;
    // then anyone closes them and the rent goes back to the oracle that paid.
    let report_address = pda::find_usage_report_address(&escrow, 3).0;
    let total_address = pda::find_epoch_usage_address(&f.network(), 3).0;
    let payer = oracles[0].pubkey();
    let close_report = payments::close_usage_report(&f.keys, &customer.pubkey(), 3, &payer);
    let close_total = payments::close_epoch_usage(&f.keys, 3, &payer);
    for ix in [&close_report, &close_total] {
        assert_anchor_error(
            &h.send(std::slice::from_ref(ix), &[]).await,
            PaymentError::EpochNotFinalized,
        );
    }
    let tree = RewardTree::new([(Pubkey::new_unique(), 1)]).unwrap();
    for epoch in 0..=3 {
        f.base.finalize(&mut h, epoch, &tree).await;
    }
    let thief = Pubkey::new_unique();
    let mut to_thief = close_report.clone();
    to_thief.accounts[2].pubkey = thief;
    assert_anchor_error(
        &h.send(&[to_thief], &[]).await,
        PaymentError::WrongRentPayer,
    );
    let rent = h.lamports(&report_address).await + h.lamports(&total_address).await;
    let before = h.lamports(&payer).await;
    h.send(&[close_report, close_total], &[])
        .await
        .expect("close a finalized epoch's usage");
    assert!(h.account_data(&report_address).await.is_none());
    assert!(h.account_data(&total_address).await.is_none());
    assert_eq!(h.lamports(&payer).await - before, rent);
    // A finalized epoch's usage cannot be attested again (nor re-created).
    assert_anchor_error(
        &burn_vote(&mut h, &f, &oracles[1], &customer.pubkey(), usage).await,
        PaymentError::EpochOutOfRange,
    );
}

#[tokio::test]
async fn unused_credits_come_back_after_the_notice() {
    let mut h = Harness::start().await;
    let f = PaymentsFixture::create(&mut h, "withdraw", 0).await;
    f.set_price(&mut h, PRICE, CONF, EXPO).await;
    let customer = f.wallet_with_tokens(&mut h, ONE_TOKEN).await;
    let ix = f.buy_credits_ix(&customer.pubkey(), ONE_TOKEN, 1);
    h.send(&[ix], &[&customer]).await.unwrap();
    let ix = f.delegate_credits_ix(&customer.pubkey(), 100_000);
    h.send(&[ix], &[&customer]).await.unwrap();
    let (escrow, escrow_credits) = f.usage_escrow(&customer.pubkey());
    let wallet = f.credits_account(&customer.pubkey());
    let wallet_before = h.token_balance(&wallet).await;

    // Nothing requested yet.
    let withdraw = payments::withdraw_credits(&customer.pubkey(), &f.keys);
    assert_anchor_error(
        &h.send(std::slice::from_ref(&withdraw), &[&customer]).await,
        PaymentError::NoWithdrawalRequested,
    );
    // Only the customer asks for their credits.
    let stranger = h.funded_wallet().await;
    let mut ix = payments::request_credit_withdrawal(&customer.pubkey(), &f.keys, 100_000);
    ix.accounts[0].pubkey = stranger.pubkey();
    assert!(h.send(&[ix], &[&stranger]).await.is_err());

    let now = h.clock().await.unix_timestamp;
    let ix = payments::request_credit_withdrawal(&customer.pubkey(), &f.keys, 100_000);
    let events = h.send_events(&[ix], &[&customer]).await.unwrap();
    assert_eq!(
        events,
        vec![DepinEvent::CreditWithdrawalRequested(
            CreditWithdrawalRequested {
                network: f.network(),
                customer: customer.pubkey(),
                amount: 100_000,
                available_at: now + WITHDRAWAL_NOTICE,
            }
        )]
    );
    let record: UsageEscrow = h.anchor_account(&escrow).await;
    assert_eq!(
        record.pending_withdrawal,
        Some(PendingWithdrawal {
            amount: 100_000,
            available_at: now + WITHDRAWAL_NOTICE,
        })
    );
    assert_anchor_error(
        &h.send(std::slice::from_ref(&withdraw), &[&customer]).await,
        PaymentError::WithdrawalNotReady,
    );
    // During the notice the oracles still burn the usage already served.
    let oracles = &f.base.net.oracles;
    let usage = BurnUsageArgs {
        epoch: 0,
        amount: 30_000,
        receipt_root: [1; 32],
    };
    for oracle in &oracles[..2] {
        let ix = f.burn_usage_ix(&oracle.pubkey(), &customer.pubkey(), usage);
        h.send(&[ix], &[oracle]).await.expect("usage during notice");
    }
    h.warp_seconds(WITHDRAWAL_NOTICE).await;
    // What is left (70,000 of the 100,000 asked) comes back.
    let events = h
        .send_events(std::slice::from_ref(&withdraw), &[&customer])
        .await
        .expect("withdraw");
    assert_eq!(
        events,
        vec![DepinEvent::CreditsWithdrawn(CreditsWithdrawn {
            network: f.network(),
            customer: customer.pubkey(),
            amount: 70_000,
        })]
    );
    assert_eq!(h.token_balance(&escrow_credits).await, 0);
    assert_eq!(h.token_balance(&wallet).await, wallet_before + 70_000);
    let record: UsageEscrow = h.anchor_account(&escrow).await;
    assert_eq!(record.withdrawn, 70_000);
    assert_eq!(record.pending_withdrawal, None);
    assert_eq!(
        record.delegated,
        record.burned + record.withdrawn,
        "every delegated credit is accounted for"
    );
    // A request covers at most what the escrow holds when it is made: credits
    // delegated later are not withdrawable under it.
    let ix = f.delegate_credits_ix(&customer.pubkey(), 10);
    h.send(&[ix], &[&customer]).await.unwrap();
    let ix = payments::request_credit_withdrawal(&customer.pubkey(), &f.keys, u64::MAX);
    h.send(&[ix], &[&customer]).await.unwrap();
    let record: UsageEscrow = h.anchor_account(&escrow).await;
    assert_eq!(record.pending_withdrawal.map(|w| w.amount), Some(10));
    // A request lapses a day after its notice: it cannot be held back to pull
    // the credits out just before usage is burned.
    h.warp_seconds(WITHDRAWAL_NOTICE + service_payments::state::WITHDRAWAL_WINDOW_SECS + 1)
        .await;
    assert_anchor_error(
        &h.send(std::slice::from_ref(&withdraw), &[&customer]).await,
        PaymentError::WithdrawalExpired,
    );
    assert_eq!(h.token_balance(&escrow_credits).await, 10);
    // A request can be withdrawn with 0.
    let ix = payments::request_credit_withdrawal(&customer.pubkey(), &f.keys, 0);
    h.send(&[ix], &[&customer]).await.unwrap();
    let record: UsageEscrow = h.anchor_account(&escrow).await;
    assert_eq!(record.pending_withdrawal, None);
}

/// `oracle` votes `args` on `customer`'s usage.
async fn burn_vote(
    h: &mut Harness,
    f: &PaymentsFixture,
    oracle: &Keypair,
    customer: &Pubkey,
    args: BurnUsageArgs,
) -> Result<(), solana_program_test::BanksClientError> {
    let ix = f.burn_usage_ix(&oracle.pubkey(), customer, args);
    h.send(&[ix], &[oracle]).await
}
