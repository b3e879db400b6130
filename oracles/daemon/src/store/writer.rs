//! Group commit for ingest: every batch of accepted reports goes through one
//! writer task, which takes the batches waiting when it is free and stores
//! them in one database transaction. Concurrent requests then share one
//! commit (one fsync) instead of queueing for the database's write lock one
//! commit each (SQLite has a single writer, and a connection waiting for it
//! sleeps in steps), and each request is still answered only once its reports
//! are committed. A group that fails is stored again batch by batch, so each
//! request gets its own outcome.

use super::{Backend, ReportRow, StoreError, Stored, store_rows};
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

/// Most reports one group commit takes (more wait for the next).
const MAX_GROUP_REPORTS: usize = 10_000;

/// Batches waiting for the writer before senders wait too (back-pressure).
const QUEUE: usize = 256;

/// One request's reports and where its outcome goes.
struct Job {
    rows: Vec<ReportRow>,
    reply: oneshot::Sender<Result<Vec<Stored>, StoreError>>,
}

/// The handle requests send their reports to.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub(super) fn start(pool: AnyPool, backend: Backend) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, backend, queue));
        Writer { jobs }
    }

    /// Stores `rows` (in one group with whatever else is waiting); one
    /// outcome per row, committed when this returns.
    pub(super) async fn store(&self, rows: Vec<ReportRow>) -> Result<Vec<Stored>, StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job { rows, reply })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        outcome.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run(pool: AnyPool, backend: Backend, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut reports = first.rows.len();
        let mut group = vec![first];
        while reports < MAX_GROUP_REPORTS {
            match queue.try_recv() {
                Ok(job) => {
                    reports += job.rows.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        metrics::histogram!("depin_oracle_group_commit_batches").record(group.len() as f64);
        if group.len() == 1 {
            let job = group.pop().expect("one job");
            let outcome = store_rows(&pool, backend, &job.rows).await;
            let _ = job.reply.send(outcome);
            continue;
        }
        let sizes: Vec<usize> = group.iter().map(|job| job.rows.len()).collect();
        let rows: Vec<ReportRow> = group
            .iter_mut()
            .flat_map(|job| std::mem::take(&mut job.rows))
            .collect();
        match store_rows(&pool, backend, &rows).await {
            Ok(outcomes) => {
                let mut outcomes = outcomes.into_iter();
                for (job, size) in group.into_iter().zip(sizes) {
                    let _ = job.reply.send(Ok(outcomes.by_ref().take(size).collect()));
                }
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    batches = group.len(),
                    "group commit failed; storing its batches one by one"
                );
                let mut start = 0;
                for (job, size) in group.into_iter().zip(sizes) {
                    let outcome = store_rows(&pool, backend, &rows[start..start + size]).await;
                    start += size;
                    let _ = job.reply.send(outcome);
                }
            }
        }
    }
}
