//! A bank with the depinkit programs and the helpers tests need around it.

use crate::programs::add_depinkit_programs;
use anchor_lang::{AccountDeserialize, solana_program::system_instruction};
use depinkit_sdk::events::DepinEvent;
use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::{
    clock::Clock,
    instruction::{Instruction, InstructionError},
    program_pack::Pack,
    pubkey::Pubkey,
    rent::Rent,
    signature::{Keypair, Signer},
    transaction::{Transaction, TransactionError},
};

/// Lamports a funded wallet starts with (100 SOL).
pub const WALLET_LAMPORTS: u64 = 100_000_000_000;

/// A running bank with the depinkit programs loaded.
pub struct Harness {
    /// The program-test context (bank client, payer, sysvar access).
    pub ctx: ProgramTestContext,
}

/// The program id of Token-2022.
pub fn token_2022_id() -> Pubkey {
    anchor_spl::token_2022::ID
}

/// The program id of SPL Token.
pub fn token_id() -> Pubkey {
    anchor_spl::token::ID
}

impl Harness {
    /// Starts a bank with every depinkit program.
    pub async fn start() -> Self {
        let mut program_test = ProgramTest::default();
        program_test.prefer_bpf(false);
        add_depinkit_programs(&mut program_test);
        Self {
            ctx: program_test.start_with_context().await,
        }
    }

    /// The fee payer of every transaction this harness sends.
    pub fn payer(&self) -> &Keypair {
        &self.ctx.payer
    }

