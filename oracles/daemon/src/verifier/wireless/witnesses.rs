//! The witness rules: each witness matched to the counted beacon it names
//! and judged against it on its own (in parallel: distance, grid distance,
//! frequency, timing, path loss), then each beacon's witnesses judged
//! together (time after the first valid one, one per device, the first
//! rewarded).

use super::{
    BeaconRow, WirelessRules, WitnessRow,
    devices::{DeviceTable, Place},
    fault::Fault,
    free_space_loss_ddb, parallel,
};
use crate::verifier::EpochInput;
use depinkit_reports::{Body, Hash32, Witness};
use h3o::Resolution;

/// No beacon.
const NO_BEACON: u32 = u32::MAX;

/// A counted beacon as its witnesses are judged against it: what they
/// compare, copied from its row and its device's entry once.
#[derive(Clone, Copy, Debug)]
struct Sent {
    payload: Hash32,
    at_ms: i64,
    /// Its index among the epoch's beacons.
    beacon: u32,
    tx_power_ddbm: i16,
    antenna_gain_ddbi: i16,
    frequency_hz: u64,
    from: Option<Place>,
}

/// The counted beacons by beaconer: device `d`'s are
/// `sent[first[d]..first[d + 1]]`, by payload hash, time, position.
struct CountedBeacons {
    first: Vec<u32>,
    sent: Vec<Sent>,
}

impl CountedBeacons {
    /// Places each counted beacon by its device (a counting sort: the
    /// devices are many, their beacons in an epoch few).
    fn new(table: &DeviceTable, beacons: &[BeaconRow]) -> Self {
        let counted = |beacon: &&BeaconRow| beacon.fault.is_none();
        let mut first = vec![0u32; table.len() + 1];
        for beacon in beacons.iter().filter(counted) {
            first[beacon.device as usize + 1] += 1;
        }
        for d in 1..first.len() {
            first[d] += first[d - 1];
        }
        let mut next = first.clone();
        let mut order = vec![0u32; first[table.len()] as usize];
        for (b, beacon) in beacons.iter().enumerate() {
            if beacon.fault.is_none() {
                let slot = &mut next[beacon.device as usize];
                order[*slot as usize] = b as u32;
                *slot += 1;
            }
        }
        drop(next);
        let mut sent: Vec<Sent> = order
            .into_iter()
            .map(|b| {
                let beacon = &beacons[b as usize];
                Sent {
                    payload: beacon.payload,
                    at_ms: beacon.at_ms,
                    beacon: b,
                    tx_power_ddbm: beacon.tx_power_ddbm,
                    antenna_gain_ddbi: beacon.antenna_gain_ddbi,
                    frequency_hz: beacon.frequency_hz,
                    // A counted beacon's device has a place (rule 2).
                    from: table.place(beacon.device).copied(),
                }
            })
            .collect();
        for d in 0..table.len() {
            let (start, end) = (first[d] as usize, first[d + 1] as usize);
            if end - start > 1 {
                sent[start..end].sort_unstable_by_key(|s| (s.payload, s.at_ms, s.beacon));
            }
        }
        CountedBeacons { first, sent }
    }

    /// The beacon a witness received at `received_ms` names: of the counted
    /// beacons of `beaconer` with `payload`, the last sent by then, or the
    /// first (a device may send one payload in several buckets).
    fn find(&self, beaconer: u32, payload: &Hash32, received_ms: i64) -> Option<&Sent> {
        let (Some(&start), Some(&end)) = (
            self.first.get(beaconer as usize),
            self.first.get(beaconer as usize + 1),
        ) else {
            return None;
        };
        let own = &self.sent[start as usize..end as usize];
        let start = own.partition_point(|sent| sent.payload < *payload);
        let same = &own[start..start + own[start..].partition_point(|s| s.payload == *payload)];
        let sent_before = same.partition_point(|sent| sent.at_ms <= received_ms);
        same.get(sent_before.saturating_sub(1))
    }
}

/// Judges each witness against the counted beacon it names: every rule
/// before `late_witness` but the lag after the first witness (which needs
/// them all), and the RSSI bound (applied after it).
pub(super) fn judge(
    rules: &WirelessRules,
    input: &EpochInput,
    table: &DeviceTable,
    beacons: &[BeaconRow],
    witnesses: &mut [WitnessRow],
) {
    let judge = Judge {
        rules,
        input,
        table,
        counted: CountedBeacons::new(table, beacons),
        measure_cells_within_mm: grid_distance_horizon_mm(rules),
    };
    parallel::for_each_mut(witnesses, |row| judge.witness(row));
}

