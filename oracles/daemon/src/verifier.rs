//! How an epoch's accepted reports become scores: the part each category
//! defines (RULES.md). A verifier is a pure function of the epoch's reports,
//! sorted by content hash before it sees them, so every honest oracle that
//! holds the same reports computes the same scores whatever order they
//! arrived in. Its name and version go into every bundle, so anyone can tell
//! which rules produced a root.

use crate::store::StoredReport;
use anchor_lang::prelude::Pubkey;
use std::collections::BTreeMap;

/// Scores by device mint (0 or absent: nothing earned).
pub type Scores = BTreeMap<Pubkey, u64>;

/// Which rules scored an epoch.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleSet {
    /// The rule set's name (`wireless-poc`, `report-count`).
    pub name: String,
    /// Its version: a change of any rule or constant takes a new one.
    pub version: u32,
    /// The constants in force, for people reading a bundle.
    pub constants: BTreeMap<String, i64>,
}

/// The scoring rules of a category.
pub trait Verifier: Send + Sync {
    /// The rules' name, version and constants.
    fn rule_set(&self) -> RuleSet;

    /// Each device's score for `epoch` from its accepted reports, given sorted
    /// by content hash.
    fn score(&self, epoch: u64, reports: &[StoredReport]) -> Scores;
}

/// The simplest rule set: one point per accepted report, at most
/// `max_per_device` per device and epoch. It stands in until a category's
/// verifier is chosen, and lets the daemon's machinery be tested on its own.
#[derive(Clone, Copy, Debug)]
pub struct ReportCount {
    /// Most points one device earns in an epoch.
    pub max_per_device: u64,
}

impl Verifier for ReportCount {
    fn rule_set(&self) -> RuleSet {
        RuleSet {
            name: "report-count".into(),
            version: 1,
            constants: BTreeMap::from([(
                "max_per_device".into(),
                i64::try_from(self.max_per_device).unwrap_or(i64::MAX),
            )]),
        }
    }

    fn score(&self, _epoch: u64, reports: &[StoredReport]) -> Scores {
        let mut scores = Scores::new();
        for report in reports {
            let score = scores.entry(report.device_mint).or_insert(0);
            *score = (*score + 1).min(self.max_per_device);
        }
        scores
    }
}
