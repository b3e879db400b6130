//! Sending transactions the way daemons and the CLI need: a compute-unit limit
//! from simulation plus a margin, a priority fee from recent prioritization fees
//! (bounded by a floor and a cap), re-broadcast of the same signed transaction
//! until it confirms or its blockhash expires, then a re-signed one. Legacy
//! transactions by default; v0 ones when address lookup tables are given
//! ([`TransactionSender::send_with_lookup_tables`]), for instructions too large
//! for a legacy packet (deep claims).

use crate::errors::SdkError;
use solana_commitment_config::CommitmentConfig;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcSendTransactionConfig, RpcSimulateTransactionConfig};
use solana_sdk::{
    hash::Hash,
    instruction::Instruction,
    message::{AddressLookupTableAccount, Message, VersionedMessage, v0},
    pubkey::Pubkey,
    signature::Signature,
    signer::signers::Signers,
    transaction::{TransactionError, VersionedTransaction},
};
use std::{sync::Arc, time::Duration};

/// Largest compute-unit limit a transaction may ask for.
pub const MAX_COMPUTE_UNITS: u32 = 1_400_000;

/// How [`TransactionSender`] prices and retries.
#[derive(Clone, Debug)]
pub struct SenderConfig {
    /// Extra compute units over the simulated consumption, in percent.
    pub compute_margin_percent: u32,
    /// Least compute-unit limit set, whatever the simulation says.
    pub min_compute_units: u32,
    /// Lowest priority fee, in micro-lamports per compute unit.
    pub priority_fee_floor: u64,
    /// Highest priority fee, in micro-lamports per compute unit.
    pub priority_fee_cap: u64,
    /// Percentile (0..=100) of recent fees to pay.
    pub priority_fee_percentile: u8,
    /// How often to re-broadcast and poll the signature.
    pub rebroadcast_interval: Duration,
    /// Signing attempts (a fresh blockhash each) before giving up.
    pub max_attempts: u32,
    /// Commitment to wait for.
    pub commitment: CommitmentConfig,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            compute_margin_percent: 20,
            min_compute_units: 20_000,
            priority_fee_floor: 0,
            priority_fee_cap: 1_000_000,
            priority_fee_percentile: 75,
            rebroadcast_interval: Duration::from_millis(500),
            max_attempts: 3,
            commitment: CommitmentConfig::confirmed(),
        }
    }
}

/// A confirmed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Its signature.
    pub signature: Signature,
    /// Slot it landed in.
    pub slot: u64,
    /// The compute-unit limit it carried.
    pub compute_unit_limit: u32,
    /// The priority fee it paid, micro-lamports per compute unit.
    pub priority_fee: u64,
    /// Signing attempts it took.
    pub attempts: u32,
}

/// Sends transactions over a nonblocking [`RpcClient`].
///
/// ```no_run
/// # async fn example(payer: solana_sdk::signature::Keypair, ix: solana_sdk::instruction::Instruction) -> Result<(), depinkit_sdk::SdkError> {
/// use depinkit_sdk::sender::{SenderConfig, TransactionSender};
/// use solana_sdk::signature::Signer;
/// use solana_rpc_client::nonblocking::rpc_client::RpcClient;
/// let rpc = RpcClient::new("http://127.0.0.1:8899".to_string());
/// let sender = TransactionSender::new(std::sync::Arc::new(rpc), SenderConfig::default());
/// let sent = sender.send(&[ix], &payer.pubkey(), &[&payer]).await?;
/// println!("{} in slot {}", sent.signature, sent.slot);
/// # Ok(()) }
/// ```
pub struct TransactionSender {
    rpc: Arc<RpcClient>,
    config: SenderConfig,
}

impl TransactionSender {
    /// A sender on `rpc`.
    pub fn new(rpc: Arc<RpcClient>, config: SenderConfig) -> Self {
        Self { rpc, config }
    }

    /// The RPC client.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// Simulates `instructions` (with the largest compute-unit limit) and returns
    /// the compute units consumed; a program error comes back decoded.
    pub async fn simulate(
        &self,
        instructions: &[Instruction],
        payer: &Pubkey,
    ) -> Result<u64, SdkError> {
        self.simulate_with_lookup_tables(instructions, payer, &[])
            .await
    }

