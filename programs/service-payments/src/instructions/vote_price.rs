//! `vote_price`: oracles post the network token's USD price; `threshold`
//! identical votes (same publish time, price, confidence, exponent) finalize it.

use crate::{
    errors::PaymentError,
    events::{PriceFinalized, PriceVoted},
    state::{PaymentsConfig, Price},
    votes::refusal_error,
};
use anchor_lang::prelude::*;
use device_registry::{quorum::record_vote, state::Network};
use solana_sha256_hasher::hashv;

/// Domain tag of a price vote's payload hash.
pub const PRICE_PAYLOAD_DOMAIN: &[u8] = b"depinkit/service-payments/price";
/// Largest decimal exponent accepted either way.
pub const MAX_EXPO: i32 = 18;

/// Arguments of `vote_price`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct VotePriceArgs {
    /// Price mantissa (USD per whole token is `price * 10^expo`).
    pub price: u64,
    /// Confidence interval, same exponent; below `price`.
    pub conf: u64,
    /// Decimal exponent, within +-18.
    pub expo: i32,
    /// Unix time the price was observed; newer than the last finalized price.
    pub publish_time: i64,
}

/// The hash identical price votes share.
pub fn price_payload_hash(args: &VotePriceArgs) -> [u8; 32] {
    hashv(&[
        PRICE_PAYLOAD_DOMAIN,
        &args.publish_time.to_le_bytes(),
        &args.price.to_le_bytes(),
        &args.conf.to_le_bytes(),
        &args.expo.to_le_bytes(),
    ])
    .to_bytes()
}

/// Accounts of `vote_price`.
#[event_cpi]
#[derive(Accounts)]
pub struct VotePrice<'info> {
    /// An oracle of the network.
    pub oracle: Signer<'info>,
    /// The network.
    pub network: Box<Account<'info, Network>>,
    /// The network's payments config.
    #[account(mut, has_one = network)]
    pub config: Box<Account<'info, PaymentsConfig>>,
}

/// Records the vote (replacing the oracle's earlier one) and finalizes the price
/// on reaching the threshold.
///
/// CHECK: signer in the oracle set in force now; price positive with confidence below it and
/// exponent within +-18; publish time not in the future and newer than the last
/// finalized price.
pub fn handler(ctx: Context<VotePrice>, args: VotePriceArgs) -> Result<()> {
    require!(
        args.price > 0
            && args.conf < args.price
            && args.expo.unsigned_abs() <= MAX_EXPO.unsigned_abs(),
        PaymentError::InvalidPrice
    );
    let now = Clock::get()?.unix_timestamp;
    let config = &mut ctx.accounts.config;
    let newer = config
        .price
        .is_none_or(|last| args.publish_time > last.publish_time);
    require!(
        newer && args.publish_time <= now,
        PaymentError::StalePriceVote
    );
    let finalized = record_vote(
        &mut config.price_votes,
        &ctx.accounts.network.oracle_set(now),
        ctx.accounts.oracle.key(),
        price_payload_hash(&args),
    )
    .map_err(refusal_error)?;
    emit_cpi!(PriceVoted {
        network: ctx.accounts.network.key(),
        oracle: ctx.accounts.oracle.key(),
        price: args.price,
        conf: args.conf,
        expo: args.expo,
        publish_time: args.publish_time,
    });
    if finalized {
        let config = &mut ctx.accounts.config;
        let price = Price {
            price: args.price,
            conf: args.conf,
            expo: args.expo,
            publish_time: args.publish_time,
            finalized_at: now,
        };
        config.price = Some(price);
        config.price_votes.clear();
        emit_cpi!(PriceFinalized {
            network: ctx.accounts.network.key(),
            price,
        });
    }
    Ok(())
}
