//! The storage rules (RULES.md, "Storage"): a provider answering every
//! challenge of a deal with the real leaves of its bytes earns the deal's
//! bytes; for each rule one answer that breaks exactly it, refused by name;
//! strikes carried across epochs up to the fault; and, over random deals and
//! seeds, honest answers always passing and any changed leaf, path or index
//! always refused.

mod common;

use anchor_lang::prelude::Pubkey;
use common::{NETWORK, key, refusal};
use depinkit_device::{
    DeviceKey,
    storage::{Answering, StorageNode, StoredDeal},
};
use depinkit_oracle::{
    store::StoredReport,
    verifier::{
        Devices, EpochInput, OrderOutcome, Scoring, State, Verifier,
        compute::{OrderView, Orders},
        storage::{StorageRules, strike_key},
        verifier_for,
    },
};
use depinkit_reports::{Body, Entropy, Hash32, Key, Report, SignedReport};
use proptest::prelude::*;

/// The epoch's start (epoch 7 of an hour each).
const START: i64 = 1_767_225_600_000;
const HOUR_MS: i64 = 3_600_000;
const EPOCH: u32 = 7;

/// The network's oracle.
fn oracle() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[5; 32])
}

fn network() -> Key {
    Key(NETWORK.to_bytes())
}

/// The seed `oracle` issued `after_ms` after the epoch began.
fn seed_by(oracle: &ed25519_dalek::SigningKey, after_ms: i64) -> Entropy {
    Entropy::issue(&network(), START + after_ms, &[8; 32], oracle)
}

fn epoch_seed() -> Entropy {
    seed_by(&oracle(), 20_000)
}

fn mint(seed: u8) -> Pubkey {
    device_registry::pda::find_device_mint_address(
        &NETWORK,
        &Pubkey::new_from_array(key(seed).verifying_key().to_bytes()),
    )
    .0
}

fn device_address(seed: u8) -> Pubkey {
    device_registry::pda::find_device_address(
        &NETWORK,
        &Pubkey::new_from_array(key(seed).verifying_key().to_bytes()),
    )
    .0
}

fn order_address(n: u8) -> Key {
    Key([200 + n; 32])
}

/// Deal `n`'s bytes: 10,000 of them (40 leaves of 256 bytes), different per deal.
fn deal_bytes(n: u8) -> StoredDeal {
    let bytes = (0..10_000u32)
        .map(|i| (i % 251) as u8 ^ n)
        .collect::<Vec<u8>>();
    StoredDeal::new(bytes, 256).unwrap()
}

/// Order `n` committing to deal `n`'s bytes, accepted by device `seed` an
/// hour before the epoch, in service for a day.
fn order(n: u8, seed: u8) -> (Key, OrderView) {
    (
        order_address(n),
        OrderView {
            network: NETWORK,
            customer: Pubkey::new_from_array([100 + n; 32]),
            accepted_device: Some(device_address(seed)),
            accepted_at: (START - HOUR_MS) / 1000,
            service_deadline: (START + 24 * HOUR_MS) / 1000,
            spec_hash: deal_bytes(n).spec().hash(),
        },
    )
}

/// Device `seed`, holding deal `n` for each of `deals`.
fn node(seed: u8, deals: &[u8]) -> StorageNode {
    let mut node = StorageNode::new(DeviceKey::from_seed([seed; 32]));
    for &n in deals {
        node.hold(order_address(n), deal_bytes(n));
    }
    node
}

fn stored(report: SignedReport) -> StoredReport {
    let device = Pubkey::new_from_array(report.report.device.0);
    StoredReport {
        id: 0,
        epoch: u64::from(EPOCH),
        device_mint: device_registry::pda::find_device_mint_address(&NETWORK, &device).0,
        content_hash: report.report.content_hash(),
        received_ms: report.report.timestamp_ms,
        report,
    }
}

/// Device `seed`'s answers for deal `n` this epoch.
fn answers(seed: u8, n: u8, answering: Answering) -> Vec<StoredReport> {
    node(seed, &[n])
        .answer_deal(
            network(),
            &order_address(n),
            &epoch_seed(),
            EPOCH,
            20,
            START + 30 * 60_000,
            answering,
        )
        .into_iter()
        .map(stored)
        .collect()
}

/// `report` changed by `change` and signed again by device `seed`.
fn altered(
    seed: u8,
    report: &StoredReport,
    change: impl FnOnce(&mut depinkit_reports::StorageProof),
) -> StoredReport {
    let mut report: Report = report.report.report.clone();
    if let Body::StorageProof(proof) = &mut report.body {
        change(proof);
    }
    stored(report.sign(&key(seed)))
}

