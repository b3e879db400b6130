//! Storage (proofs of storage; references: Filecoin PDP, Sia, Jackal):
//! RULES.md, "Storage".
//!
//! A deal is a storage order of this network that a device accepted; its
//! `spec_hash` commits to a [`depinkit_reports::DealSpec`] (the root of a tree over the stored
//! bytes, their size, the leaf size). A deal is due in every epoch that
//! begins after it was accepted and ends before its service deadline. Each
//! epoch, `challenges_per_deal` leaves of every due deal are drawn from a seed
//! (an entropy one of the network's oracles issued in the epoch's first
//! `seed_window_ms`, a hash of that time and a blockhash read then:
//! unpredictable before the epoch began); the provider answers each with the
//! leaf and its path. Only one seed counts per deal and epoch (the earliest
//! issued among the provider's answers), so a provider can pick among at most
//! as many seeds as the network has oracles.
//!
//! A deal whose every challenge was answered right earns its bytes for the
//! epoch (every due deal is held for the whole epoch: bytes x time). A due
//! deal with any challenge missing or answered wrong earns nothing that epoch
//! and takes a strike; at `max_strikes` it is faulted and earns nothing more.
//! Strikes are carried from epoch to epoch in the oracle's rule state.
//!
//! Each due deal's epoch is also an [`OrderOutcome`] for its settlement: a
//! proven epoch pays the order one epoch's share of its escrow; the epoch
//! that faults it, or its last epoch in service (the next would end after
//! its service deadline), completes it and refunds the rest.

use super::{
    EpochInput, OrderOutcome, Plan, Refusal, RuleSet, Scores, Scoring, State, StateKey, Verifier,
};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Body, Entropy, Hash32, Key, StorageProof, storage::challenged_leaf};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The rule set's name in bundles.
pub const NAME: &str = "storage";
/// Its version.
pub const VERSION: u32 = 1;
/// Rule-state table of the deals' strikes.
pub const STRIKE_SPACE: u8 = 3;

/// The storage rules' constants (RULES.md's defaults), `[rules.storage]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageRules {
    /// Leaves challenged per deal and epoch (k): with data erasure-coded at
    /// rate 1/2, a provider missing data escapes with probability 2^-k.
    pub challenges_per_deal: u16,
    /// Strikes that fault a deal.
    pub max_strikes: u32,
    /// How long after the epoch's start a seed may be issued, ms (the
    /// oracles issue entropy every minute: one seed per oracle and epoch).
    pub seed_window_ms: i64,
}

impl Default for StorageRules {
    fn default() -> Self {
        StorageRules {
            challenges_per_deal: 20,
            max_strikes: 3,
            seed_window_ms: 60_000,
        }
    }
}

/// The strike count's key of `deal`.
pub fn strike_key(deal: &Key) -> StateKey {
    StateKey {
        space: STRIKE_SPACE,
        key: deal.0,
    }
}

/// A due deal as the epoch sees it.
struct Deal {
    /// The provider's registry address.
    device: Pubkey,
    /// Whether this is its last epoch in service (the next would end after
    /// its service deadline).
    last: bool,
    /// The answers that passed every check on their own: (seed, challenge
    /// number, content hash, device mint, bytes proven).
    answers: Vec<(Entropy, u16, Hash32, Pubkey, u64)>,
}

/// Seeds' signatures, each checked once per epoch (every deal's answers
/// carry one of a few seeds).
struct SeedCheck {
    network: Key,
    oracles: BTreeSet<Key>,
    checked: HashMap<Entropy, bool>,
}

impl SeedCheck {
    /// Whether `seed` is signed by one of the network's oracles.
    fn valid(&mut self, seed: &Entropy) -> bool {
        let (network, oracles) = (&self.network, &self.oracles);
        *self
            .checked
            .entry(*seed)
            .or_insert_with(|| oracles.contains(&seed.oracle) && seed.verify(network))
    }
}

impl StorageRules {
    /// Whether the constants make sense, and if not which one and why.
    pub fn check(&self) -> Result<(), String> {
        if self.challenges_per_deal == 0 || self.max_strikes == 0 {
            return Err(
                "storage.challenges_per_deal and storage.max_strikes must be at least 1".into(),
            );
        }
        if self.seed_window_ms <= 0 {
            return Err("storage.seed_window_ms must be at least 1".into());
        }
        Ok(())
    }

    /// The rules a rule set's constants describe.
    pub fn from_constants(constants: &BTreeMap<String, i64>) -> Option<Self> {
        let get = |name: &str| constants.get(name).copied();
        let rules = StorageRules {
            challenges_per_deal: u16::try_from(get("challenges_per_deal")?).ok()?,
            max_strikes: u32::try_from(get("max_strikes")?).ok()?,
            seed_window_ms: get("seed_window_ms")?,
        };
        rules.check().ok().map(|()| rules)
    }

