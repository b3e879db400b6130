//! The storage network's deals: a customer orders storage of a file from
//! each storage device (one order per device, its escrow paid in the reward
//! token, committing to the file's `DealSpec`), the device's owner accepts,
//! and the fleet's node keeps the bytes and answers each epoch's challenges.
//! Deals are in place before the first epoch begins, so every epoch of the
//! demo checks them all.

use super::{
    DemoError,
    world::{DemoChain, DemoNetwork, SPL_TOKEN, mint_to},
};
use depinkit_device::{Fleet, storage::StoredDeal};
use depinkit_reports::{Hash32, Key};
use depinkit_sdk::payments::{self, OrderKeys};
use service_payments::{instructions::OpenOrderArgs, state::Provider};
use solana_sdk::{pubkey::Pubkey, signature::Signer};

/// Bytes of each stored file.
pub const DEAL_BYTES: usize = 16 * 1024;
/// Leaf size of each file's merkle tree (64 leaves a file).
pub const LEAF_BYTES: u32 = 256;
/// Escrow of each order: 10 tokens.
pub const DEAL_ESCROW: u64 = 10_000_000;

/// The deals opened on a storage network.
pub struct Deals {
    /// Each order (one per device) and its escrow account.
    pub orders: Vec<(Pubkey, Pubkey)>,
    /// Tokens the customer escrowed in them.
    pub escrowed: u64,
    /// The customer's reward-token account (refunds come back to it).
    pub customer_account: Pubkey,
    /// The network treasury's reward-token account (settlement fees).
    pub treasury_account: Pubkey,
    /// What the treasury's account held once the deals were open.
    pub treasury_before: u64,
}

/// The file stored under order `id`: bytes anyone can regenerate.
fn file_of(id: u64) -> Vec<u8> {
    (0..DEAL_BYTES / 32)
        .flat_map(|i| Hash32::sha256(&[id.to_le_bytes(), (i as u64).to_le_bytes()].concat()).0)
        .collect()
}

/// Opens and accepts one order per device of `network` (its fleet `fleet`
/// holding the bytes), in service until `service_until`.
pub async fn open(
    chain: &DemoChain,
    network: &DemoNetwork,
    mint: &Pubkey,
    fleet: &mut Fleet,
    service_until: i64,
) -> Result<Deals, DemoError> {
    let customer = chain.wallet(10).await?;
    let escrowed = DEAL_ESCROW * network.devices.len() as u64;
    mint_to(chain, mint, &customer.pubkey(), escrowed).await?;
    let accept_deadline = chain.now().await? + 600;
    let mut orders = Vec::with_capacity(network.devices.len());
    let mut addresses = Vec::with_capacity(network.devices.len());
    for (index, device) in network.devices.iter().enumerate() {
        let id = index as u64 + 1;
        let deal = StoredDeal::new(file_of(id), LEAF_BYTES)
            .map_err(|e| DemoError::Setup(format!("deal {id}: {e}")))?;
        let keys = OrderKeys::new(&network.address, &customer.pubkey(), id, mint, &SPL_TOKEN);
        let open = payments::open_order(
            &keys,
            OpenOrderArgs {
                order_id: id,
                provider: Provider::Device(device.address),
                max_amount: DEAL_ESCROW,
                accept_deadline,
                service_deadline: service_until,
                spec_hash: deal.spec().hash().0,
            },
        );
        let accept = payments::accept_order(
            &network.owner.pubkey(),
            &network.address,
            &keys.order,
            &device.address,
            &device.mint,
        );
        fleet
            .hold(index, Key(keys.order.to_bytes()), deal)
            .map_err(DemoError::Setup)?;
        orders.push([open, accept]);
        addresses.push((keys.order, keys.escrow));
    }
    // Each order opened then accepted in one transaction, 16 at a time.
    let signers = [&customer, &network.owner];
    for batch in orders.chunks(16) {
        let sent =
            futures_util::future::join_all(batch.iter().map(|pair| chain.send(pair, &signers)))
                .await;
        sent.into_iter().collect::<Result<Vec<()>, _>>()?;
    }
    let treasury_account = depinkit_sdk::ata(&network.authority.pubkey(), mint, &SPL_TOKEN);
    let treasury_before = depinkit_sdk::tokens::balance(&chain.rpc, &treasury_account)
        .await
        .map_err(|e| DemoError::Chain(e.to_string()))?
        .unwrap_or(0);
    Ok(Deals {
        orders: addresses,
        escrowed,
        customer_account: depinkit_sdk::ata(&customer.pubkey(), mint, &SPL_TOKEN),
        treasury_account,
        treasury_before,
    })
}

/// Waits (at most `timeout`) until the oracle at `url` has settled every
/// deal through `last_epoch`: each deal has a settlement of that epoch or
/// one that completed it, and none waits for the chain.
pub async fn wait_settled(url: &str, deals: &Deals, last_epoch: u64, timeout: std::time::Duration) {
    let http = reqwest::Client::new();
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        let mut settled = true;
        for (order, _) in &deals.orders {
            let standing: Option<serde_json::Value> =
                match http.get(format!("{url}/v1/deals/{order}")).send().await {
                    Ok(response) => response.json().await.ok(),
                    Err(_) => None,
                };
            let Some(settlements) = standing
                .as_ref()
                .and_then(|s| s["settlements"].as_array().cloned())
            else {
                settled = false;
                break;
            };
            let covered = settlements
                .iter()
                .any(|s| s["epoch"].as_u64() == Some(last_epoch) || s["completes"] == true);
            if !covered || settlements.iter().any(|s| s["state"] == "pending") {
                settled = false;
                break;
            }
        }
        if settled {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
