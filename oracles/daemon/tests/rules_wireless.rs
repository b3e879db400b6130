//! The wireless proof-of-coverage rules (RULES.md, "Wireless: proof of
//! coverage"): for each rule a report that passes and one that breaks
//! exactly it, with the refusal asserted; the reward units for 1, 4, 5 and
//! 14 witnesses; density scaling; beacon buckets carried between epochs; the
//! same scores whatever the reports' arrival order; an epoch scored by the
//! worker and recomputed from its bundle.

mod common;
mod wireless_world;

use common::{NETWORK, entropy, oracle};
use depinkit_oracle::{
    bundle::{Bundle, Bundles, verify},
    epoch::EpochWorker,
    registry::RegisteredDevice,
    store::{NewReport, ReportStatus, Store, StoredReport, now_ms},
    verifier::{
        EpochInput, Scoring, State, Verifier, geo,
        wireless::{BEACON_SPACE, WirelessRules, free_space_loss_ddb},
    },
};
use depinkit_reports::{Body, DataTransfer, Entropy, Hash32, Key, Witness};
use device_registry::state::Category;
use h3o::{CellIndex, Resolution};
use std::sync::Arc;
use wireless_world::*;

#[test]
fn a_beacon_and_its_witness_earn() {
    let sent = beacon(1, HOUR_MS, 1);
    let heard = witness(2, &sent, 200);
    let scoring = score(vec![sent, heard]);
    assert!(scoring.refused.is_empty(), "{:?}", scoring.refused);
    // One witness: a unit for it, a quarter (1/redundancy) for the beacon.
    assert_eq!(score_of(&scoring, 2), 1_000_000);
    assert_eq!(score_of(&scoring, 1), 250_000);
    // The beacon's bucket is carried on.
    let carried: Vec<_> = scoring.carried.iter().collect();
    assert_eq!(carried.len(), 1);
    assert_eq!(carried[0].0.space, BEACON_SPACE);
    assert_eq!(carried[0].0.key, device_key(1).0);
    assert_eq!(*carried[0].1, (START_MS + HOUR_MS) / (6 * HOUR_MS));
    assert!(scoring.devices_read.contains(&device_key(1)));
    assert!(scoring.devices_read.contains(&device_key(2)));
}

#[test]
fn a_beacon_carries_recent_entropy_of_a_network_oracle() {
    let at_ms = START_MS + HOUR_MS;
    let oldest = beacon_with(1, at_ms, 1, entropy(at_ms - 180_000));
    let stale = beacon_with(3, at_ms, 1, entropy(at_ms - 180_001));
    let future = beacon_with(4, at_ms, 1, entropy(at_ms + 1));
    let mut altered = entropy(at_ms - 10_000);
    altered.value.0[0] ^= 1;
    let forged = beacon_with(5, at_ms, 1, altered);
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[6; 32]);
    let unlisted = Entropy::issue(
        &Key(NETWORK.to_bytes()),
        at_ms - 10_000,
        &[1; 32],
        &stranger,
    );
    let unlisted = beacon_with(6, at_ms, 1, unlisted);
    let mut reports = vec![oldest.clone()];
    let refused = [
        (&stale, "entropy_stale"),
        (&future, "entropy_from_future"),
        (&forged, "entropy_invalid"),
        (&unlisted, "entropy_invalid"),
    ];
    // A witness of a refused beacon names no beacon.
    let mut orphans = Vec::new();
    for (seed, (sent, _)) in (10..).zip(&refused) {
        orphans.push(witness(seed, sent, 200));
        reports.extend([(*sent).clone(), orphans[orphans.len() - 1].clone()]);
    }
    let heard = witness(2, &oldest, 200);
    reports.push(heard.clone());
    let mut located = vec![(1, cell(0, 0)), (2, cell(2_000, 0))];
    for seed in 3..=6 {
        located.push((seed, cell(0, 5_000 * i32::from(seed))));
    }
    for seed in 10..=13 {
        located.push((seed, cell(2_000, 5_000 * i32::from(seed - 7))));
    }
    let rules = WirelessRules::default();
    let scoring = score_with(&rules, reports, &devices(&located), &State::new());
    assert_eq!(refusal(&scoring, &oldest), None, "180 s old is the limit");
    assert_eq!(refusal(&scoring, &heard), None);
    for (sent, rule) in refused {
        assert_eq!(refusal(&scoring, sent).as_deref(), Some(rule));
    }
    for orphan in &orphans {
        assert_eq!(refusal(&scoring, orphan).as_deref(), Some("no_such_beacon"));
    }
    let detail = &scoring.refused[&stale.content_hash].detail;
    assert!(detail.contains("180001 ms before"), "{detail}");
    assert_eq!(scoring.scores.len(), 2);
}

