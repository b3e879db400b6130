//! Escrowed service orders: open, accept, attested settlements, cancel. Every
//! test checks conservation: what left the escrow = paid + fees + pool + refunds.

use anchor_lang::error::ErrorCode as AnchorError;
use depinkit_tests::{
    Harness,
    harness::{assert_anchor_error, ata, token_2022_id, token_id},
    payments::*,
    registry::set_device_status,
};
use device_registry::state::DeviceStatus;
use reward_pool::state::Pool;
use service_payments::{
    errors::PaymentError,
    instructions::{VoteSettlementArgs, split},
    state::{Order, OrderStatus, Provider},
};
use solana_program_test::BanksClientError;
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

/// An order's payment: the mint, its token program, and the customer.
struct Pay {
    mint: Pubkey,
    program: Pubkey,
    customer: Keypair,
}

/// A fixture with `devices` devices and a customer holding `tokens` of the
/// network token (the pool's reward mint); the treasury's account exists.
async fn setup(h: &mut Harness, seed: &str, tokens: u64) -> (PaymentsFixture, Pay) {
    let f = PaymentsFixture::create(h, seed, 3).await;
    let customer = f.wallet_with_tokens(h, tokens).await;
    h.create_ata(&f.base.net.treasury, &f.token_mint(), &token_id())
        .await;
    for d in &f.base.devices {
        h.create_ata(&d.holder.pubkey(), &f.token_mint(), &token_id())
            .await;
    }
    let pay = Pay {
        mint: f.token_mint(),
        program: token_id(),
        customer,
    };
    (f, pay)
}

/// Balances of token accounts (0 for a missing one).
async fn balances(h: &mut Harness, accounts: &[Pubkey]) -> Vec<u64> {
    let mut out = Vec::new();
    for account in accounts {
        out.push(match h.account_data(account).await {
            Some(_) => h.token_balance(account).await,
            None => 0,
        });
    }
    out
}

/// The token accounts an order's money can move between.
fn ledger_accounts(
    f: &PaymentsFixture,
    pay: &Pay,
    order_id: u64,
    holders: &[Pubkey],
) -> Vec<Pubkey> {
    let (_, escrow) = f.order_addresses(&pay.customer.pubkey(), order_id, &pay.mint, &pay.program);
    let mut accounts = vec![
        escrow,
        ata(&pay.customer.pubkey(), &pay.mint, &pay.program),
        ata(&f.base.net.treasury, &pay.mint, &pay.program),
        f.base.keys.vault,
    ];
    accounts.extend(holders.iter().map(|h| ata(h, &pay.mint, &pay.program)));
    accounts
}

/// Asserts nothing was created or lost among `accounts` between two snapshots.
fn assert_conserved(before: &[u64], after: &[u64]) {
    let sum = |v: &[u64]| v.iter().map(|x| u128::from(*x)).sum::<u128>();
    assert_eq!(
        sum(before),
        sum(after),
        "tokens conserved: {before:?} -> {after:?}"
    );
}

fn open_ix(
    f: &PaymentsFixture,
    pay: &Pay,
    order_id: u64,
    provider: Provider,
    max: u64,
    now: i64,
) -> Instruction {
    f.open_order_ix(
        &pay.customer.pubkey(),
        &pay.mint,
        &pay.program,
        order_args(order_id, provider, max, now),
    )
}

/// Oracles `voters` vote `args` on the order, naming device `provider` as held
/// by its holder (or `holder`) and the pool accounts.
#[allow(clippy::too_many_arguments)]
async fn settle(
    h: &mut Harness,
    f: &PaymentsFixture,
    pay: &Pay,
    order_id: u64,
    provider: Option<(usize, Pubkey)>,
    voters: &[usize],
    args: VoteSettlementArgs,
) -> Result<(), BanksClientError> {
    for &oracle in voters {
        let signer = &f.base.net.oracles[oracle];
        let ix = f.vote_settlement_ix(
            &signer.pubkey(),
            &pay.customer.pubkey(),
            order_id,
            &pay.mint,
            &pay.program,
            provider,
            true,
            args,
        );
        h.send(&[ix], &[signer]).await?;
    }
    Ok(())
}

