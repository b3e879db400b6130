//! `depin order job|result`: a GPU job bought through an order. The
//! customer escrows the payment in an order whose spec hash is the job's
//! ([`MatrixJob::hash`]), sends the job to a compute node
//! (`depin-device compute-node`, found in the oracle's provider list or
//! named), which accepts the order and runs it; then fetches the result and
//! the node's receipt, checks both (the receipt names this order, this
//! wallet and the result's hash; every product passes Freivalds' check with
//! vectors drawn here), and co-signs the receipt to the oracle, which
//! settles the order. A wrong result is refused: the receipt is not signed,
//! so the provider cannot be paid, and the escrow comes back with
//! `depin order cancel` once the service deadline and the settlement grace
//! have passed.

use super::{OpenRequest, open};
use crate::{config::pubkey, context::Context, error::CliError, output::local_time};
use depinkit_device::job_client::{JobClient, JobClientError};
use depinkit_reports::{
    Body, Hash32, Key, SignedReport, Verdict,
    job::{MatrixJob, WrongResult, result_hash},
};
use depinkit_sdk::{accounts, device_registry::pda};
use rand_core::RngCore;
use service_payments::state::{Order, OrderStatus, SETTLEMENT_GRACE_SECS};
use solana_sdk::{pubkey::Pubkey, signature::Signer};
use std::{path::PathBuf, time::Duration};

/// Where the result goes and how it is checked.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The network oracle's API: lists the compute nodes, takes the
    /// co-signed receipt.
    #[arg(long)]
    oracle: String,
    /// The compute node's URL [default: the accepting device's, from the
    /// oracle's provider list].
    #[arg(long)]
    node: Option<String>,
    /// Write the result here (products as little-endian u32, row-major).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Freivalds rounds per product: a wrong product passes each with
    /// probability at most 1/(2^31 - 1).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
}

/// `depin order job` options.
#[derive(clap::Args, Debug)]
pub struct JobArgs {
    /// Your number for the job's order.
    #[arg(long)]
    id: u64,
    /// Amount escrowed: the job's price, whole tokens of the reward mint.
    #[arg(long)]
    amount: String,
    /// Side of the job's matrices.
    #[arg(long, default_value_t = 256)]
    size: u16,
    /// Products to compute.
    #[arg(long, default_value_t = 1)]
    count: u16,
    /// Seed of the inputs, 64 hex characters [default: random].
    #[arg(long)]
    seed: Option<String>,
    /// Who may run it: a device key, or `any`.
    #[arg(long, default_value = "any")]
    provider: String,
    /// Seconds a node has to accept it.
    #[arg(long, default_value_t = 600)]
    accept_within: i64,
    /// Seconds until the service deadline: the receipt must be signed and
    /// attested before it.
    #[arg(long, default_value_t = 3_600)]
    serve_within: i64,
    /// Seconds to wait for the job to finish.
    #[arg(long, default_value_t = 600)]
    wait_secs: u64,
    #[command(flatten)]
    check: CheckArgs,
}

/// `depin order result` options.
#[derive(clap::Args, Debug)]
pub struct ResultArgs {
    /// Your order id.
    #[arg(long)]
    id: u64,
    #[command(flatten)]
    check: CheckArgs,
}

/// A node's failure, worded for the terminal: a refusal is the node's
/// answer to this input, anything else a failure to reach it.
fn node_error(e: JobClientError) -> CliError {
    match e {
        JobClientError::Refused { .. } | JobClientError::NotDone { .. } => {
            CliError::Input(e.to_string())
        }
        JobClientError::Unreachable(..) => CliError::Rpc(e.to_string()),
    }
}

