//! Burn-and-mint credits: setup, price votes, buying, delegating, attested usage.

use anchor_lang::solana_program::program_pack::Pack;
use depinkit_tests::{
    Harness,
    harness::{assert_anchor_error, token_2022_id, token_id},
    payments::*,
};
use service_payments::{
    errors::PaymentError,
    instructions::{BurnUsageArgs, VotePriceArgs},
    pda,
    state::{EpochUsage, PaymentsConfig, UsageEscrow, UsageReport},
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
    assert!(
        h.account_data(&pda::find_payments_address(&net.network).0)
            .await
            .is_none()
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
    f.vote_price(&mut h, 2, b).await.unwrap();
    let config: PaymentsConfig = h.anchor_account(&f.config).await;
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
    h.send(&[ix], &[&buyer]).await.expect("buy");
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
    h.send(&[ix], &[&customer]).await.expect("delegate");
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
    assert_anchor_error(
        &burn_vote(&mut h, &f, &oracles[0], &customer.pubkey(), usage).await,
        PaymentError::AlreadyVoted,
    );
    let other = BurnUsageArgs {
        amount: 39_999,
        ..usage
    };
    burn_vote(&mut h, &f, &oracles[1], &customer.pubkey(), other)
        .await
        .expect("vote 1");
    assert_eq!(h.token_balance(&escrow_credits).await, 150_000);
    // The third agrees with the first: burned.
    burn_vote(&mut h, &f, &oracles[2], &customer.pubkey(), usage)
        .await
        .expect("vote 2");
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
