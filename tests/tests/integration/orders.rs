//! Escrowed service orders through their whole lifecycle (documented on
//! `OrderStatus`): open, accept, attested settlements until the service
//! deadline, complete or cancel. Every test checks conservation: what left the
//! escrow = paid + fees + pool + refunds.

use anchor_lang::error::ErrorCode as AnchorError;
use depinkit_sdk::events::DepinEvent;
use depinkit_tests::{
    Harness,
    harness::{MintExtension, assert_anchor_error, ata, token_2022_id, token_id},
    payments::*,
    registry::set_device_status,
};
use device_registry::state::DeviceStatus;
use reward_pool::state::Pool;
use service_payments::{
    errors::PaymentError,
    events::{
        OrderAccepted, OrderCancelled, OrderExtended, OrderOpened, OrderSettled, SettlementVoted,
    },
    instructions::{ExtendOrderArgs, UpdatePaymentsArgs, VoteSettlementArgs, split},
    state::{Order, OrderStatus, Provider, SETTLEMENT_GRACE_SECS},
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
    mut args: VoteSettlementArgs,
) -> Result<(), BanksClientError> {
    // Votes name the order's opening slot, as an oracle reads it from the chain.
    let (order, _) = f.order_addresses(&pay.customer.pubkey(), order_id, &pay.mint, &pay.program);
    if h.account_data(&order).await.is_some() {
        args.opened_slot = h.anchor_account::<Order>(&order).await.opened_slot;
    }
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

/// A settlement receipt; [`settle`] fills in the order's opening slot.
fn receipt(sequence: u32, amount: u64, complete: bool) -> VoteSettlementArgs {
    VoteSettlementArgs {
        opened_slot: 0,
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
    let events = h
        .send_events(
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
    assert_eq!(record.fee_bps, ORDER_FEE_BPS);
    assert_eq!(record.pool_share_bps, POOL_SHARE_BPS);
    assert_eq!(record.accept_deadline, now + ACCEPT_WITHIN);
    assert_eq!(record.service_deadline, now + SERVE_WITHIN);
    assert_eq!(
        events,
        vec![DepinEvent::OrderOpened(OrderOpened {
            order,
            network: f.network(),
            customer: pay.customer.pubkey(),
            order_id: 1,
            provider: device0,
            payment_mint: pay.mint,
            max_amount: 1_000,
            accept_deadline: now + ACCEPT_WITHIN,
            service_deadline: now + SERVE_WITHIN,
            spec_hash: [7; 32],
            opened_slot: record.opened_slot,
        })]
    );

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
    let events = h
        .send_events(&[f.accept_order_ix(&holder0, &order, 0)], &[&holder])
        .await
        .expect("accept");
    assert_eq!(
        events,
        vec![DepinEvent::OrderAccepted(OrderAccepted {
            order,
            accepted_by: holder0,
            device: Some(f.base.devices[0].device),
        })]
    );
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
        &[0],
        receipt(1, 300, true),
    )
    .await
    .unwrap();
    let oracle2 = &f.base.net.oracles[2];
    let mut last = receipt(1, 300, true);
    last.opened_slot = record.opened_slot;
    let ix = f.vote_settlement_ix(
        &oracle2.pubkey(),
        &pay.customer.pubkey(),
        1,
        &pay.mint,
        &pay.program,
        Some((0, holder0)),
        true,
        last,
    );
    let events = h.send_events(&[ix], &[oracle2]).await.unwrap();
    assert_eq!(
        events[0],
        DepinEvent::SettlementVoted(SettlementVoted {
            order,
            oracle: oracle2.pubkey(),
            sequence: 1,
            amount: 300,
            receipt_hash: last.receipt_hash,
            complete: true,
        })
    );
    let second = split(300, ORDER_FEE_BPS, POOL_SHARE_BPS, false, true);
    let settled = events
        .iter()
        .find_map(|e| match e {
            DepinEvent::OrderSettled(s) => Some(s.clone()),
            _ => None,
        })
        .expect("OrderSettled");
    assert_eq!(
        settled,
        OrderSettled {
            order,
            sequence: 1,
            amount: 300,
            fee: second.fee,
            pool: second.pool,
            provider: second.provider,
            receipt_hash: last.receipt_hash,
            refunded: 300,
            closed: true,
        }
    );
    // The pool's share arrived through the reward pool, which says so too.
    assert!(events.iter().any(|e| matches!(
        e,
        DepinEvent::PoolFunded(funded) if funded.amount == second.pool && funded.funder == order
    )));
    let after = balances(&mut h, &ledger).await;
    assert_conserved(&before, &after);
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
    // A device of another network, for an open order of this one.
    h.send(&[open_ix(&f, &pay, 3, device0, 1, now)], &[&pay.customer])
        .await
        .unwrap();
    let (order3, _) = f.order_addresses(&pay.customer.pubkey(), 3, &pay.mint, &pay.program);
    let other = PaymentsFixture::create(&mut h, "accept-2", 1).await;
    let other_holder = other.base.devices[0].holder.insecure_clone();
    let mut ix = other.accept_order_ix(&other_holder.pubkey(), &order3, 0);
    ix.accounts[1].pubkey = f.network();
    let result = h.send(&[ix], &[&other_holder]).await;
    assert_anchor_error(&result, PaymentError::WrongNetwork);
    // A device order without the device's accounts.
    let ix = f.accept_network_order_ix(&holder0.pubkey(), &order3);
    let result = h.send(&[ix], &[&holder0]).await;
    assert_anchor_error(&result, PaymentError::WrongProviderAccounts);
    // Conservation: refusals moved nothing; both escrows hold what was escrowed.
    for id in [1, 2] {
        let (_, escrow) = f.order_addresses(&pay.customer.pubkey(), id, &pay.mint, &pay.program);
        assert_eq!(h.token_balance(&escrow).await, 100);
    }
    let wallet = ata(&pay.customer.pubkey(), &pay.mint, &pay.program);
    assert_eq!(h.token_balance(&wallet).await, 10_000 - 201);
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
    // The network serves it: a device's holder cannot accept it, an oracle does.
    let holder0 = f.base.devices[0].holder.insecure_clone();
    let result = h
        .send(
            &[f.accept_network_order_ix(&holder0.pubkey(), &order)],
            &[&holder0],
        )
        .await;
    assert_anchor_error(&result, PaymentError::NotAnOracle);
    // Not settled before an oracle accepts it.
    let result = settle(&mut h, &f, &pay, 3, None, &[0], receipt(0, 2_000, true)).await;
    assert_anchor_error(&result, PaymentError::OrderNotAccepted);
    let oracle = &f.base.net.oracles[2];
    let events = h
        .send_events(
            &[f.accept_network_order_ix(&oracle.pubkey(), &order)],
            &[oracle],
        )
        .await
        .expect("an oracle accepts for the network");
    assert_eq!(
        events,
        vec![DepinEvent::OrderAccepted(OrderAccepted {
            order,
            accepted_by: oracle.pubkey(),
            device: None,
        })]
    );

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
    let (order, escrow) = f.order_addresses(&customer.pubkey(), 1, &pay.mint, &pay.program);
    let events = h
        .send_events(
            &[f.cancel_order_ix(&customer.pubkey(), 1, &pay.mint, &pay.program)],
            &[&customer],
        )
        .await
        .expect("cancel");
    assert_eq!(
        events,
        vec![DepinEvent::OrderCancelled(OrderCancelled {
            order,
            refunded: 700,
        })]
    );
    let after = balances(&mut h, &ledger).await;
    assert_eq!(before, after, "refunded in full");
    assert!(h.account_data(&order).await.is_none());
    assert!(h.account_data(&escrow).await.is_none());
    // Settling a cancelled (closed) order fails: the account no longer exists.
    let result = settle(&mut h, &f, &pay, 1, None, &[0], receipt(0, 100, false)).await;
    assert_anchor_error(&result, AnchorError::AccountNotInitialized as u32);

    // Accepted: no cancel before the service deadline, even after the
    // acceptance deadline; settlements go on until the service deadline
    // and its grace.
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
    h.warp_seconds(ACCEPT_WITHIN + 1).await;
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
        &[0, 1],
        receipt(0, 100, false),
    )
    .await
    .expect("settled after the acceptance deadline, before the service deadline");

    // Past the service deadline, within the settlement grace: service
    // delivered before the deadline is still settled, and the customer
    // cannot cancel yet.
    h.warp_seconds(SERVE_WITHIN - ACCEPT_WITHIN).await;
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
        &[0, 1],
        receipt(1, 50, false),
    )
    .await
    .expect("settled within the grace after the service deadline");

    // A single vote (one oracle's, say a removed one's) is left pending. It
    // never locks the refund: after the grace votes are refused and the
    // customer cancels whatever is pending.
    settle(
        &mut h,
        &f,
        &pay,
        2,
        Some((0, holder0.pubkey())),
        &[0],
        receipt(2, 50, false),
    )
    .await
    .unwrap();
    let record: Order = h.anchor_account(&order2).await;
    assert_eq!(record.votes.len(), 1);
    h.warp_seconds(SETTLEMENT_GRACE_SECS).await;
    let result = settle(
        &mut h,
        &f,
        &pay,
        2,
        Some((0, holder0.pubkey())),
        &[1],
        receipt(2, 50, false),
    )
    .await;
    assert_anchor_error(&result, PaymentError::ServiceDeadlinePassed);
    let ledger2 = ledger_accounts(&f, &pay, 2, &[holder0.pubkey()]);
    let mid = balances(&mut h, &ledger2).await;
    h.send(&[cancel2], &[&customer])
        .await
        .expect("cancel after the service deadline and the grace");
    let end = balances(&mut h, &ledger2).await;
    assert_conserved(&mid, &end);
    assert_eq!(end[1] - mid[1], 550, "the unsettled rest is refunded");
    assert!(h.account_data(&order2).await.is_none());
}

