//! What a provider's node asks of the chain: the order a shard or a job is
//! sent for, and its acceptance by the device's NFT holder. [`check_order`]
//! decides from the order alone whether this device may serve it.

use depinkit_reports::{Hash32, Key};
use depinkit_sdk::{payments, sender::TransactionSender};
use service_payments::state::{Order, OrderStatus, Provider};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use std::{collections::BTreeMap, sync::Arc};

/// Why an order is not one this device may serve.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderRefused {
    /// No order account at the address.
    #[error("no order at {0}")]
    Unknown(Pubkey),
    /// The order belongs to another network.
    #[error("the order is for network {0}")]
    OtherNetwork(Pubkey),
    /// The order names another provider.
    #[error("the order is not for this device")]
    NotForThisDevice,
    /// Another device accepted it.
    #[error("device {0} serves the order")]
    TakenByAnother(Pubkey),
    /// Too late to accept it.
    #[error("the order could be accepted until {0} (unix time)")]
    Expired(i64),
    /// The shard or job is not what the order bought.
    #[error("the order's spec hash is {want}, this one's {got}")]
    SpecMismatch {
        /// The spec hash of what was sent.
        got: Hash32,
        /// The order's.
        want: Hash32,
    },
}

impl OrderRefused {
    /// The HTTP status and reason code a node answers with.
    pub fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            OrderRefused::Unknown(_) => (404, "unknown_order"),
            OrderRefused::OtherNetwork(_) => (403, "other_network"),
            OrderRefused::NotForThisDevice => (403, "not_for_this_device"),
            OrderRefused::TakenByAnother(_) => (403, "taken_by_another"),
            OrderRefused::Expired(_) => (403, "expired"),
            OrderRefused::SpecMismatch { .. } => (400, "spec_mismatch"),
        }
    }
}

/// Whether `device` of `network` may serve `order` with the work whose
/// spec hashes to `spec_hash` (a shard's [`depinkit_reports::DealSpec::hash`], a job's
/// [`depinkit_reports::job::MatrixJob::hash`]) at
/// unix time `now`: `Ok(true)` when the node must accept the order
/// first, `Ok(false)` when this device accepted it already.
pub fn check_order(
    order: &Order,
    network: &Pubkey,
    device: &Pubkey,
    spec_hash: &Hash32,
    now: i64,
) -> Result<bool, OrderRefused> {
    if order.network != *network {
        return Err(OrderRefused::OtherNetwork(order.network));
    }
    if spec_hash.0 != order.spec_hash {
        return Err(OrderRefused::SpecMismatch {
            got: *spec_hash,
            want: Hash32(order.spec_hash),
        });
    }
    match order.status {
        OrderStatus::Accepted => match order.accepted_device {
            Some(accepted) if accepted == *device => Ok(false),
            Some(accepted) => Err(OrderRefused::TakenByAnother(accepted)),
            None => Err(OrderRefused::NotForThisDevice),
        },
        OrderStatus::Open => {
            match order.provider {
                Provider::Device(named) if named == *device => {}
                Provider::AnyDevice => {}
                _ => return Err(OrderRefused::NotForThisDevice),
            }
            if now > order.accept_deadline {
                return Err(OrderRefused::Expired(order.accept_deadline));
            }
            Ok(true)
        }
    }
}

/// The orders a node is taking now, each with its weight (a job's
/// multiply-adds, a shard's bytes): a second upload of one waits for the
/// first to be answered, while the chain is read and the order accepted
/// outside the node's locks.
#[derive(Default)]
pub struct OrderClaims(std::sync::Mutex<BTreeMap<Key, u64>>);

/// A claim on an order, released when dropped.
pub struct OrderClaim<'a> {
    claims: &'a OrderClaims,
    order: Key,
}

impl OrderClaims {
    /// Claims `order` with `weight`, unless it is being taken already.
    pub fn claim(&self, order: Key, weight: u64) -> Option<OrderClaim<'_>> {
        let mut claims = self.0.lock().expect("not poisoned");
        if claims.contains_key(&order) {
            return None;
        }
        claims.insert(order, weight);
        Some(OrderClaim {
            claims: self,
            order,
        })
    }

    /// The orders being taken and their weights summed, leaving `except` out.
    pub fn pending(&self, except: Option<&Key>) -> (usize, u64) {
        self.0
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|(order, _)| Some(*order) != except)
            .fold((0, 0u64), |(count, sum), (_, weight)| {
                (count + 1, sum.saturating_add(*weight))
            })
    }
}

