//! A small wireless network for the wireless rules' tests: hotspots at
//! chosen distances around one point, the beacons and witnesses they sign,
//! and an epoch of them scored as the worker scores it.

pub use crate::common::refusal;
use crate::common::{NETWORK, entropy, key, oracle};
use anchor_lang::prelude::Pubkey;
use depinkit_oracle::{
    registry::RegisteredDevice,
    store::StoredReport,
    verifier::{Devices, EpochInput, Scoring, State, Verifier, geo, wireless::WirelessRules},
};
use depinkit_reports::{Beacon, Body, Entropy, Hash32, Key, Report, Witness};

/// 2026-01-01T00:00:00Z, the epoch's start (a 6-hour bucket's start too).
pub const START_MS: i64 = 1_767_225_600_000;
/// An hour, ms.
pub const HOUR_MS: i64 = 3_600_000;
/// Every beacon's frequency (EU868).
pub const FREQUENCY_HZ: u64 = 868_100_000;
/// An RSSI any witness between 1 and 90 km may report (-120 dBm).
pub const WEAK: i16 = -1_200;

/// San Francisco's Market Street; a point `north` and `east` metres away,
/// as the resolution-12 cell a hotspot asserts.
pub fn cell(north: i32, east: i32) -> u64 {
    // A metre is about 89.9 units of 1e-7 degree of latitude, and 113.6 of
    // longitude at 37.77 degrees north.
    let lat = 377_749_000 + north * 90;
    let lon = -1_224_194_000 + (i64::from(east) * 1136 / 10) as i32;
    u64::from(geo::cell_of(lat, lon, 12).unwrap())
}

/// Device `seed`'s key.
pub fn device_key(seed: u8) -> Key {
    Key(key(seed).verifying_key().to_bytes())
}

/// Device `seed`'s mint, as ingest and bundles derive it.
pub fn mint(seed: u8) -> Pubkey {
    let device = Pubkey::new_from_array(device_key(seed).0);
    device_registry::pda::find_device_mint_address(&NETWORK, &device).0
}

/// Devices `seed` at `location` (0: none), active.
pub fn devices(located: &[(u8, u64)]) -> Devices {
    located
        .iter()
        .map(|&(seed, location)| {
            (
                device_key(seed),
                RegisteredDevice {
                    mint: mint(seed),
                    location,
                    active: true,
                },
            )
        })
        .collect()
}

/// The default world: beaconer 1 at the origin, witnesses 2 to 20 on a
/// line north from 2 km, 300 m apart (in other hexes than the beaconer's).
pub fn world() -> Devices {
    let mut located = vec![(1, cell(0, 0))];
    located.extend((2..=20).map(|seed| (seed, cell(2_000 + 300 * i32::from(seed), 0))));
    devices(&located)
}

/// A report with `body` signed by device `seed`, as the store keeps it.
pub fn stored(seed: u8, timestamp_ms: i64, body: Body) -> StoredReport {
    let signed = Report {
        network: Key(NETWORK.to_bytes()),
        device: device_key(seed),
        timestamp_ms,
        body,
    }
    .sign(&key(seed));
    StoredReport {
        id: 0,
        epoch: 0,
        device_mint: mint(seed),
        content_hash: signed.report.content_hash(),
        received_ms: timestamp_ms,
        report: signed,
    }
}

/// A beacon from `seed` at `at_ms` carrying `entropy`, payload `[payload]`.
pub fn beacon_with(seed: u8, at_ms: i64, payload: u8, entropy: Entropy) -> StoredReport {
    let body = Body::Beacon(Beacon {
        entropy,
        payload: vec![payload],
        frequency_hz: FREQUENCY_HZ,
        tx_power_ddbm: 140,
        antenna_gain_ddbi: 30,
    });
    stored(seed, at_ms, body)
}

/// A beacon `at` ms into the epoch with entropy issued 10 s before.
pub fn beacon(seed: u8, at: i64, payload: u8) -> StoredReport {
    let at_ms = START_MS + at;
    beacon_with(seed, at_ms, payload, entropy(at_ms - 10_000))
}

