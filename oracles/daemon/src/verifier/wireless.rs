//! Wireless proof of coverage (hotspots; reference: Helium's IoT verifier,
//! helium/oracles): RULES.md, "Wireless: proof of coverage".
//!
//! A hotspot beacons: it sends a radio packet carrying entropy an oracle of
//! the network issued at most `entropy_max_age_ms` before (so the beacon
//! could not be made ahead of time), from an asserted location; one beacon
//! per device and `beacon_interval_ms` bucket counts, the bucket carried from
//! epoch to epoch. Hotspots that hear it send witnesses naming the beaconer
//! and the SHA-256 of the payload. A witness counts when it is physically
//! believable: another device, with a location, at most `max_distance_m` and
//! at least `min_cell_distance` H3 cells away, on the beacon's frequency,
//! heard soon after the beacon and after the beacon's first witness, no
//! stronger than free-space path loss allows, once per device; the first
//! `max_witnesses_per_beacon` are rewarded. A beacon earns with its rewarded
//! witnesses: fully up to `witness_redundancy` of them, each further one
//! less (`witness_decay_ppm`), and less again where devices crowd one hex
//! (`density_resolution`, `density_target`). Data transfers a customer
//! co-signed and can pay for are charged to it and earn their hotspots a
//! `data_transfer_share_bps` share of the epoch (`transfer`); with a share
//! of 0 (rule set version 1) they are refused.
//!
//! Every order is a sort on integers and report positions (reports come
//! sorted by content hash), dense device ids follow device keys, and the one
//! floating-point computation (path loss) is rounded to a tenth of a dB at
//! once, so every oracle computes the same scores.

mod beacons;
mod devices;
mod fault;
mod parallel;
mod transfer;
mod witnesses;

use super::{EpochInput, Plan, RuleSet, Scores, Scoring, State, StateKey, Verifier};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Hash32, Key};
use devices::{DeviceTable, NO_DEVICE};
use fault::Fault;
use std::collections::{BTreeMap, BTreeSet};

/// The rule set's name in bundles.
pub const NAME: &str = "wireless-poc";
/// Its version: a change of any rule takes a new one (2: data transfer
/// paid; version 1 is the same rules with `data_transfer_share_bps` 0).
pub const VERSION: u32 = 2;
/// The carried-value space of a device's last counted beacon bucket.
pub const BEACON_SPACE: u8 = 2;
/// Micro-units in one reward unit: scores are counted in micro-units, so
/// decayed and density-scaled shares stay integers.
pub const MICRO_UNITS: u64 = 1_000_000;
/// The speed of light, m/s (free-space path loss).
pub const SPEED_OF_LIGHT_M_S: f64 = 299_792_458.0;
/// Parts per million: the unit of decay and density scale.
const PPM: u64 = 1_000_000;

/// The wireless rules' constants (RULES.md's defaults), `[rules.wireless]`
/// in the oracle's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WirelessRules {
    /// Oldest entropy a beacon may carry, ms before the beacon (oracles
    /// issue it every 60 s; 180 s leaves room for a late hotspot).
    pub entropy_max_age_ms: i64,
    /// One beacon per device counts in each bucket of this length, ms.
    pub beacon_interval_ms: i64,
    /// Farthest a witness may be from the beaconer, metres (beyond: no
    /// LoRa link is believable).
    pub max_distance_m: u32,
    /// H3 resolution at which `min_cell_distance` is measured.
    pub min_distance_resolution: u8,
    /// Fewest H3 cells between witness and beaconer (nearer: co-located
    /// hotspots witnessing each other prove no coverage).
    pub min_cell_distance: u32,
    /// Largest difference between the frequencies heard and sent, Hz.
    pub max_frequency_delta_hz: u64,
    /// Latest a witness may be received after the beacon was sent, ms.
    pub max_beacon_lag_ms: i64,
    /// Latest a witness may be received after the beacon's first valid
    /// witness, ms (later: relayed, not heard).
    pub max_witness_lag_ms: i64,
    /// Highest antenna gain believed, tenths of a dBi (a larger claim is
    /// clamped to it in the RSSI bound).
    pub max_antenna_gain_ddbi: i16,
    /// Most witnesses rewarded per beacon, first received first.
    pub max_witnesses_per_beacon: u32,
    /// Witnesses per beacon that earn a full unit each.
    pub witness_redundancy: u32,
    /// Each witness beyond the redundancy earns this fraction of the one
    /// before, parts per million.
    pub witness_decay_ppm: u32,
    /// H3 resolution of the hexes whose crowding scales rewards.
    pub density_resolution: u8,
    /// Devices a hex holds before its beacons' rewards are scaled down.
    pub density_target: u32,
    /// Share of the epoch's amount, basis points, split among hotspots by
    /// the credits of the data they carried (0: data transfer refused).
    pub data_transfer_share_bps: u16,
    /// Bytes one credit pays for (Helium: 24).
    pub bytes_per_credit: u64,
}

