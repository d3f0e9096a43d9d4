//! `--format xlsx -o FILE` of the task-force views: the records that JSON and CSV print, as a
//! typed workbook (p06-workbook's export): numbers as numbers, percentages formatted, ISO dates
//! as dates, headers in --lang above the stable field names.

use std::path::Path;

use p06_workbook::export::{Export, ExportColumn, ExportKind, ExportValue};
use serde_json::Value;

use crate::error::user;
use crate::lang::tr;

/// Column headers by stable field name: (Vietnamese, English).
const HEADERS: &[(&str, &str, &str)] = &[
    ("indicator_code", "Mã chỉ số", "Indicator code"),
    ("name_vi", "Tên chỉ số", "Indicator (Vietnamese)"),
    ("name_en", "Tên chỉ số (tiếng Anh)", "Indicator"),
    ("value", "Giá trị", "Value"),
    ("target", "Chỉ tiêu", "Target"),
    ("percent_of_target", "% chỉ tiêu", "% of target"),
    ("denominator_code", "Mã mẫu số", "Denominator code"),
    ("denominator_value", "Mẫu số", "Denominator"),
    ("percent_of_denominator", "% mẫu số", "% of denominator"),
    ("change", "Thay đổi", "Change"),
    (
        "localities_meeting_target",
        "Đơn vị đạt chỉ tiêu",
        "Units meeting target",
    ),
    (
        "localities_with_target",
        "Đơn vị có chỉ tiêu",
        "Units with a target",
    ),
    (
        "localities_reporting",
        "Đơn vị có số liệu",
        "Units reporting",
    ),
    (
        "localities_expected",
        "Đơn vị phải báo cáo",
        "Units expected",
    ),
    (
        "localities_without_data",
        "Đơn vị chưa có số liệu",
        "Units without data",
    ),
    ("oldest_as_of", "Số liệu cũ nhất ngày", "Oldest figure of"),
    ("reports_included", "Số báo cáo", "Reports included"),
    ("rank", "Hạng", "Rank"),
    ("code", "Mã", "Code"),
    ("name", "Tên", "Name"),
    ("parent_code", "Mã đơn vị cấp trên", "Parent code"),
    ("as_of", "Số liệu ngày", "Figures of"),
    (
        "below_threshold",
        "Xã dưới ngưỡng",
        "Communes below threshold",
    ),
    ("total", "Tổng số xã", "Communes"),
    ("with_target", "Xã có chỉ tiêu", "Communes with a target"),
    (
        "without_data",
        "Xã chưa có số liệu",
        "Communes without data",
    ),
    ("obligation", "Nghĩa vụ báo cáo", "Obligation"),
    ("agency", "Cơ quan", "Agency"),
    ("expected", "Kỳ phải nộp", "Periods due"),
    ("received", "Đã nhận", "Received"),
    ("on_time", "Đúng hạn", "On time"),
    ("late", "Trễ hạn", "Late"),
    ("missing", "Thiếu báo cáo", "Missing"),
    ("pending", "Chưa đến hạn", "Pending"),
    ("vague", "Chung chung", "Vague"),
    (
        "mean_lateness_seconds",
        "Trễ trung bình (giây)",
        "Mean lateness (s)",
    ),
    (
        "worst_lateness_seconds",
        "Trễ nhiều nhất (giây)",
        "Worst lateness (s)",
    ),
    (
        "consistency_flags",
        "Cờ mâu thuẫn số liệu",
        "Consistency flags",
    ),
    ("reporting_rate", "Tỷ lệ nộp", "Reporting rate"),
    ("on_time_rate", "Tỷ lệ đúng hạn", "On-time rate"),
    ("kind", "Loại cờ", "Kind"),
    ("state", "Trạng thái", "State"),
    ("period_start", "Từ ngày", "Period start"),
    ("period_end", "Đến ngày", "Period end"),
    ("report", "Báo cáo", "Report"),
    ("locality_code", "Mã địa bàn", "Locality code"),
    ("message", "Nội dung", "Message"),
    ("pace_status", "Tiến độ", "Pace"),
    (
        "pace_recent_per_week",
        "Tốc độ gần đây (/tuần)",
        "Recent pace (/week)",
    ),
    (
        "pace_needed_per_week",
        "Tốc độ cần (/tuần)",
        "Pace needed (/week)",
    ),
    (
        "pace_projected",
        "Dự kiến đạt chỉ tiêu",
        "Projected to reach target",
    ),
    ("pace_due", "Hạn chỉ tiêu", "Target due"),
];

fn header(key: &str) -> String {
    HEADERS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or_else(|| key.to_owned(), |(_, vi, en)| tr(*vi, *en).to_owned())
}

fn iso_date(text: &str) -> Option<chrono::NaiveDate> {
    (text.len() == 10)
        .then(|| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

/// The kind of a column from its name and its values.
fn kind(key: &str, records: &[Value]) -> ExportKind {
    let values: Vec<&Value> = records
        .iter()
        .filter_map(|r| r.get(key))
        .filter(|v| !v.is_null())
        .collect();
    if key.contains("percent") {
        return ExportKind::Percent;
    }
    if !values.is_empty()
        && values
            .iter()
            .all(|v| v.as_str().and_then(iso_date).is_some())
    {
        return ExportKind::Date;
    }
    if !values.is_empty() && values.iter().all(|v| v.is_number()) {
        return if values
            .iter()
            .all(|v| v.as_f64().is_some_and(|f| f.fract() == 0.0))
        {
            ExportKind::Count
        } else {
            ExportKind::Number
        };
    }
    ExportKind::Text
}

fn cell(value: Option<&Value>, kind: ExportKind) -> ExportValue {
    match value {
        None | Some(Value::Null) => ExportValue::Empty,
        Some(Value::Number(n)) => ExportValue::Number(n.as_f64().unwrap_or_default()),
        Some(Value::String(s)) if kind == ExportKind::Date => {
            iso_date(s).map_or_else(|| ExportValue::Text(s.clone()), ExportValue::Date)
        }
        Some(Value::String(s)) => ExportValue::Text(s.clone()),
        Some(Value::Bool(b)) => ExportValue::Text(b.to_string()),
        Some(other) => ExportValue::Text(other.to_string()),
    }
}

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
    let kinds: Vec<ExportKind> = columns.iter().map(|c| kind(c, records)).collect();
    let export = Export {
        sheet: sheet.to_owned(),
        title: Some(title.to_owned()),
        columns: columns
            .iter()
            .zip(&kinds)
            .map(|(c, k)| ExportColumn {
                key: (*c).to_owned(),
                header: header(c),
                kind: *k,
            })
            .collect(),
        rows: records
            .iter()
            .map(|r| {
                columns
                    .iter()
                    .zip(&kinds)
                    .map(|(c, k)| cell(r.get(*c), *k))
                    .collect()
            })
            .collect(),
    };
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
