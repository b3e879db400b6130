//! Positions on the Earth, computed the same way by every oracle: the
//! pure-Rust `libm` for trigonometry (h3o uses it too, built without `std`),
//! so the same inputs give the same bits on any platform.

use h3o::{CellIndex, LatLng, Resolution};

/// The Earth's mean radius, meters (IUGG).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Degrees from 1e-7 degree units (the GNSS fixes' unit).
fn degrees(e7: i32) -> f64 {
    f64::from(e7) / 1e7
}

/// Great-circle distance in whole millimetres between two points given in
/// 1e-7 degrees (haversine; at most 0.5% from the ellipsoid's, which no rule
/// here is sensitive to). Rounded, so the rules compare integers.
pub fn distance_mm(lat_a: i32, lon_a: i32, lat_b: i32, lon_b: i32) -> u64 {
    Point::new(lat_a, lon_a).distance_mm(&Point::new(lat_b, lon_b))
}

/// A point prepared for many distances: the parts of the haversine that
/// depend on one end only, computed once (a hotspot is measured against
/// every hotspot it hears). [`Point::distance_mm`] gives the same bits as
/// [`distance_mm`]: the same operations in the same order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Latitude, radians.
    phi: f64,
    /// Its cosine.
    cos_phi: f64,
    /// Longitude, degrees.
    lon: f64,
}

impl Point {
    /// The point at `lat_e7`, `lon_e7` (1e-7 degrees).
    pub fn new(lat_e7: i32, lon_e7: i32) -> Self {
        let phi = degrees(lat_e7).to_radians();
        Point {
            phi,
            cos_phi: libm::cos(phi),
            lon: degrees(lon_e7),
        }
    }

    /// Great-circle distance to `other` in whole millimetres.
    pub fn distance_mm(&self, other: &Point) -> u64 {
        let d_phi = other.phi - self.phi;
        let d_lambda = (other.lon - self.lon).to_radians();
        let (sin_phi, sin_lambda) = (libm::sin(d_phi / 2.0), libm::sin(d_lambda / 2.0));
        let h = sin_phi * sin_phi + self.cos_phi * other.cos_phi * sin_lambda * sin_lambda;
        let central = 2.0 * libm::asin(libm::sqrt(h.clamp(0.0, 1.0)));
        libm::round(central * EARTH_RADIUS_M * 1000.0) as u64
    }
}

/// The H3 cell at `resolution` holding a point given in 1e-7 degrees;
/// `None` for a resolution above 15 or a point off the globe.
pub fn cell_of(lat_e7: i32, lon_e7: i32, resolution: u8) -> Option<CellIndex> {
    let resolution = Resolution::try_from(resolution).ok()?;
    let point = LatLng::new(degrees(lat_e7), degrees(lon_e7)).ok()?;
    Some(point.to_cell(resolution))
}

/// The center of an H3 cell in 1e-7 degrees (rounded), the unit
/// [`distance_mm`] takes: rules that measure many distances between the same
/// cells compute each center once.
pub fn center_e7(cell: CellIndex) -> (i32, i32) {
    let center = LatLng::from(cell);
    let e7 = |d: f64| libm::round(d * 1e7) as i32;
    (e7(center.lat()), e7(center.lng()))
}

/// Distance in whole millimetres between the centers of two H3 cells.
pub fn cell_distance_mm(a: CellIndex, b: CellIndex) -> u64 {
    let ((lat_a, lon_a), (lat_b, lon_b)) = (center_e7(a), center_e7(b));
    distance_mm(lat_a, lon_a, lat_b, lon_b)
}

/// `cell` seen at `resolution`: its parent when it is finer, its center
/// child (the cell holding its center) when it is coarser, itself otherwise;
/// so that locations asserted at any resolution compare at one. Bit
/// operations only: the same on every machine.
pub fn cell_at(cell: CellIndex, resolution: Resolution) -> CellIndex {
    if cell.resolution() > resolution {
        cell.parent(resolution)
    } else {
        cell.center_child(resolution)
    }
    .unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_known_ones() {
        // Paris (Notre-Dame) to London (Trafalgar Square): 343.9 km.
        let d = distance_mm(488_530_000, 23_499_000, 515_080_000, -1_281_000);
        assert!((343_800_000..344_000_000).contains(&d), "{d}");
        // One degree of latitude: about 111.2 km.
        let d = distance_mm(0, 0, 10_000_000, 0);
        assert!((111_100_000..111_300_000).contains(&d), "{d}");
        assert_eq!(distance_mm(1, 2, 1, 2), 0);
    }

    #[test]
    fn prepared_points_measure_the_same_bits() {
        // The haversine as first written, term by term.
        let reference = |lat_a: i32, lon_a: i32, lat_b: i32, lon_b: i32| {
            let (phi_a, phi_b) = (degrees(lat_a).to_radians(), degrees(lat_b).to_radians());
            let d_phi = phi_b - phi_a;
            let d_lambda = (degrees(lon_b) - degrees(lon_a)).to_radians();
            let h = libm::sin(d_phi / 2.0) * libm::sin(d_phi / 2.0)
                + libm::cos(phi_a)
                    * libm::cos(phi_b)
                    * libm::sin(d_lambda / 2.0)
                    * libm::sin(d_lambda / 2.0);
            let central = 2.0 * libm::asin(libm::sqrt(h.clamp(0.0, 1.0)));
            libm::round(central * EARTH_RADIUS_M * 1000.0) as u64
        };
        let points = [
            (377_749_000, -1_224_194_000),
            (377_839_123, -1_224_000_777),
            (-337_000_000, 1_511_000_000),
            (0, 1_799_999_999),
            (0, -1_799_999_999),
            (899_999_999, 0),
        ];
        for &(lat_a, lon_a) in &points {
            for &(lat_b, lon_b) in &points {
                assert_eq!(
                    distance_mm(lat_a, lon_a, lat_b, lon_b),
                    reference(lat_a, lon_a, lat_b, lon_b)
                );
            }
        }
    }

    #[test]
    fn points_map_to_their_cell() {
        let cell = cell_of(377_749_000, -1_224_194_000, 12).unwrap();
        assert_eq!(u8::from(cell.resolution()), 12);
        // A point 1 m away is almost always in the same resolution-12 cell
        // (edge ~ 10 m); 1 km away never is.
        assert_ne!(cell_of(377_839_000, -1_224_194_000, 12).unwrap(), cell);
        assert!(cell_of(0, 0, 16).is_none());
        assert!(cell_distance_mm(cell, cell) == 0);
    }

    #[test]
    fn cells_are_seen_at_another_resolution() {
        let cell = cell_of(377_749_000, -1_224_194_000, 12).unwrap();
        let parent = cell_at(cell, Resolution::Eight);
        assert_eq!(parent, cell_of(377_749_000, -1_224_194_000, 8).unwrap());
        assert_eq!(cell_at(cell, Resolution::Twelve), cell);
        // Coarser to finer: the cell holding the center.
        let child = cell_at(parent, Resolution::Eleven);
        assert_eq!(u8::from(child.resolution()), 11);
        assert_eq!(child.parent(Resolution::Eight), Some(parent));
        let (lat, lon) = center_e7(parent);
        assert_eq!(cell_of(lat, lon, 11), Some(child));
    }
}
