//! Locations given as an H3 cell or as latitude, longitude and resolution.

use crate::error::CliError;
use clap::Args;
use h3o::CellIndex;

/// `--cell`, or `--lat`/`--lon` with `--resolution`.
#[derive(Args, Debug, Clone, Default)]
pub struct LocationArgs {
    /// H3 cell index in hex (e.g. 8c2830828a4d9ff).
    #[arg(long, conflicts_with_all = ["lat", "lon"])]
    pub cell: Option<String>,
    /// Latitude in degrees, -90 to 90 (with --lon).
    #[arg(long, requires = "lon", allow_hyphen_values = true)]
    pub lat: Option<f64>,
    /// Longitude in degrees, -180 to 180 (with --lat).
    #[arg(long, requires = "lat", allow_hyphen_values = true)]
    pub lon: Option<f64>,
    /// H3 resolution for --lat/--lon [default: the network's].
    #[arg(long)]
    pub resolution: Option<u8>,
}

impl LocationArgs {
    /// The cell, `None` when no location was given; `network_resolution` is
    /// used for coordinates without `--resolution`.
    pub fn cell(&self, network_resolution: u8) -> Result<Option<u64>, CliError> {
        if let Some(hex) = &self.cell {
            return parse_cell(hex).map(Some);
        }
        match (self.lat, self.lon) {
            (Some(lat), Some(lon)) => {
                let resolution = self.resolution.unwrap_or(network_resolution);
                depinkit_sdk::registry::cell_at(lat, lon, resolution)
                    .map(Some)
                    .map_err(CliError::Input)
            }
            (None, None) => Ok(None),
            _ => Err(CliError::Input("give both --lat and --lon".into())),
        }
    }
}

/// A cell given in hex.
pub fn parse_cell(hex: &str) -> Result<u64, CliError> {
    let index = u64::from_str_radix(hex.trim_start_matches("0x"), 16)
        .map_err(|_| CliError::Input(format!("--cell {hex:?} is not a hex H3 index")))?;
    CellIndex::try_from(index)
        .map_err(|_| CliError::Input(format!("--cell {hex} is not a valid H3 cell")))?;
    Ok(index)
}

/// A cell as people read it: its hex index and the coordinates of its center.
pub fn describe(cell: u64) -> String {
    match depinkit_sdk::registry::cell_center(cell) {
        Some((lat, lon)) => format!("{cell:x} ({lat:.5}, {lon:.5})"),
        None => format!("{cell:x}"),
    }
}