impl Drop for OrderClaim<'_> {
    fn drop(&mut self) {
        self.claims
            .0
            .lock()
            .expect("not poisoned")
            .remove(&self.order);
    }
}

/// Why an order could not be served now.
#[derive(Debug)]
pub enum OrderCheck {
    /// The chain did not answer (in time).
    Unavailable(String),
    /// The chain answered: not an order this device may serve.
    Refused(OrderRefused),
}

/// Longest wait for one read of the chain.
pub const CHAIN_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The node's chain: the network, its device's accounts, and the NFT
/// holder's key that accepts orders.
pub struct NodeChain {
    /// JSON-RPC.
    pub rpc: Arc<RpcClient>,
    sender: TransactionSender,
    holder: Keypair,
    /// The network.
    pub network: Pubkey,
    /// The device's registry account.
    pub device: Pubkey,
    /// The device's NFT.
    pub device_mint: Pubkey,
}

impl NodeChain {
    /// The chain at `rpc` for the device with key `device_key` on `network`,
    /// its NFT held by `holder`.
    pub fn new(rpc: Arc<RpcClient>, network: Pubkey, device_key: &Pubkey, holder: Keypair) -> Self {
        let sender = TransactionSender::new(rpc.clone(), Default::default());
        NodeChain {
            rpc,
            sender,
            holder,
            device: device_registry::pda::find_device_address(&network, device_key).0,
            device_mint: device_registry::pda::find_device_mint_address(&network, device_key).0,
            network,
        }
    }

    /// The wallet that accepts orders (the device NFT's holder).
    pub fn holder_key(&self) -> Pubkey {
        self.holder.pubkey()
    }

    /// The order at `address`, if there is one.
    pub async fn order(&self, address: &Pubkey) -> Result<Option<Order>, String> {
        depinkit_sdk::accounts::fetch_optional(&self.rpc, address)
            .await
            .map_err(|e| e.to_string())
    }

    /// Reads the order at `address` and the chain's clock, and decides
    /// ([`check_order`]) whether this device may serve it with the work
    /// whose spec hashes to `spec_hash`: the order, the clock (unix
    /// seconds) and whether the node must accept it first.
    pub async fn order_to_serve(
        &self,
        address: &Pubkey,
        spec_hash: &Hash32,
    ) -> Result<(Order, i64, bool), OrderCheck> {
        let read = tokio::time::timeout(CHAIN_READ_TIMEOUT, async {
            tokio::try_join!(self.order(address), self.now())
        })
        .await
        .unwrap_or_else(|_| Err(format!("no answer in {} s", CHAIN_READ_TIMEOUT.as_secs())));
        let (found, now) = read.map_err(OrderCheck::Unavailable)?;
        let found = found.ok_or(OrderCheck::Refused(OrderRefused::Unknown(*address)))?;
        let must_accept = check_order(&found, &self.network, &self.device, spec_hash, now)
            .map_err(OrderCheck::Refused)?;
        Ok((found, now, must_accept))
    }

    /// The chain's clock, unix seconds.
    pub async fn now(&self) -> Result<i64, String> {
        depinkit_sdk::accounts::chain_time(&self.rpc)
            .await
            .map_err(|e| e.to_string())
    }

    /// The network's reward mint: what its orders pay in by default.
    pub async fn reward_mint(&self) -> Result<Pubkey, String> {
        depinkit_sdk::accounts::fetch::<device_registry::state::Network>(&self.rpc, &self.network)
            .await
            .map(|network| network.reward_mint)
            .map_err(|e| e.to_string())
    }

    /// Accepts the order at `address` as the device's holder; the
    /// transaction's signature.
    pub async fn accept(&self, address: &Pubkey) -> Result<String, String> {
        let instruction = payments::accept_order(
            &self.holder.pubkey(),
            &self.network,
            address,
            &self.device,
            &self.device_mint,
        );
        self.sender
            .send(&[instruction], &self.holder.pubkey(), &[&self.holder])
            .await
            .map(|sent| sent.signature.to_string())
            .map_err(|e| e.to_string())
    }
}

