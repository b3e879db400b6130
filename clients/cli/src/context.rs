//! What every command needs: the RPC client, the sender, the signer, the
//! output, and the one rule for amounts.

use crate::{
    config::{self, DepinConfig},
    error::CliError,
    output::OutputFormat,
};
use depinkit_sdk::{
    SdkError,
    device_registry::state::Network,
    pool::PoolKeys,
    reward_pool::state::Pool,
    sender::{SenderConfig, TransactionSender},
    tokens::{self, MintInfo},
};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{
    instruction::Instruction,
    message::AddressLookupTableAccount,
    pubkey::Pubkey,
    signature::{Keypair, Signature, Signer},
};
use std::{path::PathBuf, sync::Arc};

/// The global flags, as every command reads them.
#[derive(Clone, Debug, Default)]
pub struct Globals {
    /// `-u/--url`.
    pub url: Option<String>,
    /// `-k/--keypair`.
    pub keypair: Option<String>,
    /// `--output`.
    pub output: OutputFormat,
    /// `--network`.
    pub network: Option<String>,
    /// `-y`.
    pub yes: bool,
    /// `--base-units`.
    pub base_units: bool,
}

/// The command context.
pub struct Context {
    /// The RPC client.
    pub rpc: Arc<RpcClient>,
    /// Sends transactions.
    pub sender: TransactionSender,
    /// Output format.
    pub output: OutputFormat,
    /// The cluster's URL (monikers resolved).
    pub url: String,
    /// `--network` as given.
    pub network: Option<String>,
    /// `-y`.
    pub yes: bool,
    /// Typed amounts are base units (`--base-units`), not whole tokens.
    pub base_units: bool,
    keypair_flag: Option<String>,
}

impl Context {
    /// Builds the context from the global flags; a malformed URL is bad input.
    pub fn new(globals: &Globals) -> Result<Self, CliError> {
        let url = config::url(globals.url.as_deref())?.value;
        // Everything is read at the commitment transactions are confirmed at,
        // so a listing right after a transaction sees it.
        let rpc = Arc::new(RpcClient::new_with_commitment(
            url.clone(),
            CommitmentConfig::confirmed(),
        ));
        Ok(Self {
            sender: TransactionSender::new(rpc.clone(), SenderConfig::default()),
            rpc,
            output: globals.output,
            url,
            network: globals.network.clone(),
            yes: globals.yes,
            base_units: globals.base_units,
            keypair_flag: globals.keypair.clone(),
        })
    }

