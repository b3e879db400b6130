//! The oracle's one boundary to Solana: what it reads from the chain. Logic
//! is tested against a double of [`Chain`]; the daemon and the integration
//! tests use [`RpcChain`] (the SDK over JSON-RPC, e.g. against the localnet).

use crate::{registry::RegisteredDevice, verifier::compute::OrderView};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Hash32, Key};
use depinkit_sdk::accounts;
use depinkit_sdk::events::DepinEvent;
use depinkit_sdk::sender::{SenderConfig, TransactionSender};
use device_registry::state::{Category, Device, Network};
use reward_pool::{instructions::VoteEpochRootArgs, state::Pool};
use service_payments::{
    instructions::{BurnUsageArgs, VotePriceArgs, VoteSettlementArgs},
    state::{Order, UsageEscrow},
};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::signature::{Keypair, Signature, Signer};
use std::{future::Future, sync::Arc};

/// A chain read or transaction that failed: the oracle retries later, it
/// never guesses.
#[derive(Debug, thiserror::Error)]
#[error("chain: {0}")]
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

    /// The cluster's clock, unix seconds: the one the programs check epochs
    /// against.
    fn now(&self) -> impl Future<Output = Result<i64, ChainError>> + Send;

    /// The reward pool of the network at `address`: its epochs, inflows and
    /// latest root.
    fn pool(&self, network: &Pubkey) -> impl Future<Output = Result<Pool, ChainError>> + Send;

    /// Every device of the network at `address`, by device key.
    fn devices(
        &self,
        address: &Pubkey,
    ) -> impl Future<Output = Result<Vec<(Key, RegisteredDevice)>, ChainError>> + Send;

    /// The device account at `address`, if it exists: its key and what the
    /// registry keeps of it.
    fn device(
        &self,
        address: &Pubkey,
    ) -> impl Future<Output = Result<Option<(Key, RegisteredDevice)>, ChainError>> + Send;

    /// The depinkit events of the confirmed transaction `signature`, in
    /// order; `None` while the node cannot serve it yet.
    fn transaction_events(
        &self,
        signature: &str,
    ) -> impl Future<Output = Result<Option<Vec<DepinEvent>>, ChainError>> + Send;

    /// The orders at `addresses` (service-payments accounts), in order;
    /// `None` where none exists.
    fn orders(
        &self,
        addresses: &[Pubkey],
    ) -> impl Future<Output = Result<Vec<Option<OrderView>>, ChainError>> + Send;

    /// Every order of `network` (one `getProgramAccounts`), by address.
    fn network_orders(
        &self,
        network: &Pubkey,
    ) -> impl Future<Output = Result<Vec<(Key, OrderView)>, ChainError>> + Send;

    /// The cluster's latest blockhash (entropy's unpredictable part).
    fn latest_blockhash(&self) -> impl Future<Output = Result<[u8; 32], ChainError>> + Send;

    /// The data of the account at `address` (a price feed's).
    fn account_data(
        &self,
        address: &Pubkey,
    ) -> impl Future<Output = Result<Vec<u8>, ChainError>> + Send;

    /// Votes the network token's price for `network`'s payments as this
    /// oracle; the landed transaction's signature.
    fn vote_price(
        &self,
        network: &Pubkey,
        vote: VotePriceArgs,
    ) -> impl Future<Output = Result<String, ChainError>> + Send;

    /// Votes `vote` for the pool of `network` as this oracle; the landed
    /// transaction's signature. Sending the same vote again is harmless (a
    /// vote replaces the oracle's previous one).
    fn vote_epoch_root(
        &self,
        network: &Pubkey,
        vote: VoteEpochRootArgs,
    ) -> impl Future<Output = Result<String, ChainError>> + Send;

    /// `wallet`'s usage escrow on `network` (its credits delegated, burned
    /// and withdrawn), if it has one. Chains that sell nothing need not
    /// serve it.
    fn usage_escrow(
        &self,
        network: &Pubkey,
        wallet: &Pubkey,
    ) -> impl Future<Output = Result<Option<UsageEscrow>, ChainError>> + Send {
        let _ = (network, wallet);
        async { Err(ChainError("this chain does not serve usage escrows".into())) }
    }

    /// The credits a finalized `burn_usage` of `epoch` took from `wallet`'s
    /// escrow on `network` (0 when none landed yet), so scoring that epoch
    /// reads the escrow as it was before its own burn, whichever oracle
    /// burned first. Chains that sell nothing answer 0.
    fn burned_in_epoch(
        &self,
        network: &Pubkey,
        wallet: &Pubkey,
        epoch: u64,
    ) -> impl Future<Output = Result<u64, ChainError>> + Send {
        let _ = (network, wallet, epoch);
        async { Ok(0) }
    }

    /// Votes `args` (an epoch's usage) for `wallet`'s escrow on `network`
    /// as this oracle; the landed transaction's signature. Chains that sell
    /// nothing need not serve it.
    fn burn_usage(
        &self,
        network: &Pubkey,
        wallet: &Pubkey,
        args: BurnUsageArgs,
    ) -> impl Future<Output = Result<String, ChainError>> + Send {
        let _ = (network, wallet, args);
        async { Err(ChainError("this chain does not take usage votes".into())) }
    }

    /// The orders at `addresses` as the program keeps them (settlement
    /// count, amounts, pending votes), in order; `None` where none exists.
    /// Chains that settle nothing need not serve it.
    fn settlement_orders(
        &self,
        addresses: &[Pubkey],
    ) -> impl Future<Output = Result<Vec<Option<Order>>, ChainError>> + Send {
        let _ = addresses;
        async {
            Err(ChainError(
                "this chain does not serve orders to settle".into(),
            ))
        }
    }

    /// Votes the settlement `args` of `order` (at `address`) as this
    /// oracle; the landed transaction's signature. Chains that settle
    /// nothing need not serve it.
    fn vote_settlement(
        &self,
        address: &Pubkey,
        order: &Order,
        args: VoteSettlementArgs,
    ) -> impl Future<Output = Result<String, ChainError>> + Send {
        let _ = (address, order, args);
        async {
            Err(ChainError(
                "this chain does not take settlement votes".into(),
            ))
        }
    }
}

