//! Instructions of service payments.

use crate::{anchor_ix, ata, pool::PoolKeys};
use anchor_lang::system_program;
use service_payments::{
    EVENT_AUTHORITY_AND_BUMP, accounts, instruction,
    instructions::{
        BurnUsageArgs, ExtendOrderArgs, InitPaymentsArgs, OpenOrderArgs, UpdatePaymentsArgs,
        VotePriceArgs, VoteSettlementArgs,
    },
    pda,
};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

/// The addresses of a network's payments setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaymentsKeys {
    /// The network.
    pub network: Pubkey,
    /// Its payments config.
    pub config: Pubkey,
    /// The credits mint (Token-2022).
    pub credits_mint: Pubkey,
    /// The network token burned for credits.
    pub burn_mint: Pubkey,
    /// Token program of the burn mint.
    pub burn_token_program: Pubkey,
}

impl PaymentsKeys {
    /// The payments of `network`, burning `burn_mint` under `burn_token_program`.
    pub fn new(network: &Pubkey, burn_mint: &Pubkey, burn_token_program: &Pubkey) -> Self {
        Self {
            network: *network,
            config: pda::find_payments_address(network).0,
            credits_mint: pda::find_credits_mint_address(network).0,
            burn_mint: *burn_mint,
            burn_token_program: *burn_token_program,
        }
    }

    /// `owner`'s credits account (associated, Token-2022).
    pub fn credits_account(&self, owner: &Pubkey) -> Pubkey {
        ata(owner, &self.credits_mint, &anchor_spl::token_2022::ID)
    }

    /// `customer`'s usage escrow and its credits account.
    pub fn usage_escrow(&self, customer: &Pubkey) -> (Pubkey, Pubkey) {
        let escrow = pda::find_usage_escrow_address(&self.network, customer).0;
        (escrow, self.credits_account(&escrow))
    }
}

/// `init_payments`, signed by the network authority.
pub fn init_payments(
    authority: &Pubkey,
    keys: &PaymentsKeys,
    args: InitPaymentsArgs,
) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::InitPayments {
            authority: *authority,
            network: keys.network,
            config: keys.config,
            credits_mint: keys.credits_mint,
            burn_mint: keys.burn_mint,
            burn_token_program: keys.burn_token_program,
            token_program: anchor_spl::token_2022::ID,
            system_program: system_program::ID,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::InitPayments { args },
    )
}

/// `update_payments`, signed by the network authority.
pub fn update_payments(
    authority: &Pubkey,
    keys: &PaymentsKeys,
    args: UpdatePaymentsArgs,
) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::UpdatePayments {
            authority: *authority,
            network: keys.network,
            config: keys.config,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::UpdatePayments { args },
    )
}

/// `vote_price`, signed by an oracle of the network.
pub fn vote_price(oracle: &Pubkey, keys: &PaymentsKeys, args: VotePriceArgs) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::VotePrice {
            oracle: *oracle,
            network: keys.network,
            config: keys.config,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::VotePrice { args },
    )
}

/// `buy_credits` by `buyer`, burning from their associated token account.
pub fn buy_credits(
    buyer: &Pubkey,
    keys: &PaymentsKeys,
    amount: u64,
    min_credits: u64,
) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::BuyCredits {
            buyer: *buyer,
            config: keys.config,
            burn_mint: keys.burn_mint,
            buyer_burn_account: ata(buyer, &keys.burn_mint, &keys.burn_token_program),
            credits_mint: keys.credits_mint,
            buyer_credits: keys.credits_account(buyer),
            burn_token_program: keys.burn_token_program,
            token_program: anchor_spl::token_2022::ID,
            associated_token_program: anchor_spl::associated_token::ID,
            system_program: system_program::ID,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::BuyCredits {
            amount,
            min_credits,
        },
    )
}

/// `delegate_credits` by `customer`.
pub fn delegate_credits(customer: &Pubkey, keys: &PaymentsKeys, amount: u64) -> Instruction {
    let (usage_escrow, escrow_credits) = keys.usage_escrow(customer);
    anchor_ix(
        service_payments::ID,
        accounts::DelegateCredits {
            customer: *customer,
            config: keys.config,
            credits_mint: keys.credits_mint,
            customer_credits: keys.credits_account(customer),
            usage_escrow,
            escrow_credits,
            token_program: anchor_spl::token_2022::ID,
            associated_token_program: anchor_spl::associated_token::ID,
            system_program: system_program::ID,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::DelegateCredits { amount },
    )
}

/// `request_credit_withdrawal` of `amount` unused credits (0 withdraws the
/// request), by `customer`.
pub fn request_credit_withdrawal(
    customer: &Pubkey,
    keys: &PaymentsKeys,
    amount: u64,
) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::RequestCreditWithdrawal {
            customer: *customer,
            config: keys.config,
            usage_escrow: keys.usage_escrow(customer).0,
            escrow_credits: keys.usage_escrow(customer).1,
            credits_mint: keys.credits_mint,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::RequestCreditWithdrawal { amount },
    )
}