impl Default for WirelessRules {
    fn default() -> Self {
        WirelessRules {
            entropy_max_age_ms: 180_000,
            beacon_interval_ms: 6 * 3_600_000,
            max_distance_m: 100_000,
            min_distance_resolution: 11,
            min_cell_distance: 8,
            max_frequency_delta_hz: 100_000,
            max_beacon_lag_ms: 4_000,
            max_witness_lag_ms: 1_500,
            max_antenna_gain_ddbi: 150,
            max_witnesses_per_beacon: 14,
            witness_redundancy: 4,
            witness_decay_ppm: 800_000,
            density_resolution: 8,
            density_target: 2,
            data_transfer_share_bps: 2_000,
            bytes_per_credit: 24,
        }
    }
}

impl WirelessRules {
    /// The rules a rule set's constants describe (`None` when one is
    /// missing or out of range).
    pub fn from_constants(constants: &BTreeMap<String, i64>) -> Option<Self> {
        fn get<T: TryFrom<i64>>(constants: &BTreeMap<String, i64>, name: &str) -> Option<T> {
            T::try_from(*constants.get(name)?).ok()
        }
        let rules = WirelessRules {
            entropy_max_age_ms: get(constants, "entropy_max_age_ms")?,
            beacon_interval_ms: get(constants, "beacon_interval_ms")?,
            max_distance_m: get(constants, "max_distance_m")?,
            min_distance_resolution: get(constants, "min_distance_resolution")?,
            min_cell_distance: get(constants, "min_cell_distance")?,
            max_frequency_delta_hz: get(constants, "max_frequency_delta_hz")?,
            max_beacon_lag_ms: get(constants, "max_beacon_lag_ms")?,
            max_witness_lag_ms: get(constants, "max_witness_lag_ms")?,
            max_antenna_gain_ddbi: get(constants, "max_antenna_gain_ddbi")?,
            max_witnesses_per_beacon: get(constants, "max_witnesses_per_beacon")?,
            witness_redundancy: get(constants, "witness_redundancy")?,
            witness_decay_ppm: get(constants, "witness_decay_ppm")?,
            density_resolution: get(constants, "density_resolution")?,
            density_target: get(constants, "density_target")?,
            // Version 1 rule sets have neither: data transfer was refused.
            data_transfer_share_bps: get(constants, "data_transfer_share_bps").unwrap_or(0),
            bytes_per_credit: get(constants, "bytes_per_credit").unwrap_or(24),
        };
        rules.check().ok()?;
        Some(rules)
    }

    /// Whether the constants make sense, and if not which one and why.
    pub fn check(&self) -> Result<(), String> {
        if self.min_distance_resolution > 15 || self.density_resolution > 15 {
            return Err(
                "wireless.min_distance_resolution and wireless.density_resolution must be 0 to 15"
                    .into(),
            );
        }
        if self.entropy_max_age_ms <= 0 || self.beacon_interval_ms <= 0 || self.max_distance_m == 0
        {
            return Err(
                "wireless.entropy_max_age_ms, wireless.beacon_interval_ms and \
                 wireless.max_distance_m must be at least 1"
                    .into(),
            );
        }
        if self.max_beacon_lag_ms < 0 || self.max_witness_lag_ms < 0 {
            return Err(
                "wireless.max_beacon_lag_ms and wireless.max_witness_lag_ms must not be negative"
                    .into(),
            );
        }
        if self.max_antenna_gain_ddbi < 0 {
            return Err("wireless.max_antenna_gain_ddbi must not be negative".into());
        }
        if self.max_witnesses_per_beacon == 0
            || self.witness_redundancy == 0
            || self.density_target == 0
        {
            return Err(
                "wireless.max_witnesses_per_beacon, wireless.witness_redundancy and \
                 wireless.density_target must be at least 1"
                    .into(),
            );
        }
        if u64::from(self.witness_decay_ppm) > PPM {
            return Err("wireless.witness_decay_ppm must be at most 1000000 (no growth)".into());
        }
        if self.data_transfer_share_bps > 10_000 || self.bytes_per_credit == 0 {
            return Err(
                "wireless.data_transfer_share_bps must be at most 10000 and \
                 wireless.bytes_per_credit at least 1"
                    .into(),
            );
        }
        Ok(())
    }

