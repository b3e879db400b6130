//! The storage and compute rules on the localnet, through real orders: a
//! customer opens orders, the device's holder accepts them, the device side
//! answers the oracle's storage challenges (leaves read from the bytes it
//! holds) or bills a job with a receipt its customer co-signs and answers a
//! compute challenge; the oracle reads the orders over RPC when it scores the
//! epoch with the category's rules, and what it refuses it names.

use super::localnet_rpc::{Chain, SPL_TOKEN, World, init_payments, on_localnet, world_of};
use super::oracle::{Setup, fetch_when_ready, free_port, start_oracle, wait_until_up};
use depinkit_device::{
    DeviceKey, OracleClient,
    gpu::{GpuNode, Job},
    storage::{Answering, StorageNode, StoredDeal},
};
use depinkit_localnet::time_travel;
use depinkit_oracle::store::now_ms;
use depinkit_reports::{Hash32, Key, Verdict};
use depinkit_sdk::{
    accounts,
    payments::{self, OrderKeys},
    pool::{self, PoolKeys},
};
use device_registry::state::Category;
use reward_pool::{
    instructions::CreatePoolArgs,
    state::{EmissionSchedule, FundingKind},
};
use service_payments::{instructions::OpenOrderArgs, state::Provider};
use solana_sdk::signature::{Keypair, Signer};
use std::time::Duration;

/// Epochs of an hour: the test ends one by moving the chain's clock.
const EPOCH_SECS: i64 = 3_600;
/// Epoch 0's emission.
const EMISSION: u64 = 5_000;

/// The world's pool, epoch 0 starting at `start`, funded for a few epochs.
async fn pool_from(chain: &Chain, world: &World, start: i64) {
    let keys = PoolKeys::new(&world.network, &world.reward_mint, &SPL_TOKEN);
    let schedule = EmissionSchedule {
        initial_per_epoch: EMISSION,
        decay_interval_epochs: 0,
        retain_bps: 10_000,
    };
    let create = pool::create_pool(
        &world.authority.pubkey(),
        &world.network,
        &keys,
        CreatePoolArgs {
            start_time: start,
            epoch_length_secs: EPOCH_SECS,
            schedule,
        },
    );
    chain
        .send(&[create], &[&world.authority])
        .await
        .expect("create pool");
    let funder = chain
        .fund_tokens(&chain.payer.pubkey(), &world.reward_mint, 100_000)
        .await;
    let fund = pool::fund_pool(
        &chain.payer.pubkey(),
        &keys,
        &funder,
        100_000,
        FundingKind::Emissions,
    );
    chain.send(&[fund], &[]).await.expect("fund pool");
}

/// Payments for the world's network, and a funded customer.
async fn customer_of(chain: &Chain, world: &World) -> Keypair {
    init_payments(chain, world).await;
    let customer = chain.wallet().await;
    chain
        .fund_tokens(&customer.pubkey(), &world.reward_mint, 1_000_000)
        .await;
    customer
}

/// Order `id` of `customer` for the world's device, committing to
/// `spec_hash`, accepted by the device's holder; its address.
async fn accepted_order(
    chain: &Chain,
    world: &World,
    customer: &Keypair,
    id: u64,
    spec_hash: Hash32,
) -> Key {
    let now = accounts::chain_time(&chain.rpc).await.unwrap();
    let order = OrderKeys::new(
        &world.network,
        &customer.pubkey(),
        id,
        &world.reward_mint,
        &SPL_TOKEN,
    );
    let open = OpenOrderArgs {
        order_id: id,
        provider: Provider::Device(world.device),
        max_amount: 10_000,
        accept_deadline: now + 600,
        service_deadline: now + 4 * EPOCH_SECS,
        spec_hash: spec_hash.0,
    };
    chain
        .send(&[payments::open_order(&order, open)], &[customer])
        .await
        .expect("open order");
    let accept = payments::accept_order(
        &world.holder.pubkey(),
        &world.network,
        &order.order,
        &world.device,
        &world.device_mint,
    );
    chain
        .send(&[accept], &[&world.holder])
        .await
        .expect("accept order");
    Key(order.order.to_bytes())
}

/// The world's oracle, scoring with its category's rules and following
/// events at `ws_url`, its files under `dir`; up when this returns.
async fn category_oracle(
    chain: &Chain,
    world: &World,
    dir: &std::path::Path,
    ws_url: String,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), depinkit_oracle::daemon::RunError>>,
) {
    let running = start_oracle(
        chain,
        world,
        &world.oracles[0],
        dir,
        Setup {
            port: free_port(),
            overrides: vec![
                ("DEPIN_ORACLE__CHAIN__WS_URL".into(), ws_url),
                ("DEPIN_ORACLE__RULES__SET".into(), "category".into()),
            ],
            ..Setup::default()
        },
    );
    wait_until_up(&reqwest::Client::new(), &running.0).await;
    running
}

