//! Errors of the SDK, with program errors decoded to their names.

use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_sdk::{instruction::InstructionError, pubkey::Pubkey, transaction::TransactionError};
use std::sync::OnceLock;

/// What went wrong in an SDK call.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The RPC node could not be reached or refused the request.
    #[error("RPC: {0}")]
    Rpc(Box<ClientError>),
    /// An account that must exist does not.
    #[error("account {0} does not exist")]
    AccountNotFound(Pubkey),
    /// An account exists but is not the expected type.
    #[error("account {0} is not a {1}: {2}")]
    Decode(Pubkey, &'static str, String),
    /// A program refused the transaction with a custom error.
    #[error("{}", describe_program_error(.program, *.instruction, *.code, .name))]
    Program {
        /// The program of the failing instruction, when known.
        program: Option<Pubkey>,
        /// Index of the failing instruction in the transaction.
        instruction: u8,
        /// The program's error code.
        code: u32,
        /// Its name, for depinkit programs (from their IDLs).
        name: Option<String>,
    },
    /// The transaction failed for another reason.
    #[error("transaction failed: {0}")]
    Transaction(TransactionError),
    /// The given signers cannot sign the transaction.
    #[error("signing: {0}")]
    Signing(String),
    /// The transaction did not confirm before its last blockhash expired, after
    /// the configured number of re-signs.
    #[error("transaction not confirmed after {0} attempts")]
    NotConfirmed(u32),
}

impl From<ClientError> for SdkError {
    fn from(error: ClientError) -> Self {
        if let Some(tx_error) = error.get_transaction_error() {
            return SdkError::Transaction(tx_error);
        }
        SdkError::Rpc(Box::new(error))
    }
}

fn describe_program_error(
    program: &Option<Pubkey>,
    instruction: u8,
    code: u32,
    name: &Option<String>,
) -> String {
    let program = program
        .map(|p| p.to_string())
        .unwrap_or_else(|| "a program".into());
    match name {
        Some(name) => format!("instruction {instruction}: {program} refused: {name} ({code})"),
        None => format!("instruction {instruction}: {program} refused with error {code}"),
    }
}

impl SdkError {
    /// Turns a transaction error into the program error it carries, naming it
    /// when `program` (the failing instruction's program) is a depinkit program.
    pub fn from_transaction_error(error: TransactionError, programs: &[Pubkey]) -> Self {
        match error {
            TransactionError::InstructionError(index, InstructionError::Custom(code)) => {
                let program = programs.get(usize::from(index)).copied();
                SdkError::Program {
                    program,
                    instruction: index,
                    code,
                    name: program.and_then(|p| program_error_name(&p, code)),
                }
            }
            other => SdkError::Transaction(other),
        }
    }

    /// The custom error code, if a program refused the transaction.
    pub fn program_error_code(&self) -> Option<u32> {
        match self {
            SdkError::Program { code, .. } => Some(*code),
            SdkError::Transaction(TransactionError::InstructionError(
                _,
                InstructionError::Custom(code),
            )) => Some(*code),
            SdkError::Rpc(error) => match error.kind() {
                ErrorKind::TransactionError(TransactionError::InstructionError(
                    _,
                    InstructionError::Custom(code),
                )) => Some(*code),
                _ => None,
            },
            _ => None,
        }
    }
}

/// (program id, code, name) of every depinkit program error, read once from
/// the committed IDLs (generated from the programs themselves).
fn error_table() -> &'static Vec<(Pubkey, u32, String)> {
    static TABLE: OnceLock<Vec<(Pubkey, u32, String)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let idls = [
            include_str!("../../idl/device_registry.json"),
            include_str!("../../idl/reward_pool.json"),
            include_str!("../../idl/service_payments.json"),
        ];
        let mut table = Vec::new();
        for idl in idls {
            let idl: serde_json::Value = serde_json::from_str(idl).expect("committed IDL is JSON");
            let program: Pubkey = idl["address"]
                .as_str()
                .and_then(|a| a.parse().ok())
                .expect("IDL address");
            for error in idl["errors"].as_array().into_iter().flatten() {
                if let (Some(code), Some(name)) = (error["code"].as_u64(), error["name"].as_str()) {
                    table.push((program, code as u32, name.to_string()));
                }
            }
        }
        table
    })
}

/// The name of `code` raised by `program`, for the depinkit programs.
pub fn program_error_name(program: &Pubkey, code: u32) -> Option<String> {
    error_table()
        .iter()
        .find(|(p, c, _)| p == program && *c == code)
        .map(|(_, _, name)| name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use device_registry::errors::RegistryError;
    use service_payments::errors::PaymentError;

    #[test]
    fn names_come_from_the_idls_and_match_the_programs() {
        assert_eq!(
            program_error_name(
                &device_registry::ID,
                RegistryError::DeviceAlreadyOnboarded.into()
            )
            .as_deref(),
            Some("DeviceAlreadyOnboarded")
        );
        assert_eq!(
            program_error_name(&service_payments::ID, PaymentError::PriceTooOld.into()).as_deref(),
            Some("PriceTooOld")
        );
        assert_eq!(program_error_name(&reward_pool::ID, 1), None);
        let error = SdkError::from_transaction_error(
            TransactionError::InstructionError(
                1,
                InstructionError::Custom(RegistryError::InvalidH3Cell.into()),
            ),
            &[Pubkey::new_unique(), device_registry::ID],
        );
        assert!(error.to_string().contains("InvalidH3Cell"), "{error}");
        assert_eq!(
            error.program_error_code(),
            Some(RegistryError::InvalidH3Cell.into())
        );
    }
}