const NO_DEVICES: &Devices = &Devices::new();

/// The epoch with `reports` (sorted by content hash), `orders`, and the
/// oracles `oracles` signs for.
fn epoch<'a>(
    reports: &'a [StoredReport],
    orders: &'a Orders,
    oracles: &'a [Pubkey],
) -> EpochInput<'a> {
    EpochInput {
        network: NETWORK,
        oracles,
        epoch: u64::from(EPOCH),
        start_ms: START,
        end_ms: START + HOUR_MS,
        reports,
        devices: NO_DEVICES,
        orders,
        usage_escrows: depinkit_oracle::verifier::NO_USAGE_ESCROWS,
    }
}

fn oracle_keys(keys: &[&ed25519_dalek::SigningKey]) -> Vec<Pubkey> {
    keys.iter()
        .map(|k| Pubkey::new_from_array(k.verifying_key().to_bytes()))
        .collect()
}

fn score_with(
    rules: &StorageRules,
    mut reports: Vec<StoredReport>,
    orders: &Orders,
    state: &State,
) -> Scoring {
    reports.sort_by_key(|r| r.content_hash);
    let oracles = oracle_keys(&[&oracle()]);
    let input = epoch(&reports, orders, &oracles);
    rules.score(&input, rules.plan(&input), state)
}

#[test]
fn every_challenge_answered_with_real_leaves_earns_the_deals_bytes() {
    let orders = Orders::from([order(1, 1), order(2, 1), order(3, 2)]);
    let mut reports = answers(1, 1, Answering::Honest);
    reports.extend(answers(1, 2, Answering::Honest));
    reports.extend(answers(2, 3, Answering::Honest));
    let scoring = score_with(&StorageRules::default(), reports, &orders, &State::new());
    assert!(scoring.refused.is_empty(), "{:?}", scoring.refused);
    assert_eq!(
        scoring.scores[&mint(1)],
        20_000,
        "two deals of 10,000 bytes"
    );
    assert_eq!(scoring.scores[&mint(2)], 10_000);
    assert!(scoring.carried.is_empty(), "no strike");
    // Each proven deal's epoch is paid; none ends (a day in service).
    let paid = OrderOutcome {
        delivered: true,
        closes: false,
    };
    assert_eq!(
        scoring.settlements,
        [1, 2, 3].map(|n| (order_address(n), paid)).into()
    );
}

#[test]
fn a_deals_last_epoch_in_service_completes_its_order_proven_or_not() {
    // Orders 1 and 2 end before the next epoch would: this is their last.
    let last = |n: u8| {
        let (address, mut view) = order(n, 1);
        view.service_deadline = (START + HOUR_MS + HOUR_MS / 2) / 1000;
        (address, view)
    };
    let orders = Orders::from([last(1), last(2), order(3, 1)]);
    let mut reports = answers(1, 1, Answering::Honest);
    reports.extend(answers(1, 3, Answering::Honest));
    let scoring = score_with(&StorageRules::default(), reports, &orders, &State::new());
    let outcome = |delivered, closes| OrderOutcome { delivered, closes };
    assert_eq!(
        scoring.settlements,
        [
            (order_address(1), outcome(true, true)),
            (order_address(2), outcome(false, true)),
            (order_address(3), outcome(true, false)),
        ]
        .into()
    );
}

