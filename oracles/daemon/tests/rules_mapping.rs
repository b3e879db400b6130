//! The mapping rules (RULES.md, "Mapping"): for each rule a track that
//! passes and one that breaks exactly it, with the refusal asserted; cell
//! values growing with the time since a cell was last mapped; the first
//! contributors earning; an epoch scored by the worker and recomputed from
//! its bundle.

mod common;

use anchor_lang::prelude::Pubkey;
use common::{NETWORK, key, refusal};
use depinkit_oracle::{
    bundle::{Bundle, Bundles, verify},
    epoch::EpochWorker,
    store::{NewReport, ReportStatus, Store, StoredReport, now_ms},
    verifier::{
        Devices, EpochInput, Scoring, State, Verifier,
        mapping::{CELL_SPACE, MappingRules},
    },
};
use depinkit_reports::{Body, GnssFix, Hash32, Key, MapTrack, Report};
use device_registry::state::Category;
use std::sync::Arc;

/// 2026-01-01T00:00:00Z, the epoch's start.
const START_MS: i64 = 1_767_225_600_000;
const HOUR_MS: i64 = 3_600_000;

/// A fix at `at_ms` (ms after the epoch starts), `lat`/`lon` in 1e-7
/// degrees, with 8 satellites and frame `frame`.
fn fix(at_ms: i64, lat: i32, lon: i32, frame: u32) -> GnssFix {
    GnssFix {
        timestamp_ms: START_MS + at_ms,
        lat_e7: lat,
        lon_e7: lon,
        fix_quality: 1,
        satellites: 8,
        frame_hash: Hash32::sha256(&frame.to_le_bytes()),
    }
}

/// San Francisco's Market Street, and points `meters` north of it.
const LAT: i32 = 377_749_000;
const LON: i32 = -1_224_194_000;
fn north(meters: i32) -> i32 {
    // One metre of latitude is about 89.9 units of 1e-7 degree.
    LAT + meters * 90
}

fn mint(seed: u8) -> Pubkey {
    let device = Pubkey::new_from_array(key(seed).verifying_key().to_bytes());
    device_registry::pda::find_device_mint_address(&NETWORK, &device).0
}

fn track(seed: u8, fixes: Vec<GnssFix>) -> StoredReport {
    let at = fixes.first().map_or(START_MS, |f| f.timestamp_ms);
    let signed = Report {
        network: Key(NETWORK.to_bytes()),
        device: Key(key(seed).verifying_key().to_bytes()),
        timestamp_ms: at,
        body: Body::MapTrack(MapTrack { fixes }),
    }
    .sign(&key(seed));
    StoredReport {
        id: 0,
        epoch: 0,
        device_mint: mint(seed),
        content_hash: signed.report.content_hash(),
        received_ms: at,
        report: signed,
    }
}

/// Scores `reports` (sorted as the worker sorts them) with `rules` and
/// the carried `state`.
fn score_with(rules: &MappingRules, mut reports: Vec<StoredReport>, state: &State) -> Scoring {
    reports.sort_by_key(|r| r.content_hash);
    let devices = Devices::new();
    let input = EpochInput {
        network: NETWORK,
        oracles: &[],
        epoch: 0,
        start_ms: START_MS,
        end_ms: START_MS + 24 * HOUR_MS,
        reports: &reports,
        devices: &devices,
        orders: &Default::default(),
        usage_escrows: &Default::default(),
    };
    let plan = rules.plan(&input);
    rules.score(&input, plan, state)
}

fn score(reports: Vec<StoredReport>) -> Scoring {
    score_with(&MappingRules::default(), reports, &State::new())
}

/// A 100 m drive north over a minute: 4 fixes, 4 frames, several cells.
fn drive(first_frame: u32) -> Vec<GnssFix> {
    (0..4)
        .map(|i| {
            fix(
                i64::from(i) * 20_000,
                north(i * 33),
                LON,
                first_frame + i as u32,
            )
        })
        .collect()
}

#[test]
fn a_good_track_earns_the_full_value_of_each_new_cell() {
    let good = track(1, drive(0));
    let scoring = score(vec![good.clone()]);
    assert!(scoring.refused.is_empty(), "{:?}", scoring.refused);
    let cells = scoring.carried.len() as u64;
    assert!(cells >= 2, "a 100 m drive crosses cells at resolution 12");
    assert_eq!(
        scoring.scores[&mint(1)],
        cells * 1_000,
        "never mapped: the maximum"
    );
    // Each cell's last mapping is carried on: the latest fix in it.
    let last = scoring.carried.values().max().unwrap();
    assert_eq!(*last, START_MS + 60_000);
    assert!(scoring.carried.keys().all(|k| k.space == CELL_SPACE));
}