#[tokio::test]
async fn network_orders_cannot_be_cancelled_once_the_network_serves_them() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "net-cancel", 10_000).await;
    let now = h.clock().await.unix_timestamp;
    let customer = pay.customer.insecure_clone();
    // Open and not yet accepted: the customer may cancel.
    h.send(
        &[open_ix(&f, &pay, 1, Provider::Network, 500, now)],
        &[&customer],
    )
    .await
    .unwrap();
    h.send(
        &[f.cancel_order_ix(&customer.pubkey(), 1, &pay.mint, &pay.program)],
        &[&customer],
    )
    .await
    .expect("cancel before the network starts");
    // Accepted by an oracle (the network starts serving): no cancel until the
    // service deadline, even with no settlement yet.
    h.send(
        &[open_ix(&f, &pay, 2, Provider::Network, 500, now)],
        &[&customer],
    )
    .await
    .unwrap();
    let (order, _) = f.order_addresses(&customer.pubkey(), 2, &pay.mint, &pay.program);
    let oracle = &f.base.net.oracles[0];
    h.send(
        &[f.accept_network_order_ix(&oracle.pubkey(), &order)],
        &[oracle],
    )
    .await
    .unwrap();
    let cancel = f.cancel_order_ix(&customer.pubkey(), 2, &pay.mint, &pay.program);
    assert_anchor_error(
        &h.send(std::slice::from_ref(&cancel), &[&customer]).await,
        PaymentError::CancelAfterAcceptance,
    );
    let record: Order = h.anchor_account(&order).await;
    assert_eq!(record.status, OrderStatus::Accepted);
    assert_eq!(record.accepted_device, None);
    h.warp_seconds(SERVE_WITHIN + SETTLEMENT_GRACE_SECS + 1)
        .await;
    let wallet = ata(&customer.pubkey(), &pay.mint, &pay.program);
    let before = h.token_balance(&wallet).await;
    h.send(&[cancel], &[&customer])
        .await
        .expect("cancel after the service deadline");
    assert_eq!(h.token_balance(&wallet).await - before, 500);
}