    /// U(n): the micro-units a beacon's `n` rewarded witnesses share: a
    /// full unit each up to the redundancy, then `decay^k` of a unit for the
    /// k-th witness beyond it (the power taken step by step in whole ppm,
    /// rounded down at each step).
    pub fn witness_units(&self, rewarded: u32) -> u64 {
        self.witness_units_up_to(rewarded as usize)
            .last()
            .unwrap_or(0)
    }

    /// U(0), U(1), ... U(`up_to`).
    fn witness_units_up_to(&self, up_to: usize) -> impl Iterator<Item = u64> {
        let redundancy = self.witness_redundancy as usize;
        let decay = u64::from(self.witness_decay_ppm);
        let (mut total, mut share) = (0u64, MICRO_UNITS);
        std::iter::once(0).chain((1..=up_to).map(move |n| {
            if n > redundancy {
                share = share * decay / PPM;
                total += share;
            } else {
                total += MICRO_UNITS;
            }
            total
        }))
    }

    /// The micro-units of each of `rewarded` witnesses and of the beaconer,
    /// before density scaling: U(n)/n and U(n)/redundancy, rounded down
    /// (nothing when no witness is rewarded).
    pub fn beacon_units(&self, rewarded: u32) -> (u64, u64) {
        self.split_units(rewarded, self.witness_units(rewarded))
    }

    /// [`Self::beacon_units`] given U(n).
    fn split_units(&self, rewarded: u32, total: u64) -> (u64, u64) {
        if rewarded == 0 {
            return (0, 0);
        }
        (
            total / u64::from(rewarded),
            total / u64::from(self.witness_redundancy.max(1)),
        )
    }

    /// The scale, ppm, of the rewards of a beacon from a hex holding
    /// `devices` active located devices: whole up to the target, then
    /// target/devices (rounded down), so a crowded hex earns what `target`
    /// devices would.
    pub fn density_scale_ppm(&self, devices: u64) -> u64 {
        let target = u64::from(self.density_target);
        if devices <= target {
            PPM
        } else {
            target * PPM / devices
        }
    }
}

impl WirelessRules {
    /// The micro-units each device earns by id: each beacon with rewarded
    /// witnesses pays its beaconer and them, scaled by the beaconer's hex;
    /// a counted beacon without any is refused. Also the earning hexes
    /// (sorted, distinct), whose devices' entries the scale read.
    fn pay(
        &self,
        table: &DeviceTable,
        beacons: &mut [BeaconRow],
        rewarded: &witnesses::Rewarded,
    ) -> (Vec<u64>, Vec<u64>) {
        let largest = rewarded.groups().map(<[_]>::len).max().unwrap_or(0);
        let units: Vec<u64> = self.witness_units_up_to(largest).collect();
        let mut earned = vec![0u64; table.len()];
        let mut earning = vec![false; beacons.len()];
        let mut earning_hexes = Vec::new();
        for group in rewarded.groups() {
            let beacon = &beacons[group[0].0 as usize];
            earning[group[0].0 as usize] = true;
            if let Some(place) = table.place(beacon.device) {
                earning_hexes.push(place.hex);
            }
            let scale = self.density_scale_ppm(u64::from(table.crowd_size(beacon.device)));
            let scaled = |amount: u64| (u128::from(amount) * u128::from(scale) / 1_000_000) as u64;
            let (each, beaconer) = self.split_units(group.len() as u32, units[group.len()]);
            earned[beacon.device as usize] += scaled(beaconer);
            for &(_, device) in group {
                earned[device as usize] += scaled(each);
            }
        }
        for (b, beacon) in beacons.iter_mut().enumerate() {
            if beacon.fault.is_none() && !earning[b] {
                beacon.fault = Some(Fault::NoValidWitness {
                    witnesses: rewarded.heard[b],
                });
            }
        }
        earning_hexes.sort_unstable();
        earning_hexes.dedup();
        (earned, earning_hexes)
    }
}

