//! Where accepted reports and epoch progress are kept: SQLite by default (a
//! file, WAL, nothing to install), PostgreSQL when the URL is
//! `postgres://...` (several ingest replicas on one database). One interface,
//! one SQL text for both where the dialects agree, migrations for each.
//!
//! A report is stored inside a transaction that first reads its epoch's row
//! (locking it for share on PostgreSQL; SQLite has one writer at a time), and
//! closing an epoch updates that row: so once [`Store::close_epoch`] returns,
//! no report of that epoch can still arrive, and the epoch worker reads a
//! complete set.

mod charges;
mod locations;
mod map;
mod providers;
mod results;
mod settlements;
mod writer;

pub use charges::ChargeError;
pub use map::MapCell;
pub use providers::KeptAnnouncement;
pub use results::{DeviceReward, EpochResult, Leaf, RefusedReport, ReportStatus, RuleIo};
pub use settlements::{KeptSettlement, QueuedSettlement, SettlementState};

use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Hash32, SignedReport};
use sqlx::{AnyConnection, AnyPool, Connection, Row as _, any::AnyPoolOptions, migrate::Migrator};
use std::collections::BTreeMap;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// A store operation that failed: the caller answers 5xx or retries; nothing
/// is half-written (every write is one transaction).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names no supported database.
    #[error("database_url {0:?} is neither sqlite:... nor postgres://...")]
    UnsupportedUrl(String),
    /// A stored row does not decode (written by another version?).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The task that writes ingested reports has stopped (its runtime is
    /// shutting down).
    #[error("the report writer has stopped")]
    WriterStopped,
}

/// Which database a [`Store`] is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One file; one daemon.
    Sqlite,
    /// A server; many ingest replicas.
    Postgres,
}

/// A report that passed screening, ready to keep.
#[derive(Clone, Debug)]
pub struct NewReport<'a> {
    /// The epoch its timestamp falls in.
    pub epoch: u64,
    /// Its identity ([`depinkit_reports::Report::content_hash`]).
    pub content_hash: Hash32,
    /// The device NFT it counts for.
    pub device_mint: Pubkey,
    /// The report as verified.
    pub report: &'a SignedReport,
    /// When the oracle received it, unix milliseconds.
    pub received_ms: i64,
}

/// A report as a row of the `reports` table (owned: it crosses to the writer).
#[derive(Clone, Debug)]
struct ReportRow {
    epoch: u64,
    content_hash: Hash32,
    device_mint: Pubkey,
    kind: i64,
    timestamp_ms: i64,
    received_ms: i64,
    signed: Vec<u8>,
}

impl From<&NewReport<'_>> for ReportRow {
    fn from(report: &NewReport<'_>) -> Self {
        ReportRow {
            epoch: report.epoch,
            content_hash: report.content_hash,
            device_mint: report.device_mint,
            kind: i64::from(report.report.report.kind() as u8),
            timestamp_ms: report.report.report.timestamp_ms,
            received_ms: report.received_ms,
            signed: report.report.to_bytes(),
        }
    }
}

/// What became of one report handed to [`Store::store_reports`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// Kept (durably, once the call returns).
    Accepted,
    /// The same content is already kept.
    Duplicate,
    /// Its epoch no longer takes reports.
    EpochClosed,
}

/// A kept report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredReport {
    /// Position in the store: pages of an epoch's reports follow it.
    pub id: i64,
    /// Its epoch.
    pub epoch: u64,
    /// The device NFT it counts for.
    pub device_mint: Pubkey,
    /// Its identity.
    pub content_hash: Hash32,
    /// When it was received, unix milliseconds.
    pub received_ms: i64,
    /// The report as verified.
    pub report: SignedReport,
}

/// Where an epoch is in its close (each step persisted, so a restart resumes
/// at the step it was in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EpochState {
    /// Taking reports.
    Open,
    /// No more reports; gathering and scoring next.
    Closed,
    /// Scores, totals and root persisted.
    Scored,
    /// This oracle's vote landed.
    Voted,
    /// The chain finalized a root for it.
    Finalized,
}

impl EpochState {
    fn as_str(self) -> &'static str {
        match self {
            EpochState::Open => "open",
            EpochState::Closed => "closed",
            EpochState::Scored => "scored",
            EpochState::Voted => "voted",
            EpochState::Finalized => "finalized",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "open" => EpochState::Open,
            "closed" => EpochState::Closed,
            "scored" => EpochState::Scored,
            "voted" => EpochState::Voted,
            "finalized" => EpochState::Finalized,
            other => return Err(StoreError::Corrupt(format!("epoch state {other:?}"))),
        })
    }
}