    /// Asks `question` on the terminal unless `-y` was given; refuses in a
    /// script (no terminal) without `-y`.
    pub fn confirm(&self, question: &str) -> Result<(), CliError> {
        use std::io::{BufRead, IsTerminal, Write};
        if self.yes {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Input(format!(
                "{question} Pass -y to confirm without a terminal"
            )));
        }
        print!("{question} [y/N] ");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if matches!(answer.trim(), "y" | "Y" | "yes") {
            Ok(())
        } else {
            Err(CliError::Input("cancelled".into()))
        }
    }

    /// The path of the signing keypair (`-k`, else the configured one).
    pub fn keypair_path(&self) -> Result<PathBuf, CliError> {
        Ok(PathBuf::from(
            config::keypair_path(self.keypair_flag.as_deref())?.value,
        ))
    }

    /// The signing keypair (`-k`, else the configured one).
    pub fn keypair(&self) -> Result<Keypair, CliError> {
        config::read_keypair(&self.keypair_path()?)
    }

    /// Whether the cluster is mainnet (no test tokens, no airdrops there).
    pub fn is_mainnet(&self) -> bool {
        config::is_mainnet(&self.url)
    }

    /// The network named by `--network`.
    pub fn network(&self) -> Result<Pubkey, CliError> {
        let value = self.network.as_deref().ok_or_else(|| {
            CliError::Input("this command needs --network ADDRESS_OR_NAME".into())
        })?;
        DepinConfig::load()?.resolve_network(value)
    }

    /// The network named by `--network`, with its account.
    pub async fn network_account(&self) -> Result<(Pubkey, Network), CliError> {
        let address = self.network()?;
        match depinkit_sdk::accounts::fetch::<Network>(&self.rpc, &address).await {
            Ok(network) => Ok((address, network)),
            Err(SdkError::AccountNotFound(_)) => Err(CliError::Input(format!(
                "no network at {address} on {}: create one with `depin network create`, or check --url",
                self.url
            ))),
            Err(SdkError::Decode(..)) => Err(CliError::Input(format!(
                "{address} is not a depinkit network"
            ))),
            Err(other) => Err(self.rpc_error(other)),
        }
    }

    /// The network's pool keys and reward mint (the pool may not exist yet).
    pub async fn pool_keys(&self) -> Result<(Pubkey, Network, PoolKeys, MintInfo), CliError> {
        let (network, record) = self.network_account().await?;
        let mint = self.mint(&record.reward_mint).await?;
        let keys = PoolKeys::new(&network, &mint.address, &mint.token_program);
        Ok((network, record, keys, mint))
    }

    /// The network's pool account, with a clear error when it has none.
    pub async fn pool(&self, keys: &PoolKeys) -> Result<Pool, CliError> {
        depinkit_sdk::accounts::fetch_optional::<Pool>(&self.rpc, &keys.pool)
            .await
            .map_err(|e| self.rpc_error(e))?
            .ok_or_else(|| {
                CliError::Input(
                    "the network has no reward pool yet: its authority opens one with `depin pool create`"
                        .into(),
                )
            })
    }

    /// The network's payment settings (at `config`, the payments PDA), with a
    /// clear error when its authority has not set them up.
    pub async fn payments_config(
        &self,
        config: &Pubkey,
    ) -> Result<service_payments::state::PaymentsConfig, CliError> {
        depinkit_sdk::accounts::fetch_optional(&self.rpc, config)
            .await
            .map_err(|e| self.rpc_error(e))?
            .ok_or_else(|| {
                CliError::Input(
                    "payments are not set up on this network: its authority runs `depin payments init`"
                        .into(),
                )
            })
    }

    /// A mint as people read it; a clear error when the address is not a mint.
    pub async fn mint(&self, mint: &Pubkey) -> Result<MintInfo, CliError> {
        match tokens::mint_info(&self.rpc, mint).await {
            Ok(info) => Ok(info),
            Err(SdkError::AccountNotFound(_)) => Err(CliError::Input(format!(
                "no token mint at {mint} on {} (create a test token with `depin token create`)",
                self.url
            ))),
            Err(SdkError::Decode(..)) => Err(CliError::Input(format!(
                "{mint} is not a token mint (is it a wallet?)"
            ))),
            Err(other) => Err(self.rpc_error(other)),
        }
    }

    /// An amount typed for `flag` in `mint`: whole tokens ("1.5"), or base
    /// units with `--base-units`.
    pub fn amount(&self, text: &str, mint: &MintInfo, flag: &str) -> Result<u64, CliError> {
        let parsed = if self.base_units {
            text.trim()
                .parse::<u64>()
                .map_err(|_| format!("{text:?} is not a whole number of base units"))
        } else {
            mint.parse_ui(text)
        };
        parsed.map_err(|why| CliError::Input(format!("{flag}: {why}")))
    }

    /// An SDK error in the words of the CLI, naming the cluster when it cannot
    /// be reached.
    pub fn rpc_error(&self, error: SdkError) -> CliError {
        match error {
            SdkError::Rpc(_) => CliError::Rpc(format!(
                "cannot reach the cluster at {}: {error} (is it running? `depin localnet` starts one)",
                self.url
            )),
            other => CliError::from(other),
        }
    }

    /// Sends `instructions` paid by `payer`, signed also by `signers`.
    pub async fn send(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<Signature, CliError> {
        self.send_with_lookup_tables(instructions, payer, signers, &[])
            .await
    }

    /// [`Context::send`] as a v0 transaction using `tables` (legacy when empty).
    pub async fn send_with_lookup_tables(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
        tables: &[AddressLookupTableAccount],
    ) -> Result<Signature, CliError> {
        let mut all: Vec<&dyn Signer> = vec![payer];
        for signer in signers {
            if signer.pubkey() != payer.pubkey() {
                all.push(*signer);
            }
        }
        let cannot_pay = || {
            CliError::Transaction(format!(
                "{} cannot pay for this transaction: fund it (`depin airdrop 1` on a local or test cluster)",
                payer.pubkey()
            ))
        };
        let sent = self
            .sender
            .send_with_lookup_tables(instructions, &payer.pubkey(), &all, tables)
            .await
            .map_err(|e| match e {
                SdkError::Rpc(ref inner) if inner.to_string().contains("insufficient") => {
                    cannot_pay()
                }
                SdkError::Transaction(
                    solana_sdk::transaction::TransactionError::InsufficientFundsForFee
                    | solana_sdk::transaction::TransactionError::AccountNotFound,
                ) => cannot_pay(),
                other => self.rpc_error(other),
            })?;
        Ok(sent.signature)
    }

    /// The cluster's unix time (the clock sysvar), for message expiries.
    pub async fn chain_time(&self) -> Result<i64, CliError> {
        depinkit_sdk::accounts::chain_time(&self.rpc)
            .await
            .map_err(|e| self.rpc_error(e))
    }

    /// Token balance of `account` in base units (0 if it does not exist).
    pub async fn token_balance(&self, account: &Pubkey) -> Result<u64, CliError> {
        Ok(tokens::balance(&self.rpc, account)
            .await
            .map_err(|e| self.rpc_error(e))?
            .unwrap_or(0))
    }

    /// Whether an account exists.
    pub async fn exists(&self, address: &Pubkey) -> Result<bool, CliError> {
        Ok(self
            .rpc
            .get_account_with_commitment(address, self.rpc.commitment())
            .await
            .map_err(|e| self.rpc_error(e.into()))?
            .value
            .is_some())
    }
}