fn receipt(sequence: u32, amount: u64, complete: bool) -> VoteSettlementArgs {
    VoteSettlementArgs {
        sequence,
        amount,
        receipt_hash: [sequence as u8 + 1; 32],
        complete,
    }
}

#[tokio::test]
async fn a_device_order_settles_in_parts_and_refunds_the_rest() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "order", 10_000).await;
    let now = h.clock().await.unix_timestamp;
    let device0 = Provider::Device(f.base.devices[0].device);
    let customer_lamports = h.lamports(&pay.customer.pubkey()).await;
    h.send(
        &[open_ix(&f, &pay, 1, device0, 1_000, now)],
        &[&pay.customer],
    )
    .await
    .expect("open");
    let (order, escrow) = f.order_addresses(&pay.customer.pubkey(), 1, &pay.mint, &pay.program);
    assert_eq!(h.token_balance(&escrow).await, 1_000);
    let record: Order = h.anchor_account(&order).await;
    assert_eq!(record.status, OrderStatus::Open);
    assert_eq!(record.provider, device0);

    // Before acceptance a device order cannot settle.
    let holder0 = f.base.devices[0].holder.pubkey();
    let result = settle(
        &mut h,
        &f,
        &pay,
        1,
        Some((0, holder0)),
        &[0],
        receipt(0, 400, false),
    )
    .await;
    assert_anchor_error(&result, PaymentError::OrderNotAccepted);

    let holder = f.base.devices[0].holder.insecure_clone();
    h.send(&[f.accept_order_ix(&holder0, &order, 0)], &[&holder])
        .await
        .expect("accept");
    let record: Order = h.anchor_account(&order).await;
    assert_eq!(record.status, OrderStatus::Accepted);
    assert_eq!(record.accepted_device, Some(f.base.devices[0].device));

    let ledger = ledger_accounts(&f, &pay, 1, &[holder0]);
    let before = balances(&mut h, &ledger).await;
    let pool_before: Pool = h.anchor_account(&f.base.keys.pool).await;

    // One vote is not enough; a second identical one settles 400.
    settle(
        &mut h,
        &f,
        &pay,
        1,
        Some((0, holder0)),
        &[0],
        receipt(0, 400, false),
    )
    .await
    .unwrap();
    assert_eq!(h.token_balance(&escrow).await, 1_000);
    settle(
        &mut h,
        &f,
        &pay,
        1,
        Some((0, holder0)),
        &[1],
        receipt(0, 400, false),
    )
    .await
    .unwrap();
    let parts = split(400, ORDER_FEE_BPS, POOL_SHARE_BPS, false, true);
    assert_eq!((parts.fee, parts.pool, parts.provider), (10, 39, 351));
    let mid = balances(&mut h, &ledger).await;
    assert_conserved(&before, &mid);
    assert_eq!(mid[0], 600, "escrow");
    assert_eq!(mid[2] - before[2], parts.fee, "treasury");
    assert_eq!(mid[3] - before[3], parts.pool, "pool vault");
    assert_eq!(mid[4] - before[4], parts.provider, "provider");
    let pool_after: Pool = h.anchor_account(&f.base.keys.pool).await;
    assert_eq!(
        pool_after.revenue_inflow - pool_before.revenue_inflow,
        parts.pool
    );

    // Replays and out-of-order sequence numbers are refused; so is going past max.
    let result = settle(
        &mut h,
        &f,
        &pay,
        1,
        Some((0, holder0)),
        &[0],
        receipt(0, 400, false),
    )
    .await;
    assert_anchor_error(&result, PaymentError::WrongSettlementSequence);
    let result = settle(
        &mut h,
        &f,
        &pay,
        1,
        Some((0, holder0)),
        &[0],
        receipt(1, 601, false),
    )
    .await;
    assert_anchor_error(&result, PaymentError::SettlementAboveMax);
    let stranger = h.funded_wallet().await;
    let ix = f.vote_settlement_ix(
        &stranger.pubkey(),
        &pay.customer.pubkey(),
        1,
        &pay.mint,
        &pay.program,
        Some((0, holder0)),
        true,
        receipt(1, 100, false),
    );
    assert_anchor_error(
        &h.send(&[ix], &[&stranger]).await,
        PaymentError::NotAnOracle,
    );

    // The final settlement: 300 more, complete; the remaining 300 is refunded and
    // the order and escrow are closed to the customer.
    settle(
        &mut h,
        &f,
        &pay,
        1,
        Some((0, holder0)),
        &[0, 2],
        receipt(1, 300, true),
    )
    .await
    .unwrap();
    let after = balances(&mut h, &ledger).await;
    assert_conserved(&before, &after);
    let second = split(300, ORDER_FEE_BPS, POOL_SHARE_BPS, false, true);
    assert_eq!(after[1] - before[1], 300, "refund");
    assert_eq!(after[2] - before[2], parts.fee + second.fee);
    assert_eq!(after[4] - before[4], parts.provider + second.provider);
    assert!(h.account_data(&order).await.is_none(), "order closed");
    assert!(h.account_data(&escrow).await.is_none(), "escrow closed");
    // The customer paid rent for both and got it back (they pay no tx fees here).
    assert_eq!(h.lamports(&pay.customer.pubkey()).await, customer_lamports);
}

