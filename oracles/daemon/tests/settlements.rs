//! The settler's queue in the store: each finalized epoch's settlements are
//! queued once, read back per order in epoch order, and marked as the chain
//! takes them; on SQLite and PostgreSQL alike.

mod common;

use depinkit_oracle::{
    store::{QueuedSettlement, SettlementState},
    verifier::OrderOutcome,
};
use depinkit_reports::{Hash32, Key};

fn settlement(order: u8, epoch: u64, delivered: bool, closes: bool) -> QueuedSettlement {
    QueuedSettlement {
        order: Key([order; 32]),
        epoch,
        outcome: OrderOutcome { delivered, closes },
        receipt_hash: Hash32([order ^ epoch as u8; 32]),
    }
}

#[tokio::test]
async fn settlements_are_queued_once_read_in_epoch_order_and_marked_as_they_land() {
    for db in common::databases().await {
        let store = db.open().await;
        let name = db.name;
        store
            .queue_settlements(
                0,
                &[settlement(2, 0, true, false), settlement(1, 0, true, false)],
            )
            .await
            .unwrap();
        store
            .queue_settlements(
                1,
                &[settlement(1, 1, false, true), settlement(2, 1, true, false)],
            )
            .await
            .unwrap();
        // Queued again (a round cut short before it marked the epoch): kept once.
        store
            .queue_settlements(1, &[settlement(1, 1, false, true)])
            .await
            .unwrap();
        let pending = store.pending_settlements().await.unwrap();
        assert_eq!(
            pending,
            [
                settlement(1, 0, true, false),
                settlement(1, 1, false, true),
                settlement(2, 0, true, false),
                settlement(2, 1, true, false),
            ],
            "{name}"
        );
        // The chain took order 1's first settlement; order 2 closed.
        store
            .mark_settlements(&Key([1; 32]), &[0], SettlementState::Landed)
            .await
            .unwrap();
        store
            .mark_settlements(&Key([2; 32]), &[0, 1], SettlementState::Closed)
            .await
            .unwrap();
        store
            .record_settlement_vote(&Key([1; 32]), 1, "5ig")
            .await
            .unwrap();
        assert_eq!(store.landed_settlements(&Key([1; 32])).await.unwrap(), 1);
        assert_eq!(store.landed_settlements(&Key([2; 32])).await.unwrap(), 0);
        assert_eq!(
            store.pending_settlements().await.unwrap(),
            [settlement(1, 1, false, true)],
            "{name}"
        );
        let kept = store.order_settlements(&Key([1; 32])).await.unwrap();
        let states: Vec<_> = kept
            .iter()
            .map(|k| (k.state, k.signature.clone()))
            .collect();
        assert_eq!(
            states,
            [
                (SettlementState::Landed, None),
                (SettlementState::Pending, Some("5ig".to_string()))
            ],
            "{name}"
        );
        // A settlement marked already keeps its state.
        store
            .mark_settlements(&Key([1; 32]), &[0], SettlementState::Expired)
            .await
            .unwrap();
        assert_eq!(
            store.landed_settlements(&Key([1; 32])).await.unwrap(),
            1,
            "{name}"
        );
        // No epoch was finalized: none waits to be queued.
        assert!(store.epochs_to_settle().await.unwrap().is_empty(), "{name}");
    }
}
