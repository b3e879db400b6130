//! A compute node's jobs on disk: one JSON record per order (its spec, the
//! customer, where it stands) and the result beside it once the job ran. A
//! node that restarts finds its jobs again; one that was running is run
//! again from the start.

use depinkit_reports::{Hash32, Key, job::MatrixJob};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Accepted on chain, waiting for the GPU.
    Queued,
    /// Running now.
    Running,
    /// Done: its result is on disk.
    Done,
}

/// A job the node took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The order (its address) it serves.
    pub order: Key,
    /// The order's customer, who co-signs the receipt.
    pub customer: Key,
    /// What to compute.
    pub spec: MatrixJob,
    /// Where it stands.
    pub status: JobStatus,
    /// When the order was accepted on chain, unix ms: the job never starts
    /// before (the receipt must fall in the order's window).
    pub accepted_ms: i64,
    /// When it started, unix ms.
    pub start_ms: Option<i64>,
    /// When it ended.
    pub end_ms: Option<i64>,
    /// GPU-seconds it bills (whole seconds, at least one; its end is its
    /// start plus these).
    pub gpu_seconds: u64,
    /// SHA-256 of its result.
    pub result_hash: Option<Hash32>,
}

/// The jobs of a node, kept under a directory.
pub struct JobBook {
    dir: PathBuf,
    jobs: BTreeMap<Key, JobRecord>,
}

impl JobBook {
    /// Opens (creating) `dir` and reads every record in it; a job found
    /// running is queued again.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut jobs = BTreeMap::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let text = std::fs::read_to_string(&path)?;
            let mut record: JobRecord = serde_json::from_str(&text).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?;
            if record.status == JobStatus::Running
                || (record.status == JobStatus::Done
                    && !Self::result_at(dir, &record.order).exists())
            {
                record.status = JobStatus::Queued;
                record.start_ms = None;
                record.end_ms = None;
                record.result_hash = None;
            }
            jobs.insert(record.order, record);
        }
        Ok(JobBook {
            dir: dir.to_path_buf(),
            jobs,
        })
    }

    fn result_at(dir: &Path, order: &Key) -> PathBuf {
        dir.join(format!("{order}.result"))
    }

    /// Where the result of `order`'s job is kept.
    pub fn result_path(&self, order: &Key) -> PathBuf {
        Self::result_at(&self.dir, order)
    }

    /// The job of `order`.
    pub fn get(&self, order: &Key) -> Option<&JobRecord> {
        self.jobs.get(order)
    }

    /// Every job, by order.
    pub fn all(&self) -> impl Iterator<Item = &JobRecord> {
        self.jobs.values()
    }

    /// The queued jobs, by order.
    pub fn queued(&self) -> Vec<Key> {
        self.jobs
            .values()
            .filter(|j| j.status == JobStatus::Queued)
            .map(|j| j.order)
            .collect()
    }

    /// The jobs queued or running, and their multiply-adds.
    pub fn backlog(&self) -> super::terms::Backlog {
        self.jobs
            .values()
            .filter(|j| j.status != JobStatus::Done)
            .fold(super::terms::Backlog::default(), |backlog, job| {
                super::terms::Backlog {
                    jobs: backlog.jobs + 1,
                    work: backlog.work.saturating_add(job.spec.work()),
                }
            })
    }

    /// Keeps `record` (written first, then renamed over the last one: a
    /// crash leaves the old record or the new, never half of one).
    pub fn put(&mut self, record: JobRecord) -> std::io::Result<()> {
        let path = self.dir.join(format!("{}.json", record.order));
        let partial = path.with_extension("json.partial");
        std::fs::write(
            &partial,
            serde_json::to_vec_pretty(&record).expect("a record serializes"),
        )?;
        std::fs::rename(&partial, &path)?;
        self.jobs.insert(record.order, record);
        Ok(())
    }

    /// Writes the result of `order`'s job (before its record says done).
    pub fn write_result(&self, order: &Key, result: &[u8]) -> std::io::Result<()> {
        let path = self.result_path(order);
        let partial = path.with_extension("result.partial");
        std::fs::write(&partial, result)?;
        std::fs::rename(&partial, &path)
    }

    /// Forgets `order`'s job and its result.
    pub fn remove(&mut self, order: &Key) -> std::io::Result<()> {
        self.jobs.remove(order);
        for path in [
            self.dir.join(format!("{order}.json")),
            self.result_path(order),
        ] {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(order: u8, status: JobStatus) -> JobRecord {
        JobRecord {
            order: Key([order; 32]),
            customer: Key([9; 32]),
            spec: MatrixJob {
                size: 4,
                count: 1,
                seed: Hash32([1; 32]),
            },
            status,
            accepted_ms: 1_000,
            start_ms: Some(2_000),
            end_ms: Some(3_000),
            gpu_seconds: 1,
            result_hash: Some(Hash32([2; 32])),
        }
    }

    #[test]
    fn jobs_survive_a_restart_and_unfinished_ones_are_queued_again() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut book = JobBook::open(dir.path()).unwrap();
            book.put(record(1, JobStatus::Done)).unwrap();
            book.write_result(&Key([1; 32]), b"result").unwrap();
            book.put(record(2, JobStatus::Running)).unwrap();
            // Done, but its result was lost.
            book.put(record(3, JobStatus::Done)).unwrap();
            book.put(record(4, JobStatus::Queued)).unwrap();
            book.remove(&Key([4; 32])).unwrap();
        }
        let book = JobBook::open(dir.path()).unwrap();
        assert_eq!(book.get(&Key([1; 32])), Some(&record(1, JobStatus::Done)));
        assert_eq!(
            std::fs::read(book.result_path(&Key([1; 32]))).unwrap(),
            b"result"
        );
        assert_eq!(book.queued(), vec![Key([2; 32]), Key([3; 32])]);
        let again = book.get(&Key([2; 32])).unwrap();
        assert_eq!((again.start_ms, again.result_hash), (None, None));
        assert!(book.get(&Key([4; 32])).is_none());
        assert_eq!(book.all().count(), 3);
        let each = record(1, JobStatus::Queued).spec.work();
        assert_eq!(
            book.backlog(),
            super::super::terms::Backlog {
                jobs: 2,
                work: 2 * each
            }
        );
    }
}
