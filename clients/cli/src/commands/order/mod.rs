//! `depin order open|accept|cancel|show|list`, and a GPU job bought
//! through an order (`depin order job|result`, [`job`]). Devices are named
//! by their device key everywhere a person reads or types one.

mod job;

use crate::{
    config::pubkey,
    context::Context,
    error::CliError,
    output::{fields, local_time, table, warn_if_freezable},
};
use clap::Subcommand;
use depinkit_sdk::{
    accounts,
    device_registry::{pda, state::Device},
    payments::{self, OrderKeys},
    tokens::MintInfo,
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
    /// Buy a GPU job: escrow its payment in an order whose spec hash is the
    /// job's, send the job to a compute node (which accepts the order),
    /// wait for it, then check the result and co-sign its receipt as
    /// `depin order result` does.
    Job(job::JobArgs),
    /// Fetch an accepted job's result from its node and check it
    /// (Freivalds' check, with vectors only you draw): a right result's
    /// receipt is co-signed and sent to the oracle, which settles the order;
    /// a wrong one is refused (disputed): nothing is paid, and the escrow
    /// comes back with `depin order cancel` after the service deadline.
    Result(job::ResultArgs),
    /// Escrow a payment for a service of the network.
    Open {
        /// Your number for this order.
        #[arg(long)]
        id: u64,
        /// Amount escrowed (the most you pay), whole tokens of the mint.
        #[arg(long)]
        amount: String,
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
    /// Cancel your order and take the escrow back (before acceptance, or after
    /// the service deadline).
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

/// The device key of a device account, for people.
async fn device_key(ctx: &Context, device: &Pubkey) -> String {
    match accounts::fetch::<Device>(&ctx.rpc, device).await {
        Ok(d) => d.device_key.to_string(),
        Err(_) => format!("device account {device}"),
    }
}

async fn view(ctx: &Context, address: &Pubkey, o: &Order) -> OrderView {
    let provider = match o.provider {
        Provider::Device(d) => device_key(ctx, &d).await,
        Provider::AnyDevice => "any".into(),
        Provider::Network => "network".into(),
    };
    let accepted_device = match o.accepted_device {
        Some(d) => Some(device_key(ctx, &d).await),
        None => None,
    };
    OrderView {
        order: address.to_string(),
        customer: o.customer.to_string(),
        id: o.order_id,
        payment_mint: o.payment_mint.to_string(),
        provider,
        accepted_device,
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

fn print_order(ctx: &Context, v: &OrderView, mint: &MintInfo) {
    ctx.output.print(v, || {
        fields(&[
            ("Order", v.order.clone()),
            ("Id", v.id.to_string()),
            ("Customer", v.customer.clone()),
            ("Provider", v.provider.clone()),
            (
                "Accepted by",
                v.accepted_device.clone().unwrap_or_else(|| "-".into()),
            ),
            (
                "Escrowed",
                format!("{} (settled {})", mint.ui(v.max_amount), mint.ui(v.settled)),
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

/// An order to open.
pub(crate) struct OpenRequest {
    /// The customer's number for it.
    pub id: u64,
    /// Whole tokens escrowed.
    pub amount: String,
    /// A device key, `any` or `network`.
    pub provider: String,
    /// Payment mint (default: the reward mint).
    pub mint: Option<String>,
    /// Seconds a provider has to accept it.
    pub accept_within: i64,
    /// Seconds until its service deadline.
    pub serve_within: i64,
    /// What is bought.
    pub spec_hash: [u8; 32],
}

/// An order opened.
pub(crate) struct Opened {
    /// Its address.
    pub order: Pubkey,
    /// The escrow, for people.
    pub escrowed: String,
    /// The transaction.
    pub signature: solana_sdk::signature::Signature,
}

/// Opens an order as the keypair: checks the id is free, the provider is a
/// device of the network and the balance covers the escrow first.
pub(crate) async fn open(
    ctx: &Context,
    network: &Pubkey,
    record: &device_registry::state::Network,
    request: OpenRequest,
) -> Result<Opened, CliError> {
    let OpenRequest {
        id,
        amount,
        provider,
        mint,
        accept_within,
        serve_within,
        spec_hash,
    } = request;
    let customer = ctx.keypair()?;
    let mint = match mint {
        Some(m) => ctx.mint(&pubkey(&m, "--mint")?).await?,
        None => ctx.mint(&record.reward_mint).await?,
    };
    let order = service_payments::pda::find_order_address(network, &customer.pubkey(), id).0;
    if let Some(existing) = accounts::fetch_optional::<Order>(&ctx.rpc, &order)
        .await
        .map_err(|e| ctx.rpc_error(e))?
    {
        eprintln!("You already have an open order {id}:");
        let existing_mint = ctx.mint(&existing.payment_mint).await?;
        print_order(ctx, &view(ctx, &order, &existing).await, &existing_mint);
        return Err(CliError::Input(format!(
            "order {id} exists (shown above): choose another --id"
        )));
    }
    ctx.payments_config(&service_payments::pda::find_payments_address(network).0)
        .await?;
    let provider = match provider.as_str() {
        "any" => Provider::AnyDevice,
        "network" => Provider::Network,
        key => {
            let key = pubkey(key, "--provider")?;
            let device = pda::find_device_address(network, &key).0;
            if !ctx.exists(&device).await? {
                return Err(CliError::Input(format!(
                    "--provider {key} is not a device of this network"
                )));
            }
            Provider::Device(device)
        }
    };
    let amount = ctx.amount(&amount, &mint, "--amount")?;
    let keys = OrderKeys::new(
        network,
        &customer.pubkey(),
        id,
        &mint.address,
        &mint.token_program,
    );
    let held = ctx
        .token_balance(&keys.payment_account(&customer.pubkey()))
        .await?;
    if held < amount {
        return Err(CliError::Input(format!(
            "{} holds {} of {}, less than {}",
            customer.pubkey(),
            mint.ui(held),
            mint.address,
            mint.ui(amount)
        )));
    }
    warn_if_freezable(&mint, "payment");
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
    Ok(Opened {
        order: keys.order,
        escrowed: mint.ui(amount),
        signature,
    })
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
            let spec_hash = depinkit_sdk::proofs::parse_hash(&spec_hash)
                .ok_or_else(|| CliError::Input("--spec-hash must be 64 hex characters".into()))?;
            let opened = open(
                ctx,
                &network,
                &record,
                OpenRequest {
                    id,
                    amount,
                    provider,
                    mint,
                    accept_within,
                    serve_within,
                    spec_hash,
                },
            )
            .await?;
            ctx.output.print(
                &serde_json::json!({ "order": opened.order.to_string(), "signature": opened.signature.to_string() }),
                || format!("Order {id} ({}) opened: {} escrowed\nSignature: {}", opened.order, opened.escrowed, opened.signature),
            );
        }
        OrderCommand::Job(args) => job::buy(ctx, &network, &record, args).await?,
        OrderCommand::Result(args) => job::result(ctx, &network, args).await?,
        OrderCommand::Accept {
            customer,
            id,
            device,
        } => {
            let acceptor = ctx.keypair()?;
            let customer = pubkey(&customer, "--customer")?;
            let order = service_payments::pda::find_order_address(&network, &customer, id).0;
            let open: Order = accounts::fetch_optional(&ctx.rpc, &order)
                .await
                .map_err(|e| ctx.rpc_error(e))?
                .ok_or_else(|| CliError::Input(format!("no open order {id} of {customer}")))?;
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
                    let device: Device = accounts::fetch_optional(&ctx.rpc, &device_address)
                        .await
                        .map_err(|e| ctx.rpc_error(e))?
                        .ok_or_else(|| {
                            CliError::Input(format!("{device_key} is not a device of this network"))
                        })?;
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
            ctx.output.print(
                &serde_json::json!({ "order": order.to_string(), "signature": signature.to_string() }),
                || format!("Order {id} accepted for {by}\nSignature: {signature}"),
            );
        }
        OrderCommand::Cancel { id } => {
            let customer = ctx.keypair()?;
            let order_address =
                service_payments::pda::find_order_address(&network, &customer.pubkey(), id).0;
            let order: Order = accounts::fetch_optional(&ctx.rpc, &order_address)
                .await
                .map_err(|e| ctx.rpc_error(e))?
                .ok_or_else(|| CliError::Input(format!("you have no open order {id}")))?;
            let mint = ctx.mint(&order.payment_mint).await?;
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
            ctx.output.print(
                &serde_json::json!({ "order": order_address.to_string(), "refunded": order.max_amount - order.settled, "signature": signature.to_string() }),
                || format!(
                    "Order {id} cancelled: {} refunded\nSignature: {signature}",
                    mint.ui(order.max_amount - order.settled)
                ),
            );
        }
        OrderCommand::Show { customer, id } => {
            let customer = match customer {
                Some(c) => pubkey(&c, "--customer")?,
                None => ctx.keypair()?.pubkey(),
            };
            let address = service_payments::pda::find_order_address(&network, &customer, id).0;
            let order: Order = accounts::fetch_optional(&ctx.rpc, &address)
                .await
                .map_err(|e| ctx.rpc_error(e))?
                .ok_or_else(|| CliError::Input(format!("no open order {id} of {customer} (completed and cancelled orders are closed)")))?;
            let mint = ctx.mint(&order.payment_mint).await?;
            print_order(ctx, &view(ctx, &address, &order).await, &mint);
        }
        OrderCommand::List { customer } => {
            let customer = match customer {
                Some(c) => pubkey(&c, "--customer")?,
                None => ctx.keypair()?.pubkey(),
            };
            let mut orders = accounts::orders_of_customer(&ctx.rpc, &customer)
                .await
                .map_err(|e| ctx.rpc_error(e))?;
            orders.retain(|(_, o)| o.network == network);
            orders.sort_by_key(|(_, o)| o.order_id);
            let mut views = Vec::new();
            let mut rows = Vec::new();
            for (address, order) in &orders {
                let v = view(ctx, address, order).await;
                let mint = ctx.mint(&order.payment_mint).await?;
                rows.push(vec![
                    v.id.to_string(),
                    v.provider.clone(),
                    mint.ui(v.max_amount),
                    mint.ui(v.settled),
                    v.status.clone(),
                    local_time(v.service_deadline),
                ]);
                views.push(v);
            }
            ctx.output.print(&views, || {
                table(
                    &[
                        "ID", "PROVIDER", "ESCROWED", "SETTLED", "STATUS", "SERVE BY",
                    ],
                    &rows,
                )
            });
        }
    }
    Ok(())
}
