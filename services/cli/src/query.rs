//! Task-force figures: status, progress, districts (compliance and flags: `flags.rs`).

use chrono::NaiveDate;
use p06_kit::convert::{date_from_proto, date_to_proto};
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    ListLocalityProgressRequest, LocalityLevel, LocalityProgress, SummarizeChildrenRequest,
};
use p06_proto::common::{CalendarDate, LocalityRef};
use serde_json::{Value, json};

use crate::client::Connection;
use crate::lang::{self, tr};
use crate::output::{self, ViewFormat as Format, count, opt_number, opt_percent};
use crate::{out, rpc};

#[derive(Debug, clap::Args)]
pub struct Common {
    #[command(flatten)]
    pub connection: Connection,
    /// Output format: table (in --lang), json or csv (stable codes, ISO dates), or xlsx (a
    /// workbook, with -o FILE).
    #[arg(long, value_enum, default_value = "table", value_name = "FORMAT")]
    pub format: Format,
    /// The workbook to write with --format xlsx, e.g. -o tinh-hinh.xlsx.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Province code in --edition, e.g. 52 (see `p06 localities`).
    #[arg(long, value_name = "CODE")]
    pub province: String,
    /// The date the figures are as of, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
}

impl Common {
    pub fn locality(&self, code: &str) -> Option<LocalityRef> {
        Some(LocalityRef {
            edition: self.connection.edition.clone(),
            code: code.to_owned(),
        })
    }

    pub async fn client(
        &self,
    ) -> anyhow::Result<TaskForceServiceClient<tonic::transport::Channel>> {
        Ok(TaskForceServiceClient::new(
            self.connection.channel(&self.connection.server).await?,
        ))
    }

    /// CSV on stdout, or the workbook of --format xlsx: the same columns and records.
    pub fn records(&self, view: &str, columns: &[&str], records: &[Value]) -> anyhow::Result<()> {
        match self.format {
            Format::Xlsx => {
                let as_of = self
                    .as_of
                    .map_or_else(|| tr("hôm nay", "today").to_owned(), lang::date);
                let title = tr(
                    format!(
                        "{view} — tỉnh {} (bộ mã {}) — {as_of}",
                        self.province, self.connection.edition
                    ),
                    format!(
                        "{view} — province {} (edition {}) — {as_of}",
                        self.province, self.connection.edition
                    ),
                );
                crate::export::write(self.output.as_deref(), view, &title, columns, records)
            }
            _ => output::csv(columns, records),
        }
    }

