//! `p06 audit`: the province's audit trail — flags raised, resolved and archived, periods locked
//! and unlocked, obligations set — newest first, with who did it and when.

use chrono::{NaiveDate, TimeZone};
use p06_kit::convert::{from_timestamp, timestamp};
use p06_proto::aggregation::{AuditRecord, ListAuditRecordsRequest};
use prost_types::Timestamp;
use serde_json::{Value, json};

use crate::flags::vietnam;
use crate::lang::{self, tr};
use crate::output::{self, ViewFormat as Format};
use crate::query::Common;
use crate::{out, rpc};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  p06 audit --province 52\n  p06 audit --province 64 --edition 2024 --from 2025-03-01 --action LOCK\n  p06 audit --province 52 --agency police --limit 20 --format json"
)]
pub struct AuditArgs {
    #[command(flatten)]
    common: Common,
    /// Records from the start of this day (Vietnam time), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    from: Option<NaiveDate>,
    /// Records up to the end of this day (Vietnam time), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    to: Option<NaiveDate>,
    /// Only this action.
    #[arg(long, value_name = "ACTION", value_parser = ["FLAG_RAISED", "FLAG_RESOLVED", "FLAG_ARCHIVED", "LOCK", "UNLOCK", "OBLIGATION_SET"], ignore_case = true)]
    action: Option<String>,
    /// Only records about this agency: police, health or justice.
    #[arg(long, value_name = "AGENCY", value_parser = ["police", "health", "justice"])]
    agency: Option<String>,
    /// At most this many records, newest first.
    #[arg(long, value_name = "N", default_value_t = 200)]
    limit: usize,
}

/// The first instant of `day` in Vietnam.
fn start_of(day: NaiveDate) -> Timestamp {
    let local = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    let instant = vietnam()
        .from_local_datetime(&local)
        .single()
        .expect("a fixed offset has no gaps");
    timestamp(instant.to_utc())
}

pub async fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let c = &args.common;
    if let (Some(from), Some(to)) = (args.from, args.to)
        && to < from
    {
        crate::bail_user!(
            vi: "--to {to} trước --from {from}";
            en: "--to {to} is before --from {from}"
        );
    }
    let mut client = c.client().await?;
    let mut records: Vec<AuditRecord> = Vec::new();
    let mut page_token = String::new();
    while records.len() < args.limit {
        let page = client
            .list_audit_records(c.connection.request(ListAuditRecordsRequest {
                province: c.locality(&c.province),
                from: args.from.map(start_of),
                to: args.to.and_then(|d| d.succ_opt()).map(start_of),
                action: args.action.clone().unwrap_or_default().to_ascii_uppercase(),
                agency: args.agency.clone().unwrap_or_default(),
                page_size: (args.limit - records.len()).min(1_000) as i32,
                page_token: page_token.clone(),
            })?)
            .await
            .map_err(c.refused(rpc::LIST_AUDIT_RECORDS))?
            .into_inner();
        records.extend(page.records);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let rows: Vec<Value> = records.iter().map(record_json).collect();
    match c.format {
        Format::Json => output::json(&Value::Array(rows)),
        Format::Csv | Format::Xlsx => c.records(tr("Nhật ký", "Audit"), COLUMNS, &rows),
        Format::Table => {
            if records.is_empty() {
                out!(
                    "{}",
                    tr("Không có bản ghi nhật ký nào.", "No audit records.")
                );
                return Ok(());
            }
            let mut table = vec![
                tr(
                    [
                        "thời điểm",
                        "thao tác",
                        "đối tượng",
                        "cơ quan",
                        "người thực hiện",
                        "chi tiết",
                    ],
                    ["time", "action", "subject", "agency", "actor", "details"],
                )
                .map(String::from)
                .to_vec(),
            ];
            for r in &records {
                table.push(vec![
                    r.time
                        .as_ref()
                        .and_then(from_timestamp)
                        .map(|t| lang::date_time(t.with_timezone(&vietnam()).naive_local()))
                        .unwrap_or_default(),
                    action_words(&r.action),
                    r.subject.clone(),
                    if r.agency.is_empty() {
                        tr("tất cả", "all").to_owned()
                    } else {
                        lang::agency(&r.agency)
                    },
                    r.actor.clone(),
                    r.details.chars().take(80).collect(),
                ]);
            }
            output::table(&table)?;
            Ok(())
        }
    }
}

const COLUMNS: &[&str] = &[
    "id", "time", "action", "subject", "agency", "actor", "details",
];

fn record_json(r: &AuditRecord) -> Value {
    json!({
        "id": r.id,
        "time": r.time.as_ref().and_then(from_timestamp).map(|t| t.to_rfc3339()),
        "action": r.action, "subject": r.subject, "agency": r.agency, "actor": r.actor, "details": r.details,
    })
}

/// An audited action in the reader's language.
fn action_words(action: &str) -> String {
    let (vi, en) = match action {
        "FLAG_RAISED" => ("gắn cờ", "flag raised"),
        "FLAG_RESOLVED" => ("gỡ cờ", "flag resolved"),
        "FLAG_ARCHIVED" => ("lưu trữ cờ", "flag archived"),
        "LOCK" => ("khoá kỳ", "period locked"),
        "UNLOCK" => ("mở khoá kỳ", "period unlocked"),
        "OBLIGATION_SET" => ("đặt nghĩa vụ", "obligation set"),
        other => return other.to_owned(),
    };
    tr(vi, en).to_owned()
}