    /// [`TransactionSender::simulate`] of a v0 transaction using `tables`.
    pub async fn simulate_with_lookup_tables(
        &self,
        instructions: &[Instruction],
        payer: &Pubkey,
        tables: &[AddressLookupTableAccount],
    ) -> Result<u64, SdkError> {
        let mut with_limit = vec![ComputeBudgetInstruction::set_compute_unit_limit(
            MAX_COMPUTE_UNITS,
        )];
        with_limit.extend_from_slice(instructions);
        let message = compile(&with_limit, payer, tables, Hash::default())?;
        let tx = VersionedTransaction {
            signatures: vec![
                Signature::default();
                usize::from(message.header().num_required_signatures)
            ],
            message,
        };
        let result = self
            .rpc
            .simulate_transaction_with_config(
                &tx,
                RpcSimulateTransactionConfig {
                    sig_verify: false,
                    replace_recent_blockhash: true,
                    commitment: Some(self.config.commitment),
                    ..RpcSimulateTransactionConfig::default()
                },
            )
            .await?
            .value;
        if let Some(error) = result.err {
            return Err(decode(
                shift_index(TransactionError::from(error), 1),
                instructions,
                result.logs.as_deref().unwrap_or_default(),
            ));
        }
        Ok(result.units_consumed.unwrap_or(0))
    }

    /// The priority fee to pay for writing `accounts`: the configured percentile
    /// of recent fees, within the floor and the cap.
    pub async fn priority_fee(&self, accounts: &[Pubkey]) -> Result<u64, SdkError> {
        let fees: Vec<u64> = self
            .rpc
            .get_recent_prioritization_fees(accounts)
            .await?
            .into_iter()
            .map(|fee| fee.prioritization_fee)
            .collect();
        Ok(pick_priority_fee(fees, &self.config))
    }

    /// Simulates, prices, signs, sends and confirms `instructions` paid by
    /// `payer`; `signers` must include the payer and every other signer.
    pub async fn send<T: Signers + ?Sized>(
        &self,
        instructions: &[Instruction],
        payer: &Pubkey,
        signers: &T,
    ) -> Result<Sent, SdkError> {
        self.send_with_lookup_tables(instructions, payer, signers, &[])
            .await
    }

    /// [`TransactionSender::send`] as a v0 transaction that takes the accounts
    /// found in `tables` from them (a legacy one when `tables` is empty).
    pub async fn send_with_lookup_tables<T: Signers + ?Sized>(
        &self,
        instructions: &[Instruction],
        payer: &Pubkey,
        signers: &T,
        tables: &[AddressLookupTableAccount],
    ) -> Result<Sent, SdkError> {
        let consumed = self
            .simulate_with_lookup_tables(instructions, payer, tables)
            .await?;
        let limit = (consumed.saturating_mul(100 + u64::from(self.config.compute_margin_percent))
            / 100)
            .max(u64::from(self.config.min_compute_units))
            .min(u64::from(MAX_COMPUTE_UNITS)) as u32;
        let writable: Vec<Pubkey> = instructions
            .iter()
            .flat_map(|ix| {
                ix.accounts
                    .iter()
                    .filter(|m| m.is_writable)
                    .map(|m| m.pubkey)
            })
            .collect();
        let fee = self.priority_fee(&writable).await?;
        let mut full = vec![
            ComputeBudgetInstruction::set_compute_unit_limit(limit),
            ComputeBudgetInstruction::set_compute_unit_price(fee),
        ];
        full.extend_from_slice(instructions);

        for attempt in 1..=self.config.max_attempts {
            let (blockhash, last_valid) = self
                .rpc
                .get_latest_blockhash_with_commitment(self.config.commitment)
                .await?;
            let tx = sign(&full, payer, signers, tables, blockhash)?;
            if let Some(slot) = self
                .broadcast_until_expired(&tx, last_valid, instructions)
                .await?
            {
                return Ok(Sent {
                    signature: tx.signatures[0],
                    slot,
                    compute_unit_limit: limit,
                    priority_fee: fee,
                    attempts: attempt,
                });
            }
        }
        Err(SdkError::NotConfirmed(self.config.max_attempts))
    }

    /// Sends `tx` again every interval until it confirms (its slot), fails (the
    /// decoded error), or its blockhash expires (`None`).
    async fn broadcast_until_expired(
        &self,
        tx: &VersionedTransaction,
        last_valid_block_height: u64,
        instructions: &[Instruction],
    ) -> Result<Option<u64>, SdkError> {
        let signature = tx.signatures[0];
        let send_config = RpcSendTransactionConfig {
            skip_preflight: true,
            max_retries: Some(0),
            ..RpcSendTransactionConfig::default()
        };
        loop {
            // A send can fail transiently; the status poll decides.
            let _ = self.rpc.send_transaction_with_config(tx, send_config).await;
            tokio::time::sleep(self.config.rebroadcast_interval).await;
            let statuses = self.rpc.get_signature_statuses(&[signature]).await?.value;
            if let Some(Some(status)) = statuses.into_iter().next() {
                if let Some(error) = status.err {
                    return Err(decode(shift_index(error, 2), instructions, &[]));
                }
                if status.satisfies_commitment(self.config.commitment) {
                    return Ok(Some(status.slot));
                }
            }
            let height = self
                .rpc
                .get_block_height_with_commitment(self.config.commitment)
                .await?;
            if height > last_valid_block_height {
                return Ok(None);
            }
        }
    }
}