/// The distance between two locations' centers beyond which their cells
/// at `min_distance_resolution` are surely `min_cell_distance` apart, so
/// the grid distance need not be computed (most witnesses are kilometres
/// away, and it is the costliest check). Cells `k` apart have centers at
/// most `k` neighbour steps apart, and a location's center is within one
/// offset of its cell's there; sampled over every base cell, a step is at
/// most 1.91 average edges and an offset 0.98. Taking 3 and 1.5 (half again
/// as margin), cells fewer than `min` apart have centers at most
/// `3 (min - 1) + 2 x 1.5 = 3 min` edges apart. The outcome is the one the
/// grid distance would give: this only spares computing it.
fn grid_distance_horizon_mm(rules: &WirelessRules) -> u64 {
    let Ok(resolution) = Resolution::try_from(rules.min_distance_resolution) else {
        return u64::MAX;
    };
    let edge_mm = resolution.edge_length_m() * 1_000.0;
    libm::ceil(3.0 * f64::from(rules.min_cell_distance) * edge_mm) as u64
}

/// What every witness of an epoch is judged with.
struct Judge<'a> {
    rules: &'a WirelessRules,
    input: &'a EpochInput<'a>,
    table: &'a DeviceTable,
    counted: CountedBeacons,
    /// See [`grid_distance_horizon_mm`].
    measure_cells_within_mm: u64,
}

impl Judge<'_> {
    /// Judges one witness alone: writes the beacon it names and the first
    /// rule it breaks.
    fn witness(&self, row: &mut WitnessRow) {
        row.beacon = NO_BEACON;
        let report = &self.input.reports[row.report as usize].report.report;
        let Body::Witness(witness) = &report.body else {
            row.fault = Some(Fault::NotWireless);
            return;
        };
        let Some((sent, from)) = self
            .counted
            .find(row.beaconer, &witness.beacon_payload_hash, row.received_ms)
            .and_then(|sent| Some((sent, sent.from.as_ref()?)))
        else {
            row.fault = Some(Fault::NoSuchBeacon);
            return;
        };
        row.beacon = sent.beacon;
        row.fault = if report.device == witness.beaconer {
            Some(Fault::SelfWitness)
        } else {
            self.against(sent, from, row, witness).err()
        };
    }

    /// The rules from `no_location` to `late_witness` (after the beacon), in
    /// order, then `rssi_too_strong`: above `tx_power + gains (each at most
    /// max_antenna_gain_ddbi) - FSPL`.
    fn against(
        &self,
        sent: &Sent,
        from: &Place,
        row: &WitnessRow,
        witness: &Witness,
    ) -> Result<(), Fault> {
        let rules = self.rules;
        let Some(at) = self.table.place(row.device) else {
            return Err(Fault::NoLocation {
                beaconer: false,
                registered: row.device != super::NO_DEVICE,
            });
        };
        let distance_mm = from.center.distance_mm(&at.center);
        if distance_mm > u64::from(rules.max_distance_m) * 1_000 {
            return Err(Fault::TooFar {
                distance_m: distance_mm / 1_000,
            });
        }
        // An error (cells too far apart to unfold on one plane) is far enough.
        if distance_mm <= self.measure_cells_within_mm
            && let Ok(cells) = from.near.grid_distance(at.near)
            && (cells as u32) < rules.min_cell_distance
        {
            return Err(Fault::TooClose {
                cells: cells as u32,
            });
        }
        let delta_hz = witness.frequency_hz.abs_diff(sent.frequency_hz);
        if delta_hz > rules.max_frequency_delta_hz {
            return Err(Fault::FrequencyMismatch { delta_hz });
        }
        let lag_ms = row.received_ms.saturating_sub(sent.at_ms);
        if lag_ms < 0 {
            return Err(Fault::EarlyWitness {
                early_ms: lag_ms.saturating_neg(),
            });
        }
        if lag_ms > rules.max_beacon_lag_ms {
            return Err(Fault::LateAfterBeacon { lag_ms });
        }
        let gain = |gain: i16| i64::from(gain.min(rules.max_antenna_gain_ddbi));
        let max_ddbm = i64::from(sent.tx_power_ddbm)
            + gain(sent.antenna_gain_ddbi)
            + gain(witness.antenna_gain_ddbi)
            - free_space_loss_ddb(distance_mm, sent.frequency_hz);
        if i64::from(witness.rssi_ddbm) > max_ddbm {
            return Err(Fault::RssiTooStrong {
                rssi_ddbm: witness.rssi_ddbm,
                max_ddbm,
            });
        }
        Ok(())
    }
}