#[test]
fn a_beaconer_without_a_location_earns_nothing() {
    let located = beacon(1, HOUR_MS, 1);
    let nowhere = beacon(3, HOUR_MS, 1);
    let unregistered = beacon(30, HOUR_MS, 1);
    let mut world = world();
    world.extend(devices(&[(3, 0)]));
    let reports = vec![
        located.clone(),
        witness(2, &located, 100),
        nowhere.clone(),
        witness(5, &nowhere, 100),
        unregistered.clone(),
    ];
    let scoring = score_with(&WirelessRules::default(), reports, &world, &State::new());
    assert_eq!(refusal(&scoring, &located), None);
    assert_eq!(refusal(&scoring, &nowhere).as_deref(), Some("no_location"));
    assert_eq!(
        refusal(&scoring, &unregistered).as_deref(),
        Some("no_location")
    );
    let detail = &scoring.refused[&unregistered.content_hash].detail;
    assert!(detail.contains("not in the network's registry"), "{detail}");
    assert!(!scoring.scores.contains_key(&mint(3)));
}

#[test]
fn one_beacon_per_device_and_bucket_counts() {
    let first = beacon(1, HOUR_MS, 1);
    let again = beacon(1, 2 * HOUR_MS, 2);
    let next_bucket = beacon(1, 7 * HOUR_MS, 3);
    // Two at the same moment: the smaller content hash counts.
    let (a, b) = (beacon(1, 13 * HOUR_MS, 4), beacon(1, 13 * HOUR_MS, 5));
    let (earlier, later) = if a.content_hash < b.content_hash {
        (a, b)
    } else {
        (b, a)
    };
    let sent = [&first, &again, &next_bucket, &earlier, &later];
    let mut reports: Vec<StoredReport> = sent.iter().map(|b| (*b).clone()).collect();
    reports.extend(sent.iter().map(|b| witness(2, b, 100)));
    let scoring = score(reports.clone());
    for counted in [&first, &next_bucket, &earlier] {
        assert_eq!(refusal(&scoring, counted), None);
    }
    for extra in [&again, &later] {
        assert_eq!(
            refusal(&scoring, extra).as_deref(),
            Some("beacon_too_frequent")
        );
    }
    assert_eq!(
        refusal(&scoring, &reports[6]).as_deref(),
        Some("no_such_beacon")
    );
    assert_eq!(score_of(&scoring, 1), 3 * 250_000);
    // The last bucket counted is carried on.
    let bucket = (START_MS + 13 * HOUR_MS) / (6 * HOUR_MS);
    assert_eq!(
        scoring.carried.values().copied().collect::<Vec<_>>(),
        [bucket]
    );
}

#[test]
fn beacon_buckets_are_carried_across_epochs() {
    let rules = WirelessRules::default();
    let late = beacon(1, 23 * HOUR_MS, 1);
    let first = score(vec![late.clone(), witness(2, &late, 100)]);
    assert_eq!(score_of(&first, 1), 250_000);
    // The next epoch, 30 minutes later: still the same bucket.
    let same_bucket = beacon(1, 23 * HOUR_MS + 1_800_000, 2);
    let next_bucket = beacon(1, 30 * HOUR_MS, 3);
    let reports = vec![
        same_bucket.clone(),
        witness(2, &same_bucket, 100),
        next_bucket.clone(),
        witness(2, &next_bucket, 100),
    ];
    // The rules ask for the beaconer's carried bucket.
    let mut sorted = reports.clone();
    sorted.sort_by_key(|r| r.content_hash);
    let oracles = [oracle()];
    let world = world();
    let input = EpochInput {
        network: NETWORK,
        oracles: &oracles,
        epoch: 1,
        start_ms: START_MS + 24 * HOUR_MS,
        end_ms: START_MS + 48 * HOUR_MS,
        reports: &sorted,
        devices: &world,
        orders: &Default::default(),
        usage_escrows: &Default::default(),
    };
    let asked: Vec<_> = rules.plan(&input).state_keys.into_iter().collect();
    assert_eq!(asked, first.carried.keys().copied().collect::<Vec<_>>());

    let second = score_with(&rules, reports.clone(), &world, &first.carried);
    assert_eq!(
        refusal(&second, &same_bucket).as_deref(),
        Some("beacon_too_frequent")
    );
    let detail = &second.refused[&same_bucket.content_hash].detail;
    assert!(detail.contains("an earlier epoch"), "{detail}");
    assert_eq!(refusal(&second, &next_bucket), None);
    assert_eq!(score_of(&second, 1), 250_000);
    assert_eq!(
        second.carried.values().copied().collect::<Vec<_>>(),
        [(START_MS + 30 * HOUR_MS) / (6 * HOUR_MS)]
    );
    // Without the carried bucket both would count.
    let fresh = score_with(&rules, reports, &world, &State::new());
    assert_eq!(score_of(&fresh, 1), 500_000);
}