/// The world's device as the device side holds it.
fn device_key(world: &World) -> DeviceKey {
    DeviceKey::from_seed(world.device_key.to_bytes()[..32].try_into().unwrap())
}

/// Each of the device's reports of epoch 0 as its owner reads it: the rule
/// that refused it, or its status.
async fn statuses(http: &reqwest::Client, url: &str, world: &World) -> Vec<String> {
    let answer: serde_json::Value = http
        .get(format!(
            "{url}/v1/devices/{}/reports?epoch=0",
            world.device_mint
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut found: Vec<String> = answer["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["rule"]
                .as_str()
                .unwrap_or(r["status"].as_str().unwrap())
                .to_string()
        })
        .collect();
    found.sort();
    found
}

/// The device's reward in the finalized root the oracle serves.
async fn reward(http: &reqwest::Client, url: &str, world: &World) -> Option<u64> {
    let proofs = fetch_when_ready(http, &format!("{url}/v1/proofs")).await;
    proofs["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["device_mint"] == world.device_mint.to_string())
        .map(|c| c["cumulative_amount"].as_u64().unwrap())
}

#[test]
fn a_storage_provider_is_paid_for_the_deal_it_proves_and_struck_for_the_one_it_skips() {
    on_localnet(Vec::new(), |chain, ws_url| async move {
        let world = world_of(&chain, 1, Category::Storage).await;
        // Epoch 0 begins at a minute's start, at least 20 s from now: the
        // deals are accepted before it, and the oracle's entropy of that
        // minute is the epoch's seed.
        let now = accounts::chain_time(&chain.rpc).await.unwrap();
        let start = (now + 20).div_euclid(60) * 60 + 60;
        pool_from(&chain, &world, start).await;
        let customer = customer_of(&chain, &world).await;
        let kept = StoredDeal::new((0..20_000u32).map(|i| (i % 253) as u8).collect(), 512).unwrap();
        let skipped = StoredDeal::new(vec![7; 3_000], 256).unwrap();
        let kept_order = accepted_order(&chain, &world, &customer, 1, kept.spec().hash()).await;
        let skipped_order =
            accepted_order(&chain, &world, &customer, 2, skipped.spec().hash()).await;
        let mut kept_node = StorageNode::new(device_key(&world));
        kept_node.hold(kept_order, kept);
        let mut skipping_node = StorageNode::new(device_key(&world));
        skipping_node.hold(skipped_order, skipped);

        let dir = std::env::temp_dir().join(format!("depinkit-oracle-storage-{}", world.network));
        std::fs::create_dir_all(&dir).unwrap();
        let (url, stop, daemon) = category_oracle(&chain, &world, &dir, ws_url).await;
        let http = reqwest::Client::new();

        // Once the epoch's first minute has its seed, the provider answers.
        let client = OracleClient::new(&url);
        let asked = std::time::Instant::now();
        let seed = loop {
            match client.storage_seed().await {
                Ok(seed) => break seed,
                Err(e) => {
                    assert!(asked.elapsed() < Duration::from_secs(150), "no seed: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        };
        assert_eq!(
            (seed.epoch, seed.epoch_start_ms),
            (0, start * 1000),
            "the seed of epoch 0"
        );
        let network = Key(world.network.to_bytes());
        let at = now_ms();
        let mut reports = kept_node.answer_epoch(
            network,
            &seed.seed,
            seed.epoch,
            seed.challenges_per_deal,
            at,
            Answering::Honest,
        );
        reports.extend(skipping_node.answer_epoch(
            network,
            &seed.seed,
            seed.epoch,
            seed.challenges_per_deal,
            at,
            Answering::SkipChallenge,
        ));
        let verdicts = client.send_all(&reports, 100).await.unwrap();
        assert!(
            verdicts
                .iter()
                .all(|v| matches!(v, Verdict::Accepted { .. })),
            "{verdicts:?}"
        );

        time_travel(&chain.rpc, start + EPOCH_SECS + 2)
            .await
            .unwrap();
        assert_eq!(
            reward(&http, &url, &world).await,
            Some(EMISSION),
            "the one proven deal earns the epoch"
        );
        let mut expected = vec!["counted".to_string(); 20];
        expected.extend(vec!["deal_not_proven".to_string(); 19]);
        expected.sort();
        assert_eq!(statuses(&http, &url, &world).await, expected);
        // The skipped deal's strike is carried, in the bundle for anyone.
        let bundle = fetch_when_ready(&http, &format!("{url}/v1/epochs/0/bundle")).await;
        assert_eq!(
            bundle["carried"].as_array().map(Vec::len),
            Some(1),
            "{}",
            bundle["carried"]
        );

        stop.send(()).unwrap();
        daemon.await.unwrap().expect("stops cleanly");
        let _ = std::fs::remove_dir_all(&dir);
    });
}

#[test]
fn a_gpu_provider_earns_for_a_cosigned_receipt_and_a_right_answer() {
    on_localnet(Vec::new(), |chain, ws_url| async move {
        let world = world_of(&chain, 1, Category::Compute).await;
        let start = accounts::chain_time(&chain.rpc).await.unwrap();
        pool_from(&chain, &world, start).await;
        let customer = customer_of(&chain, &world).await;
        let job_spec = Hash32::sha256(b"matmul 64x64 seed 7");
        let order = accepted_order(&chain, &world, &customer, 1, job_spec).await;

        let dir = std::env::temp_dir().join(format!("depinkit-oracle-compute-{}", world.network));
        std::fs::create_dir_all(&dir).unwrap();
        let (url, stop, daemon) = category_oracle(&chain, &world, &dir, ws_url).await;
        let http = reqwest::Client::new();

        let network = Key(world.network.to_bytes());
        let node = GpuNode::new(device_key(&world), "a100");
        let client = OracleClient::new(&url);
        let challenge = client
            .compute_challenge(&node.key().public(), node.gpu_class())
            .await
            .unwrap();
        let answer = node.answer(network, challenge, now_ms());
        // A ten-second job after the order was accepted, its receipt
        // co-signed by the customer; and a receipt for an order that does
        // not exist.
        let accepted: service_payments::state::Order = accounts::fetch(
            &chain.rpc,
            &solana_sdk::pubkey::Pubkey::new_from_array(order.0),
        )
        .await
        .unwrap();
        let job_start = (accepted.accepted_at * 1000).max(now_ms() - 60_000) + 1_000;
        let job = Job {
            order,
            start_ms: job_start,
            end_ms: job_start + 10_000,
            gpu_seconds: 10,
            result_hash: Hash32::sha256(b"the product"),
        };
        let customer_key =
            ed25519_dalek::SigningKey::from_bytes(&customer.to_bytes()[..32].try_into().unwrap());
        let client_key = Key(customer.pubkey().to_bytes());
        let receipt = node
            .receipt(network, client_key, &job)
            .cosign(&customer_key);
        let stray = node
            .receipt(
                network,
                client_key,
                &Job {
                    order: Key([9; 32]),
                    ..job.clone()
                },
            )
            .cosign(&customer_key);
        // The same job billed again by a second receipt.
        let again = node
            .receipt(
                network,
                client_key,
                &Job {
                    start_ms: job.start_ms + 20_000,
                    end_ms: job.end_ms + 20_000,
                    ..job.clone()
                },
            )
            .cosign(&customer_key);
        let holder_account =
            depinkit_sdk::ata(&world.holder.pubkey(), &world.reward_mint, &SPL_TOKEN);
        let holder_before = depinkit_sdk::tokens::balance(&chain.rpc, &holder_account)
            .await
            .unwrap()
            .unwrap_or(0);
        let verdicts = client
            .send_all(&[answer, receipt, stray, again], 10)
            .await
            .unwrap();
        assert!(
            verdicts
                .iter()
                .all(|v| matches!(v, Verdict::Accepted { .. })),
            "{verdicts:?}"
        );

        time_travel(&chain.rpc, start + EPOCH_SECS + 2)
            .await
            .unwrap();
        assert_eq!(reward(&http, &url, &world).await, Some(EMISSION));
        assert_eq!(
            statuses(&http, &url, &world).await,
            [
                "counted",
                "counted",
                "order_billed_already",
                "unknown_order"
            ]
        );
        // Once the epoch is final the oracle settles the job's order: the
        // escrow paid to the device's holder less the network's fee and the
        // pool's share, the order completed and closed.
        let order_address = solana_sdk::pubkey::Pubkey::new_from_array(order.0);
        for _ in 0..100 {
            if chain.rpc.get_account(&order_address).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(
            chain.rpc.get_account(&order_address).await.is_err(),
            "the order is settled and closed"
        );
        let parts = service_payments::instructions::split(
            accepted.max_amount,
            accepted.fee_bps,
            accepted.pool_share_bps,
            false,
            true,
        );
        let holder_after = depinkit_sdk::tokens::balance(&chain.rpc, &holder_account)
            .await
            .unwrap()
            .unwrap_or(0);
        assert!(parts.provider > 0);
        // The holder also claims nothing here (no crank): the difference is
        // the job's payment.
        assert_eq!(holder_after - holder_before, parts.provider);

        stop.send(()).unwrap();
        daemon.await.unwrap().expect("stops cleanly");
        let _ = std::fs::remove_dir_all(&dir);
    });
}