#[test]
fn fixes_out_of_time_order_refuse_the_track() {
    let mut fixes = drive(0);
    fixes.swap(1, 2);
    let bad = track(1, fixes);
    let scoring = score(vec![bad.clone()]);
    assert_eq!(
        refusal(&scoring, &bad).as_deref(),
        Some("fixes_out_of_order")
    );
    assert!(scoring.scores.is_empty());
}

#[test]
fn a_teleporting_dashcam_is_refused() {
    // 2 km in 20 s is 360 km/h.
    let mut fixes = drive(0);
    fixes[2].lat_e7 = north(2_000);
    fixes[3].lat_e7 = north(2_030);
    let teleport = track(1, fixes);
    // 250 km/h is the limit: 1.3 km in 20 s (234 km/h) passes.
    let mut fixes = drive(10);
    fixes[2].lat_e7 = north(1_300);
    fixes[3].lat_e7 = north(1_330);
    let fast = track(2, fixes);
    let scoring = score(vec![teleport.clone(), fast.clone()]);
    assert_eq!(
        refusal(&scoring, &teleport).as_deref(),
        Some("speed_above_limit")
    );
    let detail = &scoring.refused[&teleport.content_hash].detail;
    assert!(detail.contains("km/h between fixes 1 and 2"), "{detail}");
    assert_eq!(refusal(&scoring, &fast), None);
    assert!(scoring.scores[&mint(2)] > 0);
}

#[test]
fn fixes_without_enough_satellites_or_outside_the_epoch_do_not_count() {
    // Three satellites at every fix: nothing usable.
    let mut weak = drive(0);
    weak.iter_mut().for_each(|f| f.satellites = 3);
    let weak = track(1, weak);
    // No fix at all (quality 0).
    let mut lost = drive(10);
    lost.iter_mut().for_each(|f| f.fix_quality = 0);
    let lost = track(2, lost);
    // Before the epoch.
    let early: Vec<GnssFix> = drive(20)
        .into_iter()
        .map(|mut f| {
            f.timestamp_ms -= 2 * HOUR_MS;
            f
        })
        .collect();
    let early = track(3, early);
    // One weak fix among good ones: the others count.
    let mut mixed = drive(30);
    mixed[0].satellites = 3;
    mixed[0].lat_e7 = north(5_000); // a bad fix does not make a teleport either
    let mixed = track(4, mixed);
    let scoring = score(vec![
        weak.clone(),
        lost.clone(),
        early.clone(),
        mixed.clone(),
    ]);
    for bad in [&weak, &lost, &early] {
        assert_eq!(refusal(&scoring, bad).as_deref(), Some("no_usable_fix"));
    }
    assert_eq!(refusal(&scoring, &mixed), None);
    assert!(scoring.scores[&mint(4)] > 0);
    assert_eq!(scoring.scores.len(), 1);
}

#[test]
fn a_frame_sent_again_counts_once_for_whoever_sent_it_first() {
    let original = track(1, drive(0));
    // Device 2 sends the same frames a minute later, elsewhere.
    let copied: Vec<GnssFix> = drive(0)
        .into_iter()
        .map(|mut f| {
            f.timestamp_ms += 60_000;
            f.lon_e7 += 200_000;
            f
        })
        .collect();
    let copy = track(2, copied);
    let scoring = score(vec![copy.clone(), original.clone()]);
    assert_eq!(
        refusal(&scoring, &copy).as_deref(),
        Some("duplicate_frames")
    );
    assert_eq!(refusal(&scoring, &original), None);
    assert!(!scoring.scores.contains_key(&mint(2)));
    // With fresh frames the same drive earns.
    let fresh: Vec<GnssFix> = drive(100)
        .into_iter()
        .map(|mut f| {
            f.timestamp_ms += 60_000;
            f.lon_e7 += 200_000;
            f
        })
        .collect();
    let scoring = score(vec![track(2, fresh), original]);
    assert!(scoring.scores[&mint(2)] > 0);
    // Frames count as sent even in a track refused for its GNSS: copying
    // them from a teleporting track earns nothing either.
    let mut jumped = drive(200);
    jumped[3].lat_e7 = north(9_000);
    let teleport = track(1, jumped);
    let copied: Vec<GnssFix> = drive(200)
        .into_iter()
        .map(|mut f| {
            f.timestamp_ms += 60_000;
            f.lon_e7 += 300_000;
            f
        })
        .collect();
    let copy = track(2, copied);
    let scoring = score(vec![teleport.clone(), copy.clone()]);
    assert_eq!(
        refusal(&scoring, &teleport).as_deref(),
        Some("speed_above_limit")
    );
    assert_eq!(
        refusal(&scoring, &copy).as_deref(),
        Some("duplicate_frames")
    );
}

