//! Data transfer (reference: Helium's packet verifier): a hotspot reports
//! the bytes it carried for a customer in a window, the report co-signed by
//! the customer's wallet (checked at ingest). A session counts when its
//! window lies in the epoch and carried bytes, and its credits
//! (`ceil(bytes / bytes_per_credit)`, Helium's data credit per 24 bytes)
//! fit what the customer's usage escrow can still spend, sessions taken in
//! content-hash order. Each counted session is a charge to its customer,
//! burned on chain before the epoch's root is voted, and its credits are the
//! hotspot's usage: `data_transfer_share_bps` of the epoch's amount is split
//! by usage before the rest goes to coverage.

use super::WirelessRules;
use crate::verifier::{EpochInput, Refusal, Scores};
use depinkit_reports::{Body, Hash32, Key, usage::Charge};
use std::collections::BTreeMap;

/// What the epoch's sessions came to.
#[derive(Default)]
pub(super) struct Sessions {
    /// Credits carried, by device mint.
    pub usage: Scores,
    /// One charge per counted session.
    pub charges: Vec<Charge>,
    /// The sessions refused, and why.
    pub refused: Vec<(Hash32, Refusal)>,
}

/// Judges every data-transfer report of `input` in order.
pub(super) fn judge(rules: &WirelessRules, input: &EpochInput) -> Sessions {
    let mut sessions = Sessions::default();
    let mut spent: BTreeMap<Key, u64> = BTreeMap::new();
    for report in input.reports {
        let Body::DataTransfer(session) = &report.report.report.body else {
            continue;
        };
        let refuse = |code: &str, detail: String| (report.content_hash, Refusal::new(code, detail));
        if session.start_ms >= session.end_ms
            || session.start_ms < input.start_ms
            || session.end_ms > input.end_ms
        {
            sessions.refused.push(refuse(
                "session_outside_epoch",
                format!(
                    "its window {}..{} ms is not within the epoch {}..{} ms",
                    session.start_ms, session.end_ms, input.start_ms, input.end_ms
                ),
            ));
            continue;
        }
        if session.bytes == 0 {
            sessions
                .refused
                .push(refuse("no_bytes", "the session carried no bytes".into()));
            continue;
        }
        let credits = session.bytes.div_ceil(rules.bytes_per_credit);
        let available = input
            .usage_escrows
            .get(&session.customer)
            .copied()
            .unwrap_or(0);
        let used = spent.entry(session.customer).or_insert(0);
        if used.saturating_add(credits) > available {
            sessions.refused.push(refuse(
                "customer_out_of_credits",
                format!(
                    "the session costs {credits} credits; the customer's escrow has {} left",
                    available.saturating_sub(*used)
                ),
            ));
            continue;
        }
        *used += credits;
        let carried = sessions.usage.entry(report.device_mint).or_insert(0);
        *carried = carried.saturating_add(credits);
        sessions.charges.push(Charge {
            wallet: session.customer,
            epoch: input.epoch,
            request: report.content_hash,
            units: session.bytes,
            credits,
        });
    }
    sessions
}
