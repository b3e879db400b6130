//! Errors of the SDK, with program errors decoded to their names.

use anchor_spl::token_2022::spl_token_2022::error::TokenError;
use num_traits::FromPrimitive;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_sdk::{instruction::InstructionError, pubkey::Pubkey, transaction::TransactionError};
use solana_system_interface::error::SystemError;

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
        /// The program that raised the error, when known: the failing
        /// instruction's, or one it called (read from the logs).
        program: Option<Pubkey>,
        /// Index of the failing instruction in the transaction.
        instruction: u8,
        /// The program's error code.
        code: u32,
        /// Its name ([`program_error_name`]).
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
    /// ([`program_error_name`]); `programs` are the transaction's instructions'
    /// programs, in order (the failing one raised the error).
    pub fn from_transaction_error(error: TransactionError, programs: &[Pubkey]) -> Self {
        Self::from_transaction_error_and_logs(error, programs, &[])
    }

    /// [`SdkError::from_transaction_error`], with the transaction's logs saying
    /// which program really raised the error (a program called by the failing
    /// instruction: the token program's `InsufficientFunds`, say).
    pub fn from_transaction_error_and_logs(
        error: TransactionError,
        programs: &[Pubkey],
        logs: &[String],
    ) -> Self {
        match error {
            TransactionError::InstructionError(index, InstructionError::Custom(code)) => {
                let program = failing_program_in_logs(logs)
                    .filter(|(_, logged)| *logged == code)
                    .map(|(program, _)| program)
                    .or_else(|| programs.get(usize::from(index)).copied());
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

    /// The name of the program error, if a program refused the transaction.
    pub fn program_error(&self) -> Option<&str> {
        match self {
            SdkError::Program {
                name: Some(name), ..
            } => Some(name),
            _ => None,
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

/// The name of `code` raised by `program`: a depinkit program's own error (from
/// its IDL) or one of Anchor's (codes below 6000), a System program error, an
/// SPL Token / Token-2022 error, or an Associated Token Account error.
pub fn program_error_name(program: &Pubkey, code: u32) -> Option<String> {
    if crate::idl::is_depinkit_program(program) {
        return crate::idl::program_error_name(program, code).or_else(|| anchor_error_name(code));
    }
    if *program == solana_sdk_ids::system_program::ID {
        return <SystemError as FromPrimitive>::from_u32(code).map(|e| format!("{e:?}"));
    }
    if *program == anchor_spl::token::ID || *program == anchor_spl::token_2022::ID {
        return TokenError::try_from(code).ok().map(|e| format!("{e:?}"));
    }
    if *program == anchor_spl::associated_token::ID && code == 0 {
        return Some("InvalidOwner".into());
    }
    None
}

/// The name of one of Anchor's own errors (account and constraint checks).
fn anchor_error_name(code: u32) -> Option<String> {
    use anchor_lang::error::ErrorCode as E;
    const KNOWN: &[E] = &[
        E::InstructionMissing,
        E::InstructionFallbackNotFound,
        E::InstructionDidNotDeserialize,
        E::ConstraintMut,
        E::ConstraintHasOne,
        E::ConstraintSigner,
        E::ConstraintRaw,
        E::ConstraintOwner,
        E::ConstraintSeeds,
        E::ConstraintAssociated,
        E::ConstraintAssociatedInit,
        E::ConstraintAddress,
        E::ConstraintTokenMint,
        E::ConstraintTokenOwner,
        E::ConstraintMintDecimals,
        E::ConstraintTokenTokenProgram,
        E::ConstraintMintTokenProgram,
        E::ConstraintAssociatedTokenTokenProgram,
        E::ConstraintDuplicateMutableAccount,
        E::RequireViolated,
        E::RequireKeysEqViolated,
        E::AccountDiscriminatorNotFound,
        E::AccountDiscriminatorMismatch,
        E::AccountDidNotDeserialize,
        E::AccountOwnedByWrongProgram,
        E::InvalidProgramId,
        E::InvalidProgramExecutable,
        E::AccountNotSigner,
        E::AccountNotSystemOwned,
        E::AccountNotInitialized,
        E::AccountNotProgramData,
        E::AccountNotAssociatedTokenAccount,
        E::AccountNotEnoughKeys,
        E::AccountNotMutable,
        E::AccountReallocExceedsLimit,
        E::AccountDuplicateReallocs,
    ];
    KNOWN.iter().find(|e| **e as u32 == code).map(|e| e.name())
}

/// The program that raised a transaction's custom error, and the code, read
/// from its logs: the first `Program <id> failed: custom program error: 0x..`
/// line is the innermost failure (a token program reached by CPI, say), the
/// lines after it are the callers failing in turn.
pub fn failing_program_in_logs(logs: &[String]) -> Option<(Pubkey, u32)> {
    logs.iter().find_map(|line| {
        let rest = line.strip_prefix("Program ")?;
        let (id, error) = rest.split_once(" failed: custom program error: ")?;
        let code = u32::from_str_radix(error.trim().trim_start_matches("0x"), 16).ok()?;
        Some((id.parse().ok()?, code))
    })
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
        assert_eq!(
            program_error_name(&reward_pool::ID, 3012).as_deref(),
            Some("AccountNotInitialized")
        );
        assert_eq!(
            program_error_name(&anchor_spl::token::ID, 1).as_deref(),
            Some("InsufficientFunds")
        );
        assert_eq!(
            program_error_name(&solana_sdk_ids::system_program::ID, 0).as_deref(),
            Some("AccountAlreadyInUse")
        );
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

#[cfg(test)]
mod log_tests {
    use super::*;

    #[test]
    fn the_innermost_failing_program_raised_the_error() {
        let token = anchor_spl::token::ID;
        let registry = device_registry::ID;
        let logs: Vec<String> = [
            format!("Program {registry} invoke [1]"),
            format!("Program {token} invoke [2]"),
            "Program log: Error: insufficient funds".to_string(),
            format!("Program {token} failed: custom program error: 0x1"),
            format!("Program {registry} failed: custom program error: 0x1"),
        ]
        .into_iter()
        .collect();
        assert_eq!(failing_program_in_logs(&logs), Some((token, 1)));
        let error = SdkError::from_transaction_error_and_logs(
            TransactionError::InstructionError(1, InstructionError::Custom(1)),
            &[Pubkey::new_unique(), registry],
            &logs,
        );
        assert_eq!(error.program_error(), Some("InsufficientFunds"));
        // Without logs the failing instruction's program is named.
        let error = SdkError::from_transaction_error(
            TransactionError::InstructionError(0, InstructionError::Custom(3012)),
            &[registry],
        );
        assert_eq!(error.program_error(), Some("AccountNotInitialized"));
    }
}
