//! The oracle's one boundary to Solana: what it reads from the chain. Logic
//! is tested against a double of [`Chain`]; the daemon and the integration
//! tests use [`RpcChain`] (the SDK over JSON-RPC, e.g. against the localnet).

use crate::registry::RegisteredDevice;
use anchor_lang::prelude::Pubkey;
use depinkit_reports::Key;
use depinkit_sdk::accounts;
use device_registry::state::{Category, Network};
use reward_pool::state::Pool;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use std::future::Future;

/// A chain read that failed: the oracle retries later, it never guesses.
#[derive(Debug, thiserror::Error)]
#[error("chain read failed: {0}")]
pub struct ChainError(pub String);

impl From<depinkit_sdk::SdkError> for ChainError {
    fn from(error: depinkit_sdk::SdkError) -> Self {
        ChainError(error.to_string())
    }
}

/// What the oracle needs of its network's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkInfo {
    /// Which kind of infrastructure, so which reports its devices send.
    pub category: Category,
    /// The oracle set in force now (a scheduled change counts once due).
    pub oracles: Vec<Pubkey>,
    /// Identical votes that finalize a root.
    pub threshold: u8,
}

impl NetworkInfo {
    /// The network as it stands at unix time `now`.
    pub fn at(network: &Network, now: i64) -> Self {
        let set = network.oracle_set(now);
        NetworkInfo {
            category: network.category,
            oracles: set.oracles.to_vec(),
            threshold: set.threshold,
        }
    }
}

/// What the oracle reads from the chain.
pub trait Chain: Send + Sync {
    /// The network at `address`.
    fn network(
        &self,
        address: &Pubkey,
    ) -> impl Future<Output = Result<NetworkInfo, ChainError>> + Send;

    /// The reward pool of the network at `address`: its epochs, inflows and
    /// latest root.
    fn pool(&self, network: &Pubkey) -> impl Future<Output = Result<Pool, ChainError>> + Send;

    /// Every device of the network at `address`, by device key.
    fn devices(
        &self,
        address: &Pubkey,
    ) -> impl Future<Output = Result<Vec<(Key, RegisteredDevice)>, ChainError>> + Send;
}

/// [`Chain`] over JSON-RPC with the SDK.
pub struct RpcChain {
    rpc: RpcClient,
}

impl RpcChain {
    /// Reads through `rpc` (its commitment is the one the oracle trusts).
    pub fn new(rpc: RpcClient) -> Self {
        Self { rpc }
    }
}

impl Chain for RpcChain {
    async fn network(&self, address: &Pubkey) -> Result<NetworkInfo, ChainError> {
        let network: Network = accounts::fetch(&self.rpc, address).await?;
        let now = accounts::chain_time(&self.rpc).await?;
        Ok(NetworkInfo::at(&network, now))
    }

    async fn pool(&self, network: &Pubkey) -> Result<Pool, ChainError> {
        let (address, _) = reward_pool::pda::find_pool_address(network);
        Ok(accounts::fetch(&self.rpc, &address).await?)
    }

    async fn devices(&self, address: &Pubkey) -> Result<Vec<(Key, RegisteredDevice)>, ChainError> {
        Ok(accounts::devices_of_network(&self.rpc, address)
            .await?
            .iter()
            .map(|(_, device)| {
                (
                    Key(device.device_key.to_bytes()),
                    RegisteredDevice::from(device),
                )
            })
            .collect())
    }
}