#[tokio::test]
async fn the_new_holder_is_paid_when_the_nft_moves_after_acceptance() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "moved", 10_000).await;
    let now = h.clock().await.unix_timestamp;
    h.send(
        &[open_ix(&f, &pay, 7, Provider::AnyDevice, 500, now)],
        &[&pay.customer],
    )
    .await
    .unwrap();
    let (order, _) = f.order_addresses(&pay.customer.pubkey(), 7, &pay.mint, &pay.program);
    let seller = f.base.devices[1].holder.insecure_clone();
    h.send(
        &[f.accept_order_ix(&seller.pubkey(), &order, 1)],
        &[&seller],
    )
    .await
    .expect("any device accepts");
    let buyer = h.funded_wallet().await;
    h.transfer_nft(&f.base.devices[1].mint, &seller, &buyer.pubkey())
        .await;
    h.create_ata(&buyer.pubkey(), &pay.mint, &pay.program).await;
    let ledger = ledger_accounts(&f, &pay, 7, &[seller.pubkey(), buyer.pubkey()]);
    let before = balances(&mut h, &ledger).await;

    // A first vote needs no provider accounts to be right: nothing is paid yet.
    settle(
        &mut h,
        &f,
        &pay,
        7,
        Some((1, seller.pubkey())),
        &[0],
        receipt(0, 500, true),
    )
    .await
    .expect("first vote");
    // The finalizing vote naming the seller: their NFT account is empty now.
    let result = settle(
        &mut h,
        &f,
        &pay,
        7,
        Some((1, seller.pubkey())),
        &[1],
        receipt(0, 500, true),
    )
    .await;
    assert_anchor_error(&result, PaymentError::WrongProviderAccounts);
    // Naming another device than the accepting one.
    let holder0 = f.base.devices[0].holder.pubkey();
    let result = settle(
        &mut h,
        &f,
        &pay,
        7,
        Some((0, holder0)),
        &[1],
        receipt(0, 500, true),
    )
    .await;
    assert_anchor_error(&result, PaymentError::WrongProviderAccounts);
    // The buyer is paid.
    settle(
        &mut h,
        &f,
        &pay,
        7,
        Some((1, buyer.pubkey())),
        &[1],
        receipt(0, 500, true),
    )
    .await
    .expect("settle to the buyer");
    let after = balances(&mut h, &ledger).await;
    assert_conserved(&before, &after);
    let parts = split(500, ORDER_FEE_BPS, POOL_SHARE_BPS, false, true);
    assert_eq!(after[4], before[4], "seller got nothing");
    assert_eq!(after[5] - before[5], parts.provider, "buyer paid");
}

