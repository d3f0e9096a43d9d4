//! Human and machine output: tables in the output language, JSON, CSV.
//!
//! Everything goes through [`out!`](crate::out) or the functions here, which return the write
//! error instead of panicking: a reader that closes the pipe (`p06 flags … | head`) ends the
//! command quietly (see `main`).

use std::io::Write as _;

use serde_json::Value;

use crate::lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table in the output language (--lang).
    Table,
    /// One JSON document; field names and codes are stable (README, "Command line").
    Json,
    /// CSV with a header row; same field names as JSON.
    Csv,
}

/// The task-force views' formats: those of [`Format`] and a workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ViewFormat {
    /// A readable table in the output language (--lang).
    Table,
    /// One JSON document; field names and codes are stable (README, "Command line").
    Json,
    /// CSV with a header row; same field names as JSON.
    Csv,
    /// An Excel workbook written to -o FILE: typed cells, headers in --lang above the JSON names.
    Xlsx,
}

/// `println!` to stdout that returns the error (a closed pipe) instead of panicking.
#[macro_export]
macro_rules! out {
    () => {
        $crate::output::line(format_args!(""))?
    };
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))?
    };
}

pub fn line(args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(args)?;
    stdout.write_all(b"\n")
}

pub fn opt_number(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), lang::figure)
}

pub fn opt_percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), percent)
}

/// 40.83 → "40,8 %" / "40.8 %".
pub fn percent(value: f64) -> String {
    format!("{} %", lang::number(value, 1))
}

/// A count in JSON: an integer when it is whole (`704828`, not `704828.0`), else the number.
pub fn count(value: Option<f64>) -> Value {
    match value {
        None => Value::Null,
        Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Value::from(v as i64),
        Some(v) => Value::from(v),
    }
}

/// Prints rows as an aligned table (first row is the header).
pub fn table(rows: &[Vec<String>]) -> std::io::Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let widths: Vec<usize> = (0..first.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    // A column of numbers (and "—" for none) is right-aligned; any other column left-aligned.
    let is_number = |cell: &str| {
        cell.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+')
            && !cell.contains(|c: char| c.is_alphabetic())
    };
    let numeric: Vec<bool> = (0..first.len())
        .map(|i| {
            let mut cells = rows[1..]
                .iter()
                .filter_map(|r| r.get(i))
                .filter(|c| *c != "—");
            i > 0 && cells.all(|c| is_number(c))
        })
        .collect();
    let mut stdout = std::io::stdout().lock();
    for (n, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let pad = widths[i].saturating_sub(cell.chars().count());
                if numeric[i] && n > 0 {
                    format!("{}{cell}", " ".repeat(pad))
                } else {
                    format!("{cell}{}", " ".repeat(pad))
                }
            })
            .collect();
        writeln!(stdout, "{}", line.join("  ").trim_end())?;
        if n == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
            writeln!(stdout, "{}", rule.join("  "))?;
        }
    }
    Ok(())
}

/// Prints JSON records (an array of flat objects) as CSV with the given columns.
pub fn csv(columns: &[&str], records: &[Value]) -> anyhow::Result<()> {
    let mut out = ::csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record(columns)?;
    for record in records {
        let row: Vec<String> = columns
            .iter()
            .map(|c| match record.get(*c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            })
            .collect();
        out.write_record(&row)?;
    }
    out.flush()?;
    Ok(())
}

pub fn json(value: &Value) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    stdout.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_integers_in_json() {
        assert_eq!(count(Some(704_828.0)).to_string(), "704828");
        assert_eq!(count(Some(40.5)).to_string(), "40.5");
        assert_eq!(count(None), Value::Null);
    }
}