    /// Sends `instructions` in one transaction paid by the harness payer and
    /// signed also by `signers`.
    pub async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), BanksClientError> {
        let blockhash = self.ctx.get_new_latest_blockhash().await?;
        let mut all: Vec<&Keypair> = vec![&self.ctx.payer];
        all.extend(
            signers
                .iter()
                .filter(|s| s.pubkey() != self.ctx.payer.pubkey()),
        );
        let tx = Transaction::new_signed_with_payer(
            instructions,
            Some(&self.ctx.payer.pubkey()),
            &all,
            blockhash,
        );
        self.ctx.banks_client.process_transaction(tx).await
    }

    /// Sends like [`Harness::send`] and returns the depinkit events the
    /// transaction emitted, in order. The events are read from a simulation of
    /// the very transaction that is then processed (natively, program-test
    /// returns inner instructions only from simulations).
    pub async fn send_events(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Vec<DepinEvent>, BanksClientError> {
        let blockhash = self.ctx.get_new_latest_blockhash().await?;
        let mut all: Vec<&Keypair> = vec![&self.ctx.payer];
        all.extend(
            signers
                .iter()
                .filter(|s| s.pubkey() != self.ctx.payer.pubkey()),
        );
        let tx = Transaction::new_signed_with_payer(
            instructions,
            Some(&self.ctx.payer.pubkey()),
            &all,
            blockhash,
        );
        let simulation = self
            .ctx
            .banks_client
            .simulate_transaction(tx.clone())
            .await?;
        let keys = &tx.message.account_keys;
        let events = simulation
            .simulation_details
            .and_then(|details| details.inner_instructions)
            .unwrap_or_default()
            .iter()
            .flatten()
            .filter_map(|inner| {
                let program = keys.get(usize::from(inner.instruction.program_id_index))?;
                depinkit_sdk::events::decode(program, &inner.instruction.data)
            })
            .collect();
        self.ctx.banks_client.process_transaction(tx).await?;
        Ok(events)
    }

    /// A new wallet holding [`WALLET_LAMPORTS`].
    pub async fn funded_wallet(&mut self) -> Keypair {
        let wallet = Keypair::new();
        let ix = system_instruction::transfer(
            &self.ctx.payer.pubkey(),
            &wallet.pubkey(),
            WALLET_LAMPORTS,
        );
        self.send(&[ix], &[]).await.expect("fund wallet");
        wallet
    }

    /// Creates a mint under `token_program` (SPL Token or Token-2022).
    pub async fn create_mint(
        &mut self,
        token_program: &Pubkey,
        authority: &Pubkey,
        decimals: u8,
    ) -> Pubkey {
        let mint = Keypair::new();
        let len = spl_token_2022_interface::state::Mint::LEN;
        let rent = self.rent().await.minimum_balance(len);
        let ixs = [
            system_instruction::create_account(
                &self.ctx.payer.pubkey(),
                &mint.pubkey(),
                rent,
                len as u64,
                token_program,
            ),
            spl_token_2022_interface::instruction::initialize_mint2(
                token_program,
                &mint.pubkey(),
                authority,
                None,
                decimals,
            )
            .expect("mint instruction"),
        ];
        self.send(&ixs, &[&mint]).await.expect("create mint");
        mint.pubkey()
    }

    /// Creates a Token-2022 mint carrying `extensions`, with `authority` as mint
    /// authority (and freeze authority, which a frozen default state needs).
    pub async fn create_mint_2022(
        &mut self,
        authority: &Pubkey,
        decimals: u8,
        extensions: &[MintExtension],
    ) -> Pubkey {
        use spl_token_2022_interface::{
            extension::{
                ExtensionType, default_account_state, metadata_pointer, transfer_fee, transfer_hook,
            },
            instruction as token_ix,
            state::AccountState,
        };
        let program = token_2022_id();
        let mint = Keypair::new();
        let key = mint.pubkey();
        let types: Vec<ExtensionType> = extensions.iter().map(|e| e.extension_type()).collect();
        let len =
            ExtensionType::try_calculate_account_len::<spl_token_2022_interface::state::Mint>(
                &types,
            )
            .expect("mint length");
        let rent = self.rent().await.minimum_balance(len);
        let mut ixs = vec![system_instruction::create_account(
            &self.ctx.payer.pubkey(),
            &key,
            rent,
            len as u64,
            &program,
        )];
        for extension in extensions {
            ixs.push(
                match extension {
                    MintExtension::MetadataPointer => {
                        metadata_pointer::instruction::initialize(&program, &key, None, Some(key))
                    }
                    MintExtension::PermanentDelegate => {
                        token_ix::initialize_permanent_delegate(&program, &key, authority)
                    }
                    MintExtension::TransferFee => {
                        transfer_fee::instruction::initialize_transfer_fee_config(
                            &program,
                            &key,
                            Some(authority),
                            Some(authority),
                            100,
                            u64::MAX,
                        )
                    }
                    MintExtension::TransferHook => transfer_hook::instruction::initialize(
                        &program,
                        &key,
                        Some(*authority),
                        None,
                    ),
                    MintExtension::DefaultFrozen => {
                        default_account_state::instruction::initialize_default_account_state(
                            &program,
                            &key,
                            &AccountState::Frozen,
                        )
                    }
                    MintExtension::MintCloseAuthority => {
                        token_ix::initialize_mint_close_authority(&program, &key, Some(authority))
                    }
                    MintExtension::NonTransferable => {
                        token_ix::initialize_non_transferable_mint(&program, &key)
                    }
                }
                .expect("extension instruction"),
            );
        }
        ixs.push(
            token_ix::initialize_mint2(&program, &key, authority, Some(authority), decimals)
                .expect("mint instruction"),
        );
        self.send(&ixs, &[&mint]).await.expect("create mint");
        key
    }

    /// Creates (if needed) `owner`'s associated token account for `mint`.
    pub async fn create_ata(
        &mut self,
        owner: &Pubkey,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Pubkey {
        let ix = spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
            &self.ctx.payer.pubkey(),
            owner,
            mint,
            token_program,
        );
        self.send(&[ix], &[]).await.expect("create ata");
        ata(owner, mint, token_program)
    }

    /// Creates a token account for `mint` owned by `owner` at a fresh address (not
    /// the associated one).
    pub async fn create_token_account(
        &mut self,
        owner: &Pubkey,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Pubkey {
        let account = Keypair::new();
        let len = spl_token_2022_interface::state::Account::LEN;
        let rent = self.rent().await.minimum_balance(len);
        let ixs = [
            system_instruction::create_account(
                &self.ctx.payer.pubkey(),
                &account.pubkey(),
                rent,
                len as u64,
                token_program,
            ),
            spl_token_2022_interface::instruction::initialize_account3(
                token_program,
                &account.pubkey(),
                mint,
                owner,
            )
            .expect("account instruction"),
        ];
        self.send(&ixs, &[&account])
            .await
            .expect("create token account");
        account.pubkey()
    }

    /// Mints `amount` of `mint` to `to`, signed by the mint authority.
    pub async fn mint_to(
        &mut self,
        token_program: &Pubkey,
        mint: &Pubkey,
        to: &Pubkey,
        authority: &Keypair,
        amount: u64,
    ) {
        let ix = spl_token_2022_interface::instruction::mint_to(
            token_program,
            mint,
            to,
            &authority.pubkey(),
            &[],
            amount,
        )
        .expect("mint_to instruction");
        self.send(&[ix], &[authority]).await.expect("mint to");
    }

    /// Moves a device NFT (a Token-2022 mint with decimals 0) from `holder`'s
    /// associated token account to `to`'s, creating the latter; returns it.
    pub async fn transfer_nft(&mut self, mint: &Pubkey, holder: &Keypair, to: &Pubkey) -> Pubkey {
        let token_program = token_2022_id();
        let destination = self.create_ata(to, mint, &token_program).await;
        let ix = spl_token_2022_interface::instruction::transfer_checked(
            &token_program,
            &ata(&holder.pubkey(), mint, &token_program),
            mint,
            &destination,
            &holder.pubkey(),
            &[],
            1,
            0,
        )
        .expect("transfer instruction");
        self.send(&[ix], &[holder]).await.expect("transfer NFT");
        destination
    }

    /// Token amount held by a token account (SPL Token or Token-2022).
    pub async fn token_balance(&mut self, account: &Pubkey) -> u64 {
        let data = self
            .account_data(account)
            .await
            .expect("token account exists");
        spl_token_2022_interface::state::Account::unpack_from_slice(&data[..165])
            .expect("token account")
            .amount
    }

    /// Raw data of an account, `None` if it does not exist.
    pub async fn account_data(&mut self, address: &Pubkey) -> Option<Vec<u8>> {
        self.ctx
            .banks_client
            .get_account(*address)
            .await
            .expect("bank")
            .map(|a| a.data)
    }

    /// Lamports of an account (0 if it does not exist).
    pub async fn lamports(&mut self, address: &Pubkey) -> u64 {
        self.ctx
            .banks_client
            .get_account(*address)
            .await
            .expect("bank")
            .map_or(0, |a| a.lamports)
    }

    /// Decodes an Anchor account (checks its discriminator).
    pub async fn anchor_account<T: AccountDeserialize>(&mut self, address: &Pubkey) -> T {
        let data = self.account_data(address).await.expect("account exists");
        T::try_deserialize(&mut data.as_slice()).expect("decode account")
    }

    /// The bank's rent sysvar.
    pub async fn rent(&mut self) -> Rent {
        self.ctx.banks_client.get_rent().await.expect("rent")
    }

    /// The bank's clock.
    pub async fn clock(&mut self) -> Clock {
        self.ctx
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .expect("clock")
    }

    /// The most recent slot in the bank's `SlotHashes` sysvar: what an address
    /// lookup table's creation must name.
    pub async fn recent_slot(&mut self) -> u64 {
        let data = self
            .account_data(&solana_sdk::sysvar::slot_hashes::ID)
            .await
            .expect("slot hashes");
        // A u64 count, then (slot u64, hash) entries, newest first.
        u64::from_le_bytes(data[8..16].try_into().expect("first slot"))
    }

    /// Moves the clock forward by `seconds` (and the bank by one slot), so that
    /// time-bound checks can be tested without waiting.
    pub async fn warp_seconds(&mut self, seconds: i64) {
        let before = self.clock().await;
        self.ctx.warp_to_slot(before.slot + 1).expect("warp");
        let mut clock = self.clock().await;
        clock.unix_timestamp = before.unix_timestamp + seconds;
        self.ctx.set_sysvar(&clock);
    }
}

pub use depinkit_sdk::{anchor_ix, ata};

/// A Token-2022 mint extension [`Harness::create_mint_2022`] can give a mint:
/// one descriptive extension, and the ones that can move, withhold or lock funds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MintExtension {
    /// Metadata pointer (descriptive, accepted everywhere).
    MetadataPointer,
    /// A permanent delegate (the mint authority) that can move any balance.
    PermanentDelegate,
    /// A 1 % transfer fee.
    TransferFee,
    /// A transfer hook (no program yet; its authority can set one).
    TransferHook,
    /// New token accounts start frozen.
    DefaultFrozen,
    /// The mint can be closed and re-created with other extensions.
    MintCloseAuthority,
    /// Tokens cannot be transferred at all.
    NonTransferable,
}

