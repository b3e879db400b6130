//! A dashcam (mapping): it drives, takes a GNSS fix and a frame every few
//! seconds, and reports each drive as a signed track of fixes with the
//! SHA-256 of each frame (RULES.md, "Mapping").

use crate::{
    keys::DeviceKey,
    sim::{Position, Rng},
};
use depinkit_reports::{Body, GnssFix, Hash32, Key, MapTrack, Report, SignedReport};

/// How a dashcam drives.
#[derive(Clone, Copy, Debug)]
pub struct Drive {
    /// Fixes in one track.
    pub fixes: usize,
    /// Time between fixes, milliseconds.
    pub interval_ms: i64,
    /// Speed, km/h.
    pub speed_kmh: f64,
}

impl Default for Drive {
    fn default() -> Self {
        Drive {
            fixes: 6,
            interval_ms: 10_000,
            speed_kmh: 36.0,
        }
    }
}

/// A dashcam and where it is.
#[derive(Clone)]
pub struct Dashcam {
    key: DeviceKey,
    position: Position,
    heading_deg: f64,
    frames: u64,
    rng: Rng,
}

impl Dashcam {
    /// A dashcam with `key` starting at `position`; `seed` sets its route.
    pub fn new(key: DeviceKey, position: Position, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let heading_deg = rng.range(0, 360) as f64;
        Dashcam {
            key,
            position,
            heading_deg,
            frames: 0,
            rng,
        }
    }

    /// Its key.
    pub fn key(&self) -> &DeviceKey {
        &self.key
    }

    /// Where it is now.
    pub fn position(&self) -> Position {
        self.position
    }

    /// Drives `drive.fixes` fixes ending at `end_ms`, taking a frame at
    /// each; turns a little between fixes. The frames' hashes are of their
    /// (simulated) pixels: unique to this device and moment.
    pub fn drive(&mut self, drive: &Drive, end_ms: i64) -> MapTrack {
        let step_m = drive.speed_kmh / 3.6 * drive.interval_ms as f64 / 1000.0;
        let start_ms = end_ms - drive.interval_ms * (drive.fixes.saturating_sub(1) as i64);
        let mut fixes = Vec::with_capacity(drive.fixes);
        for i in 0..drive.fixes {
            if i > 0 {
                self.heading_deg += self.rng.range(-20, 21) as f64;
                let heading = self.heading_deg.to_radians();
                self.position = self
                    .position
                    .moved(step_m * heading.cos(), step_m * heading.sin());
            }
            self.frames += 1;
            let mut pixels = self.key.public().0.to_vec();
            pixels.extend_from_slice(&self.frames.to_le_bytes());
            pixels.extend_from_slice(&self.rng.next_u64().to_le_bytes());
            fixes.push(GnssFix {
                timestamp_ms: start_ms + drive.interval_ms * i as i64,
                lat_e7: self.position.lat_e7,
                lon_e7: self.position.lon_e7,
                fix_quality: 1,
                satellites: self.rng.range(6, 14) as u8,
                frame_hash: Hash32::sha256(&pixels),
            });
        }
        MapTrack { fixes }
    }

    /// The track as this dashcam's signed report for `network`.
    pub fn report(&self, network: Key, track: MapTrack) -> SignedReport {
        Report {
            network,
            device: self.key.public(),
            timestamp_ms: track.fixes.last().map_or(0, |f| f.timestamp_ms),
            body: Body::MapTrack(track),
        }
        .sign(self.key.signing())
    }
}

/// The cheat of a teleporting dashcam: from the middle fix on, the track
/// is `km` kilometres away (a spoofed GNSS, or another device's fixes).
pub fn teleport(track: &mut MapTrack, km: f64) {
    let middle = track.fixes.len() / 2;
    for fix in &mut track.fixes[middle..] {
        let moved = Position {
            lat_e7: fix.lat_e7,
            lon_e7: fix.lon_e7,
        }
        .moved(km * 1000.0, 0.0);
        fix.lat_e7 = moved.lat_e7;
        fix.lon_e7 = moved.lon_e7;
    }
}

/// The cheat of duplicate frames: `track`'s frames replaced by `from`'s
/// (imagery copied from another device, or sent twice).
pub fn copy_frames(track: &mut MapTrack, from: &MapTrack) {
    for (fix, source) in track.fixes.iter_mut().zip(&from.fixes) {
        fix.frame_hash = source.frame_hash;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drive_is_a_plausible_track_with_fresh_frames() {
        let mut cam = Dashcam::new(
            DeviceKey::from_seed([1; 32]),
            Position::degrees(37.7749, -122.4194),
            1,
        );
        let drive = Drive::default();
        let first = cam.drive(&drive, 1_000_000_000);
        let second = cam.drive(&drive, 1_000_060_000);
        assert_eq!(first.fixes.len(), 6);
        assert!(
            first
                .fixes
                .windows(2)
                .all(|w| w[0].timestamp_ms < w[1].timestamp_ms)
        );
        let a = &first.fixes[0];
        let b = &first.fixes[1];
        let metres = Position {
            lat_e7: a.lat_e7,
            lon_e7: a.lon_e7,
        }
        .distance_m(&Position {
            lat_e7: b.lat_e7,
            lon_e7: b.lon_e7,
        });
        assert!(
            (90.0..110.0).contains(&metres),
            "36 km/h for 10 s: {metres}"
        );
        assert_ne!(first.fixes[0].frame_hash, second.fixes[0].frame_hash);
        let mut jumped = second.clone();
        teleport(&mut jumped, 5.0);
        assert_ne!(jumped.fixes[5].lat_e7, second.fixes[5].lat_e7);
        assert_eq!(jumped.fixes[0], second.fixes[0]);
    }
}
