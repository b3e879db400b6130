//! The customers who pay in credits: each buys credits at the price its
//! network's oracles vote and delegates them. The mapping network's buys the
//! cells around the fleet once the first epoch's map is verified (signed
//! requests to the oracle's `GET /v1/map/cells`); the wireless network's
//! has a hotspot carry data for it each epoch (a session the customer
//! co-signs). The oracles burn what they charged when each epoch ends.

use super::{
    DemoError,
    world::{DemoChain, DemoNetwork, SPL_TOKEN, mint_to},
};
use depinkit_device::{DeviceKey, OracleClient};
use depinkit_reports::{Body, DataTransfer, Key, Report, Verdict};
use depinkit_sdk::payments::{self, PaymentsKeys};
use service_payments::instructions::VotePriceArgs;
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

/// Tokens the customer turns into credits (one: 100,000 credits at $1).
const CREDIT_TOKENS: u64 = 1_000_000;
/// Credits it delegates to the network.
const DELEGATED: u64 = 50_000;

/// A customer with credits delegated to one network.
pub struct Customer {
    wallet: Keypair,
    network: Pubkey,
    /// Map queries made: cells bought and credits charged, with the epoch
    /// charged.
    pub bought: Vec<(u64, u64, u64)>,
    /// Data sessions carried for it: bytes, and the epoch.
    pub carried: Vec<(u64, u64)>,
}

/// A wallet with credits delegated to `network`'s usage escrow, at a price
/// of $1 voted by the network's oracles.
pub async fn prepare(
    chain: &DemoChain,
    network: &DemoNetwork,
    mint: &Pubkey,
) -> Result<Customer, DemoError> {
    let keys = PaymentsKeys::new(&network.address, mint, &SPL_TOKEN);
    let now = chain.now().await?;
    // The network's threshold (a majority) finalizes the price; a vote
    // after that would be stale.
    let threshold = network.oracles.len() / 2 + 1;
    for oracle in network.oracles.iter().take(threshold) {
        let vote = payments::vote_price(
            &oracle.pubkey(),
            &keys,
            VotePriceArgs {
                price: 1,
                conf: 0,
                expo: 0,
                publish_time: now,
            },
        );
        chain.send(&[vote], &[oracle]).await?;
    }
    let wallet = chain.wallet(1).await?;
    mint_to(chain, mint, &wallet.pubkey(), CREDIT_TOKENS).await?;
    chain
        .send(
            &[
                payments::buy_credits(&wallet.pubkey(), &keys, CREDIT_TOKENS, 1),
                payments::delegate_credits(&wallet.pubkey(), &keys, DELEGATED),
            ],
            &[&wallet],
        )
        .await?;
    Ok(Customer {
        wallet,
        network: network.address,
        bought: Vec::new(),
        carried: Vec::new(),
    })
}

impl Customer {
    /// Has the hotspot `device` report carrying `bytes` for this customer
    /// from `from_ms` to now, co-signed by the customer, to the oracle at
    /// `url`, in `epoch`.
    pub async fn carry(
        &mut self,
        url: &str,
        device: &DeviceKey,
        bytes: u64,
        from_ms: i64,
        epoch: u64,
    ) -> Result<(), DemoError> {
        let now_ms = depinkit_oracle::store::now_ms();
        let session = Report {
            network: Key(self.network.to_bytes()),
            device: device.public(),
            timestamp_ms: now_ms,
            body: Body::DataTransfer(DataTransfer {
                customer: self.key(),
                bytes,
                start_ms: from_ms,
                end_ms: now_ms,
            }),
        }
        .sign(device.signing())
        .cosign(&self.signing_key());
        let verdicts = OracleClient::new(url)
            .send_all(&[session], 1)
            .await
            .map_err(|e| DemoError::Oracle(e.to_string()))?;
        if let Some(Verdict::Rejected { reason }) = verdicts.first() {
            return Err(DemoError::Oracle(format!(
                "a data-transfer session was refused: {}",
                reason.code()
            )));
        }
        self.carried.push((bytes, epoch));
        Ok(())
    }