#[tokio::test]
async fn a_delayed_vote_for_an_earlier_order_under_the_same_id_does_not_count() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "reuse", 10_000).await;
    let customer = pay.customer.insecure_clone();
    let holder0 = f.base.devices[0].holder.insecure_clone();
    let (order, _) = f.order_addresses(&customer.pubkey(), 5, &pay.mint, &pay.program);
    let open_and_accept = |now: i64| {
        [
            open_ix(&f, &pay, 5, Provider::AnyDevice, 1_000, now),
            f.accept_order_ix(&holder0.pubkey(), &order, 0),
        ]
    };
    let now = h.clock().await.unix_timestamp;
    h.send(&open_and_accept(now), &[&customer, &holder0])
        .await
        .unwrap();
    let first: Order = h.anchor_account(&order).await;
    // An oracle signs a settlement of the first order; it is delayed.
    let mut stale = receipt(0, 1_000, true);
    stale.opened_slot = first.opened_slot;
    let oracles = &f.base.net.oracles;
    let vote = |oracle: usize, args: VoteSettlementArgs| {
        f.vote_settlement_ix(
            &oracles[oracle].pubkey(),
            &customer.pubkey(),
            5,
            &pay.mint,
            &pay.program,
            Some((0, holder0.pubkey())),
            true,
            args,
        )
    };
    h.send(&[vote(0, stale)], &[&oracles[0]]).await.unwrap();
    // The first order ends (cancelled after its service deadline) and the
    // customer opens another under the same id, accepted by the same device.
    h.warp_seconds(SERVE_WITHIN + SETTLEMENT_GRACE_SECS + 1)
        .await;
    h.send(
        &[f.cancel_order_ix(&customer.pubkey(), 5, &pay.mint, &pay.program)],
        &[&customer],
    )
    .await
    .unwrap();
    let now = h.clock().await.unix_timestamp;
    h.send(&open_and_accept(now), &[&customer, &holder0])
        .await
        .unwrap();
    let second: Order = h.anchor_account(&order).await;
    assert_ne!(second.opened_slot, first.opened_slot);
    // The delayed vote (and its twin from another oracle) lands now: refused.
    let (_, escrow) = f.order_addresses(&customer.pubkey(), 5, &pay.mint, &pay.program);
    for oracle in [0, 1] {
        assert_anchor_error(
            &h.send(&[vote(oracle, stale)], &[&oracles[oracle]]).await,
            PaymentError::WrongOrderInstance,
        );
    }
    assert_eq!(h.token_balance(&escrow).await, 1_000);
    let record: Order = h.anchor_account(&order).await;
    assert!(record.votes.is_empty());
}

