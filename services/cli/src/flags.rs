//! Who reported on time, late, not at all or vaguely: `p06 compliance` and `p06 flags`, and the
//! wording of a flag in the output language.

use chrono::NaiveDate;
use p06_kit::convert::{date_from_proto, from_timestamp};
use p06_proto::aggregation::{
    Flag, GetComplianceBoardRequest, ListFlagsRequest, WatchFlagsRequest,
};
use serde_json::{Value, json};

use crate::lang::{self, tr};
use crate::output::{self, ViewFormat as Format};
use crate::query::{Common, date, iso_date};
use crate::{out, rpc};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  p06 compliance --province 52\n  p06 compliance --province 64 --edition 2024 --from 2025-02-24 --as-of 2025-03-23 --agency police"
)]
pub struct ComplianceArgs {
    #[command(flatten)]
    common: Common,
    /// Periods ending from this date, YYYY-MM-DD (default: 56 days — eight weeks — before --as-of).
    #[arg(long, value_name = "DATE")]
    from: Option<NaiveDate>,
    /// Only this agency: police, health or justice.
    #[arg(long, value_name = "AGENCY", value_parser = ["police", "health", "justice"])]
    agency: Option<String>,
}

pub async fn compliance(args: ComplianceArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let board = c
        .client()
        .await?
        .get_compliance_board(c.connection.request(GetComplianceBoardRequest {
            province: c.locality(&c.province),
            from: date(args.from),
            to: date(c.as_of),
            agency: args.agency.clone().unwrap_or_default(),
        })?)
        .await
        .map_err(c.refused(rpc::GET_COMPLIANCE_BOARD))?
        .into_inner();
    let records: Vec<Value> = board
        .obligations
        .iter()
        .map(|o| {
            json!({
                "obligation": o.obligation, "agency": o.agency, "expected": o.expected, "received": o.received,
                "on_time": o.on_time, "late": o.late, "missing": o.missing, "pending": o.pending, "early": o.early, "vague": o.vague,
                "mean_lateness_seconds": o.mean_lateness.as_ref().map(|d| d.seconds),
                "worst_lateness_seconds": o.worst_lateness.as_ref().map(|d| d.seconds),
                "consistency_flags": o.consistency_flags, "reporting_rate": o.reporting_rate, "on_time_rate": o.on_time_rate,
                "top_vague_reasons": o.top_vague_reasons.iter().map(|r| json!({"code": r.code, "count": r.count})).collect::<Vec<_>>(),
            })
        })
        .collect();
    match c.format {
        Format::Json => output::json(&json!({
            "obligations": records,
            "open_flags": board.open_flags.iter().map(flag_json).collect::<Vec<_>>(),
        })),
        Format::Csv | Format::Xlsx => c.records(
            tr("Tuân thủ", "Compliance"),
            &[
                "obligation",
                "agency",
                "expected",
                "received",
                "on_time",
                "late",
                "missing",
                "pending",
                "vague",
                "mean_lateness_seconds",
                "worst_lateness_seconds",
                "consistency_flags",
                "reporting_rate",
                "on_time_rate",
            ],
            &records,
        ),
        Format::Table => {
            let mut table = vec![
                tr(
                    [
                        "nghĩa vụ báo cáo",
                        "cơ quan",
                        "phải nộp",
                        "đã nộp",
                        "đúng hạn",
                        "trễ hạn",
                        "chưa nộp",
                        "chưa đến hạn",
                        "nộp trước hạn",
                        "chung chung",
                        "trễ nhất",
                    ],
                    [
                        "obligation",
                        "agency",
                        "expected",
                        "received",
                        "on time",
                        "late",
                        "missing",
                        "not yet due",
                        "in early",
                        "vague",
                        "latest by",
                    ],
                )
                .map(String::from)
                .to_vec(),
            ];
            for o in &board.obligations {
                table.push(vec![
                    o.obligation.clone(),
                    lang::agency(&o.agency),
                    o.expected.to_string(),
                    o.received.to_string(),
                    o.on_time.to_string(),
                    o.late.to_string(),
                    o.missing.to_string(),
                    o.pending.to_string(),
                    o.early.to_string(),
                    o.vague.to_string(),
                    o.worst_lateness
                        .as_ref()
                        .map_or("—".into(), |d| lang::duration(d.seconds)),
                ]);
            }
            output::table(&table)?;
            out!();
            out!(
                "{}",
                tr(
                    format!(
                        "{} cờ cảnh báo đang mở (xem: p06 flags --province {})",
                        board.open_flags.len(),
                        c.province
                    ),
                    format!(
                        "{} open flags (see: p06 flags --province {})",
                        board.open_flags.len(),
                        c.province
                    ),
                )
            );
            Ok(())
        }
    }
}

