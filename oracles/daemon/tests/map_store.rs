//! The map service's store: verified cells keep their latest verification
//! and are found by cell and by box; a charge is kept once per nonce, counts
//! against the wallet until burned, and is listed for its receipt; on SQLite
//! and PostgreSQL alike.

mod common;

use depinkit_oracle::{
    store::ChargeError,
    verifier::{geo, mapping::MappedCell},
};
use depinkit_reports::{Hash32, Key, usage::Charge};

fn mapped(lat: f64, lon: f64, verified_ms: i64, devices: u32) -> MappedCell {
    let cell = geo::cell_of((lat * 1e7) as i32, (lon * 1e7) as i32, 12).unwrap();
    MappedCell {
        cell: u64::from(cell),
        verified_ms,
        devices,
        value: 500,
        latest_report: Hash32([devices as u8; 32]),
    }
}

#[tokio::test]
async fn cells_keep_their_latest_verification_and_are_found_by_cell_and_box() {
    for db in common::databases().await {
        let store = db.open().await;
        let name = db.name;
        let paris = mapped(48.8566, 2.3522, 1_000, 1);
        let lyon = mapped(45.7640, 4.8357, 1_000, 2);
        store.record_map_cells(0, &[paris, lyon]).await.unwrap();
        // A later verification replaces, an earlier one does not.
        store
            .record_map_cells(
                1,
                &[MappedCell {
                    verified_ms: 2_000,
                    devices: 3,
                    ..paris
                }],
            )
            .await
            .unwrap();
        store
            .record_map_cells(
                2,
                &[MappedCell {
                    verified_ms: 500,
                    devices: 9,
                    ..lyon
                }],
            )
            .await
            .unwrap();
        let found = store.map_cells(&[paris.cell, lyon.cell, 42]).await.unwrap();
        let summary: Vec<(u64, u64, u32, i64)> = found
            .iter()
            .map(|c| (c.cell, c.epoch, c.devices, c.verified_ms))
            .collect();
        let mut expected = vec![(paris.cell, 1, 3, 2_000), (lyon.cell, 0, 2, 1_000)];
        expected.sort();
        assert_eq!(summary, expected, "{name}");
        // A box around Paris holds Paris alone.
        let in_box = store
            .map_cells_in_box((488_000_000, 23_000_000), (489_000_000, 24_000_000), 10)
            .await
            .unwrap();
        assert_eq!(
            in_box.iter().map(|c| c.cell).collect::<Vec<_>>(),
            [paris.cell],
            "{name}"
        );
        assert!(
            (in_box[0].lat_e7 - 488_566_000).abs() < 10_000,
            "{name}: its center"
        );
        assert_eq!(store.map_cell_count().await.unwrap(), 2, "{name}");
    }
}

#[tokio::test]
async fn a_charge_is_kept_once_per_nonce_and_counts_until_burned() {
    for db in common::databases().await {
        let store = db.open().await;
        let name = db.name;
        let wallet = Key([5; 32]);
        let charge = |n: u8, credits: u64| Charge {
            wallet,
            epoch: 3,
            request: Hash32([n; 32]),
            units: credits / 10,
            credits,
        };
        store
            .keep_charge(&[1; 16], 10, &charge(1, 30), 11)
            .await
            .unwrap();
        store
            .keep_charge(&[2; 16], 10, &charge(2, 50), 11)
            .await
            .unwrap();
        assert!(
            matches!(
                store.keep_charge(&[1; 16], 10, &charge(3, 70), 11).await,
                Err(ChargeError::Replayed)
            ),
            "{name}"
        );
        assert_eq!(store.unburned_credits(&wallet).await.unwrap(), 80, "{name}");
        assert_eq!(
            store.unburned_credits(&Key([6; 32])).await.unwrap(),
            0,
            "{name}"
        );
        assert_eq!(store.wallets_to_burn(3).await.unwrap(), [wallet], "{name}");
        assert_eq!(
            store.charges(&wallet, 3).await.unwrap(),
            [charge(1, 30), charge(2, 50)],
            "{name}"
        );
        store.record_burn(&wallet, 3, "5ig").await.unwrap();
        assert_eq!(store.unburned_credits(&wallet).await.unwrap(), 0, "{name}");
        assert!(store.wallets_to_burn(3).await.unwrap().is_empty(), "{name}");
        assert_eq!(
            store.burn_signature(&wallet, 3).await.unwrap().as_deref(),
            Some("5ig")
        );
        // Old nonces are forgotten.
        assert_eq!(store.prune_nonces(11).await.unwrap(), 2, "{name}");
    }
}
