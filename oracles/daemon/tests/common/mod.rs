//! Test databases: a fresh SQLite file always, and a fresh PostgreSQL
//! database when `DEPIN_TEST_POSTGRES_URL` names a server (`.ci/run` starts
//! one and sets it; without it the PostgreSQL half is skipped, saying so).

#![allow(dead_code)]

use depinkit_oracle::store::Store;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The server the PostgreSQL tests use (a role allowed to create databases).
pub const POSTGRES_URL_VAR: &str = "DEPIN_TEST_POSTGRES_URL";

/// A database for one test; the SQLite file lives as long as this.
pub struct TestDatabase {
    /// `sqlite:...` or `postgres://...`.
    pub url: String,
    /// Which one, for messages.
    pub name: &'static str,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// Opens (and migrates) a store on it.
    pub async fn open(&self) -> Store {
        Store::open(&self.url)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }
}

/// A new empty SQLite database.
pub fn sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().unwrap();
    TestDatabase {
        url: format!("sqlite:{}", dir.path().join("oracle.db").display()),
        name: "sqlite",
        _dir: Some(dir),
    }
}

/// A new empty PostgreSQL database, or `None` when no server is configured.
pub async fn postgres() -> Option<TestDatabase> {
    let Ok(admin) = std::env::var(POSTGRES_URL_VAR) else {
        eprintln!("{POSTGRES_URL_VAR} is not set: skipping the PostgreSQL half of this test");
        return None;
    };
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "depin_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut connection)
        .await
        .expect("create a test database");
    let (base, _) = admin.rsplit_once('/').expect("URL with a database");
    Some(TestDatabase {
        url: format!("{base}/{name}"),
        name: "postgres",
        _dir: None,
    })
}

/// Every database this machine can test on: SQLite, and PostgreSQL when configured.
pub async fn databases() -> Vec<TestDatabase> {
    let mut databases = vec![sqlite()];
    databases.extend(postgres().await);
    databases
}
