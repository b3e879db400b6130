//! `depin-device compute-node`: the agent a GPU provider runs beside an
//! onboarded compute device. A customer opens an order whose spec hash is a
//! job's ([`MatrixJob::hash`]) and sends the job here; the node checks the
//! order on chain (this network, this device or any, not expired, the
//! spec's hash), accepts it as the device's NFT holder, runs the job (one
//! at a time: one GPU), and hands back the result and a receipt it signs,
//! which the customer checks, co-signs and sends to the oracle. Meanwhile it
//! announces itself to the oracle, answers the oracle's compute challenges,
//! and watches the network's orders: an order naming it that waits for its
//! job is logged, and a job whose order closed (settled or cancelled) is
//! forgotten.
//!
//! HTTP: `PUT /v1/jobs/{order}` (the job spec as JSON; 202 taken, 200
//! taken before), `GET /v1/jobs/{order}` (where it stands),
//! `GET /v1/jobs/{order}/result` (the result's bytes, once done),
//! `GET /v1/jobs/{order}/receipt` (the receipt, signed now, once done),
//! `GET /health`. A refusal is a 4xx with `{"error": code, "message": why}`
//! and takes nothing: `bad_order`, `bad_job` (400), `unknown_order` (404),
//! `other_network`, `not_for_this_device`, `taken_by_another`, `expired`
//! (403), `spec_mismatch` (400), `order_holds_another_job` (409),
//! `too_much_work` (413), `not_done` (409); a chain that cannot be read or
//! refuses the acceptance is a 502.

pub mod jobs;

use crate::{
    client::OracleClient,
    gpu::{GpuNode, Job},
    keys::DeviceKey,
    node::orders::{NodeChain, OrderRefused, check_order},
};
use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use depinkit_reports::{
    FIELD_PRIME, Key,
    job::{MatrixJob, result_hash},
    provider::Announcement,
};
use jobs::{JobBook, JobRecord, JobStatus};
use serde_json::json;
use service_payments::state::{OrderStatus, Provider};
use solana_sdk::pubkey::Pubkey;
use std::{collections::BTreeSet, sync::Arc, time::Duration};
use tokio::sync::{Mutex, mpsc};
use tokio_util::io::ReaderStream;

/// Bytes read from a result file per chunk of a download.
const STREAM_CHUNK_BYTES: usize = 1 << 20;

/// Largest job spec body, bytes (a spec is a few dozen).
const MAX_SPEC_BYTES: usize = 4096;

/// What the node computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobAnswering {
    /// The job's products.
    Honest,
    /// The cheat a customer's check must catch: one entry of the last
    /// product off by one.
    WrongResult,
}

/// How a compute node runs.
pub struct ComputeConfig {
    /// The device's key: signs receipts, answers and announcements.
    pub key: DeviceKey,
    /// The GPU class the device declares.
    pub gpu_class: String,
    /// The chain, the network and the holder's key.
    pub chain: NodeChain,
    /// The network's oracle.
    pub oracle: String,
    /// Where jobs and results are kept.
    pub data: std::path::PathBuf,
    /// Where it listens.
    pub bind: std::net::SocketAddr,
    /// The URL customers reach it at (announced); `http://{bind}` if empty.
    pub endpoint: String,
    /// Largest job taken, in multiply-adds ([`MatrixJob::work`]).
    pub max_work: u64,
    /// Between two announcements.
    pub announce_every: Duration,
    /// Between two compute challenges asked of the oracle; `None` when
    /// another agent answers the device's challenges.
    pub challenge_every: Option<Duration>,
    /// Between two reads of the network's orders.
    pub watch_every: Duration,
    /// Honest, or the wrong-result cheat.
    pub answering: JobAnswering,
}