#[tokio::test]
async fn acceptance_rules() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "accept", 10_000).await;
    let now = h.clock().await.unix_timestamp;
    let device0 = Provider::Device(f.base.devices[0].device);
    h.send(&[open_ix(&f, &pay, 1, device0, 100, now)], &[&pay.customer])
        .await
        .unwrap();
    let (order, _) = f.order_addresses(&pay.customer.pubkey(), 1, &pay.mint, &pay.program);
    let holder1 = f.base.devices[1].holder.insecure_clone();
    // Another device's holder, for an order naming device 0.
    let result = h
        .send(
            &[f.accept_order_ix(&holder1.pubkey(), &order, 1)],
            &[&holder1],
        )
        .await;
    assert_anchor_error(&result, PaymentError::WrongProviderDevice);
    // Someone who does not hold device 0's NFT.
    h.create_ata(&holder1.pubkey(), &f.base.devices[0].mint, &token_2022_id())
        .await;
    let result = h
        .send(
            &[f.accept_order_ix(&holder1.pubkey(), &order, 0)],
            &[&holder1],
        )
        .await;
    assert_anchor_error(&result, PaymentError::NotDeviceHolder);
    // A suspended device.
    let net = &f.base.net;
    let suspend = set_device_status(
        &net.authority.pubkey(),
        &net.network,
        &f.base.devices[0].device,
        DeviceStatus::Suspended,
    );
    h.send(&[suspend], &[&net.authority]).await.unwrap();
    let holder0 = f.base.devices[0].holder.insecure_clone();
    let result = h
        .send(
            &[f.accept_order_ix(&holder0.pubkey(), &order, 0)],
            &[&holder0],
        )
        .await;
    assert_anchor_error(&result, PaymentError::DeviceSuspended);
    let resume = set_device_status(
        &net.authority.pubkey(),
        &net.network,
        &f.base.devices[0].device,
        DeviceStatus::Active,
    );
    h.send(&[resume], &[&net.authority]).await.unwrap();
    // After the deadline.
    h.warp_seconds(3_601).await;
    let result = h
        .send(
            &[f.accept_order_ix(&holder0.pubkey(), &order, 0)],
            &[&holder0],
        )
        .await;
    assert_anchor_error(&result, PaymentError::OrderExpired);
    // Accepting twice.
    let now = h.clock().await.unix_timestamp;
    h.send(&[open_ix(&f, &pay, 2, device0, 100, now)], &[&pay.customer])
        .await
        .unwrap();
    let (order2, _) = f.order_addresses(&pay.customer.pubkey(), 2, &pay.mint, &pay.program);
    h.send(
        &[f.accept_order_ix(&holder0.pubkey(), &order2, 0)],
        &[&holder0],
    )
    .await
    .unwrap();
    h.warp_seconds(1).await;
    let result = h
        .send(
            &[f.accept_order_ix(&holder0.pubkey(), &order2, 0)],
            &[&holder0],
        )
        .await;
    assert_anchor_error(&result, PaymentError::OrderNotOpen);
    // A device of another network.
    let other = PaymentsFixture::create(&mut h, "accept-2", 1).await;
    let other_holder = other.base.devices[0].holder.insecure_clone();
    let mut ix = other.accept_order_ix(&other_holder.pubkey(), &order2, 0);
    ix.accounts[1].pubkey = order2;
    let result = h.send(&[ix], &[&other_holder]).await;
    assert_anchor_error(&result, PaymentError::WrongNetwork);
    // Conservation: refusals moved nothing; both escrows hold what was escrowed.
    for id in [1, 2] {
        let (_, escrow) = f.order_addresses(&pay.customer.pubkey(), id, &pay.mint, &pay.program);
        assert_eq!(h.token_balance(&escrow).await, 100);
    }
    let wallet = ata(&pay.customer.pubkey(), &pay.mint, &pay.program);
    assert_eq!(h.token_balance(&wallet).await, 10_000 - 200);
}

