//! Human and machine output: tables with Vietnamese number formatting, JSON, CSV.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table (Vietnamese names, thousands separators).
    Table,
    /// One JSON document; field names are stable (README, "CLI output").
    Json,
    /// CSV with a header row; same field names as JSON.
    Csv,
}

/// 704828 → "704.828"; 40.83 → "40,8" (Vietnamese separators), with `decimals` digits.
pub fn number(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{frac}")
    }
}

pub fn opt_number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "—".into(), |v| number(v, decimals))
}

pub fn opt_percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{} %", number(v, 1)))
}

/// Prints rows as an aligned table (first row is the header).
pub fn table(rows: &[Vec<String>]) {
    let Some(first) = rows.first() else { return };
    let widths: Vec<usize> = (0..first.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (n, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let pad = widths[i].saturating_sub(cell.chars().count());
                // Numbers right-aligned, text left-aligned.
                if cell.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '—') && i > 0
                {
                    format!("{}{cell}", " ".repeat(pad))
                } else {
                    format!("{cell}{}", " ".repeat(pad))
                }
            })
            .collect();
        println!("{}", line.join("  ").trim_end());
        if n == 0 {
            println!(
                "{}",
                widths
                    .iter()
                    .map(|w| "─".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("  ")
            );
        }
    }
}

/// Prints JSON records (an array of flat objects) as CSV with the given columns.
pub fn csv(columns: &[&str], records: &[Value]) -> anyhow::Result<()> {
    let mut out = ::csv::Writer::from_writer(std::io::stdout());
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
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_separators() {
        assert_eq!(number(704_828.0, 0), "704.828");
        assert_eq!(number(40.83, 1), "40,8");
        assert_eq!(number(1_494_541.0, 0), "1.494.541");
        assert_eq!(number(-8_221.0, 0), "-8.221");
        assert_eq!(number(109.0, 0), "109");
    }
}
