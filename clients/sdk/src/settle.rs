//! An oracle's settlement vote as the chain needs it: `vote_settlement` with
//! the accounts the order's payout reaches (the accepting device's current
//! NFT holder, the network's treasury, the pool when the payment is in its
//! reward mint), after opening whichever of their associated payment
//! accounts do not exist yet (the oracle pays the rent).

use crate::{
    SdkError, accounts,
    payments::{self, OrderKeys, ProviderPayee},
    pool::PoolKeys,
    tokens,
};
use device_registry::state::{Device, Network};
use service_payments::{instructions::VoteSettlementArgs, state::Order};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

/// The instructions voting `args` on `order` (at `address`) as `oracle`.
/// Fails with [`SdkError::AccountNotFound`] naming the device NFT when
/// nobody holds the accepting device's NFT (burned): nobody can be paid.
pub async fn settlement_vote(
    rpc: &RpcClient,
    oracle: &Pubkey,
    address: &Pubkey,
    order: &Order,
    args: VoteSettlementArgs,
) -> Result<Vec<Instruction>, SdkError> {
    let network: Network = accounts::fetch(rpc, &order.network).await?;
    let keys = OrderKeys::of_order(address, order);
    let payee = match order.accepted_device {
        Some(device_address) => {
            let device: Device = accounts::fetch(rpc, &device_address).await?;
            let holder = tokens::nft_holder(rpc, &device.mint)
                .await?
                .ok_or(SdkError::AccountNotFound(device.mint))?;
            Some(ProviderPayee {
                device: device_address,
                device_mint: device.mint,
                holder,
            })
        }
        None => None,
    };
    let pool = (order.payment_mint == network.reward_mint).then(|| {
        PoolKeys::new(
            &order.network,
            &order.payment_mint,
            &order.payment_token_program,
        )
    });
    let mut owners = vec![network.treasury, order.customer];
    owners.extend(payee.map(|p| p.holder));
    owners.sort();
    owners.dedup();
    let wanted: Vec<Pubkey> = owners.iter().map(|o| keys.payment_account(o)).collect();
    let found = accounts::raw_many(rpc, &wanted).await?;
    let mut instructions: Vec<Instruction> = owners
        .iter()
        .zip(found)
        .filter(|(_, account)| account.is_none())
        .map(|(owner, _)| {
            tokens::open_ata(
                oracle,
                owner,
                &order.payment_mint,
                &order.payment_token_program,
            )
        })
        .collect();
    instructions.push(payments::vote_settlement(
        oracle,
        &keys,
        &network.treasury,
        payee,
        pool.as_ref(),
        args,
    ));
    Ok(instructions)
}
