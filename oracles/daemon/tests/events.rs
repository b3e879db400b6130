//! The programs' events change the oracle's views at once: a device
//! onboarded or suspended is re-read alone, a pool event re-reads the pool
//! and wakes the workers; each transaction is handled once.

mod common;

use anchor_lang::prelude::Pubkey;
use common::{ChainDouble as Double, NETWORK, device, proof_from};
use depinkit_oracle::{
    events::{Follower, Reaction},
    ingest::{Ingest, Limits},
    registry::Registry,
};
use depinkit_reports::Rejection;
use depinkit_sdk::events::DepinEvent;
use device_registry::{
    events::{DeviceOnboarded, DeviceStatusChanged},
    state::{Category, DeviceStatus},
};
use reward_pool::events::EpochFinalized;
use std::sync::{Arc, atomic::Ordering};
use tokio::{sync::Notify, time::Duration};

fn onboarded(network: Pubkey, device: Pubkey) -> DepinEvent {
    DepinEvent::DeviceOnboarded(DeviceOnboarded {
        network,
        device,
        device_key: Pubkey::new_unique(),
        mint: Pubkey::new_unique(),
        maker: Pubkey::new_unique(),
        owner: Pubkey::new_unique(),
        location: 0,
        fee_paid: 0,
    })
}

struct Setup {
    chain: Arc<Double>,
    registry: Arc<Registry<Double>>,
    ingest: Arc<Ingest<Double>>,
    woken: Arc<Notify>,
    follower: Follower<Double>,
    _db: common::TestDatabase,
}

async fn setup() -> Setup {
    let chain = Arc::new(Double::new(
        Category::Storage,
        vec![device(1, true)],
        0,
        3600,
    ));
    // No re-read for an hour: only the events can teach the registry.
    let registry = Arc::new(
        Registry::load(chain.clone(), NETWORK, Duration::from_secs(3600))
            .await
            .unwrap(),
    );
    let db = common::sqlite();
    let limits = Limits {
        max_batch_reports: 10,
        device_reports_per_minute: 60,
        device_burst: 60,
        grace_secs: 60,
        max_answer_delay_ms: 7_000,
    };
    let ingest = Arc::new(
        Ingest::new(
            chain.clone(),
            NETWORK,
            registry.clone(),
            db.open().await,
            limits,
        )
        .await
        .unwrap(),
    );
    let woken = Arc::new(Notify::new());
    let follower = Follower::new(chain.clone(), NETWORK, ingest.clone(), woken.clone());
    Setup {
        chain,
        registry,
        ingest,
        woken,
        follower,
        _db: db,
    }
}

#[tokio::test]
async fn device_events_reread_the_one_device_they_name() {
    let Setup {
        chain,
        registry,
        follower,
        ..
    } = setup().await;
    let address = Pubkey::new_unique();
    chain
        .device_accounts
        .lock()
        .unwrap()
        .insert(address, device(3, true));
    chain.transactions.lock().unwrap().insert(
        "onboard".into(),
        vec![
            onboarded(NETWORK, address),
            onboarded(Pubkey::new_unique(), address),
        ],
    );
    let full_reads = chain.reads.load(Ordering::SeqCst);
    assert_eq!(
        registry.authenticate(&[&proof_from(3)]).await,
        vec![Err(Rejection::UnknownDevice)]
    );
    assert_eq!(
        follower.on_transaction("onboard").await.unwrap(),
        vec![Reaction::Device(address)],
        "the other network's event is not ours"
    );
    assert_eq!(
        registry.authenticate(&[&proof_from(3)]).await,
        vec![Ok(device(3, true).1)]
    );
    assert_eq!(
        chain.reads.load(Ordering::SeqCst),
        full_reads,
        "one account read, not the whole registry"
    );

    // The same transaction announced again (it names the network and the
    // pool: two notifications) is fetched and applied once.
    assert!(follower.on_transaction("onboard").await.unwrap().is_empty());
    assert_eq!(chain.fetched.lock().unwrap().len(), 1);

    // Suspended on chain: refused from the event on.
    chain
        .device_accounts
        .lock()
        .unwrap()
        .insert(address, device(3, false));
    chain.transactions.lock().unwrap().insert(
        "suspend".into(),
        vec![DepinEvent::DeviceStatusChanged(DeviceStatusChanged {
            network: NETWORK,
            device: address,
            status: DeviceStatus::Suspended,
        })],
    );
    follower.on_transaction("suspend").await.unwrap();
    assert_eq!(
        registry.authenticate(&[&proof_from(3)]).await,
        vec![Err(Rejection::SuspendedDevice)]
    );
}

#[tokio::test]
async fn pool_events_reread_the_pool_and_wake_the_workers() {
    let Setup {
        chain,
        ingest,
        woken,
        follower,
        ..
    } = setup().await;
    let pool = reward_pool::pda::find_pool_address(&NETWORK).0;
    chain.pool.lock().unwrap().next_epoch = 4;
    chain.transactions.lock().unwrap().insert(
        "finalize".into(),
        vec![DepinEvent::EpochFinalized(EpochFinalized {
            pool,
            epoch: 3,
            root: [1; 32],
            total: 1,
            leaf_count: 1,
        })],
    );
    let notified = woken.notified();
    tokio::pin!(notified);
    notified.as_mut().enable();
    assert_eq!(
        follower.on_transaction("finalize").await.unwrap(),
        vec![Reaction::Pool]
    );
    assert_eq!(ingest.pool().await.next_epoch, 4, "the pool was read again");
    tokio::time::timeout(Duration::from_millis(100), notified)
        .await
        .expect("a waiting worker was woken");

    // Another pool's finalization changes nothing here.
    chain.transactions.lock().unwrap().insert(
        "elsewhere".into(),
        vec![DepinEvent::EpochFinalized(EpochFinalized {
            pool: Pubkey::new_unique(),
            epoch: 3,
            root: [1; 32],
            total: 1,
            leaf_count: 1,
        })],
    );
    assert!(
        follower
            .on_transaction("elsewhere")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_transaction_that_never_becomes_readable_is_an_error() {
    let Setup { follower, .. } = setup().await;
    let error = follower.on_transaction("missing").await.unwrap_err();
    assert!(error.to_string().contains("cannot be read"), "{error}");
}
