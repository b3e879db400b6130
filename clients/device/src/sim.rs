//! What a simulated device needs of the world: where it is (and where a
//! drive takes it), how far apart two places are, how strong a radio signal
//! arrives, and reproducible randomness (the same fleet seed plays the same
//! fleet, so a test can say what each device did).

/// A place on the Earth, in 1e-7 degrees (the GNSS fixes' unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Latitude, 1e-7 degrees.
    pub lat_e7: i32,
    /// Longitude, 1e-7 degrees.
    pub lon_e7: i32,
}

/// Metres in one degree of latitude (and of longitude at the equator).
const METRES_PER_DEGREE: f64 = 111_320.0;

impl Position {
    /// The place at `lat`, `lon` degrees.
    pub fn degrees(lat: f64, lon: f64) -> Self {
        Position {
            lat_e7: (lat * 1e7).round() as i32,
            lon_e7: (lon * 1e7).round() as i32,
        }
    }

    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        f64::from(self.lat_e7) / 1e7
    }

    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        f64::from(self.lon_e7) / 1e7
    }

    /// The place `north` and `east` metres away (flat-Earth steps, fine
    /// for the kilometres a fleet spans).
    pub fn moved(&self, north: f64, east: f64) -> Self {
        let lat = self.lat() + north / METRES_PER_DEGREE;
        let lon = self.lon() + east / (METRES_PER_DEGREE * self.lat().to_radians().cos());
        Position::degrees(lat, lon)
    }

    /// Great-circle distance to `other`, metres.
    pub fn distance_m(&self, other: &Position) -> f64 {
        let (phi_a, phi_b) = (self.lat().to_radians(), other.lat().to_radians());
        let d_phi = phi_b - phi_a;
        let d_lambda = (other.lon() - self.lon()).to_radians();
        let h = (d_phi / 2.0).sin().powi(2)
            + phi_a.cos() * phi_b.cos() * (d_lambda / 2.0).sin().powi(2);
        2.0 * h.clamp(0.0, 1.0).sqrt().asin() * 6_371_008.8
    }
}

/// Free-space path loss in dB over `metres` at `hz`: 20 log10(4 pi d f / c).
pub fn free_space_loss_db(metres: f64, hz: u64) -> f64 {
    let d = metres.max(1.0);
    20.0 * (4.0 * std::f64::consts::PI * d * hz as f64 / 299_792_458.0).log10()
}

/// A small reproducible random source (SplitMix64): jitter, extra path
/// loss, frame contents. Not for keys.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A source seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..high` (`low` when the range is empty).
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        low + (self.next_u64() % (high - low) as u64) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_and_distances_agree() {
        let start = Position::degrees(37.7749, -122.4194);
        let there = start.moved(3_000.0, 4_000.0);
        let d = start.distance_m(&there);
        assert!((d - 5_000.0).abs() < 25.0, "{d}");
        // 1 km at 868 MHz loses about 91.2 dB in free space.
        let loss = free_space_loss_db(1_000.0, 868_100_000);
        assert!((loss - 91.2).abs() < 0.1, "{loss}");
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.next_u64(), b.next_u64());
        assert!((0..100).all(|_| (3..9).contains(&a.range(3, 9))));
    }
}
