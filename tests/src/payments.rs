//! Service-payments fixtures: instruction builders over the program's own Anchor
//! client types and a network with a pool, devices and payments set up.

use crate::{
    harness::{Harness, token_id},
    pool::PoolFixture,
};
use depinkit_sdk::payments::{self, OrderKeys, PaymentsKeys, ProviderPayee};
use service_payments::{
    instructions::{
        BurnUsageArgs, InitPaymentsArgs, OpenOrderArgs, VotePriceArgs, VoteSettlementArgs,
    },
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
/// Notice before unused credits leave a usage escrow: two fixture epochs.
pub const WITHDRAWAL_NOTICE: i64 = 7_200;
/// Seconds a fixture order may be accepted in.
pub const ACCEPT_WITHIN: i64 = 3_600;
/// Seconds until a fixture order's service deadline.
pub const SERVE_WITHIN: i64 = 7_200;

/// The fixture's payment settings.
pub fn payments_args() -> InitPaymentsArgs {
    InitPaymentsArgs {
        credits_decimals: 0,
        credit_usd_micros: CREDIT_USD_MICROS,
        max_price_age_secs: MAX_PRICE_AGE,
        order_fee_bps: ORDER_FEE_BPS,
        pool_share_bps: POOL_SHARE_BPS,
        withdrawal_notice_secs: WITHDRAWAL_NOTICE,
    }
}

/// `init_payments` for `network`, burning `burn_mint` (an SPL Token mint).
pub fn init_payments_ix(
    authority: &Pubkey,
    network: &Pubkey,
    burn_mint: &Pubkey,
    args: InitPaymentsArgs,
) -> Instruction {
    payments::init_payments(
        authority,
        &PaymentsKeys::new(network, burn_mint, &token_id()),
        args,
    )
}

/// `vote_price` on `network`, signed by `oracle`.
pub fn vote_price_ix(oracle: &Pubkey, network: &Pubkey, args: VotePriceArgs) -> Instruction {
    // A price vote does not name the burn mint.
    let keys = PaymentsKeys::new(network, &Pubkey::default(), &token_id());
    payments::vote_price(oracle, &keys, args)
}

/// A network with a pool, devices, and payments set up (burn mint: the
/// reward mint, whose authority is the harness payer).
pub struct PaymentsFixture {
    /// Network, pool and devices.
    pub base: PoolFixture,
    /// The payments addresses.
    pub keys: PaymentsKeys,
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
        let keys = PaymentsKeys::new(&net.network, &net.reward_mint, &token_id());
        let ix = payments::init_payments(&net.authority.pubkey(), &keys, payments_args());
        h.send(&[ix], &[&net.authority])
            .await
            .expect("init payments");
        Self {
            config: keys.config,
            credits_mint: keys.credits_mint,
            keys,
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
        let ix = payments::vote_price(&signer.pubkey(), &self.keys, args);
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

    /// `owner`'s credits account.
    pub fn credits_account(&self, owner: &Pubkey) -> Pubkey {
        self.keys.credits_account(owner)
    }

    /// `buy_credits` by `buyer` from their network-token ATA.
    pub fn buy_credits_ix(&self, buyer: &Pubkey, amount: u64, min_credits: u64) -> Instruction {
        payments::buy_credits(buyer, &self.keys, amount, min_credits)
    }

    /// The usage escrow of `customer` and its credits account.
    pub fn usage_escrow(&self, customer: &Pubkey) -> (Pubkey, Pubkey) {
        self.keys.usage_escrow(customer)
    }

    /// `delegate_credits` by `customer`.
    pub fn delegate_credits_ix(&self, customer: &Pubkey, amount: u64) -> Instruction {
        payments::delegate_credits(customer, &self.keys, amount)
    }

    /// `burn_usage` voted by `oracle` for `customer`'s escrow.
    pub fn burn_usage_ix(
        &self,
        oracle: &Pubkey,
        customer: &Pubkey,
        args: BurnUsageArgs,
    ) -> Instruction {
        payments::burn_usage(oracle, &self.keys, customer, args)
    }

    /// The keys of `customer`'s order `order_id` paid in `mint`.
    pub fn order_keys(
        &self,
        customer: &Pubkey,
        order_id: u64,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> OrderKeys {
        OrderKeys::new(&self.network(), customer, order_id, mint, token_program)
    }

    /// The order PDA of `customer`'s `order_id` and its escrow for `mint`.
    pub fn order_addresses(
        &self,
        customer: &Pubkey,
        order_id: u64,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> (Pubkey, Pubkey) {
        let keys = self.order_keys(customer, order_id, mint, token_program);
        (keys.order, keys.escrow)
    }

    /// `open_order` by `customer`, paying from their ATA of `mint`.
    pub fn open_order_ix(
        &self,
        customer: &Pubkey,
        mint: &Pubkey,
        token_program: &Pubkey,
        args: OpenOrderArgs,
    ) -> Instruction {
        let keys = self.order_keys(customer, args.order_id, mint, token_program);
        payments::open_order(&keys, args)
    }

    /// `accept_order` of `order` by the holder of device `i`'s NFT.
    pub fn accept_order_ix(&self, holder: &Pubkey, order: &Pubkey, i: usize) -> Instruction {
        let d = &self.base.devices[i];
        payments::accept_order(holder, &self.network(), order, &d.device, &d.mint)
    }

    /// `accept_order` of network-wide `order` by `oracle` (an index into the
    /// network's oracles, or any signer for refusal tests).
    pub fn accept_network_order_ix(&self, oracle: &Pubkey, order: &Pubkey) -> Instruction {
        payments::accept_network_order(oracle, &self.network(), order)
    }

    /// `extend_order` by `customer`.
    pub fn extend_order_ix(
        &self,
        customer: &Pubkey,
        order_id: u64,
        mint: &Pubkey,
        token_program: &Pubkey,
        args: service_payments::instructions::ExtendOrderArgs,
    ) -> Instruction {
        payments::extend_order(
            &self.order_keys(customer, order_id, mint, token_program),
            args,
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
        payments::cancel_order(&self.order_keys(customer, order_id, mint, token_program))
    }

    /// `vote_settlement` by `oracle` on `customer`'s order, paying device
    /// `provider.0` as held by `provider.1`, naming the pool when `pool`.
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
        let keys = self.order_keys(customer, order_id, mint, token_program);
        let payee = provider.map(|(i, holder)| ProviderPayee {
            device: self.base.devices[i].device,
            device_mint: self.base.devices[i].mint,
            holder,
        });
        payments::vote_settlement(
            oracle,
            &keys,
            &self.base.net.treasury,
            payee,
            pool.then_some(&self.base.keys),
            args,
        )
    }
}

/// Open-order arguments: acceptance within [`ACCEPT_WITHIN`] and service
/// within [`SERVE_WITHIN`] of `now`.
pub fn order_args(order_id: u64, provider: Provider, max_amount: u64, now: i64) -> OpenOrderArgs {
    OpenOrderArgs {
        order_id,
        provider,
        max_amount,
        accept_deadline: now + ACCEPT_WITHIN,
        service_deadline: now + SERVE_WITHIN,
        spec_hash: [7; 32],
    }
}
