//! `depin-device storage-node`: the daemon a storage provider runs beside an
//! onboarded storage device. It takes shard uploads for orders naming its
//! device (checking the order on chain and the bytes against the order's
//! spec hash, then accepting the order as the device's NFT holder), keeps
//! them with [`crate::shards::ShardStore`], serves them back, announces its
//! endpoint and room to the network's oracle, and answers each epoch's
//! storage challenges from disk.
//!
//! HTTP: `PUT /v1/shards/{order}?leaf_size=N` (the shard's bytes; 201 kept,
//! 200 kept before), `GET /v1/shards/{order}` (the bytes), `GET /health`.
//! A refusal is a 4xx with `{"error": code, "message": why}` and keeps
//! nothing: `unknown_order` (404), `other_network`, `not_for_this_device`,
//! `taken_by_another`, `expired` (403), `spec_mismatch`, `bad_leaf_size`
//! (400), `order_holds_another_shard`, `being_taken` (409), `no_room` (507);
//! a chain that cannot be read or refuses the acceptance is a 502. The chain
//! is read and the order accepted outside the shard book's lock, with the
//! order claimed ([`orders::OrderClaims`]) and timeouts.

pub mod orders;

use crate::{
    client::OracleClient,
    keys::DeviceKey,
    shards::{ShardError, ShardOnDisk, ShardStore},
    storage::{Answering, DealLeaves, answer_deal},
};
use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use depinkit_reports::{
    Key, StorageTree,
    provider::{Announcement, SignedAnnouncement},
};
use orders::{NodeChain, OrderCheck};
use serde_json::json;
use solana_sdk::pubkey::Pubkey;
use std::{sync::Arc, time::Duration};
use tokio::{io::AsyncSeekExt, sync::Mutex};
use tokio_util::io::ReaderStream;

/// Bytes read from a shard file per chunk of a download (large reads keep
/// a stream of many MiB cheap).
const STREAM_CHUNK_BYTES: usize = 1 << 20;

/// How a node runs.
pub struct NodeConfig {
    /// The device's key: signs announcements and challenge answers.
    pub key: DeviceKey,
    /// The chain, the network and the holder's key.
    pub chain: NodeChain,
    /// The network's oracle.
    pub oracle: String,
    /// Where the shards are kept.
    pub data: std::path::PathBuf,
    /// Bytes of shards it may keep.
    pub capacity: u64,
    /// Where it listens.
    pub bind: std::net::SocketAddr,
    /// The URL customers reach it at (announced); `http://{bind}` if empty.
    pub endpoint: String,
    /// Largest shard taken in one upload.
    pub max_shard_bytes: usize,
    /// Between two announcements, and two looks for a new epoch's seed.
    pub announce_every: Duration,
    /// Between two looks for the running epoch's storage seed.
    pub seed_every: Duration,
}

/// What the routes and loops share.
struct Node {
    key: DeviceKey,
    chain: NodeChain,
    oracle: OracleClient,
    endpoint: String,
    shards: Mutex<ShardStore>,
    /// Orders whose shard is being taken (their bytes).
    taking: orders::OrderClaims,
}

/// A refusal: `status` with `{"error": code, "message": why}`.
pub(crate) fn refuse(status: StatusCode, code: &str, message: impl ToString) -> Response {
    (
        status,
        Json(json!({ "error": code, "message": message.to_string() })),
    )
        .into_response()
}

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The data directory could not be opened.
    #[error("data: {0}")]
    Shards(#[from] ShardError),
    /// The address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(std::net::SocketAddr, std::io::Error),
}

