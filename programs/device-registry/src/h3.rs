//! H3 cell index validation with integer bit operations only, cheap enough to run
//! on chain. Follows the H3 index layout (h3geo.org, "H3 Index Representations"):
//!
//! ```text
//! bit 63     reserved, 0
//! bits 59-62 mode, 1 for a cell
//! bits 56-58 mode-dependent, 0 for a cell
//! bits 52-55 resolution 0..=15
//! bits 45-51 base cell 0..=121
//! bits 0-44  fifteen 3-bit digits, resolution 1 first; digits past the
//!            resolution are 7, digits up to it are 0..=6
//! ```
//! A cell under one of the 12 pentagon base cells must not have 1 as its first
//! non-zero digit: that is the deleted K-axis sub-sequence of a pentagon.

/// Why an index is not a valid H3 cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum H3Error {
    /// The reserved high bit is set.
    ReservedBitSet,
    /// Mode is not "cell" (an edge, vertex or garbage).
    NotACellMode,
    /// The mode-dependent bits must be zero for a cell.
    ReservedModeBits,
    /// Base cell is 122 or above.
    InvalidBaseCell,
    /// A digit up to the resolution is 7, or one past it is not 7.
    InvalidDigit,
    /// A pentagon cell in the deleted K-axis sub-sequence.
    DeletedPentagonSubsequence,
}

/// Number of H3 base cells.
const BASE_CELL_COUNT: u64 = 122;
/// Finest H3 resolution.
pub const MAX_RESOLUTION: u8 = 15;
/// Base cells whose shape is a pentagon.
const PENTAGON_BASE_CELLS: [u64; 12] = [4, 14, 24, 38, 49, 58, 63, 72, 83, 97, 107, 117];
/// The unused digit that pads a cell past its resolution.
const UNUSED_DIGIT: u64 = 7;
/// The K-axis digit, forbidden as a pentagon's first non-zero digit.
const K_AXES_DIGIT: u64 = 1;

/// Resolution of an index, whatever its validity.
pub fn resolution(index: u64) -> u8 {
    ((index >> 52) & 0xf) as u8
}

/// Checks that `index` is a valid H3 cell index and returns its resolution.
pub fn validate_cell(index: u64) -> Result<u8, H3Error> {
    if index >> 63 != 0 {
        return Err(H3Error::ReservedBitSet);
    }
    if (index >> 59) & 0xf != 1 {
        return Err(H3Error::NotACellMode);
    }
    if (index >> 56) & 0x7 != 0 {
        return Err(H3Error::ReservedModeBits);
    }
    let res = resolution(index);
    let base_cell = (index >> 45) & 0x7f;
    if base_cell >= BASE_CELL_COUNT {
        return Err(H3Error::InvalidBaseCell);
    }
    let is_pentagon = PENTAGON_BASE_CELLS.contains(&base_cell);
    let mut first_non_zero = None;
    for r in 1..=MAX_RESOLUTION {
        let digit = (index >> (3 * u32::from(MAX_RESOLUTION - r))) & 0x7;
        if r <= res {
            if digit == UNUSED_DIGIT {
                return Err(H3Error::InvalidDigit);
            }
            if first_non_zero.is_none() && digit != 0 {
                first_non_zero = Some(digit);
            }
        } else if digit != UNUSED_DIGIT {
            return Err(H3Error::InvalidDigit);
        }
    }
    if is_pentagon && first_non_zero == Some(K_AXES_DIGIT) {
        return Err(H3Error::DeletedPentagonSubsequence);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use h3o::{CellIndex, LatLng, Resolution};
    use proptest::prelude::*;

    #[test]
    fn accepts_real_cells_at_every_resolution() {
        let point = LatLng::new(37.7749, -122.4194).unwrap();
        for res in 0..=15u8 {
            let cell = point.to_cell(Resolution::try_from(res).unwrap());
            assert_eq!(validate_cell(u64::from(cell)), Ok(res));
        }
    }

    #[test]
    fn accepts_every_pentagon_and_its_children() {
        for res in 0..=15u8 {
            for pentagon in CellIndex::base_cells()
                .filter(|c| c.is_pentagon())
                .flat_map(|c| c.center_child(Resolution::try_from(res).unwrap()))
            {
                assert_eq!(validate_cell(u64::from(pentagon)), Ok(res));
            }
        }
    }

    #[test]
    fn refuses_each_broken_field() {
        let cell = u64::from(
            LatLng::new(48.8566, 2.3522)
                .unwrap()
                .to_cell(Resolution::Twelve),
        );
        assert_eq!(validate_cell(cell | 1 << 63), Err(H3Error::ReservedBitSet));
        assert_eq!(
            validate_cell((cell & !(0xf << 59)) | 2 << 59),
            Err(H3Error::NotACellMode)
        );
        assert_eq!(
            validate_cell(cell | 1 << 56),
            Err(H3Error::ReservedModeBits)
        );
        assert_eq!(
            validate_cell(cell | 0x7f << 45),
            Err(H3Error::InvalidBaseCell)
        );
        // Resolution 12 with digit 13 not padded to 7.
        assert_eq!(
            validate_cell(cell & !(0x7 << 6)),
            Err(H3Error::InvalidDigit)
        );
        // Digit 1 set to the unused digit 7.
        assert_eq!(validate_cell(cell | 0x7 << 42), Err(H3Error::InvalidDigit));
        assert_eq!(validate_cell(0), Err(H3Error::NotACellMode));
    }

    #[test]
    fn refuses_the_deleted_pentagon_subsequence() {
        let pentagon = CellIndex::base_cells().find(|c| c.is_pentagon()).unwrap();
        let child = u64::from(pentagon.center_child(Resolution::Two).unwrap());
        // Digit 1 := K axis (1) on a pentagon is deleted.
        let k_child = (child & !(0x7 << 42)) | 1 << 42;
        assert_eq!(
            validate_cell(k_child),
            Err(H3Error::DeletedPentagonSubsequence)
        );
        assert!(CellIndex::try_from(k_child).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        /// Our validator agrees with h3o on arbitrary 64-bit values and on
        /// near-valid ones (a real cell with a few bits flipped).
        #[test]
        fn agrees_with_h3o(raw in any::<u64>(), lat in -89.9f64..89.9, lng in -179.9f64..179.9,
                           res in 0u8..=15, flips in proptest::collection::vec(0u32..64, 0..3)) {
            prop_assert_eq!(validate_cell(raw).is_ok(), CellIndex::try_from(raw).is_ok());
            let cell = LatLng::new(lat, lng).unwrap().to_cell(Resolution::try_from(res).unwrap());
            let mut bits = u64::from(cell);
            for f in flips { bits ^= 1 << f; }
            prop_assert_eq!(validate_cell(bits).is_ok(), CellIndex::try_from(bits).is_ok(),
                "disagreement on {:#x}", bits);
        }
    }
}
