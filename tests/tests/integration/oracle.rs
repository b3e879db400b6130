//! The oracle daemon against the localnet: `check` on a real configuration,
//! the registry following the chain, `run` taking a device's reports over
//! HTTP, and two oracles (threshold 2) closing an epoch, voting the same root
//! and serving the proof a device then claims with.

use super::localnet_rpc::{
    Chain, SPL_TOKEN, World, cell, create_funded_pool, on_localnet, world, world_with_oracles,
};
use depinkit_localnet::time_travel;
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
    payments::{self, PaymentsKeys},
    pool::{self, ClaimAccounts, ClaimSetup, PoolKeys},
    proofs::ProofFile,
    registry,
};
use device_registry::state::{Category, DeviceStatus};
use reward_pool::state::Pool;
use service_payments::{instructions::InitPaymentsArgs, state::PaymentsConfig};
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

/// How a test oracle runs: its API port, its peers, a fixed price to vote,
/// its database (its own SQLite file when `None`), and settings given as
/// `DEPIN_ORACLE__...` variables.
#[derive(Default)]
pub(crate) struct Setup<'a> {
    pub(crate) port: u16,
    pub(crate) peers: &'a [String],
    pub(crate) fixed_price: Option<&'a str>,
    pub(crate) database_url: Option<String>,
    pub(crate) overrides: Vec<(String, String)>,
}

/// Starts `depin-oracle run` in-process for `oracle` of `world`'s network as
/// `setup` says, its files under `dir`; its URL, the sender that stops it,
/// and its task.
pub(crate) fn start_oracle(
    chain: &Chain,
    world: &World,
    oracle: &Keypair,
    dir: &std::path::Path,
    setup: Setup,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), depinkit_oracle::daemon::RunError>>,
) {
    let Setup {
        port,
        peers,
        fixed_price,
        database_url,
        overrides,
    } = setup;
    let database_url = database_url.unwrap_or_else(|| {
        format!(
            "sqlite:{}",
            dir.join(format!("{}.db", oracle.pubkey())).display()
        )
    });
    let keypair = dir.join(format!("{}.json", oracle.pubkey()));
    solana_sdk::signature::write_keypair_file(oracle, &keypair).unwrap();
    let bind = format!("127.0.0.1:{port}");
    // Most of these tests are about the daemon (quorum, votes, claims,
    // restarts), so one point per report unless `overrides` choose the
    // category's rules.
    let text = format!(
        "[chain]\nrpc_url = \"{}\"\nnetwork = \"{}\"\nkeypair = \"{}\"\n\
         [store]\ndatabase_url = \"{database_url}\"\n[ingest]\nbind = \"{bind}\"\n\
         [rules]\nset = \"report-count\"\n\
         [epochs]\ngrace_secs = 1\ntick_secs = 1\n\
         [quorum]\npeers = {peers:?}\nexchange_timeout_secs = 3\n\
         [bundles]\nlocation = \"{}\"\n",
        chain.rpc.url(),
        world.network,
        keypair.display(),
        dir.join(format!("{}-{port}-bundles", oracle.pubkey()))
            .display()
    );
    let text = match fixed_price {
        // An hour's interval: oracles started together stamp the same time.
        Some(usd) => {
            format!("{text}[price]\nsource = \"fixed\"\nusd = \"{usd}\"\ninterval_secs = 3600\n")
        }
        None => text,
    };
    let config = Config::parse(&text, "test", overrides).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let daemon = tokio::spawn(async move {
        depinkit_oracle::daemon::run(&config, async {
            let _ = stopped.await;
        })
        .await
    });
    (format!("http://{bind}"), stop, daemon)
}

/// Posts `batch` (JSON) to `url` (a `/v1/reports` URL); the answer.
pub(crate) async fn post_reports(
    http: &reqwest::Client,
    url: &str,
    batch: serde_json::Value,
) -> BatchAnswer {
    http.post(url)
        .json(&batch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until the daemon at `url` answers `/health`.
pub(crate) async fn wait_until_up(http: &reqwest::Client, url: &str) {
    for _ in 0..100 {
        if http.get(format!("{url}/health")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} does not answer");
}

/// A GPU receipt from `device`, co-signed by its client.
pub(crate) fn receipt(
    world: &World,
    device: &Keypair,
    client: &Keypair,
    n: u64,
) -> depinkit_reports::SignedReport {
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
            gpu_seconds: n,
            result_hash: Hash32::sha256(&n.to_le_bytes()),
        }),
    }
    .sign(&signing_key(device))
    .cosign(&signing_key(client))
}

