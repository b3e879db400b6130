//! The compute rules (RULES.md, "Compute"): for each rule a receipt or an
//! answer that passes and one that breaks exactly it, with the refusal
//! asserted; Freivalds' check never accepting a wrong product in 10,000
//! random trials.

mod common;

use anchor_lang::prelude::Pubkey;
use common::{NETWORK, key, refusal};
use depinkit_oracle::{
    store::StoredReport,
    verifier::{
        Devices, EpochInput, OrderOutcome, Scoring, State, Verifier,
        compute::{ComputeRules, OrderView, Orders, freivalds},
        verifier_for,
    },
};
use depinkit_reports::{
    Body, ComputeAnswer, ComputeChallenge, FIELD_PRIME, GpuReceipt, Hash32, Key, Report,
    challenge_matrices, multiply,
};
use proptest::prelude::*;

const T: i64 = 1_767_225_600_000;
const HOUR_MS: i64 = 3_600_000;

/// The network's oracle (the one `common::entropy` signs with).
fn oracle() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[5; 32])
}

fn oracle_key() -> Pubkey {
    Pubkey::new_from_array(oracle().verifying_key().to_bytes())
}

fn device_key(seed: u8) -> Key {
    Key(key(seed).verifying_key().to_bytes())
}

fn mint(seed: u8) -> Pubkey {
    device_registry::pda::find_device_mint_address(
        &NETWORK,
        &Pubkey::new_from_array(device_key(seed).0),
    )
    .0
}

fn device_address(seed: u8) -> Pubkey {
    device_registry::pda::find_device_address(&NETWORK, &Pubkey::new_from_array(device_key(seed).0))
        .0
}

/// The customer's key for `order` (seed 100 + order number).
fn customer(n: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[100 + n; 32])
}

fn order_address(n: u8) -> Key {
    Key([200 + n; 32])
}

/// Order `n`, accepted by device `seed` an hour before `T`, serviceable for
/// a day.
fn order(n: u8, seed: u8) -> (Key, OrderView) {
    (
        order_address(n),
        OrderView {
            network: NETWORK,
            customer: Pubkey::new_from_array(customer(n).verifying_key().to_bytes()),
            accepted_device: Some(device_address(seed)),
            accepted_at: (T - HOUR_MS) / 1000,
            service_deadline: (T + 24 * HOUR_MS) / 1000,
            spec_hash: depinkit_reports::Hash32([0; 32]),
        },
    )
}

fn stored(seed: u8, report: depinkit_reports::SignedReport) -> StoredReport {
    StoredReport {
        id: 0,
        epoch: 0,
        device_mint: mint(seed),
        content_hash: report.report.content_hash(),
        received_ms: report.report.timestamp_ms,
        report,
    }
}

/// Device `seed`'s receipt for order `n`: `minutes` long from `start_ms`,
/// billing all its seconds, co-signed by the order's customer.
fn receipt(seed: u8, n: u8, start_ms: i64, minutes: i64) -> StoredReport {
    let end_ms = start_ms + minutes * 60_000;
    let signed = Report {
        network: Key(NETWORK.to_bytes()),
        device: device_key(seed),
        timestamp_ms: end_ms,
        body: Body::GpuReceipt(GpuReceipt {
            order: order_address(n),
            client: Key(customer(n).verifying_key().to_bytes()),
            gpu_class: "a100".into(),
            start_ms,
            end_ms,
            gpu_seconds: (minutes * 60) as u64,
            result_hash: Hash32::sha256(&[n]),
        }),
    }
    .sign(&key(seed))
    .cosign(&customer(n));
    stored(seed, signed)
}

fn challenge(seed: u8, n: u8, issued_ms: i64) -> ComputeChallenge {
    ComputeChallenge::issue(
        &Key(NETWORK.to_bytes()),
        device_key(seed),
        "a100",
        Hash32::sha256(&[seed, n]),
        8,
        issued_ms,
        &oracle(),
    )
}