#[test]
fn a_witness_that_breaks_one_rule_is_refused_under_it() {
    // About 3 km at 868.1 MHz: some 100 dB lost; 14 dBm sent, 3 + 3 dBi.
    let (origin, three_km) = (cell(0, 0), cell(3_000, 0));
    let distance_mm = geo::cell_distance_mm(
        CellIndex::try_from(origin).unwrap(),
        CellIndex::try_from(three_km).unwrap(),
    );
    let loss = free_space_loss_ddb(distance_mm, FREQUENCY_HZ);
    assert!((1_000..1_010).contains(&loss), "{loss}");
    let max = (140 + 30 + 30 - loss) as i16;
    let heard = |rssi: i16, gain: i16| {
        move |w: &mut Witness| {
            w.rssi_ddbm = rssi;
            w.antenna_gain_ddbi = gain;
        }
    };
    let other_payload = |w: &mut Witness| w.beacon_payload_hash = Hash32::sha256(&[9]);
    let cases = [
        case("honest", ""),
        case("another payload", "no_such_beacon").with(other_payload),
        case("another beaconer", "no_such_beacon").with(|w| w.beaconer = device_key(3)),
        case("the beaconer itself", "self_witness").by(1, Some(origin)),
        case("no location", "no_location").at(0),
        case("not registered", "no_location").by(30, None),
        case("90 km away", "").at(cell(90_000, 0)),
        case("150 km away", "too_far").at(cell(150_000, 0)),
        // Resolution-11 cells are about 50 m apart: 1 km is some 20 cells.
        case("1 km away", "").at(cell(1_000, 0)),
        case("100 m away", "too_close").at(cell(100, 0)),
        case("100 kHz off", "").with(|w| w.frequency_hz += 100_000),
        case("100.001 kHz off", "frequency_mismatch").with(|w| w.frequency_hz += 100_001),
        case("as the beacon is sent", "").lag(0),
        case("before the beacon", "early_witness").lag(-1),
        case("4 s after the beacon", "").lag(4_000),
        case("later", "late_witness").lag(4_001),
        case("at the RSSI bound", "")
            .at(three_km)
            .with(heard(max, 30)),
        case("0.1 dB above it", "rssi_too_strong")
            .at(three_km)
            .with(heard(max + 1, 30)),
        // A 20 dBi antenna is believed up to 15 dBi.
        case("20 dBi, 12 dB above", "")
            .at(three_km)
            .with(heard(max + 120, 200)),
        case("20 dBi, 12.1 dB above", "rssi_too_strong")
            .at(three_km)
            .with(heard(max + 121, 200)),
    ];
    for case in cases {
        let sent = beacon(1, HOUR_MS, 1);
        let heard = witness_with(case.seed, &sent, case.lag_ms, |w| (case.change)(w));
        let mut world = world();
        match case.location {
            Some(location) => world.extend(devices(&[(case.seed, location)])),
            None => assert!(world.remove(&device_key(case.seed)).is_none()),
        }
        let reports = vec![sent, heard.clone()];
        let scoring = score_with(&WirelessRules::default(), reports, &world, &State::new());
        let expected = Some(case.rule).filter(|rule| !rule.is_empty());
        assert_eq!(
            refusal(&scoring, &heard).as_deref(),
            expected,
            "{}",
            case.why
        );
        let earned = if expected.is_none() { 250_000 } else { 0 };
        assert_eq!(score_of(&scoring, 1), earned, "{}: the beaconer", case.why);
    }
}