fn flag_json(f: &Flag) -> Value {
    let period = f.period.unwrap_or_default();
    json!({
        "name": f.name, "kind": f.kind, "state": f.state, "agency": f.agency, "obligation": f.obligation,
        "period_start": iso_date(period.start.as_ref()), "period_end": iso_date(period.end.as_ref()),
        "report": f.report, "indicator_code": f.indicator_code, "locality_code": f.locality_code, "message": f.message,
    })
}

const FLAG_COLUMNS: &[&str] = &[
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

/// "10/03/2025–16/03/2025" in the output language.
fn period_text(f: &Flag) -> String {
    let period = f.period.unwrap_or_default();
    match (
        date_from_proto(period.start.as_ref()),
        date_from_proto(period.end.as_ref()),
    ) {
        (Some(s), Some(e)) if s == e => lang::date(s),
        (Some(s), Some(e)) => format!("{}–{}", lang::date(s), lang::date(e)),
        _ => "—".into(),
    }
}

/// The flag's message in the output language, from its structured facts (the server's `message`
/// stays in JSON/CSV as it is).
pub fn flag_message(f: &Flag) -> String {
    let period = period_text(f);
    let (i, l) = (&f.indicator_code, &f.locality_code);
    match f.kind.as_str() {
        "MISSING" => {
            let deadline = f
                .deadline
                .as_ref()
                .and_then(from_timestamp)
                .map(|t| lang::date_time(t.with_timezone(&vietnam()).naive_local()));
            match deadline {
                Some(d) => tr(
                    format!("chưa có báo cáo kỳ {period} khi hết hạn nộp ({d})"),
                    format!("no report for {period} by the deadline ({d})"),
                ),
                None => tr(
                    format!("chưa có báo cáo kỳ {period} khi hết hạn nộp"),
                    format!("no report for {period} by the deadline"),
                ),
            }
        }
        "LATE" => match f.lateness.as_ref() {
            Some(d) => tr(
                format!(
                    "báo cáo đầu tiên kỳ {period} nộp trễ {}",
                    lang::duration(d.seconds)
                ),
                format!(
                    "first report for {period} arrived {} after the deadline",
                    lang::duration(d.seconds)
                ),
            ),
            None => tr(
                format!("báo cáo đầu tiên kỳ {period} nộp sau hạn"),
                format!("first report for {period} arrived after the deadline"),
            ),
        },
        "VAGUE" => {
            let score = f
                .specificity_score
                .map_or_else(String::new, |s| format!(" ({s}/100)"));
            let reasons = if f.reason_codes.is_empty() {
                String::new()
            } else {
                format!(": {}", f.reason_codes.join(", "))
            };
            tr(
                format!("báo cáo kỳ {period} chưa cụ thể{score}{reasons}"),
                format!("report for {period} is not specific{score}{reasons}"),
            )
        }
        "STOCK_DECREASE" => match (f.value, f.reference) {
            (Some(v), Some(r)) => tr(
                format!(
                    "{i} tại {l} giảm từ {} xuống {} dù là số lũy kế",
                    lang::figure(r),
                    lang::figure(v)
                ),
                format!(
                    "{i} in {l} fell from {} to {}, but it is cumulative",
                    lang::figure(r),
                    lang::figure(v)
                ),
            ),
            _ => tr(
                format!("{i} tại {l} giảm dù là số lũy kế"),
                format!("{i} in {l} fell, but it is cumulative"),
            ),
        },
        "TREND_JUMP" => match (f.value, f.reference) {
            (Some(v), Some(r)) => tr(
                format!(
                    "{i} tại {l} thay đổi bất thường: từ {} thành {}",
                    lang::figure(r),
                    lang::figure(v)
                ),
                format!(
                    "{i} in {l} changed unusually: from {} to {}",
                    lang::figure(r),
                    lang::figure(v)
                ),
            ),
            _ => tr(
                format!("{i} tại {l} thay đổi bất thường"),
                format!("{i} in {l} changed unusually"),
            ),
        },
        "ABOVE_DENOMINATOR" => match (f.value, f.reference) {
            (Some(v), Some(r)) => tr(
                format!(
                    "{i} tại {l} là {}, vượt mẫu số ({})",
                    lang::figure(v),
                    lang::figure(r)
                ),
                format!(
                    "{i} in {l} is {}, above its denominator ({})",
                    lang::figure(v),
                    lang::figure(r)
                ),
            ),
            _ => tr(
                format!("{i} tại {l} vượt mẫu số"),
                format!("{i} in {l} is above its denominator"),
            ),
        },
        // The server words it in Vietnamese ("186.568/738.291 = 25,27 %, báo cáo ghi 24,37 %").
        "NARRATIVE_MISMATCH" => match (f.value, f.reference) {
            (Some(v), Some(r)) if lang::get() == lang::Lang::En => format!(
                "the narrative prints {}, the figures give {}: \"{}\"",
                lang::number(v, 2),
                lang::number(r, 2),
                f.quote
            ),
            _ => f.message.clone(),
        },
        // The server's message is Vietnamese and names both figures and both reports.
        "CROSS_AGENCY_MISMATCH" => match (f.value, f.reference) {
            (Some(v), Some(r)) => tr(
                f.message.clone(),
                format!(
                    "{i} in {l} is {}, above another agency's figure that bounds it ({})",
                    lang::figure(v),
                    lang::figure(r)
                ),
            ),
            _ => f.message.clone(),
        },
        _ => f.message.clone(),
    }
}

/// Vietnam's time (UTC+7, no daylight saving), the provinces' reporting calendar.
pub(crate) fn vietnam() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(7 * 3_600)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).unwrap())
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  p06 flags --province 52\n  p06 flags --province 52 --kind MISSING --state OPEN\n  p06 flags --province 52 --watch"
)]
pub struct FlagsArgs {
    #[command(flatten)]
    common: Common,
    /// Only this kind: MISSING, LATE, VAGUE, STOCK_DECREASE, TREND_JUMP, ABOVE_DENOMINATOR,
    /// NARRATIVE_MISMATCH or CROSS_AGENCY_MISMATCH.
    #[arg(long, value_name = "KIND", value_parser = ["MISSING", "LATE", "VAGUE", "STOCK_DECREASE", "TREND_JUMP", "ABOVE_DENOMINATOR", "NARRATIVE_MISMATCH", "CROSS_AGENCY_MISMATCH"], ignore_case = true)]
    kind: Option<String>,
    /// Only flags in this state: OPEN or RESOLVED.
    #[arg(long, value_name = "STATE", value_parser = ["OPEN", "RESOLVED"], ignore_case = true)]
    state: Option<String>,
    /// Only this agency: police, health or justice.
    #[arg(long, value_name = "AGENCY", value_parser = ["police", "health", "justice"])]
    agency: Option<String>,
    /// Keep running and print flags as they are raised (Ctrl-C to stop).
    #[arg(long)]
    watch: bool,
}

