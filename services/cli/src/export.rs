//! `--format xlsx -o FILE` of the task-force views: the records that JSON and CSV print, as a
//! typed workbook (p06-workbook's export): numbers as numbers, percentages formatted, ISO dates
//! as dates, headers in --lang above the stable field names.

use std::path::Path;

use serde_json::Value;

use crate::error::user;
use crate::lang::tr;

/// Writes `records` (flat JSON objects) with `columns` to `path` as a workbook.
pub fn write(
    path: Option<&Path>,
    sheet: &str,
    title: &str,
    columns: &[&str],
    records: &[Value],
) -> anyhow::Result<()> {
    let Some(path) = path else {
        return Err(user(tr(
            "--format xlsx cần -o TỆP, ví dụ -o bao-cao.xlsx",
            "--format xlsx needs -o FILE, e.g. -o report.xlsx",
        )));
    };
    let export = p06_workbook::export::from_records(
        sheet,
        Some(title.to_owned()),
        columns,
        records,
        crate::lang::get() == crate::lang::Lang::En,
    );
    let bytes = p06_workbook::export::write(&export)?;
    std::fs::write(path, bytes).map_err(|e| crate::error::file(path, &e))?;
    eprintln!(
        "{}",
        tr(
            format!("Đã ghi {} ({} dòng)", path.display(), records.len()),
            format!("Wrote {} ({} rows)", path.display(), records.len()),
        )
    );
    Ok(())
}
