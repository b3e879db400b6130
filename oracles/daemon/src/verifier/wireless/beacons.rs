//! The first pass over an epoch's reports (each judged on its own, in
//! parallel), and the beacon rules: entropy from an oracle of the network
//! and recent enough, a beaconer with a location, one beacon per device and
//! bucket.

use super::{
    BeaconRow, FirstPass, WirelessRules, WitnessRow, devices::DeviceTable, fault::Fault, parallel,
};
use crate::verifier::{EpochInput, State, StateKey, parallel_map};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Body, Entropy, Hash32, Key};
use std::{collections::HashMap, ops::Range};

/// What the entropy itself says of a beacon, whatever the beacon's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EntropyVerdict {
    /// An oracle of the network signed it.
    Valid,
    /// Its issuer is not an oracle of the network.
    Unlisted,
    /// Its signature does not verify.
    Forged,
}

/// One part of the reports, judged by one thread into its own slices of
/// the epoch's rows.
struct Part<'a> {
    reports: Range<usize>,
    beacons: &'a mut [BeaconRow],
    /// For each beacon, its entropy's number among the part's.
    entropy_of: &'a mut [u32],
    witnesses: &'a mut [WitnessRow],
}

/// What a part found besides its rows.
struct Found {
    /// The part's distinct entropies, first seen first.
    entropies: Vec<Entropy>,
    /// Reports of other kinds, refused.
    others: Vec<(u32, Fault)>,
}

/// Judges every report on its own: the kind, the beacon rules but the
/// bucket's, the devices named. Each distinct entropy is verified once
/// (millions of beacons share a few).
pub(super) fn first_pass(rules: &WirelessRules, input: &EpochInput) -> FirstPass {
    let table = DeviceTable::new(input.devices, rules);
    // Each part's beacons and witnesses, so each fills its own slices.
    let ranges = parallel::ranges(input.reports.len());
    let counts: Vec<(usize, usize)> = parallel::on_threads(ranges.clone(), |range| {
        input.reports[range]
            .iter()
            .fold((0, 0), |(b, w), report| match report.report.report.body {
                Body::Beacon(_) => (b + 1, w),
                Body::Witness(_) => (b, w + 1),
                _ => (b, w),
            })
    });
    let beacon_counts: Vec<usize> = counts.iter().map(|c| c.0).collect();
    let witness_counts: Vec<usize> = counts.iter().map(|c| c.1).collect();
    let mut beacons = vec![BeaconRow::default(); beacon_counts.iter().sum()];
    let mut entropy_of = vec![0u32; beacons.len()];
    let mut witnesses = vec![WitnessRow::default(); witness_counts.iter().sum()];
    let parts: Vec<Part> = ranges
        .into_iter()
        .zip(parallel::split_by(&mut beacons, &beacon_counts))
        .zip(parallel::split_by(&mut entropy_of, &beacon_counts))
        .zip(parallel::split_by(&mut witnesses, &witness_counts))
        .map(|(((reports, beacons), entropy_of), witnesses)| Part {
            reports,
            beacons,
            entropy_of,
            witnesses,
        })
        .collect();
    let found = parallel::on_threads(parts, |part| parse_part(rules, input, &table, part));

    // The epoch's distinct entropies, each verified once.
    let mut index: HashMap<Entropy, u32> = HashMap::new();
    let mut distinct: Vec<Entropy> = Vec::new();
    let mut renumbered: Vec<Vec<u32>> = Vec::with_capacity(found.len());
    for part in &found {
        let mut numbers = Vec::with_capacity(part.entropies.len());
        for entropy in &part.entropies {
            let next = distinct.len() as u32;
            let number = *index.entry(*entropy).or_insert(next);
            if number == next {
                distinct.push(*entropy);
            }
            numbers.push(number);
        }
        renumbered.push(numbers);
    }
    let network = Key(input.network.to_bytes());
    let verdicts = parallel_map(&distinct, |entropy| {
        verdict(entropy, &network, input.oracles)
    });
    let mut start = 0;
    for (numbers, count) in renumbered.iter().zip(&beacon_counts) {
        for b in start..start + count {
            let verdict = verdicts[numbers[entropy_of[b] as usize] as usize];
            if verdict != EntropyVerdict::Valid {
                beacons[b].fault = Some(Fault::EntropyInvalid {
                    listed: verdict == EntropyVerdict::Forged,
                });
            }
        }
        start += count;
    }
    FirstPass {
        table,
        beacons,
        witnesses,
        others: found.into_iter().flat_map(|part| part.others).collect(),
    }
}

/// Whether `entropy` is an oracle's of `network`, that oracle one of
/// `oracles`.
fn verdict(entropy: &Entropy, network: &Key, oracles: &[Pubkey]) -> EntropyVerdict {
    if !oracles
        .iter()
        .any(|oracle| oracle.to_bytes() == entropy.oracle.0)
    {
        EntropyVerdict::Unlisted
    } else if entropy.verify(network) {
        EntropyVerdict::Valid
    } else {
        EntropyVerdict::Forged
    }
}

