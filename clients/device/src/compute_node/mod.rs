//! `depin-device compute-node`: the agent a GPU provider runs beside an
//! onboarded compute device. A customer opens an order whose spec hash is a
//! job's ([`depinkit_reports::job::MatrixJob::hash`]) and sends the job
//! here; the node checks the order on chain (this network, this device or any, not expired, the
//! spec's hash), accepts it as the device's NFT holder, runs the job (one
//! at a time: one GPU), and hands back the result and a receipt it signs,
//! which the customer checks, co-signs and sends to the oracle. Meanwhile it
//! announces itself to the oracle, answers the oracle's compute challenges,
//! and watches the network's orders: an order naming it that waits for its
//! job is logged, and a done job whose order closed (settled or cancelled)
//! is forgotten.
//!
//! Before it accepts an order the node checks its own terms ([`terms`]): a
//! job size it takes, room in its queue, the order paying in its mint at
//! its price, and time to run the job (by the speed it measured at start,
//! behind the jobs queued) before the service deadline.
//!
//! HTTP: `PUT /v1/jobs/{order}` (the job spec as JSON; 202 taken, 200
//! taken before), `GET /v1/jobs/{order}` (where it stands),
//! `GET /v1/jobs/{order}/result` (the result's bytes, once done),
//! `GET /v1/jobs/{order}/receipt` (the receipt, signed now, once done),
//! `GET /health` (the device, its terms and its queue). A refusal is a 4xx
//! with `{"error": code, "message": why}` and takes nothing: `bad_order`,
//! `bad_job` (400), `unknown_order`, `unknown_job` (404), `other_network`,
//! `not_for_this_device`, `taken_by_another`, `expired`, `other_mint`,
//! `too_late` (403), `underpaid` (402), `spec_mismatch` (400),
//! `order_holds_another_job`, `being_taken`, `not_done` (409),
//! `too_much_work` (413), `busy` (503); a chain that cannot be read
//! (`chain_unavailable`) or an acceptance that fails or is not seen on
//! chain (`accept_failed`) is a 502.

pub mod jobs;
mod runner;
mod take;
pub mod terms;

pub use runner::billed_seconds;

use crate::{
    client::OracleClient,
    gpu::{GpuNode, Job},
    keys::DeviceKey,
    node::{orders::NodeChain, refuse},
};
use axum::{
    Json, Router,
    body::Body,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use depinkit_reports::{Key, provider::Announcement};
use jobs::{JobBook, JobRecord, JobStatus};
use serde_json::json;
use service_payments::state::{OrderStatus, Provider};
use solana_sdk::pubkey::Pubkey;
use std::{collections::BTreeSet, sync::Arc, time::Duration};
use terms::NodeTerms;
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
    /// Largest job taken, in multiply-adds
    /// ([`depinkit_reports::job::MatrixJob::work`]).
    pub max_work: u64,
    /// Jobs queued or running at most.
    pub max_backlog: usize,
    /// Least escrow per million multiply-adds, base units of the payment
    /// mint (0: any price).
    pub price_per_million_ops: u64,
    /// The mint orders must pay in; `None`: the network's reward mint.
    pub payment_mint: Option<Pubkey>,
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
    terms: NodeTerms,
    answering: JobAnswering,
    jobs: Mutex<JobBook>,
    /// Orders being taken now (their job's multiply-adds): a second PUT of
    /// one is refused until the first is answered, and the queue's limit
    /// counts them.
    taking: crate::node::orders::OrderClaims,
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
    /// The network's reward mint could not be read.
    #[error("reading the network: {0}")]
    Chain(String),
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
    let payment_mint = match config.payment_mint {
        Some(mint) => mint,
        None => config
            .chain
            .reward_mint()
            .await
            .map_err(ComputeNodeError::Chain)?,
    };
    let ops_per_sec = tokio::task::spawn_blocking(terms::measure_ops_per_sec)
        .await
        .unwrap_or(1);
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
        terms: NodeTerms {
            max_work: config.max_work,
            max_backlog: config.max_backlog,
            price_per_million_ops: config.price_per_million_ops,
            payment_mint,
            ops_per_sec,
        },
        answering: config.answering,
        jobs: Mutex::new(book),
        taking: Default::default(),
        queue,
    });
    let mut loops = vec![
        tokio::spawn(runner::run_jobs(node.clone(), queued)),
        tokio::spawn(announce_loop(node.clone(), config.announce_every)),
        tokio::spawn(watch_loop(node.clone(), config.watch_every)),
    ];
    if let Some(every) = config.challenge_every {
        loops.push(tokio::spawn(challenge_loop(node.clone(), every)));
    }
    let app = Router::new()
        .route("/v1/jobs/{order}", get(job_status).put(take::put_job))
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
    let terms = &node.terms;
    Json(json!({
        "device": node.gpu.key().public().to_string(),
        "endpoint": node.endpoint,
        "gpu_class": node.gpu.gpu_class(),
        "terms": {
            "max_work": terms.max_work,
            "max_backlog": terms.max_backlog,
            "price_per_million_ops": terms.price_per_million_ops,
            "payment_mint": terms.payment_mint.to_string(),
            "ops_per_sec": terms.ops_per_sec,
        },
        "jobs": {
            "queued": count(JobStatus::Queued),
            "running": count(JobStatus::Running),
            "done": count(JobStatus::Done),
        },
    }))
    .into_response()
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
