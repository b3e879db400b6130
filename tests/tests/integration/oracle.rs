//! The oracle daemon against the localnet: `check` on a real configuration,
//! the registry following the chain, and `run` taking a device's reports over
//! HTTP, authenticated against the network's devices as the chain has them.

use super::localnet_rpc::{Chain, SPL_TOKEN, World, on_localnet, world};
use depinkit_oracle::{
    chain::RpcChain,
    check::check,
    config::Config,
    registry::Registry,
    store::{Store, now_ms},
};
use depinkit_reports::{BatchAnswer, Body, GpuReceipt, Hash32, Key, Rejection, Report, Verdict};
use depinkit_sdk::{
    accounts,
    pool::{self, PoolKeys},
    registry,
};
use device_registry::state::{Category, DeviceStatus};
use reward_pool::{instructions::CreatePoolArgs, state::EmissionSchedule};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::signature::{Keypair, Signer};
use std::{sync::Arc, time::Duration};

#[test]
fn the_oracle_checks_its_config_and_follows_the_networks_devices() {
    on_localnet(Vec::new(), |chain, _| async move {
        let world = world(&chain).await;
        // `depin-oracle check`: every step passes for one of the oracles; the
        // authority's key is named as not an oracle; a dead URL stops early.
        let dir = std::env::temp_dir().join(format!("depinkit-oracle-check-{}", world.network));
        std::fs::create_dir_all(&dir).unwrap();
        let config_for = |keypair: &Keypair, url: &str| {
            let path = dir.join(format!("{}.json", keypair.pubkey()));
            solana_sdk::signature::write_keypair_file(keypair, &path).unwrap();
            let text = format!(
                "[chain]\nrpc_url = \"{url}\"\nnetwork = \"{}\"\nkeypair = \"{}\"\n\
                 [store]\ndatabase_url = \"sqlite:{}\"\n",
                world.network,
                path.display(),
                dir.join("oracle.db").display()
            );
            Config::parse(&text, "test", Vec::new()).unwrap()
        };
        let url = chain.rpc.url();
        let findings = check(&config_for(&world.oracles[0], &url)).await;
        let steps: Vec<_> = findings.iter().map(|f| (f.step, f.ok)).collect();
        assert_eq!(
            steps,
            [
                ("keypair", true),
                ("cluster", true),
                ("network", true),
                ("oracle", true),
                ("devices", true),
                ("database", true)
            ],
            "{findings:?}"
        );
        assert!(findings[4].detail.starts_with("1 onboarded"));
        let findings = check(&config_for(&world.authority, &url)).await;
        assert!(
            !findings[3].ok
                && findings[3]
                    .detail
                    .contains("is not one of the network's oracles")
        );
        let findings = check(&config_for(&world.oracles[1], "http://127.0.0.1:9")).await;
        assert_eq!(
            findings.last().map(|f| (f.step, f.ok)),
            Some(("cluster", false))
        );
        let _ = std::fs::remove_dir_all(&dir);

        let rpc = RpcClient::new_with_commitment(chain.rpc.url(), CommitmentConfig::confirmed());
        let registry = Registry::load(
            Arc::new(RpcChain::new(rpc)),
            world.network,
            Duration::from_secs(60),
        )
        .await
        .expect("the oracle reads the network");
        assert_eq!(registry.category(), Category::Compute);
        let receipt = |device: Key| Report {
            network: Key(world.network.to_bytes()),
            device,
            timestamp_ms: 1,
            body: Body::GpuReceipt(GpuReceipt {
                order: Key([1; 32]),
                client: Key([2; 32]),
                gpu_class: "a100".into(),
                start_ms: 1,
                end_ms: 2,
                gpu_seconds: 1,
                result_hash: Hash32::default(),
            }),
        };
        let ours = receipt(Key(world.device_key.pubkey().to_bytes()));
        let stranger = receipt(Key(Keypair::new().pubkey().to_bytes()));
        let outcomes = registry.authenticate(&[&ours, &stranger]).await;
        assert_eq!(outcomes[0].map(|d| d.mint), Ok(world.device_mint));
        assert_eq!(outcomes[1], Err(Rejection::UnknownDevice));
        // Suspended on chain: refused after the next read.
        chain
            .send(
                &[registry::set_device_status(
                    &world.authority.pubkey(),
                    &world.network,
                    &world.device,
                    DeviceStatus::Suspended,
                )],
                &[&world.authority],
            )
            .await
            .expect("suspend");
        registry.refresh().await.expect("read again");
        assert_eq!(
            registry.authenticate(&[&ours]).await,
            vec![Err(Rejection::SuspendedDevice)]
        );
    });
}