/// A witness by `seed` of `beacon`, received `lag_ms` after it was sent,
/// on its frequency, with `change` applied.
pub fn witness_with(
    seed: u8,
    beacon: &StoredReport,
    lag_ms: i64,
    change: impl FnOnce(&mut Witness),
) -> StoredReport {
    let Body::Beacon(sent) = &beacon.report.report.body else {
        panic!("not a beacon")
    };
    let mut heard = Witness {
        beaconer: beacon.report.report.device,
        beacon_payload_hash: Hash32::sha256(&sent.payload),
        received_at_ms: beacon.report.report.timestamp_ms + lag_ms,
        frequency_hz: FREQUENCY_HZ,
        rssi_ddbm: WEAK,
        snr_ddb: 50,
        antenna_gain_ddbi: 30,
    };
    change(&mut heard);
    stored(seed, heard.received_at_ms, Body::Witness(heard))
}

/// An honest witness by `seed` of `beacon`, `lag_ms` after it.
pub fn witness(seed: u8, beacon: &StoredReport, lag_ms: i64) -> StoredReport {
    witness_with(seed, beacon, lag_ms, |_| {})
}

/// Scores `reports` (sorted as the worker sorts them) with `rules`,
/// `devices` and the carried `state`.
pub fn score_with(
    rules: &WirelessRules,
    mut reports: Vec<StoredReport>,
    devices: &Devices,
    state: &State,
) -> Scoring {
    reports.sort_by_key(|r| r.content_hash);
    let oracles = [oracle()];
    let input = EpochInput {
        network: NETWORK,
        oracles: &oracles,
        epoch: 0,
        start_ms: START_MS,
        end_ms: START_MS + 24 * HOUR_MS,
        reports: &reports,
        devices,
        orders: &Default::default(),
        usage_escrows: &Default::default(),
    };
    let plan = rules.plan(&input);
    rules.score(&input, plan, state)
}

/// Scores `reports` in the default world, with the default rules.
pub fn score(reports: Vec<StoredReport>) -> Scoring {
    score_with(&WirelessRules::default(), reports, &world(), &State::new())
}

/// The score of device `seed` (0 when absent).
pub fn score_of(scoring: &Scoring, seed: u8) -> u64 {
    scoring.scores.get(&mint(seed)).copied().unwrap_or(0)
}

/// One witness of a beacon from device 1 (at the origin), that passes
/// every rule (`rule` empty) or breaks exactly `rule`.
pub struct Case {
    /// What the witness does, for the failure message.
    pub why: &'static str,
    /// The refusal expected (empty: none).
    pub rule: &'static str,
    /// The witness device, and its location (`None`: not registered).
    pub seed: u8,
    pub location: Option<u64>,
    /// When it is received, after the beacon.
    pub lag_ms: i64,
    /// How it differs from an honest witness.
    pub change: Box<dyn Fn(&mut Witness)>,
}

/// An honest witness from device 2, 2 km north, 100 ms after the beacon.
pub fn case(why: &'static str, rule: &'static str) -> Case {
    Case {
        why,
        rule,
        seed: 2,
        location: Some(cell(2_000, 0)),
        lag_ms: 100,
        change: Box::new(|_| {}),
    }
}

impl Case {
    /// Sent by `seed` at `location`.
    pub fn by(self, seed: u8, location: Option<u64>) -> Self {
        Case {
            seed,
            location,
            ..self
        }
    }

    /// Sent from `location`.
    pub fn at(self, location: u64) -> Self {
        Case {
            location: Some(location),
            ..self
        }
    }

    /// Received `lag_ms` after the beacon.
    pub fn lag(self, lag_ms: i64) -> Self {
        Case { lag_ms, ..self }
    }

    /// Changed by `change`.
    pub fn with(self, change: impl Fn(&mut Witness) + 'static) -> Self {
        Case {
            change: Box::new(change),
            ..self
        }
    }
}
