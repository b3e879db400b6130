//! Fetching and decoding program accounts over RPC.

use crate::errors::SdkError;
use anchor_lang::{AccountDeserialize, Discriminator};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::{
    config::{RpcAccountInfoConfig, RpcProgramAccountsConfig},
    filter::{Memcmp, RpcFilterType},
};
use solana_sdk::pubkey::Pubkey;

/// Fetches and decodes the Anchor account at `address` (discriminator checked).
pub async fn fetch<T: AccountDeserialize>(
    rpc: &RpcClient,
    address: &Pubkey,
) -> Result<T, SdkError> {
    fetch_optional(rpc, address)
        .await?
        .ok_or(SdkError::AccountNotFound(*address))
}

/// Like [`fetch`], `None` when the account does not exist.
pub async fn fetch_optional<T: AccountDeserialize>(
    rpc: &RpcClient,
    address: &Pubkey,
) -> Result<Option<T>, SdkError> {
    let response = rpc
        .get_account_with_commitment(address, rpc.commitment())
        .await?;
    match response.value {
        None => Ok(None),
        Some(account) => T::try_deserialize(&mut account.data.as_slice())
            .map(Some)
            .map_err(|e| SdkError::Decode(*address, std::any::type_name::<T>(), e.to_string())),
    }
}

/// Most accounts one `getMultipleAccounts` call may ask for.
pub const MAX_MULTIPLE_ACCOUNTS: usize = 100;

/// The raw accounts at `addresses`, in order, `None` where one does not
/// exist: one `getMultipleAccounts` call per 100 addresses instead of one
/// call each (a crank reading thousands of claim records).
pub async fn raw_many(
    rpc: &RpcClient,
    addresses: &[Pubkey],
) -> Result<Vec<Option<solana_sdk::account::Account>>, SdkError> {
    let mut found = Vec::with_capacity(addresses.len());
    for chunk in addresses.chunks(MAX_MULTIPLE_ACCOUNTS) {
        found.extend(
            rpc.get_multiple_accounts_with_commitment(chunk, rpc.commitment())
                .await?
                .value,
        );
    }
    Ok(found)
}

/// [`raw_many`] decoded as Anchor accounts of type `T` (discriminator checked).
pub async fn fetch_many<T: AccountDeserialize>(
    rpc: &RpcClient,
    addresses: &[Pubkey],
) -> Result<Vec<Option<T>>, SdkError> {
    raw_many(rpc, addresses)
        .await?
        .into_iter()
        .zip(addresses)
        .map(|(account, address)| {
            account
                .map(|account| {
                    T::try_deserialize(&mut account.data.as_slice()).map_err(|e| {
                        SdkError::Decode(*address, std::any::type_name::<T>(), e.to_string())
                    })
                })
                .transpose()
        })
        .collect()
}

/// The cluster's unix time from the clock sysvar, which device messages and
/// order deadlines are measured against (not the local clock).
pub async fn chain_time(rpc: &RpcClient) -> Result<i64, SdkError> {
    let address = solana_sdk::sysvar::clock::ID;
    let clock = rpc.get_account(&address).await?;
    // Clock: slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp.
    clock
        .data
        .get(32..40)
        .and_then(|b| b.try_into().ok())
        .map(i64::from_le_bytes)
        .ok_or_else(|| SdkError::Decode(address, "Clock", "short clock sysvar".into()))
}

/// A filter on the bytes at `offset` of an account's data.
pub fn memcmp(offset: usize, bytes: &[u8]) -> RpcFilterType {
    RpcFilterType::Memcmp(Memcmp::new_raw_bytes(offset, bytes.to_vec()))
}

/// The address and raw data of every account owned by `program` that
/// matches `filters` (server-side), read at the client's commitment; `None`
/// data for an account the node sent in an encoding it could not decode.
pub async fn program_accounts(
    rpc: &RpcClient,
    program: &Pubkey,
    filters: Vec<RpcFilterType>,
) -> Result<Vec<(Pubkey, Option<Vec<u8>>)>, SdkError> {
    let config = RpcProgramAccountsConfig {
        filters: Some(filters),
        account_config: RpcAccountInfoConfig {
            encoding: Some(solana_rpc_client_api::config::UiAccountEncoding::Base64),
            commitment: Some(rpc.commitment()),
            ..RpcAccountInfoConfig::default()
        },
        ..RpcProgramAccountsConfig::default()
    };
    Ok(rpc
        .get_program_ui_accounts_with_config(program, config)
        .await?
        .into_iter()
        .map(|(address, account)| (address, account.data.decode()))
        .collect())
}

/// Every account of type `T` owned by `program` that matches `filters`.
pub async fn fetch_all<T: AccountDeserialize + Discriminator>(
    rpc: &RpcClient,
    program: &Pubkey,
    mut filters: Vec<RpcFilterType>,
) -> Result<Vec<(Pubkey, T)>, SdkError> {
    filters.insert(0, memcmp(0, T::DISCRIMINATOR));
    program_accounts(rpc, program, filters)
        .await?
        .into_iter()
        .map(|(address, data)| {
            let data = data.ok_or_else(|| {
                SdkError::Decode(
                    address,
                    std::any::type_name::<T>(),
                    "undecodable data".into(),
                )
            })?;
            T::try_deserialize(&mut data.as_slice())
                .map(|value| (address, value))
                .map_err(|e| SdkError::Decode(address, std::any::type_name::<T>(), e.to_string()))
        })
        .collect()
}

// The filter offsets below are defined beside each account type in its program
// crate, where a unit test serializes an account and finds the field there.

/// Every device of `network`.
pub async fn devices_of_network(
    rpc: &RpcClient,
    network: &Pubkey,
) -> Result<Vec<(Pubkey, device_registry::state::Device)>, SdkError> {
    fetch_all(
        rpc,
        &device_registry::ID,
        vec![memcmp(
            device_registry::state::Device::NETWORK_OFFSET,
            network.as_ref(),
        )],
    )
    .await
}

/// Every maker of `network`.
pub async fn makers_of_network(
    rpc: &RpcClient,
    network: &Pubkey,
) -> Result<Vec<(Pubkey, device_registry::state::Maker)>, SdkError> {
    fetch_all(
        rpc,
        &device_registry::ID,
        vec![memcmp(
            device_registry::state::Maker::NETWORK_OFFSET,
            network.as_ref(),
        )],
    )
    .await
}

/// Every order of `network` (open or accepted).
pub async fn orders_of_network(
    rpc: &RpcClient,
    network: &Pubkey,
) -> Result<Vec<(Pubkey, service_payments::state::Order)>, SdkError> {
    fetch_all(
        rpc,
        &service_payments::ID,
        vec![memcmp(
            service_payments::state::Order::NETWORK_OFFSET,
            network.as_ref(),
        )],
    )
    .await
}

/// Every open order of `customer`.
pub async fn orders_of_customer(
    rpc: &RpcClient,
    customer: &Pubkey,
) -> Result<Vec<(Pubkey, service_payments::state::Order)>, SdkError> {
    fetch_all(
        rpc,
        &service_payments::ID,
        vec![memcmp(
            service_payments::state::Order::CUSTOMER_OFFSET,
            customer.as_ref(),
        )],
    )
    .await
}