#[tokio::test]
async fn an_escrow_created_first_by_someone_else_does_not_block_the_order() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "escrow-squat", 10_000).await;
    let customer = pay.customer.insecure_clone();
    let (order, escrow) = f.order_addresses(&customer.pubkey(), 11, &pay.mint, &pay.program);
    // A griefer creates the escrow address of the customer's next order and
    // sends it dust.
    h.create_ata(&order, &pay.mint, &pay.program).await;
    let payer = h.payer().insecure_clone();
    h.mint_to(&pay.program, &pay.mint, &escrow, &payer, 3).await;
    let now = h.clock().await.unix_timestamp;
    h.send(
        &[open_ix(&f, &pay, 11, Provider::AnyDevice, 200, now)],
        &[&customer],
    )
    .await
    .expect("the order opens over the existing escrow");
    assert_eq!(h.token_balance(&escrow).await, 203);
    // Cancelled, the customer gets everything in the escrow, dust included.
    let wallet = ata(&customer.pubkey(), &pay.mint, &pay.program);
    let before = h.token_balance(&wallet).await;
    h.send(
        &[f.cancel_order_ix(&customer.pubkey(), 11, &pay.mint, &pay.program)],
        &[&customer],
    )
    .await
    .unwrap();
    assert_eq!(h.token_balance(&wallet).await - before, 203);
    assert!(h.account_data(&escrow).await.is_none());

    // An account at the escrow address the order does not fully control (a
    // close authority, written into the bank: only the order could sign one).
    let (order12, escrow12) = f.order_addresses(&customer.pubkey(), 12, &pay.mint, &pay.program);
    h.create_ata(&order12, &pay.mint, &pay.program).await;
    let mut account = h
        .ctx
        .banks_client
        .get_account(escrow12)
        .await
        .unwrap()
        .unwrap();
    account.data[129..133].copy_from_slice(&1u32.to_le_bytes());
    account.data[133..165].copy_from_slice(Pubkey::new_unique().as_ref());
    h.ctx.set_account(&escrow12, &account.into());
    let result = h
        .send(
            &[open_ix(&f, &pay, 12, Provider::AnyDevice, 200, now)],
            &[&customer],
        )
        .await;
    assert_anchor_error(&result, PaymentError::EscrowNotControlled);
    assert!(h.account_data(&order12).await.is_none());
    assert_eq!(h.token_balance(&wallet).await, 10_003);
}