/// `withdraw_credits` by `customer`, after the notice of their request.
pub fn withdraw_credits(customer: &Pubkey, keys: &PaymentsKeys) -> Instruction {
    let (usage_escrow, escrow_credits) = keys.usage_escrow(customer);
    anchor_ix(
        service_payments::ID,
        accounts::WithdrawCredits {
            customer: *customer,
            config: keys.config,
            usage_escrow,
            escrow_credits,
            credits_mint: keys.credits_mint,
            customer_credits: keys.credits_account(customer),
            token_program: anchor_spl::token_2022::ID,
            associated_token_program: anchor_spl::associated_token::ID,
            system_program: system_program::ID,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::WithdrawCredits {},
    )
}

/// `close_usage_report` of `customer`'s usage in `epoch`, its rent back to
/// `rent_payer` (the oracle that created it); anyone may send it.
pub fn close_usage_report(
    keys: &PaymentsKeys,
    customer: &Pubkey,
    epoch: u32,
    rent_payer: &Pubkey,
) -> Instruction {
    let (usage_escrow, _) = keys.usage_escrow(customer);
    anchor_ix(
        service_payments::ID,
        accounts::CloseUsageReport {
            usage_report: pda::find_usage_report_address(&usage_escrow, epoch).0,
            pool: reward_pool::pda::find_pool_address(&keys.network).0,
            rent_payer: *rent_payer,
        },
        instruction::CloseUsageReport {},
    )
}

/// `close_epoch_usage` of the network's usage total of `epoch`, its rent back
/// to `rent_payer`; anyone may send it.
pub fn close_epoch_usage(keys: &PaymentsKeys, epoch: u32, rent_payer: &Pubkey) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::CloseEpochUsage {
            epoch_usage: pda::find_epoch_usage_address(&keys.network, epoch).0,
            pool: reward_pool::pda::find_pool_address(&keys.network).0,
            rent_payer: *rent_payer,
        },
        instruction::CloseEpochUsage {},
    )
}

/// `burn_usage` for `customer`'s escrow, signed by an oracle.
pub fn burn_usage(
    oracle: &Pubkey,
    keys: &PaymentsKeys,
    customer: &Pubkey,
    args: BurnUsageArgs,
) -> Instruction {
    let (usage_escrow, escrow_credits) = keys.usage_escrow(customer);
    anchor_ix(
        service_payments::ID,
        accounts::BurnUsage {
            oracle: *oracle,
            network: keys.network,
            config: keys.config,
            pool: reward_pool::pda::find_pool_address(&keys.network).0,
            usage_escrow,
            escrow_credits,
            credits_mint: keys.credits_mint,
            usage_report: pda::find_usage_report_address(&usage_escrow, args.epoch).0,
            epoch_usage: pda::find_epoch_usage_address(&keys.network, args.epoch).0,
            token_program: anchor_spl::token_2022::ID,
            system_program: system_program::ID,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::BurnUsage { args },
    )
}

/// The addresses of one order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderKeys {
    /// The network.
    pub network: Pubkey,
    /// The customer.
    pub customer: Pubkey,
    /// The order PDA.
    pub order: Pubkey,
    /// Its escrow (associated token account of the order).
    pub escrow: Pubkey,
    /// The payment mint.
    pub mint: Pubkey,
    /// Token program of the payment mint.
    pub token_program: Pubkey,
}

impl OrderKeys {
    /// Order `order_id` of `customer` on `network`, paid in `mint`.
    pub fn new(
        network: &Pubkey,
        customer: &Pubkey,
        order_id: u64,
        mint: &Pubkey,
        token_program: &Pubkey,
    ) -> Self {
        let order = pda::find_order_address(network, customer, order_id).0;
        Self {
            network: *network,
            customer: *customer,
            order,
            escrow: ata(&order, mint, token_program),
            mint: *mint,
            token_program: *token_program,
        }
    }

    /// The addresses of the order `order` kept at `address` (its escrow,
    /// mint and token program as the order records them).
    pub fn of_order(address: &Pubkey, order: &service_payments::state::Order) -> Self {
        Self {
            network: order.network,
            customer: order.customer,
            order: *address,
            escrow: order.escrow,
            mint: order.payment_mint,
            token_program: order.payment_token_program,
        }
    }