#[test]
fn the_first_three_devices_in_a_cell_earn_and_a_fourth_does_not() {
    // Four devices stand in one spot, a minute apart; each sends one fix.
    let at = |seed: u8| {
        track(
            seed,
            vec![fix(i64::from(seed) * 60_000, LAT, LON, u32::from(seed))],
        )
    };
    let reports: Vec<StoredReport> = (1..=4).map(at).collect();
    let scoring = score(reports.clone());
    for seed in 1..=3 {
        assert_eq!(scoring.scores[&mint(seed)], 1_000, "device {seed}");
    }
    assert!(!scoring.scores.contains_key(&mint(4)));
    assert_eq!(
        refusal(&scoring, &reports[3]).as_deref(),
        Some("no_new_cells")
    );
    // The same device's second visit earns nothing more.
    let again = track(1, vec![fix(9 * 60_000, LAT, LON, 99)]);
    let scoring = score(vec![reports[0].clone(), again.clone()]);
    assert_eq!(scoring.scores[&mint(1)], 1_000);
    assert_eq!(refusal(&scoring, &again).as_deref(), Some("no_new_cells"));
    // A network may let more devices earn per cell.
    let rules = MappingRules {
        contributors_per_cell: 4,
        ..MappingRules::default()
    };
    let scoring = score_with(&rules, reports.clone(), &State::new());
    assert_eq!(scoring.scores.len(), 4);
    // The map keeps the cell once: four devices mapped it, its latest
    // verification is the fourth's fix, shown by the fourth's track.
    let scoring = score(reports.clone());
    assert_eq!(scoring.map_cells.len(), 1);
    let cell = scoring.map_cells[0];
    assert_eq!(
        (
            cell.devices,
            cell.verified_ms,
            cell.value,
            cell.latest_report
        ),
        (4, START_MS + 4 * 60_000, 1_000, reports[3].content_hash)
    );
}

#[test]
fn the_map_keeps_every_cell_a_track_verified_and_none_a_refused_track_crossed() {
    let good = track(1, drive(0));
    let mut teleport = drive(10);
    teleport[3].lat_e7 = north(50_000);
    let teleporting = track(2, teleport);
    let scoring = score(vec![good.clone(), teleporting]);
    let mut mapped: Vec<u64> = scoring.map_cells.iter().map(|c| c.cell).collect();
    let mut carried: Vec<u64> = scoring
        .carried
        .keys()
        .map(|k| u64::from_le_bytes(k.key[..8].try_into().unwrap()))
        .collect();
    carried.sort();
    mapped.sort();
    assert_eq!(mapped, carried, "one map cell per cell carried");
    assert!(scoring.map_cells.len() >= 2);
    assert!(
        scoring
            .map_cells
            .iter()
            .all(|c| c.devices == 1 && c.latest_report == good.content_hash && c.value == 1_000)
    );
}

#[test]
fn a_cell_is_worth_more_the_longer_since_it_was_last_mapped() {
    let rules = MappingRules::default();
    let day = 24 * HOUR_MS;
    assert_eq!(rules.cell_value(START_MS, None), 1_000);
    assert_eq!(rules.cell_value(START_MS, Some(START_MS)), 100);
    assert_eq!(rules.cell_value(START_MS, Some(START_MS - 15 * day)), 550);
    assert_eq!(
        rules.cell_value(START_MS, Some(START_MS - 300 * day)),
        1_000
    );
    // Carried from an earlier epoch: the cell of one fix, mapped 15 days ago.
    let one = track(1, vec![fix(0, LAT, LON, 1)]);
    let first = score(vec![one.clone()]);
    let (cell, _) = first.carried.iter().next().unwrap();
    let state = State::from([(*cell, START_MS - 15 * day)]);
    let scoring = score_with(&rules, vec![one], &state);
    assert_eq!(scoring.scores[&mint(1)], 550);
}

#[test]
fn constants_round_trip_through_the_rule_set_and_bad_ones_are_refused() {
    let rules = MappingRules {
        resolution: 11,
        max_speed_kmh: 180,
        ..MappingRules::default()
    };
    let rebuilt =
        depinkit_oracle::verifier::verifier_for(&rules.rule_set()).expect("a known rule set");
    assert_eq!(rebuilt.rule_set(), rules.rule_set());
    for bad in [
        MappingRules {
            resolution: 16,
            ..MappingRules::default()
        },
        MappingRules {
            max_value: 10,
            ..MappingRules::default()
        },
        MappingRules {
            contributors_per_cell: 0,
            ..MappingRules::default()
        },
    ] {
        assert!(bad.check().is_err(), "{bad:?}");
        assert!(MappingRules::from_constants(&bad.rule_set().constants).is_none());
    }
}

