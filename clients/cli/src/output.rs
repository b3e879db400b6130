//! Output: aligned tables for people, stable JSON for scripts.

use clap::ValueEnum;
use serde::Serialize;

/// `--output`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text and tables.
    #[default]
    Display,
    /// Pretty-printed JSON.
    Json,
    /// One-line JSON.
    JsonCompact,
}

impl OutputFormat {
    /// Whether the output is for people (amounts in whole tokens) rather than
    /// JSON for scripts (amounts in base units).
    pub fn is_display(self) -> bool {
        self == OutputFormat::Display
    }

    /// Prints `value` as JSON, or `display` for people.
    pub fn print<T: Serialize>(self, value: &T, display: impl FnOnce() -> String) {
        match self {
            OutputFormat::Display => println!("{}", display()),
            OutputFormat::Json => {
                println!("{}", serde_json::to_string_pretty(value).expect("json"))
            }
            OutputFormat::JsonCompact => {
                println!("{}", serde_json::to_string(value).expect("json"))
            }
        }
    }
}

/// Left-aligned columns under a header row; `(none)` for no rows.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return "(none)".into();
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(headers.iter().map(|h| h.to_string()).collect())];
    out.extend(rows.iter().map(|r| line(r.clone())));
    out.join("\n")
}

/// `label: value` lines with the values aligned.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    pairs
        .iter()
        .map(|(k, v)| format!("{:<width$} {v}", format!("{k}:")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Tells the user, on stderr, when a mint has a freeze authority: its holder can
/// freeze the program's vaults and escrows in that mint (USDC's issuer can), and
/// with them claims, settlements and refunds.
pub fn warn_if_freezable(mint: &depinkit_sdk::tokens::MintInfo, role: &str) {
    if let Some(freezer) = mint.freeze_authority {
        eprintln!(
            "note: the {role} mint {} has a freeze authority ({freezer}): it can freeze the accounts holding it, and the payments from them",
            mint.address
        );
    }
}

/// A unix time in the local time zone.
pub fn local_time(unix: i64) -> String {
    if unix == 0 {
        return "-".into();
    }
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        })
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        assert_eq!(
            table(&["A", "LONG"], &[vec!["xyz".into(), "1".into()]]),
            "A    LONG\nxyz  1"
        );
    }
}