/// The compute nodes to try, in order: `--node`, or the oracle's listed
/// nodes (only `device`'s when one is named).
async fn candidates(
    check: &CheckArgs,
    network: &Pubkey,
    device: Option<Key>,
) -> Result<Vec<String>, CliError> {
    if let Some(node) = &check.node {
        return Ok(vec![node.clone()]);
    }
    let listed = depinkit_storage::nodes::providers(
        &reqwest::Client::new(),
        &check.oracle,
        Key(network.to_bytes()),
    )
    .await
    .map_err(|e| CliError::Rpc(e.to_string()))?;
    let nodes: Vec<String> = listed
        .into_iter()
        .filter(|l| device.is_none_or(|d| l.device == d))
        .map(|l| l.endpoint)
        .collect();
    if nodes.is_empty() {
        return Err(CliError::Input(format!(
            "{} lists no compute node{}: pass --node URL",
            check.oracle,
            device
                .map(|d| format!(" for device {d}"))
                .unwrap_or_default()
        )));
    }
    Ok(nodes)
}

/// `depin order job`.
pub async fn buy(
    ctx: &Context,
    network: &Pubkey,
    record: &device_registry::state::Network,
    args: JobArgs,
) -> Result<(), CliError> {
    let seed = match &args.seed {
        Some(hex) => depinkit_sdk::proofs::parse_hash(hex)
            .map(Hash32)
            .ok_or_else(|| CliError::Input("--seed must be 64 hex characters".into()))?,
        None => {
            let mut seed = [0u8; 32];
            rand_core::OsRng.fill_bytes(&mut seed);
            Hash32(seed)
        }
    };
    let spec = MatrixJob {
        size: args.size,
        count: args.count,
        seed,
    };
    spec.check()
        .map_err(|e| CliError::Input(format!("the job: {e}")))?;
    let device = match args.provider.as_str() {
        "any" => None,
        "network" => {
            return Err(CliError::Input(
                "--provider: a job is run by a device (its key) or any device".into(),
            ));
        }
        key => Some(Key(pubkey(key, "--provider")?.to_bytes())),
    };
    // The nodes first: no escrow is locked for a job no node could take.
    let nodes = candidates(&args.check, network, device).await?;
    let opened = open(
        ctx,
        network,
        record,
        OpenRequest {
            id: args.id,
            amount: args.amount,
            provider: args.provider,
            mint: None,
            accept_within: args.accept_within,
            serve_within: args.serve_within,
            spec_hash: spec.hash().0,
        },
    )
    .await?;
    eprintln!(
        "Order {} ({}) opened: {} escrowed for {} product(s) of {}x{}",
        args.id, opened.order, opened.escrowed, spec.count, spec.size, spec.size
    );
    let order_key = Key(opened.order.to_bytes());
    let mut taken_by = None;
    for node in &nodes {
        let client = JobClient::new(node);
        match client.submit(&order_key, &spec).await {
            Ok(_) => {
                taken_by = Some(client);
                break;
            }
            Err(e) => eprintln!("{e}"),
        }
    }
    let Some(client) = taken_by else {
        // A node that did not answer may have accepted the order all the
        // same: then it can no longer be cancelled before its deadline.
        let order: Option<Order> = accounts::fetch_optional(&ctx.rpc, &opened.order)
            .await
            .map_err(|e| ctx.rpc_error(e))?;
        if let Some(order) = order.filter(|o| o.status == OrderStatus::Accepted) {
            let refundable = order.service_deadline.saturating_add(SETTLEMENT_GRACE_SECS);
            return Err(CliError::Rpc(format!(
                "order {} was accepted by device {} but its node did not answer: `depin order result --id {}` fetches the job once done; unpaid, the escrow comes back with `depin order cancel --id {}` after {}",
                args.id,
                order
                    .accepted_device
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                args.id,
                args.id,
                local_time(refundable)
            )));
        }
        return Err(CliError::Input(format!(
            "no compute node took the job; order {} stays open: `depin order cancel --id {}` refunds it",
            args.id, args.id
        )));
    };
    eprintln!("{} accepted the order and runs the job", client.endpoint());
    client
        .wait_done(&order_key, Duration::from_secs(args.wait_secs))
        .await
        .map_err(|e| match e {
            JobClientError::NotDone { .. } => CliError::Input(format!(
                "{e}: `depin order result --id {}` fetches it later",
                args.id
            )),
            e => node_error(e),
        })?;
    let order: Order = accounts::fetch(&ctx.rpc, &opened.order)
        .await
        .map_err(|e| ctx.rpc_error(e))?;
    let check = CheckArgs {
        node: Some(client.endpoint().to_string()),
        ..args.check
    };
    check_and_sign(ctx, network, args.id, &opened.order, &order, &check).await
}

