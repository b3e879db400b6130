//! Why the wireless rules refuse a report, kept as a few words per report (an
//! epoch holds millions) until the refusals are written out with their
//! stable codes and details for people.

use super::WirelessRules;
use crate::verifier::Refusal;

/// The first rule a report broke, with what the detail quotes (16 bytes:
/// one per report of an epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fault {
    /// Not a wireless report at all.
    NotWireless,
    /// A data transfer: paid by the data-transfer rules, not these.
    DataTransferNotRewarded,
    /// The entropy's issuer is not an oracle of the network (`listed`
    /// false) or its signature does not verify.
    EntropyInvalid { listed: bool },
    /// The entropy was issued after the beacon.
    EntropyFromFuture { ahead_ms: i64 },
    /// The entropy was issued too long before the beacon.
    EntropyStale { age_ms: i64 },
    /// The device has no location (`registered` false: no registry entry).
    NoLocation { beaconer: bool, registered: bool },
    /// An earlier beacon of the device counts in the same bucket.
    BeaconTooFrequent { bucket: i64 },
    /// An earlier epoch counted the device's beacon in bucket `last`, the
    /// beacon's or a later one.
    BeaconBucketCarried { last: i64 },
    /// No counted beacon matches the witness.
    NoSuchBeacon,
    /// The witness is the beaconer.
    SelfWitness,
    /// Farther than `max_distance_m`.
    TooFar { distance_m: u64 },
    /// Nearer than `min_cell_distance`.
    TooClose { cells: u32 },
    /// Heard off the beacon's frequency.
    FrequencyMismatch { delta_hz: u64 },
    /// Received before the beacon was sent.
    EarlyWitness { early_ms: i64 },
    /// Received too long after the beacon.
    LateAfterBeacon { lag_ms: i64 },
    /// Received too long after the beacon's first valid witness.
    LateAfterFirstWitness { lag_ms: i64 },
    /// Stronger than the beacon could be over that distance.
    RssiTooStrong { rssi_ddbm: i16, max_ddbm: i64 },
    /// The device's earlier witness of the beacon counts.
    DuplicateWitness,
    /// The beacon already has its rewarded witnesses.
    BeyondMaxWitnesses,
    /// A counted beacon none of whose `witnesses` passed.
    NoValidWitness { witnesses: u32 },
}

/// Tenths of a unit as `-71.2`.
fn tenths(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{}",
        value.unsigned_abs() / 10,
        value.unsigned_abs() % 10
    )
}

impl Fault {
    /// The refusal: the rule's code and what broke it.
    pub(super) fn refusal(self, rules: &WirelessRules) -> Refusal {
        match self {
            Fault::NotWireless => Refusal::new(
                "not_a_wireless_report",
                "a wireless network scores beacons and witnesses",
            ),
            Fault::DataTransferNotRewarded => Refusal::new(
                "data_transfer_not_rewarded",
                "data-transfer rewards come with the data-transfer rules; these proof-of-coverage \
                 rules pay beacons and witnesses only (the report is kept)",
            ),
            Fault::EntropyInvalid { listed: false } => Refusal::new(
                "entropy_invalid",
                "its entropy was not issued by an oracle of the network",
            ),
            Fault::EntropyInvalid { listed: true } => Refusal::new(
                "entropy_invalid",
                "its entropy's signature is not its oracle's (forged or altered)",
            ),
            Fault::EntropyFromFuture { ahead_ms } => Refusal::new(
                "entropy_from_future",
                format!("its entropy was issued {ahead_ms} ms after the beacon's time"),
            ),
            Fault::EntropyStale { age_ms } => Refusal::new(
                "entropy_stale",
                format!(
                    "its entropy was issued {age_ms} ms before the beacon (at most {})",
                    rules.entropy_max_age_ms
                ),
            ),
            Fault::NoLocation {
                beaconer,
                registered,
            } => Refusal::new(
                "no_location",
                format!(
                    "the {} {}",
                    if beaconer { "beaconer" } else { "witness" },
                    if registered {
                        "has asserted no location"
                    } else {
                        "is not in the network's registry"
                    }
                ),
            ),
            Fault::BeaconTooFrequent { bucket } => Refusal::new(
                "beacon_too_frequent",
                format!(
                    "an earlier beacon of this device counts in bucket {bucket} (one per {} ms)",
                    rules.beacon_interval_ms
                ),
            ),
            Fault::BeaconBucketCarried { last } => Refusal::new(
                "beacon_too_frequent",
                format!(
                    "an earlier epoch counted this device's beacon in bucket {last} (of {} ms), \
                     this beacon's or a later one",
                    rules.beacon_interval_ms
                ),
            ),
            Fault::NoSuchBeacon => Refusal::new(
                "no_such_beacon",
                "no beacon of this epoch from the beaconer named, with that payload hash, passed \
                 the beacon rules",
            ),
            Fault::SelfWitness => {
                Refusal::new("self_witness", "a device cannot witness its own beacon")
            }
            Fault::TooFar { distance_m } => Refusal::new(
                "too_far",
                format!(
                    "{distance_m} m from the beaconer (at most {})",
                    rules.max_distance_m
                ),
            ),
            Fault::TooClose { cells } => Refusal::new(
                "too_close",
                format!(
                    "{cells} H3 cells from the beaconer at resolution {} (at least {})",
                    rules.min_distance_resolution, rules.min_cell_distance
                ),
            ),
            Fault::FrequencyMismatch { delta_hz } => Refusal::new(
                "frequency_mismatch",
                format!(
                    "heard {delta_hz} Hz off the beacon's frequency (at most {})",
                    rules.max_frequency_delta_hz
                ),
            ),
            Fault::EarlyWitness { early_ms } => Refusal::new(
                "early_witness",
                format!("received {early_ms} ms before the beacon was sent"),
            ),
            Fault::LateAfterBeacon { lag_ms } => Refusal::new(
                "late_witness",
                format!(
                    "received {lag_ms} ms after the beacon (at most {})",
                    rules.max_beacon_lag_ms
                ),
            ),
            Fault::LateAfterFirstWitness { lag_ms } => Refusal::new(
                "late_witness",
                format!(
                    "received {lag_ms} ms after the beacon's first valid witness (at most {})",
                    rules.max_witness_lag_ms
                ),
            ),
            Fault::RssiTooStrong {
                rssi_ddbm,
                max_ddbm,
            } => Refusal::new(
                "rssi_too_strong",
                format!(
                    "RSSI {} dBm, above the {} dBm the beacon's power, the antenna gains and the \
                     free-space path loss over the distance allow",
                    tenths(i64::from(rssi_ddbm)),
                    tenths(max_ddbm)
                ),
            ),
            Fault::DuplicateWitness => Refusal::new(
                "duplicate_witness",
                "this device's earlier witness of the same beacon counts",
            ),
            Fault::BeyondMaxWitnesses => Refusal::new(
                "beyond_max_witnesses",
                format!(
                    "the beacon's first {} valid witnesses are rewarded and this one came later",
                    rules.max_witnesses_per_beacon
                ),
            ),
            Fault::NoValidWitness { witnesses } => Refusal::new(
                "no_valid_witness",
                format!(
                    "none of its {witnesses} witnesses passed the witness rules (each one's \
                     refusal says why); a beacon earns with its witnesses"
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_takes_16_bytes() {
        assert_eq!(std::mem::size_of::<Option<Fault>>(), 16);
    }

    #[test]
    fn tenths_print_with_their_sign() {
        assert_eq!(tenths(-712), "-71.2");
        assert_eq!(tenths(-7), "-0.7");
        assert_eq!(tenths(35), "3.5");
    }
}
