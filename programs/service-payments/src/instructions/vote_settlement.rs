//! `vote_settlement`: oracles attest a receipt for an order; at the threshold the
//! escrow pays the provider device's current NFT holder, the protocol fee to the
//! treasury and the pool's share to the reward pool, and refunds the rest when
//! the order is complete.

use crate::{
    errors::PaymentError,
    escrow::OrderEscrow,
    events::{OrderSettled, SettlementVoted},
    state::{BPS, Order, OrderStatus, Provider},
    votes::refusal_error,
};
use anchor_lang::prelude::*;
use anchor_spl::{
    associated_token::get_associated_token_address_with_program_id,
    token_interface::{Mint, TokenAccount, TokenInterface},
};
use device_registry::{
    quorum::record_vote,
    state::{Device, Network},
};
use reward_pool::{
    program::RewardPool,
    state::{FundingKind, Pool},
};
use solana_sha256_hasher::hashv;

/// Domain tag of a settlement vote's payload hash.
pub const SETTLEMENT_PAYLOAD_DOMAIN: &[u8] = b"depinkit/service-payments/settlement";

/// Arguments of `vote_settlement`: the receipt the oracle attests.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoteSettlementArgs {
    /// The slot the order was opened in (`Order::opened_slot`): binds the vote
    /// to this order, not an earlier one under the same id.
    pub opened_slot: u64,
    /// The order's next settlement number.
    pub sequence: u32,
    /// Amount this settlement pays out of the escrow (before the split).
    pub amount: u64,
    /// Hash of the receipt (job result, storage proof epoch, data delivery).
    pub receipt_hash: [u8; 32],
    /// True when the service is complete: the rest is refunded and the order closed.
    pub complete: bool,
}

/// The hash identical settlement votes share (the order and its opening slot
/// are part of it).
pub fn settlement_payload_hash(order: &Pubkey, args: &VoteSettlementArgs) -> [u8; 32] {
    hashv(&[
        SETTLEMENT_PAYLOAD_DOMAIN,
        order.as_ref(),
        &args.opened_slot.to_le_bytes(),
        &args.sequence.to_le_bytes(),
        &args.amount.to_le_bytes(),
        &args.receipt_hash,
        &[u8::from(args.complete)],
    ])
    .to_bytes()
}

/// How one settlement's amount is divided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Protocol fee, to the network treasury.
    pub fee: u64,
    /// Service revenue, to the reward pool.
    pub pool: u64,
    /// To the provider device's holder.
    pub provider: u64,
}

/// Divides `amount`: the fee first, then the pool's share of the rest (all of
/// it for network-wide orders; none when the payment is not in the pool's
/// mint); the provider gets what remains. Rounds down in the provider's favour
/// never: fee and share round down, the provider gets the remainder.
pub fn split(
    amount: u64,
    fee_bps: u16,
    share_bps: u16,
    network_wide: bool,
    in_pool_mint: bool,
) -> Split {
    let bps = |value: u64, bps: u16| (u128::from(value) * u128::from(bps) / u128::from(BPS)) as u64;
    let fee = bps(amount, fee_bps);
    let rest = amount - fee;
    let pool = if network_wide {
        rest
    } else if in_pool_mint {
        bps(rest, share_bps)
    } else {
        0
    };
    Split {
        fee,
        pool,
        provider: rest - pool,
    }
}

/// The accounts paying the provider; pass them for device orders.
#[derive(Accounts)]
pub struct ProviderAccounts<'info> {
    /// The device that accepted the order.
    pub device: Option<Box<Account<'info, Device>>>,
    /// The token account holding its NFT now.
    pub holder_nft_account: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    /// The holder's associated token account for the payment mint (it may be
    /// the customer's or the treasury's own account).
    #[account(mut, dup)]
    pub holder_payment_account: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
}

/// The accounts routing revenue to the reward pool; pass them when a share goes there.
#[derive(Accounts)]
pub struct PoolAccounts<'info> {
    /// The network's reward pool.
    #[account(mut)]
    pub pool: Option<Box<Account<'info, Pool>>>,
    /// Its vault.
    #[account(mut)]
    pub pool_vault: Option<Box<InterfaceAccount<'info, TokenAccount>>>,
    /// CHECK: the reward pool's event authority, checked by the reward pool.
    pub pool_event_authority: Option<UncheckedAccount<'info>>,
    /// The reward-pool program.
    pub reward_pool_program: Option<Program<'info, RewardPool>>,
}