/// The oracle's database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: writer::Writer,
}

impl Store {
    /// Connects to `url` (`sqlite:PATH`, created if missing, or
    /// `postgres://...`) and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let url = if rest.contains("mode=") {
                url.to_string()
            } else if rest.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::UnsupportedUrl(url.into()));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // The content-hash and device indexes take random
                        // keys: a page cache that holds them saves reads.
                        sqlx::query("PRAGMA cache_size = -65536")
                            .execute(&mut *connection)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        if backend == Backend::Sqlite {
            // Persistent in the file: readers never wait for the writer.
            // `synchronous` stays FULL, so a committed batch survives power loss.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let migrations = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrations.run(&pool).await?;
        let writer = writer::Writer::start(pool.clone(), backend);
        Ok(Store {
            pool,
            backend,
            writer,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Keeps each report unless its content is kept already or its epoch no
    /// longer takes reports; one answer per report, in order (the first of
    /// equal reports is the one kept). Everything accepted is committed
    /// before this returns, in one transaction with the other batches
    /// waiting to be stored (the `writer` module).
    pub async fn store_reports(
        &self,
        reports: &[NewReport<'_>],
    ) -> Result<Vec<Stored>, StoreError> {
        self.writer
            .store(reports.iter().map(ReportRow::from).collect())
            .await
    }

    /// Up to `limit` reports of `epoch` with ids above `after_id`, by id.
    pub async fn epoch_reports(
        &self,
        epoch: u64,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<StoredReport>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, epoch, device_mint, content_hash, received_ms, signed FROM reports \
             WHERE epoch = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(to_i64(epoch)?)
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_report).collect()
    }

    /// The kept report whose content hash is `hash`, if any.
    pub async fn report_by_hash(&self, hash: &Hash32) -> Result<Option<StoredReport>, StoreError> {
        let row = sqlx::query(
            "SELECT id, epoch, device_mint, content_hash, received_ms, signed FROM reports \
             WHERE content_hash = $1",
        )
        .bind(hash.0.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| stored_report(&row)).transpose()
    }

    /// Every report of `epoch`, sorted by content hash: the order every
    /// oracle scores them in, whatever order they arrived in.
    pub async fn all_epoch_reports(&self, epoch: u64) -> Result<Vec<StoredReport>, StoreError> {
        const PAGE: u32 = 10_000;
        let mut reports = Vec::new();
        let mut after = 0;
        loop {
            let page = self.epoch_reports(epoch, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            reports.extend(page);
        }
        reports.sort_by_key(|r| r.content_hash);
        Ok(reports)
    }

    /// Up to `limit` reports of `epoch` that devices sent to this oracle
    /// (not those pulled from peers), ids above `after_id`, by id: what
    /// peers pull in the exchange.
    pub async fn ingested_reports(
        &self,
        epoch: u64,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<StoredReport>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, epoch, device_mint, content_hash, received_ms, signed FROM reports \
             WHERE epoch = $1 AND id > $2 AND origin = 'ingest' ORDER BY id LIMIT $3",
        )
        .bind(to_i64(epoch)?)
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_report).collect()
    }

    /// Keeps reports of a closed (not yet scored) epoch pulled from the peer
    /// `origin`, each once; how many were new, or `None` if the epoch is not
    /// closed (still open, or already scored: its set is final).
    pub async fn store_exchanged(
        &self,
        epoch: u64,
        reports: &[NewReport<'_>],
        origin: &str,
    ) -> Result<Option<u64>, StoreError> {
        let epoch = to_i64(epoch)?;
        let mut tx = self.pool.begin().await?;
        if locked_epoch_state(&mut tx, self.backend, epoch).await? != Some(EpochState::Closed) {
            return Ok(None);
        }
        let rows: Vec<ReportRow> = reports.iter().map(ReportRow::from).collect();
        let batch: Vec<&ReportRow> = rows.iter().collect();
        let inserted = insert_reports(&mut tx, self.backend, epoch, &batch, origin)
            .await?
            .len() as u64;
        tx.commit().await?;
        Ok(Some(inserted))
    }

    /// How many reports of `epoch` are kept.
    pub async fn epoch_report_count(&self, epoch: u64) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE epoch = $1")
            .bind(to_i64(epoch)?)
            .fetch_one(&self.pool)
            .await?;
        Ok(count as u64)
    }

    /// Where `epoch` is, if any report or close has named it.
    pub async fn epoch_state(&self, epoch: u64) -> Result<Option<EpochState>, StoreError> {
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM epochs WHERE epoch = $1")
            .bind(to_i64(epoch)?)
            .fetch_optional(&self.pool)
            .await?;
        state.as_deref().map(EpochState::parse).transpose()
    }

    /// Stops `epoch` taking reports (waiting for batches being stored in it
    /// to commit). Whether it was open.
    pub async fn close_epoch(&self, epoch: u64) -> Result<bool, StoreError> {
        let epoch = to_i64(epoch)?;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        ensure_epoch_row(&mut tx, epoch, now).await?;
        let closed = sqlx::query(
            "UPDATE epochs SET state = 'closed', updated_ms = $2 WHERE epoch = $1 AND state = 'open'",
        )
        .bind(epoch)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(closed == 1)
    }

    /// Moves `epoch` from `from` to `to`; whether it was in `from` (a step
    /// taken twice is refused, so a restart never repeats a finished step).
    pub async fn advance_epoch(
        &self,
        epoch: u64,
        from: EpochState,
        to: EpochState,
    ) -> Result<bool, StoreError> {
        let moved = sqlx::query(
            "UPDATE epochs SET state = $3, updated_ms = $4 WHERE epoch = $1 AND state = $2",
        )
        .bind(to_i64(epoch)?)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(now_ms())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(moved == 1)
    }
}

/// The right to run one [`Role`]: on PostgreSQL a session advisory lock
/// held by a connection of its own (released when this is dropped or the
/// process dies, so another replica takes over); on SQLite, which serves one
/// daemon, always granted.
pub struct Leadership {
    connection: Option<AnyConnection>,
}

impl Leadership {
    /// Whether the lock is still held (its connection still answers).
    pub async fn still_held(&mut self) -> bool {
        match &mut self.connection {
            None => true,
            Some(connection) => connection.ping().await.is_ok(),
        }
    }
}

/// A job one replica of an oracle runs at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Closes, scores and votes epochs.
    EpochWorker,
    /// Sends claims for devices ([`crate::crank`]).
    ClaimCrank,
    /// Votes orders' settlements ([`crate::settle`]).
    Settler,
}