/// `depin order result`.
pub async fn result(ctx: &Context, network: &Pubkey, args: ResultArgs) -> Result<(), CliError> {
    let customer = ctx.keypair()?;
    let address = service_payments::pda::find_order_address(network, &customer.pubkey(), args.id).0;
    let order: Order = accounts::fetch_optional(&ctx.rpc, &address)
        .await
        .map_err(|e| ctx.rpc_error(e))?
        .ok_or_else(|| {
            CliError::Input(format!(
                "you have no open order {} (a settled order is closed)",
                args.id
            ))
        })?;
    check_and_sign(ctx, network, args.id, &address, &order, &args.check).await
}

/// How far a node's clock may run ahead of the customer's, milliseconds.
const CLOCK_SKEW_MS: i64 = 30_000;

/// Why the node's receipt, once `cosigned` here, is not one to send at
/// (the customer's) unix time `now_ms`, if it is not: a receipt co-signed
/// is the customer's word that the bill is right.
fn receipt_problem(
    cosigned: &SignedReport,
    network: &Pubkey,
    address: &Pubkey,
    order: &Order,
    customer: &Pubkey,
    result: &[u8],
    now_ms: i64,
) -> Option<String> {
    if depinkit_reports::verify_signatures(std::slice::from_ref(cosigned))[0].is_err() {
        return Some("the device's signature does not verify".into());
    }
    let report = &cosigned.report;
    let Body::GpuReceipt(body) = &report.body else {
        return Some("it is not a GPU receipt".into());
    };
    let device = pda::find_device_address(network, &Pubkey::new_from_array(report.device.0)).0;
    if report.network != Key(network.to_bytes()) || order.accepted_device != Some(device) {
        return Some("it is not signed by the device that accepted the order".into());
    }
    if body.order != Key(address.to_bytes()) || body.client != Key(customer.to_bytes()) {
        return Some("it bills another order or another customer".into());
    }
    if body.result_hash != result_hash(result) {
        return Some("its result hash is not the result's".into());
    }
    if body.start_ms < order.accepted_at.saturating_mul(1000) || body.end_ms < body.start_ms {
        return Some("the job's times are not after the order's acceptance".into());
    }
    if body.end_ms > order.service_deadline.saturating_mul(1000)
        || body.end_ms > now_ms + CLOCK_SKEW_MS
    {
        return Some("the job ends after the service deadline or in the future".into());
    }
    let span_ms = u64::try_from(body.end_ms - body.start_ms).unwrap_or(0);
    if body.gpu_seconds == 0 || body.gpu_seconds.saturating_mul(1000) > span_ms {
        return Some(format!(
            "it bills {} GPU-seconds for a job that ran {span_ms} ms",
            body.gpu_seconds
        ));
    }
    None
}

