//! Compute (GPU jobs; references: Nosana, Render): RULES.md, "Compute".
//!
//! Receipts: each names an order, is signed by the provider's device key and
//! co-signed by the order's customer (checked at ingest), and counts when the
//! order exists on this network, the device accepted it, the customer signed,
//! the job ran inside the order's window, the GPU-seconds billed fit the
//! job's duration on the GPUs a device declares, and the device does not bill
//! more jobs at once than it has GPUs. It earns GPU-seconds x its GPU class's
//! weight. An order is billed once: its earliest receipt that counts
//! settles it, paying the provider its escrow
//! ([`OrderOutcome`], the settler's whole-escrow payment); another is
//! refused as `order_billed_already`.
//!
//! Challenges: an oracle of the network issues a device a signed challenge
//! (two matrices drawn from a seed); the device answers with their product in
//! a signed report before the class's bound. The product is checked with
//! Freivalds' algorithm (`challenge_rounds` rounds in the field of 2^31 - 1,
//! each passed by a wrong product with probability at most 2^-31; the random
//! vectors are drawn from the challenge and the answer, so every oracle draws
//! the same). Each passed challenge earns `availability_units`, up to
//! `max_rewarded_challenges` per epoch, and none for a device that failed one.

use super::{EpochInput, OrderOutcome, Plan, Refusal, RuleSet, Scores, Scoring, State, Verifier};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{
    Body, ComputeAnswer, FIELD_PRIME, GpuReceipt, Hash32, Key, challenge_matrices,
    freivalds_mismatch,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A receipt that passed on its own: (start, end, content hash, weight x
/// seconds, order).
type BilledJob = (i64, i64, Hash32, u64, Key);

/// The rule set's name in bundles.
pub const NAME: &str = "compute";
/// Its version (2: an order is billed once).
pub const VERSION: u32 = 2;

/// What the rules read of an order (service-payments' `Order`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    /// The network serving it.
    pub network: Pubkey,
    /// Who pays: the receipt's co-signer.
    pub customer: Pubkey,
    /// The device (registry address) that accepted it, if any.
    pub accepted_device: Option<Pubkey>,
    /// When it was accepted, unix seconds (0: not yet).
    pub accepted_at: i64,
    /// After this no work counts, unix seconds.
    pub service_deadline: i64,
    /// Hash of what is bought (a storage deal's [`depinkit_reports::DealSpec`]).
    pub spec_hash: Hash32,
}

/// Orders by address.
pub type Orders = BTreeMap<Key, OrderView>;

/// The compute rules' constants (RULES.md's defaults), `[rules.compute]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ComputeRules {
    /// GPUs a device may bill at once (each job takes one).
    pub gpus_per_device: u32,
    /// Reward weight of a GPU-second, by GPU class.
    pub class_weights: BTreeMap<String, u64>,
    /// Weight of a class not listed.
    pub default_class_weight: u64,
    /// Freivalds rounds per answer.
    pub challenge_rounds: u32,
    /// Most milliseconds from a challenge's issue to its answer, by class.
    pub answer_bounds_ms: BTreeMap<String, i64>,
    /// The bound of a class not listed.
    pub default_answer_bound_ms: i64,
    /// Units a passed challenge earns.
    pub availability_units: u64,
    /// Most passed challenges rewarded per device and epoch.
    pub max_rewarded_challenges: u32,
}

impl Default for ComputeRules {
    fn default() -> Self {
        ComputeRules {
            gpus_per_device: 1,
            class_weights: BTreeMap::from([
                ("a100".into(), 4),
                ("h100".into(), 8),
                ("l4".into(), 1),
                ("rtx4090".into(), 2),
            ]),
            default_class_weight: 1,
            challenge_rounds: 2,
            answer_bounds_ms: BTreeMap::new(),
            default_answer_bound_ms: 5_000,
            availability_units: 600,
            max_rewarded_challenges: 24,
        }
    }
}

impl ComputeRules {
    /// A GPU-second's weight in `class`.
    pub fn class_weight(&self, class: &str) -> u64 {
        self.class_weights
            .get(class)
            .copied()
            .unwrap_or(self.default_class_weight)
    }

