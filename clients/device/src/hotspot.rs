//! A wireless hotspot (proof of coverage): it sends beacons carrying an
//! oracle's latest entropy, and witnesses the beacons of hotspots within
//! radio range: when it heard each, on what frequency, how strongly
//! (RULES.md, "Wireless: proof of coverage").

use crate::{
    keys::DeviceKey,
    sim::{Position, Rng, free_space_loss_db},
};
use depinkit_reports::{Beacon, Body, Entropy, Hash32, Key, Report, SignedReport, Witness};

/// The radio a hotspot has.
#[derive(Clone, Copy, Debug)]
pub struct Radio {
    /// Transmit power, tenths of a dBm (27 dBm: the EU868 limit with gain).
    pub tx_power_ddbm: i16,
    /// Antenna gain, tenths of a dBi.
    pub antenna_gain_ddbi: i16,
    /// Beacon frequency, Hz.
    pub frequency_hz: u64,
}

impl Default for Radio {
    fn default() -> Self {
        Radio {
            tx_power_ddbm: 270,
            antenna_gain_ddbi: 30,
            frequency_hz: 868_100_000,
        }
    }
}

/// A hotspot at its asserted place.
#[derive(Clone)]
pub struct Hotspot {
    key: DeviceKey,
    position: Position,
    radio: Radio,
    beacons: u64,
}

/// A beacon as the air carries it: the report, who sent it and from where.
#[derive(Clone, Debug)]
pub struct OnAir {
    /// The signed beacon report.
    pub report: SignedReport,
    /// The beaconer's key.
    pub beaconer: Key,
    /// Where it was sent from.
    pub from: Position,
    /// The radio it was sent with.
    pub radio: Radio,
}

impl Hotspot {
    /// A hotspot with `key` at `position` (its asserted location).
    pub fn new(key: DeviceKey, position: Position, radio: Radio) -> Self {
        Hotspot {
            key,
            position,
            radio,
            beacons: 0,
        }
    }

    /// Its key.
    pub fn key(&self) -> &DeviceKey {
        &self.key
    }

    /// Where it is.
    pub fn position(&self) -> Position {
        self.position
    }

    /// Sends a beacon at `at_ms` carrying `entropy` (the oracle's latest).
    pub fn beacon(&mut self, network: Key, entropy: Entropy, at_ms: i64) -> OnAir {
        self.beacons += 1;
        let mut payload = self.key.public().0[..8].to_vec();
        payload.extend_from_slice(&self.beacons.to_le_bytes());
        payload.extend_from_slice(&at_ms.to_le_bytes());
        let report = Report {
            network,
            device: self.key.public(),
            timestamp_ms: at_ms,
            body: Body::Beacon(Beacon {
                entropy,
                payload,
                frequency_hz: self.radio.frequency_hz,
                tx_power_ddbm: self.radio.tx_power_ddbm,
                antenna_gain_ddbi: self.radio.antenna_gain_ddbi,
            }),
        }
        .sign(self.key.signing());
        OnAir {
            report,
            beaconer: self.key.public(),
            from: self.position,
            radio: self.radio,
        }
    }

    /// The signal strength a beacon arrives with, tenths of a dBm: what free
    /// space allows over the distance, less the clutter of the way (6 to 20
    /// dB: walls, trees, terrain), so an honest report is always possible.
    pub fn hears(&self, beacon: &OnAir, rng: &mut Rng) -> i16 {
        let metres = self.position.distance_m(&beacon.from);
        let budget_db = f64::from(
            beacon.radio.tx_power_ddbm
                + beacon.radio.antenna_gain_ddbi
                + self.radio.antenna_gain_ddbi,
        ) / 10.0
            - free_space_loss_db(metres, beacon.radio.frequency_hz);
        let clutter_db = rng.range(60, 200) as f64 / 10.0;
        ((budget_db - clutter_db) * 10.0).round() as i16
    }

    /// Witnesses `beacon`, heard at `received_ms` with `rssi_ddbm`.
    pub fn witness(
        &self,
        network: Key,
        beacon: &OnAir,
        received_ms: i64,
        rssi_ddbm: i16,
    ) -> SignedReport {
        let Body::Beacon(sent) = &beacon.report.report.body else {
            unreachable!("an OnAir carries a beacon")
        };
        Report {
            network,
            device: self.key.public(),
            timestamp_ms: received_ms,
            body: Body::Witness(Witness {
                beaconer: beacon.beaconer,
                beacon_payload_hash: Hash32::sha256(&sent.payload),
                received_at_ms: received_ms,
                frequency_hz: sent.frequency_hz,
                rssi_ddbm,
                snr_ddb: 50,
                antenna_gain_ddbi: self.radio.antenna_gain_ddbi,
            }),
        }
        .sign(self.key.signing())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_beacon_heard_km_away_is_weaker_than_free_space_allows() {
        let network = Key([1; 32]);
        let oracle = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        let entropy = Entropy::issue(&network, 1_000, &[2; 32], &oracle);
        let here = Position::degrees(37.7749, -122.4194);
        let mut a = Hotspot::new(DeviceKey::from_seed([1; 32]), here, Radio::default());
        let b = Hotspot::new(
            DeviceKey::from_seed([2; 32]),
            here.moved(2_000.0, 0.0),
            Radio::default(),
        );
        let beacon = a.beacon(network, entropy, 2_000);
        let mut rng = Rng::new(3);
        let rssi = b.hears(&beacon, &mut rng);
        // 27 dBm + 3 + 3 dBi - FSPL(2 km) (97.2 dB) = -64.2 dBm, less clutter.
        assert!((-843..=-702).contains(&rssi), "{rssi}");
        let witness = b.witness(network, &beacon, 2_400, rssi);
        let Body::Witness(w) = &witness.report.body else {
            panic!("a witness")
        };
        assert_eq!(w.beaconer, a.key().public());
        let Body::Beacon(sent) = &beacon.report.report.body else {
            panic!("a beacon")
        };
        assert_eq!(w.beacon_payload_hash, Hash32::sha256(&sent.payload));
    }
}