#[tokio::test]
async fn network_orders_settle_into_the_reward_pool() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "network", 10_000).await;
    let now = h.clock().await.unix_timestamp;
    h.send(
        &[open_ix(&f, &pay, 3, Provider::Network, 2_000, now)],
        &[&pay.customer],
    )
    .await
    .unwrap();
    let (order, _) = f.order_addresses(&pay.customer.pubkey(), 3, &pay.mint, &pay.program);
    let holder0 = f.base.devices[0].holder.insecure_clone();
    let result = h
        .send(
            &[f.accept_order_ix(&holder0.pubkey(), &order, 0)],
            &[&holder0],
        )
        .await;
    assert_anchor_error(&result, PaymentError::NotAcceptable);

    let ledger = ledger_accounts(&f, &pay, 3, &[]);
    let before = balances(&mut h, &ledger).await;
    settle(&mut h, &f, &pay, 3, None, &[0, 1], receipt(0, 2_000, true))
        .await
        .expect("settle into the pool");
    let after = balances(&mut h, &ledger).await;
    assert_conserved(&before, &after);
    let parts = split(2_000, ORDER_FEE_BPS, POOL_SHARE_BPS, true, true);
    assert_eq!((parts.fee, parts.pool, parts.provider), (50, 1_950, 0));
    assert_eq!(after[3] - before[3], 1_950);
    assert_eq!(after[2] - before[2], 50);
    assert!(h.account_data(&order).await.is_none());

    // Network orders must be paid in the reward mint.
    let payer = h.payer().insecure_clone();
    let usd = h.create_mint(&token_2022_id(), &payer.pubkey(), 6).await;
    let account = h
        .create_ata(&pay.customer.pubkey(), &usd, &token_2022_id())
        .await;
    h.mint_to(&token_2022_id(), &usd, &account, &payer, 1_000)
        .await;
    let ix = f.open_order_ix(
        &pay.customer.pubkey(),
        &usd,
        &token_2022_id(),
        order_args(4, Provider::Network, 1_000, now),
    );
    assert_anchor_error(
        &h.send(&[ix], &[&pay.customer]).await,
        PaymentError::NetworkOrderNeedsRewardMint,
    );
}

#[tokio::test]
async fn cancel_rules_and_settling_a_cancelled_order() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "cancel", 10_000).await;
    let now = h.clock().await.unix_timestamp;
    let customer = pay.customer.insecure_clone();
    let ledger = ledger_accounts(&f, &pay, 1, &[]);
    let before = balances(&mut h, &ledger).await;
    h.send(
        &[open_ix(&f, &pay, 1, Provider::AnyDevice, 700, now)],
        &[&customer],
    )
    .await
    .unwrap();
    // Only the customer cancels.
    let stranger = h.funded_wallet().await;
    let mut ix = f.cancel_order_ix(&customer.pubkey(), 1, &pay.mint, &pay.program);
    ix.accounts[0].pubkey = stranger.pubkey();
    assert_anchor_error(
        &h.send(&[ix], &[&stranger]).await,
        AnchorError::ConstraintHasOne as u32,
    );
    // Before acceptance: refunded in full, accounts closed.
    h.send(
        &[f.cancel_order_ix(&customer.pubkey(), 1, &pay.mint, &pay.program)],
        &[&customer],
    )
    .await
    .expect("cancel");
    let after = balances(&mut h, &ledger).await;
    assert_eq!(before, after, "refunded in full");
    let (order, escrow) = f.order_addresses(&customer.pubkey(), 1, &pay.mint, &pay.program);
    assert!(h.account_data(&order).await.is_none());
    assert!(h.account_data(&escrow).await.is_none());
    // Settling a cancelled (closed) order fails: the account no longer exists.
    let result = settle(&mut h, &f, &pay, 1, None, &[0], receipt(0, 100, false)).await;
    assert_anchor_error(&result, AnchorError::AccountNotInitialized as u32);

    // Accepted: no cancel before the deadline; after it, not while a vote is
    // pending; then yes.
    h.send(
        &[open_ix(&f, &pay, 2, Provider::AnyDevice, 700, now)],
        &[&customer],
    )
    .await
    .unwrap();
    let (order2, _) = f.order_addresses(&customer.pubkey(), 2, &pay.mint, &pay.program);
    let holder0 = f.base.devices[0].holder.insecure_clone();
    h.send(
        &[f.accept_order_ix(&holder0.pubkey(), &order2, 0)],
        &[&holder0],
    )
    .await
    .unwrap();
    let cancel2 = f.cancel_order_ix(&customer.pubkey(), 2, &pay.mint, &pay.program);
    assert_anchor_error(
        &h.send(std::slice::from_ref(&cancel2), &[&customer]).await,
        PaymentError::CancelAfterAcceptance,
    );
    settle(
        &mut h,
        &f,
        &pay,
        2,
        Some((0, holder0.pubkey())),
        &[0],
        receipt(0, 100, false),
    )
    .await
    .unwrap();
    h.warp_seconds(3_601).await;
    assert_anchor_error(
        &h.send(std::slice::from_ref(&cancel2), &[&customer]).await,
        PaymentError::SettlementPending,
    );
    // The pending vote completes; then the customer cancels the rest.
    settle(
        &mut h,
        &f,
        &pay,
        2,
        Some((0, holder0.pubkey())),
        &[1],
        receipt(0, 100, false),
    )
    .await
    .unwrap();
    let ledger2 = ledger_accounts(&f, &pay, 2, &[holder0.pubkey()]);
    let mid = balances(&mut h, &ledger2).await;
    h.send(&[cancel2], &[&customer])
        .await
        .expect("cancel after deadline");
    let end = balances(&mut h, &ledger2).await;
    assert_conserved(&mid, &end);
    assert_eq!(end[1] - mid[1], 600, "the unsettled rest is refunded");
}