    /// The answer bound of `class`, milliseconds.
    pub fn answer_bound_ms(&self, class: &str) -> i64 {
        self.answer_bounds_ms
            .get(class)
            .copied()
            .unwrap_or(self.default_answer_bound_ms)
    }

    /// Whether the constants make sense, and if not which one and why.
    pub fn check(&self) -> Result<(), String> {
        if self.gpus_per_device == 0 || self.challenge_rounds == 0 {
            return Err(
                "compute.gpus_per_device and compute.challenge_rounds must be at least 1".into(),
            );
        }
        if self.default_answer_bound_ms <= 0 || self.answer_bounds_ms.values().any(|&b| b <= 0) {
            return Err("compute answer bounds must be at least 1 ms".into());
        }
        Ok(())
    }

    /// The rules a rule set's constants describe.
    pub fn from_constants(constants: &BTreeMap<String, i64>) -> Option<Self> {
        let get = |name: &str| constants.get(name).copied();
        let prefixed = |prefix: &str| -> BTreeMap<String, i64> {
            constants
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(prefix).map(|class| (class.to_string(), *v)))
                .collect()
        };
        let rules = ComputeRules {
            gpus_per_device: u32::try_from(get("gpus_per_device")?).ok()?,
            class_weights: prefixed("class_weight.")
                .into_iter()
                .map(|(k, v)| u64::try_from(v).ok().map(|v| (k, v)))
                .collect::<Option<_>>()?,
            default_class_weight: u64::try_from(get("default_class_weight")?).ok()?,
            challenge_rounds: u32::try_from(get("challenge_rounds")?).ok()?,
            answer_bounds_ms: prefixed("answer_bound_ms."),
            default_answer_bound_ms: get("default_answer_bound_ms")?,
            availability_units: u64::try_from(get("availability_units")?).ok()?,
            max_rewarded_challenges: u32::try_from(get("max_rewarded_challenges")?).ok()?,
        };
        rules.check().ok()?;
        Some(rules)
    }
}

/// Whether `answer`'s product is the product of its challenge's matrices:
/// Freivalds' check, `rounds` random vectors drawn from the challenge and the
/// product (so the same at every oracle, and not choosable by the device
/// without changing the product). O(n^2) per round.
pub fn freivalds(answer: &ComputeAnswer, rounds: u32) -> bool {
    let n = usize::from(answer.challenge.size);
    if answer.product.len() != n * n {
        return false;
    }
    let (a, b) = challenge_matrices(&answer.challenge.seed, answer.challenge.size);
    let product_bytes: Vec<u8> = answer
        .product
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let product_hash = Hash32::sha256(&product_bytes);
    (0..rounds).all(|round| {
        let r: Vec<u32> = (0..n as u32)
            .map(|i| {
                let mut preimage = answer.challenge.seed.0.to_vec();
                preimage.extend_from_slice(&product_hash.0);
                preimage.extend_from_slice(&round.to_le_bytes());
                preimage.extend_from_slice(&i.to_le_bytes());
                let word = Hash32::sha256(&preimage).0;
                (u64::from_le_bytes(word[..8].try_into().expect("8 bytes")) % FIELD_PRIME) as u32
            })
            .collect();
        freivalds_mismatch(&a, &b, &answer.product, &r, answer.challenge.size).is_none()
    })
}

impl Verifier for ComputeRules {
    fn rule_set(&self) -> RuleSet {
        let mut constants = BTreeMap::from([
            ("gpus_per_device".into(), i64::from(self.gpus_per_device)),
            (
                "default_class_weight".into(),
                self.default_class_weight as i64,
            ),
            ("challenge_rounds".into(), i64::from(self.challenge_rounds)),
            (
                "default_answer_bound_ms".into(),
                self.default_answer_bound_ms,
            ),
            ("availability_units".into(), self.availability_units as i64),
            (
                "max_rewarded_challenges".into(),
                i64::from(self.max_rewarded_challenges),
            ),
        ]);
        for (class, weight) in &self.class_weights {
            constants.insert(format!("class_weight.{class}"), *weight as i64);
        }
        for (class, bound) in &self.answer_bounds_ms {
            constants.insert(format!("answer_bound_ms.{class}"), *bound);
        }
        RuleSet {
            name: NAME.into(),
            version: VERSION,
            constants,
        }
    }