    fn signing_key(&self) -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(
            self.wallet.to_bytes()[..32]
                .try_into()
                .expect("a keypair's first 32 bytes are its seed"),
        )
    }

    /// The customer's wallet.
    pub fn key(&self) -> Key {
        Key(self.wallet.pubkey().to_bytes())
    }

    /// Buys the verified cells within `degrees` of `(lat, lon)` from the
    /// oracle at `url`; how many cells came back.
    pub async fn buy_around(
        &mut self,
        url: &str,
        (lat, lon): (f64, f64),
        degrees: f64,
    ) -> Result<u64, DemoError> {
        let query = format!(
            "bbox={:.4},{:.4},{:.4},{:.4}",
            lon - degrees,
            lat - degrees,
            lon + degrees,
            lat + degrees
        );
        let (status, body) =
            crate::commands::map::signed_get(url, "/v1/map/cells", &query, &self.wallet)
                .await
                .map_err(DemoError::Oracle)?;
        if !status.is_success() {
            return Err(DemoError::Oracle(format!(
                "the map of {}: {status} {body}",
                self.network
            )));
        }
        let cells = body["cells"].as_array().map_or(0, Vec::len) as u64;
        self.bought.push((
            cells,
            body["charged"]["credits"].as_u64().unwrap_or(0),
            body["charged"]["epoch"].as_u64().unwrap_or(0),
        ));
        Ok(cells)
    }
}

/// What the customer bought and what the chain burned for it: queries,
/// cells, credits charged, the epoch charged, and the credits the oracle's
/// `burn_usage` finalized for that epoch (0 until the epoch has ended).
pub async fn map_summary(
    chain: &DemoChain,
    network: &DemoNetwork,
    customer: &Customer,
) -> Result<serde_json::Value, DemoError> {
    let cells: u64 = customer.bought.iter().map(|b| b.0).sum();
    let credits: u64 = customer.bought.iter().map(|b| b.1).sum();
    let epoch = customer.bought.first().map_or(0, |b| b.2);
    let escrow = service_payments::pda::find_usage_escrow_address(
        &network.address,
        &customer.wallet.pubkey(),
    )
    .0;
    let burned = burned_in(chain, &escrow, &[epoch]).await?;
    Ok(serde_json::json!({
        "customer": customer.key().to_string(),
        "queries": customer.bought.len(),
        "cells": cells,
        "credits_charged": credits,
        "epoch": epoch,
        "credits_burned": burned,
    }))
}

/// The credits burned from `escrow` in each of `epochs` (finalized usage
/// reports), summed.
async fn burned_in(chain: &DemoChain, escrow: &Pubkey, epochs: &[u64]) -> Result<u64, DemoError> {
    let mut burned = 0;
    let mut seen = Vec::new();
    for &epoch in epochs {
        if seen.contains(&epoch) {
            continue;
        }
        seen.push(epoch);
        let report = service_payments::pda::find_usage_report_address(escrow, epoch as u32).0;
        burned += depinkit_sdk::accounts::fetch_optional::<service_payments::state::UsageReport>(
            &chain.rpc, &report,
        )
        .await
        .map_err(|e| DemoError::Chain(e.to_string()))?
        .filter(|r| r.finalized)
        .map_or(0, |r| r.amount);
    }
    Ok(burned)
}

/// The data the wireless customer had carried, and the credits burned for
/// it: sessions, bytes, credits (a credit per 24 bytes, rounded up each),
/// and the credits the oracles' `burn_usage` finalized.
pub async fn transfer_summary(
    chain: &DemoChain,
    network: &DemoNetwork,
    customer: &Customer,
) -> Result<serde_json::Value, DemoError> {
    let escrow = service_payments::pda::find_usage_escrow_address(
        &network.address,
        &customer.wallet.pubkey(),
    )
    .0;
    let epochs: Vec<u64> = customer.carried.iter().map(|c| c.1).collect();
    let burned = burned_in(chain, &escrow, &epochs).await?;
    Ok(serde_json::json!({
        "customer": customer.key().to_string(),
        "sessions": customer.carried.len(),
        "bytes": customer.carried.iter().map(|c| c.0).sum::<u64>(),
        "credits": customer.carried.iter().map(|c| c.0.div_ceil(24)).sum::<u64>(),
        "credits_burned": burned,
    }))
}