    /// The deals due in `input`'s epoch: accepted by a device before the
    /// epoch began, in service until after it ends, by address.
    fn due_deals(&self, input: &EpochInput) -> BTreeMap<Key, Deal> {
        input
            .orders
            .iter()
            .filter(|(_, order)| {
                order.network == input.network
                    && order.accepted_at > 0
                    && order.accepted_at.saturating_mul(1000) <= input.start_ms
                    && order.service_deadline.saturating_mul(1000) >= input.end_ms
            })
            .filter_map(|(address, order)| {
                let next_end_ms = input
                    .end_ms
                    .saturating_add(input.end_ms.saturating_sub(input.start_ms));
                order.accepted_device.map(|device| {
                    (
                        *address,
                        Deal {
                            device,
                            last: order.service_deadline.saturating_mul(1000) < next_end_ms,
                            answers: Vec::new(),
                        },
                    )
                })
            })
            .collect()
    }

    /// One answer on its own (its seed aside): whether it proves the leaf it
    /// was asked for, or why not.
    fn judge(
        &self,
        input: &EpochInput,
        seeds: &mut SeedCheck,
        deal: Option<&Deal>,
        device: &Key,
        proof: &StorageProof,
    ) -> Result<(), Refusal> {
        let Some(order) = input.orders.get(&proof.deal) else {
            return Err(Refusal::new(
                "unknown_deal",
                format!("no storage order {} of this network on chain", proof.deal),
            ));
        };
        if order.network != input.network {
            return Err(Refusal::new(
                "unknown_deal",
                "the order is another network's",
            ));
        }
        let Some(deal) = deal else {
            return Err(Refusal::new(
                "deal_not_due",
                "the deal was not accepted before the epoch began, or its service ends within it",
            ));
        };
        let (device_address, _) = device_registry::pda::find_device_address(
            &input.network,
            &Pubkey::new_from_array(device.0),
        );
        if deal.device != device_address {
            return Err(Refusal::new(
                "not_deal_provider",
                "this device did not accept the deal",
            ));
        }
        if proof.spec.hash() != order.spec_hash {
            return Err(Refusal::new(
                "spec_mismatch",
                "the deal spec does not hash to the order's spec_hash",
            ));
        }
        if u64::from(proof.epoch) != input.epoch {
            return Err(Refusal::new(
                "wrong_epoch",
                format!(
                    "answers epoch {}'s challenge in epoch {}",
                    proof.epoch, input.epoch
                ),
            ));
        }
        let seed = &proof.seed;
        if !seeds.valid(seed) {
            return Err(Refusal::new(
                "seed_not_from_oracle",
                "the seed is not signed by one of the network's oracles",
            ));
        }
        let window_end = input.start_ms.saturating_add(self.seed_window_ms);
        if seed.issued_ms < input.start_ms || seed.issued_ms >= window_end {
            return Err(Refusal::new(
                "seed_outside_window",
                format!(
                    "the seed was issued {} ms after the epoch began; it must be within {} ms",
                    seed.issued_ms - input.start_ms,
                    self.seed_window_ms
                ),
            ));
        }
        if proof.challenge >= self.challenges_per_deal {
            return Err(Refusal::new(
                "no_such_challenge",
                format!(
                    "challenge {} of {} per deal",
                    proof.challenge, self.challenges_per_deal
                ),
            ));
        }
        let asked = challenged_leaf(
            seed,
            &proof.deal,
            proof.epoch,
            proof.challenge,
            proof.spec.leaves(),
        );
        if proof.leaf_index != asked {
            return Err(Refusal::new(
                "wrong_leaf",
                format!(
                    "challenge {} asks for leaf {asked}, not {}",
                    proof.challenge, proof.leaf_index
                ),
            ));
        }
        if !proof
            .spec
            .verify(proof.leaf_index, &proof.leaf, &proof.path)
        {
            return Err(Refusal::new(
                "path_mismatch",
                "the leaf and its path do not lead to the deal's root",
            ));
        }
        Ok(())
    }
}

impl Verifier for StorageRules {
    fn rule_set(&self) -> RuleSet {
        RuleSet {
            name: NAME.into(),
            version: VERSION,
            constants: BTreeMap::from([
                (
                    "challenges_per_deal".into(),
                    i64::from(self.challenges_per_deal),
                ),
                ("max_strikes".into(), i64::from(self.max_strikes)),
                ("seed_window_ms".into(), self.seed_window_ms),
            ]),
        }
    }

