//! The device side against the oracle on the localnet: a fleet of dashcams
//! onboarded on a mapping network, three of them told to cheat. The oracle
//! takes every signed track, refuses the replay at ingest, scores the epoch
//! with the mapping rules, says by name why each cheater earned nothing, and
//! the honest devices' rewards finalize on chain.

use super::localnet_rpc::{cell, create_funded_pool, on_localnet, world_of};
use super::oracle::{Setup, fetch_when_ready, free_port, start_oracle, wait_until_up};
use depinkit_device::{
    Category as FleetCategory, Cheat, DeviceKey, Fleet, OracleClient, Position, layout,
};
use depinkit_localnet::time_travel;
use depinkit_oracle::store::now_ms;
use depinkit_reports::{Key, Rejection, Verdict};
use depinkit_sdk::{accounts, registry};
use device_registry::state::Category;
use solana_sdk::signature::{Keypair, Signer};

#[test]
fn a_mapping_fleet_earns_and_each_cheater_is_refused_by_name() {
    on_localnet(Vec::new(), |chain, ws_url| async move {
        let world = world_of(&chain, 1, Category::Mapping).await;
        let start = create_funded_pool(&chain, &world).await;

        // Six dashcams a kilometre apart, onboarded by the world's holder
        // with the keys the device side made (they never leave it: the
        // onboarding proof is signed with them here, on the device side).
        let center = Position::degrees(48.8566, 2.3522);
        let keys: Vec<DeviceKey> = (0..6).map(|_| DeviceKey::generate()).collect();
        let places = layout(keys.len(), center, 1_000.0, 0);
        for (key, place) in keys.iter().zip(&places) {
            let device = Keypair::try_from(&key.signing().to_keypair_bytes()[..]).unwrap();
            let expires_at = accounts::chain_time(&chain.rpc).await.unwrap() + 600;
            let onboard = registry::onboard_device_signed(
                &world.holder.pubkey(),
                &world.issuing_key.pubkey(),
                &world.network,
                &device,
                cell(place.lat(), place.lon()),
                expires_at,
                1_010,
                Some(world.fees),
            );
            chain
                .send_signed(&onboard, &[&world.holder, &world.issuing_key])
                .await
                .expect("onboard a dashcam");
        }

        let dir = std::env::temp_dir().join(format!("depinkit-oracle-fleet-{}", world.network));
        std::fs::create_dir_all(&dir).unwrap();
        let (url, stop, daemon) = start_oracle(
            &chain,
            &world,
            &world.oracles[0],
            &dir,
            Setup {
                port: free_port(),
                overrides: vec![
                    ("DEPIN_ORACLE__CHAIN__WS_URL".into(), ws_url.clone()),
                    ("DEPIN_ORACLE__RULES__SET".into(), "category".into()),
                ],
                ..Setup::default()
            },
        );
        let http = reqwest::Client::new();
        wait_until_up(&http, &url).await;

        let network = Key(world.network.to_bytes());
        let mut fleet = Fleet::new(
            network,
            FleetCategory::Mapping,
            keys.iter().cloned().zip(places).collect(),
            7,
        );
        fleet.set_cheat(1, Cheat::DuplicateFrames).unwrap();
        fleet.set_cheat(2, Cheat::Replay).unwrap();
        fleet.set_cheat(3, Cheat::Teleport).unwrap();
        let client = OracleClient::new(&url);
        let mut answers = Vec::new();
        for round in 0..2 {
            let made = fleet.round(now_ms() + round * 61_000, None);
            let reports: Vec<_> = made.iter().map(|(_, r)| r.clone()).collect();
            let verdicts = client.send_all(&reports, 500).await.unwrap();
            answers.push(
                made.into_iter()
                    .map(|(i, _)| i)
                    .zip(verdicts)
                    .collect::<Vec<_>>(),
            );
        }
        // Every track is well formed and signed: all taken, but the replay
        // (the same report again) refused at once as a duplicate.
        for (device, verdict) in answers[0].iter().chain(&answers[1]) {
            let replayed =
                *device == 2 && answers[1].iter().any(|(d, v)| d == device && v == verdict);
            match verdict {
                Verdict::Accepted { .. } => assert!(!replayed, "device {device}"),
                Verdict::Rejected { reason } => {
                    assert_eq!((*device, *reason), (2, Rejection::Duplicate));
                }
            }
        }

        // The epoch ends; the oracle scores it with the mapping rules and
        // its one vote finalizes.
        time_travel(&chain.rpc, start + 3_600 + 2).await.unwrap();
        let proofs = fetch_when_ready(&http, &format!("{url}/v1/proofs")).await;
        let rewarded: Vec<String> = proofs["claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["device_mint"].as_str().unwrap().to_string())
            .collect();
        let mint_of = |i: usize| {
            device_registry::pda::find_device_mint_address(
                &world.network,
                &solana_sdk::pubkey::Pubkey::new_from_array(keys[i].public().0),
            )
            .0
            .to_string()
        };
        for honest in [0, 2, 4, 5] {
            assert!(rewarded.contains(&mint_of(honest)), "device {honest} earns");
        }
        for cheater in [1, 3] {
            assert!(
                !rewarded.contains(&mint_of(cheater)),
                "device {cheater} earns nothing"
            );
        }
        // Why, as each owner reads it.
        let statuses = |i: usize| {
            let http = http.clone();
            let url = format!("{url}/v1/devices/{}/reports?epoch=0", mint_of(i));
            async move {
                let answer: serde_json::Value =
                    http.get(url).send().await.unwrap().json().await.unwrap();
                answer["reports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        r["rule"]
                            .as_str()
                            .unwrap_or(r["status"].as_str().unwrap())
                            .to_string()
                    })
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(statuses(0).await, ["counted", "counted"]);
        assert_eq!(statuses(1).await, ["duplicate_frames", "duplicate_frames"]);
        assert_eq!(statuses(2).await, ["counted"], "the replay was never kept");
        assert_eq!(
            statuses(3).await,
            ["speed_above_limit", "speed_above_limit"]
        );

        stop.send(()).unwrap();
        daemon.await.unwrap().expect("stops cleanly");
        let _ = std::fs::remove_dir_all(&dir);
    });
}