#[test]
fn cells_too_far_apart_to_measure_are_far_enough() {
    // Across the globe h3o cannot measure the grid distance.
    let antipode = u64::from(geo::cell_of(-377_749_000, 577_000_000, 12).unwrap());
    let rules = WirelessRules {
        max_distance_m: 30_000_000,
        ..WirelessRules::default()
    };
    let sent = beacon(1, HOUR_MS, 1);
    let heard = witness_with(2, &sent, 100, |w| w.rssi_ddbm = -3_000);
    let mut world = world();
    world.extend(devices(&[(2, antipode)]));
    let scoring = score_with(&rules, vec![sent, heard.clone()], &world, &State::new());
    assert_eq!(refusal(&scoring, &heard), None, "{:?}", scoring.refused);
}

#[test]
fn a_witness_is_late_after_the_beacons_first_valid_witness() {
    let sent = beacon(1, HOUR_MS, 1);
    // At most 1,500 ms after the first valid witness.
    let first = witness(2, &sent, 100);
    let in_time = witness(3, &sent, 1_600);
    let late = witness(4, &sent, 1_601);
    // The beaconer's own, earlier, is refused: it is not the first.
    let own = witness(1, &sent, 50);
    let reports = vec![
        sent.clone(),
        first.clone(),
        in_time.clone(),
        late.clone(),
        own,
    ];
    let scoring = score(reports.clone());
    assert_eq!(refusal(&scoring, &first), None);
    assert_eq!(refusal(&scoring, &in_time), None);
    assert_eq!(refusal(&scoring, &late).as_deref(), Some("late_witness"));
    let detail = &scoring.refused[&late.content_hash].detail;
    assert!(
        detail.contains("1501 ms after the beacon's first"),
        "{detail}"
    );
    // A witness too strong to be true is judged after the lag: an earlier
    // one still counts as the first.
    let loud = witness_with(5, &sent, 50, |w| w.rssi_ddbm = 0);
    let scoring = score([reports, vec![loud.clone()]].concat());
    assert_eq!(refusal(&scoring, &loud).as_deref(), Some("rssi_too_strong"));
    assert_eq!(refusal(&scoring, &in_time).as_deref(), Some("late_witness"));
}

#[test]
fn one_witness_per_device_and_beacon_counts() {
    let sent = beacon(1, HOUR_MS, 1);
    let first = witness(2, &sent, 100);
    let second = witness(2, &sent, 200);
    // Its first one was too strong: the next valid one counts.
    let loud = witness_with(3, &sent, 100, |w| w.rssi_ddbm = 0);
    let quiet = witness(3, &sent, 300);
    let scoring = score(vec![
        sent,
        first.clone(),
        second.clone(),
        loud.clone(),
        quiet.clone(),
    ]);
    assert_eq!(refusal(&scoring, &first), None);
    assert_eq!(
        refusal(&scoring, &second).as_deref(),
        Some("duplicate_witness")
    );
    assert_eq!(refusal(&scoring, &loud).as_deref(), Some("rssi_too_strong"));
    assert_eq!(refusal(&scoring, &quiet), None);
    assert_eq!(score_of(&scoring, 2), 1_000_000);
    assert_eq!(score_of(&scoring, 3), 1_000_000);
}

/// A beacon from device 1 heard by devices 2.. (`count` of them), 10 ms
/// apart; its score with the witnesses' scores.
fn heard_by(count: u8) -> (Scoring, Vec<StoredReport>) {
    let sent = beacon(1, HOUR_MS, 1);
    let heard: Vec<StoredReport> = (0..count)
        .map(|i| witness(2 + i, &sent, 100 + 10 * i64::from(i)))
        .collect();
    let mut reports = heard.clone();
    reports.push(sent);
    (score(reports), heard)
}