#[tokio::test]
async fn wrong_mints_and_accounts_are_refused() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "mints", 10_000).await;
    let now = h.clock().await.unix_timestamp;
    // Paying from an account of another mint.
    let payer = h.payer().insecure_clone();
    let other = h.create_mint(&token_id(), &payer.pubkey(), 6).await;
    let mut ix = open_ix(&f, &pay, 1, Provider::AnyDevice, 100, now);
    ix.accounts[4].pubkey = h
        .create_ata(&pay.customer.pubkey(), &other, &token_id())
        .await;
    assert_anchor_error(
        &h.send(&[ix], &[&pay.customer]).await,
        PaymentError::WrongPaymentMint,
    );
    // Zero amount and past deadline.
    let mut args = order_args(1, Provider::AnyDevice, 0, now);
    let ix = f.open_order_ix(
        &pay.customer.pubkey(),
        &pay.mint,
        &pay.program,
        args.clone(),
    );
    assert_anchor_error(
        &h.send(&[ix], &[&pay.customer]).await,
        PaymentError::ZeroAmount,
    );
    args.max_amount = 5;
    args.deadline = now;
    let ix = f.open_order_ix(&pay.customer.pubkey(), &pay.mint, &pay.program, args);
    assert_anchor_error(
        &h.send(&[ix], &[&pay.customer]).await,
        PaymentError::InvalidDeadline,
    );

    // The fee into an account that is not the treasury's.
    h.send(
        &[open_ix(&f, &pay, 2, Provider::Network, 100, now)],
        &[&pay.customer],
    )
    .await
    .unwrap();
    let oracle = &f.base.net.oracles[0];
    let mut ix = f.vote_settlement_ix(
        &oracle.pubkey(),
        &pay.customer.pubkey(),
        2,
        &pay.mint,
        &pay.program,
        None,
        true,
        receipt(0, 100, true),
    );
    ix.accounts[9].pubkey = ata(&f.base.devices[0].holder.pubkey(), &pay.mint, &pay.program);
    assert_anchor_error(
        &h.send(&[ix], &[oracle]).await,
        PaymentError::WrongTreasuryAccount,
    );
    // Pool accounts missing when the pool is owed its part.
    for oracle in 0..2 {
        let signer = &f.base.net.oracles[oracle];
        let ix = f.vote_settlement_ix(
            &signer.pubkey(),
            &pay.customer.pubkey(),
            2,
            &pay.mint,
            &pay.program,
            None,
            false,
            receipt(0, 100, true),
        );
        let result = h.send(&[ix], &[signer]).await;
        if oracle == 1 {
            assert_anchor_error(&result, PaymentError::WrongPoolAccounts);
        } else {
            result.unwrap();
        }
    }
    // Conservation: the refused settlement moved nothing.
    let (_, escrow) = f.order_addresses(&pay.customer.pubkey(), 2, &pay.mint, &pay.program);
    assert_eq!(h.token_balance(&escrow).await, 100);
    let wallet = ata(&pay.customer.pubkey(), &pay.mint, &pay.program);
    assert_eq!(h.token_balance(&wallet).await, 10_000 - 100);
}