/// Device `seed`'s answer to `challenge` at `at_ms`, right or one entry off.
fn answer(seed: u8, challenge: ComputeChallenge, at_ms: i64, right: bool) -> StoredReport {
    let (a, b) = challenge_matrices(&challenge.seed, challenge.size);
    let mut product = multiply(&a, &b, challenge.size);
    if !right {
        product[5] = (product[5] + 1) % FIELD_PRIME as u32;
    }
    let signed = Report {
        network: Key(NETWORK.to_bytes()),
        device: device_key(seed),
        timestamp_ms: at_ms,
        body: Body::ComputeAnswer(ComputeAnswer { challenge, product }),
    }
    .sign(&key(seed));
    stored(seed, signed)
}

fn score_with(rules: &ComputeRules, mut reports: Vec<StoredReport>, orders: &Orders) -> Scoring {
    reports.sort_by_key(|r| r.content_hash);
    let devices = Devices::new();
    let oracles = [oracle_key()];
    let input = EpochInput {
        network: NETWORK,
        oracles: &oracles,
        epoch: 0,
        start_ms: T - HOUR_MS,
        end_ms: T + HOUR_MS,
        reports: &reports,
        devices: &devices,
        orders,
        usage_escrows: depinkit_oracle::verifier::NO_USAGE_ESCROWS,
    };
    let plan = rules.plan(&input);
    rules.score(&input, plan, &State::new())
}

#[test]
fn a_receipt_for_an_accepted_order_earns_its_gpu_seconds_times_the_class_weight() {
    let orders = Orders::from([order(1, 1)]);
    let good = receipt(1, 1, T - 30 * 60_000, 10);
    let scoring = score_with(&ComputeRules::default(), vec![good.clone()], &orders);
    assert!(scoring.refused.is_empty(), "{:?}", scoring.refused);
    assert_eq!(
        scoring.scores[&mint(1)],
        600 * 4,
        "10 minutes on an a100 (weight 4)"
    );
    // The job is done: its order is settled whole and completed.
    assert_eq!(
        scoring.settlements,
        [(
            order_address(1),
            OrderOutcome {
                delivered: true,
                closes: true
            }
        )]
        .into()
    );
}

#[test]
fn an_order_is_billed_once() {
    let orders = Orders::from([order(1, 1)]);
    let first = receipt(1, 1, T - 50 * 60_000, 10);
    let again = receipt(1, 1, T - 30 * 60_000, 10);
    let scoring = score_with(
        &ComputeRules::default(),
        vec![again.clone(), first.clone()],
        &orders,
    );
    assert_eq!(refusal(&scoring, &first), None);
    assert_eq!(
        refusal(&scoring, &again).as_deref(),
        Some("order_billed_already")
    );
    assert_eq!(scoring.scores[&mint(1)], 600 * 4, "one job's GPU-seconds");
    assert_eq!(scoring.settlements.len(), 1);
}