/// [`Chain`] over JSON-RPC with the SDK.
pub struct RpcChain {
    rpc: Arc<RpcClient>,
    /// The oracle's key and the sender its votes go through, when it votes.
    signer: Option<(TransactionSender, Keypair)>,
}

impl RpcChain {
    /// Reads through `rpc` (its commitment is the one the oracle trusts);
    /// cannot vote.
    pub fn new(rpc: RpcClient) -> Self {
        Self {
            rpc: Arc::new(rpc),
            signer: None,
        }
    }

    fn signer(&self) -> Result<(&TransactionSender, &Keypair), ChainError> {
        self.signer
            .as_ref()
            .map(|(sender, oracle)| (sender, oracle))
            .ok_or_else(|| ChainError("this chain client has no oracle key".into()))
    }

    /// Reads through `rpc` and votes as `oracle` (which pays the fees).
    pub fn signing(rpc: RpcClient, oracle: Keypair) -> Self {
        let rpc = Arc::new(rpc);
        let sender = TransactionSender::new(rpc.clone(), SenderConfig::default());
        Self {
            rpc,
            signer: Some((sender, oracle)),
        }
    }
}

impl Chain for RpcChain {
    async fn network(&self, address: &Pubkey) -> Result<NetworkInfo, ChainError> {
        let network: Network = accounts::fetch(&self.rpc, address).await?;
        let now = accounts::chain_time(&self.rpc).await?;
        Ok(NetworkInfo::at(&network, now))
    }