/// Largest transaction a packet carries: the IPv6 minimum MTU (1,280) less
/// the IPv6 (40) and UDP (8) headers.
pub const PACKET_DATA_SIZE: usize = 1280 - 40 - 8;

/// Bytes `instructions` take on the wire when [`TransactionSender`] sends
/// them paid by `payer` (its two compute-budget instructions included, every
/// signature counted), so a caller can pack several into one transaction and
/// stay within [`PACKET_DATA_SIZE`].
pub fn transaction_size(
    instructions: &[Instruction],
    payer: &Pubkey,
    tables: &[AddressLookupTableAccount],
) -> Result<usize, SdkError> {
    let mut full = vec![
        ComputeBudgetInstruction::set_compute_unit_limit(MAX_COMPUTE_UNITS),
        ComputeBudgetInstruction::set_compute_unit_price(u64::MAX),
    ];
    full.extend_from_slice(instructions);
    let message = compile(&full, payer, tables, Hash::default())?;
    let signatures = usize::from(message.header().num_required_signatures);
    // A compact-u16 count (one byte below 128 signatures), the signatures, the message.
    Ok(1 + 64 * signatures + message.serialize().len())
}

/// The configured percentile of `fees`, within the floor and the cap.
pub fn pick_priority_fee(mut fees: Vec<u64>, config: &SenderConfig) -> u64 {
    fees.sort_unstable();
    let chosen = match fees.len() {
        0 => 0,
        n => fees[(n - 1) * usize::from(config.priority_fee_percentile.min(100)) / 100],
    };
    chosen.clamp(config.priority_fee_floor, config.priority_fee_cap)
}

/// The message of `instructions`: legacy without lookup tables, v0 with them.
fn compile(
    instructions: &[Instruction],
    payer: &Pubkey,
    tables: &[AddressLookupTableAccount],
    blockhash: Hash,
) -> Result<VersionedMessage, SdkError> {
    if tables.is_empty() {
        let mut message = Message::new(instructions, Some(payer));
        message.recent_blockhash = blockhash;
        return Ok(VersionedMessage::Legacy(message));
    }
    v0::Message::try_compile(payer, instructions, tables, blockhash)
        .map(VersionedMessage::V0)
        .map_err(|e| SdkError::Signing(format!("cannot compile a v0 message: {e}")))
}

fn sign<T: Signers + ?Sized>(
    instructions: &[Instruction],
    payer: &Pubkey,
    signers: &T,
    tables: &[AddressLookupTableAccount],
    blockhash: Hash,
) -> Result<VersionedTransaction, SdkError> {
    let message = compile(instructions, payer, tables, blockhash)?;
    VersionedTransaction::try_new(message, signers).map_err(|e| SdkError::Signing(e.to_string()))
}

/// Maps an instruction index in the sent transaction (which has `prefix`
/// compute-budget instructions first) back to the caller's instructions.
fn shift_index(error: TransactionError, prefix: u8) -> TransactionError {
    match error {
        TransactionError::InstructionError(index, inner) if index >= prefix => {
            TransactionError::InstructionError(index - prefix, inner)
        }
        other => other,
    }
}

fn decode(error: TransactionError, instructions: &[Instruction], logs: &[String]) -> SdkError {
    let programs: Vec<Pubkey> = instructions.iter().map(|ix| ix.program_id).collect();
    SdkError::from_transaction_error_and_logs(error, &programs, logs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_sdk::instruction::InstructionError;

    #[test]
    fn priority_fee_is_a_bounded_percentile() {
        let config = SenderConfig {
            priority_fee_floor: 10,
            priority_fee_cap: 500,
            priority_fee_percentile: 50,
            ..SenderConfig::default()
        };
        assert_eq!(pick_priority_fee(vec![], &config), 10, "floor when no data");
        assert_eq!(
            pick_priority_fee(vec![300, 100, 200], &config),
            200,
            "median"
        );
        assert_eq!(
            pick_priority_fee(vec![9_000, 8_000, 7_000], &config),
            500,
            "cap"
        );
        let top = SenderConfig {
            priority_fee_percentile: 100,
            ..config
        };
        assert_eq!(pick_priority_fee(vec![1, 50, 20], &top), 50);
    }

    #[test]
    fn instruction_indices_skip_the_compute_budget_prefix() {
        let error = TransactionError::InstructionError(3, InstructionError::Custom(6000));
        assert_eq!(
            shift_index(error, 2),
            TransactionError::InstructionError(1, InstructionError::Custom(6000))
        );
        let in_prefix = TransactionError::InstructionError(0, InstructionError::InvalidArgument);
        assert_eq!(shift_index(in_prefix.clone(), 2), in_prefix);
    }
}
