//! Service-payments fixtures: instruction builders over the program's own Anchor
//! client types and a network with a pool, devices and payments set up.

use crate::{
    harness::{Harness, anchor_ix, ata, token_2022_id, token_id},
    pool::PoolFixture,
};
use anchor_lang::system_program;
use service_payments::{
    accounts, instruction,
    instructions::{
        BurnUsageArgs, InitPaymentsArgs, OpenOrderArgs, VotePriceArgs, VoteSettlementArgs,
    },
    pda,
    state::Provider,
};
use solana_program_test::BanksClientError;
use solana_sdk::{
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};

/// Protocol fee of the fixture: 2.5 %.
pub const ORDER_FEE_BPS: u16 = 250;
/// Pool share of the fixture: 10 % of what remains after the fee.
pub const POOL_SHARE_BPS: u16 = 1_000;
/// Oldest price the fixture accepts.
pub const MAX_PRICE_AGE: i64 = 300;
/// A credit is worth $0.00001 (Helium's data credit).
pub const CREDIT_USD_MICROS: u64 = 10;

/// The fixture's payment settings.
pub fn payments_args() -> InitPaymentsArgs {
    InitPaymentsArgs {
        credits_decimals: 0,
        credit_usd_micros: CREDIT_USD_MICROS,
        max_price_age_secs: MAX_PRICE_AGE,
        order_fee_bps: ORDER_FEE_BPS,
        pool_share_bps: POOL_SHARE_BPS,
    }
}

/// `init_payments` for `network`, burning `burn_mint` (an SPL Token mint).
pub fn init_payments_ix(
    authority: &Pubkey,
    network: &Pubkey,
    burn_mint: &Pubkey,
    args: InitPaymentsArgs,
) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::InitPayments {
            authority: *authority,
            network: *network,
            config: pda::find_payments_address(network).0,
            credits_mint: pda::find_credits_mint_address(network).0,
            burn_mint: *burn_mint,
            burn_token_program: token_id(),
            token_program: token_2022_id(),
            system_program: system_program::ID,
        },
        instruction::InitPayments { args },
    )
}

/// `vote_price` signed by `oracle`.
pub fn vote_price_ix(oracle: &Pubkey, network: &Pubkey, args: VotePriceArgs) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::VotePrice {
            oracle: *oracle,
            network: *network,
            config: pda::find_payments_address(network).0,
        },
        instruction::VotePrice { args },
    )
}

/// A network with a funded pool, devices, and payments set up (burn mint: the
/// reward mint, whose authority is the harness payer).
pub struct PaymentsFixture {
    /// Network, pool and devices.
    pub base: PoolFixture,
    /// The payments config.
    pub config: Pubkey,
    /// The credits mint.
    pub credits_mint: Pubkey,
}

impl PaymentsFixture {
    /// Sets everything up with `devices` onboarded devices.
    pub async fn create(h: &mut Harness, seed: &str, devices: usize) -> Self {
        let base = PoolFixture::create(h, seed, devices).await;
        let net = &base.net;
        let ix = init_payments_ix(
            &net.authority.pubkey(),
            &net.network,
            &net.reward_mint,
            payments_args(),
        );
        h.send(&[ix], &[&net.authority])
            .await
            .expect("init payments");
        Self {
            config: pda::find_payments_address(&net.network).0,
            credits_mint: pda::find_credits_mint_address(&net.network).0,
            base,
        }
    }

    /// The network address.
    pub fn network(&self) -> Pubkey {
        self.base.net.network
    }

    /// The network token / reward mint.
    pub fn token_mint(&self) -> Pubkey {
        self.base.keys.reward_mint
    }

    /// `oracle` (an index into the network's oracles) votes a price.
    pub async fn vote_price(
        &self,
        h: &mut Harness,
        oracle: usize,
        args: VotePriceArgs,
    ) -> Result<(), BanksClientError> {
        let signer = &self.base.net.oracles[oracle];
        let ix = vote_price_ix(&signer.pubkey(), &self.network(), args);
        h.send(&[ix], &[signer]).await
    }