#[test]
fn witnesses_beyond_redundancy_earn_less_and_beyond_14_nothing() {
    let rules = WirelessRules::default();
    // (witnesses, each witness, the beaconer) in micro-units.
    let expected = [
        (1, 1_000_000, 250_000),
        (4, 1_000_000, 1_000_000),
        // U(5) = 4 + 0.8.
        (5, 960_000, 1_200_000),
        // U(14) = 4 + 0.8 + 0.64 + ... + 0.107373 = 7.570501.
        (14, 540_750, 1_892_625),
    ];
    for (count, each, beaconer) in expected {
        assert_eq!(rules.beacon_units(count), (each, beaconer), "{count}");
        let (scoring, heard) = heard_by(count as u8);
        assert!(scoring.refused.is_empty(), "{:?}", scoring.refused);
        assert_eq!(score_of(&scoring, 1), beaconer, "{count}");
        for seed in 2..2 + count as u8 {
            assert_eq!(score_of(&scoring, seed), each, "{count}: {seed}");
        }
        assert_eq!(heard.len(), count as usize);
    }
    assert_eq!(rules.witness_units(14), 7_570_501);
    assert_eq!(rules.beacon_units(0), (0, 0));
    // 16 witnesses: the two received last are not rewarded.
    let (scoring, heard) = heard_by(16);
    for late in &heard[14..] {
        assert_eq!(
            refusal(&scoring, late).as_deref(),
            Some("beyond_max_witnesses")
        );
    }
    assert_eq!(score_of(&scoring, 1), 1_892_625);
    assert_eq!(scoring.scores.len(), 15);
}

#[test]
fn a_beacon_nobody_validly_heard_earns_nothing() {
    let lonely = beacon(1, HOUR_MS, 1);
    let crowded = beacon(3, HOUR_MS, 1);
    let too_close = witness(2, &crowded, 100);
    let mut world = world();
    world.extend(devices(&[(2, cell(100, 0)), (3, cell(0, 0))]));
    let reports = vec![lonely.clone(), crowded.clone(), too_close.clone()];
    let scoring = score_with(&WirelessRules::default(), reports, &world, &State::new());
    assert_eq!(
        refusal(&scoring, &lonely).as_deref(),
        Some("no_valid_witness")
    );
    assert_eq!(
        refusal(&scoring, &crowded).as_deref(),
        Some("no_valid_witness")
    );
    let detail = &scoring.refused[&crowded.content_hash].detail;
    assert!(detail.contains("none of its 1 witnesses"), "{detail}");
    assert_eq!(refusal(&scoring, &too_close).as_deref(), Some("too_close"));
    assert!(scoring.scores.is_empty());
    // It still used the device's bucket.
    assert_eq!(scoring.carried.len(), 2);
}

#[test]
fn crowded_hexes_earn_what_the_target_number_of_devices_would() {
    // Devices 1, 3 and 4 in one resolution-8 hex; 5 there too, suspended.
    let beaconer = CellIndex::try_from(cell(0, 0)).unwrap();
    let hex = beaconer.parent(Resolution::Eight).unwrap();
    let mut neighbours = hex
        .children(Resolution::Twelve)
        .filter(|c| *c != beaconer)
        .map(u64::from);
    let mut world = world();
    world.extend(devices(&[
        (3, neighbours.next().unwrap()),
        (4, neighbours.nth(100).unwrap()),
        (5, neighbours.nth(100).unwrap()),
    ]));
    world.get_mut(&device_key(5)).unwrap().active = false;
    let sent = beacon(1, HOUR_MS, 1);
    let reports = vec![sent.clone(), witness(2, &sent, 100)];
    let rules = WirelessRules::default();
    let scoring = score_with(&rules, reports.clone(), &world, &State::new());
    // 3 devices, target 2: 666,666 ppm.
    assert_eq!(rules.density_scale_ppm(3), 666_666);
    assert_eq!(rules.density_scale_ppm(2), 1_000_000);
    assert_eq!(score_of(&scoring, 2), 666_666);
    assert_eq!(score_of(&scoring, 1), 166_666);
    // The crowd's entries were read; the suspended device's was not.
    for seed in [1, 3, 4] {
        assert!(scoring.devices_read.contains(&device_key(seed)), "{seed}");
    }
    assert!(!scoring.devices_read.contains(&device_key(5)));
    // A network that allows 3 per hex pays in full.
    let roomier = WirelessRules {
        density_target: 3,
        ..rules
    };
    let scoring = score_with(&roomier, reports, &world, &State::new());
    assert_eq!(score_of(&scoring, 2), 1_000_000);
}

#[test]
fn a_device_earns_as_beaconer_and_as_witness() {
    let one = beacon(1, HOUR_MS, 1);
    let two = beacon(2, 2 * HOUR_MS, 1);
    let scoring = score(vec![
        one.clone(),
        witness(2, &one, 100),
        two.clone(),
        witness(1, &two, 100),
    ]);
    assert!(scoring.refused.is_empty(), "{:?}", scoring.refused);
    assert_eq!(score_of(&scoring, 1), 1_250_000);
    assert_eq!(score_of(&scoring, 2), 1_250_000);
}