/// What the routes and loops share.
struct ComputeNode {
    gpu: GpuNode,
    chain: NodeChain,
    network: Key,
    oracle: OracleClient,
    endpoint: String,
    max_work: u64,
    answering: JobAnswering,
    jobs: Mutex<JobBook>,
    queue: mpsc::UnboundedSender<Key>,
}

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum ComputeNodeError {
    /// The data directory could not be read.
    #[error("data: {0}")]
    Data(#[from] std::io::Error),
    /// The address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, std::io::Error),
}

fn refuse(status: StatusCode, code: &str, message: impl ToString) -> Response {
    (
        status,
        Json(json!({ "error": code, "message": message.to_string() })),
    )
        .into_response()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Runs the node until `shutdown` completes.
pub async fn run(
    config: ComputeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ComputeNodeError> {
    let book = JobBook::open(&config.data)?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| ComputeNodeError::Bind(config.bind, e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| ComputeNodeError::Bind(config.bind, e))?;
    let endpoint = if config.endpoint.is_empty() {
        format!("http://{bound}")
    } else {
        config.endpoint.clone()
    };
    let (queue, queued) = mpsc::unbounded_channel();
    for order in book.queued() {
        let _ = queue.send(order);
    }
    let node = Arc::new(ComputeNode {
        gpu: GpuNode::new(config.key, &config.gpu_class),
        network: Key(config.chain.network.to_bytes()),
        chain: config.chain,
        oracle: OracleClient::new(&config.oracle),
        endpoint,
        max_work: config.max_work,
        answering: config.answering,
        jobs: Mutex::new(book),
        queue,
    });
    let mut loops = vec![
        tokio::spawn(run_jobs(node.clone(), queued)),
        tokio::spawn(announce_loop(node.clone(), config.announce_every)),
        tokio::spawn(watch_loop(node.clone(), config.watch_every)),
    ];
    if let Some(every) = config.challenge_every {
        loops.push(tokio::spawn(challenge_loop(node.clone(), every)));
    }
    let app = Router::new()
        .route("/v1/jobs/{order}", get(job_status).put(put_job))
        .route("/v1/jobs/{order}/result", get(job_result))
        .route("/v1/jobs/{order}/receipt", get(job_receipt))
        .route("/health", get(health))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_SPEC_BYTES))
        .with_state(node);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    for running in loops {
        running.abort();
    }
    served.map_err(|e| ComputeNodeError::Bind(bound, e))
}

/// A job as the API shows it.
fn view(job: &JobRecord) -> serde_json::Value {
    json!({
        "order": job.order.to_string(),
        "customer": job.customer.to_string(),
        "spec": job.spec,
        "spec_hash": job.spec.hash().to_string(),
        "status": job.status,
        "start_ms": job.start_ms,
        "end_ms": job.end_ms,
        "gpu_seconds": job.gpu_seconds,
        "result_hash": job.result_hash.map(|h| h.to_string()),
    })
}

async fn put_job(
    State(node): State<Arc<ComputeNode>>,
    Path(order): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(order) = order.parse::<Pubkey>() else {
        return refuse(StatusCode::BAD_REQUEST, "bad_order", "not an address");
    };
    let spec: MatrixJob = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "bad_job", e),
    };
    if let Err(e) = spec.check() {
        return refuse(StatusCode::BAD_REQUEST, "bad_job", e);
    }
    if spec.work() > node.max_work {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_much_work",
            format!(
                "the job takes {} multiply-adds, this node takes at most {}",
                spec.work(),
                node.max_work
            ),
        );
    }
    let key = Key(order.to_bytes());
    // One job taken at a time: the checks, the acceptance and the record
    // see one state.
    let mut jobs = node.jobs.lock().await;
    if let Some(known) = jobs.get(&key) {
        if known.spec == spec {
            return (StatusCode::OK, Json(view(known))).into_response();
        }
        return refuse(
            StatusCode::CONFLICT,
            "order_holds_another_job",
            "this order's job was sent with another spec",
        );
    }
    let (found, now) = match tokio::try_join!(node.chain.order(&order), node.chain.now()) {
        Ok(read) => read,
        Err(e) => return refuse(StatusCode::BAD_GATEWAY, "chain_unavailable", e),
    };
    let Some(found) = found else {
        return order_refusal(OrderRefused::Unknown(order));
    };
    let must_accept = match check_order(
        &found,
        &node.chain.network,
        &node.chain.device,
        &spec.hash(),
        now,
    ) {
        Ok(must_accept) => must_accept,
        Err(e) => return order_refusal(e),
    };
    let accepted_at = if must_accept {
        if let Err(e) = node.chain.accept(&order).await {
            return refuse(StatusCode::BAD_GATEWAY, "accept_failed", e);
        }
        // The acceptance's own time: the job starts no earlier.
        match node.chain.order(&order).await {
            Ok(Some(accepted)) => accepted.accepted_at,
            Ok(None) => return order_refusal(OrderRefused::Unknown(order)),
            Err(e) => return refuse(StatusCode::BAD_GATEWAY, "chain_unavailable", e),
        }
    } else {
        found.accepted_at
    };
    let record = JobRecord {
        order: key,
        customer: Key(found.customer.to_bytes()),
        spec,
        status: JobStatus::Queued,
        accepted_ms: accepted_at.saturating_mul(1000),
        start_ms: None,
        end_ms: None,
        gpu_seconds: 0,
        result_hash: None,
    };
    if let Err(e) = jobs.put(record.clone()) {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "disk", e);
    }
    let _ = node.queue.send(key);
    (StatusCode::ACCEPTED, Json(view(&record))).into_response()
}