    fn reads_network_orders(&self) -> bool {
        true
    }

    fn orders_needed(&self, input: &EpochInput) -> BTreeSet<Key> {
        input
            .reports
            .iter()
            .filter_map(|r| match &r.report.report.body {
                Body::StorageProof(proof) => Some(proof.deal),
                _ => None,
            })
            .collect()
    }

    fn plan(&self, input: &EpochInput) -> Plan {
        let deals = self.due_deals(input);
        Plan {
            state_keys: deals.keys().map(strike_key).collect(),
            work: Box::new(deals),
        }
    }

    fn score(&self, input: &EpochInput, plan: Plan, state: &State) -> Scoring {
        let mut deals = match plan.work.downcast::<BTreeMap<Key, Deal>>() {
            Ok(deals) => *deals,
            Err(_) => self.due_deals(input),
        };
        let mut seeds = SeedCheck {
            network: Key(input.network.to_bytes()),
            oracles: input.oracles.iter().map(|o| Key(o.to_bytes())).collect(),
            checked: HashMap::new(),
        };
        let strikes_of = |deal: &Key| state.get(&strike_key(deal)).copied().unwrap_or(0);
        let max_strikes = i64::from(self.max_strikes);
        let mut refused = BTreeMap::new();
        for report in input.reports {
            let signed = &report.report.report;
            let Body::StorageProof(proof) = &signed.body else {
                refused.insert(
                    report.content_hash,
                    Refusal::new(
                        "not_a_storage_report",
                        "a storage network scores answers to storage challenges",
                    ),
                );
                continue;
            };
            let judged = self.judge(
                input,
                &mut seeds,
                deals.get(&proof.deal),
                &signed.device,
                proof,
            );
            match judged {
                Err(refusal) => {
                    refused.insert(report.content_hash, refusal);
                }
                Ok(()) if strikes_of(&proof.deal) >= max_strikes => {
                    refused.insert(
                        report.content_hash,
                        Refusal::new(
                            "deal_faulted",
                            format!("the deal was faulted after {max_strikes} strikes"),
                        ),
                    );
                }
                Ok(()) => {
                    let deal = deals.get_mut(&proof.deal).expect("judged due");
                    deal.answers.push((
                        proof.seed,
                        proof.challenge,
                        report.content_hash,
                        report.device_mint,
                        proof.spec.size,
                    ));
                }
            }
        }
        let mut scores = Scores::new();
        let mut carried = State::new();
        let mut settlements = BTreeMap::new();
        for (address, deal) in deals {
            let strikes = strikes_of(&address);
            if strikes >= max_strikes {
                continue;
            }
            // One seed per deal: the earliest issued (then the lowest value).
            let seed = deal
                .answers
                .iter()
                .map(|(seed, ..)| (seed.issued_ms, seed.value))
                .min();
            let mut answered = BTreeSet::new();
            let mut proven = None;
            for (used, challenge, hash, mint, size) in &deal.answers {
                if Some((used.issued_ms, used.value)) != seed {
                    refused.insert(
                        *hash,
                        Refusal::new(
                            "seed_differs",
                            "another of the deal's answers this epoch used an earlier seed",
                        ),
                    );
                } else if !answered.insert(*challenge) {
                    refused.insert(
                        *hash,
                        Refusal::new(
                            "duplicate_answer",
                            format!("challenge {challenge} was answered already"),
                        ),
                    );
                } else {
                    proven = Some((*mint, *size));
                }
            }
            match proven {
                Some((mint, size)) if answered.len() == usize::from(self.challenges_per_deal) => {
                    let score = scores.entry(mint).or_insert(0);
                    *score = score.saturating_add(size);
                    settlements.insert(
                        address,
                        OrderOutcome {
                            delivered: true,
                            closes: deal.last,
                        },
                    );
                }
                _ => {
                    carried.insert(strike_key(&address), strikes + 1);
                    if deal.last || strikes + 1 >= max_strikes {
                        settlements.insert(
                            address,
                            OrderOutcome {
                                delivered: false,
                                closes: true,
                            },
                        );
                    }
                    // Its answers earned nothing: say so on each.
                    for (_, _, hash, ..) in &deal.answers {
                        refused.entry(*hash).or_insert_with(|| {
                            Refusal::new(
                                "deal_not_proven",
                                format!(
                                    "{} of {} challenges answered right: the deal takes a strike",
                                    answered.len(),
                                    self.challenges_per_deal
                                ),
                            )
                        });
                    }
                }
            }
        }
        Scoring {
            scores,
            refused,
            carried,
            settlements,
            ..Scoring::default()
        }
    }
}
