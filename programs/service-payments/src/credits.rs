//! How many credits a burn buys. Integer arithmetic only; the buyer gets the
//! price minus its confidence, so never more than the tokens are worth.

use crate::{
    pda::{PAYMENTS_SEED, USAGE_ESCROW_SEED},
    state::{PaymentsConfig, Price, UsageEscrow},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Burn, Mint, MintTo, TokenAccount};

/// Burns `amount` credits from a usage escrow's credits account, signed by the
/// escrow PDA (their authority).
pub fn burn_from_escrow<'info>(
    escrow: &Account<'info, UsageEscrow>,
    escrow_credits: &InterfaceAccount<'info, TokenAccount>,
    credits_mint: &InterfaceAccount<'info, Mint>,
    token_program: &AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    let bump = [escrow.bump];
    let seeds: [&[u8]; 4] = [
        USAGE_ESCROW_SEED,
        escrow.network.as_ref(),
        escrow.customer.as_ref(),
        &bump,
    ];
    token_interface::burn(
        CpiContext::new_with_signer(
            token_program.key(),
            Burn {
                mint: credits_mint.to_account_info(),
                from: escrow_credits.to_account_info(),
                authority: escrow.to_account_info(),
            },
            &[&seeds],
        ),
        amount,
    )
}

/// Mints `amount` credits to `to`, signed by the config PDA (the mint authority).
pub fn mint_credits<'info>(
    config: &Account<'info, PaymentsConfig>,
    credits_mint: &InterfaceAccount<'info, Mint>,
    to: &InterfaceAccount<'info, TokenAccount>,
    token_program: &AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    let network = config.network;
    let bump = [config.bump];
    let seeds: [&[u8]; 3] = [PAYMENTS_SEED, network.as_ref(), &bump];
    token_interface::mint_to(
        CpiContext::new_with_signer(
            token_program.key(),
            MintTo {
                mint: credits_mint.to_account_info(),
                to: to.to_account_info(),
                authority: config.to_account_info(),
            },
            &[&seeds],
        ),
        amount,
    )
}

/// Credits (in base units of the credits mint) bought by burning `amount` base
/// units of a token with `burn_decimals`, at `price`, when one whole credit is
/// worth `credit_usd_micros` millionths of a dollar. `None` on overflow.
///
/// credits = amount x (price - conf) x 10^expo / 10^burn_decimals
///           / (credit_usd_micros / 10^6) x 10^credits_decimals
pub fn credits_for_burn(
    amount: u64,
    burn_decimals: u8,
    price: &Price,
    credit_usd_micros: u64,
    credits_decimals: u8,
) -> Option<u64> {
    let low = price.price.checked_sub(price.conf)?;
    // Net power of ten: expo + 6 (micros) + credits decimals - burn decimals.
    let exp = i64::from(price.expo) + 6 + i64::from(credits_decimals) - i64::from(burn_decimals);
    let mut numerator = u128::from(amount).checked_mul(u128::from(low))?;
    let mut denominator = u128::from(credit_usd_micros);
    if exp >= 0 {
        numerator = numerator.checked_mul(10u128.checked_pow(u32::try_from(exp).ok()?)?)?;
    } else {
        // A denominator past u128 exceeds any numerator (at most (2^64 - 1)^2):
        // the burn buys nothing.
        let scale = u32::try_from(-exp).ok().and_then(|e| 10u128.checked_pow(e));
        match scale.and_then(|scale| denominator.checked_mul(scale)) {
            Some(scaled) => denominator = scaled,
            None => return Some(0),
        }
    }
    u64::try_from(numerator.checked_div(denominator)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(price: u64, conf: u64, expo: i32) -> Price {
        Price {
            price,
            conf,
            expo,
            publish_time: 0,
            finalized_at: 0,
        }
    }

    #[test]
    fn helium_data_credits() {
        // HNT at $5.00 +- $0.01 (8 decimals), a credit worth $0.00001, 0 decimals:
        // 1 HNT buys 4.99 / 0.00001 = 499,000 credits.
        let p = price(500_000_000, 1_000_000, -8);
        assert_eq!(credits_for_burn(100_000_000, 8, &p, 10, 0), Some(499_000));
        // The confidence is subtracted: with none, 500,000.
        let p = price(500_000_000, 0, -8);
        assert_eq!(credits_for_burn(100_000_000, 8, &p, 10, 0), Some(500_000));
    }

    #[test]
    fn rounds_down_and_handles_positive_exponents() {
        let p = price(3, 0, 0); // $3 per token, 0 decimals
        // 1 token = $3 = 2 credits of $1.5 (credit worth 1.5 M micros), 0 decimals.
        assert_eq!(credits_for_burn(1, 0, &p, 1_500_000, 0), Some(2));
        assert_eq!(credits_for_burn(1, 0, &p, 4_000_000, 0), Some(0));
        let p = price(2, 0, 2); // $200 per token
        assert_eq!(credits_for_burn(1, 0, &p, 1_000_000, 2), Some(20_000));
    }

    #[test]
    fn limits() {
        let p = price(u64::MAX, 0, 0);
        assert_eq!(credits_for_burn(u64::MAX, 0, &p, 1, 0), None);
        let p = price(u64::MAX, u64::MAX, 0);
        assert_eq!(credits_for_burn(u64::MAX, 0, &p, 1, 0), Some(0));
        let p = price(1, 2, 0);
        assert_eq!(credits_for_burn(1, 0, &p, 1, 0), None);
        let p = price(1, 0, -18);
        assert_eq!(credits_for_burn(u64::MAX, 18, &p, u64::MAX, 0), Some(0));
        assert_eq!(credits_for_burn(0, 6, &price(5, 0, 0), 1, 6), Some(0));
    }
}
