//! CLI errors: one line saying what was wrong and what to do, and an exit code.

use depinkit_sdk::SdkError;

/// Exit code for a usage or input error (bad flag value, unknown network).
pub const EXIT_USAGE: i32 = 2;
/// Exit code for a refused or failed transaction.
pub const EXIT_TRANSACTION: i32 = 3;
/// Exit code for a failure to reach or read from the cluster.
pub const EXIT_RPC: i32 = 4;

/// What went wrong, worded for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input: flags, files, names.
    #[error("{0}")]
    Input(String),
    /// A program or the runtime refused a transaction.
    #[error("{0}")]
    Transaction(String),
    /// The cluster could not be reached or answered an error.
    #[error("{0}")]
    Rpc(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => EXIT_USAGE,
            CliError::Transaction(_) => EXIT_TRANSACTION,
            CliError::Rpc(_) => EXIT_RPC,
        }
    }
}

impl From<SdkError> for CliError {
    fn from(error: SdkError) -> Self {
        match &error {
            SdkError::Program {
                name: Some(name), ..
            } => CliError::Transaction(format!(
                "{name}: {}",
                hint(name).unwrap_or("the program refused the transaction")
            )),
            SdkError::Program { .. } | SdkError::Transaction(_) | SdkError::NotConfirmed(_) => {
                CliError::Transaction(error.to_string())
            }
            SdkError::AccountNotFound(address) => CliError::Input(format!(
                "account {address} does not exist on this cluster (check --url)"
            )),
            SdkError::Decode(..) | SdkError::Signing(_) => CliError::Input(error.to_string()),
            SdkError::Rpc(_) => {
                CliError::Rpc(format!("{error} (is the cluster at --url running?)"))
            }
        }
    }
}

/// What to do about the program errors people meet most.
fn hint(name: &str) -> Option<&'static str> {
    Some(match name {
        "DeviceAlreadyOnboarded" => "this device key is already onboarded on this network",
        "MakerNotApproved" => {
            "the maker is not approved: ask the network authority to run `depin maker approve`"
        }
        "NotNetworkAuthority" => "only the network authority may do this: pass its keypair with -k",
        "InvalidH3Cell" => "the location is not a valid H3 cell",
        "WrongH3Resolution" => {
            "the cell has another resolution than the network requires (see `depin network show`)"
        }
        "MessageExpired" => "the device's signature has expired: sign a new message",
        "WrongDeviceMessage" => {
            "the device signed another message: regenerate it with `depin device onboard-message`"
        }
        "WrongDeviceSigner" => "the signature is not by this device key",
        "NotDeviceHolder" => "the keypair does not hold this device's NFT",
        "FeeAccountsMissing" | "WrongFeeMint" => "the fee account is missing or in the wrong mint",
        _ => return None,
    })
}
