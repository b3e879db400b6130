//! How an epoch's accepted reports become scores: the part each category
//! defines (RULES.md). A verifier is a pure function of what it is given (the
//! epoch's reports sorted by content hash, the network's devices as read when
//! scoring, and the values earlier epochs carried forward), so every honest
//! oracle holding the same inputs computes the same scores whatever order the
//! reports arrived in. What it refuses, it names with the rule and why, so an
//! owner can see why a device earned nothing. Its name, version and constants
//! go into every bundle, so anyone can tell which rules produced a root and
//! run them again ([`crate::bundle::verify`]).

pub mod compute;
pub mod geo;
pub mod mapping;
pub mod storage;
pub mod wireless;

use crate::{registry::RegisteredDevice, store::StoredReport};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Hash32, Key};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Scores by device mint (0 or absent: nothing earned).
pub type Scores = BTreeMap<Pubkey, u64>;

/// The network's devices as read when an epoch is scored, by device key.
pub type Devices = BTreeMap<Key, RegisteredDevice>;

/// A value one epoch's scoring leaves for the next ones (the mapping rules'
/// frames already seen and cells' last mapping): its space (which rule set's
/// table) and key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StateKey {
    /// Which table: each rule set numbers its own.
    pub space: u8,
    /// The key in it (a hash, or a number in its first bytes).
    pub key: [u8; 32],
}

/// Carried values by key.
pub type State = BTreeMap<StateKey, i64>;

/// Which rules scored an epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    /// The rule set's name (`mapping`, `report-count`).
    pub name: String,
    /// Its version: a change of any rule takes a new one.
    pub version: u32,
    /// The constants in force (a verifier is rebuilt from them).
    pub constants: BTreeMap<String, i64>,
}

/// Why a rule refused a report: the rule's stable code and what it saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The rule (`speed_above_limit`), stable across versions.
    pub rule: String,
    /// What broke it, for people (`312 km/h between fixes 4 and 5`).
    pub detail: String,
}

impl Refusal {
    /// A refusal under `rule` saying `detail`.
    pub fn new(rule: &str, detail: impl Into<String>) -> Self {
        Refusal {
            rule: rule.into(),
            detail: detail.into(),
        }
    }
}

/// What a verifier sees of one epoch.
#[derive(Clone, Copy, Debug)]
pub struct EpochInput<'a> {
    /// The network.
    pub network: Pubkey,
    /// The network's oracles when scoring (whose entropy beacons may carry).
    pub oracles: &'a [Pubkey],
    /// The epoch.
    pub epoch: u64,
    /// Its start, unix milliseconds.
    pub start_ms: i64,
    /// Its end (exclusive), unix milliseconds.
    pub end_ms: i64,
    /// Its accepted reports, sorted by content hash.
    pub reports: &'a [StoredReport],
    /// The network's devices (at least every device the reports name).
    pub devices: &'a Devices,
    /// The orders the rules asked for ([`Verifier::orders_needed`]) that
    /// exist on chain, by address.
    pub orders: &'a compute::Orders,
    /// The credits each customer the rules asked for
    /// ([`Verifier::customers_needed`]) may still spend from its usage
    /// escrow, by wallet (absent: no escrow).
    pub usage_escrows: &'a UsageEscrows,
}

/// Credits spendable per customer wallet.
pub type UsageEscrows = BTreeMap<Key, u64>;

/// No customer's escrow (rules that read none).
pub const NO_USAGE_ESCROWS: &UsageEscrows = &UsageEscrows::new();

/// What scoring an epoch produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scoring {
    /// Each earning device's score.
    pub scores: Scores,
    /// The reports the rules refused, by content hash (whole reports; a
    /// report partly used is not listed).
    pub refused: BTreeMap<Hash32, Refusal>,
    /// Values to carry to later epochs (written when the epoch is scored).
    pub carried: State,
    /// The devices whose entries the rules read (kept in the bundle).
    pub devices_read: BTreeSet<Key>,
    /// What the epoch's service did for each order settled per epoch (the
    /// storage rules' deals), by order address: the settler pays it once
    /// the epoch is finalized.
    pub settlements: BTreeMap<Key, OrderOutcome>,
    /// The cells the epoch mapped (the mapping rules'), by cell.
    pub map_cells: Vec<mapping::MappedCell>,
    /// The value of the service each device delivered that customers paid
    /// for (the wireless rules' data transfer: credits carried), by mint.
    pub usage: Scores,
    /// The share of the epoch's amount, basis points, split by [`Self::usage`]
    /// before the rest is split by [`Self::scores`] (when any usage).
    pub usage_share_bps: u16,
    /// What customers are charged for the usage, burned before the root is
    /// voted (one charge per accepted report).
    pub charges: Vec<depinkit_reports::usage::Charge>,
}

/// What one epoch's service did for an order paid per epoch, which that
/// epoch's settlement of the order pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderOutcome {
    /// Delivered and proven for the whole epoch: the settlement pays one
    /// epoch's share of the escrow.
    pub delivered: bool,
    /// The order ends with this epoch (faulted, or its last epoch in
    /// service): the settlement completes it and refunds what is left.
    pub closes: bool,
}

