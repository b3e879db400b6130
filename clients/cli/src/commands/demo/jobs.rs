//! The compute network's GPU customer: it buys a matrix job from a few GPU
//! devices through orders (one each, its escrow in the reward token, its
//! spec hash the job's). Each job runs on a compute node
//! (`depinkit_device::compute_node`, the agent `depin-device compute-node`
//! runs, here in this process) that accepts the order as the device's
//! owner; the customer checks each result with Freivalds' check and
//! co-signs its receipt to the oracle, which settles the order once the
//! epoch is final. The last device's node returns a wrong result: the
//! customer refuses it, so nothing is paid and its escrow stays until the
//! service deadline.

use super::{
    DemoError,
    deals::Deals,
    world::{DemoChain, DemoNetwork, SPL_TOKEN, mint_to},
};
use depinkit_device::{
    OracleClient,
    compute_node::{self, ComputeConfig, JobAnswering},
    job_client::JobClient,
    node::orders::NodeChain,
};
use depinkit_reports::{Hash32, Key, Verdict, job::MatrixJob};
use depinkit_sdk::payments::{self, OrderKeys};
use rand_core::RngCore;
use service_payments::{instructions::OpenOrderArgs, state::Provider};
use solana_sdk::{pubkey::Pubkey, signature::Signer};
use std::time::Duration;
use tokio::sync::oneshot;

/// Escrow of each job: 2 tokens.
pub const JOB_ESCROW: u64 = 2_000_000;
/// Devices that run a job: the first three (honest) and the last.
const HONEST_JOBS: usize = 3;
/// Each job: four 64 x 64 products.
const JOB_SIZE: u16 = 64;
const JOB_COUNT: u16 = 4;

/// The jobs bought, and the nodes that ran them.
pub struct Jobs {
    /// The orders and where their escrow went ([`super::summary`]).
    pub orders: Deals,
    /// Results that passed the customer's check (their receipts co-signed).
    pub checked: usize,
    /// Results refused as wrong.
    pub refused: usize,
    /// Orders the customer co-signed a receipt for: settled once final.
    signed: Vec<Pubkey>,
    /// Stops each node.
    stops: Vec<oneshot::Sender<()>>,
}

/// A port free on loopback now.
fn free_port() -> Result<u16, DemoError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| DemoError::Setup(format!("no free port: {e}")))
}

