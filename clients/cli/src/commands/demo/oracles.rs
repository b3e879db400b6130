//! The demo's oracle daemons: `depin-oracle run` in this process, one per
//! oracle key, each on its own SQLite file and port, scoring its network
//! with the category's rules; each also runs the claim crank, so every
//! device's rewards reach its owner whichever oracle is up.

use super::{DemoError, world::DemoNetwork};
use depinkit_oracle::config::Config;
use std::path::Path;
use tokio::{sync::oneshot, task::JoinHandle};

/// A running oracle.
pub struct RunningOracle {
    /// Its API.
    pub url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), depinkit_oracle::daemon::RunError>>,
}

impl RunningOracle {
    /// Stops it and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// A free loopback port.
fn free_port() -> Result<u16, DemoError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| DemoError::Setup(format!("no free port: {e}")))
}

/// Starts every oracle of `network` against the chain at `rpc_url`/`ws_url`,
/// their files under `dir`; epochs of `epoch_secs`.
pub async fn start(
    network: &DemoNetwork,
    rpc_url: &str,
    ws_url: &str,
    dir: &Path,
    epoch_secs: i64,
) -> Result<Vec<RunningOracle>, DemoError> {
    let ports: Vec<u16> = network
        .oracles
        .iter()
        .map(|_| free_port())
        .collect::<Result<_, _>>()?;
    // Entropy a third of an epoch apart: a storage epoch's seed is the one
    // issued in its first third.
    let entropy_secs = (epoch_secs / 3).clamp(1, 60);
    let mut running = Vec::new();
    for (i, oracle) in network.oracles.iter().enumerate() {
        let name = format!("{}-{i}", super::world::category_name(network.category));
        let keypair = dir.join(format!("{name}.json"));
        solana_sdk::signature::write_keypair_file(oracle, &keypair)
            .map_err(|e| DemoError::Setup(format!("{}: {e}", keypair.display())))?;
        let peers: Vec<String> = ports
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, port)| format!("http://127.0.0.1:{port}"))
            .collect();
        let text = format!(
            "[chain]\nrpc_url = \"{rpc_url}\"\nws_url = \"{ws_url}\"\nnetwork = \"{network}\"\n\
             keypair = \"{keypair}\"\n\
             [store]\ndatabase_url = \"sqlite:{db}\"\n\
             [ingest]\nbind = \"127.0.0.1:{port}\"\ndevice_reports_per_minute = 600\n\
             device_burst = 600\n\
             [epochs]\ngrace_secs = 1\ntick_secs = 1\n\
             [quorum]\npeers = {peers:?}\nexchange_timeout_secs = 60\n\
             [bundles]\nlocation = \"{bundles}\"\n\
             [rules]\nset = \"category\"\n\
             [rules.wireless]\nbeacon_interval_ms = {beacon_ms}\n\
             [rules.storage]\nseed_window_ms = {entropy_ms}\n\
             [challenges]\ninterval_secs = {challenge_secs}\n\
             entropy_interval_secs = {entropy_secs}\n\
             [crank]\nenabled = true\nmin_unclaimed = 1\ninterval_secs = 2\n\
             [log]\nformat = \"text\"\n",
            network = network.address,
            keypair = keypair.display(),
            db = dir.join(format!("{name}.db")).display(),
            port = ports[i],
            bundles = dir.join(format!("{name}-bundles")).display(),
            beacon_ms = epoch_secs * 1000,
            challenge_secs = (epoch_secs / 2).max(1),
            entropy_secs = entropy_secs,
            entropy_ms = entropy_secs * 1000,
        );
        let config = Config::parse(&text, "demo", Vec::new())
            .map_err(|e| DemoError::Setup(format!("oracle {name}'s settings: {e}")))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            depinkit_oracle::daemon::run(&config, async {
                let _ = stopped.await;
            })
            .await
        });
        running.push(RunningOracle {
            url: format!("http://127.0.0.1:{}", ports[i]),
            stop,
            task,
        });
    }
    // Up when each answers; an oracle that failed says why.
    let http = reqwest::Client::new();
    for oracle in &running {
        let mut tries = 0;
        while http
            .get(format!("{}/health", oracle.url))
            .send()
            .await
            .is_err()
        {
            if oracle.task.is_finished() || tries > 300 {
                return Err(DemoError::Setup(format!(
                    "the oracle at {} did not start",
                    oracle.url
                )));
            }
            tries += 1;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    Ok(running)
}
