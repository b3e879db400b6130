//! Decoding the events depinkit programs emit with `emit_cpi!`.
//!
//! Each event is a self-invocation of the emitting program whose instruction
//! data is Anchor's event tag, the event's discriminator and its borsh fields.
//! It lands in the transaction's metadata as an inner instruction, which RPC
//! returns with `getTransaction`; [`events_of_transaction`] reads them from
//! there, [`decode`] from any instruction's program id and data.
//!
//! ```
//! use depinkit_sdk::events::{decode, DepinEvent};
//! use depinkit_sdk::device_registry::events::MakerStatusChanged;
//! use depinkit_sdk::device_registry::state::MakerStatus;
//! use anchor_lang::{Discriminator, AnchorSerialize};
//! use solana_sdk::pubkey::Pubkey;
//!
//! let event = MakerStatusChanged {
//!     network: Pubkey::new_unique(),
//!     maker: Pubkey::new_unique(),
//!     status: MakerStatus::Approved,
//! };
//! let mut data = anchor_lang::event::EVENT_IX_TAG_LE.to_vec();
//! data.extend_from_slice(MakerStatusChanged::DISCRIMINATOR);
//! event.serialize(&mut data).unwrap();
//! assert_eq!(
//!     decode(&depinkit_sdk::device_registry::ID, &data),
//!     Some(DepinEvent::MakerStatusChanged(event)),
//! );
//! ```

use crate::errors::SdkError;
use anchor_lang::{AnchorDeserialize, Discriminator, event::EVENT_IX_TAG_LE};
use device_registry::events as registry;
use reward_pool::events as pool;
use service_payments::events as payments;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::{config::RpcTransactionConfig, request::RpcRequest};
use solana_sdk::{pubkey::Pubkey, signature::Signature};
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, UiInstruction, UiTransactionEncoding,
    option_serializer::OptionSerializer,
};

/// Declares [`DepinEvent`] with one variant per event type, and the decoder
/// that tries each type of the emitting program in turn.
macro_rules! depin_events {
    ($($program:ident => [$($module:ident :: $name:ident),* $(,)?]),* $(,)?) => {
        /// Every event a depinkit program emits, by name.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum DepinEvent {
            $($(
                #[doc = concat!("`", stringify!($module), "::", stringify!($name), "`")]
                $name($module::$name),
            )*)*
        }

        /// The event in an instruction of `program_id` with `data`, or `None`
        /// when it is not a depinkit event (another instruction, another program,
        /// or data that does not decode).
        pub fn decode(program_id: &Pubkey, data: &[u8]) -> Option<DepinEvent> {
            let body = data.strip_prefix(EVENT_IX_TAG_LE)?;
            $(
                if *program_id == $program::ID {
                    $(
                        if let Some(fields) = body.strip_prefix($module::$name::DISCRIMINATOR) {
                            return $module::$name::try_from_slice(fields)
                                .ok()
                                .map(DepinEvent::$name);
                        }
                    )*
                    return None;
                }
            )*
            None
        }
    };
}

depin_events! {
    device_registry => [
        registry::NetworkCreated,
        registry::NetworkUpdated,
        registry::AuthorityProposed,
        registry::AuthorityChanged,
        registry::MakerRegistered,
        registry::MakerStatusChanged,
        registry::DeviceOnboarded,
        registry::LocationAsserted,
        registry::DeviceStatusChanged,
    ],
    reward_pool => [
        pool::PoolCreated,
        pool::PoolFunded,
        pool::EpochRootVoted,
        pool::EpochFinalized,
        pool::ClaimPaid,
        pool::ClaimLookupTableSet,
    ],
    service_payments => [
        payments::PaymentsInitialized,
        payments::PaymentsUpdated,
        payments::PriceVoted,
        payments::PriceFinalized,
        payments::CreditsBought,
        payments::CreditsDelegated,
        payments::CreditWithdrawalRequested,
        payments::CreditsWithdrawn,
        payments::UsageVoted,
        payments::UsageBurned,
        payments::OrderOpened,
        payments::OrderAccepted,
        payments::SettlementVoted,
        payments::OrderSettled,
        payments::OrderExtended,
        payments::OrderCancelled,
    ],
}

/// The events in `instructions`, each given as its program id and data, in order.
pub fn decode_all<'a>(
    instructions: impl IntoIterator<Item = (&'a Pubkey, &'a [u8])>,
) -> Vec<DepinEvent> {
    instructions
        .into_iter()
        .filter_map(|(program_id, data)| decode(program_id, data))
        .collect()
}

/// The depinkit events of a fetched transaction, in the order they were
/// emitted. The transaction must have been fetched with its metadata in a
/// binary encoding (base64), as [`events_of_transaction`] does.
pub fn events_in(transaction: &EncodedConfirmedTransactionWithStatusMeta) -> Vec<DepinEvent> {
    let tx = &transaction.transaction;
    let Some(meta) = &tx.meta else {
        return Vec::new();
    };
    let Some(message_keys) = tx.transaction.decode().map(|tx| {
        let mut keys = tx.message.static_account_keys().to_vec();
        if let OptionSerializer::Some(loaded) = &meta.loaded_addresses {
            for key in loaded.writable.iter().chain(&loaded.readonly) {
                keys.extend(key.parse::<Pubkey>().ok());
            }
        }
        keys
    }) else {
        return Vec::new();
    };
    let OptionSerializer::Some(inner) = &meta.inner_instructions else {
        return Vec::new();
    };
    let mut events = Vec::new();
    for group in inner {
        for instruction in &group.instructions {
            let UiInstruction::Compiled(compiled) = instruction else {
                continue;
            };
            let Some(program_id) = message_keys.get(usize::from(compiled.program_id_index)) else {
                continue;
            };
            let Ok(data) = solana_sdk::bs58::decode(&compiled.data).into_vec() else {
                continue;
            };
            events.extend(decode(program_id, &data));
        }
    }
    events
}

/// Fetches a confirmed transaction and returns its depinkit events; `None`
/// when the node does not have it (not confirmed yet, or unknown: a
/// websocket notification can arrive a moment before the transaction is
/// readable).
pub async fn events_of_transaction(
    rpc: &RpcClient,
    signature: &Signature,
) -> Result<Option<Vec<DepinEvent>>, SdkError> {
    let config = RpcTransactionConfig {
        encoding: Some(UiTransactionEncoding::Base64),
        commitment: Some(rpc.commitment()),
        max_supported_transaction_version: Some(0),
    };
    // `getTransaction` answers null for a transaction it does not have.
    let transaction: Option<EncodedConfirmedTransactionWithStatusMeta> = rpc
        .send(
            RpcRequest::GetTransaction,
            serde_json::json!([signature.to_string(), config]),
        )
        .await?;
    Ok(transaction.as_ref().map(events_in))
}
