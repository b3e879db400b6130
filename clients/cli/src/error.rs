//! CLI errors: one line saying what was wrong and what to do, and an exit code.

use depinkit_sdk::SdkError;

/// Exit code for a usage or input error (bad flag value, unknown network).
pub const EXIT_USAGE: i32 = 2;
/// Exit code for a refused or failed transaction.
pub const EXIT_TRANSACTION: i32 = 3;
/// Exit code for a failure to reach or read from the cluster.
pub const EXIT_RPC: i32 = 4;
/// Exit code for a check that ran and found a difference (an epoch bundle
/// that does not reproduce the finalized root).
pub const EXIT_MISMATCH: i32 = 1;

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
    /// A check ran and found a difference.
    #[error("{0}")]
    Mismatch(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_) => EXIT_USAGE,
            CliError::Transaction(_) => EXIT_TRANSACTION,
            CliError::Rpc(_) => EXIT_RPC,
            CliError::Mismatch(_) => EXIT_MISMATCH,
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
                "account {address} does not exist on this cluster (check --url and --network)"
            )),
            SdkError::Decode(..) | SdkError::Signing(_) => CliError::Input(error.to_string()),
            SdkError::Rpc(_) => {
                CliError::Rpc(format!("{error} (is the cluster at --url running?)"))
            }
        }
    }
}

/// What to do about a program error, by its name: depinkit's own errors, and
/// the Anchor, System and Token program errors a depinkit transaction can meet.
pub fn hint(name: &str) -> Option<&'static str> {
    Some(match name {
        // Device registry.
        "DeviceAlreadyOnboarded" => {
            "this device key is already onboarded on this network (see `depin device show`)"
        }
        "MakerNotApproved" => {
            "the maker is not approved: ask the network authority to run `depin maker approve`"
        }
        "NotNetworkAuthority" => "only the network authority may do this: pass its keypair with -k",
        "InvalidH3Cell" => "the location is not a valid H3 cell",
        "WrongH3Resolution" => {
            "the cell has another resolution than the network requires (see `depin network show`)"
        }
        "MessageExpired" => "the device's signature has expired: sign a new message",
        "ExpiryTooFar" => "a device signature may be valid for at most 7 days",
        "WrongDeviceMessage" => {
            "the device signed another message: regenerate it with `depin device onboard-message`"
        }
        "WrongDeviceSigner" => "the signature is not by this device key",
        "NotDeviceHolder" => "the keypair does not hold this device's NFT",
        "FeeAccountsMissing" | "WrongFeeMint" => "the fee account is missing or in the wrong mint",
        "FeeAboveMaximum" => {
            "the network's fee is now above the maximum you accepted: check `depin network show` and pass --max-fee"
        }
        "UnsupportedMint" => {
            "the mint has a Token-2022 extension that can move, withhold or lock funds: use another mint"
        }
        "InvalidThreshold" => "the threshold must be more than half of the oracles",
        "InvalidOracleChangeDelay" => {
            "the oracle-change delay is 1 hour to 90 days and can only grow"
        }
        "NoPendingOracleChange" => "no oracle-set change is scheduled",
        "DeviceSuspended" => "the device is suspended by the network authority",
        // Reward pool.
        "EpochNotEnded" => {
            "the epoch has not ended yet: vote after its end (see `depin pool show`)"
        }
        "EpochNotNext" | "EpochAlreadyFinalized" => {
            "votes go to the pool's next epoch (see `depin pool show`)"
        }
        "NotAnOracle" => {
            "the keypair is not one of the network's oracles now (see `depin network show`)"
        }
        "TotalExceedsAvailable" => {
            "the root promises more than the pool received or scheduled: fund the pool or lower the amounts"
        }
        "TotalDecreased" => {
            "cumulative amounts never decrease: start from the last epoch's amounts"
        }
        "InvalidProof" => "the proof file is not for this pool's current root: get the latest one",
        "ClaimExceedsRootTotal" => {
            "the root's leaves promise more than its total: the oracles must vote a correct root"
        }
        "VaultInsufficient" => {
            "the pool's vault holds less than this claim: the pool needs funding"
        }
        "InvalidStartTime" => "start the pool at most one epoch in the past and 366 days ahead",
        "OracleChangeDelayTooShort" => {
            "the network's oracle-change delay must be at least one epoch: lengthen it with `depin network update --oracle-change-delay`"
        }
        // Service payments.
        "NoPrice" => "no finalized price yet: the oracles vote one with `depin oracle vote-price`",
        "PriceTooOld" => "the latest price is too old: the oracles must vote a newer one",
        "SlippageExceeded" => "the price moved: this buys fewer credits than --min-credits",
        "UsageExceedsEscrow" => "the usage is more than the credits in escrow",
        "OrderExpired" => "the order's acceptance deadline has passed",
        "OrderNotOpen" => "the order was already accepted",
        "OrderNotAccepted" => "the order is not accepted by a provider yet",
        "CancelAfterAcceptance" => {
            "a provider accepted this order: it can be cancelled after its service deadline (see `depin order show`)"
        }
        "ServiceDeadlinePassed" => {
            "the order's service deadline has passed: the customer may cancel it"
        }
        "WrongOrderInstance" => "the vote names an earlier order under this id",
        "SettlementAboveMax" => "the settlement is more than what is left in escrow",
        "EpochOutOfRange" => {
            "usage counts in a reward-pool epoch that has started and is not finalized (see `depin pool show`)"
        }
        "EpochNotFinalized" => "the epoch is not finalized in the pool yet",
        "WithdrawalNotReady" => {
            "the withdrawal's notice has not passed yet (see `depin credits balance`)"
        }
        "WithdrawalExpired" => {
            "the withdrawal request lapsed a day after its notice: request again"
        }
        "NoWithdrawalRequested" => {
            "request a withdrawal first with `depin credits withdraw-request`"
        }
        "EscrowNotControlled" | "VaultNotControlled" => {
            "someone created that token account first with a delegate or close authority: use another id"
        }
        // Anchor's own checks.
        "AccountNotInitialized" => "an account this needs does not exist yet",
        "AccountOwnedByWrongProgram" => {
            "an account given is not of the kind needed (a wallet where a mint was expected?)"
        }
        "AccountDiscriminatorMismatch" | "AccountDidNotDeserialize" => {
            "an account given is not of the kind needed"
        }
        "AccountNotSigner" => "a required signer did not sign",
        "ConstraintHasOne" | "ConstraintSeeds" | "ConstraintAddress" => {
            "an account given does not belong with the others"
        }
        "ConstraintTokenMint" => "a token account is of another mint",
        "ConstraintTokenOwner" => "a token account belongs to someone else",
        "ConstraintDuplicateMutableAccount" => "the same account was given for two roles",
        // System program.
        "AccountAlreadyInUse" => "it already exists",
        "ResultWithNegativeLamports" => {
            "not enough SOL: fund the payer (`depin airdrop 1` on a test cluster)"
        }
        // Token programs.
        "InsufficientFunds" => {
            "the paying token account holds less than the amount (see `depin token balance`)"
        }
        "OwnerMismatch" => "the token account is not the signer's",
        "MintMismatch" => "the token account is of another mint",
        "AccountFrozen" => "the token account is frozen by the mint's freeze authority",
        _ => return None,
    })
}