    /// Oracles 0 and 1 finalize `price * 10^expo` USD +- `conf`, observed now.
    pub async fn set_price(
        &self,
        h: &mut Harness,
        price: u64,
        conf: u64,
        expo: i32,
    ) -> VotePriceArgs {
        let args = VotePriceArgs {
            price,
            conf,
            expo,
            publish_time: h.clock().await.unix_timestamp,
        };
        for oracle in 0..2 {
            self.vote_price(h, oracle, args).await.expect("price vote");
        }
        args
    }

    /// A funded wallet holding `tokens` of the network token in its ATA.
    pub async fn wallet_with_tokens(&self, h: &mut Harness, tokens: u64) -> Keypair {
        let wallet = h.funded_wallet().await;
        let account = h
            .create_ata(&wallet.pubkey(), &self.token_mint(), &token_id())
            .await;
        let authority = h.payer().insecure_clone();
        if tokens > 0 {
            h.mint_to(
                &token_id(),
                &self.token_mint(),
                &account,
                &authority,
                tokens,
            )
            .await;
        }
        wallet
    }

    /// `buyer`'s credits account.
    pub fn credits_account(&self, owner: &Pubkey) -> Pubkey {
        ata(owner, &self.credits_mint, &token_2022_id())
    }

    /// `buy_credits` by `buyer` from their network-token ATA.
    pub fn buy_credits_ix(&self, buyer: &Pubkey, amount: u64, min_credits: u64) -> Instruction {
        anchor_ix(
            service_payments::ID,
            accounts::BuyCredits {
                buyer: *buyer,
                config: self.config,
                burn_mint: self.token_mint(),
                buyer_burn_account: ata(buyer, &self.token_mint(), &token_id()),
                credits_mint: self.credits_mint,
                buyer_credits: self.credits_account(buyer),
                burn_token_program: token_id(),
                token_program: token_2022_id(),
                associated_token_program: anchor_spl::associated_token::ID,
                system_program: system_program::ID,
            },
            instruction::BuyCredits {
                amount,
                min_credits,
            },
        )
    }

    /// The usage escrow of `customer` and its credits account.
    pub fn usage_escrow(&self, customer: &Pubkey) -> (Pubkey, Pubkey) {
        let escrow = pda::find_usage_escrow_address(&self.network(), customer).0;
        (escrow, ata(&escrow, &self.credits_mint, &token_2022_id()))
    }

    /// `delegate_credits` by `customer`.
    pub fn delegate_credits_ix(&self, customer: &Pubkey, amount: u64) -> Instruction {
        let (usage_escrow, escrow_credits) = self.usage_escrow(customer);
        anchor_ix(
            service_payments::ID,
            accounts::DelegateCredits {
                customer: *customer,
                config: self.config,
                credits_mint: self.credits_mint,
                customer_credits: self.credits_account(customer),
                usage_escrow,
                escrow_credits,
                token_program: token_2022_id(),
                associated_token_program: anchor_spl::associated_token::ID,
                system_program: system_program::ID,
            },
            instruction::DelegateCredits { amount },
        )
    }

    /// `burn_usage` voted by `oracle` for `customer`'s escrow.
    pub fn burn_usage_ix(
        &self,
        oracle: &Pubkey,
        customer: &Pubkey,
        args: BurnUsageArgs,
    ) -> Instruction {
        let (usage_escrow, escrow_credits) = self.usage_escrow(customer);
        anchor_ix(
            service_payments::ID,
            accounts::BurnUsage {
                oracle: *oracle,
                network: self.network(),
                config: self.config,
                usage_escrow,
                escrow_credits,
                credits_mint: self.credits_mint,
                usage_report: pda::find_usage_report_address(&usage_escrow, args.epoch).0,
                epoch_usage: pda::find_epoch_usage_address(&self.network(), args.epoch).0,
                token_program: token_2022_id(),
                system_program: system_program::ID,
            },
            instruction::BurnUsage { args },
        )
    }

