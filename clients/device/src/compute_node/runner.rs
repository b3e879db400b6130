//! The GPU: queued jobs run one after the other, each billed in whole
//! GPU-seconds, so a device's receipts never overlap.

use super::{ComputeNode, JobAnswering, jobs::JobStatus, now_ms};
use depinkit_reports::{FIELD_PRIME, Key, job::result_hash};
use std::{sync::Arc, time::Duration};
use tokio::sync::mpsc;

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
pub(super) async fn run_jobs(node: Arc<ComputeNode>, mut queued: mpsc::UnboundedReceiver<Key>) {
    // After a restart the GPU is free once the last receipt kept has ended:
    // receipts never overlap.
    let mut gpu_free_ms = node
        .jobs
        .lock()
        .await
        .all()
        .filter_map(|j| j.end_ms)
        .max()
        .unwrap_or(0);
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
        let computed = tokio::task::spawn_blocking(move || {
            let mut result = spec.run();
            if answering == JobAnswering::WrongResult {
                corrupt_last_entry(&mut result);
            }
            result
        })
        .await;
        let result = match computed {
            Ok(result) => result,
            Err(e) => {
                // Left running: a restart queues it again.
                eprintln!("compute-node: job {order} failed: {e}");
                continue;
            }
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use depinkit_reports::job::MatrixJob;

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