/// Fetches the result and the receipt of order `id` (at `address`) from
/// its node, checks them, and co-signs the receipt to the oracle; a wrong
/// result is refused with [`CliError::Mismatch`].
async fn check_and_sign(
    ctx: &Context,
    network: &Pubkey,
    id: u64,
    address: &Pubkey,
    order: &Order,
    check: &CheckArgs,
) -> Result<(), CliError> {
    let customer = ctx.keypair()?;
    let Some(device_account) = order
        .accepted_device
        .filter(|_| order.status == OrderStatus::Accepted)
    else {
        return Err(CliError::Input(format!(
            "order {id} is not accepted by a device yet"
        )));
    };
    let device: depinkit_sdk::device_registry::state::Device =
        accounts::fetch(&ctx.rpc, &device_account)
            .await
            .map_err(|e| ctx.rpc_error(e))?;
    let node = candidates(check, network, Some(Key(device.device_key.to_bytes())))
        .await?
        .remove(0);
    let client = JobClient::new(&node);
    let order_key = Key(address.to_bytes());
    let spec = client.spec(&order_key).await.map_err(node_error)?;
    if spec.hash().0 != order.spec_hash {
        return Err(CliError::Mismatch(format!(
            "{node} runs another job than order {id} bought (its spec hash is not the order's)"
        )));
    }
    let result = client
        .result(&order_key, spec.result_len())
        .await
        .map_err(node_error)?;
    let receipt = client.receipt(&order_key).await.map_err(node_error)?;
    if let Err(wrong) = spec.check_result(&result, check.rounds, || rand_core::OsRng.next_u32()) {
        return Err(dispute(ctx, id, order, &wrong, &receipt));
    }
    let signing = ed25519_dalek::SigningKey::from_bytes(
        customer.to_bytes()[..32]
            .try_into()
            .expect("a keypair's first 32 bytes are its seed"),
    );
    let cosigned = receipt.clone().cosign(&signing);
    if let Some(problem) = receipt_problem(
        &cosigned,
        network,
        address,
        order,
        &customer.pubkey(),
        &result,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
    ) {
        return Err(CliError::Mismatch(format!(
            "the node's receipt is refused, not signed: {problem}"
        )));
    }
    if let Some(out) = &check.out {
        std::fs::write(out, &result)
            .map_err(|e| CliError::Input(format!("cannot write {}: {e}", out.display())))?;
    }
    let verdicts = depinkit_device::OracleClient::new(&check.oracle)
        .send_all(std::slice::from_ref(&cosigned), 1)
        .await
        .map_err(|e| CliError::Rpc(e.to_string()))?;
    let content_hash = match verdicts.first() {
        Some(Verdict::Accepted { content_hash }) => *content_hash,
        Some(Verdict::Rejected { reason }) => {
            return Err(CliError::Input(format!(
                "the oracle refused the receipt: {} ({reason})",
                reason.code()
            )));
        }
        None => return Err(CliError::Rpc("the oracle answered no verdict".into())),
    };
    let Body::GpuReceipt(body) = &cosigned.report.body else {
        unreachable!("checked to be a GPU receipt")
    };
    ctx.output.print(
        &serde_json::json!({
            "order": address.to_string(),
            "node": node,
            "products": spec.count,
            "size": spec.size,
            "result_bytes": result.len(),
            "result_hash": body.result_hash.to_string(),
            "gpu_seconds": body.gpu_seconds,
            "checked_rounds": check.rounds,
            "receipt": content_hash.to_string(),
        }),
        || {
            format!(
                "Order {id}: {} product(s) of {}x{} checked ({} Freivalds rounds each), {} bytes{}\nReceipt co-signed and sent to the oracle ({content_hash}): the order settles once its epoch is finalized",
                spec.count,
                spec.size,
                spec.size,
                check.rounds,
                result.len(),
                check
                    .out
                    .as_ref()
                    .map(|o| format!(" written to {}", o.display()))
                    .unwrap_or_default()
            )
        },
    );
    Ok(())
}

