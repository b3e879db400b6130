//! The small CSV files depin reads (devices to onboard, an epoch's amounts):
//! a header of lower-cased column names, then rows of trimmed values, blank
//! lines skipped, each row with its line number for error messages.

use crate::error::CliError;
use std::path::Path;

/// A CSV file, read whole.
pub struct CsvFile {
    /// Column names, trimmed and lower-cased.
    pub header: Vec<String>,
    /// (line number from 1, trimmed values) of each non-blank row.
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Reads `path`; an error names the file when it cannot be read or is empty.
pub fn read(path: &Path) -> Result<CsvFile, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(index, line)| {
            (
                index + 1,
                line.split(',').map(|c| c.trim().to_string()).collect(),
            )
        });
    let (_, header): (usize, Vec<String>) = lines
        .next()
        .ok_or_else(|| CliError::Input(format!("{} is empty", path.display())))?;
    Ok(CsvFile {
        header: header.into_iter().map(|h| h.to_lowercase()).collect(),
        rows: lines.collect(),
    })
}