impl Store {
    /// Takes `role` for `network` if no other replica holds it.
    pub async fn try_lead(
        &self,
        network: &Pubkey,
        role: Role,
    ) -> Result<Option<Leadership>, StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(Leadership { connection: None }));
        }
        let mut connection = self.pool.acquire().await?.detach();
        // One lock key per network and role.
        let tag: &[u8] = match role {
            Role::EpochWorker => b"epoch-worker",
            Role::ClaimCrank => b"claim-crank",
            Role::Settler => b"settler",
        };
        let digest = solana_sha256_hasher::hashv(&[b"depin-oracle", tag, network.as_ref()]);
        let key = i64::from_le_bytes(digest.to_bytes()[..8].try_into().expect("8 bytes"));
        let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut connection)
            .await?;
        Ok(held.then_some(Leadership {
            connection: Some(connection),
        }))
    }
}

/// Keeps each row unless its content is kept already or its epoch no longer
/// takes reports, in one transaction; one answer per row, in order.
async fn store_rows(
    pool: &AnyPool,
    backend: Backend,
    rows: &[ReportRow],
) -> Result<Vec<Stored>, StoreError> {
    let mut by_epoch: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        by_epoch.entry(row.epoch).or_default().push(i);
    }
    let now = now_ms();
    let mut outcomes = vec![Stored::EpochClosed; rows.len()];
    let mut tx = pool.begin().await?;
    for (epoch, members) in by_epoch {
        let epoch = to_i64(epoch)?;
        ensure_epoch_row(&mut tx, epoch, now).await?;
        if locked_epoch_state(&mut tx, backend, epoch).await? != Some(EpochState::Open) {
            continue;
        }
        let batch: Vec<&ReportRow> = members.iter().map(|&i| &rows[i]).collect();
        let mut inserted = insert_reports(&mut tx, backend, epoch, &batch, "ingest").await?;
        for i in members {
            // The first of equal reports is the one kept.
            outcomes[i] = if inserted.remove(&rows[i].content_hash) {
                Stored::Accepted
            } else {
                Stored::Duplicate
            };
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// The state of `epoch` inside `tx`, its row locked for share on PostgreSQL
/// so that a close waits for this transaction (SQLite has one writer at a
/// time).
async fn locked_epoch_state(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    epoch: i64,
) -> Result<Option<EpochState>, StoreError> {
    let lock = match backend {
        Backend::Postgres => " FOR SHARE",
        Backend::Sqlite => "",
    };
    let state: Option<String> =
        sqlx::query_scalar(&format!("SELECT state FROM epochs WHERE epoch = $1{lock}"))
            .bind(epoch)
            .fetch_optional(&mut **tx)
            .await?;
    state.as_deref().map(EpochState::parse).transpose()
}

/// Creates `epoch`'s row, open, unless it exists.
async fn ensure_epoch_row(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    epoch: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO epochs (epoch, state, updated_ms) VALUES ($1, 'open', $2) \
         ON CONFLICT (epoch) DO NOTHING",
    )
    .bind(epoch)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends `rows` parenthesized groups of `columns` parameters (`?` on
/// SQLite, `$N` on PostgreSQL) to an INSERT's `VALUES`.
fn push_values(sql: &mut String, backend: Backend, rows: usize, columns: usize) {
    use std::fmt::Write;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => write!(sql, "${}", row * columns + column + 1)
                    .expect("writing to a String cannot fail"),
            }
        }
        sql.push(')');
    }
}

