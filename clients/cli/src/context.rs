//! What every command needs: the RPC client, the sender, the signer, the output.

use crate::{
    config::{self, DepinConfig},
    error::CliError,
    output::OutputFormat,
};
use depinkit_sdk::{
    SdkError,
    sender::{SenderConfig, TransactionSender},
};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signature, Signer},
};
use std::sync::Arc;

/// The command context.
pub struct Context {
    /// The RPC client.
    pub rpc: Arc<RpcClient>,
    /// Sends transactions.
    pub sender: TransactionSender,
    /// Output format.
    pub output: OutputFormat,
    /// `--network` as given.
    pub network: Option<String>,
    /// `-y`.
    pub yes: bool,
    keypair_flag: Option<String>,
}

impl Context {
    /// Builds the context from the global flags.
    pub fn new(
        url: Option<&str>,
        keypair: Option<&str>,
        output: OutputFormat,
        network: Option<String>,
        yes: bool,
    ) -> Self {
        let rpc = Arc::new(RpcClient::new_with_commitment(
            config::url(url),
            CommitmentConfig::confirmed(),
        ));
        Self {
            sender: TransactionSender::new(rpc.clone(), SenderConfig::default()),
            rpc,
            output,
            network,
            yes,
            keypair_flag: keypair.map(str::to_string),
        }
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

    /// The signing keypair (`-k`, else the solana CLI's).
    pub fn keypair(&self) -> Result<Keypair, CliError> {
        config::read_keypair(&config::keypair_path(self.keypair_flag.as_deref()))
    }

    /// The network named by `--network`.
    pub fn network(&self) -> Result<Pubkey, CliError> {
        let value = self.network.as_deref().ok_or_else(|| {
            CliError::Input("this command needs --network ADDRESS_OR_NAME".into())
        })?;
        DepinConfig::load()?.resolve_network(value)
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
        tables: &[solana_sdk::message::AddressLookupTableAccount],
    ) -> Result<Signature, CliError> {
        let mut all: Vec<&dyn Signer> = vec![payer];
        for signer in signers {
            if signer.pubkey() != payer.pubkey() {
                all.push(*signer);
            }
        }
        let sent = self
            .sender
            .send_with_lookup_tables(instructions, &payer.pubkey(), &all, tables)
            .await
            .map_err(|e| match e {
                SdkError::Rpc(ref inner) if inner.to_string().contains("insufficient") => CliError::Transaction(format!(
                    "{} cannot pay for this transaction: fund it (e.g. `solana airdrop 1 {}` on a local or test cluster)",
                    payer.pubkey(),
                    payer.pubkey()
                )),
                SdkError::Transaction(solana_sdk::transaction::TransactionError::InsufficientFundsForFee)
                | SdkError::Transaction(solana_sdk::transaction::TransactionError::AccountNotFound) => {
                    CliError::Transaction(format!(
                        "{} cannot pay for this transaction: fund it (e.g. `solana airdrop 1 {}` on a local or test cluster)",
                        payer.pubkey(),
                        payer.pubkey()
                    ))
                }
                other => CliError::from(other),
            })?;
        Ok(sent.signature)
    }
}

impl Context {
    /// The cluster's unix time (the clock sysvar), for message expiries.
    pub async fn chain_time(&self) -> Result<i64, CliError> {
        Ok(depinkit_sdk::accounts::chain_time(&self.rpc).await?)
    }
}

impl Context {
    /// The token program owning `mint`.
    pub async fn token_program_of(&self, mint: &Pubkey) -> Result<Pubkey, CliError> {
        self.rpc
            .get_account(mint)
            .await
            .map(|account| account.owner)
            .map_err(|e| CliError::Input(format!("cannot read mint {mint}: {e}")))
    }

    /// The network named by `--network`, with its account.
    pub async fn network_account(
        &self,
    ) -> Result<(Pubkey, depinkit_sdk::device_registry::state::Network), CliError> {
        let address = self.network()?;
        let network = depinkit_sdk::accounts::fetch(&self.rpc, &address).await?;
        Ok((address, network))
    }

    /// Token balance of `account` in base units (0 if it does not exist).
    pub async fn token_balance(&self, account: &Pubkey) -> u64 {
        self.rpc
            .get_token_account_balance(account)
            .await
            .ok()
            .and_then(|b| b.amount.parse().ok())
            .unwrap_or(0)
    }
}