/// The refusal of a wrong result: what was wrong, the node's signed
/// receipt as evidence (in JSON output), and when the escrow comes back.
fn dispute(
    ctx: &Context,
    id: u64,
    order: &Order,
    wrong: &WrongResult,
    receipt: &SignedReport,
) -> CliError {
    let refundable = order.service_deadline.saturating_add(SETTLEMENT_GRACE_SECS);
    ctx.output.print(
        &serde_json::json!({
            "disputed": true,
            "wrong": wrong.to_string(),
            "node_receipt": receipt,
            "refundable_after": refundable,
        }),
        || {
            format!(
                "The node's signed receipt, kept as evidence: {}",
                serde_json::to_string(receipt).unwrap_or_default()
            )
        },
    );
    CliError::Mismatch(format!(
        "the result is wrong ({wrong}): its receipt is not signed, so the provider is not paid; `depin order cancel --id {id}` refunds the escrow after {}",
        local_time(refundable)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use depinkit_device::{
        gpu::{GpuNode, Job},
        keys::DeviceKey,
    };
    use service_payments::state::Provider;

    const NETWORK: Pubkey = Pubkey::new_from_array([1; 32]);
    const ORDER: Pubkey = Pubkey::new_from_array([2; 32]);
    const CUSTOMER: Pubkey = Pubkey::new_from_array([3; 32]);
    /// The order was accepted at 1,000 s; it must be served by 2,000 s.
    const ACCEPTED_AT: i64 = 1_000;
    const SERVICE_DEADLINE: i64 = 2_000;
    const NOW_MS: i64 = 1_500_000;
    const RESULT: &[u8] = b"the products";

    fn node() -> GpuNode {
        GpuNode::new(DeviceKey::from_seed([4; 32]), "a100")
    }

    fn order() -> Order {
        let device_key = Pubkey::new_from_array(node().key().public().0);
        Order {
            version: 1,
            bump: 255,
            network: NETWORK,
            customer: CUSTOMER,
            order_id: 1,
            payment_mint: Pubkey::new_from_array([6; 32]),
            payment_token_program: Pubkey::new_from_array([7; 32]),
            escrow: Pubkey::new_from_array([8; 32]),
            provider: Provider::AnyDevice,
            accepted_device: Some(pda::find_device_address(&NETWORK, &device_key).0),
            max_amount: 1_000,
            settled: 0,
            accept_deadline: 1_500,
            service_deadline: SERVICE_DEADLINE,
            spec_hash: [0; 32],
            fee_bps: 100,
            pool_share_bps: 0,
            status: OrderStatus::Accepted,
            opened_at: 900,
            opened_slot: 0,
            accepted_at: ACCEPTED_AT,
            settlement_count: 0,
            votes: Vec::new(),
        }
    }

    /// A job of two billed seconds from 1,200 s.
    fn job() -> Job {
        Job {
            order: Key(ORDER.to_bytes()),
            start_ms: 1_200_000,
            end_ms: 1_202_000,
            gpu_seconds: 2,
            result_hash: result_hash(RESULT),
        }
    }

    /// The problem found with `job`'s receipt, co-signed.
    fn problem(job: &Job) -> Option<String> {
        let customer = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let customer_key = Pubkey::new_from_array(customer.verifying_key().to_bytes());
        let order = Order {
            customer: customer_key,
            ..order()
        };
        let receipt = node()
            .receipt_at(
                Key(NETWORK.to_bytes()),
                Key(customer_key.to_bytes()),
                job,
                job.end_ms,
            )
            .cosign(&customer);
        receipt_problem(
            &receipt,
            &NETWORK,
            &ORDER,
            &order,
            &customer_key,
            RESULT,
            NOW_MS,
        )
    }

    #[test]
    fn a_receipt_that_bills_the_job_as_it_ran_is_signed() {
        assert_eq!(problem(&job()), None);
    }

    #[test]
    fn a_receipt_that_bills_wrongly_is_refused() {
        let refused = |job: Job, why: &str| {
            let problem = problem(&job).expect("refused");
            assert!(problem.contains(why), "{problem}");
        };
        refused(
            Job {
                result_hash: result_hash(b"another result"),
                ..job()
            },
            "result hash",
        );
        refused(
            Job {
                start_ms: ACCEPTED_AT * 1000 - 1,
                ..job()
            },
            "after the order's acceptance",
        );
        refused(
            Job {
                end_ms: SERVICE_DEADLINE * 1000 + 1,
                ..job()
            },
            "after the service deadline",
        );
        refused(
            Job {
                end_ms: NOW_MS + CLOCK_SKEW_MS + 1,
                ..job()
            },
            "in the future",
        );
        refused(
            Job {
                gpu_seconds: 3,
                ..job()
            },
            "bills 3 GPU-seconds for a job that ran 2000 ms",
        );
        refused(
            Job {
                gpu_seconds: 0,
                ..job()
            },
            "bills 0 GPU-seconds",
        );
        refused(
            Job {
                order: Key([5; 32]),
                ..job()
            },
            "another order",
        );
    }
}
