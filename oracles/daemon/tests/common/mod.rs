//! What the oracle's tests share: a double of the chain (the one boundary
//! the logic tests may replace), and test databases: a fresh SQLite file
//! always, and a fresh PostgreSQL database when `DEPIN_TEST_POSTGRES_URL`
//! names a server (`.ci/run` starts one and sets it; without it the
//! PostgreSQL half is skipped, saying so).

#![allow(dead_code)]

use anchor_lang::prelude::Pubkey;
use depinkit_oracle::{
    chain::{Chain, ChainError, NetworkInfo},
    ingest::{Ingest, Limits},
    registry::{RegisteredDevice, Registry},
    server::{AppState, router},
    store::Store,
};
use depinkit_reports::Key;
use depinkit_sdk::events::DepinEvent;
use device_registry::state::Category;
use reward_pool::{
    instructions::VoteEpochRootArgs,
    state::{EmissionSchedule, Pool},
};
use service_payments::instructions::VotePriceArgs;
use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

/// Device `seed`'s key.
pub fn key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

/// A beacon for [`NETWORK`] from device `seed` at `timestamp_ms`; `n` makes
/// it unique.
pub fn beacon(seed: u8, n: u8, timestamp_ms: i64) -> depinkit_reports::SignedReport {
    use depinkit_reports::{Beacon, Body, Report};
    Report {
        network: Key(NETWORK.to_bytes()),
        device: Key(key(seed).verifying_key().to_bytes()),
        timestamp_ms,
        body: Body::Beacon(Beacon {
            entropy: entropy(timestamp_ms),
            payload: vec![n],
            frequency_hz: 868_100_000,
            tx_power_ddbm: 140,
            antenna_gain_ddbi: 30,
        }),
    }
    .sign(&key(seed))
}

/// Device `n` as the registry has it: key `[n; 32]`, mint `[n + 100; 32]`.
pub fn device(n: u8, active: bool) -> (Key, RegisteredDevice) {
    (
        Key([n; 32]),
        RegisteredDevice {
            mint: Pubkey::new_from_array([n + 100; 32]),
            location: 0,
            active,
        },
    )
}

/// An unsigned storage proof from device `n`'s key (registry checks only).
pub fn proof_from(device: u8) -> depinkit_reports::Report {
    use depinkit_reports::{Body, Report, StorageProof};
    Report {
        network: Key(NETWORK.to_bytes()),
        device: Key([device; 32]),
        timestamp_ms: 1,
        body: Body::StorageProof(StorageProof {
            deal: Key([1; 32]),
            spec: depinkit_reports::DealSpec {
                root: depinkit_reports::Hash32([2; 32]),
                size: 1,
                leaf_size: 64,
            },
            epoch: 0,
            seed: entropy(0),
            challenge: 0,
            leaf_index: 0,
            leaf: vec![1],
            path: vec![],
        }),
    }
}

/// Entropy the network's oracle (key `[5; 32]`) issued at `issued_ms`.
pub fn entropy(issued_ms: i64) -> depinkit_reports::Entropy {
    depinkit_reports::Entropy::issue(
        &Key(NETWORK.to_bytes()),
        issued_ms,
        &[1; 32],
        &ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
    )
}

/// The network's one oracle: the key that issues [`entropy`].
pub fn oracle() -> Pubkey {
    Pubkey::new_from_array(
        ed25519_dalek::SigningKey::from_bytes(&[5; 32])
            .verifying_key()
            .to_bytes(),
    )
}

/// The network every test double serves.
pub const NETWORK: Pubkey = Pubkey::new_from_array([9; 32]);

/// The chain as a network of `category` with the devices and pool a test
/// puts on it; counts device reads, and fails reads while `down`.
pub struct ChainDouble {
    pub category: Category,
    pub devices: Mutex<Vec<(Key, RegisteredDevice)>>,
    pub pool: Mutex<Pool>,
    pub reads: AtomicUsize,
    pub down: AtomicBool,
    /// Votes sent, in order.
    pub votes: Mutex<Vec<VoteEpochRootArgs>>,
    /// Votes fail (the RPC node goes away at vote time) while set.
    pub votes_fail: AtomicBool,
    /// Price votes sent, in order.
    pub price_votes: Mutex<Vec<VotePriceArgs>>,
    /// Accounts the chain holds (a price feed's).
    pub accounts: Mutex<std::collections::HashMap<Pubkey, Vec<u8>>>,
    /// Device accounts by address, for reads of one device.
    pub device_accounts: Mutex<std::collections::HashMap<Pubkey, (Key, RegisteredDevice)>>,
    /// Confirmed transactions' events by signature.
    pub transactions: Mutex<std::collections::HashMap<String, Vec<DepinEvent>>>,
    /// Transactions fetched, in order.
    pub fetched: Mutex<Vec<String>>,
    /// Orders by address.
    pub orders:
        Mutex<std::collections::HashMap<Pubkey, depinkit_oracle::verifier::compute::OrderView>>,
}