fn order_refusal(e: OrderRefused) -> Response {
    let (status, code) = match &e {
        OrderRefused::Unknown(_) => (StatusCode::NOT_FOUND, "unknown_order"),
        OrderRefused::OtherNetwork(_) => (StatusCode::FORBIDDEN, "other_network"),
        OrderRefused::NotForThisDevice => (StatusCode::FORBIDDEN, "not_for_this_device"),
        OrderRefused::TakenByAnother(_) => (StatusCode::FORBIDDEN, "taken_by_another"),
        OrderRefused::Expired(_) => (StatusCode::FORBIDDEN, "expired"),
        OrderRefused::SpecMismatch { .. } => (StatusCode::BAD_REQUEST, "spec_mismatch"),
    };
    refuse(status, code, e)
}

/// The job of `order` (a path segment), or the refusal to answer with.
async fn known_job(node: &ComputeNode, order: &str) -> Result<JobRecord, Response> {
    let order = order
        .parse::<Key>()
        .map_err(|_| refuse(StatusCode::BAD_REQUEST, "bad_order", "not an address"))?;
    node.jobs.lock().await.get(&order).cloned().ok_or_else(|| {
        refuse(
            StatusCode::NOT_FOUND,
            "unknown_job",
            "no job for this order here",
        )
    })
}

/// The job of `order` if it is done.
async fn done_job(node: &ComputeNode, order: &str) -> Result<JobRecord, Response> {
    let job = known_job(node, order).await?;
    if job.status != JobStatus::Done {
        return Err(refuse(
            StatusCode::CONFLICT,
            "not_done",
            format!("the job is {:?}", job.status).to_lowercase(),
        ));
    }
    Ok(job)
}

async fn job_status(State(node): State<Arc<ComputeNode>>, Path(order): Path<String>) -> Response {
    match known_job(&node, &order).await {
        Ok(job) => Json(view(&job)).into_response(),
        Err(refusal) => refusal,
    }
}

async fn job_result(State(node): State<Arc<ComputeNode>>, Path(order): Path<String>) -> Response {
    let job = match done_job(&node, &order).await {
        Ok(job) => job,
        Err(refusal) => return refusal,
    };
    let path = node.jobs.lock().await.result_path(&job.order);
    match tokio::fs::File::open(&path).await {
        Ok(file) => (
            [
                (header::CONTENT_LENGTH, job.spec.result_len().to_string()),
                (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            ],
            Body::from_stream(ReaderStream::with_capacity(file, STREAM_CHUNK_BYTES)),
        )
            .into_response(),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, "disk", e),
    }
}