/// Free-space path loss in tenths of a dB over `distance_mm` (at least one
/// metre) at `frequency_hz`: 20 log10(4 pi d f / c), computed with `libm`
/// and rounded to the nearest tenth, so that rules compare integers.
pub fn free_space_loss_ddb(distance_mm: u64, frequency_hz: u64) -> i64 {
    let metres = distance_mm.max(1_000) as f64 / 1_000.0;
    let ratio = 4.0 * std::f64::consts::PI * metres * frequency_hz as f64 / SPEED_OF_LIGHT_M_S;
    libm::round(200.0 * libm::log10(ratio)) as i64
}

/// The carried key of a device's last counted beacon bucket.
fn beacon_key(device: &Key) -> StateKey {
    StateKey {
        space: BEACON_SPACE,
        key: device.0,
    }
}

/// A beacon of the epoch: what the rules read of it, copied once, and why
/// it is refused once a rule does.
#[derive(Clone, Debug, Default)]
struct BeaconRow {
    /// Its position in the epoch's reports.
    report: u32,
    /// The beaconer's dense id ([`NO_DEVICE`]: not registered).
    device: u32,
    /// When it was sent (the report's time), unix ms.
    at_ms: i64,
    /// SHA-256 of its payload: how witnesses name it.
    payload: Hash32,
    /// Carrier frequency, Hz.
    frequency_hz: u64,
    /// Transmit power, tenths of a dBm.
    tx_power_ddbm: i16,
    /// Antenna gain, tenths of a dBi.
    antenna_gain_ddbi: i16,
    /// The first rule it broke.
    fault: Option<Fault>,
}

/// A witness of the epoch: the beacon it names, what the rules found, and
/// why it is refused once a rule does.
#[derive(Clone, Debug, Default)]
struct WitnessRow {
    /// Its position in the epoch's reports.
    report: u32,
    /// The witness's dense id ([`NO_DEVICE`]: not registered).
    device: u32,
    /// The dense id of the beaconer it names ([`NO_DEVICE`]: unknown).
    beaconer: u32,
    /// The counted beacon it names, once judged (`u32::MAX`: none).
    beacon: u32,
    /// When it was received, unix ms.
    received_ms: i64,
    /// The first rule it broke (`rssi_too_strong` is settled after the
    /// witnesses of its beacon are judged together).
    fault: Option<Fault>,
}

/// What [`Verifier::plan`] computes and [`Verifier::score`] goes on with:
/// the devices' table, and every report judged on its own.
struct FirstPass {
    table: DeviceTable,
    beacons: Vec<BeaconRow>,
    witnesses: Vec<WitnessRow>,
    /// Reports of other kinds, refused (data transfers above all).
    others: Vec<(u32, Fault)>,
}

impl Verifier for WirelessRules {
    fn rule_set(&self) -> RuleSet {
        let mut constants = BTreeMap::from([
            ("entropy_max_age_ms".into(), self.entropy_max_age_ms),
            ("beacon_interval_ms".into(), self.beacon_interval_ms),
            ("max_distance_m".into(), i64::from(self.max_distance_m)),
            (
                "min_distance_resolution".into(),
                i64::from(self.min_distance_resolution),
            ),
            (
                "min_cell_distance".into(),
                i64::from(self.min_cell_distance),
            ),
            (
                "max_frequency_delta_hz".into(),
                i64::try_from(self.max_frequency_delta_hz).unwrap_or(i64::MAX),
            ),
            ("max_beacon_lag_ms".into(), self.max_beacon_lag_ms),
            ("max_witness_lag_ms".into(), self.max_witness_lag_ms),
            (
                "max_antenna_gain_ddbi".into(),
                i64::from(self.max_antenna_gain_ddbi),
            ),
            (
                "max_witnesses_per_beacon".into(),
                i64::from(self.max_witnesses_per_beacon),
            ),
            (
                "witness_redundancy".into(),
                i64::from(self.witness_redundancy),
            ),
            (
                "witness_decay_ppm".into(),
                i64::from(self.witness_decay_ppm),
            ),
            (
                "density_resolution".into(),
                i64::from(self.density_resolution),
            ),
            ("density_target".into(), i64::from(self.density_target)),
        ]);
        // A share of 0 is version 1's rules exactly (data transfer refused).
        let version = if self.data_transfer_share_bps == 0 {
            1
        } else {
            constants.insert(
                "data_transfer_share_bps".into(),
                i64::from(self.data_transfer_share_bps),
            );
            constants.insert(
                "bytes_per_credit".into(),
                i64::try_from(self.bytes_per_credit).unwrap_or(i64::MAX),
            );
            VERSION
        };
        RuleSet {
            name: NAME.into(),
            version,
            constants,
        }
    }