/// The rewarded witnesses of the epoch, and how many witnesses named each
/// counted beacon.
pub(super) struct Rewarded {
    /// (beacon, witness's device) by beacon.
    pairs: Vec<(u32, u32)>,
    /// Per beacon, the witnesses that named it.
    pub heard: Vec<u32>,
}

impl Rewarded {
    /// Each earning beacon's rewarded witnesses, as (beacon, device).
    pub fn groups(&self) -> impl Iterator<Item = &[(u32, u32)]> {
        self.pairs.chunk_by(|a, b| a.0 == b.0)
    }
}

/// A witness as its beacon's witnesses are judged together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Named {
    received_ms: i64,
    /// Its index among the witnesses (so, content-hash order).
    witness: u32,
    device: u32,
    /// It passed the rules before `late_witness`.
    passed: bool,
    /// ... but is refused as `rssi_too_strong`, unless late.
    too_strong: bool,
}

/// Judges each beacon's witnesses together, in order of reception (then
/// content hash): late after the first that passed the rules so far, then
/// too strong, then one per device, then the first
/// `max_witnesses_per_beacon` rewarded. Writes each refused witness's fault.
pub(super) fn settle(
    rules: &WirelessRules,
    witnesses: &mut [WitnessRow],
    beacon_count: usize,
) -> Rewarded {
    // Each beacon's witnesses, by a counting sort (an epoch holds millions).
    let mut heard = vec![0u32; beacon_count];
    for row in witnesses.iter().filter(|row| row.beacon != NO_BEACON) {
        heard[row.beacon as usize] += 1;
    }
    let mut next: Vec<u32> = heard
        .iter()
        .scan(0u32, |start, &count| {
            *start += count;
            Some(*start - count)
        })
        .collect();
    let mut by_beacon = vec![0u32; heard.iter().map(|&c| c as usize).sum()];
    for (w, row) in witnesses.iter().enumerate() {
        if row.beacon != NO_BEACON {
            let slot = &mut next[row.beacon as usize];
            by_beacon[*slot as usize] = w as u32;
            *slot += 1;
        }
    }
    drop(next);
    let mut pairs = Vec::new();
    // Reused per beacon.
    let mut group: Vec<Named> = Vec::new();
    let mut candidates: Vec<(u32, i64, u32)> = Vec::new();
    let mut valid: Vec<(i64, u32, u32)> = Vec::new();
    let mut start = 0;
    for (beacon, &count) in heard.iter().enumerate() {
        let named = &by_beacon[start..start + count as usize];
        start += count as usize;
        if named.is_empty() {
            continue;
        }
        group.clear();
        group.extend(named.iter().map(|&w| {
            let row = &witnesses[w as usize];
            let too_strong = matches!(row.fault, Some(Fault::RssiTooStrong { .. }));
            Named {
                received_ms: row.received_ms,
                witness: w,
                device: row.device,
                passed: row.fault.is_none() || too_strong,
                too_strong,
            }
        }));
        group.sort_unstable();
        let first_ms = group
            .iter()
            .find(|named| named.passed)
            .map(|named| named.received_ms);
        candidates.clear();
        for named in group.iter().filter(|named| named.passed) {
            let lag_ms = named.received_ms - first_ms.unwrap_or(named.received_ms);
            if lag_ms > rules.max_witness_lag_ms {
                witnesses[named.witness as usize].fault =
                    Some(Fault::LateAfterFirstWitness { lag_ms });
            } else if !named.too_strong {
                candidates.push((named.device, named.received_ms, named.witness));
            }
        }
        // One per device: its first (by reception, then content hash).
        candidates.sort_unstable();
        valid.clear();
        for (i, &(device, received_ms, w)) in candidates.iter().enumerate() {
            if i > 0 && candidates[i - 1].0 == device {
                witnesses[w as usize].fault = Some(Fault::DuplicateWitness);
            } else {
                valid.push((received_ms, w, device));
            }
        }
        valid.sort_unstable();
        for (i, &(_, w, device)) in valid.iter().enumerate() {
            if i < rules.max_witnesses_per_beacon as usize {
                pairs.push((beacon as u32, device));
            } else {
                witnesses[w as usize].fault = Some(Fault::BeyondMaxWitnesses);
            }
        }
    }
    Rewarded { pairs, heard }
}
