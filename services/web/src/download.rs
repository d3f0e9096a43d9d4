//! CSV downloads with the `p06` command line's stable field names and machine values (ISO dates,
//! plain numbers, codes): a table downloaded from the page reads like `p06 … --format csv`.

use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use p06_proto::aggregation::{
    ChildSummary, ConsolidatedStatus, Flag, LocalityProgress, ObligationCompliance,
};
use p06_proto::common::CalendarDate;
use rust_xlsxwriter::XlsxError;
use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::format::Lang;

pub const PROGRESS_COLUMNS: &[&str] = &[
    "rank",
    "code",
    "name",
    "parent_code",
    "value",
    "target",
    "percent_of_target",
    "denominator_value",
    "percent_of_denominator",
    "change",
    "as_of",
    "pace_status",
    "pace_recent_per_week",
    "pace_needed_per_week",
    "pace_projected",
    "pace_due",
];

pub const STATUS_COLUMNS: &[&str] = &[
    "indicator_code",
    "name_vi",
    "value",
    "target",
    "percent_of_target",
    "denominator_code",
    "denominator_value",
    "percent_of_denominator",
    "change",
    "localities_meeting_target",
    "localities_with_target",
    "localities_reporting",
    "localities_expected",
    "localities_without_data",
    "oldest_as_of",
    "reports_included",
    "pace_status",
    "pace_recent_per_week",
    "pace_needed_per_week",
    "pace_projected",
    "pace_due",
];

pub const DISTRICT_COLUMNS: &[&str] = &[
    "code",
    "name",
    "below_threshold",
    "total",
    "with_target",
    "without_data",
    "value",
    "target",
    "percent_of_target",
];

pub const COMPLIANCE_COLUMNS: &[&str] = &[
    "obligation",
    "agency",
    "expected",
    "received",
    "on_time",
    "late",
    "missing",
    "pending",
    "early",
    "vague",
    "mean_lateness_seconds",
    "worst_lateness_seconds",
    "consistency_flags",
    "reporting_rate",
    "on_time_rate",
];

pub const FLAG_COLUMNS: &[&str] = &[
    "name",
    "kind",
    "state",
    "agency",
    "obligation",
    "period_start",
    "period_end",
    "report",
    "indicator_code",
    "locality_code",
    "message",
];

pub const OBSERVATION_COLUMNS: &[&str] = &["indicator_code", "locality_code", "value"];

fn iso(d: Option<&CalendarDate>) -> Value {
    d.map_or(Value::Null, |d| {
        json!(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
    })
}

pub fn progress(r: &LocalityProgress) -> Value {
    let l = r.locality.clone().unwrap_or_default();
    let mut record = json!({
        "code": l.code, "name": l.name, "parent_code": l.parent_code,
        "value": r.value, "target": r.target, "percent_of_target": r.percent_of_target,
        "denominator_value": r.denominator_value, "percent_of_denominator": r.percent_of_denominator,
        "change": r.change, "rank": r.rank, "as_of": iso(r.as_of.as_ref()),
    });
    with_pace(&mut record, r.pace.as_ref());
    record
}

/// The pace columns (stable codes, ISO dates), as `p06 … --format csv` writes them.
fn with_pace(record: &mut Value, pace: Option<&p06_proto::aggregation::Pace>) {
    let Value::Object(map) = record else {
        return;
    };
    let p = pace.copied().unwrap_or_default();
    let code = crate::i18n::pace_code(p.status)
        .replace('-', "_")
        .to_uppercase();
    map.insert(
        "pace_status".into(),
        if pace.is_some() {
            json!(code)
        } else {
            Value::Null
        },
    );
    map.insert("pace_recent_per_week".into(), json!(p.recent_per_week));
    map.insert("pace_needed_per_week".into(), json!(p.needed_per_week));
    map.insert("pace_projected".into(), iso(p.projected.as_ref()));
    map.insert(
        "pace_due".into(),
        if pace.is_some() {
            iso(p.due.as_ref())
        } else {
            Value::Null
        },
    );
}

pub fn status(s: &ConsolidatedStatus) -> Vec<Value> {
    s.indicators
        .iter()
        .map(|i| {
            let mut record = json!({
                "indicator_code": i.indicator_code, "name_vi": i.name_vi, "name_en": i.name_en,
                "value": i.value, "target": i.target, "percent_of_target": i.percent_of_target,
                "denominator_code": i.denominator_code, "denominator_value": i.denominator_value,
                "percent_of_denominator": i.percent_of_denominator, "change": i.change,
                "localities_meeting_target": i.localities_meeting_target, "localities_with_target": i.localities_with_target,
                "localities_reporting": i.localities_reporting, "localities_expected": i.localities_expected,
                "localities_without_data": i.localities_without_data, "locality_completeness": i.locality_completeness,
                "oldest_as_of": iso(i.oldest_as_of.as_ref()), "reports_included": i.reports_included,
            });
            with_pace(&mut record, i.pace.as_ref());
            record
        })
        .collect()
}

pub fn district(s: &ChildSummary) -> Value {
    let mut r = progress(&s.child.clone().unwrap_or_default());
    r["below_threshold"] = json!(s.below_threshold);
    r["total"] = json!(s.total);
    r["with_target"] = json!(s.with_target);
    r["without_data"] = json!(s.without_data);
    r
}

pub fn compliance(o: &ObligationCompliance) -> Value {
    json!({
        "obligation": o.obligation, "agency": o.agency, "expected": o.expected, "received": o.received,
        "on_time": o.on_time, "late": o.late, "missing": o.missing, "pending": o.pending, "early": o.early, "vague": o.vague,
        "mean_lateness_seconds": o.mean_lateness.as_ref().map(|d| d.seconds),
        "worst_lateness_seconds": o.worst_lateness.as_ref().map(|d| d.seconds),
        "consistency_flags": o.consistency_flags, "reporting_rate": o.reporting_rate, "on_time_rate": o.on_time_rate,
    })
}

pub fn flag(f: &Flag) -> Value {
    let period = f.period.unwrap_or_default();
    json!({
        "name": f.name, "kind": f.kind, "state": f.state, "agency": f.agency, "obligation": f.obligation,
        "period_start": iso(period.start.as_ref()), "period_end": iso(period.end.as_ref()),
        "report": f.report, "indicator_code": f.indicator_code, "locality_code": f.locality_code, "message": f.message,
    })
}

/// The CSV text of `records` with a header row of `columns`.
pub fn to_csv(columns: &[&str], records: &[Value]) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(columns)?;
    for record in records {
        out.write_record(columns.iter().map(|c| match record.get(*c) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }))?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8"))
}

