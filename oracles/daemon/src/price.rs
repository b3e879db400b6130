//! The price feed for credits: on an interval the oracle votes the network
//! token's USD price (`vote_price`), from a fixed price (localnet, tests, a
//! network whose token is pegged) or from a Pyth pull-oracle price account
//! (`PriceUpdateV2`, read over RPC; its published account layout is parsed
//! here, the Pyth SDK crates pinning another Anchor than the workspace's).
//!
//! Identical votes finalize a price, so the oracles of a network must vote
//! identical payloads: a fixed price is stamped with the start of the current
//! interval on the chain's clock, a Pyth price with its own publish time.

use crate::chain::{Chain, ChainError};
use anchor_lang::prelude::Pubkey;
use service_payments::instructions::VotePriceArgs;
use std::sync::Arc;
use tokio::time::{Duration, sleep};

/// Where the price comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PriceSource {
    /// A USD price as typed (`"0.50"`).
    Fixed(String),
    /// A Pyth `PriceUpdateV2` account, fully verified, no older than
    /// `max_age_secs` when voted.
    Pyth {
        /// The price account.
        account: Pubkey,
        /// Oldest publish time voted, seconds before the chain's clock.
        max_age_secs: i64,
    },
}

/// Why no price can be voted now.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    /// The chain failed.
    #[error("{0}")]
    Chain(#[from] ChainError),
    /// The source gave nothing usable.
    #[error("{0}")]
    Source(String),
}

/// The vote for a fixed `usd` price at chain time `now`, stamped with the
/// start of the current `interval_secs`.
pub fn fixed_vote(usd: &str, now: i64, interval_secs: i64) -> Result<VotePriceArgs, PriceError> {
    let decimals = usd
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.len())
        .min(18) as u8;
    let price = depinkit_sdk::tokens::parse_ui_amount(usd, decimals)
        .filter(|&p| p > 0)
        .ok_or_else(|| {
            PriceError::Source(format!("price.usd {usd:?} is not a positive USD amount"))
        })?;
    Ok(VotePriceArgs {
        price,
        conf: 0,
        expo: -i32::from(decimals),
        publish_time: now - now.rem_euclid(interval_secs.max(1)),
    })
}

/// Anchor's discriminator of Pyth's `PriceUpdateV2` account.
fn price_update_discriminator() -> [u8; 8] {
    let hash = solana_sha256_hasher::hash(b"account:PriceUpdateV2").to_bytes();
    hash[..8].try_into().expect("8 bytes")
}

/// The vote for a Pyth `PriceUpdateV2` account's price: discriminator,
/// write authority (32), verification level (`Partial { u8 }` = 0, `Full` =
/// 1; only `Full` is taken), then the price message: feed id (32), price
/// (i64), confidence (u64), exponent (i32), publish time (i64), ...
pub fn pyth_vote(data: &[u8], now: i64, max_age_secs: i64) -> Result<VotePriceArgs, PriceError> {
    let bad = |why: &str| PriceError::Source(format!("Pyth price account: {why}"));
    if data.len() < 8 || data[..8] != price_update_discriminator() {
        return Err(bad("not a PriceUpdateV2 account"));
    }
    let mut at = 8 + 32;
    match data.get(at) {
        Some(1) => at += 1,
        Some(0) => return Err(bad("only partially verified")),
        _ => return Err(bad("unknown verification level")),
    }
    at += 32; // feed id
    let field = |at: usize, len: usize| data.get(at..at + len).ok_or_else(|| bad("too short"));
    let price = i64::from_le_bytes(field(at, 8)?.try_into().expect("8"));
    let conf = u64::from_le_bytes(field(at + 8, 8)?.try_into().expect("8"));
    let expo = i32::from_le_bytes(field(at + 16, 4)?.try_into().expect("4"));
    let publish_time = i64::from_le_bytes(field(at + 20, 8)?.try_into().expect("8"));
    if price <= 0 {
        return Err(bad("the price is not positive"));
    }
    if now.saturating_sub(publish_time) > max_age_secs {
        return Err(bad(&format!(
            "the price is {} s old (at most {max_age_secs})",
            now.saturating_sub(publish_time)
        )));
    }
    Ok(VotePriceArgs {
        price: price as u64,
        conf,
        expo,
        publish_time,
    })
}

