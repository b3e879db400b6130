//! The mapping network's customer: it buys credits at the price the
//! network's oracle votes, delegates them, and once the first epoch's map
//! is verified buys the cells around the fleet (signed requests to the
//! oracle's `GET /v1/map/cells`); the oracle burns what it charged when that
//! epoch ends.

use super::{
    DemoError,
    world::{DemoChain, DemoNetwork, SPL_TOKEN, mint_to},
};
use depinkit_reports::{Key, request::RequestAuth};
use depinkit_sdk::payments::{self, PaymentsKeys};
use rand_core::RngCore;
use service_payments::instructions::VotePriceArgs;
use solana_sdk::{
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

/// Tokens the customer turns into credits (one: 100,000 credits at $1).
const CREDIT_TOKENS: u64 = 1_000_000;
/// Credits it delegates to the network.
const DELEGATED: u64 = 50_000;

/// The map customer, ready to buy.
pub struct MapCustomer {
    wallet: Keypair,
    network: Pubkey,
    /// Queries made, cells bought and credits charged, with the epoch charged.
    pub bought: Vec<(u64, u64, u64)>,
}

/// A wallet with credits delegated to `network`'s usage escrow, at a price
/// of $1 voted by the network's oracle.
pub async fn prepare(
    chain: &DemoChain,
    network: &DemoNetwork,
    mint: &Pubkey,
) -> Result<MapCustomer, DemoError> {
    let keys = PaymentsKeys::new(&network.address, mint, &SPL_TOKEN);
    let now = chain.now().await?;
    for oracle in &network.oracles {
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
    Ok(MapCustomer {
        wallet,
        network: network.address,
        bought: Vec::new(),
    })
}

impl MapCustomer {
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
        let signing = ed25519_dalek::SigningKey::from_bytes(
            self.wallet.to_bytes()[..32]
                .try_into()
                .expect("a keypair's first 32 bytes are its seed"),
        );
        let path = "/v1/map/cells";
        let query = format!(
            "bbox={:.4},{:.4},{:.4},{:.4}",
            lon - degrees,
            lat - degrees,
            lon + degrees,
            lat + degrees
        );
        let mut nonce = [0u8; 16];
        rand_core::OsRng.fill_bytes(&mut nonce);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let auth = RequestAuth::sign(&signing, "GET", path, &query, now_ms, nonce);
        let mut request = reqwest::Client::new().get(format!("{url}{path}?{query}"));
        for (name, value) in auth.headers() {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| DemoError::Oracle(e.to_string()))?;
        let status = response.status();
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| DemoError::Oracle(e.to_string()))?;
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
pub async fn summary(
    chain: &DemoChain,
    network: &DemoNetwork,
    customer: &MapCustomer,
) -> Result<serde_json::Value, DemoError> {
    let cells: u64 = customer.bought.iter().map(|b| b.0).sum();
    let credits: u64 = customer.bought.iter().map(|b| b.1).sum();
    let epoch = customer.bought.first().map_or(0, |b| b.2);
    let escrow = service_payments::pda::find_usage_escrow_address(
        &network.address,
        &customer.wallet.pubkey(),
    )
    .0;
    let report = service_payments::pda::find_usage_report_address(&escrow, epoch as u32).0;
    let burned = depinkit_sdk::accounts::fetch_optional::<service_payments::state::UsageReport>(
        &chain.rpc, &report,
    )
    .await
    .map_err(|e| DemoError::Chain(e.to_string()))?
    .filter(|r| r.finalized)
    .map_or(0, |r| r.amount);
    Ok(serde_json::json!({
        "customer": customer.key().to_string(),
        "queries": customer.bought.len(),
        "cells": cells,
        "credits_charged": credits,
        "epoch": epoch,
        "credits_burned": burned,
    }))
}