/// The table as the request asks: `….xlsx` a workbook, else CSV. `filename` is the CSV's
/// (`communes-64-vneid.l2.activated.csv`); a workbook gets the same name ending `.xlsx`.
pub fn response(ctx: &Ctx, filename: &str, columns: &[&str], records: &[Value]) -> Response {
    let path = ctx.here.split('?').next().unwrap_or_default();
    if path.ends_with(".xlsx") {
        xlsx_response(ctx.lang, filename, columns, records)
    } else {
        csv_response(filename, columns, records)
    }
}

/// A CSV download named `filename`.
pub fn csv_response(filename: &str, columns: &[&str], records: &[Value]) -> Response {
    match to_csv(columns, records) {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "CSV failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The same rows as a workbook (`p06-workbook`'s export, as `p06 … --format xlsx` writes):
/// typed cells, headers in the page's language above the stable field names, frozen headers,
/// an autofilter.
pub fn to_xlsx(
    lang: Lang,
    filename: &str,
    columns: &[&str],
    records: &[Value],
) -> Result<Vec<u8>, XlsxError> {
    let stem = filename.strip_suffix(".csv").unwrap_or(filename);
    // A sheet name: what the table is (`communes`, `status` …), at most 31 characters.
    let sheet: String = stem
        .split('-')
        .next()
        .unwrap_or("p06")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(31)
        .collect();
    let export = p06_workbook::export::from_records(
        if sheet.is_empty() { "p06" } else { &sheet },
        Some(format!("P06 — {stem}")),
        columns,
        records,
        lang == Lang::En,
    );
    p06_workbook::export::write(&export)
}

fn xlsx_response(lang: Lang, filename: &str, columns: &[&str], records: &[Value]) -> Response {
    let stem = filename.strip_suffix(".csv").unwrap_or(filename);
    match to_xlsx(lang, filename, columns, records) {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, XLSX_CONTENT_TYPE.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{stem}.xlsx\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "xlsx failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p06_proto::aggregation::Locality;

    #[test]
    fn progress_rows_read_like_the_cli() {
        let row = LocalityProgress {
            locality: Some(Locality {
                code: "23641".into(),
                name: "Xã Hà Đông".into(),
                parent_code: "626".into(),
                ..Default::default()
            }),
            value: Some(109.0),
            target: Some(2_068.0),
            percent_of_target: Some(5.27),
            rank: 1,
            as_of: Some(CalendarDate {
                year: 2025,
                month: 3,
                day: 22,
            }),
            ..Default::default()
        };
        let text = to_csv(PROGRESS_COLUMNS, &[progress(&row)]).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "rank,code,name,parent_code,value,target,percent_of_target,denominator_value,percent_of_denominator,change,as_of,pace_status,pace_recent_per_week,pace_needed_per_week,pace_projected,pace_due"
            )
        );
        assert_eq!(
            lines.next(),
            Some("1,23641,Xã Hà Đông,626,109.0,2068.0,5.27,,,,2025-03-22,,,,,")
        );
    }

    #[test]
    fn a_table_as_a_workbook_reads_back_with_both_header_rows() {
        let row =
            json!({"code": "23641", "name": "Xã Hà Đông", "value": 109.0, "as_of": "2025-03-22"});
        let bytes = to_xlsx(
            Lang::Vi,
            "communes-64-vneid.l2.activated.csv",
            &["code", "name", "value", "as_of"],
            &[row],
        )
        .unwrap();
        let book = p06_workbook::open(&bytes, "x.xlsx").unwrap();
        let grid = &book.sheets[0];
        assert_eq!(grid.sheet, "communes");
        use p06_workbook::Cell;
        assert_eq!(grid.cell(2, 2), &Cell::Text("Giá trị".into()));
        assert_eq!(grid.cell(3, 2), &Cell::Text("value".into()));
        assert_eq!(grid.cell(4, 0), &Cell::Text("23641".into()));
        assert_eq!(grid.cell(4, 2), &Cell::Number(109.0));
        assert_eq!(
            grid.cell(4, 3),
            &Cell::Date(chrono::NaiveDate::from_ymd_opt(2025, 3, 22).unwrap())
        );
    }

    #[test]
    fn commas_and_quotes_are_quoted() {
        let text = to_csv(&["message"], &[json!({"message": "a, \"b\""})]).unwrap();
        assert_eq!(text, "message\n\"a, \"\"b\"\"\"\n");
    }
}