/// Runs the node until `shutdown` completes.
pub async fn run(
    config: NodeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let shards = ShardStore::open(&config.data, config.capacity)?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| NodeError::Bind(config.bind, e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| NodeError::Bind(config.bind, e))?;
    let endpoint = if config.endpoint.is_empty() {
        format!("http://{bound}")
    } else {
        config.endpoint.clone()
    };
    let node = Arc::new(Node {
        key: config.key,
        chain: config.chain,
        oracle: OracleClient::new(&config.oracle),
        endpoint,
        shards: Mutex::new(shards),
        taking: Default::default(),
    });
    let announcing = tokio::spawn(announce_loop(node.clone(), config.announce_every));
    let answering = tokio::spawn(answer_loop(node.clone(), config.seed_every));
    let app = Router::new()
        .route("/v1/shards/{order}", get(get_shard).put(put_shard))
        .route("/health", get(health))
        .layer(DefaultBodyLimit::max(config.max_shard_bytes))
        .with_state(node);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    announcing.abort();
    answering.abort();
    served.map_err(|e| NodeError::Bind(bound, e))
}

/// `PUT /v1/shards/{order}`'s query.
#[derive(serde::Deserialize)]
struct PutQuery {
    leaf_size: u32,
}

async fn put_shard(
    State(node): State<Arc<Node>>,
    Path(order): Path<String>,
    Query(query): Query<PutQuery>,
    bytes: Bytes,
) -> Response {
    let Ok(order) = order.parse::<Pubkey>() else {
        return refuse(StatusCode::BAD_REQUEST, "bad_order", "not an address");
    };
    // The deal these bytes make: built once, the order checked against it.
    let tree = match StorageTree::build(&bytes, query.leaf_size) {
        Ok(tree) => tree,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "bad_leaf_size", e),
    };
    let spec = tree.spec();
    let key = Key(order.to_bytes());
    // The shard book is locked for its checks and writes only; the chain is
    // read and the order accepted with the order claimed, so one slow RPC
    // holds up no other upload.
    let claimed = {
        let shards = node.shards.lock().await;
        match shards.admit(&key, &spec) {
            Ok(true) => return (StatusCode::OK, Json(json!({ "kept": true }))).into_response(),
            Ok(false) => {}
            Err(e) => return shard_refusal(e),
        }
        node.taking.claim(key, spec.size)
    };
    let Some(_claimed) = claimed else {
        return refuse(
            StatusCode::CONFLICT,
            "being_taken",
            "this order's shard is being taken now; ask again in a moment",
        );
    };
    let must_accept = match node.chain.order_to_serve(&order, &spec.hash()).await {
        Ok((_, _, must_accept)) => must_accept,
        Err(e) => return order_refusal(e),
    };
    // Kept first, then accepted: an order is never accepted for bytes the
    // node could not keep; a refused acceptance drops them again. The room
    // is checked again: other uploads may have filled it meanwhile.
    {
        let mut shards = node.shards.lock().await;
        if let Err(e) = shards
            .admit(&key, &spec)
            .and_then(|_| shards.put_built(key, &tree, &bytes))
        {
            return shard_refusal(e);
        }
    }
    if must_accept
        && let Err(e) = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            node.chain.accept(&order),
        )
        .await
        .unwrap_or_else(|_| Err("not confirmed in 60 s".into()))
    {
        let _ = node.shards.lock().await.remove(&key);
        return refuse(StatusCode::BAD_GATEWAY, "accept_failed", e);
    }
    (
        StatusCode::CREATED,
        Json(json!({ "kept": true, "spec_hash": spec.hash().to_string() })),
    )
        .into_response()
}

/// The answer to an order the node may not serve, or could not read.
pub(crate) fn order_refusal(e: OrderCheck) -> Response {
    match e {
        OrderCheck::Unavailable(e) => refuse(StatusCode::BAD_GATEWAY, "chain_unavailable", e),
        OrderCheck::Refused(e) => {
            let (status, code) = e.status_and_code();
            refuse(
                StatusCode::from_u16(status).expect("a valid status"),
                code,
                e,
            )
        }
    }
}

