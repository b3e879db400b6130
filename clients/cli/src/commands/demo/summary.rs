//! What the demo prints: per network, what its devices did and earned, and
//! whether every token is accounted for; as text, or as one JSON object.

use super::{DemoError, Tally, world, world::DemoChain, world::DemoNetwork, world::category_name};
use crate::output::OutputFormat;
use reward_pool::state::Pool;
use serde_json::{Value, json};
use std::io::Write;

/// One network's summary, and whether its accounting holds: the vault holds
/// what came in less what was claimed, the owner holds every claim (and,
/// on the storage network, its devices' settlements), the crank claimed all
/// the roots pay, and the roots pay no more than came in, nor more than the
/// demo's epochs emitted and earned; on the storage network every token the
/// customer escrowed is with the owner, the treasury, the pool, still in
/// escrow, or back with the customer.
pub(super) async fn summarize(
    chain: &DemoChain,
    network: &DemoNetwork,
    pool: &Pool,
    tally: &Tally,
    url: &str,
    epochs: u32,
    deals: Option<&super::deals::Deals>,
) -> Result<(Value, bool), DemoError> {
    let owner_account = depinkit_sdk::ata(
        &solana_sdk::signer::Signer::pubkey(&network.owner),
        &pool.reward_mint,
        &pool.reward_token_program,
    );
    // One read of the pool and every token account its accounting names,
    // so settlements landing meanwhile cannot tear it.
    let mut addresses = vec![network.pool.pool, network.pool.vault, owner_account];
    if let Some(deals) = deals {
        addresses.extend([deals.customer_account, deals.treasury_account]);
        addresses.extend(deals.orders.iter().map(|(_, escrow)| *escrow));
    }
    let found = chain
        .rpc
        .get_multiple_accounts(&addresses)
        .await
        .map_err(|e| DemoError::Chain(e.to_string()))?;
    let amount = |i: usize| -> u64 {
        found[i]
            .as_ref()
            .and_then(|a| a.data.get(64..72))
            .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    let pool: Pool = match &found[0] {
        Some(account) => anchor_lang::AccountDeserialize::try_deserialize(&mut &account.data[..])
            .map_err(|e| DemoError::Chain(format!("the pool: {e}")))?,
        None => pool.clone(),
    };
    let pool = &pool;
    let (vault, owner) = (amount(1), amount(2));
    // Storage deals: what left the customer's escrows went to the owner as
    // provider payments, to the treasury as fees and to the pool as
    // revenue, or back to the customer.
    let storage = deals.map(|deals| {
        let customer = amount(3);
        let fees = amount(4).saturating_sub(deals.treasury_before);
        let escrowed_now: u64 = (5..addresses.len()).map(amount).sum();
        let closed = (5..addresses.len()).filter(|&i| found[i].is_none()).count();
        let to_providers = owner.saturating_sub(pool.total_claimed);
        let settled = to_providers + fees + pool.revenue_inflow;
        let ok = customer + escrowed_now + settled == deals.escrowed;
        let summary = json!({
            "orders": deals.orders.len(),
            "escrowed": deals.escrowed,
            "paid_to_providers": to_providers,
            "fees": fees,
            "to_pool": pool.revenue_inflow,
            "refunded": customer,
            "still_escrowed": escrowed_now,
            "orders_closed": closed,
        });
        (summary, ok)
    });
    // What the demo's epochs emitted (the schedule is flat); what their roots
    // did not pay out is the floors' dust and the shares of refused devices'
    // epochs nobody earned in.
    let emissions = world::EMISSION * u64::from(epochs);
    let unpaid = (emissions + pool.revenue_inflow).checked_sub(pool.root_total);
    let ok = vault == pool.total_inflow - pool.total_claimed
        && (owner == pool.total_claimed || storage.is_some() && owner >= pool.total_claimed)
        && storage.as_ref().is_none_or(|(_, ok)| *ok)
        && pool.total_claimed == pool.root_total
        && pool.root_total <= pool.total_inflow
        && unpaid.is_some();
    let dust = unpaid.unwrap_or(0);
    let proofs: Value = reqwest::get(format!("{url}/v1/proofs"))
        .await
        .map_err(|e| DemoError::Oracle(e.to_string()))?
        .json()
        .await
        .map_err(|e| DemoError::Oracle(e.to_string()))?;
    let mut earners: Vec<(u64, String)> = proofs["claims"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["cumulative_amount"].as_u64().unwrap_or(0),
                c["device_mint"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    earners.sort_by(|a, b| b.cmp(a));
    earners.truncate(3);
    let mut summary = json!({
        "category": category_name(network.category),
        "network": network.address.to_string(),
        "devices": network.devices.len(),
        "oracles": network.oracles.len(),
        "reports_accepted": tally.accepted,
        "reports_rejected": tally.rejected,
        "rewards_paid": pool.total_claimed,
        "service_revenue": pool.revenue_inflow,
        "emissions": emissions,
        "unclaimed": pool.root_total - pool.total_claimed,
        "dust": dust,
        "top_earners": earners
            .iter()
            .map(|(amount, mint)| json!({"device_mint": mint, "amount": amount}))
            .collect::<Vec<_>>(),
        "accounting_ok": ok,
    });
    if let Some((deals, _)) = storage {
        let key = match network.category {
            device_registry::state::Category::Compute => "gpu_jobs",
            _ => "storage_deals",
        };
        summary[key] = deals;
    }
    Ok((summary, ok))
}

fn tokens(amount: u64) -> String {
    depinkit_sdk::tokens::ui_amount(amount, world::DECIMALS)
}

/// Where the summary goes: this process's stdout as it was. The programs,
/// run natively in this process, print the logs of failing transactions
/// (an oracle's vote arriving after the root finalized, a claim racing a new
/// root) on stdout; from here on stdout is stderr, so the summary, JSON
/// included, is all a reader of stdout gets.
pub(super) fn summary_output() -> std::fs::File {
    use std::os::fd::FromRawFd;
    // SAFETY: fds 1 and 2 are open for the whole process; `dup` returns a new
    // descriptor this `File` alone owns, and `dup2` only re-points fd 1.
    unsafe {
        let saved = libc::dup(1);
        libc::dup2(2, 1);
        std::fs::File::from_raw_fd(saved)
    }
}

pub(super) fn print_summary(
    out: &mut std::fs::File,
    summaries: &[Value],
    accounting_ok: bool,
    output: OutputFormat,
) {
    if output == OutputFormat::Json {
        let _ = writeln!(
            out,
            "{}",
            json!({"networks": summaries, "accounting_ok": accounting_ok})
        );
        return;
    }
    for s in summaries {
        let rejected = s["reports_rejected"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(reason, n)| format!("{reason} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} network {}: {} devices, {} oracle(s)",
            s["category"].as_str().unwrap_or_default(),
            s["network"].as_str().unwrap_or_default(),
            s["devices"],
            s["oracles"]
        );
        let _ = writeln!(
            out,
            "  reports: {} counted; refused: {}",
            s["reports_accepted"],
            if rejected.is_empty() {
                "none".into()
            } else {
                rejected
            }
        );
        let _ = writeln!(
            out,
            "  rewards paid: {} tokens of {} emitted (unclaimed {}, not yet paid {}); service revenue {}",
            tokens(s["rewards_paid"].as_u64().unwrap_or(0)),
            tokens(s["emissions"].as_u64().unwrap_or(0)),
            tokens(s["unclaimed"].as_u64().unwrap_or(0)),
            tokens(s["dust"].as_u64().unwrap_or(0)),
            tokens(s["service_revenue"].as_u64().unwrap_or(0)),
        );
        if let Some(deals) = s.get("storage_deals") {
            let amount = |name: &str| tokens(deals[name].as_u64().unwrap_or(0));
            let _ = writeln!(
                out,
                "  storage deals: {} orders, {} tokens escrowed by the customer; paid per proven \
                 epoch {} to providers, {} in fees, {} to the pool; {} refunded ({} orders \
                 faulted or done), {} still escrowed",
                deals["orders"],
                amount("escrowed"),
                amount("paid_to_providers"),
                amount("fees"),
                amount("to_pool"),
                amount("refunded"),
                deals["orders_closed"],
                amount("still_escrowed"),
            );
        }
        if let Some(jobs) = s.get("gpu_jobs") {
            let amount = |name: &str| tokens(jobs[name].as_u64().unwrap_or(0));
            let _ = writeln!(
                out,
                "  GPU jobs: {} orders, {} tokens escrowed by the customer; {} results checked \
                 (Freivalds) and their receipts co-signed, {} wrong result refused; paid {} to \
                 providers, {} in fees, {} to the pool ({} orders settled), {} still escrowed",
                jobs["orders"],
                amount("escrowed"),
                jobs["checked_and_signed"],
                jobs["wrong_results_refused"],
                amount("paid_to_providers"),
                amount("fees"),
                amount("to_pool"),
                jobs["orders_closed"],
                amount("still_escrowed"),
            );
        }
        if let Some(data) = s.get("data_transfer") {
            let _ = writeln!(
                out,
                "  data carried: {} sessions, {} bytes for {} credits; {} credits burned on chain \
                 (the hotspots paid the data-transfer share)",
                data["sessions"], data["bytes"], data["credits"], data["credits_burned"],
            );
        }
        if let Some(map) = s.get("map_sales") {
            let burned = map["credits_burned"].as_u64().unwrap_or(0);
            let _ = writeln!(
                out,
                "  map sold: {} cells in {} signed queries for {} credits (epoch {}); {}",
                map["cells"],
                map["queries"],
                map["credits_charged"],
                map["epoch"],
                if burned > 0 {
                    format!("{burned} credits burned on chain when the epoch ended")
                } else {
                    "burned on chain when that epoch ends".to_string()
                },
            );
        }
        for earner in s["top_earners"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  top earner {}: {} tokens",
                earner["device_mint"].as_str().unwrap_or_default(),
                tokens(earner["amount"].as_u64().unwrap_or(0))
            );
        }
    }
    let _ = writeln!(
        out,
        "accounting: {}",
        if accounting_ok {
            "every token emitted is claimed, unclaimed or not yet paid out; every claim reached \
             its owner; every token the storage and GPU customers escrowed is with a provider, \
             the treasury or the pool, still escrowed, or refunded"
        } else {
            "MISMATCH (see above)"
        }
    );
}
