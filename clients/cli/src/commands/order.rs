//! `depin order open|accept|cancel|show|list`.

use crate::{
    config::pubkey,
    context::Context,
    error::CliError,
    output::{fields, local_time, table},
};
use clap::Subcommand;
use depinkit_sdk::{
    accounts,
    device_registry::{pda, state::Device},
    payments::{self, OrderKeys},
};
use serde::Serialize;
use service_payments::{
    instructions::OpenOrderArgs,
    state::{Order, Provider},
};
use solana_sdk::{pubkey::Pubkey, signature::Signer};

/// Order commands.
#[derive(Subcommand, Debug)]
pub enum OrderCommand {
    /// Escrow a payment for a service of the network.
    Open {
        /// Your number for this order.
        #[arg(long)]
        id: u64,
        /// Amount escrowed (the most you pay), base units of the mint.
        #[arg(long)]
        amount: u64,
        /// Who may serve it: a device key, `any`, or `network`.
        #[arg(long, default_value = "any")]
        provider: String,
        /// Payment mint [default: the network's reward mint].
        #[arg(long)]
        mint: Option<String>,
        /// Seconds a provider has to accept it.
        #[arg(long, default_value_t = 86_400)]
        accept_within: i64,
        /// Seconds until the service deadline: no settlement after it, and you may
        /// cancel and take back what was not settled. Leave the oracles time to
        /// attest the work.
        #[arg(long, default_value_t = 7 * 86_400)]
        serve_within: i64,
        /// What is bought, as 64 hex characters (e.g. a SHA-256 of the job spec).
        #[arg(
            long,
            default_value = "0000000000000000000000000000000000000000000000000000000000000000"
        )]
        spec_hash: String,
    },
    /// Accept an order: for a device whose NFT the keypair holds, or (a
    /// network-wide order) as an oracle of the network that starts serving it.
    Accept {
        /// The customer.
        #[arg(long)]
        customer: String,
        /// The customer's order id.
        #[arg(long)]
        id: u64,
        /// The device key (device orders).
        #[arg(long)]
        device: Option<String>,
    },
    /// Cancel your order and take the escrow back.
    Cancel {
        /// Your order id.
        #[arg(long)]
        id: u64,
    },
    /// Show an order.
    Show {
        /// The customer [default: the keypair].
        #[arg(long)]
        customer: Option<String>,
        /// The order id.
        #[arg(long)]
        id: u64,
    },
    /// List a customer's open orders.
    List {
        /// The customer [default: the keypair].
        #[arg(long)]
        customer: Option<String>,
    },
}

#[derive(Serialize)]
struct OrderView {
    order: String,
    customer: String,
    id: u64,
    payment_mint: String,
    provider: String,
    accepted_device: Option<String>,
    max_amount: u64,
    settled: u64,
    accept_deadline: i64,
    service_deadline: i64,
    fee_bps: u16,
    pool_share_bps: u16,
    status: String,
    settlements: u32,
}

fn provider_text(p: &Provider) -> String {
    match p {
        Provider::Device(d) => format!("device {d}"),
        Provider::AnyDevice => "any device".into(),
        Provider::Network => "network".into(),
    }
}

fn view(address: &Pubkey, o: &Order) -> OrderView {
    OrderView {
        order: address.to_string(),
        customer: o.customer.to_string(),
        id: o.order_id,
        payment_mint: o.payment_mint.to_string(),
        provider: provider_text(&o.provider),
        accepted_device: o.accepted_device.map(|d| d.to_string()),
        max_amount: o.max_amount,
        settled: o.settled,
        accept_deadline: o.accept_deadline,
        service_deadline: o.service_deadline,
        fee_bps: o.fee_bps,
        pool_share_bps: o.pool_share_bps,
        status: format!("{:?}", o.status).to_lowercase(),
        settlements: o.settlement_count,
    }
}