#[tokio::test]
async fn payment_mints_that_can_take_custody_back_are_refused() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "custody", 0).await;
    let customer = pay.customer.insecure_clone();
    let payer = h.payer().insecure_clone();
    let now = h.clock().await.unix_timestamp;
    // A permanent delegate could pull the escrow back after a device accepted;
    // a transfer fee, hook, pause, frozen default or non-transferable flag
    // breaks accounting or locks the escrow.
    for (id, extension) in MintExtension::UNSAFE.into_iter().enumerate() {
        let mint = h.create_mint_2022(&payer.pubkey(), 6, &[extension]).await;
        h.create_ata(&customer.pubkey(), &mint, &token_2022_id())
            .await;
        let ix = f.open_order_ix(
            &customer.pubkey(),
            &mint,
            &token_2022_id(),
            order_args(id as u64, Provider::AnyDevice, 100, now),
        );
        assert_anchor_error(
            &h.send(&[ix], &[&customer]).await,
            PaymentError::UnsupportedMint,
        );
        let (order, _) = f.order_addresses(&customer.pubkey(), id as u64, &mint, &token_2022_id());
        assert!(h.account_data(&order).await.is_none(), "{extension:?}");
    }
    // A Token-2022 mint with only metadata is accepted.
    let mint = h
        .create_mint_2022(&payer.pubkey(), 6, &[MintExtension::MetadataPointer])
        .await;
    let account = h
        .create_ata(&customer.pubkey(), &mint, &token_2022_id())
        .await;
    h.mint_to(&token_2022_id(), &mint, &account, &payer, 100)
        .await;
    let ix = f.open_order_ix(
        &customer.pubkey(),
        &mint,
        &token_2022_id(),
        order_args(99, Provider::AnyDevice, 100, now),
    );
    h.send(&[ix], &[&customer])
        .await
        .expect("metadata-only mint");
}

#[tokio::test]
async fn each_order_keeps_the_fee_it_was_opened_with() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "fee-kept", 10_000).await;
    let now = h.clock().await.unix_timestamp;
    h.send(
        &[open_ix(&f, &pay, 1, Provider::AnyDevice, 1_000, now)],
        &[&pay.customer],
    )
    .await
    .unwrap();
    let (order, _) = f.order_addresses(&pay.customer.pubkey(), 1, &pay.mint, &pay.program);
    let holder0 = f.base.devices[0].holder.insecure_clone();
    h.send(
        &[f.accept_order_ix(&holder0.pubkey(), &order, 0)],
        &[&holder0],
    )
    .await
    .unwrap();
    // The authority raises the fee to half of every settlement.
    let net = &f.base.net;
    let raise = depinkit_sdk::payments::update_payments(
        &net.authority.pubkey(),
        &f.keys,
        UpdatePaymentsArgs {
            order_fee_bps: Some(5_000),
            ..Default::default()
        },
    );
    h.send(&[raise], &[&net.authority]).await.unwrap();
    let ledger = ledger_accounts(&f, &pay, 1, &[holder0.pubkey()]);
    let before = balances(&mut h, &ledger).await;
    settle(
        &mut h,
        &f,
        &pay,
        1,
        Some((0, holder0.pubkey())),
        &[0, 1],
        receipt(0, 1_000, true),
    )
    .await
    .unwrap();
    let after = balances(&mut h, &ledger).await;
    assert_conserved(&before, &after);
    let kept = split(1_000, ORDER_FEE_BPS, POOL_SHARE_BPS, false, true);
    assert_eq!(after[2] - before[2], kept.fee, "the order's own 2.5 %");
    assert_eq!(after[4] - before[4], kept.provider);
    // A new order takes the new fee.
    let now = h.clock().await.unix_timestamp;
    h.send(
        &[open_ix(&f, &pay, 2, Provider::AnyDevice, 1_000, now)],
        &[&pay.customer],
    )
    .await
    .unwrap();
    let (order2, _) = f.order_addresses(&pay.customer.pubkey(), 2, &pay.mint, &pay.program);
    let record: Order = h.anchor_account(&order2).await;
    assert_eq!(record.fee_bps, 5_000);
}