#[test]
fn each_receipt_rule_refuses_what_breaks_it() {
    let rules = ComputeRules::default();
    let mut elsewhere = order(2, 1);
    elsewhere.1.network = Pubkey::new_unique();
    let orders = Orders::from([order(1, 1), elsewhere, order(3, 2), order(4, 1)]);
    let unknown = receipt(1, 9, T - 30 * 60_000, 10);
    let other_network = receipt(1, 2, T - 30 * 60_000, 10);
    let not_accepted = receipt(1, 3, T - 30 * 60_000, 10); // device 2 accepted order 3
    let mut stranger = Report {
        ..receipt(1, 1, T - 20 * 60_000, 5).report.report
    };
    if let Body::GpuReceipt(r) = &mut stranger.body {
        r.client = Key(customer(7).verifying_key().to_bytes());
    }
    let stranger = stored(1, stranger.sign(&key(1)).cosign(&customer(7)));
    let before_acceptance = receipt(1, 4, T - 2 * HOUR_MS, 10);
    let mut overbilled = receipt(1, 4, T - 10 * 60_000, 5).report.report;
    if let Body::GpuReceipt(r) = &mut overbilled.body {
        r.gpu_seconds = 301;
    }
    let overbilled = stored(1, overbilled.sign(&key(1)).cosign(&customer(4)));
    let cases = [
        (unknown, "unknown_order"),
        (other_network, "unknown_order"),
        (not_accepted, "order_not_accepted_by_device"),
        (stranger, "client_not_customer"),
        (before_acceptance, "outside_order_window"),
        (overbilled, "gpu_seconds_above_duration"),
    ];
    for (report, rule) in cases {
        let scoring = score_with(&rules, vec![report.clone()], &orders);
        assert_eq!(refusal(&scoring, &report).as_deref(), Some(rule));
        assert!(scoring.scores.is_empty(), "{rule}");
    }
}

#[test]
fn a_device_bills_no_more_jobs_at_once_than_it_has_gpus() {
    let orders = Orders::from([order(1, 1), order(2, 1)]);
    let first = receipt(1, 1, T - 50 * 60_000, 30);
    let overlapping = receipt(1, 2, T - 40 * 60_000, 30);
    let after = receipt(1, 2, T - 15 * 60_000, 10);
    let scoring = score_with(
        &ComputeRules::default(),
        vec![first.clone(), overlapping.clone(), after.clone()],
        &orders,
    );
    assert_eq!(
        refusal(&scoring, &overlapping).as_deref(),
        Some("overlapping_jobs")
    );
    assert_eq!(refusal(&scoring, &first), None);
    assert_eq!(refusal(&scoring, &after), None);
    assert_eq!(scoring.scores[&mint(1)], (1_800 + 600) * 4);
    // Two GPUs declared: both count.
    let rules = ComputeRules {
        gpus_per_device: 2,
        ..ComputeRules::default()
    };
    let scoring = score_with(&rules, vec![first, overlapping], &orders);
    assert!(scoring.refused.is_empty());
    assert_eq!(scoring.scores[&mint(1)], 3_600 * 4);
}

#[test]
fn a_right_answer_in_time_earns_availability_and_each_answer_rule_refuses() {
    let rules = ComputeRules::default();
    let orders = Orders::new();
    let right = answer(1, challenge(1, 1, T), T + 800, true);
    let scoring = score_with(&rules, vec![right.clone()], &orders);
    assert!(scoring.refused.is_empty(), "{:?}", scoring.refused);
    assert_eq!(scoring.scores[&mint(1)], 600);

    let wrong = answer(2, challenge(2, 1, T), T + 800, false);
    let mut forged_challenge = challenge(3, 1, T);
    forged_challenge.issued_ms += 1; // no longer what the oracle signed
    let forged = answer(3, forged_challenge, T + 800, true);
    let strangers = ComputeChallenge::issue(
        &Key(NETWORK.to_bytes()),
        device_key(4),
        "a100",
        Hash32::sha256(b"x"),
        8,
        T,
        &ed25519_dalek::SigningKey::from_bytes(&[66; 32]),
    );
    let not_an_oracle = answer(4, strangers, T + 800, true);
    let borrowed = answer(5, challenge(6, 1, T), T + 800, true);
    let late = answer(7, challenge(7, 1, T), T + 5_001, true);
    let early = answer(8, challenge(8, 1, T), T - 1, true);
    for (report, rule) in [
        (wrong, "wrong_product"),
        (forged, "challenge_invalid"),
        (not_an_oracle, "challenge_invalid"),
        (borrowed, "challenge_of_another_device"),
        (late, "late_answer"),
        (early, "answer_before_challenge"),
    ] {
        let scoring = score_with(&rules, vec![report.clone()], &orders);
        assert_eq!(refusal(&scoring, &report).as_deref(), Some(rule));
        assert!(scoring.scores.is_empty(), "{rule}");
    }
    // A class may have its own bound.
    let mut slow_class = rules.clone();
    slow_class.answer_bounds_ms.insert("a100".into(), 10_000);
    let late = answer(7, challenge(7, 1, T), T + 5_001, true);
    assert!(
        score_with(&slow_class, vec![late], &orders)
            .refused
            .is_empty()
    );
}