    /// The order PDA of `customer`'s `order_id` and its escrow for `mint`.
    pub fn order_addresses(
        &self,
        customer: &Pubkey,
        order_id: u64,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> (Pubkey, Pubkey) {
        let order = pda::find_order_address(&self.network(), customer, order_id).0;
        (order, ata(&order, mint, token_program))
    }

    /// `open_order` by `customer`, paying from their ATA of `mint`.
    pub fn open_order_ix(
        &self,
        customer: &Pubkey,
        mint: &Pubkey,
        token_program: &Pubkey,
        args: OpenOrderArgs,
    ) -> Instruction {
        let (order, escrow) = self.order_addresses(customer, args.order_id, mint, token_program);
        anchor_ix(
            service_payments::ID,
            accounts::OpenOrder {
                customer: *customer,
                network: self.network(),
                order,
                payment_mint: *mint,
                customer_payment_account: ata(customer, mint, token_program),
                escrow,
                payment_token_program: *token_program,
                associated_token_program: anchor_spl::associated_token::ID,
                system_program: system_program::ID,
            },
            instruction::OpenOrder { args },
        )
    }

    /// `accept_order` of `order` by the holder of device `i`'s NFT.
    pub fn accept_order_ix(&self, holder: &Pubkey, order: &Pubkey, i: usize) -> Instruction {
        let d = &self.base.devices[i];
        anchor_ix(
            service_payments::ID,
            accounts::AcceptOrder {
                holder: *holder,
                order: *order,
                device: d.device,
                holder_nft_account: ata(holder, &d.mint, &token_2022_id()),
            },
            instruction::AcceptOrder {},
        )
    }

    /// `cancel_order` by `customer`.
    pub fn cancel_order_ix(
        &self,
        customer: &Pubkey,
        order_id: u64,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Instruction {
        let (order, escrow) = self.order_addresses(customer, order_id, mint, token_program);
        anchor_ix(
            service_payments::ID,
            accounts::CancelOrder {
                customer: *customer,
                order,
                escrow,
                payment_mint: *mint,
                customer_payment_account: ata(customer, mint, token_program),
                payment_token_program: *token_program,
            },
            instruction::CancelOrder {},
        )
    }

    /// `vote_settlement` by `oracle` on `customer`'s order, paying device `provider`
    /// (as held by `holder`) when given, and naming the pool accounts when `pool`.
    #[allow(clippy::too_many_arguments)]
    pub fn vote_settlement_ix(
        &self,
        oracle: &Pubkey,
        customer: &Pubkey,
        order_id: u64,
        mint: &Pubkey,
        token_program: &Pubkey,
        provider: Option<(usize, Pubkey)>,
        pool: bool,
        args: VoteSettlementArgs,
    ) -> Instruction {
        let (order, escrow) = self.order_addresses(customer, order_id, mint, token_program);
        let device = provider.map(|(i, holder)| (&self.base.devices[i], holder));
        anchor_ix(
            service_payments::ID,
            accounts::VoteSettlement {
                oracle: *oracle,
                network: self.network(),
                config: self.config,
                order,
                escrow,
                payment_mint: *mint,
                payment_token_program: *token_program,
                customer: *customer,
                customer_payment_account: ata(customer, mint, token_program),
                treasury_payment_account: ata(&self.base.net.treasury, mint, token_program),
                provider: accounts::ProviderAccounts {
                    device: device.map(|(d, _)| d.device),
                    holder_nft_account: device
                        .map(|(d, holder)| ata(&holder, &d.mint, &token_2022_id())),
                    holder_payment_account: device
                        .map(|(_, holder)| ata(&holder, mint, token_program)),
                },
                pool: accounts::PoolAccounts {
                    pool: pool.then_some(self.base.keys.pool),
                    pool_vault: pool.then_some(self.base.keys.vault),
                    reward_pool_program: pool.then_some(reward_pool::ID),
                },
            },
            instruction::VoteSettlement { args },
        )
    }
}

/// Open-order arguments with a one-hour deadline from `now`.
pub fn order_args(order_id: u64, provider: Provider, max_amount: u64, now: i64) -> OpenOrderArgs {
    OpenOrderArgs {
        order_id,
        provider,
        max_amount,
        deadline: now + 3_600,
        spec_hash: [7; 32],
    }
}