impl ChainDouble {
    /// A network of `category` with `devices` and a pool of `epoch_length_secs`
    /// epochs starting at `start_time`.
    pub fn new(
        category: Category,
        devices: Vec<(Key, RegisteredDevice)>,
        start_time: i64,
        epoch_length_secs: i64,
    ) -> Self {
        ChainDouble {
            category,
            devices: Mutex::new(devices),
            pool: Mutex::new(pool(start_time, epoch_length_secs)),
            reads: AtomicUsize::new(0),
            down: AtomicBool::new(false),
            votes: Mutex::new(Vec::new()),
            votes_fail: AtomicBool::new(false),
            price_votes: Mutex::new(Vec::new()),
            accounts: Mutex::new(std::collections::HashMap::new()),
            device_accounts: Mutex::new(std::collections::HashMap::new()),
            transactions: Mutex::new(std::collections::HashMap::new()),
            fetched: Mutex::new(Vec::new()),
            orders: Mutex::new(std::collections::HashMap::new()),
        }
    }
}

/// Serves the oracle's API for `chain`'s network from `store` on a loopback
/// port (64 KiB body limit); its URL.
pub async fn serve(chain: Arc<ChainDouble>, store: Store, limits: Limits) -> String {
    serve_with(chain, store, limits, Extras::default()).await
}

/// What an oracle may serve beyond ingest and the epochs.
#[derive(Default)]
pub struct Extras {
    /// Its entropy.
    pub entropy: Option<Arc<depinkit_oracle::entropy::EntropySource>>,
    /// Its compute challenges.
    pub challenges: Option<Arc<depinkit_oracle::challenges::ChallengeIssuer>>,
    /// Its storage seeds.
    pub storage_seeds: Option<Arc<depinkit_oracle::challenges::StorageSeeds<ChainDouble>>>,
}