    async fn now(&self) -> Result<i64, ChainError> {
        Ok(accounts::chain_time(&self.rpc).await?)
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

    async fn device(
        &self,
        address: &Pubkey,
    ) -> Result<Option<(Key, RegisteredDevice)>, ChainError> {
        let device: Option<Device> = accounts::fetch_optional(&self.rpc, address).await?;
        Ok(device.map(|device| {
            (
                Key(device.device_key.to_bytes()),
                RegisteredDevice::from(&device),
            )
        }))
    }

    async fn transaction_events(
        &self,
        signature: &str,
    ) -> Result<Option<Vec<DepinEvent>>, ChainError> {
        let signature: Signature = signature
            .parse()
            .map_err(|_| ChainError(format!("{signature:?} is not a signature")))?;
        Ok(depinkit_sdk::events::events_of_transaction(&self.rpc, &signature).await?)
    }

    async fn orders(&self, addresses: &[Pubkey]) -> Result<Vec<Option<OrderView>>, ChainError> {
        Ok(self
            .full_orders(addresses)
            .await?
            .into_iter()
            .map(|order| order.as_ref().map(order_view))
            .collect())
    }

    async fn network_orders(&self, network: &Pubkey) -> Result<Vec<(Key, OrderView)>, ChainError> {
        Ok(accounts::orders_of_network(&self.rpc, network)
            .await?
            .into_iter()
            .map(|(address, o)| (Key(address.to_bytes()), order_view(&o)))
            .collect())
    }

    async fn latest_blockhash(&self) -> Result<[u8; 32], ChainError> {
        self.rpc
            .get_latest_blockhash()
            .await
            .map(|hash| hash.to_bytes())
            .map_err(|e| ChainError(format!("latest blockhash: {e}")))
    }

    async fn account_data(&self, address: &Pubkey) -> Result<Vec<u8>, ChainError> {
        self.rpc
            .get_account_data(address)
            .await
            .map_err(|e| ChainError(format!("{address}: {e}")))
    }

    async fn vote_price(
        &self,
        network: &Pubkey,
        vote: VotePriceArgs,
    ) -> Result<String, ChainError> {
        let (sender, oracle) = self.signer()?;
        let keys = self.payments_keys(network).await?;
        let instruction = depinkit_sdk::payments::vote_price(&oracle.pubkey(), &keys, vote);
        let sent = sender
            .send(&[instruction], &oracle.pubkey(), &[oracle])
            .await?;
        Ok(sent.signature.to_string())
    }

    async fn vote_epoch_root(
        &self,
        network: &Pubkey,
        vote: VoteEpochRootArgs,
    ) -> Result<String, ChainError> {
        let (sender, oracle) = self.signer()?;
        let (pool, _) = reward_pool::pda::find_pool_address(network);
        let instruction =
            depinkit_sdk::pool::vote_epoch_root(&oracle.pubkey(), network, &pool, vote);
        let sent = sender
            .send(&[instruction], &oracle.pubkey(), &[oracle])
            .await?;
        Ok(sent.signature.to_string())
    }

    async fn usage_escrow(
        &self,
        network: &Pubkey,
        wallet: &Pubkey,
    ) -> Result<Option<UsageEscrow>, ChainError> {
        let address = service_payments::pda::find_usage_escrow_address(network, wallet).0;
        Ok(accounts::fetch_optional(&self.rpc, &address).await?)
    }

    async fn burned_in_epoch(
        &self,
        network: &Pubkey,
        wallet: &Pubkey,
        epoch: u64,
    ) -> Result<u64, ChainError> {
        let Ok(epoch) = u32::try_from(epoch) else {
            return Ok(0);
        };
        let escrow = service_payments::pda::find_usage_escrow_address(network, wallet).0;
        let report = service_payments::pda::find_usage_report_address(&escrow, epoch).0;
        let report: Option<service_payments::state::UsageReport> =
            accounts::fetch_optional(&self.rpc, &report).await?;
        Ok(report.filter(|r| r.finalized).map_or(0, |r| r.amount))
    }

    async fn burn_usage(
        &self,
        network: &Pubkey,
        wallet: &Pubkey,
        args: BurnUsageArgs,
    ) -> Result<String, ChainError> {
        let (sender, oracle) = self.signer()?;
        let keys = self.payments_keys(network).await?;
        let instruction = depinkit_sdk::payments::burn_usage(&oracle.pubkey(), &keys, wallet, args);
        let sent = sender
            .send(&[instruction], &oracle.pubkey(), &[oracle])
            .await?;
        Ok(sent.signature.to_string())
    }

    async fn settlement_orders(
        &self,
        addresses: &[Pubkey],
    ) -> Result<Vec<Option<Order>>, ChainError> {
        self.full_orders(addresses).await
    }

    async fn vote_settlement(
        &self,
        address: &Pubkey,
        order: &Order,
        args: VoteSettlementArgs,
    ) -> Result<String, ChainError> {
        let (sender, oracle) = self.signer()?;
        let instructions = depinkit_sdk::settle::settlement_vote(
            &self.rpc,
            &oracle.pubkey(),
            address,
            order,
            args,
        )
        .await?;
        let sent = sender
            .send(&instructions, &oracle.pubkey(), &[oracle])
            .await?;
        Ok(sent.signature.to_string())
    }
}

impl RpcChain {
    /// The payments addresses of `network` (its reward mint is the one
    /// credits are bought with).
    async fn payments_keys(
        &self,
        network: &Pubkey,
    ) -> Result<depinkit_sdk::payments::PaymentsKeys, ChainError> {
        let record: Network = accounts::fetch(&self.rpc, network).await?;
        let mint = self
            .rpc
            .get_account(&record.reward_mint)
            .await
            .map_err(|e| ChainError(format!("reward mint {}: {e}", record.reward_mint)))?;
        Ok(depinkit_sdk::payments::PaymentsKeys::new(
            network,
            &record.reward_mint,
            &mint.owner,
        ))
    }

    /// The orders at `addresses`, in order.
    async fn full_orders(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Order>>, ChainError> {
        Ok(accounts::fetch_many(&self.rpc, addresses).await?)
    }
}

/// What the rules read of an order.
fn order_view(o: &Order) -> OrderView {
    OrderView {
        network: o.network,
        customer: o.customer,
        accepted_device: o.accepted_device,
        accepted_at: o.accepted_at,
        service_deadline: o.service_deadline,
        spec_hash: Hash32(o.spec_hash),
    }
}