#[test]
fn each_rule_refuses_the_answer_that_breaks_it() {
    let rules = StorageRules::default();
    let mut elsewhere = order(2, 1);
    elsewhere.1.network = Pubkey::new_unique();
    let mut late = order(3, 1);
    late.1.accepted_at = (START + 60_000) / 1000;
    let mut other_spec = order(4, 1);
    other_spec.1.spec_hash = Hash32([1; 32]);
    let orders = Orders::from([order(1, 1), elsewhere, late, other_spec, order(5, 2)]);
    let honest = answers(1, 1, Answering::Honest);
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[66; 32]);
    let cases: Vec<(StoredReport, &str)> =
        vec![
        (
            altered(1, &honest[0], |p| p.deal = order_address(9)),
            "unknown_deal",
        ),
        (answers(1, 2, Answering::Honest).remove(0), "unknown_deal"),
        (answers(1, 3, Answering::Honest).remove(0), "deal_not_due"),
        (answers(3, 5, Answering::Honest).remove(0), "not_deal_provider"),
        (answers(1, 4, Answering::Honest).remove(0), "spec_mismatch"),
        (altered(1, &honest[0], |p| p.epoch = EPOCH + 1), "wrong_epoch"),
        (
            altered(1, &honest[0], |p| p.seed = seed_by(&stranger, 20_000)),
            "seed_not_from_oracle",
        ),
        (
            altered(1, &honest[0], |p| p.seed = seed_by(&oracle(), -1)),
            "seed_outside_window",
        ),
        (
            altered(1, &honest[0], |p| p.seed = seed_by(&oracle(), 60_000)),
            "seed_outside_window",
        ),
        (
            altered(1, &honest[0], |p| p.challenge = 20),
            "no_such_challenge",
        ),
        (
            altered(1, &honest[0], |p| {
                p.leaf_index = (p.leaf_index + 1) % 40;
            }),
            "wrong_leaf",
        ),
        (
            answers(1, 1, Answering::WrongChunk)
                .into_iter()
                .find(|r| {
                    matches!(&r.report.report.body, Body::StorageProof(p) if p.challenge == 0)
                })
                .unwrap(),
            "path_mismatch",
        ),
    ];
    for (broken, rule) in cases {
        // The other 19 honest answers, and the broken one in place of the first.
        let mut reports: Vec<StoredReport> = honest[1..].to_vec();
        reports.push(broken.clone());
        let scoring = score_with(&rules, reports, &orders, &State::new());
        assert_eq!(refusal(&scoring, &broken).as_deref(), Some(rule), "{rule}");
        assert!(scoring.scores.is_empty(), "{rule}: 19 of 20 earn nothing");
    }
}

#[test]
fn duplicates_other_seeds_and_other_kinds_are_refused_and_the_rest_still_earns() {
    let orders = Orders::from([order(1, 1)]);
    let honest = answers(1, 1, Answering::Honest);
    // The same challenge answered again (signed at another time).
    let again = {
        let mut report = honest[3].report.report.clone();
        report.timestamp_ms += 1;
        stored(report.sign(&key(1)))
    };
    // A second oracle's later seed: the deal keeps the earliest.
    let second_oracle = ed25519_dalek::SigningKey::from_bytes(&[6; 32]);
    let other_seed = node(1, &[1])
        .answer_deal(
            network(),
            &order_address(1),
            &seed_by(&second_oracle, 40_000),
            EPOCH,
            20,
            START + 30 * 60_000,
            Answering::Honest,
        )
        .remove(0);
    let other_seed = stored(other_seed);
    let beacon = {
        let mut report = honest[0].report.report.clone();
        report.body = Body::Beacon(depinkit_reports::Beacon {
            entropy: epoch_seed(),
            payload: vec![1],
            frequency_hz: 868_100_000,
            tx_power_ddbm: 140,
            antenna_gain_ddbi: 30,
        });
        stored(report.sign(&key(1)))
    };
    let mut reports = honest.clone();
    reports.extend([again.clone(), other_seed.clone(), beacon.clone()]);
    reports.sort_by_key(|r| r.content_hash);
    let rules = StorageRules::default();
    let oracles = oracle_keys(&[&oracle(), &second_oracle]);
    let input = epoch(&reports, &orders, &oracles);
    let scoring = rules.score(&input, rules.plan(&input), &State::new());
    // Whichever of the two comes first by content hash counts.
    let duplicates = [&honest[3], &again]
        .into_iter()
        .filter(|r| refusal(&scoring, r).as_deref() == Some("duplicate_answer"))
        .count();
    assert_eq!(duplicates, 1);
    assert_eq!(
        refusal(&scoring, &other_seed).as_deref(),
        Some("seed_differs")
    );
    assert_eq!(
        refusal(&scoring, &beacon).as_deref(),
        Some("not_a_storage_report")
    );
    assert_eq!(scoring.refused.len(), 3, "{:?}", scoring.refused);
    assert_eq!(scoring.scores[&mint(1)], 10_000);
}