#[tokio::test]
async fn u64_limits_in_a_token_2022_payment_mint() {
    let mut h = Harness::start().await;
    let (f, _) = setup(&mut h, "limits", 0).await;
    // A Token-2022 payment mint that is not the pool's: no pool share.
    let payer = h.payer().insecure_clone();
    let usd = h.create_mint(&token_2022_id(), &payer.pubkey(), 6).await;
    let customer = h.funded_wallet().await;
    let account = h
        .create_ata(&customer.pubkey(), &usd, &token_2022_id())
        .await;
    h.mint_to(&token_2022_id(), &usd, &account, &payer, u64::MAX)
        .await;
    h.create_ata(&f.base.net.treasury, &usd, &token_2022_id())
        .await;
    let holder0 = f.base.devices[0].holder.insecure_clone();
    h.create_ata(&holder0.pubkey(), &usd, &token_2022_id())
        .await;
    let pay = Pay {
        mint: usd,
        program: token_2022_id(),
        customer,
    };
    let now = h.clock().await.unix_timestamp;
    h.send(
        &[open_ix(&f, &pay, 9, Provider::AnyDevice, u64::MAX, now)],
        &[&pay.customer],
    )
    .await
    .expect("open at u64::MAX");
    let (order, _) = f.order_addresses(&pay.customer.pubkey(), 9, &pay.mint, &pay.program);
    h.send(
        &[f.accept_order_ix(&holder0.pubkey(), &order, 0)],
        &[&holder0],
    )
    .await
    .unwrap();
    let ledger = ledger_accounts(&f, &pay, 9, &[holder0.pubkey()]);
    let before = balances(&mut h, &ledger).await;
    settle(
        &mut h,
        &f,
        &pay,
        9,
        Some((0, holder0.pubkey())),
        &[0, 1],
        receipt(0, u64::MAX - 1, false),
    )
    .await
    .expect("settle u64::MAX - 1");
    let result = settle(
        &mut h,
        &f,
        &pay,
        9,
        Some((0, holder0.pubkey())),
        &[0],
        receipt(1, 2, false),
    )
    .await;
    assert_anchor_error(&result, PaymentError::SettlementAboveMax);
    settle(
        &mut h,
        &f,
        &pay,
        9,
        Some((0, holder0.pubkey())),
        &[0, 1],
        receipt(1, 1, false),
    )
    .await
    .expect("the last unit completes the order");
    let after = balances(&mut h, &ledger).await;
    assert_conserved(&before, &after);
    let a = split(u64::MAX - 1, ORDER_FEE_BPS, POOL_SHARE_BPS, false, false);
    let b = split(1, ORDER_FEE_BPS, POOL_SHARE_BPS, false, false);
    assert_eq!(a.pool + b.pool, 0);
    assert_eq!(after[2] - before[2], a.fee + b.fee);
    assert_eq!(after[4] - before[4], a.provider + b.provider);
    assert_eq!(after[1], 0, "nothing left to refund");
    assert!(
        h.account_data(&order).await.is_none(),
        "fully spent orders close"
    );
}
