//! Taking a job: `PUT /v1/jobs/{order}`. The node checks the spec and its
//! own terms, reads the order, accepts it on chain as the device's holder
//! and waits to see its device serving it, then queues the job. The job
//! book is locked for quick looks only; the chain is awaited with the order
//! claimed ([`crate::node::orders::OrderClaims`]), so one slow RPC holds up
//! no other request.

use super::{
    ComputeNode,
    jobs::{JobBook, JobRecord, JobStatus},
    refuse,
    terms::{Backlog, TermsRefused},
    view,
};
use crate::node::{
    order_refusal,
    orders::{CHAIN_READ_TIMEOUT, OrderCheck, OrderRefused},
};
use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use depinkit_reports::{Key, job::MatrixJob};
use service_payments::state::OrderStatus;
use solana_sdk::pubkey::Pubkey;
use std::{sync::Arc, time::Duration};

/// Longest wait for the acceptance's transaction to be confirmed.
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads of the order after its acceptance, until it shows this device.
const CONFIRM_READS: u32 = 20;

impl ComputeNode {
    /// The jobs queued or running and the orders being taken (but
    /// `except`).
    fn backlog(&self, book: &JobBook, except: Option<&Key>) -> Backlog {
        let mut backlog = book.backlog();
        let (jobs, work) = self.taking.pending(except);
        backlog.jobs += jobs;
        backlog.work = backlog.work.saturating_add(work);
        backlog
    }
}

/// `PUT /v1/jobs/{order}`: 202 with the job queued, 200 if it was taken
/// before, or the refusal.
pub(super) async fn put_job(
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
    let key = Key(order.to_bytes());
    // The book is locked for quick looks only: the chain's answers are
    // awaited with the order claimed, so one slow RPC holds up no other
    // request.
    let taking = {
        let jobs = node.jobs.lock().await;
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
        if let Err(e) = node.terms.admit_job(&spec, node.backlog(&jobs, None)) {
            return terms_refusal(e);
        }
        match node.taking.claim(key, spec.work()) {
            Some(taking) => taking,
            None => {
                return refuse(
                    StatusCode::CONFLICT,
                    "being_taken",
                    "this order's job is being taken now; ask again in a moment",
                );
            }
        }
    };
    let (found, now, must_accept) = match node.chain.order_to_serve(&order, &spec.hash()).await {
        Ok(served) => served,
        Err(e) => return order_refusal(e),
    };
    let accepted_at = if must_accept {
        let backlog = {
            // This order's own claim is not ahead of it.
            node.backlog(&*node.jobs.lock().await, Some(&key))
        };
        if let Err(e) = node
            .terms
            .admit(&found, &spec, backlog, now.saturating_mul(1000))
        {
            return terms_refusal(e);
        }
        match accept_and_confirm(&node, &order).await {
            Ok(accepted_at) => accepted_at,
            Err(refusal) => return refusal,
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
    if let Err(e) = node.jobs.lock().await.put(record.clone()) {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "disk", e);
    }
    drop(taking);
    let _ = node.queue.send(key);
    (StatusCode::ACCEPTED, Json(view(&record))).into_response()
}

/// Accepts `order` as the device's holder and waits until the chain shows
/// this device serving it: the acceptance's time (the job starts no
/// earlier), or the refusal to answer with. A transaction that fails or
/// times out may still have landed, or another device may have won the
/// order: the order as the chain shows it decides.
async fn accept_and_confirm(node: &ComputeNode, order: &Pubkey) -> Result<i64, Response> {
    let sent = tokio::time::timeout(ACCEPT_TIMEOUT, node.chain.accept(order))
        .await
        .unwrap_or_else(|_| Err(format!("not confirmed in {} s", ACCEPT_TIMEOUT.as_secs())));
    for _ in 0..CONFIRM_READS {
        let read = tokio::time::timeout(CHAIN_READ_TIMEOUT, node.chain.order(order)).await;
        match read {
            Ok(Ok(None)) => return Err(refused(OrderRefused::Unknown(*order))),
            Ok(Ok(Some(seen))) if seen.status == OrderStatus::Accepted => {
                return match seen.accepted_device {
                    Some(device) if device == node.chain.device => Ok(seen.accepted_at),
                    Some(device) => Err(refused(OrderRefused::TakenByAnother(device))),
                    None => Err(refused(OrderRefused::NotForThisDevice)),
                };
            }
            // Still open: a failed transaction will not change that.
            Ok(Ok(Some(_))) if sent.is_err() => break,
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(refuse(
        StatusCode::BAD_GATEWAY,
        "accept_failed",
        sent.err()
            .unwrap_or_else(|| "the acceptance is not seen on chain".into()),
    ))
}

fn terms_refusal(e: TermsRefused) -> Response {
    let (status, code) = e.status_and_code();
    refuse(
        StatusCode::from_u16(status).expect("a valid status"),
        code,
        e,
    )
}

/// The answer to an order the chain shows this device may not serve.
fn refused(e: OrderRefused) -> Response {
    order_refusal(OrderCheck::Refused(e))
}