fn shard_refusal(e: ShardError) -> Response {
    match e {
        ShardError::Full { .. } => refuse(StatusCode::INSUFFICIENT_STORAGE, "no_room", e),
        ShardError::Taken(_) => refuse(StatusCode::CONFLICT, "order_holds_another_shard", e),
        ShardError::Mismatch { .. } => refuse(StatusCode::BAD_REQUEST, "spec_mismatch", e),
        ShardError::Damaged(..) | ShardError::Io(..) => {
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "disk", e)
        }
    }
}

async fn get_shard(State(node): State<Arc<Node>>, Path(order): Path<String>) -> Response {
    let Ok(order) = order.parse::<Key>() else {
        return refuse(StatusCode::BAD_REQUEST, "bad_order", "not an address");
    };
    let on_disk = node.shards.lock().await.on_disk(&order);
    let shard = match on_disk {
        Ok(Some(shard)) => shard,
        Ok(None) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "unknown_shard",
                "no shard for this order",
            );
        }
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, "disk", e),
    };
    // Streamed from the file: a shard is never held in memory whole.
    let opened = async {
        let mut file = tokio::fs::File::open(shard.shard_path()).await?;
        file.seek(std::io::SeekFrom::Start(ShardOnDisk::BYTES_OFFSET))
            .await?;
        Ok::<_, std::io::Error>(file)
    };
    match opened.await {
        Ok(file) => (
            [(header::CONTENT_LENGTH, shard.spec().size.to_string())],
            Body::from_stream(ReaderStream::with_capacity(file, STREAM_CHUNK_BYTES)),
        )
            .into_response(),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, "disk", e),
    }
}

async fn health(State(node): State<Arc<Node>>) -> Response {
    let shards = node.shards.lock().await;
    Json(json!({
        "device": node.key.public().to_string(),
        "endpoint": node.endpoint,
        "free_bytes": shards.free_bytes(),
        "shards": shards.held().count(),
    }))
    .into_response()
}

/// This node's announcement now.
async fn announcement(node: &Node) -> SignedAnnouncement {
    Announcement {
        network: Key(node.chain.network.to_bytes()),
        device: node.key.public(),
        endpoint: node.endpoint.clone(),
        free_bytes: node.shards.lock().await.free_bytes(),
        timestamp_ms: now_ms(),
    }
    .sign(node.key.signing())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Announces the node to the oracle now and every `every`; a failure is
/// logged and retried at the next turn.
async fn announce_loop(node: Arc<Node>, every: Duration) {
    loop {
        let signed = announcement(&node).await;
        if let Err(e) = node.oracle.announce(&signed).await {
            eprintln!("storage-node: announcing: {e}");
        }
        tokio::time::sleep(every).await;
    }
}

/// Looks for the running epoch's seed every `every` and, once per epoch,
/// answers its challenges for every deal held, reading each from disk.
async fn answer_loop(node: Arc<Node>, every: Duration) {
    let mut answered: Option<u32> = None;
    loop {
        if let Ok(seed) = node.oracle.storage_seed().await
            && answered != Some(seed.epoch)
        {
            let orders: Vec<Key> = node.shards.lock().await.held().map(|(k, _)| *k).collect();
            let mut reports = Vec::new();
            for order in orders {
                let deal = node.shards.lock().await.on_disk(&order);
                let answers = match deal {
                    Ok(Some(deal)) => answer_deal(
                        &node.key,
                        Key(node.chain.network.to_bytes()),
                        &order,
                        &deal,
                        &seed.seed,
                        seed.epoch,
                        seed.challenges_per_deal,
                        now_ms(),
                        Answering::Honest,
                    )
                    .map_err(|e| e.to_string()),
                    Ok(None) => Ok(Vec::new()),
                    Err(e) => Err(e.to_string()),
                };
                match answers {
                    Ok(answers) => reports.extend(answers),
                    Err(e) => eprintln!("storage-node: reading {order}: {e}"),
                }
            }
            match node.oracle.send_all(&reports, 200).await {
                Ok(_) => answered = Some(seed.epoch),
                Err(e) => eprintln!("storage-node: answering epoch {}: {e}", seed.epoch),
            }
        }
        tokio::time::sleep(every).await;
    }
}
