//! Reports are authenticated against the network's devices as the chain has
//! them; unknown keys cause at most one re-read per interval.

mod common;

use common::{ChainDouble as Double, NETWORK, device, proof_from};
use depinkit_oracle::registry::{RegisteredDevice, Registry};
use depinkit_reports::{Body, Hash32, Key, Rejection, Witness};
use device_registry::state::Category;
use std::sync::{Arc, atomic::Ordering};
use tokio::time::Duration;

async fn registry(devices: Vec<(Key, RegisteredDevice)>) -> (Arc<Double>, Registry<Double>) {
    let chain = Arc::new(Double::new(Category::Storage, devices, 0, 3600));
    let registry = Registry::load(chain.clone(), NETWORK, Duration::from_secs(10))
        .await
        .unwrap();
    (chain, registry)
}

#[tokio::test(start_paused = true)]
async fn each_report_is_checked_against_the_registry() {
    let (_, registry) = registry(vec![device(1, true), device(2, false)]).await;
    assert_eq!(registry.len().await, 2);
    let mut elsewhere = proof_from(1);
    elsewhere.network = Key([8; 32]);
    let mut witness = proof_from(1);
    witness.body = Body::Witness(Witness {
        beaconer: Key([2; 32]),
        beacon_payload_hash: Hash32::default(),
        received_at_ms: 1,
        frequency_hz: 1,
        rssi_ddbm: 0,
        snr_ddb: 0,
        antenna_gain_ddbi: 0,
    });
    let reports = [
        proof_from(1),
        proof_from(2),
        proof_from(3),
        elsewhere,
        witness,
    ];
    let outcomes = registry
        .authenticate(&reports.iter().collect::<Vec<_>>())
        .await;
    assert_eq!(
        outcomes,
        vec![
            Ok(device(1, true).1),
            Err(Rejection::SuspendedDevice),
            Err(Rejection::UnknownDevice),
            Err(Rejection::WrongNetwork),
            Err(Rejection::WrongCategory),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_new_device_is_found_by_a_rate_limited_re_read() {
    let (chain, registry) = registry(vec![device(1, true)]).await;
    assert_eq!(chain.reads.load(Ordering::SeqCst), 1);
    chain.devices.lock().unwrap().push(device(3, true));
    // Too soon after the last read: unknown, and no read.
    let new = proof_from(3);
    assert_eq!(
        registry.authenticate(&[&new]).await,
        vec![Err(Rejection::UnknownDevice)]
    );
    assert_eq!(chain.reads.load(Ordering::SeqCst), 1);
    // Later: one read for the whole batch finds it; made-up keys in the same
    // batch cost no more reads.
    tokio::time::advance(Duration::from_secs(11)).await;
    let made_up = proof_from(77);
    let outcomes = registry.authenticate(&[&new, &made_up, &new]).await;
    assert_eq!(
        outcomes,
        vec![
            Ok(device(3, true).1),
            Err(Rejection::UnknownDevice),
            Ok(device(3, true).1)
        ]
    );
    assert_eq!(chain.reads.load(Ordering::SeqCst), 2);
    for _ in 0..100 {
        registry.authenticate(&[&made_up]).await;
    }
    assert_eq!(
        chain.reads.load(Ordering::SeqCst),
        2,
        "made-up keys cannot flood the chain"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_read_keeps_the_last_view() {
    let (chain, registry) = registry(vec![device(1, true)]).await;
    chain.down.store(true, Ordering::SeqCst);
    tokio::time::advance(Duration::from_secs(11)).await;
    assert!(registry.refresh().await.is_err());
    assert_eq!(
        registry.authenticate(&[&proof_from(1)]).await,
        vec![Ok(device(1, true).1)]
    );
    // Suspended on chain: seen at the next read.
    chain.down.store(false, Ordering::SeqCst);
    chain.devices.lock().unwrap()[0].1.active = false;
    registry.refresh().await.unwrap();
    assert_eq!(
        registry.authenticate(&[&proof_from(1)]).await,
        vec![Err(Rejection::SuspendedDevice)]
    );
}

mod screening {
    use super::*;
    use depinkit_oracle::screen::{FUTURE_TOLERANCE_MS, screen};
    use depinkit_reports::{Sig, SignedReport};
    use ed25519_dalek::SigningKey;

    fn signed_by(seed: u8, leaf: u8, timestamp_ms: i64) -> SignedReport {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let mut report = proof_from(0);
        report.device = Key(key.verifying_key().to_bytes());
        report.timestamp_ms = timestamp_ms;
        if let Body::StorageProof(p) = &mut report.body {
            p.leaf = vec![leaf];
        }
        report.sign(&key)
    }

    fn registered(seed: u8, active: bool) -> (Key, RegisteredDevice) {
        let key = Key(SigningKey::from_bytes(&[seed; 32])
            .verifying_key()
            .to_bytes());
        (key, device(seed, active).1)
    }

    #[tokio::test(start_paused = true)]
    async fn each_report_gets_its_own_verdict_and_the_good_ones_pass() {
        let (_, registry) = registry(vec![registered(1, true), registered(2, false)]).await;
        let now = 1_767_225_600_000;
        let good = signed_by(1, 1, now);
        let mut forged = signed_by(1, 2, now);
        forged.signature = Sig([7; 64]);
        let batch = vec![
            Ok(good.clone()),
            Err(Rejection::Malformed),
            Ok(signed_by(1, 3, now + FUTURE_TOLERANCE_MS + 1)),
            Ok(signed_by(2, 4, now)),
            Ok(signed_by(3, 5, now)),
            Ok(forged),
            Ok(good.clone()),
            Ok(signed_by(1, 6, now + FUTURE_TOLERANCE_MS)),
        ];
        let outcomes = screen(&registry, batch, now).await;
        let verdicts: Vec<Result<(), Rejection>> = outcomes
            .iter()
            .map(|o| o.as_ref().map(|_| ()).map_err(|e| *e))
            .collect();
        assert_eq!(
            verdicts,
            vec![
                Ok(()),
                Err(Rejection::Malformed),
                Err(Rejection::FutureTimestamp),
                Err(Rejection::SuspendedDevice),
                Err(Rejection::UnknownDevice),
                Err(Rejection::BadSignature),
                Err(Rejection::Duplicate),
                Ok(()),
            ]
        );
        let first = outcomes[0].as_ref().unwrap();
        assert_eq!(first.content_hash, good.report.content_hash());
        assert_eq!(first.device, registered(1, true).1);
    }
}