/// [`serve`], with `extras`.
pub async fn serve_with(
    chain: Arc<ChainDouble>,
    store: Store,
    limits: Limits,
    extras: Extras,
) -> String {
    let registry = Arc::new(
        Registry::load(chain.clone(), NETWORK, std::time::Duration::from_secs(10))
            .await
            .unwrap(),
    );
    let ingest = Arc::new(
        Ingest::new(chain, NETWORK, registry, store.clone(), limits)
            .await
            .unwrap(),
    );
    let app = router(
        Arc::new(AppState {
            ingest,
            store,
            network: NETWORK,
            bundles: None,
            entropy: extras.entropy,
            challenges: extras.challenges,
            storage_seeds: extras.storage_seeds,
            map: None,
        }),
        64 * 1024,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

/// A pool as `create_pool` leaves it.
pub fn pool(start_time: i64, epoch_length_secs: i64) -> Pool {
    Pool {
        version: 1,
        bump: 255,
        network: NETWORK,
        reward_mint: Pubkey::new_from_array([20; 32]),
        reward_token_program: Pubkey::new_from_array([21; 32]),
        vault: Pubkey::new_from_array([22; 32]),
        start_time,
        epoch_length_secs,
        schedule: EmissionSchedule {
            initial_per_epoch: 1_000_000,
            decay_interval_epochs: 0,
            retain_bps: 10_000,
        },
        next_epoch: 0,
        next_epoch_emission: 1_000_000,
        scheduled_to_date: 0,
        total_inflow: 0,
        revenue_inflow: 0,
        total_claimed: 0,
        root: [0; 32],
        root_total: 0,
        root_leaf_count: 0,
        root_finalized_at: 0,
        claim_lookup_table: Pubkey::default(),
        votes: vec![],
    }
}

impl Chain for ChainDouble {
    async fn network(&self, _: &Pubkey) -> Result<NetworkInfo, ChainError> {
        Ok(NetworkInfo {
            category: self.category,
            oracles: vec![oracle()],
            threshold: 1,
        })
    }

    async fn now(&self) -> Result<i64, ChainError> {
        Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64)
    }

    async fn pool(&self, _: &Pubkey) -> Result<Pool, ChainError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ChainError("connection refused".into()));
        }
        Ok(self.pool.lock().unwrap().clone())
    }

    async fn devices(&self, _: &Pubkey) -> Result<Vec<(Key, RegisteredDevice)>, ChainError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(ChainError("connection refused".into()));
        }
        Ok(self.devices.lock().unwrap().clone())
    }

    async fn device(
        &self,
        address: &Pubkey,
    ) -> Result<Option<(Key, RegisteredDevice)>, ChainError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ChainError("connection refused".into()));
        }
        Ok(self.device_accounts.lock().unwrap().get(address).copied())
    }

    async fn transaction_events(
        &self,
        signature: &str,
    ) -> Result<Option<Vec<DepinEvent>>, ChainError> {
        self.fetched.lock().unwrap().push(signature.to_string());
        Ok(self.transactions.lock().unwrap().get(signature).cloned())
    }

    async fn orders(
        &self,
        addresses: &[Pubkey],
    ) -> Result<Vec<Option<depinkit_oracle::verifier::compute::OrderView>>, ChainError> {
        let orders = self.orders.lock().unwrap();
        Ok(addresses.iter().map(|a| orders.get(a).copied()).collect())
    }

    async fn network_orders(
        &self,
        network: &Pubkey,
    ) -> Result<Vec<(Key, depinkit_oracle::verifier::compute::OrderView)>, ChainError> {
        let orders = self.orders.lock().unwrap();
        let mut found: Vec<_> = orders
            .iter()
            .filter(|(_, o)| o.network == *network)
            .map(|(a, o)| (Key(a.to_bytes()), *o))
            .collect();
        found.sort_by_key(|(a, _)| *a);
        Ok(found)
    }

    async fn latest_blockhash(&self) -> Result<[u8; 32], ChainError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ChainError("connection refused".into()));
        }
        Ok([self.votes.lock().unwrap().len() as u8; 32])
    }

    async fn account_data(&self, address: &Pubkey) -> Result<Vec<u8>, ChainError> {
        self.accounts
            .lock()
            .unwrap()
            .get(address)
            .cloned()
            .ok_or_else(|| ChainError(format!("{address}: no such account")))
    }

    async fn vote_price(&self, _: &Pubkey, vote: VotePriceArgs) -> Result<String, ChainError> {
        if self.down.load(Ordering::SeqCst) || self.votes_fail.load(Ordering::SeqCst) {
            return Err(ChainError("connection refused".into()));
        }
        self.price_votes.lock().unwrap().push(vote);
        Ok(format!("price-{}", vote.publish_time))
    }

    /// A one-oracle quorum: a vote for the next, ended epoch finalizes it
    /// (the program's checks that matter to the worker, as the program makes them).
    async fn vote_epoch_root(
        &self,
        _: &Pubkey,
        vote: VoteEpochRootArgs,
    ) -> Result<String, ChainError> {
        if self.down.load(Ordering::SeqCst) || self.votes_fail.load(Ordering::SeqCst) {
            return Err(ChainError("connection refused".into()));
        }
        let mut pool = self.pool.lock().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        if vote.epoch != pool.next_epoch || now < pool.epoch_end(vote.epoch).unwrap() {
            return Err(ChainError(format!("EpochNotNext/EpochNotEnded: {vote:?}")));
        }
        if vote.total > pool.max_total_for_next_epoch() || vote.total < pool.root_total {
            return Err(ChainError(format!("TotalExceedsAvailable: {vote:?}")));
        }
        self.votes.lock().unwrap().push(vote);
        pool.root = vote.root;
        pool.root_total = vote.total;
        pool.root_leaf_count = vote.leaf_count;
        pool.scheduled_to_date += u128::from(pool.next_epoch_emission);
        pool.next_epoch += 1;
        Ok(format!("vote-{}", vote.epoch))
    }
}

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

/// The rule that refused `report` in `scoring`, if one did.
pub fn refusal(
    scoring: &depinkit_oracle::verifier::Scoring,
    report: &depinkit_oracle::store::StoredReport,
) -> Option<String> {
    scoring
        .refused
        .get(&report.content_hash)
        .map(|r| r.rule.clone())
}