/// Accounts of `vote_settlement`.
#[event_cpi]
#[derive(Accounts)]
pub struct VoteSettlement<'info> {
    /// An oracle of the network.
    pub oracle: Signer<'info>,
    /// The order's network.
    pub network: Box<Account<'info, Network>>,
    /// The order.
    #[account(mut, has_one = network, has_one = escrow, has_one = payment_mint, has_one = payment_token_program, has_one = customer)]
    pub order: Box<Account<'info, Order>>,
    /// The order's escrow.
    #[account(mut)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The payment mint.
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    /// Token program of the payment mint.
    pub payment_token_program: Interface<'info, TokenInterface>,
    /// CHECK: the order's customer (by `has_one`), receiving the rent of closed accounts.
    #[account(mut)]
    pub customer: UncheckedAccount<'info>,
    /// The customer's associated token account for the payment mint, receiving
    /// refunds (the oracle submitting the vote cannot pick another).
    #[account(
        mut,
        address = get_associated_token_address_with_program_id(
            &customer.key(),
            &payment_mint.key(),
            &payment_token_program.key(),
        ) @ PaymentError::WrongRefundAccount,
    )]
    pub customer_payment_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The treasury's associated token account for the payment mint, receiving
    /// the fee (the customer's own account when the treasury orders).
    #[account(
        mut,
        dup,
        address = get_associated_token_address_with_program_id(
            &network.treasury,
            &payment_mint.key(),
            &payment_token_program.key(),
        ) @ PaymentError::WrongTreasuryAccount,
    )]
    pub treasury_payment_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Provider payment accounts.
    pub provider: ProviderAccounts<'info>,
    /// Reward-pool accounts.
    pub pool: PoolAccounts<'info>,
}

/// Records the vote and, at the threshold, executes the settlement.
///
/// 1. Records (oracle, payload) for the order's next settlement.
/// 2. At `threshold` identical votes: splits the amount ([`split`]), pays the fee
///    to the treasury, the pool's share through `reward_pool::fund_pool` as
///    service revenue, the rest to the accepting device's current NFT holder.
/// 3. When complete or fully spent: refunds what is left to the customer and
///    closes the escrow and the order to the customer.
///
/// CHECK: signer in the oracle set in force now (one live vote each); the
/// order is accepted and its service deadline (plus the settlement grace)
/// not passed; the vote names the
/// order's opening slot and next sequence; settled + amount <= max; refund,
/// fee and provider accounts are the customer's, the treasury's and the
/// holder's associated token accounts of the payment mint; the
/// provider's NFT account holds the accepting device's NFT
/// ([`Device::is_held_in`]); the pool is the network's. The fee and pool share
/// are the order's own, fixed when it was opened.
pub fn handler(ctx: Context<VoteSettlement>, args: VoteSettlementArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let oracles = ctx.accounts.network.oracle_set(now);
    require!(
        oracles.contains(&ctx.accounts.oracle.key()),
        PaymentError::NotAnOracle
    );
    let order_key = ctx.accounts.order.key();
    let order = &mut ctx.accounts.order;
    let network_wide = order.provider == Provider::Network;
    require!(
        order.status == OrderStatus::Accepted,
        PaymentError::OrderNotAccepted
    );
    require!(
        now <= order.settlement_end(),
        PaymentError::ServiceDeadlinePassed
    );
    require!(
        args.opened_slot == order.opened_slot,
        PaymentError::WrongOrderInstance
    );
    require!(
        args.sequence == order.settlement_count,
        PaymentError::WrongSettlementSequence
    );
    let remaining = order
        .max_amount
        .checked_sub(order.settled)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    require!(args.amount <= remaining, PaymentError::SettlementAboveMax);
    let finalized = record_vote(
        &mut order.votes,
        &oracles,
        ctx.accounts.oracle.key(),
        settlement_payload_hash(&order_key, &args),
    )
    .map_err(refusal_error)?;
    emit_cpi!(SettlementVoted {
        order: order_key,
        oracle: ctx.accounts.oracle.key(),
        sequence: args.sequence,
        amount: args.amount,
        receipt_hash: args.receipt_hash,
        complete: args.complete,
    });
    if !finalized {
        return Ok(());
    }
    let order = &mut ctx.accounts.order;
    order.votes.clear();
    order.settled = order
        .settled
        .checked_add(args.amount)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    order.settlement_count = order
        .settlement_count
        .checked_add(1)
        .ok_or(PaymentError::ArithmeticOverflow)?;
    let done = args.complete || order.settled == order.max_amount;

    let in_pool_mint = order.payment_mint == ctx.accounts.network.reward_mint;
    let parts = split(
        args.amount,
        order.fee_bps,
        order.pool_share_bps,
        network_wide,
        in_pool_mint,
    );
    let accounts = &ctx.accounts;
    let escrow = OrderEscrow::new(
        &accounts.order,
        &accounts.escrow,
        &accounts.payment_mint,
        &accounts.payment_token_program,
    );
    escrow.pay(
        accounts.treasury_payment_account.to_account_info(),
        parts.fee,
    )?;
    if parts.provider > 0 {
        escrow.pay(provider_payment_account(accounts)?, parts.provider)?;
    }
    if parts.pool > 0 {
        escrow.with_signer(|signer| fund_pool(accounts, parts.pool, signer))?;
    }
    let mut refunded = 0;
    if done {
        refunded = escrow.balance()?;
        escrow.pay(
            accounts.customer_payment_account.to_account_info(),
            refunded,
        )?;
        escrow.close(accounts.customer.to_account_info())?;
        let customer = accounts.customer.to_account_info();
        ctx.accounts.order.close(customer)?;
    }
    emit_cpi!(OrderSettled {
        order: order_key,
        sequence: args.sequence,
        amount: args.amount,
        fee: parts.fee,
        pool: parts.pool,
        provider: parts.provider,
        receipt_hash: args.receipt_hash,
        refunded,
        closed: done,
    });
    Ok(())
}