async fn job_receipt(State(node): State<Arc<ComputeNode>>, Path(order): Path<String>) -> Response {
    let job = match done_job(&node, &order).await {
        Ok(job) => job,
        Err(refusal) => return refusal,
    };
    let (Some(start_ms), Some(end_ms), Some(result_hash)) =
        (job.start_ms, job.end_ms, job.result_hash)
    else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "disk",
            "a done job without its times or result hash",
        );
    };
    let receipt = node.gpu.receipt_at(
        node.network,
        job.customer,
        &Job {
            order: job.order,
            start_ms,
            end_ms,
            gpu_seconds: job.gpu_seconds,
            result_hash,
        },
        now_ms().max(end_ms),
    );
    Json(receipt).into_response()
}

async fn health(State(node): State<Arc<ComputeNode>>) -> Response {
    let jobs = node.jobs.lock().await;
    let count = |status| jobs.all().filter(|j| j.status == status).count();
    Json(json!({
        "device": node.gpu.key().public().to_string(),
        "endpoint": node.endpoint,
        "gpu_class": node.gpu.gpu_class(),
        "jobs": {
            "queued": count(JobStatus::Queued),
            "running": count(JobStatus::Running),
            "done": count(JobStatus::Done),
        },
    }))
    .into_response()
}

/// The GPU time a job of `elapsed_ms` bills: whole seconds, at least one
/// (a receipt bills a positive number of GPU-seconds that fits between its
/// start and end).
pub fn billed_seconds(elapsed_ms: i64) -> u64 {
    u64::try_from(elapsed_ms.max(1)).unwrap_or(1).div_ceil(1000)
}

/// Runs the queued jobs one after the other (one GPU runs one job: the
/// compute rules refuse overlapping receipts). A job holds the GPU for the
/// whole seconds it bills ([`billed_seconds`]): its receipt ends there, and
/// the next job starts no earlier.
async fn run_jobs(node: Arc<ComputeNode>, mut queued: mpsc::UnboundedReceiver<Key>) {
    let mut gpu_free_ms = 0i64;
    while let Some(order) = queued.recv().await {
        let Some(mut job) = node.jobs.lock().await.get(&order).cloned() else {
            continue;
        };
        if job.status != JobStatus::Queued {
            continue;
        }
        let wait_ms = gpu_free_ms.max(job.accepted_ms) - now_ms();
        if wait_ms > 0 {
            tokio::time::sleep(Duration::from_millis(wait_ms as u64)).await;
        }
        let start_ms = now_ms().max(job.accepted_ms).max(gpu_free_ms);
        job.status = JobStatus::Running;
        job.start_ms = Some(start_ms);
        if let Err(e) = node.jobs.lock().await.put(job.clone()) {
            eprintln!("compute-node: job {order}: {e}");
            continue;
        }
        let spec = job.spec;
        let answering = node.answering;
        let result = tokio::task::spawn_blocking(move || {
            let mut result = spec.run();
            if answering == JobAnswering::WrongResult {
                corrupt_last_entry(&mut result);
            }
            result
        })
        .await
        .expect("a job's computation does not panic");
        let elapsed_ms = now_ms() - start_ms;
        let gpu_seconds = billed_seconds(elapsed_ms);
        let end_ms = start_ms + gpu_seconds as i64 * 1000;
        gpu_free_ms = end_ms;
        job.status = JobStatus::Done;
        job.end_ms = Some(end_ms);
        job.gpu_seconds = gpu_seconds;
        job.result_hash = Some(result_hash(&result));
        let mut book = node.jobs.lock().await;
        let kept = book
            .write_result(&order, &result)
            .and_then(|()| book.put(job.clone()));
        match kept {
            Ok(()) => eprintln!(
                "compute-node: job {order} done: {} x {}^2 in {elapsed_ms} ms, {gpu_seconds} GPU-second(s) billed",
                spec.count, spec.size
            ),
            Err(e) => eprintln!("compute-node: job {order}: keeping the result: {e}"),
        }
    }
}