#[tokio::test]
async fn a_customer_may_order_from_their_own_device() {
    // The customer holds the device and the network treasury is theirs too: the
    // refund, provider and fee accounts are one token account.
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "own-device", 0).await;
    let holder0 = f.base.devices[0].holder.insecure_clone();
    let account = ata(&holder0.pubkey(), &pay.mint, &pay.program);
    let payer = h.payer().insecure_clone();
    h.mint_to(&pay.program, &pay.mint, &account, &payer, 1_000)
        .await;
    let own = Pay {
        mint: pay.mint,
        program: pay.program,
        customer: holder0.insecure_clone(),
    };
    let now = h.clock().await.unix_timestamp;
    let device0 = Provider::Device(f.base.devices[0].device);
    let (order, _) = f.order_addresses(&holder0.pubkey(), 1, &pay.mint, &pay.program);
    h.send(
        &[
            open_ix(&f, &own, 1, device0, 1_000, now),
            f.accept_order_ix(&holder0.pubkey(), &order, 0),
        ],
        &[&holder0],
    )
    .await
    .unwrap();
    // The treasury is the customer's too (the network authority ordering from
    // its own device).
    let net = &f.base.net;
    let treasury_is_holder = depinkit_tests::registry::update_network(
        &net.authority.pubkey(),
        &net.network,
        device_registry::instructions::UpdateNetworkArgs {
            treasury: Some(holder0.pubkey()),
            ..Default::default()
        },
        None,
    );
    h.send(&[treasury_is_holder], &[&net.authority])
        .await
        .unwrap();
    let opened_slot = h.anchor_account::<Order>(&order).await.opened_slot;
    for oracle in 0..2 {
        let signer = &net.oracles[oracle];
        let mut ix = f.vote_settlement_ix(
            &signer.pubkey(),
            &holder0.pubkey(),
            1,
            &pay.mint,
            &pay.program,
            Some((0, holder0.pubkey())),
            true,
            VoteSettlementArgs {
                opened_slot,
                ..receipt(0, 400, true)
            },
        );
        ix.accounts[8].pubkey = account;
        h.send(&[ix], &[signer])
            .await
            .expect("refund, fee and provider accounts are one account");
    }
    let parts = split(400, ORDER_FEE_BPS, POOL_SHARE_BPS, false, true);
    assert_eq!(h.token_balance(&account).await, 1_000 - parts.pool);
    assert!(h.account_data(&order).await.is_none());
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
    ix.accounts[5].pubkey = h
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
    for (accept, serve) in [(now, now + 10), (now + 10, now + 9)] {
        args.accept_deadline = accept;
        args.service_deadline = serve;
        let ix = f.open_order_ix(
            &pay.customer.pubkey(),
            &pay.mint,
            &pay.program,
            args.clone(),
        );
        assert_anchor_error(
            &h.send(&[ix], &[&pay.customer]).await,
            PaymentError::InvalidDeadline,
        );
    }

    // The fee into an account that is not the treasury's.
    h.send(
        &[open_ix(&f, &pay, 2, Provider::Network, 100, now)],
        &[&pay.customer],
    )
    .await
    .unwrap();
    let oracle = &f.base.net.oracles[0];
    let (order2, _) = f.order_addresses(&pay.customer.pubkey(), 2, &pay.mint, &pay.program);
    h.send(
        &[f.accept_network_order_ix(&oracle.pubkey(), &order2)],
        &[oracle],
    )
    .await
    .unwrap();
    let opened_slot = h.anchor_account::<Order>(&order2).await.opened_slot;
    let mut ix = f.vote_settlement_ix(
        &oracle.pubkey(),
        &pay.customer.pubkey(),
        2,
        &pay.mint,
        &pay.program,
        None,
        true,
        VoteSettlementArgs {
            opened_slot,
            ..receipt(0, 100, true)
        },
    );
    ix.accounts[8].pubkey = ata(&f.base.devices[0].holder.pubkey(), &pay.mint, &pay.program);
    assert_anchor_error(
        &h.send(&[ix], &[oracle]).await,
        PaymentError::WrongTreasuryAccount,
    );
    // The refund into another account of the customer than their associated
    // one: the oracle sending the vote does not choose where refunds go.
    let elsewhere = h
        .create_token_account(&pay.customer.pubkey(), &pay.mint, &pay.program)
        .await;
    let mut ix = f.vote_settlement_ix(
        &oracle.pubkey(),
        &pay.customer.pubkey(),
        2,
        &pay.mint,
        &pay.program,
        None,
        true,
        VoteSettlementArgs {
            opened_slot,
            ..receipt(0, 100, true)
        },
    );
    ix.accounts[7].pubkey = elsewhere;
    assert_anchor_error(
        &h.send(&[ix], &[oracle]).await,
        PaymentError::WrongRefundAccount,
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
            VoteSettlementArgs {
                opened_slot,
                ..receipt(0, 100, true)
            },
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

#[tokio::test]
async fn an_order_in_service_is_extended_at_no_lower_rate_until_its_deadline() {
    let mut h = Harness::start().await;
    let (f, pay) = setup(&mut h, "extend", 10_000).await;
    let now = h.clock().await.unix_timestamp;
    let customer = pay.customer.insecure_clone();
    let device0 = Provider::Device(f.base.devices[0].device);
    let holder0 = f.base.devices[0].holder.insecure_clone();
    let (order, escrow) = f.order_addresses(&customer.pubkey(), 3, &pay.mint, &pay.program);
    h.send(
        &[
            open_ix(&f, &pay, 3, device0, 1_000, now),
            f.accept_order_ix(&holder0.pubkey(), &order, 0),
        ],
        &[&customer, &holder0],
    )
    .await
    .unwrap();
    let record: Order = h.anchor_account(&order).await;
    let deadline = record.service_deadline;
    let served = deadline - record.accepted_at;
    // Doubling the time needs at least the escrow again (its rate so far).
    let extra = served;
    let need = (1_000 * extra as u64).div_ceil(served as u64);
    let extend = |additional_amount: u64, service_deadline: i64| {
        f.extend_order_ix(
            &customer.pubkey(),
            3,
            &pay.mint,
            &pay.program,
            ExtendOrderArgs {
                additional_amount,
                service_deadline,
            },
        )
    };
    assert_anchor_error(
        &h.send(&[extend(need - 1, deadline + extra)], &[&customer])
            .await,
        PaymentError::ExtensionBelowRate,
    );
    assert_anchor_error(
        &h.send(&[extend(need, deadline)], &[&customer]).await,
        PaymentError::InvalidDeadline,
    );
    // Only the customer extends: another wallet naming itself is not the
    // order's customer.
    let stranger = f.wallet_with_tokens(&mut h, 5_000).await;
    let mut keys = depinkit_sdk::payments::OrderKeys::new(
        &f.network(),
        &customer.pubkey(),
        3,
        &pay.mint,
        &pay.program,
    );
    keys.customer = stranger.pubkey();
    let by_stranger = depinkit_sdk::payments::extend_order(
        &keys,
        ExtendOrderArgs {
            additional_amount: need,
            service_deadline: deadline + extra,
        },
    );
    assert_anchor_error(
        &h.send(&[by_stranger], &[&stranger]).await,
        AnchorError::ConstraintHasOne as u32,
    );
    let unchanged: Order = h.anchor_account(&order).await;
    assert_eq!(
        (unchanged.max_amount, unchanged.service_deadline),
        (1_000, deadline)
    );
    assert_eq!(h.token_balance(&escrow).await, 1_000);

    let wallet = ata(&customer.pubkey(), &pay.mint, &pay.program);
    let before = h.token_balance(&wallet).await;
    let events = h
        .send_events(&[extend(need, deadline + extra)], &[&customer])
        .await
        .expect("extend at the rate");
    assert_eq!(
        events,
        vec![DepinEvent::OrderExtended(OrderExtended {
            order,
            additional_amount: need,
            max_amount: 1_000 + need,
            service_deadline: deadline + extra,
        })]
    );
    assert_eq!(before - h.token_balance(&wallet).await, need);
    assert_eq!(h.token_balance(&escrow).await, 1_000 + need);
    let record: Order = h.anchor_account(&order).await;
    assert_eq!(
        (record.max_amount, record.service_deadline),
        (1_000 + need, deadline + extra)
    );
    // Past the old deadline and its grace, the order is still in service:
    // settled, and not cancellable.
    h.warp_seconds(deadline - now + SETTLEMENT_GRACE_SECS + 1)
        .await;
    settle(
        &mut h,
        &f,
        &pay,
        3,
        Some((0, holder0.pubkey())),
        &[0, 1],
        receipt(0, 1_500, false),
    )
    .await
    .expect("settled under the new deadline, above the old escrow");
    assert_anchor_error(
        &h.send(
            &[f.cancel_order_ix(&customer.pubkey(), 3, &pay.mint, &pay.program)],
            &[&customer],
        )
        .await,
        PaymentError::CancelAfterAcceptance,
    );
    // Once the new deadline has passed it can no longer be extended.
    h.warp_seconds(extra).await;
    assert_anchor_error(
        &h.send(&[extend(10 * need, deadline + 4 * extra)], &[&customer])
            .await,
        PaymentError::ServiceDeadlinePassed,
    );
}
