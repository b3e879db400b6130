//! Locations given as an H3 cell or as latitude, longitude and resolution.

use crate::error::CliError;
use clap::Args;
use h3o::{CellIndex, LatLng, Resolution};

/// `--cell`, or `--lat`/`--lon` with `--resolution`.
#[derive(Args, Debug, Clone)]
pub struct LocationArgs {
    /// H3 cell index in hex (e.g. 8c2830828a4d9ff).
    #[arg(long, conflicts_with_all = ["lat", "lon"])]
    pub cell: Option<String>,
    /// Latitude in degrees (with --lon).
    #[arg(long, requires = "lon", allow_hyphen_values = true)]
    pub lat: Option<f64>,
    /// Longitude in degrees (with --lat).
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
            let index = u64::from_str_radix(hex.trim_start_matches("0x"), 16)
                .map_err(|_| CliError::Input(format!("--cell {hex:?} is not a hex H3 index")))?;
            CellIndex::try_from(index)
                .map_err(|_| CliError::Input(format!("--cell {hex} is not a valid H3 cell")))?;
            return Ok(Some(index));
        }
        let (Some(lat), Some(lon)) = (self.lat, self.lon) else {
            return Ok(None);
        };
        let resolution = self.resolution.unwrap_or(network_resolution);
        let resolution = Resolution::try_from(resolution)
            .map_err(|_| CliError::Input(format!("--resolution {resolution} is not 0 to 15")))?;
        let point = LatLng::new(lat, lon)
            .map_err(|_| CliError::Input(format!("{lat}, {lon} is not a valid coordinate")))?;
        Ok(Some(u64::from(point.to_cell(resolution))))
    }
}