/// Judges the reports of `part`: the rules each can be judged by alone
/// (entropy's age, beaconer's location; the entropy's signature is checked
/// after, once per distinct entropy).
fn parse_part(rules: &WirelessRules, input: &EpochInput, table: &DeviceTable, part: Part) -> Found {
    let mut found = Found {
        entropies: Vec::new(),
        others: Vec::new(),
    };
    let mut local: HashMap<&Entropy, u32> = HashMap::new();
    let (mut beacons, mut witnesses) = (part.beacons.iter_mut(), part.witnesses.iter_mut());
    let mut entropy_of = part.entropy_of.iter_mut();
    for r in part.reports {
        let report = &input.reports[r].report.report;
        let position = r as u32;
        match &report.body {
            Body::Beacon(beacon) => {
                let next = found.entropies.len() as u32;
                let number = *local.entry(&beacon.entropy).or_insert(next);
                if number == next {
                    found.entropies.push(beacon.entropy);
                }
                let device = table.id(&report.device);
                let age_ms = report.timestamp_ms.saturating_sub(beacon.entropy.issued_ms);
                let fault = if age_ms < 0 {
                    Some(Fault::EntropyFromFuture {
                        ahead_ms: age_ms.saturating_neg(),
                    })
                } else if age_ms > rules.entropy_max_age_ms {
                    Some(Fault::EntropyStale { age_ms })
                } else if table.place(device).is_none() {
                    Some(Fault::NoLocation {
                        beaconer: true,
                        registered: device != super::NO_DEVICE,
                    })
                } else {
                    None
                };
                let (Some(row), Some(number_of)) = (beacons.next(), entropy_of.next()) else {
                    unreachable!("the part's beacons were counted")
                };
                *row = BeaconRow {
                    report: position,
                    device,
                    at_ms: report.timestamp_ms,
                    payload: Hash32::sha256(&beacon.payload),
                    frequency_hz: beacon.frequency_hz,
                    tx_power_ddbm: beacon.tx_power_ddbm,
                    antenna_gain_ddbi: beacon.antenna_gain_ddbi,
                    fault,
                };
                *number_of = number;
            }
            Body::Witness(witness) => {
                let Some(row) = witnesses.next() else {
                    unreachable!("the part's witnesses were counted")
                };
                *row = WitnessRow {
                    report: position,
                    device: table.id(&report.device),
                    beaconer: table.id(&witness.beaconer),
                    received_ms: witness.received_at_ms,
                    ..WitnessRow::default()
                };
            }
            // Judged on their own (`transfer`) when the rules pay them.
            Body::DataTransfer(_) if rules.data_transfer_share_bps > 0 => {}
            Body::DataTransfer(_) => found
                .others
                .push((position, Fault::DataTransferNotRewarded)),
            _ => found.others.push((position, Fault::NotWireless)),
        }
    }
    found
}

/// One beacon per device and bucket: among a device's beacons that passed
/// the rules so far, the earliest of each bucket (by time, then content
/// hash) counts, unless an earlier epoch counted one in that bucket or a
/// later one. The others are refused. Returns each beaconing device's last
/// counted bucket, by id (key order), to carry on.
pub(super) fn count_one_per_bucket(
    rules: &WirelessRules,
    table: &DeviceTable,
    beacons: &mut [BeaconRow],
    state: &State,
) -> Vec<(u32, i64)> {
    let interval = rules.beacon_interval_ms.max(1);
    // (device, bucket, time, position): beacons are in report order, so
    // their position orders them by content hash.
    let mut order: Vec<(u32, i64, i64, u32)> = beacons
        .iter()
        .enumerate()
        .filter(|(_, beacon)| beacon.fault.is_none())
        .map(|(b, beacon)| {
            (
                beacon.device,
                beacon.at_ms.div_euclid(interval),
                beacon.at_ms,
                b as u32,
            )
        })
        .collect();
    order.sort_unstable();
    // The carried buckets, in key order as the devices are.
    let space = super::BEACON_SPACE;
    let mut carried = state
        .range(
            StateKey {
                space,
                key: [0; 32],
            }..=StateKey {
                space,
                key: [u8::MAX; 32],
            },
        )
        .peekable();
    let mut last_buckets = Vec::new();
    for device_beacons in order.chunk_by(|a, b| a.0 == b.0) {
        let key = table.key(device_beacons[0].0).0;
        while carried
            .next_if(|(state_key, _)| state_key.key < key)
            .is_some()
        {}
        let last = carried
            .peek()
            .filter(|(state_key, _)| state_key.key == key)
            .map(|(_, bucket)| **bucket);
        let mut counted = None;
        for bucket_beacons in device_beacons.chunk_by(|a, b| a.1 == b.1) {
            let bucket = bucket_beacons[0].1;
            let after_carried = last.is_none_or(|last| bucket > last);
            let refused = if after_carried {
                counted = Some(bucket);
                &bucket_beacons[1..]
            } else {
                bucket_beacons
            };
            let fault = match last {
                Some(last) if !after_carried => Fault::BeaconBucketCarried { last },
                _ => Fault::BeaconTooFrequent { bucket },
            };
            for &(_, _, _, b) in refused {
                beacons[b as usize].fault = Some(fault);
            }
        }
        if let Some(bucket) = counted {
            last_buckets.push((device_beacons[0].0, bucket));
        }
    }
    last_buckets
}
