//! The SDK's builders and sender against the localnet, through the real
//! `solana-rpc-client` and `solana-pubsub-client`: every depinkit instruction
//! over JSON-RPC, standard RPC error codes, a program error decoded by name,
//! events read back from a transaction, and a confirmation through websocket
//! `signatureSubscribe`. Each test runs on a localnet of its own.

use depinkit_localnet::{Localnet, LocalnetConfig, time_travel};
use depinkit_sdk::{
    SdkError, accounts,
    payments::{self, OrderKeys, PaymentsKeys, ProviderPayee},
    pool::{self, ClaimAccounts, ClaimSetup, PoolKeys},
    registry::{self, FeePayment},
    sender::{SenderConfig, TransactionSender},
};
use device_registry::{
    instructions::{CreateNetworkArgs, UpdateNetworkArgs},
    pda,
    state::{Category, Device, DeviceStatus, Fee, MakerStatus, Network},
};
use futures_util::StreamExt;
use h3o::{LatLng, Resolution};
use reward_pool::{
    instructions::CreatePoolArgs,
    merkle::RewardTree,
    state::{EmissionSchedule, FundingKind, Pool},
};
use service_payments::{
    instructions::{
        BurnUsageArgs, InitPaymentsArgs, OpenOrderArgs, VotePriceArgs, VoteSettlementArgs,
    },
    state::{PaymentsConfig, Provider},
};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::{client_error::ErrorKind, request::RpcError, request::RpcRequest};
use solana_sdk::{
    instruction::Instruction,
    program_pack::Pack,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
    transaction::Transaction,
};
use std::{sync::Arc, time::Duration};

pub(crate) const SPL_TOKEN: Pubkey = anchor_spl::token::ID;

pub(crate) fn cell(lat: f64, lng: f64) -> u64 {
    u64::from(LatLng::new(lat, lng).unwrap().to_cell(Resolution::Twelve))
}

pub(crate) struct Chain {
    pub(crate) rpc: Arc<RpcClient>,
    pub(crate) sender: TransactionSender,
    pub(crate) payer: Keypair,
}

impl Chain {
    pub(crate) async fn send(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), SdkError> {
        self.send_signed(instructions, signers).await.map(|_| ())
    }

    /// Sends and returns the confirmed transaction's signature.
    pub(crate) async fn send_signed(
        &self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<solana_sdk::signature::Signature, SdkError> {
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend(signers.iter().filter(|s| s.pubkey() != self.payer.pubkey()));
        self.sender
            .send(instructions, &self.payer.pubkey(), &all)
            .await
            .map(|sent| sent.signature)
    }

    pub(crate) async fn create_mint(&self, decimals: u8) -> Pubkey {
        let mint = Keypair::new();
        let len = spl_token_2022_interface::state::Mint::LEN;
        let rent = self
            .rpc
            .get_minimum_balance_for_rent_exemption(len)
            .await
            .unwrap();
        let ixs = [
            anchor_lang::solana_program::system_instruction::create_account(
                &self.payer.pubkey(),
                &mint.pubkey(),
                rent,
                len as u64,
                &SPL_TOKEN,
            ),
            spl_token_2022_interface::instruction::initialize_mint2(
                &SPL_TOKEN,
                &mint.pubkey(),
                &self.payer.pubkey(),
                None,
                decimals,
            )
            .unwrap(),
        ];
        self.send(&ixs, &[&mint]).await.expect("create mint");
        mint.pubkey()
    }

    /// `owner`'s ATA for `mint`, created, holding `amount` (minted by the payer).
    pub(crate) async fn fund_tokens(&self, owner: &Pubkey, mint: &Pubkey, amount: u64) -> Pubkey {
        let account = depinkit_sdk::ata(owner, mint, &SPL_TOKEN);
        let mut ixs = vec![
            spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                &self.payer.pubkey(),
                owner,
                mint,
                &SPL_TOKEN,
            ),
        ];
        if amount > 0 {
            ixs.push(
                spl_token_2022_interface::instruction::mint_to(
                    &SPL_TOKEN,
                    mint,
                    &account,
                    &self.payer.pubkey(),
                    &[],
                    amount,
                )
                .unwrap(),
            );
        }
        self.send(&ixs, &[]).await.expect("fund tokens");
        account
    }