/// The provider's payment account, after checking it belongs to the current
/// holder of the accepting device's NFT.
fn provider_payment_account<'info>(accounts: &VoteSettlement<'info>) -> Result<AccountInfo<'info>> {
    let provider = &accounts.provider;
    let (Some(device), Some(nft), Some(payment)) = (
        &provider.device,
        &provider.holder_nft_account,
        &provider.holder_payment_account,
    ) else {
        return err!(PaymentError::WrongProviderAccounts);
    };
    let expected_payment = get_associated_token_address_with_program_id(
        &nft.owner,
        &accounts.order.payment_mint,
        &accounts.order.payment_token_program,
    );
    require!(
        accounts.order.accepted_device == Some(device.key())
            && device.is_held_in(nft, None)
            && payment.key() == expected_payment,
        PaymentError::WrongProviderAccounts
    );
    Ok(payment.to_account_info())
}

/// Sends `amount` from the escrow into the network's reward pool as service revenue.
fn fund_pool(accounts: &VoteSettlement<'_>, amount: u64, signer: &[&[&[u8]]]) -> Result<()> {
    let pool_accounts = &accounts.pool;
    let (Some(pool), Some(vault), Some(event_authority), Some(program)) = (
        &pool_accounts.pool,
        &pool_accounts.pool_vault,
        &pool_accounts.pool_event_authority,
        &pool_accounts.reward_pool_program,
    ) else {
        return err!(PaymentError::WrongPoolAccounts);
    };
    require!(
        pool.network == accounts.network.key()
            && pool.vault == vault.key()
            && pool.reward_mint == accounts.order.payment_mint,
        PaymentError::WrongPoolAccounts
    );
    reward_pool::cpi::fund_pool(
        CpiContext::new_with_signer(
            program.key(),
            reward_pool::cpi::accounts::FundPool {
                funder: accounts.order.to_account_info(),
                pool: pool.to_account_info(),
                reward_mint: accounts.payment_mint.to_account_info(),
                funder_account: accounts.escrow.to_account_info(),
                vault: vault.to_account_info(),
                reward_token_program: accounts.payment_token_program.to_account_info(),
                event_authority: event_authority.to_account_info(),
                program: program.to_account_info(),
            },
            signer,
        ),
        amount,
        FundingKind::ServiceRevenue,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        // 2.5 % fee, 10 % of the rest to the pool.
        assert_eq!(
            split(1_000, 250, 1_000, false, true),
            Split {
                fee: 25,
                pool: 97,
                provider: 878
            }
        );
        assert_eq!(
            split(1_000, 250, 1_000, false, false),
            Split {
                fee: 25,
                pool: 0,
                provider: 975
            }
        );
        assert_eq!(
            split(1_000, 250, 1_000, true, true),
            Split {
                fee: 25,
                pool: 975,
                provider: 0
            }
        );
        assert_eq!(
            split(u64::MAX, 10_000, 10_000, false, true),
            Split {
                fee: u64::MAX,
                pool: 0,
                provider: 0
            }
        );
    }

    proptest! {
        /// Nothing is created or lost: the parts always add up to the amount.
        #[test]
        fn parts_add_up(amount in any::<u64>(), fee in 0u16..=10_000, share in 0u16..=10_000,
                        network_wide in any::<bool>(), in_pool_mint in any::<bool>()) {
            let parts = split(amount, fee, share, network_wide, in_pool_mint);
            prop_assert_eq!(
                u128::from(parts.fee) + u128::from(parts.pool) + u128::from(parts.provider),
                u128::from(amount)
            );
        }
    }
}