#[test]
fn one_wrong_answer_forfeits_the_epochs_availability_and_passes_are_capped() {
    let orders = Orders::new();
    let passed = answer(1, challenge(1, 1, T), T + 500, true);
    let failed = answer(1, challenge(1, 2, T + 60_000), T + 60_500, false);
    let again = answer(1, challenge(1, 1, T), T + 700, true); // the same challenge
    let scoring = score_with(
        &ComputeRules::default(),
        vec![passed.clone(), failed.clone()],
        &orders,
    );
    assert_eq!(
        refusal(&scoring, &passed).as_deref(),
        Some("availability_forfeited")
    );
    assert_eq!(refusal(&scoring, &failed).as_deref(), Some("wrong_product"));
    assert!(scoring.scores.is_empty());
    let scoring = score_with(
        &ComputeRules::default(),
        vec![passed.clone(), again.clone()],
        &orders,
    );
    let refusals: Vec<_> = [&passed, &again]
        .iter()
        .filter_map(|r| refusal(&scoring, r))
        .collect();
    assert_eq!(refusals, ["duplicate_answer"]);
    let capped = ComputeRules {
        max_rewarded_challenges: 1,
        ..ComputeRules::default()
    };
    let second = answer(1, challenge(1, 3, T + 120_000), T + 120_500, true);
    let scoring = score_with(&capped, vec![passed, second], &orders);
    assert_eq!(scoring.scores[&mint(1)], 600);
    assert_eq!(
        scoring
            .refused
            .values()
            .map(|r| r.rule.as_str())
            .collect::<Vec<_>>(),
        ["beyond_max_challenges"]
    );
}

#[test]
fn constants_round_trip_through_the_rule_set() {
    let mut rules = ComputeRules::default();
    rules.answer_bounds_ms.insert("h100".into(), 2_000);
    let rebuilt = verifier_for(&rules.rule_set()).expect("a known rule set");
    assert_eq!(rebuilt.rule_set(), rules.rule_set());
    let bad = ComputeRules {
        challenge_rounds: 0,
        ..ComputeRules::default()
    };
    assert!(bad.check().is_err());
    assert!(ComputeRules::from_constants(&bad.rule_set().constants).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Freivalds' check at the configured rounds never accepts a product
    /// with any entry changed, and always accepts the right one.
    #[test]
    fn freivalds_never_accepts_a_wrong_product(
        seed in any::<[u8; 32]>(),
        size in 2u16..=12,
        entry in any::<usize>(),
        delta in 1u64..FIELD_PRIME,
    ) {
        let challenge = ComputeChallenge::issue(
            &Key(NETWORK.to_bytes()),
            device_key(1),
            "a100",
            Hash32(seed),
            size,
            T,
            &oracle(),
        );
        let (a, b) = challenge_matrices(&challenge.seed, size);
        let right = multiply(&a, &b, size);
        let rounds = ComputeRules::default().challenge_rounds;
        let honest = ComputeAnswer { challenge: challenge.clone(), product: right.clone() };
        let honest_passes = freivalds(&honest, rounds);
        prop_assert!(honest_passes);
        let mut product = right;
        let i = entry % product.len();
        product[i] = ((u64::from(product[i]) + delta) % FIELD_PRIME) as u32;
        let wrong = ComputeAnswer { challenge, product };
        let wrong_passes = freivalds(&wrong, rounds);
        prop_assert!(!wrong_passes);
    }
}