    fn customers_needed(&self, input: &EpochInput) -> BTreeSet<Key> {
        if self.data_transfer_share_bps == 0 {
            return BTreeSet::new();
        }
        input
            .reports
            .iter()
            .filter_map(|r| match &r.report.report.body {
                depinkit_reports::Body::DataTransfer(session) => Some(session.customer),
                _ => None,
            })
            .collect()
    }

    fn uses_devices(&self) -> bool {
        true
    }

    fn plan(&self, input: &EpochInput) -> Plan {
        let pass = beacons::first_pass(self, input);
        let mut beaconers: Vec<u32> = pass
            .beacons
            .iter()
            .filter(|beacon| beacon.fault.is_none())
            .map(|beacon| beacon.device)
            .collect();
        beaconers.sort_unstable();
        beaconers.dedup();
        let state_keys = beaconers
            .into_iter()
            .map(|id| beacon_key(pass.table.key(id)))
            .collect();
        Plan {
            state_keys,
            work: Box::new(pass),
        }
    }

    fn score(&self, input: &EpochInput, plan: Plan, state: &State) -> Scoring {
        let pass: FirstPass = match plan.work.downcast::<FirstPass>() {
            Ok(pass) => *pass,
            Err(_) => return self.score(input, self.plan(input), state),
        };
        let FirstPass {
            table,
            mut beacons,
            mut witnesses,
            others,
        } = pass;
        let last_buckets = beacons::count_one_per_bucket(self, &table, &mut beacons, state);
        witnesses::judge(self, input, &table, &beacons, &mut witnesses);
        let rewarded = witnesses::settle(self, &mut witnesses, beacons.len());
        let (earned, earning_hexes) = self.pay(&table, &mut beacons, &rewarded);

        // Each earning device's mint, from its first report; and the
        // devices whose entries decided anything: every reporter, and the
        // devices of each earning hex.
        let mut mints: Vec<Option<Pubkey>> = vec![None; table.len()];
        let mut read = vec![false; table.len()];
        let rows = beacons.iter().map(|b| (b.device, b.report));
        for (device, report) in rows.chain(witnesses.iter().map(|w| (w.device, w.report))) {
            if device == NO_DEVICE {
                continue;
            }
            read[device as usize] = true;
            if earned[device as usize] > 0 && mints[device as usize].is_none() {
                mints[device as usize] = Some(input.reports[report as usize].device_mint);
            }
        }
        for device in table.crowds_of(&earning_hexes) {
            read[device as usize] = true;
        }
        let devices_read: BTreeSet<Key> = (0..table.len() as u32)
            .filter(|&id| read[id as usize])
            .map(|id| *table.key(id))
            .collect();

        let mut faults = others;
        faults.extend(beacons.iter().filter_map(|b| Some((b.report, b.fault?))));
        faults.extend(witnesses.iter().filter_map(|w| Some((w.report, w.fault?))));
        faults.sort_unstable_by_key(|(report, _)| *report);
        let refused = super::parallel_map(&faults, |(report, fault)| {
            (
                input.reports[*report as usize].content_hash,
                fault.refusal(self),
            )
        })
        .into_iter()
        .collect();

        let mut by_mint: Vec<(Pubkey, u64)> = earned
            .iter()
            .zip(&mints)
            .filter_map(|(&score, mint)| Some(((*mint)?, score)))
            .collect();
        by_mint.sort_unstable();
        // One device per mint (a mint is derived from its key); summed if not.
        by_mint.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                earlier.1 += later.1;
            }
            same
        });
        let scores: Scores = by_mint.into_iter().collect();
        let mut refused: BTreeMap<Hash32, super::Refusal> = refused;
        let sessions = if self.data_transfer_share_bps > 0 {
            transfer::judge(self, input)
        } else {
            transfer::Sessions::default()
        };
        refused.extend(sessions.refused);
        Scoring {
            scores,
            refused,
            usage: sessions.usage,
            usage_share_bps: self.data_transfer_share_bps,
            charges: sessions.charges,
            carried: last_buckets
                .into_iter()
                .map(|(device, bucket)| (beacon_key(table.key(device)), bucket))
                .collect(),
            devices_read,
            ..Scoring::default()
        }
    }
}