    fn orders_needed(&self, input: &EpochInput) -> BTreeSet<Key> {
        input
            .reports
            .iter()
            .filter_map(|r| match &r.report.report.body {
                Body::GpuReceipt(receipt) => Some(receipt.order),
                _ => None,
            })
            .collect()
    }

    fn score(&self, input: &EpochInput, _: Plan, _: &State) -> Scoring {
        let network = Key(input.network.to_bytes());
        let oracles: BTreeSet<Key> = input.oracles.iter().map(|o| Key(o.to_bytes())).collect();
        let mut refused = BTreeMap::new();
        let mut scores = Scores::new();
        // Receipts that pass on their own, per device.
        let mut jobs: BTreeMap<Pubkey, Vec<BilledJob>> = BTreeMap::new();
        let mut billed = BTreeSet::new();
        // Answers per device: (passed, content hash), and the challenges seen.
        let mut answers: BTreeMap<Pubkey, Vec<(bool, Hash32)>> = BTreeMap::new();
        let mut challenges_seen = BTreeSet::new();
        for report in input.reports {
            let signed = &report.report.report;
            let verdict = match &signed.body {
                Body::GpuReceipt(receipt) => self
                    .judge_receipt(input, &signed.device, receipt)
                    .map(|units| {
                        jobs.entry(report.device_mint).or_default().push((
                            receipt.start_ms,
                            receipt.end_ms,
                            report.content_hash,
                            units,
                            receipt.order,
                        ));
                    }),
                Body::ComputeAnswer(answer) => self
                    .judge_answer(
                        &network,
                        &oracles,
                        &signed.device,
                        signed.timestamp_ms,
                        answer,
                    )
                    .and_then(|passed| {
                        if !challenges_seen.insert((answer.challenge.oracle, answer.challenge.seed))
                        {
                            return Err(Refusal::new(
                                "duplicate_answer",
                                "this challenge was answered already",
                            ));
                        }
                        answers
                            .entry(report.device_mint)
                            .or_default()
                            .push((passed, report.content_hash));
                        if passed {
                            Ok(())
                        } else {
                            Err(Refusal::new(
                                "wrong_product",
                                "the product fails Freivalds' check: it is not A x B",
                            ))
                        }
                    }),
                _ => Err(Refusal::new(
                    "not_a_compute_report",
                    "a compute network scores GPU receipts and challenge answers",
                )),
            };
            if let Err(refusal) = verdict {
                refused.insert(report.content_hash, refusal);
            }
        }
        // Jobs at once beyond the device's GPUs: the later ones do not count.
        let gpus = self.gpus_per_device as usize;
        let mut settlements = BTreeMap::new();
        for (mint, mut list) in jobs {
            list.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
            let mut running: Vec<i64> = Vec::new(); // end times of counted jobs
            for (start, end, hash, units, order) in list {
                running.retain(|&running_end| running_end > start);
                if running.len() >= gpus {
                    refused.insert(
                        hash,
                        Refusal::new(
                            "overlapping_jobs",
                            format!("more than {gpus} job(s) at once on this device"),
                        ),
                    );
                    continue;
                }
                if !billed.insert(order) {
                    refused.insert(
                        hash,
                        Refusal::new(
                            "order_billed_already",
                            "an earlier receipt of this order counts: a job is billed once",
                        ),
                    );
                    continue;
                }
                running.push(end);
                *scores.entry(mint).or_insert(0) += units;
                // The job is done: its order is paid and completed.
                settlements.insert(
                    order,
                    OrderOutcome {
                        delivered: true,
                        closes: true,
                    },
                );
            }
        }
        // Availability: passed challenges, none for a device that failed one.
        for (mint, list) in answers {
            let failed = list.iter().any(|(passed, _)| !passed);
            let mut rewarded = 0u32;
            for (passed, hash) in list {
                if !passed {
                    continue;
                }
                if failed {
                    refused.insert(
                        hash,
                        Refusal::new(
                            "availability_forfeited",
                            "the device answered another challenge wrong this epoch",
                        ),
                    );
                } else if rewarded >= self.max_rewarded_challenges {
                    refused.insert(
                        hash,
                        Refusal::new(
                            "beyond_max_challenges",
                            format!(
                                "at most {} challenges earn per epoch",
                                self.max_rewarded_challenges
                            ),
                        ),
                    );
                } else {
                    rewarded += 1;
                    *scores.entry(mint).or_insert(0) += self.availability_units;
                }
            }
        }
        scores.retain(|_, s| *s > 0);
        Scoring {
            scores,
            refused,
            settlements,
            ..Scoring::default()
        }
    }
}