    /// Turns a refusal of `path` into words naming what to do (see [`Connection::refused`]).
    pub fn refused(&self, path: &'static str) -> impl FnOnce(tonic::Status) -> anyhow::Error + '_ {
        self.connection.refused(path, Some(&self.province))
    }
}

pub fn date(d: Option<NaiveDate>) -> Option<CalendarDate> {
    d.map(date_to_proto)
}

/// An ISO date for JSON/CSV, `null` when absent.
pub fn iso_date(d: Option<&CalendarDate>) -> Value {
    date_from_proto(d).map_or(Value::Null, |d| json!(d.format("%Y-%m-%d").to_string()))
}

/// A date in the output language, "—" when absent.
pub fn shown_date(d: Option<&CalendarDate>) -> String {
    date_from_proto(d).map_or_else(|| "—".into(), lang::date)
}

pub fn progress_json(r: &LocalityProgress) -> Value {
    let l = r.locality.clone().unwrap_or_default();
    let mut record = json!({
        "code": l.code, "name": l.name, "parent_code": l.parent_code,
        "value": count(r.value), "target": count(r.target), "percent_of_target": r.percent_of_target,
        "denominator_value": count(r.denominator_value), "percent_of_denominator": r.percent_of_denominator,
        "change": count(r.change), "rank": r.rank, "as_of": iso_date(r.as_of.as_ref()),
        "split_units": r.split_units, "uncarried_units": r.uncarried_units,
    });
    if let Value::Object(record) = &mut record {
        crate::pace::csv_fields(r.pace.as_ref(), record);
    }
    record
}

const PROGRESS_COLUMNS: &[&str] = &[
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

/// `--known-at`: the figures as known at an instant (a meeting's, reproduced later).
#[derive(Debug, clap::Args)]
pub struct KnownAt {
    /// Count only report revisions received by this instant, in the province's time zone, e.g.
    /// "2025-03-21 17:00" (the figures shown at that meeting; default: every revision).
    #[arg(long, value_name = "TIME", value_parser = crate::pace::parse_known_at)]
    pub known_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl KnownAt {
    pub fn timestamp(&self) -> Option<prost_types::Timestamp> {
        self.known_at.map(p06_kit::convert::timestamp)
    }
}

/// "+1.234" / "-56" / "0".
pub fn signed(change: Option<f64>) -> String {
    match change {
        Some(c) if c > 0.0 => format!("+{}", lang::figure(c)),
        other => opt_number(other),
    }
}

fn progress_table(rows: &[LocalityProgress]) -> std::io::Result<()> {
    let mut table = vec![
        tr(
            [
                "#",
                "mã",
                "địa bàn",
                "giá trị",
                "chỉ tiêu",
                "% chỉ tiêu",
                "mẫu số",
                "% mẫu số",
                "thay đổi",
                "số liệu ngày",
            ],
            [
                "#",
                "code",
                "locality",
                "value",
                "target",
                "% of target",
                "denominator",
                "% of denominator",
                "change",
                "figures of",
            ],
        )
        .map(String::from)
        .to_vec(),
    ];
    table[0].extend(crate::pace::headers().map(String::from));
    for r in rows {
        let l = r.locality.clone().unwrap_or_default();
        table.push(vec![
            if r.rank > 0 {
                r.rank.to_string()
            } else {
                "—".into()
            },
            l.code,
            l.name,
            opt_number(r.value),
            opt_number(r.target),
            opt_percent(r.percent_of_target),
            opt_number(r.denominator_value),
            opt_percent(r.percent_of_denominator),
            signed(r.change),
            shown_date(r.as_of.as_ref()),
        ]);
        if let Some(row) = table.last_mut() {
            row.extend(crate::pace::cells(r.pace.as_ref()));
        }
    }
    output::table(&table)
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  p06 progress --province 52 --indicator vneid.l2.activated --below 50\n  p06 progress --province 64 --edition 2024 --as-of 2025-03-23 --parent 626 --indicator vneid.l2.activated --format csv\n  p06 progress --province 64 --edition 2024 --as-of 2025-03-23 --level district --indicator cccd.cards.issued\n  p06 progress --province 52 --indicator vneid.l2.activated --pace off-track --pace at-risk\n  p06 progress --province 64 --edition 2024 --as-of 2025-03-23 --indicator vneid.l2.activated --known-at 2025-03-24T17:00"
)]
pub struct ProgressArgs {
    #[command(flatten)]
    common: Common,
    /// Indicator code, e.g. vneid.l2.activated (see `p06 indicators`).
    #[arg(long, value_name = "CODE")]
    indicator: String,
    /// List the localities under this one, e.g. district 626 (default: the province).
    #[arg(long, value_name = "CODE")]
    parent: Option<String>,
    /// Which level to list: province, district or commune.
    #[arg(long, default_value = "commune", value_parser = ["province", "district", "commune"], value_name = "LEVEL")]
    level: String,
    /// Only localities below this percent of target, e.g. 50.
    #[arg(long, value_name = "PERCENT")]
    below: Option<f64>,
    /// Only localities at or above this percent of target, e.g. 100.
    #[arg(long, value_name = "PERCENT")]
    above: Option<f64>,
    /// Only localities without data.
    #[arg(long)]
    no_data: bool,
    /// Also show each locality's change since this date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    compare_to: Option<NaiveDate>,
    /// Only localities whose pace to target is this (repeatable): met, on-track, at-risk,
    /// off-track or no-trend, e.g. --pace off-track.
    #[arg(long = "pace", value_name = "STATUS", value_parser = crate::pace::parse_status)]
    pace: Vec<p06_proto::aggregation::PaceStatus>,
    #[command(flatten)]
    known: KnownAt,
}

pub async fn progress(args: ProgressArgs) -> anyhow::Result<()> {
    let c = &args.common;
    crate::catalog::check_indicator_codes(&c.connection, std::slice::from_ref(&args.indicator))
        .await?;
    let mut client = c.client().await?;
    let parent = args.parent.clone().unwrap_or_else(|| c.province.clone());
    let level = match args.level.as_str() {
        "province" => LocalityLevel::Province,
        "district" => LocalityLevel::District,
        _ => LocalityLevel::Commune,
    };
    let mut rows = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_locality_progress(c.connection.request(ListLocalityProgressRequest {
                indicator_code: args.indicator.clone(),
                parent: c.locality(&parent),
                level: level as i32,
                below_percent: args.below,
                above_percent: args.above,
                only_no_data: args.no_data,
                order: 0,
                as_of: date(c.as_of),
                compare_to: date(args.compare_to),
                page_size: 1_000,
                page_token: page_token.clone(),
                pace_statuses: args.pace.iter().map(|s| *s as i32).collect(),
                known_at: args.known.timestamp(),
                pace_weeks: 0,
            })?)
            .await
            .map_err(c.refused(rpc::LIST_LOCALITY_PROGRESS))?
            .into_inner();
        rows.extend(page.rows);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    match c.format {
        Format::Json => output::json(&Value::Array(rows.iter().map(progress_json).collect())),
        Format::Csv | Format::Xlsx => c.records(
            tr("Tiến độ", "Progress"),
            PROGRESS_COLUMNS,
            &rows.iter().map(progress_json).collect::<Vec<_>>(),
        ),
        Format::Table => {
            if rows.is_empty() {
                out!(
                    "{}",
                    tr(
                        "Không có địa bàn nào khớp điều kiện lọc (--below/--above/--no-data) ở ngày này.",
                        "No locality matches the filters (--below/--above/--no-data) on this date."
                    )
                );
                return Ok(());
            }
            progress_table(&rows)?;
            Ok(())
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example (districts exist in the three-tier edition 2024 only):\n  p06 districts --province 64 --edition 2024 --as-of 2025-03-23 --indicator vneid.l2.activated --threshold 50"
)]
pub struct DistrictsArgs {
    #[command(flatten)]
    common: Common,
    /// Indicator code, e.g. vneid.l2.activated (see `p06 indicators`).
    #[arg(long, value_name = "CODE")]
    indicator: String,
    /// Percent of target below which a commune counts as lagging, e.g. 50.
    #[arg(long, default_value_t = 50.0, value_name = "PERCENT")]
    threshold: f64,
    #[command(flatten)]
    known: KnownAt,
}

pub async fn districts(args: DistrictsArgs) -> anyhow::Result<()> {
    let c = &args.common;
    crate::catalog::check_indicator_codes(&c.connection, std::slice::from_ref(&args.indicator))
        .await?;
    let response = c
        .client()
        .await?
        .summarize_children(c.connection.request(SummarizeChildrenRequest {
            indicator_code: args.indicator.clone(),
            parent: c.locality(&c.province),
            threshold_percent: args.threshold,
            as_of: date(c.as_of),
            known_at: args.known.timestamp(),
        })?)
        .await
        .map_err(c.refused(rpc::SUMMARIZE_CHILDREN))?
        .into_inner();
    let records: Vec<Value> = response
        .children
        .iter()
        .map(|s| {
            let mut r = progress_json(&s.child.clone().unwrap_or_default());
            r["below_threshold"] = json!(s.below_threshold);
            r["total"] = json!(s.total);
            r["with_target"] = json!(s.with_target);
            r["without_data"] = json!(s.without_data);
            r
        })
        .collect();
    match c.format {
        Format::Json => output::json(&Value::Array(records)),
        Format::Csv | Format::Xlsx => c.records(
            tr("Huyện", "Districts"),
            &[
                "code",
                "name",
                "below_threshold",
                "total",
                "with_target",
                "without_data",
                "value",
                "target",
                "percent_of_target",
            ],
            &records,
        ),
        Format::Table => {
            let threshold = lang::number(args.threshold, 0);
            let mut table = vec![vec![
                tr("mã", "code").to_owned(),
                tr("đơn vị", "unit").to_owned(),
                tr(
                    format!("xã dưới {threshold} % chỉ tiêu"),
                    format!("communes below {threshold} % of target"),
                ),
                tr("giá trị", "value").to_owned(),
                tr("chỉ tiêu", "target").to_owned(),
                tr("% chỉ tiêu", "% of target").to_owned(),
                tr("chưa có số liệu", "without data").to_owned(),
            ]];
            let two_tiers = c
                .connection
                .edition
                .parse::<p06_domain::locality::Edition>()
                .is_ok_and(|e| !e.has_districts());
            if two_tiers {
                out!(
                    "{}",
                    tr(
                        format!(
                            "Ấn bản {} có hai cấp, không có cấp huyện: các dòng dưới đây là từng xã. \
                             Xếp hạng xã: p06 progress --province {} --indicator {} --below {threshold}",
                            c.connection.edition, c.province, args.indicator
                        ),
                        format!(
                            "Edition {} has two tiers and no districts: the rows below are communes. \
                             To rank them: p06 progress --province {} --indicator {} --below {threshold}",
                            c.connection.edition, c.province, args.indicator
                        ),
                    )
                );
            }
            let mut sorted = response.children.clone();
            sorted.sort_by_key(|s| std::cmp::Reverse(s.below_threshold));
            for s in &sorted {
                let child = s.child.clone().unwrap_or_default();
                let l = child.locality.unwrap_or_default();
                table.push(vec![
                    l.code,
                    l.name,
                    if s.with_target == 0 {
                        "—".into()
                    } else {
                        format!("{}/{}", s.below_threshold, s.total)
                    },
                    opt_number(child.value),
                    opt_number(child.target),
                    opt_percent(child.percent_of_target),
                    s.without_data.to_string(),
                ]);
            }
            output::table(&table)?;
            Ok(())
        }
    }
}