/// An order of network `[1; 32]` for the tests of what nodes serve: paid in
/// mint `[6; 32]`, 1,000 base units escrowed, to be accepted by 1,000 s
/// and served by 2,000 s.
#[cfg(test)]
pub(crate) fn sample_order(
    provider: Provider,
    status: OrderStatus,
    accepted: Option<Pubkey>,
    spec_hash: Hash32,
) -> Order {
    Order {
        version: 1,
        bump: 255,
        network: Pubkey::new_from_array([1; 32]),
        customer: Pubkey::new_from_array([5; 32]),
        order_id: 1,
        payment_mint: Pubkey::new_from_array([6; 32]),
        payment_token_program: Pubkey::new_from_array([7; 32]),
        escrow: Pubkey::new_from_array([8; 32]),
        provider,
        accepted_device: accepted,
        max_amount: 1_000,
        settled: 0,
        accept_deadline: 1_000,
        service_deadline: 2_000,
        spec_hash: spec_hash.0,
        fee_bps: 100,
        pool_share_bps: 0,
        status,
        opened_at: 0,
        opened_slot: 0,
        accepted_at: 0,
        settlement_count: 0,
        votes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depinkit_reports::DealSpec;

    const NETWORK: Pubkey = Pubkey::new_from_array([1; 32]);
    const DEVICE: Pubkey = Pubkey::new_from_array([2; 32]);
    const OTHER: Pubkey = Pubkey::new_from_array([3; 32]);

    fn spec() -> DealSpec {
        DealSpec {
            root: Hash32([4; 32]),
            size: 1_000,
            leaf_size: 256,
        }
    }

    fn order(provider: Provider, status: OrderStatus, accepted: Option<Pubkey>) -> Order {
        sample_order(provider, status, accepted, spec().hash())
    }

    #[test]
    fn an_order_is_claimed_once_until_its_claim_is_dropped() {
        let claims = OrderClaims::default();
        let first = claims.claim(Key([1; 32]), 10).expect("free");
        assert!(claims.claim(Key([1; 32]), 10).is_none(), "taken already");
        let _other = claims.claim(Key([2; 32]), 5).expect("another order");
        assert_eq!(claims.pending(None), (2, 15));
        assert_eq!(claims.pending(Some(&Key([1; 32]))), (1, 5));
        drop(first);
        assert_eq!(claims.pending(None), (1, 5));
        assert!(claims.claim(Key([1; 32]), 10).is_some(), "free again");
    }

    #[test]
    fn an_open_order_for_this_device_or_any_is_accepted_then_served() {
        let mine = order(Provider::Device(DEVICE), OrderStatus::Open, None);
        assert_eq!(
            check_order(&mine, &NETWORK, &DEVICE, &spec().hash(), 999),
            Ok(true)
        );
        let any = order(Provider::AnyDevice, OrderStatus::Open, None);
        assert_eq!(
            check_order(&any, &NETWORK, &DEVICE, &spec().hash(), 999),
            Ok(true)
        );
        let accepted = order(
            Provider::Device(DEVICE),
            OrderStatus::Accepted,
            Some(DEVICE),
        );
        assert_eq!(
            check_order(&accepted, &NETWORK, &DEVICE, &spec().hash(), 5_000),
            Ok(false)
        );
    }

    #[test]
    fn every_order_this_device_may_not_serve_is_refused_by_name() {
        let mine = order(Provider::Device(DEVICE), OrderStatus::Open, None);
        assert_eq!(
            check_order(&mine, &OTHER, &DEVICE, &spec().hash(), 999),
            Err(OrderRefused::OtherNetwork(NETWORK))
        );
        assert_eq!(
            check_order(&mine, &NETWORK, &DEVICE, &spec().hash(), 1_001),
            Err(OrderRefused::Expired(1_000))
        );
        let other_spec = DealSpec {
            size: 999,
            ..spec()
        };
        assert!(matches!(
            check_order(&mine, &NETWORK, &DEVICE, &other_spec.hash(), 999),
            Err(OrderRefused::SpecMismatch { .. })
        ));
        let theirs = order(Provider::Device(OTHER), OrderStatus::Open, None);
        assert_eq!(
            check_order(&theirs, &NETWORK, &DEVICE, &spec().hash(), 999),
            Err(OrderRefused::NotForThisDevice)
        );
        let network_wide = order(Provider::Network, OrderStatus::Open, None);
        assert_eq!(
            check_order(&network_wide, &NETWORK, &DEVICE, &spec().hash(), 999),
            Err(OrderRefused::NotForThisDevice)
        );
        let taken = order(Provider::AnyDevice, OrderStatus::Accepted, Some(OTHER));
        assert_eq!(
            check_order(&taken, &NETWORK, &DEVICE, &spec().hash(), 999),
            Err(OrderRefused::TakenByAnother(OTHER))
        );
    }
}