/// Rows per INSERT statement: 8 parameters each, within SQLite's and
/// PostgreSQL's limits; one statement per chunk instead of one per report
/// (each statement is a round trip to the database).
const INSERT_ROWS: usize = 500;

/// Inserts `reports` into `epoch`, each unless its content is kept already;
/// the content hashes inserted. SQLite gets positional `?` parameters: it
/// looks `$N` names up one by one, which grows with the square of the row
/// count.
async fn insert_reports(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    epoch: i64,
    reports: &[&ReportRow],
    origin: &str,
) -> Result<std::collections::HashSet<Hash32>, StoreError> {
    let mut inserted = std::collections::HashSet::new();
    for chunk in reports.chunks(INSERT_ROWS) {
        let mut sql = String::from(
            "INSERT INTO reports (content_hash, epoch, device_mint, kind, timestamp_ms, \
             received_ms, signed, origin) VALUES ",
        );
        push_values(&mut sql, backend, chunk.len(), 8);
        sql.push_str(" ON CONFLICT (content_hash) DO NOTHING RETURNING content_hash");
        let mut query = sqlx::query_scalar::<_, Vec<u8>>(&sql);
        for report in chunk {
            query = query
                .bind(report.content_hash.0.to_vec())
                .bind(epoch)
                .bind(report.device_mint.to_bytes().to_vec())
                .bind(report.kind)
                .bind(report.timestamp_ms)
                .bind(report.received_ms)
                .bind(report.signed.clone())
                .bind(origin);
        }
        for hash in query.fetch_all(&mut **tx).await? {
            let hash: [u8; 32] = hash
                .try_into()
                .map_err(|_| StoreError::Corrupt("a content hash is not 32 bytes".into()))?;
            inserted.insert(Hash32(hash));
        }
    }
    Ok(inserted)
}

fn stored_report(row: &sqlx::any::AnyRow) -> Result<StoredReport, StoreError> {
    let bytes32 = |column: &str| -> Result<[u8; 32], StoreError> {
        let bytes: Vec<u8> = row.try_get(column)?;
        bytes
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("{column} is not 32 bytes")))
    };
    let signed: Vec<u8> = row.try_get("signed")?;
    let epoch: i64 = row.try_get("epoch")?;
    Ok(StoredReport {
        id: row.try_get("id")?,
        epoch: epoch as u64,
        device_mint: Pubkey::new_from_array(bytes32("device_mint")?),
        content_hash: Hash32(bytes32("content_hash")?),
        received_ms: row.try_get("received_ms")?,
        report: SignedReport::from_bytes(&signed)
            .map_err(|e| StoreError::Corrupt(format!("stored report: {e}")))?,
    })
}

fn to_i64(epoch: u64) -> Result<i64, StoreError> {
    i64::try_from(epoch).map_err(|_| StoreError::Corrupt(format!("epoch {epoch} out of range")))
}

/// The oracle's clock, unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