/// The wrong-result cheat: the last entry of the result plus one.
fn corrupt_last_entry(result: &mut [u8]) {
    let Some(last) = result.len().checked_sub(4) else {
        return;
    };
    let entry = u32::from_le_bytes(result[last..].try_into().expect("4 bytes"));
    let wrong = (u64::from(entry) + 1) % FIELD_PRIME;
    result[last..].copy_from_slice(&(wrong as u32).to_le_bytes());
}

/// Announces the node to the oracle now and every `every`.
async fn announce_loop(node: Arc<ComputeNode>, every: Duration) {
    loop {
        let signed = Announcement {
            network: node.network,
            device: node.gpu.key().public(),
            endpoint: node.endpoint.clone(),
            free_bytes: 0,
            timestamp_ms: now_ms(),
        }
        .sign(node.gpu.key().signing());
        if let Err(e) = node.oracle.announce(&signed).await {
            eprintln!("compute-node: announcing: {e}");
        }
        tokio::time::sleep(every).await;
    }
}

/// Asks the oracle for a compute challenge every `every` and answers it at
/// once: the device's availability.
async fn challenge_loop(node: Arc<ComputeNode>, every: Duration) {
    let device = node.gpu.key().public();
    loop {
        match node
            .oracle
            .compute_challenge(&device, node.gpu.gpu_class())
            .await
        {
            Ok(challenge) => {
                let answer = node.gpu.answer(node.network, challenge, now_ms());
                if let Err(e) = node.oracle.send_all(&[answer], 1).await {
                    eprintln!("compute-node: answering a challenge: {e}");
                }
            }
            Err(e) => eprintln!("compute-node: no challenge: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}

/// Reads the network's orders every `every`: a done job whose order closed
/// is forgotten; an open order naming this device that no job came for is
/// logged once.
async fn watch_loop(node: Arc<ComputeNode>, every: Duration) {
    let mut waiting_told = BTreeSet::new();
    loop {
        match depinkit_sdk::accounts::orders_of_network(&node.chain.rpc, &node.chain.network).await
        {
            Ok(orders) => {
                let open: BTreeSet<Key> = orders
                    .iter()
                    .map(|(address, _)| Key(address.to_bytes()))
                    .collect();
                let mut book = node.jobs.lock().await;
                let closed: Vec<Key> = book
                    .all()
                    .filter(|j| j.status == JobStatus::Done && !open.contains(&j.order))
                    .map(|j| j.order)
                    .collect();
                for order in closed {
                    match book.remove(&order) {
                        Ok(()) => eprintln!("compute-node: order {order} closed: job forgotten"),
                        Err(e) => eprintln!("compute-node: forgetting job {order}: {e}"),
                    }
                }
                for (address, order) in &orders {
                    let named = order.provider == Provider::Device(node.chain.device);
                    let key = Key(address.to_bytes());
                    if named
                        && order.status == OrderStatus::Open
                        && book.get(&key).is_none()
                        && waiting_told.insert(key)
                    {
                        eprintln!(
                            "compute-node: order {address} names this device and waits for its job"
                        );
                    }
                }
            }
            Err(e) => eprintln!("compute-node: reading the network's orders: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_bills_whole_seconds_and_at_least_one() {
        assert_eq!(billed_seconds(0), 1);
        assert_eq!(billed_seconds(1), 1);
        assert_eq!(billed_seconds(1_000), 1);
        assert_eq!(billed_seconds(1_001), 2);
        assert_eq!(billed_seconds(-5), 1);
    }

    #[test]
    fn the_cheat_changes_the_last_entry_alone_and_stays_in_the_field() {
        let spec = MatrixJob {
            size: 4,
            count: 2,
            seed: depinkit_reports::Hash32([3; 32]),
        };
        let honest = spec.run();
        let mut wrong = honest.clone();
        corrupt_last_entry(&mut wrong);
        assert_eq!(wrong[..wrong.len() - 4], honest[..honest.len() - 4]);
        assert_ne!(wrong, honest);
        assert!(matches!(
            spec.check_result(&wrong, 1, || 7),
            Err(depinkit_reports::job::WrongResult::Product { product: 1, row: 3 })
        ));
    }
}