    /// `owner`'s associated token account for the payment mint.
    pub fn payment_account(&self, owner: &Pubkey) -> Pubkey {
        ata(owner, &self.mint, &self.token_program)
    }
}

/// `open_order` by the customer, paying from their associated token account.
pub fn open_order(keys: &OrderKeys, args: OpenOrderArgs) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::OpenOrder {
            customer: keys.customer,
            network: keys.network,
            config: pda::find_payments_address(&keys.network).0,
            order: keys.order,
            payment_mint: keys.mint,
            customer_payment_account: keys.payment_account(&keys.customer),
            escrow: keys.escrow,
            payment_token_program: keys.token_program,
            associated_token_program: anchor_spl::associated_token::ID,
            system_program: system_program::ID,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::OpenOrder { args },
    )
}

/// `accept_order` of a device order by `holder`, who keeps `device`'s NFT
/// (`device_mint`) in their associated account.
pub fn accept_order(
    holder: &Pubkey,
    network: &Pubkey,
    order: &Pubkey,
    device: &Pubkey,
    device_mint: &Pubkey,
) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::AcceptOrder {
            acceptor: *holder,
            network: *network,
            order: *order,
            device: Some(*device),
            holder_nft_account: Some(ata(holder, device_mint, &anchor_spl::token_2022::ID)),
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::AcceptOrder {},
    )
}

/// `accept_order` of a network-wide order by an oracle of the network, which
/// starts serving it.
pub fn accept_network_order(oracle: &Pubkey, network: &Pubkey, order: &Pubkey) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::AcceptOrder {
            acceptor: *oracle,
            network: *network,
            order: *order,
            device: None,
            holder_nft_account: None,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::AcceptOrder {},
    )
}

/// `extend_order` by the customer, paying from their associated account.
pub fn extend_order(keys: &OrderKeys, args: ExtendOrderArgs) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::ExtendOrder {
            customer: keys.customer,
            order: keys.order,
            escrow: keys.escrow,
            payment_mint: keys.mint,
            customer_payment_account: keys.payment_account(&keys.customer),
            payment_token_program: keys.token_program,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::ExtendOrder { args },
    )
}

/// `cancel_order` by the customer, refunded into their associated account.
pub fn cancel_order(keys: &OrderKeys) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::CancelOrder {
            customer: keys.customer,
            order: keys.order,
            escrow: keys.escrow,
            payment_mint: keys.mint,
            customer_payment_account: keys.payment_account(&keys.customer),
            payment_token_program: keys.token_program,
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::CancelOrder {},
    )
}

/// Who a settlement pays: the accepting device as held by `holder` now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProviderPayee {
    /// The device (registry address).
    pub device: Pubkey,
    /// Its NFT mint.
    pub device_mint: Pubkey,
    /// The NFT's holder now (paid into their associated account).
    pub holder: Pubkey,
}

/// `vote_settlement` by an oracle. `provider` names the payee of device orders,
/// `pool` the pool receiving its share; `treasury` is the network treasury.
pub fn vote_settlement(
    oracle: &Pubkey,
    keys: &OrderKeys,
    treasury: &Pubkey,
    provider: Option<ProviderPayee>,
    pool: Option<&PoolKeys>,
    args: VoteSettlementArgs,
) -> Instruction {
    anchor_ix(
        service_payments::ID,
        accounts::VoteSettlement {
            oracle: *oracle,
            network: keys.network,
            order: keys.order,
            escrow: keys.escrow,
            payment_mint: keys.mint,
            payment_token_program: keys.token_program,
            customer: keys.customer,
            customer_payment_account: keys.payment_account(&keys.customer),
            treasury_payment_account: keys.payment_account(treasury),
            provider: accounts::ProviderAccounts {
                device: provider.map(|p| p.device),
                holder_nft_account: provider
                    .map(|p| ata(&p.holder, &p.device_mint, &anchor_spl::token_2022::ID)),
                holder_payment_account: provider.map(|p| keys.payment_account(&p.holder)),
            },
            pool: accounts::PoolAccounts {
                pool: pool.map(|p| p.pool),
                pool_vault: pool.map(|p| p.vault),
                pool_event_authority: pool.map(|_| reward_pool::EVENT_AUTHORITY_AND_BUMP.0),
                reward_pool_program: pool.map(|_| reward_pool::ID),
            },
            event_authority: EVENT_AUTHORITY_AND_BUMP.0,
            program: service_payments::ID,
        },
        instruction::VoteSettlement { args },
    )
}