#[test]
fn two_oracles_close_an_epoch_vote_one_root_and_the_device_claims_it() {
    on_localnet(Vec::new(), |chain, _| async move {
        let world = world(&chain).await;
        let start = create_funded_pool(&chain, &world).await;
        let payments_keys = PaymentsKeys::new(&world.network, &world.reward_mint, &SPL_TOKEN);
        chain
            .send(
                &[payments::init_payments(
                    &world.authority.pubkey(),
                    &payments_keys,
                    InitPaymentsArgs {
                        credits_decimals: 0,
                        credit_usd_micros: 10,
                        max_price_age_secs: 3_600,
                        order_fee_bps: 500,
                        pool_share_bps: 0,
                        withdrawal_notice_secs: 3_600,
                    },
                )],
                &[&world.authority],
            )
            .await
            .expect("init payments");
        let dir = std::env::temp_dir().join(format!("depinkit-oracle-quorum-{}", world.network));
        std::fs::create_dir_all(&dir).unwrap();
        let oracles: Vec<_> = world
            .oracles
            .iter()
            .map(|oracle| {
                start_oracle(
                    &chain,
                    &world,
                    oracle,
                    &dir,
                    Setup {
                        port: free_port(),
                        fixed_price: Some("0.5"),
                        ..Setup::default()
                    },
                )
            })
            .collect();
        let http = reqwest::Client::new();
        let client = Keypair::new();
        let reports: Vec<_> = (1..=3)
            .map(|n| receipt(&world, &world.device_key, &client, n))
            .collect();
        // Both oracles hear every report (the exchange between oracles
        // comes with the quorum step).
        for (url, _, _) in &oracles {
            wait_until_up(&http, url).await;
            let answer: BatchAnswer = post_reports(
                &http,
                &format!("{url}/v1/reports"),
                serde_json::json!(reports),
            )
            .await;
            assert_eq!(answer.accepted, 3, "{url}: {answer:?}");
        }
        // The epoch ends on the chain's clock; each worker closes it,
        // scores it and votes; the second vote finalizes the root.
        time_travel(&chain.rpc, start + 3_600 + 2).await.unwrap();
        let mint = world.device_mint;
        let mut files = Vec::new();
        for (url, _, _) in &oracles {
            let mut file = None;
            for _ in 0..300 {
                let response = http
                    .get(format!("{url}/v1/devices/{mint}/rewards"))
                    .send()
                    .await
                    .unwrap();
                if response.status().is_success() {
                    file = Some(response.json::<ProofFile>().await.unwrap());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            files.push(file.unwrap_or_else(|| panic!("{url} serves the device's proof")));
        }
        assert_eq!(files[0], files[1], "both oracles computed the same tree");
        let keys = PoolKeys::new(&world.network, &world.reward_mint, &SPL_TOKEN);
        let pool_account: Pool = accounts::fetch(&chain.rpc, &keys.pool).await.unwrap();
        assert_eq!(pool_account.next_epoch, 1);
        assert_eq!(files[0].root_bytes(), Some(pool_account.root));
        let summary: serde_json::Value = http
            .get(format!("{}/v1/epochs/0", oracles[0].0))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(summary["state"], "finalized");
        assert_eq!(summary["reports"], 3);
        assert_eq!(summary["rewards_paid"], 5_000, "the epoch's whole emission");
        // Anyone recomputes the root from either oracle's bundle and finds
        // the one the pool finalized.
        let rpc_chain = RpcChain::new(RpcClient::new_with_commitment(
            chain.rpc.url(),
            CommitmentConfig::confirmed(),
        ));
        for (url, _, _) in &oracles {
            let bundle =
                depinkit_oracle::verify_epoch::read_bundle(&format!("{url}/v1/epochs/0/bundle"))
                    .await
                    .unwrap();
            let verdict = depinkit_oracle::verify_epoch::verify_epoch(&rpc_chain, 0, &bundle).await;
            assert!(verdict.is_ok(), "{url}: {verdict:?}");
        }

        // Both oracles voted the same fixed price for credits: it is final.
        let mut price = None;
        for _ in 0..100 {
            let config: PaymentsConfig = accounts::fetch(&chain.rpc, &payments_keys.config)
                .await
                .unwrap();
            if let Some(final_price) = config.price {
                price = Some(final_price);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let price = price.expect("the price is finalized");
        assert_eq!((price.price, price.expo), (5, -1));

        // The device's holder claims with the oracle's proof.
        let (cumulative, proof) = files[0].claim_for(&mint).unwrap();
        assert_eq!(cumulative, 5_000);
        let claim_accounts =
            ClaimAccounts::for_holder(&keys, &world.device, &mint, &world.holder.pubkey());
        let instructions = pool::claim_with_setup(
            &chain.payer.pubkey(),
            &world.holder.pubkey(),
            &keys,
            claim_accounts,
            ClaimSetup {
                create_reward_account: false,
                create_claim_record: true,
            },
            cumulative,
            proof,
        );
        let before = chain.balance(&claim_accounts.holder_reward_account).await;
        chain.send(&instructions, &[]).await.expect("claim");
        assert_eq!(
            chain.balance(&claim_accounts.holder_reward_account).await - before,
            5_000
        );
        for (_, stop, daemon) in oracles {
            stop.send(()).unwrap();
            daemon.await.unwrap().expect("stops cleanly");
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// A free loopback port for the daemon's API.
pub(crate) fn free_port() -> u16 {
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
        create_funded_pool(&chain, &world).await;
        let dir = std::env::temp_dir().join(format!("depinkit-oracle-run-{}", world.network));
        std::fs::create_dir_all(&dir).unwrap();
        let keypair = dir.join("oracle.json");
        solana_sdk::signature::write_keypair_file(&world.oracles[0], &keypair).unwrap();
        let database = dir.join("oracle.db");
        let bind = format!("127.0.0.1:{}", free_port());
        let text = format!(
            "[chain]\nrpc_url = \"{}\"\nnetwork = \"{}\"\nkeypair = \"{}\"\n\
             [store]\ndatabase_url = \"sqlite:{}\"\n[ingest]\nbind = \"{bind}\"\n\
             [bundles]\nlocation = \"{}\"\n",
            chain.rpc.url(),
            world.network,
            keypair.display(),
            database.display(),
            dir.join("bundles").display()
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
        let ours = receipt(&world, &world.device_key, &client, 60);
        let batch = serde_json::json!([ours, receipt(&world, &Keypair::new(), &client, 60)]);
        let answer: BatchAnswer = post_reports(&http, &format!("{url}/v1/reports"), batch).await;
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
pub(crate) fn signing_key(keypair: &Keypair) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&keypair.to_bytes()[..32].try_into().unwrap())
}

/// Fetches `url` until it answers 200 with JSON, for up to 30 s.
pub(crate) async fn fetch_when_ready(http: &reqwest::Client, url: &str) -> serde_json::Value {
    for _ in 0..300 {
        if let Ok(response) = http.get(url).send().await
            && response.status().is_success()
        {
            return response.json().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never answered");
}

#[test]
fn three_oracles_exchange_reports_and_finalize_with_one_down() {
    on_localnet(Vec::new(), |chain, _| async move {
        let world = world_with_oracles(&chain, 3).await;
        // A second device, so that the root depends on which reports count.
        let second = Keypair::new();
        let expires_at = accounts::chain_time(&chain.rpc).await.unwrap() + 600;
        let onboard = registry::onboard_device_signed(
            &world.holder.pubkey(),
            &world.issuing_key.pubkey(),
            &world.network,
            &second,
            cell(51.5074, -0.1278),
            expires_at,
            1_010,
            Some(world.fees),
        );
        chain
            .send_signed(&onboard, &[&world.holder, &world.issuing_key])
            .await
            .expect("onboard a second device");
        let start = create_funded_pool(&chain, &world).await;
        let dir = std::env::temp_dir().join(format!("depinkit-oracle-exchange-{}", world.network));
        std::fs::create_dir_all(&dir).unwrap();
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let urls: Vec<String> = ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect();
        let mut oracles: Vec<_> = world
            .oracles
            .iter()
            .enumerate()
            .map(|(i, oracle)| {
                let peers: Vec<String> = (0..3)
                    .filter(|&j| j != i)
                    .map(|j| urls[j].clone())
                    .collect();
                start_oracle(
                    &chain,
                    &world,
                    oracle,
                    &dir,
                    Setup {
                        port: ports[i],
                        peers: &peers,
                        ..Setup::default()
                    },
                )
            })
            .collect();
        let http = reqwest::Client::new();
        let client = Keypair::new();
        let first = |n| receipt(&world, &world.device_key, &client, n);
        let other = |n| receipt(&world, &second, &client, n);
        // Devices spread their reports over the three oracles.
        let sent = [
            (0, vec![first(1), other(1)]),
            (1, vec![first(2)]),
            (2, vec![first(3), other(2), other(3)]),
        ];
        for (i, batch) in &sent {
            wait_until_up(&http, &urls[*i]).await;
            let answer: BatchAnswer = post_reports(
                &http,
                &format!("{}/v1/reports", urls[*i]),
                serde_json::json!(batch),
            )
            .await;
            assert_eq!(answer.accepted as usize, batch.len());
        }
        // The third oracle goes down before the epoch ends: its reports are
        // out of reach during the exchange.
        let (_, stop, daemon) = oracles.pop().unwrap();
        stop.send(()).unwrap();
        daemon.await.unwrap().unwrap();

        time_travel(&chain.rpc, start + 3_600 + 2).await.unwrap();
        // Each of the two pulls the other's reports, waits out the exchange
        // timeout for the third, scores the union and votes; two votes of
        // three finalize.
        let mut files = Vec::new();
        for url in &urls[..2] {
            let file: ProofFile =
                serde_json::from_value(fetch_when_ready(&http, &format!("{url}/v1/proofs")).await)
                    .unwrap();
            let summary = fetch_when_ready(&http, &format!("{url}/v1/epochs/0")).await;
            assert_eq!(summary["reports"], 3, "{url}: the union of the two");
            files.push(file);
        }
        assert_eq!(files[0], files[1]);
        let keys = PoolKeys::new(&world.network, &world.reward_mint, &SPL_TOKEN);
        let pool_account: Pool = accounts::fetch(&chain.rpc, &keys.pool).await.unwrap();
        assert_eq!(files[0].root_bytes(), Some(pool_account.root));
        // What one oracle holding both sets would compute: 2 reports for the
        // first device, 1 for the second, 5,000 to split.
        let second_mint =
            device_registry::pda::find_device_mint_address(&world.network, &second.pubkey()).0;
        let expected = depinkit_oracle::rewards::split(
            5_000,
            &std::collections::BTreeMap::from([(world.device_mint, 2), (second_mint, 1)]),
        );
        for (mint, reward) in &expected.rewards {
            assert_eq!(
                files[0].claim_for(mint).map(|(amount, _)| amount),
                Some(*reward)
            );
        }
        for (_, stop, daemon) in oracles {
            stop.send(()).unwrap();
            daemon.await.unwrap().expect("stops cleanly");
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// A fresh database on the PostgreSQL server `DEPIN_TEST_POSTGRES_URL` names
/// (`.ci/run` starts one), or `None` without one.
async fn postgres_database() -> Option<String> {
    let Ok(admin) = std::env::var("DEPIN_TEST_POSTGRES_URL") else {
        eprintln!("DEPIN_TEST_POSTGRES_URL is not set: skipping the replicas test");
        return None;
    };
    use sqlx::Connection;
    let name = format!("depin_replicas_{}_{}", std::process::id(), now_ms());
    let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut connection)
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}

/// Two replicas of one oracle on one PostgreSQL database: both take reports,
/// one runs the epoch worker; stopped, the other takes over and the epoch,
/// with the reports of both, is voted and finalized.
#[test]
fn replicas_on_one_postgres_share_ingest_and_hand_over_the_epoch_worker() {
    on_localnet(Vec::new(), |chain, _| async move {
        let Some(database_url) = postgres_database().await else {
            return;
        };
        let world = world_with_oracles(&chain, 1).await;
        let start = create_funded_pool(&chain, &world).await;
        let dir = std::env::temp_dir().join(format!("depinkit-oracle-replicas-{}", world.network));
        std::fs::create_dir_all(&dir).unwrap();
        let replica = |port| {
            start_oracle(
                &chain,
                &world,
                &world.oracles[0],
                &dir,
                Setup {
                    port,
                    database_url: Some(database_url.clone()),
                    ..Setup::default()
                },
            )
        };
        let http = reqwest::Client::new();
        let first = replica(free_port());
        wait_until_up(&http, &first.0).await;
        // The first replica's worker holds the lock before the second starts.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let second = replica(free_port());
        wait_until_up(&http, &second.0).await;
        let client = Keypair::new();
        for (n, url) in [(1, &first.0), (2, &second.0), (3, &second.0)] {
            let answer: BatchAnswer = post_reports(
                &http,
                &format!("{url}/v1/reports"),
                serde_json::json!([receipt(&world, &world.device_key, &client, n)]),
            )
            .await;
            assert_eq!(answer.accepted, 1, "{url}");
        }
        // The worker's replica stops (its lock goes with its connection).
        let (_, stop, daemon) = first;
        stop.send(()).unwrap();
        daemon.await.unwrap().unwrap();

        time_travel(&chain.rpc, start + 3_600 + 2).await.unwrap();
        let summary = fetch_when_ready(&http, &format!("{}/v1/proofs", second.0)).await;
        let file: ProofFile = serde_json::from_value(summary).unwrap();
        let keys = PoolKeys::new(&world.network, &world.reward_mint, &SPL_TOKEN);
        let pool_account: Pool = accounts::fetch(&chain.rpc, &keys.pool).await.unwrap();
        assert_eq!(file.root_bytes(), Some(pool_account.root));
        let epoch = fetch_when_ready(&http, &format!("{}/v1/epochs/0", second.0)).await;
        assert_eq!(epoch["reports"], 3, "the reports both replicas took");
        let (_, stop, daemon) = second;
        stop.send(()).unwrap();
        daemon.await.unwrap().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    });
}