    pub(crate) async fn balance(&self, account: &Pubkey) -> u64 {
        self.rpc
            .get_token_account_balance(account)
            .await
            .expect("token balance")
            .amount
            .parse()
            .unwrap()
    }

    pub(crate) async fn wallet(&self) -> Keypair {
        let wallet = Keypair::new();
        let ix = anchor_lang::solana_program::system_instruction::transfer(
            &self.payer.pubkey(),
            &wallet.pubkey(),
            10_000_000_000,
        );
        self.send(&[ix], &[]).await.expect("fund wallet");
        wallet
    }
}

/// Starts a localnet of its own on free ports (loading `account_files`), runs
/// `test` with a client on it, and shuts it down: each test has its own chain,
/// so tests that move the clock cannot disturb each other.
pub(crate) fn on_localnet<F, Fut>(account_files: Vec<std::path::PathBuf>, test: F)
where
    F: FnOnce(Chain, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let port = depinkit_localnet::free_port_pair();
    let dir = std::env::temp_dir().join(format!(
        "depinkit-localnet-test-{}-{port}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let localnet = Localnet::start(LocalnetConfig {
        bind: ([127, 0, 0, 1], port).into(),
        keypair_path: dir.join("payer.json"),
        account_files,
        ..LocalnetConfig::default()
    })
    .expect("localnet starts");
    assert!(localnet.keypair_path.exists());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let rpc = Arc::new(RpcClient::new_with_commitment(
        localnet.rpc_url.clone(),
        CommitmentConfig::confirmed(),
    ));
    let sender = TransactionSender::new(
        rpc.clone(),
        SenderConfig {
            rebroadcast_interval: Duration::from_millis(200),
            ..SenderConfig::default()
        },
    );
    let chain = Chain {
        rpc,
        sender,
        payer: localnet.payer.insecure_clone(),
    };
    runtime.block_on(test(chain, localnet.ws_url.clone()));
    localnet.shutdown();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn accounts_saved_as_json_load_at_start() {
    // A prepared account, in the `solana account --output json` format.
    let prepared = Pubkey::new_unique();
    let prepared_owner = Pubkey::new_unique();
    let account_file = std::env::temp_dir().join(format!("depinkit-prepared-{prepared}.json"));
    std::fs::write(
        &account_file,
        format!(
            r#"{{"pubkey":"{prepared}","account":{{"lamports":5000000,"data":["3q2+7w==","base64"],"owner":"{prepared_owner}","executable":false,"rentEpoch":0,"space":4}}}}"#
        ),
    )
    .unwrap();
    on_localnet(vec![account_file.clone()], |chain, _| async move {
        let loaded = chain
            .rpc
            .get_account(&prepared)
            .await
            .expect("prepared account");
        assert_eq!(loaded.data, vec![0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(loaded.owner, prepared_owner);
    });
    let _ = std::fs::remove_file(account_file);
}

#[test]
fn standard_rpc_methods_and_error_codes() {
    on_localnet(Vec::new(), |chain, _| async move {
        standard_rpc(&chain).await;
    });
}

#[test]
fn registry_instructions_over_rpc() {
    on_localnet(Vec::new(), |chain, _| async move {
        let world = world(&chain).await;
        registry_flow(&chain, &world).await;
    });
}

#[test]
fn events_read_back_from_a_transaction_over_rpc() {
    on_localnet(Vec::new(), |chain, _| async move {
        let world = world(&chain).await;
        let events = depinkit_sdk::events::events_of_transaction(&chain.rpc, &world.onboarded)
            .await
            .expect("getTransaction")
            .expect("the node has the confirmed transaction");
        match events.as_slice() {
            [depinkit_sdk::events::DepinEvent::DeviceOnboarded(onboarded)] => {
                assert_eq!(onboarded.device, world.device);
                assert_eq!(onboarded.owner, world.holder.pubkey());
                assert_eq!(onboarded.fee_paid, 1_010);
            }
            other => panic!("expected DeviceOnboarded, got {other:?}"),
        }
        let unknown = solana_sdk::signature::Signature::from([7; 64]);
        assert_eq!(
            depinkit_sdk::events::events_of_transaction(&chain.rpc, &unknown)
                .await
                .expect("getTransaction answers null"),
            None
        );
    });
}

#[test]
fn pool_instructions_over_rpc() {
    on_localnet(Vec::new(), |chain, _| async move {
        let world = world(&chain).await;
        pool_flow(&chain, &world).await;
    });
}

#[test]
fn payments_instructions_over_rpc() {
    on_localnet(Vec::new(), |chain, _| async move {
        let world = world(&chain).await;
        // Usage is counted in reward-pool epochs: a pool with epoch 0 final.
        pool_flow(&chain, &world).await;
        payments_flow(&chain, &world).await;
    });
}

#[test]
fn a_confirmation_over_websocket() {
    on_localnet(Vec::new(), |chain, ws_url| async move {
        websocket_confirmation(&chain, &ws_url).await;
    });
}

async fn standard_rpc(chain: &Chain) {
    let rpc = &chain.rpc;
    assert!(rpc.get_version().await.is_ok());
    rpc.get_health().await.expect("healthy");
    assert!(rpc.get_slot().await.unwrap() > 0);
    assert!(rpc.get_balance(&chain.payer.pubkey()).await.unwrap() > 0);
    // An unknown method: -32601.
    let unknown = rpc
        .send::<serde_json::Value>(
            RpcRequest::Custom {
                method: "depinkitNope",
            },
            serde_json::json!([]),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            unknown.kind(),
            ErrorKind::RpcError(RpcError::RpcResponseError { code: -32601, .. })
        ),
        "{unknown:?}"
    );
    // Bad params: -32602.
    let bad = rpc
        .send::<serde_json::Value>(RpcRequest::GetAccountInfo, serde_json::json!(["not-a-key"]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            bad.kind(),
            ErrorKind::RpcError(RpcError::RpcResponseError { code: -32602, .. })
        ),
        "{bad:?}"
    );
}

/// What the registry flow leaves for the later flows.
pub(crate) struct World {
    pub(crate) network: Pubkey,
    pub(crate) authority: Keypair,
    pub(crate) reward_mint: Pubkey,
    pub(crate) treasury: Pubkey,
    pub(crate) oracles: Vec<Keypair>,
    pub(crate) issuing_key: Keypair,
    pub(crate) device_key: Keypair,
    pub(crate) device: Pubkey,
    pub(crate) device_mint: Pubkey,
    pub(crate) holder: Keypair,
    /// The holder's fee accounts.
    pub(crate) fees: FeePayment,
    /// The device's onboarding (proof and instruction), as sent.
    pub(crate) onboard: Vec<Instruction>,
    /// Its signature.
    pub(crate) onboarded: solana_sdk::signature::Signature,
}

/// A network (two oracles, fees), an approved maker and one onboarded device:
/// the fixture every flow starts from.
pub(crate) async fn world(chain: &Chain) -> World {
    world_with_oracles(chain, 2).await
}

/// [`world`] with `count` oracles, a strict majority of them finalizing.
pub(crate) async fn world_with_oracles(chain: &Chain, count: usize) -> World {
    world_of(chain, count, Category::Compute).await
}

/// [`world_with_oracles`] for a network of `category`.
pub(crate) async fn world_of(chain: &Chain, count: usize, category: Category) -> World {
    let rpc = &chain.rpc;
    let authority = chain.wallet().await;
    let reward_mint = chain.create_mint(6).await;
    let treasury = Pubkey::new_unique();
    chain.fund_tokens(&treasury, &reward_mint, 0).await;
    let mut oracles: Vec<Keypair> = Vec::new();
    for _ in 0..count {
        oracles.push(chain.wallet().await);
    }
    let fee = Fee {
        mint: reward_mint,
        amount: 1_000,
    };
    let args = CreateNetworkArgs {
        seed: b"rpc-net".to_vec(),
        name: "RPC Net".into(),
        symbol: "RPC".into(),
        category,
        treasury,
        onboarding_fee: fee,
        location_fee: Fee { amount: 10, ..fee },
        location_resolution: 12,
        oracles: oracles.iter().map(|o| o.pubkey()).collect(),
        threshold: (count / 2 + 1) as u8,
        oracle_change_delay_secs: 86_400,
        metadata_uri_base: "https://example.org/".into(),
    };
    let network = pda::find_network_address(&authority.pubkey(), b"rpc-net").0;
    chain
        .send(
            &[registry::create_network(
                &authority.pubkey(),
                &reward_mint,
                args,
            )],
            &[&authority],
        )
        .await
        .expect("create network");
    let issuing_key = Keypair::new();
    let maker = pda::find_maker_address(&network, &issuing_key.pubkey()).0;
    chain
        .send(
            &[registry::register_maker(
                &chain.payer.pubkey(),
                &issuing_key.pubkey(),
                &network,
                "Acme",
            )],
            &[&issuing_key],
        )
        .await
        .expect("register maker");
    chain
        .send(
            &[registry::set_maker_status(
                &authority.pubkey(),
                &network,
                &maker,
                MakerStatus::Approved,
            )],
            &[&authority],
        )
        .await
        .expect("approve maker");
    let holder = chain.wallet().await;
    chain
        .fund_tokens(&holder.pubkey(), &reward_mint, 1_000_000)
        .await;
    let fees = FeePayment::between_atas(&holder.pubkey(), &treasury, &reward_mint, &SPL_TOKEN);
    let device_key = Keypair::new();
    let expires_at = accounts::chain_time(rpc).await.unwrap() + 600;
    let onboard = registry::onboard_device_signed(
        &holder.pubkey(),
        &issuing_key.pubkey(),
        &network,
        &device_key,
        cell(40.7128, -74.006),
        expires_at,
        1_010,
        Some(fees),
    );
    let onboarded = chain
        .send_signed(&onboard, &[&holder, &issuing_key])
        .await
        .expect("onboard over RPC");
    World {
        network,
        authority,
        reward_mint,
        treasury,
        oracles,
        issuing_key,
        device: pda::find_device_address(&network, &device_key.pubkey()).0,
        device_mint: pda::find_device_mint_address(&network, &device_key.pubkey()).0,
        device_key,
        holder,
        fees,
        onboard: onboard.to_vec(),
        onboarded,
    }
}

async fn registry_flow(chain: &Chain, world: &World) {
    let rpc = &chain.rpc;
    let (network, authority) = (world.network, &world.authority);
    let update = UpdateNetworkArgs {
        name: Some("RPC Network".into()),
        ..Default::default()
    };
    chain
        .send(
            &[registry::update_network(
                &authority.pubkey(),
                &network,
                update,
                None,
            )],
            &[authority],
        )
        .await
        .expect("update network");
    // Hand the authority over and back.
    let deputy = chain.wallet().await;
    for (from, to) in [(authority, &deputy), (&deputy, authority)] {
        chain
            .send(
                &[registry::propose_network_authority(
                    &from.pubkey(),
                    &network,
                    Some(to.pubkey()),
                )],
                &[from],
            )
            .await
            .expect("propose");
        chain
            .send(
                &[registry::accept_network_authority(&to.pubkey(), &network)],
                &[to],
            )
            .await
            .expect("accept");
    }
    let record: Network = accounts::fetch(rpc, &network).await.unwrap();
    assert_eq!(record.name, "RPC Network");
    assert_eq!(record.authority, authority.pubkey());
    assert_eq!(
        accounts::makers_of_network(rpc, &network)
            .await
            .unwrap()
            .len(),
        1
    );

    // A second onboarding: refused in simulation, decoded by name.
    let (holder, issuing_key) = (&world.holder, &world.issuing_key);
    let onboard = &world.onboard;
    let again = chain
        .send(onboard, &[holder, issuing_key])
        .await
        .unwrap_err();
    match &again {
        SdkError::Program { name, program, .. } => {
            assert_eq!(name.as_deref(), Some("DeviceAlreadyOnboarded"));
            assert_eq!(*program, Some(device_registry::ID));
        }
        other => panic!("expected a program error, got {other}"),
    }
    // The same refusal at execution (no preflight): the status carries the code.
    let mut all: Vec<&Keypair> = vec![&chain.payer, holder, issuing_key];
    all.dedup_by_key(|k| k.pubkey());
    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let tx =
        Transaction::new_signed_with_payer(onboard, Some(&chain.payer.pubkey()), &all, blockhash);
    let signature = rpc
        .send_transaction_with_config(
            &tx,
            solana_rpc_client_api::config::RpcSendTransactionConfig {
                skip_preflight: true,
                ..Default::default()
            },
        )
        .await
        .expect("accepted for processing");
    let mut status = None;
    for _ in 0..50 {
        if let Some(s) = rpc
            .get_signature_statuses(&[signature])
            .await
            .unwrap()
            .value[0]
            .clone()
        {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let error = status.expect("status").err.expect("failed");
    let decoded =
        SdkError::from_transaction_error(error, &[onboard[0].program_id, device_registry::ID]);
    assert!(
        decoded.to_string().contains("DeviceAlreadyOnboarded"),
        "{decoded}"
    );

    let moved = cell(34.0522, -118.2437);
    let expires_at = accounts::chain_time(rpc).await.unwrap() + 600;
    let assert = registry::assert_location_signed(
        &holder.pubkey(),
        &network,
        &world.device_key,
        moved,
        0,
        expires_at,
        10,
        Some(world.fees),
    );
    chain
        .send(&assert, &[holder])
        .await
        .expect("assert location");
    let record: Device = accounts::fetch(rpc, &world.device).await.unwrap();
    assert_eq!(record.location, moved);
    for status in [DeviceStatus::Suspended, DeviceStatus::Active] {
        chain
            .send(
                &[registry::set_device_status(
                    &authority.pubkey(),
                    &network,
                    &world.device,
                    status,
                )],
                &[authority],
            )
            .await
            .expect("device status");
    }
    let devices = accounts::devices_of_network(rpc, &network).await.unwrap();
    assert_eq!(devices.len(), 1, "getProgramAccounts with memcmp");
    assert_eq!(devices[0].0, world.device);
}

/// A pool for `world`'s network whose epoch 0 starts now on the chain's
/// clock, funded with 100,000; its start time.
pub(crate) async fn create_funded_pool(chain: &Chain, world: &World) -> i64 {
    let keys = PoolKeys::new(&world.network, &world.reward_mint, &SPL_TOKEN);
    let start = accounts::chain_time(&chain.rpc).await.unwrap();
    chain
        .send(
            &[pool::create_pool(
                &world.authority.pubkey(),
                &world.network,
                &keys,
                CreatePoolArgs {
                    start_time: start,
                    epoch_length_secs: 3_600,
                    schedule: EmissionSchedule {
                        initial_per_epoch: 5_000,
                        decay_interval_epochs: 0,
                        retain_bps: 10_000,
                    },
                },
            )],
            &[&world.authority],
        )
        .await
        .expect("create pool");
    let funder = chain
        .fund_tokens(&chain.payer.pubkey(), &world.reward_mint, 100_000)
        .await;
    chain
        .send(
            &[pool::fund_pool(
                &chain.payer.pubkey(),
                &keys,
                &funder,
                100_000,
                FundingKind::Emissions,
            )],
            &[],
        )
        .await
        .expect("fund pool");
    start
}

async fn pool_flow(chain: &Chain, world: &World) {
    let rpc = &chain.rpc;
    let keys = PoolKeys::new(&world.network, &world.reward_mint, &SPL_TOKEN);
    let start = create_funded_pool(chain, world).await;
    // End epoch 0 by moving the clock, then two oracles agree.
    time_travel(rpc, start + 3_601).await.expect("time travel");
    assert!(accounts::chain_time(rpc).await.unwrap() >= start + 3_600);
    let tree = RewardTree::new([(world.device_mint, 1_234)]).unwrap();
    for oracle in &world.oracles {
        chain
            .send(
                &[pool::vote_epoch_root(
                    &oracle.pubkey(),
                    &world.network,
                    &keys.pool,
                    pool::epoch_root_vote(0, &tree),
                )],
                &[oracle],
            )
            .await
            .expect("vote");
    }
    let record: Pool = accounts::fetch(rpc, &keys.pool).await.unwrap();
    assert_eq!(record.root, tree.root());
    let claim_accounts = ClaimAccounts::for_holder(
        &keys,
        &world.device,
        &world.device_mint,
        &world.holder.pubkey(),
    );
    let ixs = pool::claim_with_setup(
        &chain.payer.pubkey(),
        &world.holder.pubkey(),
        &keys,
        claim_accounts,
        ClaimSetup {
            create_reward_account: false,
            create_claim_record: true,
        },
        1_234,
        tree.proof(0),
    );
    let before = chain.balance(&claim_accounts.holder_reward_account).await;
    chain.send(&ixs, &[]).await.expect("claim over RPC");
    assert_eq!(
        chain.balance(&claim_accounts.holder_reward_account).await - before,
        1_234
    );
}

/// The world's payments (credits at $0.00001, a 5% order fee, no pool
/// share), paid in the reward token; their keys.
pub(crate) async fn init_payments(chain: &Chain, world: &World) -> PaymentsKeys {
    let keys = PaymentsKeys::new(&world.network, &world.reward_mint, &SPL_TOKEN);
    let args = InitPaymentsArgs {
        credits_decimals: 0,
        credit_usd_micros: 10,
        max_price_age_secs: 3_600,
        order_fee_bps: 500,
        pool_share_bps: 0,
        withdrawal_notice_secs: 3_600,
    };
    chain
        .send(
            &[payments::init_payments(
                &world.authority.pubkey(),
                &keys,
                args,
            )],
            &[&world.authority],
        )
        .await
        .expect("init payments");
    keys
}

async fn payments_flow(chain: &Chain, world: &World) {
    let rpc = &chain.rpc;
    let keys = init_payments(chain, world).await;
    let price = VotePriceArgs {
        price: 200_000_000,
        conf: 0,
        expo: -8,
        publish_time: accounts::chain_time(rpc).await.unwrap() - 1,
    };
    for oracle in &world.oracles {
        chain
            .send(
                &[payments::vote_price(&oracle.pubkey(), &keys, price)],
                &[oracle],
            )
            .await
            .expect("price vote");
    }
    let config: PaymentsConfig = accounts::fetch(rpc, &keys.config).await.unwrap();
    assert_eq!(config.price.map(|p| p.price), Some(200_000_000));

    // Credits: $2 per token, a credit $0.00001: 1 token (6 decimals) = 200,000 credits.
    let customer = chain.wallet().await;
    chain
        .fund_tokens(&customer.pubkey(), &world.reward_mint, 5_000_000)
        .await;
    chain
        .send(
            &[payments::buy_credits(
                &customer.pubkey(),
                &keys,
                1_000_000,
                200_000,
            )],
            &[&customer],
        )
        .await
        .expect("buy credits");
    assert_eq!(
        chain
            .balance(&keys.credits_account(&customer.pubkey()))
            .await,
        200_000
    );
    chain
        .send(
            &[payments::delegate_credits(
                &customer.pubkey(),
                &keys,
                50_000,
            )],
            &[&customer],
        )
        .await
        .expect("delegate");
    // The pool finalized epoch 0 and epoch 1 runs: usage counts in epoch 1.
    let usage = BurnUsageArgs {
        epoch: 1,
        amount: 20_000,
        receipt_root: [1; 32],
    };
    for oracle in &world.oracles {
        chain
            .send(
                &[payments::burn_usage(
                    &oracle.pubkey(),
                    &keys,
                    &customer.pubkey(),
                    usage,
                )],
                &[oracle],
            )
            .await
            .expect("burn usage");
    }
    assert_eq!(
        chain
            .balance(&keys.usage_escrow(&customer.pubkey()).1)
            .await,
        30_000
    );

    // An order for the device, accepted, settled in full; another cancelled.
    let now = accounts::chain_time(rpc).await.unwrap();
    let order = OrderKeys::new(
        &world.network,
        &customer.pubkey(),
        1,
        &world.reward_mint,
        &SPL_TOKEN,
    );
    let open = OpenOrderArgs {
        order_id: 1,
        provider: Provider::Device(world.device),
        max_amount: 10_000,
        accept_deadline: now + 3_600,
        service_deadline: now + 7_200,
        spec_hash: [2; 32],
    };
    chain
        .send(&[payments::open_order(&order, open)], &[&customer])
        .await
        .expect("open");
    chain
        .send(
            &[payments::accept_order(
                &world.holder.pubkey(),
                &world.network,
                &order.order,
                &world.device,
                &world.device_mint,
            )],
            &[&world.holder],
        )
        .await
        .expect("accept");
    let payee = ProviderPayee {
        device: world.device,
        device_mint: world.device_mint,
        holder: world.holder.pubkey(),
    };
    let holder_account = order.payment_account(&world.holder.pubkey());
    let before = chain.balance(&holder_account).await;
    let opened: service_payments::state::Order = accounts::fetch(rpc, &order.order).await.unwrap();
    let receipt = VoteSettlementArgs {
        opened_slot: opened.opened_slot,
        sequence: 0,
        amount: 10_000,
        receipt_hash: [3; 32],
        complete: true,
    };
    for oracle in &world.oracles {
        chain
            .send(
                &[payments::vote_settlement(
                    &oracle.pubkey(),
                    &order,
                    &world.treasury,
                    Some(payee),
                    None,
                    receipt,
                )],
                &[oracle],
            )
            .await
            .expect("settle");
    }
    assert_eq!(
        chain.balance(&holder_account).await - before,
        9_500,
        "10,000 less the 5 % fee"
    );
    assert!(rpc.get_account(&order.order).await.is_err(), "order closed");

    let second = OrderKeys::new(
        &world.network,
        &customer.pubkey(),
        2,
        &world.reward_mint,
        &SPL_TOKEN,
    );
    let open = OpenOrderArgs {
        order_id: 2,
        provider: Provider::AnyDevice,
        max_amount: 7_000,
        accept_deadline: now + 3_600,
        service_deadline: now + 3_600,
        spec_hash: [4; 32],
    };
    let wallet = order.payment_account(&customer.pubkey());
    let before = chain.balance(&wallet).await;
    chain
        .send(&[payments::open_order(&second, open)], &[&customer])
        .await
        .expect("open");
    chain
        .send(&[payments::cancel_order(&second)], &[&customer])
        .await
        .expect("cancel");
    assert_eq!(chain.balance(&wallet).await, before);
}

async fn websocket_confirmation(chain: &Chain, ws_url: &str) {
    let pubsub = solana_pubsub_client::nonblocking::pubsub_client::PubsubClient::new(ws_url)
        .await
        .expect("websocket connects");
    let recipient = Pubkey::new_unique();
    let blockhash = chain.rpc.get_latest_blockhash().await.unwrap();
    let tx = Transaction::new_signed_with_payer(
        &[anchor_lang::solana_program::system_instruction::transfer(
            &chain.payer.pubkey(),
            &recipient,
            1_000_000_000,
        )],
        Some(&chain.payer.pubkey()),
        &[&chain.payer],
        blockhash,
    );
    let (mut notifications, unsubscribe) = pubsub
        .signature_subscribe(
            &tx.signatures[0],
            Some(solana_rpc_client_api::config::RpcSignatureSubscribeConfig {
                commitment: Some(CommitmentConfig::confirmed()),
                enable_received_notification: Some(false),
            }),
        )
        .await
        .expect("signatureSubscribe");
    chain.rpc.send_transaction(&tx).await.expect("send");
    let notification = tokio::time::timeout(Duration::from_secs(20), notifications.next())
        .await
        .expect("notified in time")
        .expect("a notification");
    match notification.value {
        solana_rpc_client_api::response::RpcSignatureResult::ProcessedSignature(result) => {
            assert!(result.err.is_none(), "{:?}", result.err)
        }
        other => panic!("unexpected notification {other:?}"),
    }
    unsubscribe().await;
    assert_eq!(
        chain.rpc.get_balance(&recipient).await.unwrap(),
        1_000_000_000
    );
}