/// A pool for `world`'s network whose epoch 0 starts now on the chain's clock.
async fn create_pool(chain: &Chain, world: &World) {
    let keys = PoolKeys::new(&world.network, &world.reward_mint, &SPL_TOKEN);
    let start = accounts::chain_time(&chain.rpc).await.unwrap();
    chain
        .send(
            &[pool::create_pool(
                &world.authority.pubkey(),
                &world.network,
                &keys,
                CreatePoolArgs {
                    start_time: start,
                    epoch_length_secs: 3_600,
                    schedule: EmissionSchedule {
                        initial_per_epoch: 5_000,
                        decay_interval_epochs: 0,
                        retain_bps: 10_000,
                    },
                },
            )],
            &[&world.authority],
        )
        .await
        .expect("create pool");
}

/// A free loopback port for the daemon's API.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn the_oracle_daemon_takes_the_networks_device_reports_over_http() {
    on_localnet(Vec::new(), |chain, _| async move {
        let world = world(&chain).await;
        create_pool(&chain, &world).await;
        let dir = std::env::temp_dir().join(format!("depinkit-oracle-run-{}", world.network));
        std::fs::create_dir_all(&dir).unwrap();
        let keypair = dir.join("oracle.json");
        solana_sdk::signature::write_keypair_file(&world.oracles[0], &keypair).unwrap();
        let database = dir.join("oracle.db");
        let bind = format!("127.0.0.1:{}", free_port());
        let text = format!(
            "[chain]\nrpc_url = \"{}\"\nnetwork = \"{}\"\nkeypair = \"{}\"\n\
             [store]\ndatabase_url = \"sqlite:{}\"\n[ingest]\nbind = \"{bind}\"\n",
            chain.rpc.url(),
            world.network,
            keypair.display(),
            database.display()
        );
        let config = Config::parse(&text, "test", Vec::new()).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let daemon = tokio::spawn(async move {
            depinkit_oracle::daemon::run(&config, async {
                let _ = stopped.await;
            })
            .await
        });
        let http = reqwest::Client::new();
        let url = format!("http://{bind}");
        let mut up = false;
        for _ in 0..100 {
            if let Ok(response) = http.get(format!("{url}/health")).send().await {
                let health: serde_json::Value = response.json().await.unwrap();
                assert_eq!(health["devices"], 1);
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up, "the daemon serves /health");

        // A GPU receipt from the onboarded device (co-signed by its client),
        // and the same from a key the network never onboarded.
        let client = Keypair::new();
        let receipt = |device: &Keypair| {
            Report {
                network: Key(world.network.to_bytes()),
                device: Key(device.pubkey().to_bytes()),
                timestamp_ms: now_ms(),
                body: Body::GpuReceipt(GpuReceipt {
                    order: Key([1; 32]),
                    client: Key(client.pubkey().to_bytes()),
                    gpu_class: "a100".into(),
                    start_ms: now_ms() - 60_000,
                    end_ms: now_ms(),
                    gpu_seconds: 60,
                    result_hash: Hash32::sha256(b"result"),
                }),
            }
            .sign(&signing_key(device))
            .cosign(&signing_key(&client))
        };
        let ours = receipt(&world.device_key);
        let batch = serde_json::json!([ours, receipt(&Keypair::new())]);
        let answer: BatchAnswer = http
            .post(format!("{url}/v1/reports"))
            .json(&batch)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            answer.results,
            vec![
                Verdict::Accepted {
                    content_hash: ours.report.content_hash()
                },
                Verdict::Rejected {
                    reason: Rejection::UnknownDevice
                }
            ]
        );

        stop.send(()).unwrap();
        daemon.await.unwrap().expect("the daemon stops cleanly");
        let store = Store::open(&format!("sqlite:{}", database.display()))
            .await
            .unwrap();
        let kept = store.epoch_reports(0, 0, 10).await.unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].report, ours);
        assert_eq!(kept[0].device_mint, world.device_mint);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// The ed25519 signing key of a Solana keypair (its first 32 bytes are the seed).
fn signing_key(keypair: &Keypair) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&keypair.to_bytes()[..32].try_into().unwrap())
}
