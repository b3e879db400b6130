//! A third-party program opens and cancels depinkit orders through CPI.

use depinkit_tests::{
    Harness,
    harness::{anchor_ix, assert_anchor_error, ata, token_id},
    payments::*,
};
use job_market::{LISTING_SEED, Listing};
use service_payments::{
    errors::PaymentError,
    state::{Order, Provider},
};
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

fn listing_address(order: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[LISTING_SEED, order.as_ref()], &job_market::ID).0
}

fn post_job_ix(
    f: &PaymentsFixture,
    poster: &Pubkey,
    job_id: u64,
    max_amount: u64,
    accept_deadline: i64,
) -> Instruction {
    let mint = f.token_mint();
    let (order, escrow) = f.order_addresses(poster, job_id, &mint, &token_id());
    anchor_ix(
        job_market::ID,
        job_market::accounts::PostJob {
            poster: *poster,
            network: f.network(),
            payments_config: f.config,
            order,
            payment_mint: mint,
            poster_payment_account: ata(poster, &mint, &token_id()),
            escrow,
            listing: listing_address(&order),
            payment_token_program: token_id(),
            associated_token_program: anchor_spl::associated_token::ID,
            system_program: anchor_lang::system_program::ID,
            payments_event_authority: service_payments::EVENT_AUTHORITY_AND_BUMP.0,
            service_payments_program: service_payments::ID,
        },
        job_market::instruction::PostJob {
            job_id,
            max_amount,
            accept_deadline,
            service_deadline: accept_deadline + 3_600,
            spec_hash: [3; 32],
        },
    )
}

fn withdraw_job_ix(f: &PaymentsFixture, poster: &Pubkey, job_id: u64) -> Instruction {
    let mint = f.token_mint();
    let (order, escrow) = f.order_addresses(poster, job_id, &mint, &token_id());
    anchor_ix(
        job_market::ID,
        job_market::accounts::WithdrawJob {
            poster: *poster,
            listing: listing_address(&order),
            order,
            escrow,
            payment_mint: mint,
            poster_payment_account: ata(poster, &mint, &token_id()),
            payment_token_program: token_id(),
            payments_event_authority: service_payments::EVENT_AUTHORITY_AND_BUMP.0,
            service_payments_program: service_payments::ID,
        },
        job_market::instruction::WithdrawJob {},
    )
}

#[tokio::test]
async fn a_dapp_opens_and_cancels_orders_by_cpi() {
    let mut h = Harness::start().await;
    let f = PaymentsFixture::create(&mut h, "dapp", 1).await;
    let poster = f.wallet_with_tokens(&mut h, 5_000).await;
    let wallet = ata(&poster.pubkey(), &f.token_mint(), &token_id());
    let deadline = h.clock().await.unix_timestamp + 600;

    h.send(
        &[post_job_ix(&f, &poster.pubkey(), 1, 2_000, deadline)],
        &[&poster],
    )
    .await
    .expect("post job");
    let (order, escrow) = f.order_addresses(&poster.pubkey(), 1, &f.token_mint(), &token_id());
    let record: Order = h.anchor_account(&order).await;
    assert_eq!(record.customer, poster.pubkey());
    assert_eq!(record.provider, Provider::AnyDevice);
    assert_eq!(record.max_amount, 2_000);
    assert_eq!(h.token_balance(&escrow).await, 2_000);
    assert_eq!(h.token_balance(&wallet).await, 3_000);
    let listing: Listing = h.anchor_account(&listing_address(&order)).await;
    assert_eq!(
        (listing.poster, listing.order, listing.job_id),
        (poster.pubkey(), order, 1)
    );

    // Someone else cannot withdraw it.
    let thief = f.wallet_with_tokens(&mut h, 0).await;
    let mut ix = withdraw_job_ix(&f, &poster.pubkey(), 1);
    ix.accounts[0].pubkey = thief.pubkey();
    ix.accounts[5].pubkey = ata(&thief.pubkey(), &f.token_mint(), &token_id());
    assert!(h.send(&[ix], &[&thief]).await.is_err());

    h.send(&[withdraw_job_ix(&f, &poster.pubkey(), 1)], &[&poster])
        .await
        .expect("withdraw job");
    assert_eq!(h.token_balance(&wallet).await, 5_000, "refunded by CPI");
    for closed in [order, escrow, listing_address(&order)] {
        assert!(h.account_data(&closed).await.is_none());
    }

    // An accepted job cannot be withdrawn before its service deadline: the
    // inner program's error comes back through the CPI.
    h.send(
        &[post_job_ix(&f, &poster.pubkey(), 2, 1_000, deadline)],
        &[&poster],
    )
    .await
    .unwrap();
    let (order2, _) = f.order_addresses(&poster.pubkey(), 2, &f.token_mint(), &token_id());
    let holder: Keypair = f.base.devices[0].holder.insecure_clone();
    h.send(
        &[f.accept_order_ix(&holder.pubkey(), &order2, 0)],
        &[&holder],
    )
    .await
    .unwrap();
    let result = h
        .send(&[withdraw_job_ix(&f, &poster.pubkey(), 2)], &[&poster])
        .await;
    assert_anchor_error(&result, PaymentError::CancelAfterAcceptance);
    assert!(h.account_data(&listing_address(&order2)).await.is_some());
}
