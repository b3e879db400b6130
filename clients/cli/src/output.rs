//! Output: aligned tables for people, stable JSON for scripts.

use clap::ValueEnum;
use serde::Serialize;

/// `--output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text and tables.
    Display,
    /// Pretty-printed JSON.
    Json,
    /// One-line JSON.
    JsonCompact,
}

impl OutputFormat {
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

/// Left-aligned columns under a header row.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
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

/// A base-unit amount in whole tokens with `decimals`.
pub fn ui_amount(amount: u64, decimals: u8) -> String {
    if decimals == 0 {
        return amount.to_string();
    }
    let scale = 10u128.pow(u32::from(decimals));
    let whole = u128::from(amount) / scale;
    let frac = u128::from(amount) % scale;
    let frac = format!("{frac:0width$}", width = usize::from(decimals));
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{frac}")
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
    fn amounts_and_tables() {
        assert_eq!(ui_amount(40_000_000, 6), "40");
        assert_eq!(ui_amount(1_500_000, 6), "1.5");
        assert_eq!(ui_amount(7, 0), "7");
        assert_eq!(ui_amount(u64::MAX, 9), "18446744073.709551615");
        assert_eq!(
            table(&["A", "LONG"], &[vec!["xyz".into(), "1".into()]]),
            "A    LONG\nxyz  1"
        );
    }
}
