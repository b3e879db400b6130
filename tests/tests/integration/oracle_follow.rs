//! The oracle daemon following the chain's events on the localnet's
//! websocket, and its claim crank: devices onboarded and suspended after it
//! started are known at once (its periodic reads are an hour apart), and
//! after the epoch finalizes it claims for every active device, so holders
//! are paid without sending anything.

use super::localnet_rpc::{SPL_TOKEN, cell, create_funded_pool, on_localnet, world_with_oracles};
use super::oracle::{
    Setup, fetch_when_ready, free_port, post_reports, receipt, start_oracle, wait_until_up,
};
use depinkit_localnet::time_travel;
use depinkit_reports::{BatchAnswer, Rejection, Verdict};
use depinkit_sdk::{accounts, pool::PoolKeys, registry};
use device_registry::state::DeviceStatus;
use reward_pool::state::ClaimRecord;
use solana_sdk::signature::{Keypair, Signer};
use std::time::Duration;

/// Polls `/health` until the daemon knows `devices` devices (10 s at most).
async fn wait_for_devices(http: &reqwest::Client, url: &str, devices: u64) {
    for _ in 0..100 {
        let health: serde_json::Value = http
            .get(format!("{url}/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if health["devices"] == devices {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never knew {devices} devices");
}

#[test]
fn events_teach_the_oracle_at_once_and_its_crank_pays_the_holders() {
    on_localnet(Vec::new(), |chain, ws_url| async move {
        let world = world_with_oracles(&chain, 1).await;
        let start = create_funded_pool(&chain, &world).await;
        let dir = std::env::temp_dir().join(format!("depinkit-oracle-follow-{}", world.network));
        std::fs::create_dir_all(&dir).unwrap();
        let setting =
            |name: &str, value: &str| (format!("DEPIN_ORACLE__{name}"), value.to_string());
        let (url, stop, daemon) = start_oracle(
            &chain,
            &world,
            &world.oracles[0],
            &dir,
            Setup {
                port: free_port(),
                overrides: vec![
                    setting("CHAIN__WS_URL", &ws_url),
                    // Only events can teach the registry within this test.
                    setting("CHAIN__REGISTRY_REFRESH_SECS", "3600"),
                    setting("CHAIN__UNKNOWN_KEY_REFRESH_SECS", "3600"),
                    setting("CRANK__ENABLED", "true"),
                    setting("CRANK__INTERVAL_SECS", "3600"),
                ],
                ..Setup::default()
            },
        );
        let http = reqwest::Client::new();
        wait_until_up(&http, &url).await;
        wait_for_devices(&http, &url, 1).await;

        // Two devices onboarded while the oracle runs; the holder of the
        // first holds them too.
        let onboard = |device: &Keypair| {
            let device = device.insecure_clone();
            let chain = &chain;
            let world = &world;
            async move {
                let expires_at = accounts::chain_time(&chain.rpc).await.unwrap() + 600;
                let instructions = registry::onboard_device_signed(
                    &world.holder.pubkey(),
                    &world.issuing_key.pubkey(),
                    &world.network,
                    &device,
                    cell(48.8566, 2.3522),
                    expires_at,
                    1_010,
                    Some(world.fees),
                );
                chain
                    .send_signed(&instructions, &[&world.holder, &world.issuing_key])
                    .await
                    .expect("onboard");
            }
        };
        let second = Keypair::new();
        let third = Keypair::new();
        onboard(&second).await;
        onboard(&third).await;
        wait_for_devices(&http, &url, 3).await;

        let client = Keypair::new();
        let reports = [
            receipt(&world, &world.device_key, &client, 1),
            receipt(&world, &second, &client, 1),
            receipt(&world, &second, &client, 2),
            receipt(&world, &third, &client, 1),
        ];
        let answer: BatchAnswer = post_reports(
            &http,
            &format!("{url}/v1/reports"),
            serde_json::json!(reports),
        )
        .await;
        assert_eq!(answer.accepted, 4, "{answer:?}");

        // The third is suspended: refused as soon as the event arrives.
        let third_device =
            device_registry::pda::find_device_address(&world.network, &third.pubkey()).0;
        chain
            .send(
                &[registry::set_device_status(
                    &world.authority.pubkey(),
                    &world.network,
                    &third_device,
                    DeviceStatus::Suspended,
                )],
                &[&world.authority],
            )
            .await
            .expect("suspend");
        // Receipts sent before the event reaches the oracle still count.
        let mut refused = false;
        let mut before_the_event = 0u64;
        for n in 10..110 {
            let answer: BatchAnswer = post_reports(
                &http,
                &format!("{url}/v1/reports"),
                serde_json::json!([receipt(&world, &third, &client, n)]),
            )
            .await;
            if answer.results
                == vec![Verdict::Rejected {
                    reason: Rejection::SuspendedDevice,
                }]
            {
                refused = true;
                break;
            }
            before_the_event += u64::from(answer.accepted > 0);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(refused, "the suspension reached the oracle");

        // The epoch ends; the one oracle votes and finalizes; the crank
        // claims for the two active devices (1,250 and 2,500 of 5,000 when
        // the suspension reached the oracle before any other receipt; the
        // suspended one's share waits until it is reactivated).
        let keys = PoolKeys::new(&world.network, &world.reward_mint, &SPL_TOKEN);
        let holder_rewards =
            depinkit_sdk::ata(&world.holder.pubkey(), &world.reward_mint, &SPL_TOKEN);
        let before = chain.balance(&holder_rewards).await;
        time_travel(&chain.rpc, start + 3_600 + 2).await.unwrap();
        let summary = fetch_when_ready(&http, &format!("{url}/v1/epochs/0")).await;
        assert_eq!(summary["reports"], 4 + before_the_event);
        let points = 4 + before_the_event;
        let (first_share, second_share) = (5_000 / points, 5_000 * 2 / points);
        let record = |device: &Keypair| {
            reward_pool::pda::find_claim_record_address(
                &keys.pool,
                &device_registry::pda::find_device_mint_address(&world.network, &device.pubkey()).0,
            )
            .0
        };
        let records = [record(&world.device_key), record(&second), record(&third)];
        let mut claimed = Vec::new();
        for _ in 0..300 {
            claimed = accounts::fetch_many::<ClaimRecord>(&chain.rpc, &records)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.map(|r| r.claimed))
                .collect();
            if claimed[..2].iter().all(Option::is_some) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(claimed, vec![Some(first_share), Some(second_share), None]);
        assert_eq!(
            chain.balance(&holder_rewards).await - before,
            first_share + second_share
        );
        // Both claims (with the records they created) went in one transaction.
        let mut signatures = Vec::new();
        for address in &records[..2] {
            let found = chain.rpc.get_signatures_for_address(address).await.unwrap();
            assert_eq!(found.len(), 1, "{address}: {found:?}");
            signatures.push(found[0].signature.clone());
        }
        assert_eq!(signatures[0], signatures[1], "packed into one transaction");

        stop.send(()).unwrap();
        daemon.await.unwrap().expect("stops cleanly");
        let _ = std::fs::remove_dir_all(&dir);
    });
}