/// Runs an order command.
pub async fn run(ctx: &Context, command: OrderCommand) -> Result<(), CliError> {
    let (network, record) = ctx.network_account().await?;
    match command {
        OrderCommand::Open {
            id,
            amount,
            provider,
            mint,
            accept_within,
            serve_within,
            spec_hash,
        } => {
            let customer = ctx.keypair()?;
            let mint = match mint {
                Some(m) => pubkey(&m, "--mint")?,
                None => record.reward_mint,
            };
            let provider = match provider.as_str() {
                "any" => Provider::AnyDevice,
                "network" => Provider::Network,
                key => Provider::Device(
                    pda::find_device_address(&network, &pubkey(key, "--provider")?).0,
                ),
            };
            let spec_hash = depinkit_sdk::proofs::parse_hash(&spec_hash)
                .ok_or_else(|| CliError::Input("--spec-hash must be 64 hex characters".into()))?;
            let keys = OrderKeys::new(
                &network,
                &customer.pubkey(),
                id,
                &mint,
                &ctx.token_program_of(&mint).await?,
            );
            super::network::warn_if_freezable(ctx, &mint, "payment").await;
            let now = ctx.chain_time().await?;
            let args = OpenOrderArgs {
                order_id: id,
                provider,
                max_amount: amount,
                accept_deadline: now.saturating_add(accept_within),
                service_deadline: now.saturating_add(serve_within),
                spec_hash,
            };
            let signature = ctx
                .send(&[payments::open_order(&keys, args)], &customer, &[])
                .await?;
            ctx.output.print(&serde_json::json!({ "order": keys.order.to_string(), "signature": signature.to_string() }), || {
                format!("Order {} opened ({amount} escrowed)\nSignature: {signature}", keys.order)
            });
        }
        OrderCommand::Accept {
            customer,
            id,
            device,
        } => {
            let acceptor = ctx.keypair()?;
            let customer = pubkey(&customer, "--customer")?;
            let order = service_payments::pda::find_order_address(&network, &customer, id).0;
            let open: Order = accounts::fetch(&ctx.rpc, &order).await?;
            let (ix, by) = match (open.provider, device) {
                (Provider::Network, _) => (
                    payments::accept_network_order(&acceptor.pubkey(), &network, &order),
                    "the network".to_string(),
                ),
                (_, None) => {
                    return Err(CliError::Input(
                        "--device is required to accept a device order".into(),
                    ));
                }
                (_, Some(device)) => {
                    let device_key = pubkey(&device, "--device")?;
                    let device_address = pda::find_device_address(&network, &device_key).0;
                    let device: Device = accounts::fetch(&ctx.rpc, &device_address).await?;
                    let ix = payments::accept_order(
                        &acceptor.pubkey(),
                        &network,
                        &order,
                        &device_address,
                        &device.mint,
                    );
                    (ix, format!("device {device_key}"))
                }
            };
            let signature = ctx.send(&[ix], &acceptor, &[]).await?;
            ctx.output.print(&serde_json::json!({ "order": order.to_string(), "signature": signature.to_string() }), || {
                format!("Order {order} accepted for {by}\nSignature: {signature}")
            });
        }
        OrderCommand::Cancel { id } => {
            let customer = ctx.keypair()?;
            let order_address =
                service_payments::pda::find_order_address(&network, &customer.pubkey(), id).0;
            let order: Order = accounts::fetch(&ctx.rpc, &order_address).await?;
            let keys = OrderKeys::new(
                &network,
                &customer.pubkey(),
                id,
                &order.payment_mint,
                &order.payment_token_program,
            );
            let signature = ctx
                .send(&[payments::cancel_order(&keys)], &customer, &[])
                .await?;
            ctx.output.print(&serde_json::json!({ "order": order_address.to_string(), "signature": signature.to_string() }), || {
                format!("Order {order_address} cancelled and refunded\nSignature: {signature}")
            });
        }
        OrderCommand::Show { customer, id } => {
            let customer = match customer {
                Some(c) => pubkey(&c, "--customer")?,
                None => ctx.keypair()?.pubkey(),
            };
            let address = service_payments::pda::find_order_address(&network, &customer, id).0;
            let order: Order = accounts::fetch_optional(&ctx.rpc, &address)
                .await?
                .ok_or_else(|| CliError::Input(format!("no open order {id} of {customer} (completed and cancelled orders are closed)")))?;
            let v = view(&address, &order);
            ctx.output.print(&v, || {
                fields(&[
                    ("Order", v.order.clone()),
                    ("Customer", v.customer.clone()),
                    ("Provider", v.provider.clone()),
                    (
                        "Accepted by",
                        v.accepted_device.clone().unwrap_or_else(|| "-".into()),
                    ),
                    (
                        "Escrowed",
                        format!("{} (settled {})", v.max_amount, v.settled),
                    ),
                    ("Accept by", local_time(v.accept_deadline)),
                    ("Serve by", local_time(v.service_deadline)),
                    (
                        "Fee / pool share",
                        format!("{} / {} bps", v.fee_bps, v.pool_share_bps),
                    ),
                    ("Status", v.status.clone()),
                ])
            });
        }
        OrderCommand::List { customer } => {
            let customer = match customer {
                Some(c) => pubkey(&c, "--customer")?,
                None => ctx.keypair()?.pubkey(),
            };
            let mut orders = accounts::orders_of_customer(&ctx.rpc, &customer).await?;
            orders.retain(|(_, o)| o.network == network);
            orders.sort_by_key(|(_, o)| o.order_id);
            let views: Vec<OrderView> = orders.iter().map(|(a, o)| view(a, o)).collect();
            ctx.output.print(&views, || {
                table(
                    &[
                        "ID", "ORDER", "PROVIDER", "ESCROWED", "SETTLED", "STATUS", "SERVE BY",
                    ],
                    &views
                        .iter()
                        .map(|v| {
                            vec![
                                v.id.to_string(),
                                v.order.clone(),
                                v.provider.clone(),
                                v.max_amount.to_string(),
                                v.settled.to_string(),
                                v.status.clone(),
                                local_time(v.service_deadline),
                            ]
                        })
                        .collect::<Vec<_>>(),
                )
            });
        }
    }
    Ok(())
}