/// The worker scores a mapping epoch with these rules, keeps each refusal
/// where an owner can read it, carries each cell's last mapping to the next
/// epoch, and publishes a bundle that recomputes to its root; a bundle that
/// changes a refusal or a carried value is caught.
#[tokio::test]
async fn a_mapping_epoch_is_scored_explained_and_recomputed() {
    let start_s = now_ms() / 1000 - 3_600 - 70;
    let start_ms = start_s * 1000;
    let chain = Arc::new(common::ChainDouble::new(
        Category::Mapping,
        Vec::new(),
        start_s,
        3_600,
    ));
    chain.pool.lock().unwrap().total_inflow = 10_000_000;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite:{}", dir.path().join("o.db").display()))
        .await
        .unwrap();
    let shift = |fixes: Vec<GnssFix>| -> Vec<GnssFix> {
        fixes
            .into_iter()
            .map(|mut f| {
                f.timestamp_ms += start_ms - START_MS + 60_000;
                f
            })
            .collect()
    };
    let good = track(1, shift(drive(0)));
    let mut teleport = shift(drive(10));
    teleport[3].lat_e7 = north(9_000);
    let teleport = track(2, teleport);
    let reports = [good.clone(), teleport.clone()];
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
    let pending = store.device_reports(&mint(2), 0).await.unwrap();
    assert_eq!(pending[0].1, ReportStatus::Pending);

    let bundles = Bundles::open(dir.path().join("bundles").to_str().unwrap()).unwrap();
    EpochWorker::new(
        chain.clone(),
        NETWORK,
        store.clone(),
        MappingRules::default(),
        60,
    )
    .with_bundles(bundles.clone())
    .tick(now_ms() / 1000)
    .await
    .unwrap();
    assert_eq!(chain.votes.lock().unwrap().len(), 1, "the epoch was voted");

    // Why device 2 earned nothing, as `GET /v1/devices/{mint}/reports` says.
    let explained = store.device_reports(&mint(2), 0).await.unwrap();
    match &explained[0].1 {
        ReportStatus::Refused { rule, detail } => {
            assert_eq!(rule, "speed_above_limit");
            assert!(detail.contains("km/h"), "{detail}");
        }
        other => panic!("refused, not {other:?}"),
    }
    let counted = store.device_reports(&mint(1), 0).await.unwrap();
    assert_eq!(counted[0].1, ReportStatus::Counted);
    let url = common::serve(
        chain.clone(),
        store.clone(),
        depinkit_oracle::ingest::Limits {
            max_batch_reports: 10,
            device_reports_per_minute: 60,
            device_burst: 60,
            grace_secs: 60,
            max_answer_delay_ms: 7_000,
        },
    )
    .await;
    let http = reqwest::Client::new();
    let answer: serde_json::Value = http
        .get(format!("{url}/v1/devices/{}/reports?epoch=0", mint(2)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["reports"][0]["status"], "refused");
    assert_eq!(answer["reports"][0]["rule"], "speed_above_limit");
    assert_eq!(answer["reports"][0]["kind"], "map_track");
    let missing_epoch = http
        .get(format!("{url}/v1/devices/{}/reports", mint(2)))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_epoch.status(), 400);
    let bad_mint = http
        .get(format!("{url}/v1/devices/nope/reports?epoch=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_mint.status(), 400);

    // The cells device 1 mapped are remembered for the next epoch.
    let bundle: Bundle = serde_json::from_slice(&bundles.get(0).await.unwrap().unwrap()).unwrap();
    assert!(!bundle.carried.is_empty());
    let keys = bundle.carried.iter().map(|(k, _)| *k).collect();
    let stored = store.rule_state(&keys).await.unwrap();
    assert_eq!(stored.into_iter().collect::<Vec<_>>(), bundle.carried);
    assert_eq!(bundle.refused.len(), 1);
    assert_eq!(bundle.rule_set, MappingRules::default().rule_set());

    let recomputed = verify(&bundle).unwrap();
    assert_eq!(recomputed.root, chain.votes.lock().unwrap()[0].root);
    let mut no_refusal = bundle.clone();
    no_refusal.refused.clear();
    let mut other_carry = bundle.clone();
    other_carry.carried[0].1 += 1;
    let mut older_cell = bundle.clone();
    older_cell.state_read = vec![(bundle.carried[0].0, start_ms - 3_600_000)];
    for (changed, why) in [
        (no_refusal, "refuses other reports"),
        (other_carry, "carries other values"),
        (older_cell, "scores the reports otherwise"),
    ] {
        let error = verify(&changed).unwrap_err().to_string();
        assert!(error.contains(why), "{why}: {error}");
    }
}
