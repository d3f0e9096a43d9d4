//! A table written as a workbook for the task force: typed cells (numbers as numbers, percentages
//! formatted, dates as dates), the headers in the reader's language with the stable field names in
//! a second header row, frozen headers, an autofilter, columns as wide as their contents.

use chrono::NaiveDate;
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, XlsxError};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Text,
    /// A whole count: `#,##0`.
    Count,
    /// Any number: up to two decimals.
    Number,
    /// A percentage held as 0–100: `40.8 %`.
    Percent,
    Date,
}

#[derive(Debug, Clone)]
pub struct ExportColumn {
    /// The stable field name (as in JSON and CSV), written in the second header row.
    pub key: String,
    pub header: String,
    pub kind: ExportKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExportValue {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

#[derive(Debug, Clone)]
pub struct Export {
    pub sheet: String,
    /// A line above the headers (what the table is, as of when).
    pub title: Option<String>,
    pub columns: Vec<ExportColumn>,
    pub rows: Vec<Vec<ExportValue>>,
}

/// The export as xlsx bytes.
pub fn write(e: &Export) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(&e.sheet)?;
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin);
    let key = Format::new()
        .set_italic()
        .set_font_color(Color::RGB(0x595959))
        .set_border(FormatBorder::Thin);
    let formats = |kind: ExportKind| match kind {
        ExportKind::Text => Format::new(),
        ExportKind::Count => Format::new().set_num_format("#,##0"),
        ExportKind::Number => Format::new().set_num_format("#,##0.##"),
        ExportKind::Percent => Format::new().set_num_format("0.0\" %\""),
        ExportKind::Date => Format::new().set_num_format("dd/mm/yyyy"),
    };
    let mut r = 0;
    if let Some(title) = &e.title {
        sheet.write_string_with_format(0, 0, title, &Format::new().set_bold())?;
        r = 2;
    }
    for (c, column) in e.columns.iter().enumerate() {
        sheet.write_string_with_format(r, c as u16, &column.header, &header)?;
        sheet.write_string_with_format(r + 1, c as u16, &column.key, &key)?;
    }
    let first = r + 2;
    let column_formats: Vec<Format> = e.columns.iter().map(|c| formats(c.kind)).collect();
    for (i, row) in e.rows.iter().enumerate() {
        let row_number = first + i as u32;
        for (c, value) in row.iter().enumerate() {
            let format = &column_formats[c.min(column_formats.len().saturating_sub(1))];
            let c = c as u16;
            match value {
                ExportValue::Empty => {}
                ExportValue::Text(t) => {
                    sheet.write_string(row_number, c, t)?;
                }
                ExportValue::Number(n) => {
                    sheet.write_number_with_format(row_number, c, *n, format)?;
                }
                ExportValue::Date(d) => {
                    sheet.write_datetime_with_format(row_number, c, d, format)?;
                }
            }
        }
    }
    let last_row = (first + e.rows.len() as u32).saturating_sub(1).max(r + 1);
    if !e.columns.is_empty() {
        sheet.autofilter(r + 1, 0, last_row, e.columns.len() as u16 - 1)?;
    }
    sheet.set_freeze_panes(first, 0)?;
    sheet.autofit();
    book.save_to_buffer()
}

// Flat JSON records (what `--format json` prints and the web page's CSV downloads hold) as an
// export: the command line's `--format xlsx` and the web page's `.xlsx` downloads share this.

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

/// The header of a stable field name in Vietnamese or English (the name itself when unknown).
pub fn header(key: &str, english: bool) -> String {
    HEADERS.iter().find(|(k, _, _)| *k == key).map_or_else(
        || key.to_owned(),
        |(_, vi, en)| if english { *en } else { *vi }.to_owned(),
    )
}

fn iso_date(text: &str) -> Option<chrono::NaiveDate> {
    (text.len() == 10)
        .then(|| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
}

/// The kind of a column from its name and its values.
pub fn kind(key: &str, records: &[Value]) -> ExportKind {
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

pub fn cell(value: Option<&Value>, kind: ExportKind) -> ExportValue {
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

/// `records` (flat JSON objects) with `columns` as an export: each column typed by its name and
/// values, headed in Vietnamese or English above its stable name.
pub fn from_records(
    sheet: &str,
    title: Option<String>,
    columns: &[&str],
    records: &[Value],
    english: bool,
) -> Export {
    let kinds: Vec<ExportKind> = columns.iter().map(|c| kind(c, records)).collect();
    Export {
        sheet: sheet.to_owned(),
        title,
        columns: columns
            .iter()
            .zip(&kinds)
            .map(|(c, k)| ExportColumn {
                key: (*c).to_owned(),
                header: header(c, english),
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
    }
}