fn session(seed: u8, customer: u8, bytes: u64, start_ms: i64, end_ms: i64) -> StoredReport {
    stored(
        seed,
        end_ms,
        Body::DataTransfer(DataTransfer {
            customer: Key([customer; 32]),
            bytes,
            start_ms,
            end_ms,
        }),
    )
}

/// Scores `reports` with the default rules, the customers' escrows able to
/// spend `escrows` credits.
fn score_paying(reports: Vec<StoredReport>, escrows: &[(u8, u64)]) -> Scoring {
    let mut reports = reports;
    reports.sort_by_key(|r| r.content_hash);
    let oracles = [oracle()];
    let usage_escrows: depinkit_oracle::verifier::UsageEscrows = escrows
        .iter()
        .map(|&(customer, credits)| (Key([customer; 32]), credits))
        .collect();
    let devices = world();
    let input = EpochInput {
        network: NETWORK,
        oracles: &oracles,
        epoch: 0,
        start_ms: START_MS,
        end_ms: START_MS + 24 * HOUR_MS,
        reports: &reports,
        devices: &devices,
        orders: &Default::default(),
        usage_escrows: &usage_escrows,
    };
    let rules = WirelessRules::default();
    assert_eq!(
        rules.customers_needed(&input),
        escrows.iter().map(|&(c, _)| Key([c; 32])).collect()
    );
    let plan = rules.plan(&input);
    rules.score(&input, plan, &State::new())
}

#[test]
fn a_hotspot_that_carried_paid_data_earns_more_than_an_equal_one_that_did_not() {
    // Devices 1 and 2 beacon and witness each other: equal coverage.
    let one = beacon(1, HOUR_MS, 1);
    let two = beacon(2, 2 * HOUR_MS, 1);
    let coverage = vec![
        one.clone(),
        witness(2, &one, 100),
        two.clone(),
        witness(1, &two, 100),
    ];
    // Device 2 carried 2,400 bytes for customer 7 (100 credits at 24 bytes
    // a credit) and 25 bytes (2 credits, rounded up).
    let carried = session(2, 7, 2_400, START_MS, START_MS + HOUR_MS);
    let small = session(2, 7, 25, START_MS + HOUR_MS, START_MS + 2 * HOUR_MS);
    let mut reports = coverage.clone();
    reports.extend([carried.clone(), small.clone()]);
    let scoring = score_paying(reports, &[(7, 1_000)]);
    assert!(scoring.refused.is_empty(), "{:?}", scoring.refused);
    assert_eq!(
        score_of(&scoring, 1),
        score_of(&scoring, 2),
        "equal coverage"
    );
    assert_eq!(scoring.usage, [(mint(2), 102)].into());
    assert_eq!(scoring.usage_share_bps, 2_000);
    let mut charged: Vec<(u64, u64)> = scoring
        .charges
        .iter()
        .map(|c| (c.units, c.credits))
        .collect();
    charged.sort();
    assert_eq!(charged, [(25, 2), (2_400, 100)]);
    assert!(
        scoring
            .charges
            .iter()
            .all(|c| c.wallet == Key([7; 32]) && c.epoch == 0)
    );
    // The epoch's amount: a fifth by usage (all to device 2), the rest by
    // coverage (half each).
    let paid = depinkit_oracle::rewards::split_with_usage(
        10_000,
        &scoring.scores,
        &scoring.usage,
        scoring.usage_share_bps,
    );
    assert_eq!(paid.rewards[&mint(1)], 4_000);
    assert_eq!(paid.rewards[&mint(2)], 6_000);
}