fn flag_row(f: &Flag) -> Vec<String> {
    vec![
        f.name.trim_start_matches("flags/").to_owned(),
        lang::flag_kind(&f.kind),
        lang::flag_state(&f.state),
        lang::agency(&f.agency),
        f.obligation.clone(),
        flag_message(f),
    ]
}

pub async fn flags(args: FlagsArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let mut client = c.client().await?;
    let kind = args.kind.clone().unwrap_or_default().to_ascii_uppercase();
    if args.watch {
        let mut stream = client
            .watch_flags(c.connection.request(WatchFlagsRequest {
                province: c.locality(&c.province),
                kind: kind.clone(),
                include_open: true,
                after: String::new(),
            })?)
            .await
            .map_err(c.refused(rpc::WATCH_FLAGS))?
            .into_inner();
        while let Some(flag) = stream
            .message()
            .await
            .map_err(c.refused(rpc::WATCH_FLAGS))?
        {
            match c.format {
                Format::Table => out!("{}", flag_row(&flag).join("  ")),
                _ => out!("{}", flag_json(&flag)),
            }
        }
        return Ok(());
    }
    let mut flags = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_flags(c.connection.request(ListFlagsRequest {
                province: c.locality(&c.province),
                kind: kind.clone(),
                state: args.state.clone().unwrap_or_default().to_ascii_uppercase(),
                agency: args.agency.clone().unwrap_or_default(),
                page_size: 1_000,
                page_token: page_token.clone(),
                archived: false,
            })?)
            .await
            .map_err(c.refused(rpc::LIST_FLAGS))?
            .into_inner();
        flags.extend(page.flags);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let records: Vec<Value> = flags.iter().map(flag_json).collect();
    match c.format {
        Format::Json => output::json(&Value::Array(records)),
        Format::Csv | Format::Xlsx => c.records(tr("Cờ cảnh báo", "Flags"), FLAG_COLUMNS, &records),
        Format::Table => {
            if flags.is_empty() {
                out!("{}", tr("Không có cờ cảnh báo nào.", "No flags."));
                return Ok(());
            }
            let mut table = vec![
                tr(
                    [
                        "cờ",
                        "loại",
                        "trạng thái",
                        "cơ quan",
                        "nghĩa vụ",
                        "nội dung",
                    ],
                    ["flag", "kind", "state", "agency", "obligation", "message"],
                )
                .map(String::from)
                .to_vec(),
            ];
            table.extend(flags.iter().map(flag_row));
            output::table(&table)?;
            Ok(())
        }
    }
}