#[test]
fn misses_are_strikes_carried_to_the_fault() {
    let rules = StorageRules::default();
    let orders = Orders::from([order(1, 1), order(2, 1)]);
    let key1 = strike_key(&order_address(1));
    let key2 = strike_key(&order_address(2));
    // Deal 1 skips a challenge; deal 2 is not answered at all: a strike each.
    let skipped = answers(1, 1, Answering::SkipChallenge);
    let scoring = score_with(&rules, skipped.clone(), &orders, &State::new());
    assert!(scoring.scores.is_empty());
    assert_eq!(scoring.carried.get(&key1), Some(&1));
    assert_eq!(scoring.carried.get(&key2), Some(&1));
    assert!(scoring.settlements.is_empty(), "a strike pays nothing");
    assert_eq!(
        refusal(&scoring, &skipped[0]).as_deref(),
        Some("deal_not_proven")
    );
    // The plan asks for both deals' strikes.
    let reports = answers(1, 1, Answering::Honest);
    let oracles = oracle_keys(&[&oracle()]);
    let input = epoch(&reports, &orders, &oracles);
    assert_eq!(
        rules.plan(&input).state_keys,
        [key1, key2].into_iter().collect()
    );
    // With two strikes, a proven epoch earns and adds none; a third miss faults.
    let two = State::from([(key1, 2), (key2, 2)]);
    let scoring = score_with(&rules, answers(1, 1, Answering::Honest), &orders, &two);
    assert_eq!(scoring.scores[&mint(1)], 10_000);
    assert_eq!(scoring.carried.get(&key1), None);
    assert_eq!(scoring.carried.get(&key2), Some(&3));
    // The proven deal is paid; the fault completes deal 2's order (the
    // rest of its escrow refunded).
    assert_eq!(
        scoring.settlements,
        [
            (
                order_address(1),
                OrderOutcome {
                    delivered: true,
                    closes: false
                }
            ),
            (
                order_address(2),
                OrderOutcome {
                    delivered: false,
                    closes: true
                }
            ),
        ]
        .into()
    );
    // A faulted deal earns nothing more, however well answered, and takes
    // no further strikes.
    let faulted = State::from([(key1, 3)]);
    let honest = answers(1, 1, Answering::Honest);
    let scoring = score_with(&rules, honest.clone(), &orders, &faulted);
    assert!(!scoring.scores.contains_key(&mint(1)));
    assert_eq!(
        refusal(&scoring, &honest[0]).as_deref(),
        Some("deal_faulted")
    );
    assert_eq!(scoring.carried.get(&key1), None);
    assert!(
        !scoring.settlements.contains_key(&order_address(1)),
        "its fault settled it already"
    );
}

#[test]
fn constants_round_trip_through_the_rule_set() {
    let rules = StorageRules {
        challenges_per_deal: 8,
        max_strikes: 5,
        seed_window_ms: 120_000,
    };
    let rebuilt = verifier_for(&rules.rule_set()).expect("a known rule set");
    assert_eq!(rebuilt.rule_set(), rules.rule_set());
    let mut broken = rules.rule_set();
    broken.constants.insert("max_strikes".into(), 0);
    assert!(verifier_for(&broken).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Honest answers always pass; a changed leaf byte, path hash or index
    /// never does.
    #[test]
    fn honest_answers_pass_and_any_change_is_refused(
        size in 1usize..20_000,
        leaf_shift in 5u32..=10,
        seed_bytes in any::<[u8; 32]>(),
        flip in any::<u64>(),
    ) {
        // Distinct 32-byte blocks, so no two leaves hold the same bytes.
        let bytes: Vec<u8> = (0..size.div_ceil(32) as u64)
            .flat_map(|block| Hash32::sha256(&[block.to_le_bytes(), flip.to_le_bytes()].concat()).0)
            .take(size)
            .collect();
        let deal = StoredDeal::new(bytes, 1 << leaf_shift).unwrap();
        let spec = deal.spec();
        let mut node = StorageNode::new(DeviceKey::from_seed([1; 32]));
        let order = order_address(1);
        node.hold(order, deal);
        let seed = Entropy::issue(&network(), START, &seed_bytes, &oracle());
        for signed in node.answer_deal(network(), &order, &seed, EPOCH, 4, START, Answering::Honest) {
            let Body::StorageProof(proof) = signed.report.body else { unreachable!() };
            prop_assert!(spec.verify(proof.leaf_index, &proof.leaf, &proof.path));
            let mut leaf = proof.leaf.clone();
            let at = (flip as usize) % leaf.len();
            leaf[at] ^= 1 << (flip % 8);
            prop_assert!(!spec.verify(proof.leaf_index, &leaf, &proof.path));
            if !proof.path.is_empty() {
                let mut path = proof.path.clone();
                let level = (flip as usize) % path.len();
                path[level].0[(flip >> 8) as usize % 32] ^= 1;
                prop_assert!(!spec.verify(proof.leaf_index, &proof.leaf, &path));
            }
            if spec.leaves() > 1 {
                let other = (proof.leaf_index + 1 + flip % (spec.leaves() - 1)) % spec.leaves();
                prop_assert!(!spec.verify(other, &proof.leaf, &proof.path));
            }
        }
    }
}
