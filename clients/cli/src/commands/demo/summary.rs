//! What the demo prints: per network, what its devices did and earned, and
//! whether every token is accounted for; as text, or as one JSON object.

use super::{DemoError, Tally, world, world::DemoChain, world::DemoNetwork, world::category_name};
use crate::output::OutputFormat;
use reward_pool::state::Pool;
use serde_json::{Value, json};
use std::io::Write;

/// One network's summary, and whether its accounting holds: the vault holds
/// what came in less what was claimed, the owner holds every claim, the
/// crank claimed all the roots pay, and the roots pay no more than came in,
/// nor more than the demo's epochs emitted and earned.
pub(super) async fn summarize(
    chain: &DemoChain,
    network: &DemoNetwork,
    pool: &Pool,
    tally: &Tally,
    url: &str,
    epochs: u32,
    deals: Option<&super::deals::Deals>,
) -> Result<(Value, bool), DemoError> {
    let balance = |account| async move {
        depinkit_sdk::tokens::balance(&chain.rpc, &account)
            .await
            .map(|b| b.unwrap_or(0))
            .map_err(|e| DemoError::Chain(e.to_string()))
    };
    let vault = balance(network.pool.vault).await?;
    let owner = balance(depinkit_sdk::ata(
        &solana_sdk::signer::Signer::pubkey(&network.owner),
        &pool.reward_mint,
        &pool.reward_token_program,
    ))
    .await?;
    // What the demo's epochs emitted (the schedule is flat); what their roots
    // did not pay out is the floors' dust and the shares of refused devices'
    // epochs nobody earned in.
    let emissions = world::EMISSION * u64::from(epochs);
    let unpaid = (emissions + pool.revenue_inflow).checked_sub(pool.root_total);
    let ok = vault == pool.total_inflow - pool.total_claimed
        && owner == pool.total_claimed
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
    if let Some(deals) = deals {
        summary["storage_deals"] = json!({"orders": deals.orders, "escrowed": deals.escrowed});
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
            let _ = writeln!(
                out,
                "  storage deals: {} orders, {} tokens escrowed by the customer (not settled yet)",
                deals["orders"],
                tokens(deals["escrowed"].as_u64().unwrap_or(0)),
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
            "every token emitted is claimed, unclaimed or not yet paid out; every claim reached its owner"
        } else {
            "MISMATCH (see above)"
        }
    );
}
