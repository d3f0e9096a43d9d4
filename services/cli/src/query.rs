//! Task-force commands: status, progress, districts, compliance, flags.

use chrono::NaiveDate;
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    Flag, GetComplianceBoardRequest, GetConsolidatedStatusRequest, ListFlagsRequest,
    ListLocalityProgressRequest, LocalityLevel, LocalityProgress, SummarizeChildrenRequest,
    WatchFlagsRequest,
};
use p06_proto::common::{CalendarDate, LocalityRef};
use serde_json::{Value, json};

use crate::client::{Connection, explain};
use crate::output::{self, Format, opt_number, opt_percent};

#[derive(Debug, clap::Args)]
pub struct Common {
    #[command(flatten)]
    pub connection: Connection,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Province code, e.g. 64.
    #[arg(long)]
    pub province: String,
    /// Date the figures are as of (default: today).
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

impl Common {
    fn locality(&self, code: &str) -> Option<LocalityRef> {
        Some(LocalityRef {
            edition: self.connection.edition.clone(),
            code: code.to_owned(),
        })
    }

    async fn client(&self) -> anyhow::Result<TaskForceServiceClient<tonic::transport::Channel>> {
        Ok(TaskForceServiceClient::new(
            self.connection.channel(&self.connection.server).await?,
        ))
    }
}

fn date(d: Option<NaiveDate>) -> Option<CalendarDate> {
    d.map(date_to_proto)
}

fn show_date(d: Option<&CalendarDate>) -> Value {
    d.map_or(Value::Null, |d| {
        json!(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
    })
}

fn progress_json(r: &LocalityProgress) -> Value {
    let l = r.locality.clone().unwrap_or_default();
    json!({
        "code": l.code, "name": l.name, "parent_code": l.parent_code,
        "value": r.value, "target": r.target, "percent_of_target": r.percent_of_target,
        "denominator_value": r.denominator_value, "percent_of_denominator": r.percent_of_denominator,
        "change": r.change, "rank": r.rank, "as_of": show_date(r.as_of.as_ref()),
    })
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
];

fn progress_table(rows: &[LocalityProgress]) {
    let mut table = vec![
        [
            "#",
            "mã",
            "địa bàn",
            "giá trị",
            "chỉ tiêu",
            "% chỉ tiêu",
            "% mẫu số",
            "thay đổi",
        ]
        .map(String::from)
        .to_vec(),
    ];
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
            opt_number(r.value, 0),
            opt_number(r.target, 0),
            opt_percent(r.percent_of_target),
            opt_percent(r.percent_of_denominator),
            opt_number(r.change, 0),
        ]);
    }
    output::table(&table);
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    common: Common,
    /// A district or commune instead of the whole province.
    #[arg(long)]
    locality: Option<String>,
    /// Only these indicators (repeatable).
    #[arg(long = "indicator")]
    indicators: Vec<String>,
    /// Also report the change since this date.
    #[arg(long)]
    compare_to: Option<NaiveDate>,
    #[arg(long, default_value_t = 5)]
    lowest: i32,
}

pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let code = args.locality.clone().unwrap_or_else(|| c.province.clone());
    let response = c
        .client()
        .await?
        .get_consolidated_status(c.connection.request(GetConsolidatedStatusRequest {
            locality: c.locality(&code),
            as_of: date(c.as_of),
            indicator_codes: args.indicators.clone(),
            compare_to: date(args.compare_to),
            lowest_count: args.lowest,
            flow_from: None,
        })?)
        .await
        .map_err(explain)?
        .into_inner();
    let records: Vec<Value> = response
        .indicators
        .iter()
        .map(|i| {
            json!({
                "indicator_code": i.indicator_code, "name_vi": i.name_vi, "name_en": i.name_en,
                "value": i.value, "target": i.target, "percent_of_target": i.percent_of_target,
                "denominator_code": i.denominator_code, "denominator_value": i.denominator_value,
                "percent_of_denominator": i.percent_of_denominator, "change": i.change,
                "localities_meeting_target": i.localities_meeting_target, "localities_with_target": i.localities_with_target,
                "localities_reporting": i.localities_reporting, "localities_expected": i.localities_expected,
                "localities_without_data": i.localities_without_data, "locality_completeness": i.locality_completeness,
                "oldest_as_of": show_date(i.oldest_as_of.as_ref()), "reports_included": i.reports_included,
                "lowest": i.lowest.iter().map(progress_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    match c.format {
        Format::Json => {
            let l = response.locality.unwrap_or_default();
            output::json(&json!({
                "locality": {"edition": l.edition, "code": l.code, "name": l.name},
                "as_of": show_date(response.as_of.as_ref()),
                "indicators": records,
            }))
        }
        Format::Csv => output::csv(
            &[
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
            ],
            &records,
        ),
        Format::Table => {
            let l = response.locality.unwrap_or_default();
            println!(
                "{} — số liệu đến ngày {}",
                l.name,
                show_date(response.as_of.as_ref()).as_str().unwrap_or("?")
            );
            let mut table = vec![
                [
                    "chỉ tiêu",
                    "giá trị",
                    "% chỉ tiêu",
                    "% mẫu số",
                    "thay đổi",
                    "đạt/có chỉ tiêu",
                    "có số liệu",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for i in &response.indicators {
                table.push(vec![
                    i.name_vi.clone(),
                    opt_number(i.value, 0),
                    opt_percent(i.percent_of_target),
                    opt_percent(i.percent_of_denominator),
                    opt_number(i.change, 0),
                    format!(
                        "{}/{}",
                        i.localities_meeting_target, i.localities_with_target
                    ),
                    format!("{}/{}", i.localities_reporting, i.localities_expected),
                ]);
            }
            output::table(&table);
            Ok(())
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ProgressArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    indicator: String,
    /// List the localities under this one (default: the province).
    #[arg(long)]
    parent: Option<String>,
    /// Which level to list.
    #[arg(long, default_value = "commune", value_parser = ["province", "district", "commune"])]
    level: String,
    /// Only localities below this percent of target.
    #[arg(long)]
    below: Option<f64>,
    #[arg(long)]
    above: Option<f64>,
    /// Only localities without data.
    #[arg(long)]
    no_data: bool,
    #[arg(long)]
    compare_to: Option<NaiveDate>,
}

pub async fn progress(args: ProgressArgs) -> anyhow::Result<()> {
    let c = &args.common;
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
            })?)
            .await
            .map_err(explain)?
            .into_inner();
        rows.extend(page.rows);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    match c.format {
        Format::Json => output::json(&Value::Array(rows.iter().map(progress_json).collect())),
        Format::Csv => output::csv(
            PROGRESS_COLUMNS,
            &rows.iter().map(progress_json).collect::<Vec<_>>(),
        ),
        Format::Table => {
            progress_table(&rows);
            Ok(())
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct DistrictsArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    indicator: String,
    /// Percent of target below which a commune counts as lagging.
    #[arg(long, default_value_t = 50.0)]
    threshold: f64,
}

pub async fn districts(args: DistrictsArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let response = c
        .client()
        .await?
        .summarize_children(c.connection.request(SummarizeChildrenRequest {
            indicator_code: args.indicator.clone(),
            parent: c.locality(&c.province),
            threshold_percent: args.threshold,
            as_of: date(c.as_of),
        })?)
        .await
        .map_err(explain)?
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
        Format::Csv => output::csv(
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
            let mut table = vec![
                [
                    "mã",
                    "đơn vị",
                    "dưới ngưỡng",
                    "giá trị",
                    "% chỉ tiêu",
                    "chưa có số liệu",
                ]
                .map(String::from)
                .to_vec(),
            ];
            let mut sorted = response.children.clone();
            sorted.sort_by_key(|s| std::cmp::Reverse(s.below_threshold));
            for s in &sorted {
                let child = s.child.clone().unwrap_or_default();
                let l = child.locality.unwrap_or_default();
                table.push(vec![
                    l.code,
                    l.name,
                    format!("{}/{}", s.below_threshold, s.total),
                    opt_number(child.value, 0),
                    opt_percent(child.percent_of_target),
                    s.without_data.to_string(),
                ]);
            }
            output::table(&table);
            Ok(())
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ComplianceArgs {
    #[command(flatten)]
    common: Common,
    /// Periods ending from this date (default: 30 days before --as-of).
    #[arg(long)]
    from: Option<NaiveDate>,
    #[arg(long)]
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
        .map_err(explain)?
        .into_inner();
    let records: Vec<Value> = board
        .obligations
        .iter()
        .map(|o| {
            json!({
                "obligation": o.obligation, "agency": o.agency, "expected": o.expected, "received": o.received,
                "on_time": o.on_time, "late": o.late, "missing": o.missing, "pending": o.pending, "vague": o.vague,
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
        Format::Csv => output::csv(
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
                [
                    "nghĩa vụ báo cáo",
                    "cơ quan",
                    "phải nộp",
                    "đã nộp",
                    "đúng hạn",
                    "trễ",
                    "thiếu",
                    "chung chung",
                    "trễ nhất",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for o in &board.obligations {
                table.push(vec![
                    o.obligation.clone(),
                    o.agency.clone(),
                    o.expected.to_string(),
                    o.received.to_string(),
                    o.on_time.to_string(),
                    o.late.to_string(),
                    o.missing.to_string(),
                    o.vague.to_string(),
                    o.worst_lateness
                        .as_ref()
                        .map_or("—".into(), |d| crate::query::hours(d.seconds)),
                ]);
            }
            output::table(&table);
            println!("\n{} cờ cảnh báo đang mở", board.open_flags.len());
            Ok(())
        }
    }
}

/// A lateness in hours, or in days beyond two days.
pub fn hours(seconds: i64) -> String {
    if seconds > 2 * 86_400 {
        format!("{} ngày", output::number(seconds as f64 / 86_400.0, 1))
    } else {
        format!("{} giờ", output::number(seconds as f64 / 3_600.0, 1))
    }
}

fn flag_json(f: &Flag) -> Value {
    let period = f.period.unwrap_or_default();
    json!({
        "name": f.name, "kind": f.kind, "state": f.state, "agency": f.agency, "obligation": f.obligation,
        "period_start": show_date(period.start.as_ref()), "period_end": show_date(period.end.as_ref()),
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

#[derive(Debug, clap::Args)]
pub struct FlagsArgs {
    #[command(flatten)]
    common: Common,
    #[arg(long)]
    kind: Option<String>,
    /// OPEN or RESOLVED.
    #[arg(long)]
    state: Option<String>,
    #[arg(long)]
    agency: Option<String>,
    /// Keep running and print flags as they are raised.
    #[arg(long)]
    watch: bool,
}

pub async fn flags(args: FlagsArgs) -> anyhow::Result<()> {
    let c = &args.common;
    let mut client = c.client().await?;
    if args.watch {
        let mut stream = client
            .watch_flags(c.connection.request(WatchFlagsRequest {
                province: c.locality(&c.province),
                kind: args.kind.clone().unwrap_or_default(),
                include_open: true,
            })?)
            .await
            .map_err(explain)?
            .into_inner();
        while let Some(flag) = stream.message().await.map_err(explain)? {
            match c.format {
                Format::Table => println!(
                    "{}  {:<17} {:<8} {}  {}",
                    flag.name, flag.kind, flag.agency, flag.obligation, flag.message
                ),
                _ => println!("{}", flag_json(&flag)),
            }
        }
        return Ok(());
    }
    let response = client
        .list_flags(c.connection.request(ListFlagsRequest {
            province: c.locality(&c.province),
            kind: args.kind.clone().unwrap_or_default(),
            state: args.state.clone().unwrap_or_default(),
            agency: args.agency.clone().unwrap_or_default(),
            page_size: 1_000,
            page_token: String::new(),
        })?)
        .await
        .map_err(explain)?
        .into_inner();
    let records: Vec<Value> = response.flags.iter().map(flag_json).collect();
    match c.format {
        Format::Json => output::json(&Value::Array(records)),
        Format::Csv => output::csv(FLAG_COLUMNS, &records),
        Format::Table => {
            let mut table = vec![
                [
                    "cờ",
                    "loại",
                    "trạng thái",
                    "cơ quan",
                    "nghĩa vụ",
                    "nội dung",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for f in &response.flags {
                table.push(vec![
                    f.name.clone(),
                    f.kind.clone(),
                    f.state.clone(),
                    f.agency.clone(),
                    f.obligation.clone(),
                    f.message.clone(),
                ]);
            }
            output::table(&table);
            Ok(())
        }
    }
}