/// The scoring rules of a category.
pub trait Verifier: Send + Sync {
    /// The rules' name, version and constants.
    fn rule_set(&self) -> RuleSet;

    /// Whether the rules read the network's devices (their locations);
    /// when not, [`EpochInput::devices`] is empty.
    fn uses_devices(&self) -> bool {
        false
    }

    /// Whether scoring reads every order of the network (the storage rules'
    /// deals, due whether or not a report names them); the worker adds them
    /// to [`EpochInput::orders`].
    fn reads_network_orders(&self) -> bool {
        false
    }

    /// The orders (service-payments accounts) scoring `input` reads; the
    /// worker reads them from the chain into [`EpochInput::orders`]. None by
    /// default.
    fn orders_needed(&self, input: &EpochInput) -> BTreeSet<Key> {
        let _ = input;
        BTreeSet::new()
    }

    /// The customers whose usage escrows scoring `input` reads; the worker
    /// reads them from the chain into [`EpochInput::usage_escrows`]. None by
    /// default.
    fn customers_needed(&self, input: &EpochInput) -> BTreeSet<Key> {
        let _ = input;
        BTreeSet::new()
    }

    /// The first pass over `input`: the carried values scoring it reads
    /// (none for rules without memory), which the worker loads from its
    /// store, and whatever the pass computed that scoring uses again.
    fn plan(&self, input: &EpochInput) -> Plan {
        let _ = input;
        Plan::default()
    }

    /// Scores `input` after `plan`, given the carried values it asked for
    /// (a key absent from `state` was never set).
    fn score(&self, input: &EpochInput, plan: Plan, state: &State) -> Scoring;
}

/// What [`Verifier::plan`] found: the carried values to load, and its work
/// so far (for its own [`Verifier::score`]).
pub struct Plan {
    /// The carried values scoring reads.
    pub state_keys: BTreeSet<StateKey>,
    /// The first pass's results, in the verifier's own type.
    pub work: Box<dyn std::any::Any + Send>,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            state_keys: BTreeSet::new(),
            work: Box::new(()),
        }
    }
}

impl Verifier for Box<dyn Verifier> {
    fn rule_set(&self) -> RuleSet {
        (**self).rule_set()
    }

    fn uses_devices(&self) -> bool {
        (**self).uses_devices()
    }

    fn reads_network_orders(&self) -> bool {
        (**self).reads_network_orders()
    }

    fn orders_needed(&self, input: &EpochInput) -> BTreeSet<Key> {
        (**self).orders_needed(input)
    }

    fn customers_needed(&self, input: &EpochInput) -> BTreeSet<Key> {
        (**self).customers_needed(input)
    }

    fn plan(&self, input: &EpochInput) -> Plan {
        (**self).plan(input)
    }

    fn score(&self, input: &EpochInput, plan: Plan, state: &State) -> Scoring {
        (**self).score(input, plan, state)
    }
}

/// The simplest rule set: one point per accepted report, at most
/// `max_per_device` per device and epoch. It lets the daemon's machinery be
/// tested on its own, and scores networks whose operators want nothing more.
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

    fn score(&self, input: &EpochInput, _: Plan, _: &State) -> Scoring {
        let mut scores = Scores::new();
        for report in input.reports {
            let score = scores.entry(report.device_mint).or_insert(0);
            *score = (*score + 1).min(self.max_per_device);
        }
        Scoring {
            scores,
            ..Scoring::default()
        }
    }
}

/// The verifier a rule set names, rebuilt from its constants; `None` when
/// this build does not know it (or a constant is missing or out of range).
pub fn verifier_for(rule_set: &RuleSet) -> Option<Box<dyn Verifier>> {
    match (rule_set.name.as_str(), rule_set.version) {
        ("report-count", 1) => {
            let max = *rule_set.constants.get("max_per_device")?;
            Some(Box::new(ReportCount {
                max_per_device: u64::try_from(max).ok()?,
            }))
        }
        (mapping::NAME, mapping::VERSION) => Some(Box::new(mapping::MappingRules::from_constants(
            &rule_set.constants,
        )?)),
        (wireless::NAME, 1 | wireless::VERSION) => Some(Box::new(
            wireless::WirelessRules::from_constants(&rule_set.constants)?,
        )),
        (compute::NAME, 1 | compute::VERSION) => Some(Box::new(
            compute::ComputeRules::from_constants(&rule_set.constants)?,
        )),
        (storage::NAME, storage::VERSION) => Some(Box::new(storage::StorageRules::from_constants(
            &rule_set.constants,
        )?)),
        _ => None,
    }
}

/// `f` over `items` on every core, results in `items`' order (so the same
/// on any machine): the per-report work of an epoch of millions of reports.
pub(crate) fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 1 || items.len() < 4096 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().expect("a scoring thread panicked"))
            .collect()
    })
}