/// Starts a compute node for each job device of `network` (its jobs kept
/// under `dir`), opens a job order with each, sends the jobs, and checks
/// and signs what comes back; receipts go to the oracle at `oracle_url`.
pub async fn buy(
    chain: &DemoChain,
    network: &DemoNetwork,
    mint: &Pubkey,
    oracle_url: &str,
    dir: &std::path::Path,
    service_until: i64,
) -> Result<Jobs, DemoError> {
    let mut chosen: Vec<usize> = (0..HONEST_JOBS.min(network.devices.len())).collect();
    if network.devices.len() > HONEST_JOBS {
        chosen.push(network.devices.len() - 1);
    }
    let customer = chain.wallet(1).await?;
    let escrowed = JOB_ESCROW * chosen.len() as u64;
    mint_to(chain, mint, &customer.pubkey(), escrowed).await?;
    let treasury_account = depinkit_sdk::ata(&network.authority.pubkey(), mint, &SPL_TOKEN);
    let treasury_before = depinkit_sdk::tokens::balance(&chain.rpc, &treasury_account)
        .await
        .map_err(|e| DemoError::Chain(e.to_string()))?
        .unwrap_or(0);

    // The nodes, and an order for each.
    let accept_deadline = chain.now().await? + 600;
    let mut stops = Vec::new();
    let mut work = Vec::new();
    let mut orders = Vec::new();
    let mut opens = Vec::new();
    for (id, &index) in (1u64..).zip(&chosen) {
        let device = &network.devices[index];
        let port = free_port()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let config = ComputeConfig {
            key: device.key.clone(),
            gpu_class: depinkit_device::fleet::DEFAULT_GPU_CLASS.into(),
            chain: NodeChain::new(
                chain.rpc.clone(),
                network.address,
                &Pubkey::new_from_array(device.key.public().0),
                network.owner.insecure_clone(),
            ),
            oracle: oracle_url.into(),
            data: dir.join(format!("jobs-{}", device.mint)),
            bind: ([127, 0, 0, 1], port).into(),
            endpoint: String::new(),
            max_work: 1 << 30,
            max_backlog: 4,
            price_per_million_ops: 0,
            payment_mint: Some(*mint),
            announce_every: Duration::from_secs(60),
            // The fleet answers this device's challenges.
            challenge_every: None,
            watch_every: Duration::from_secs(2),
            answering: if index + 1 == network.devices.len() && index >= HONEST_JOBS {
                JobAnswering::WrongResult
            } else {
                JobAnswering::Honest
            },
        };
        tokio::spawn(async move {
            if let Err(e) = compute_node::run(config, async {
                let _ = stopped.await;
            })
            .await
            {
                eprintln!("compute node: {e}");
            }
        });
        stops.push(stop);
        let mut seed = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut seed);
        let spec = MatrixJob {
            size: JOB_SIZE,
            count: JOB_COUNT,
            seed: Hash32(seed),
        };
        let keys = OrderKeys::new(&network.address, &customer.pubkey(), id, mint, &SPL_TOKEN);
        opens.push(payments::open_order(
            &keys,
            OpenOrderArgs {
                order_id: id,
                provider: Provider::Device(device.address),
                max_amount: JOB_ESCROW,
                accept_deadline,
                service_deadline: service_until,
                spec_hash: spec.hash().0,
            },
        ));
        orders.push((keys.order, keys.escrow));
        work.push((
            JobClient::new(&format!("http://127.0.0.1:{port}")),
            keys.order,
            spec,
        ));
    }

    // The orders opened at once, then each job sent, run, checked, and its
    // receipt co-signed: all at once.
    let signers = [&customer];
    let opened = futures_util::future::join_all(
        opens
            .iter()
            .map(|open| chain.send(std::slice::from_ref(open), &signers)),
    )
    .await;
    opened.into_iter().collect::<Result<Vec<()>, _>>()?;
    let signing = ed25519_dalek::SigningKey::from_bytes(
        customer.to_bytes()[..32]
            .try_into()
            .expect("a keypair's first 32 bytes are its seed"),
    );
    let oracle = OracleClient::new(oracle_url);
    let outcomes = futures_util::future::join_all(work.iter().map(|(client, order, spec)| {
        let (signing, oracle) = (&signing, &oracle);
        async move {
            let order_key = Key(order.to_bytes());
            // The node may still be starting: a few tries.
            let mut submitted = client.submit(&order_key, spec).await;
            for _ in 0..20 {
                if submitted.is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                submitted = client.submit(&order_key, spec).await;
            }
            submitted.map_err(|e| e.to_string())?;
            client
                .wait_done(&order_key, Duration::from_secs(60))
                .await
                .map_err(|e| e.to_string())?;
            let result = client
                .result(&order_key, spec.result_len())
                .await
                .map_err(|e| e.to_string())?;
            let receipt = client
                .receipt(&order_key)
                .await
                .map_err(|e| e.to_string())?;
            if spec
                .check_result(&result, 2, || rand_core::OsRng.next_u32())
                .is_err()
            {
                return Ok(false);
            }
            let cosigned = receipt.cosign(signing);
            match oracle.send_all(&[cosigned], 1).await {
                Ok(verdicts) if matches!(verdicts[..], [Verdict::Accepted { .. }]) => Ok(true),
                Ok(verdicts) => Err(format!("the oracle refused the receipt: {verdicts:?}")),
                Err(e) => Err(e.to_string()),
            }
        }
    }))
    .await;
    let mut signed = Vec::new();
    let mut refused = 0;
    for ((_, order, _), outcome) in work.iter().zip(outcomes) {
        match outcome {
            Ok(true) => signed.push(*order),
            Ok(false) => refused += 1,
            Err(e) => return Err(DemoError::Oracle(format!("GPU job {order}: {e}"))),
        }
    }
    Ok(Jobs {
        orders: Deals {
            orders,
            escrowed,
            customer_account: depinkit_sdk::ata(&customer.pubkey(), mint, &SPL_TOKEN),
            treasury_account,
            treasury_before,
        },
        checked: signed.len(),
        refused,
        signed,
        stops,
    })
}

impl Jobs {
    /// Waits (at most `timeout`) until every signed job's order is settled
    /// and closed.
    pub async fn wait_settled(&self, chain: &DemoChain, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            match chain.rpc.get_multiple_accounts(&self.signed).await {
                Ok(found) if found.iter().all(Option::is_none) => return,
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    /// Stops the nodes.
    pub fn stop(self) {
        for stop in self.stops {
            let _ = stop.send(());
        }
    }
}