#[test]
fn sessions_a_customer_cannot_pay_or_outside_the_epoch_are_refused() {
    let first = session(2, 7, 240, START_MS, START_MS + HOUR_MS);
    let second = session(3, 7, 240, START_MS, START_MS + HOUR_MS);
    let outside = session(2, 7, 24, START_MS - HOUR_MS, START_MS + HOUR_MS);
    let empty = session(2, 7, 0, START_MS, START_MS + HOUR_MS);
    let stranger = session(2, 8, 24, START_MS, START_MS + HOUR_MS);
    let backwards = session(2, 7, 24, START_MS + HOUR_MS, START_MS);
    let reports = vec![
        first.clone(),
        second.clone(),
        outside.clone(),
        empty.clone(),
        stranger.clone(),
        backwards.clone(),
    ];
    // 15 credits: one 10-credit session fits, the other does not (the
    // first by content hash is paid).
    let scoring = score_paying(reports, &[(7, 15), (8, 0)]);
    let (paid, unpaid) = if first.content_hash < second.content_hash {
        (&first, &second)
    } else {
        (&second, &first)
    };
    assert_eq!(refusal(&scoring, paid), None);
    assert_eq!(
        refusal(&scoring, unpaid).as_deref(),
        Some("customer_out_of_credits")
    );
    assert_eq!(
        refusal(&scoring, &outside).as_deref(),
        Some("session_outside_epoch")
    );
    assert_eq!(
        refusal(&scoring, &backwards).as_deref(),
        Some("session_outside_epoch")
    );
    assert_eq!(refusal(&scoring, &empty).as_deref(), Some("no_bytes"));
    assert_eq!(
        refusal(&scoring, &stranger).as_deref(),
        Some("customer_out_of_credits")
    );
    assert_eq!(scoring.charges.len(), 1);
    assert_eq!(scoring.usage.values().sum::<u64>(), 10);
}

#[test]
fn version_one_rules_refuse_data_transfer() {
    let rules = WirelessRules {
        data_transfer_share_bps: 0,
        ..WirelessRules::default()
    };
    assert_eq!(rules.rule_set().version, 1);
    assert_eq!(rules.rule_set().constants.len(), 14);
    let transfer = session(2, 7, 1_000, START_MS, START_MS + HOUR_MS);
    let sent = beacon(1, HOUR_MS, 1);
    let scoring = score_with(
        &rules,
        vec![transfer.clone(), sent.clone(), witness(2, &sent, 100)],
        &world(),
        &State::new(),
    );
    assert_eq!(
        refusal(&scoring, &transfer).as_deref(),
        Some("data_transfer_not_rewarded")
    );
    assert_eq!(refusal(&scoring, &sent), None);
    assert_eq!(score_of(&scoring, 2), 1_000_000);
    assert!(scoring.usage.is_empty() && scoring.charges.is_empty());
}

#[test]
fn constants_round_trip_through_the_rule_set_and_bad_ones_are_refused() {
    let rules = WirelessRules {
        max_distance_m: 50_000,
        witness_decay_ppm: 700_000,
        ..WirelessRules::default()
    };
    let rebuilt =
        depinkit_oracle::verifier::verifier_for(&rules.rule_set()).expect("a known rule set");
    assert_eq!(rebuilt.rule_set(), rules.rule_set());
    assert_eq!(rules.rule_set().name, "wireless-poc");
    assert_eq!(rules.rule_set().version, 2);
    assert_eq!(rules.rule_set().constants.len(), 16);
    assert!(rebuilt.uses_devices());
    let default = WirelessRules::default;
    for bad in [
        WirelessRules {
            min_distance_resolution: 16,
            ..default()
        },
        WirelessRules {
            witness_redundancy: 0,
            ..default()
        },
        WirelessRules {
            witness_decay_ppm: 1_000_001,
            ..default()
        },
        WirelessRules {
            beacon_interval_ms: 0,
            ..default()
        },
        WirelessRules {
            max_witness_lag_ms: -1,
            ..default()
        },
    ] {
        assert!(bad.check().is_err(), "{bad:?}");
        assert!(WirelessRules::from_constants(&bad.rule_set().constants).is_none());
    }
    let mut missing = rules.rule_set();
    missing.constants.remove("density_target");
    assert!(depinkit_oracle::verifier::verifier_for(&missing).is_none());
}

#[test]
fn the_same_reports_in_another_order_score_the_same() {
    let one = beacon(1, HOUR_MS, 1);
    let two = beacon(2, 2 * HOUR_MS, 2);
    let mut reports = vec![one.clone(), two.clone(), beacon(1, 2 * HOUR_MS, 3)];
    reports.extend((3..=9).map(|seed| witness(seed, &one, 100 + i64::from(seed))));
    reports.extend((3..=9).map(|seed| witness(seed, &two, 900 - i64::from(seed))));
    reports.push(witness(3, &one, 50));
    let scoring = score(reports.clone());
    assert!(!scoring.scores.is_empty());
    reports.reverse();
    reports.rotate_left(5);
    assert_eq!(score(reports.clone()), scoring);
    // With only the devices the rules read (as a bundle lists them).
    let mut read = world();
    read.retain(|key, _| scoring.devices_read.contains(key));
    let again = score_with(&WirelessRules::default(), reports, &read, &State::new());
    assert_eq!(again, scoring);
}

