//! What ingest decides for each report of a batch before it is stored: the
//! checks that need no store, in the order that costs least (cheap field
//! checks, then the registry, then signatures in one batch for the reports
//! still standing, then duplicates inside the batch). A report refused
//! costs only itself.

use crate::{
    chain::Chain,
    registry::{RegisteredDevice, Registry},
};
use depinkit_reports::{Hash32, Rejection, SignedReport, verify_signatures};

/// How far ahead of the oracle's clock a report's timestamp may be (RULES.md:
/// 2 minutes).
pub const FUTURE_TOLERANCE_MS: i64 = 2 * 60 * 1000;

/// A report that passed every check, with what the store needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Screened {
    /// The report.
    pub report: SignedReport,
    /// Its content hash (its identity in the store).
    pub content_hash: Hash32,
    /// Its device as the registry has it.
    pub device: RegisteredDevice,
}

/// Screens each decoded report of a batch, in order. `now_ms` is the oracle's
/// clock, unix milliseconds.
pub async fn screen<C: Chain>(
    registry: &Registry<C>,
    decoded: Vec<Result<SignedReport, Rejection>>,
    now_ms: i64,
) -> Vec<Result<Screened, Rejection>> {
    let mut outcomes: Vec<Result<SignedReport, Rejection>> = decoded
        .into_iter()
        .map(|decoded| {
            decoded.and_then(|report| {
                if report.report.timestamp_ms > now_ms.saturating_add(FUTURE_TOLERANCE_MS) {
                    Err(Rejection::FutureTimestamp)
                } else {
                    Ok(report)
                }
            })
        })
        .collect();
    // The registry, for the reports still standing.
    let standing: Vec<usize> = (0..outcomes.len())
        .filter(|&i| outcomes[i].is_ok())
        .collect();
    let reports: Vec<&depinkit_reports::Report> = standing
        .iter()
        .map(|&i| &outcomes[i].as_ref().expect("standing").report)
        .collect();
    let devices = registry.authenticate(&reports).await;
    let mut known = vec![None; outcomes.len()];
    for (&i, device) in standing.iter().zip(devices) {
        match device {
            Ok(device) => known[i] = Some(device),
            Err(rejection) => outcomes[i] = Err(rejection),
        }
    }
    // Signatures, in one batch.
    let standing: Vec<usize> = (0..outcomes.len())
        .filter(|&i| outcomes[i].is_ok())
        .collect();
    let signed: Vec<SignedReport> = standing
        .iter()
        .map(|&i| outcomes[i].clone().expect("standing"))
        .collect();
    for (&i, verdict) in standing.iter().zip(verify_signatures(&signed)) {
        if let Err(rejection) = verdict {
            outcomes[i] = Err(rejection);
        }
    }
    // The same content twice in one batch is stored once.
    let mut seen = std::collections::HashSet::new();
    outcomes
        .into_iter()
        .zip(known)
        .map(|(outcome, device)| {
            let report = outcome?;
            let content_hash = report.report.content_hash();
            if !seen.insert(content_hash) {
                return Err(Rejection::Duplicate);
            }
            Ok(Screened {
                content_hash,
                device: device.expect("authenticated"),
                report,
            })
        })
        .collect()
}