impl ComputeRules {
    /// A receipt on its own: its units, or why it does not count.
    fn judge_receipt(
        &self,
        input: &EpochInput,
        device: &Key,
        receipt: &GpuReceipt,
    ) -> Result<u64, Refusal> {
        let Some(order) = input.orders.get(&receipt.order) else {
            return Err(Refusal::new(
                "unknown_order",
                format!("no order {} on chain", receipt.order),
            ));
        };
        if order.network != input.network {
            return Err(Refusal::new(
                "unknown_order",
                "the order is another network's",
            ));
        }
        let (device_address, _) = device_registry::pda::find_device_address(
            &input.network,
            &Pubkey::new_from_array(device.0),
        );
        if order.accepted_device != Some(device_address) {
            return Err(Refusal::new(
                "order_not_accepted_by_device",
                "this device did not accept the order",
            ));
        }
        if Pubkey::new_from_array(receipt.client.0) != order.customer {
            return Err(Refusal::new(
                "client_not_customer",
                "the receipt's co-signer is not the order's customer",
            ));
        }
        let opened = order.accepted_at.saturating_mul(1000);
        let closes = order.service_deadline.saturating_mul(1000);
        if receipt.start_ms < opened || receipt.end_ms > closes {
            return Err(Refusal::new(
                "outside_order_window",
                "the job ran before the order was accepted or after its service deadline",
            ));
        }
        let duration_s = (receipt.end_ms - receipt.start_ms) / 1000;
        let most = u64::try_from(duration_s).unwrap_or(0) * u64::from(self.gpus_per_device);
        if receipt.gpu_seconds > most {
            return Err(Refusal::new(
                "gpu_seconds_above_duration",
                format!(
                    "{} GPU-seconds billed for a {duration_s} s job on {} GPU(s)",
                    receipt.gpu_seconds, self.gpus_per_device
                ),
            ));
        }
        Ok(receipt
            .gpu_seconds
            .saturating_mul(self.class_weight(&receipt.gpu_class)))
    }

    /// An answer on its own: whether its product is right, or why it is not
    /// judged at all.
    fn judge_answer(
        &self,
        network: &Key,
        oracles: &BTreeSet<Key>,
        device: &Key,
        answered_ms: i64,
        answer: &ComputeAnswer,
    ) -> Result<bool, Refusal> {
        let challenge = &answer.challenge;
        if !oracles.contains(&challenge.oracle) || !challenge.verify(network) {
            return Err(Refusal::new(
                "challenge_invalid",
                "the challenge is not signed by one of the network's oracles",
            ));
        }
        if challenge.device != *device {
            return Err(Refusal::new(
                "challenge_of_another_device",
                "the challenge was issued to another device",
            ));
        }
        let took = answered_ms - challenge.issued_ms;
        let bound = self.answer_bound_ms(&challenge.gpu_class);
        if took < 0 {
            return Err(Refusal::new(
                "answer_before_challenge",
                "the answer is dated before the challenge",
            ));
        }
        if took > bound {
            return Err(Refusal::new(
                "late_answer",
                format!(
                    "answered {took} ms after the challenge (at most {bound} for {})",
                    challenge.gpu_class
                ),
            ));
        }
        Ok(freivalds(answer, self.challenge_rounds))
    }
}