impl MintExtension {
    /// Every extension that must be refused for money a program holds or moves.
    pub const UNSAFE: [MintExtension; 6] = [
        MintExtension::PermanentDelegate,
        MintExtension::TransferFee,
        MintExtension::TransferHook,
        MintExtension::DefaultFrozen,
        MintExtension::MintCloseAuthority,
        MintExtension::NonTransferable,
    ];

    fn extension_type(self) -> spl_token_2022_interface::extension::ExtensionType {
        use spl_token_2022_interface::extension::ExtensionType;
        match self {
            MintExtension::MetadataPointer => ExtensionType::MetadataPointer,
            MintExtension::PermanentDelegate => ExtensionType::PermanentDelegate,
            MintExtension::TransferFee => ExtensionType::TransferFeeConfig,
            MintExtension::TransferHook => ExtensionType::TransferHook,
            MintExtension::DefaultFrozen => ExtensionType::DefaultAccountState,
            MintExtension::MintCloseAuthority => ExtensionType::MintCloseAuthority,
            MintExtension::NonTransferable => ExtensionType::NonTransferable,
        }
    }
}

/// The custom error code a failed transaction ended with, if any.
pub fn custom_error(result: &Result<(), BanksClientError>) -> Option<u32> {
    let err = match result {
        Ok(()) => return None,
        Err(BanksClientError::TransactionError(err)) => err,
        Err(BanksClientError::SimulationError { err, .. }) => err,
        Err(_) => return None,
    };
    match err {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
        _ => None,
    }
}

/// Asserts that `result` failed with the Anchor error `expected` (an error enum
/// value of a program or an `anchor_lang::error::ErrorCode`).
#[track_caller]
pub fn assert_anchor_error(result: &Result<(), BanksClientError>, expected: impl Into<u32>) {
    let expected = expected.into();
    assert_eq!(
        custom_error(result),
        Some(expected),
        "expected custom error {expected}, got {result:?}"
    );
}