/// The worker scores a wireless epoch with these rules, keeps each refusal
/// where an owner can read it, carries each beaconer's bucket on, and
/// publishes a bundle that recomputes to its root; a bundle that changes a
/// refusal, a carried value or a device's location is caught.
#[tokio::test]
async fn a_wireless_epoch_is_scored_explained_and_recomputed() {
    let start_s = now_ms() / 1000 - 3_600 - 70;
    let start_ms = start_s * 1000;
    let located: Vec<(Key, RegisteredDevice)> =
        devices(&[(1, cell(0, 0)), (2, cell(2_000, 0)), (3, cell(100, 0))])
            .into_iter()
            .collect();
    let chain = Arc::new(common::ChainDouble::new(
        Category::Wireless,
        located,
        start_s,
        3_600,
    ));
    chain.pool.lock().unwrap().total_inflow = 10_000_000;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite:{}", dir.path().join("o.db").display()))
        .await
        .unwrap();
    let at_ms = start_ms + 60_000;
    let sent = beacon_with(1, at_ms, 1, entropy(at_ms - 10_000));
    let heard = witness(2, &sent, 150);
    let too_close = witness(3, &sent, 200);
    let reports = [sent.clone(), heard.clone(), too_close.clone()];
    let batch: Vec<NewReport> = reports
        .iter()
        .map(|r| NewReport {
            epoch: 0,
            content_hash: r.content_hash,
            device_mint: r.device_mint,
            report: &r.report,
            received_ms: now_ms(),
        })
        .collect();
    store.store_reports(&batch).await.unwrap();

    let bundles = Bundles::open(dir.path().join("bundles").to_str().unwrap()).unwrap();
    EpochWorker::new(
        chain.clone(),
        NETWORK,
        store.clone(),
        WirelessRules::default(),
        60,
    )
    .with_bundles(bundles.clone())
    .tick(now_ms() / 1000)
    .await
    .unwrap();
    assert_eq!(chain.votes.lock().unwrap().len(), 1, "the epoch was voted");

    let explained = store.device_reports(&mint(3), 0).await.unwrap();
    match &explained[0].1 {
        ReportStatus::Refused { rule, detail } => {
            assert_eq!(rule, "too_close");
            assert!(detail.contains("H3 cells"), "{detail}");
        }
        other => panic!("refused, not {other:?}"),
    }
    for seed in [1, 2] {
        let counted = store.device_reports(&mint(seed), 0).await.unwrap();
        assert_eq!(counted[0].1, ReportStatus::Counted, "{seed}");
    }

    let bundle: Bundle = serde_json::from_slice(&bundles.get(0).await.unwrap().unwrap()).unwrap();
    assert_eq!(bundle.rule_set, WirelessRules::default().rule_set());
    assert_eq!(bundle.refused.len(), 1);
    assert_eq!(bundle.carried.len(), 1);
    assert_eq!(bundle.devices.len(), 3, "every reporter's entry");
    assert_eq!(bundle.oracles, [oracle().to_string()]);
    let keys = bundle.carried.iter().map(|(k, _)| *k).collect();
    let stored = store.rule_state(&keys).await.unwrap();
    assert_eq!(stored.into_iter().collect::<Vec<_>>(), bundle.carried);

    let recomputed = verify(&bundle).unwrap();
    assert_eq!(recomputed.root, chain.votes.lock().unwrap()[0].root);
    let mut no_refusal = bundle.clone();
    no_refusal.refused.clear();
    let mut other_carry = bundle.clone();
    other_carry.carried[0].1 += 1;
    let mut moved = bundle.clone();
    let witness_3 = device_key(3).to_string();
    for device in &mut moved.devices {
        if device.0 == witness_3 {
            device.1 = cell(5_000, 0);
        }
    }
    let mut no_oracle = bundle.clone();
    no_oracle.oracles.clear();
    for (changed, why) in [
        (no_refusal, "refuses other reports"),
        (other_carry, "carries other values"),
        (moved, "refuses other reports"),
        (no_oracle, "refuses other reports"),
    ] {
        let error = verify(&changed).unwrap_err().to_string();
        assert!(error.contains(why), "{why}: {error}");
    }
}