/// Votes the price of `source` every `interval`; a vote that fails is
/// logged and made again at the next interval.
pub async fn price_loop<C: Chain>(
    chain: Arc<C>,
    network: Pubkey,
    source: PriceSource,
    interval: Duration,
) {
    let mut last_voted = i64::MIN;
    loop {
        match vote_once(chain.as_ref(), &network, &source, interval, last_voted).await {
            Ok(Some((args, signature))) => {
                last_voted = args.publish_time;
                metrics::counter!("depin_oracle_price_votes_total").increment(1);
                tracing::info!(
                    price = args.price,
                    expo = args.expo,
                    publish_time = args.publish_time,
                    %signature,
                    "price voted"
                );
            }
            Ok(None) => {}
            Err(e) => {
                metrics::counter!("depin_oracle_rpc_errors_total").increment(1);
                tracing::warn!(error = %e, "price vote failed; trying again next interval");
            }
        }
        sleep(interval).await;
    }
}

/// One vote, unless the price's publish time is not newer than `last_voted`.
pub async fn vote_once<C: Chain>(
    chain: &C,
    network: &Pubkey,
    source: &PriceSource,
    interval: Duration,
    last_voted: i64,
) -> Result<Option<(VotePriceArgs, String)>, PriceError> {
    let now = chain.now().await?;
    let args = match source {
        PriceSource::Fixed(usd) => fixed_vote(usd, now, interval.as_secs() as i64)?,
        PriceSource::Pyth {
            account,
            max_age_secs,
        } => pyth_vote(&chain.account_data(account).await?, now, *max_age_secs)?,
    };
    if args.publish_time <= last_voted {
        return Ok(None);
    }
    let signature = chain.vote_price(network, args).await?;
    Ok(Some((args, signature)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_price_is_stamped_with_its_interval() {
        let vote = fixed_vote("0.50", 1_000_123, 60).unwrap();
        assert_eq!((vote.price, vote.expo, vote.conf), (50, -2, 0));
        assert_eq!(vote.publish_time, 1_000_080);
        assert_eq!(fixed_vote("0.50", 1_000_139, 60).unwrap(), vote);
        assert_eq!(fixed_vote("2", 7, 60).unwrap().expo, 0);
        for bad in ["", "0", "-1", "abc", "1.2.3"] {
            assert!(fixed_vote(bad, 7, 60).is_err(), "{bad:?}");
        }
    }

    /// A `PriceUpdateV2` account as the Pyth receiver writes it.
    fn price_update(level: &[u8], price: i64, expo: i32, publish_time: i64) -> Vec<u8> {
        let mut data = price_update_discriminator().to_vec();
        data.extend([7; 32]); // write authority
        data.extend(level);
        data.extend([3; 32]); // feed id
        data.extend(price.to_le_bytes());
        data.extend(12_345u64.to_le_bytes());
        data.extend(expo.to_le_bytes());
        data.extend(publish_time.to_le_bytes());
        data.extend((publish_time - 1).to_le_bytes()); // previous publish time
        data.extend(price.to_le_bytes()); // EMA price
        data.extend(1u64.to_le_bytes()); // EMA confidence
        data.extend(99u64.to_le_bytes()); // posted slot
        data
    }

    #[test]
    fn a_pyth_price_is_taken_only_fully_verified_fresh_and_positive() {
        let data = price_update(&[1], 51_234_567, -8, 1_000);
        let vote = pyth_vote(&data, 1_030, 60).unwrap();
        assert_eq!(
            (vote.price, vote.conf, vote.expo, vote.publish_time),
            (51_234_567, 12_345, -8, 1_000)
        );
        let cases = [
            (price_update(&[0, 2], 5, -8, 1_000), "partially"),
            (price_update(&[1], 5, -8, 900), "old"),
            (price_update(&[1], 0, -8, 1_000), "positive"),
            (vec![0; 100], "not a PriceUpdateV2"),
            (data[..60].to_vec(), "too short"),
        ];
        for (data, why) in cases {
            let error = pyth_vote(&data, 1_030, 60).unwrap_err().to_string();
            assert!(error.contains(why), "{why}: {error}");
        }
    }
}
