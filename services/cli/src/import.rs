//! `p06 targets import` and `p06 submit`: the agencies' spreadsheets, as CSV, into the exchange.

use std::path::PathBuf;

use chrono::{Datelike as _, NaiveDate};
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::{Receipt, RevisionMode, Target, UpsertTargetsRequest};
use p06_proto::common::{LocalityRef, Narrative};
use serde_json::json;

use p06_proto::aggregation::LocalityLevel;
use p06_workbook::{Record, Value};

use crate::client::Connection;
use crate::error::user;
use crate::flags::flag_message;
use crate::lang::{self, tr};
use crate::output::{self, Format};
use crate::sheet;
use crate::{out, rpc};

/// Targets per call; a province's every commune × indicator fits in a few calls.
const TARGET_BATCH: usize = 5_000;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The file, either form:\n  - the workbook of `p06 template targets` (one row per locality, one column per indicator,\n    the due date on its information sheet or --due-date), or a sheet made by hand like it;\n  - one target per row (CSV or a sheet; locality codes of --edition):\n      indicator_code,locality_code,due_date,value\n      vneid.l2.activated,23680,2025-06-30,2068\nEvery problem is named by its cell and nothing is imported while any remains.\n\nExample (needs a taskforce-admin token):\n  p06 targets import chi-tieu.xlsx"
)]
pub struct TargetsImportArgs {
    #[command(flatten)]
    connection: Connection,
    /// A workbook (xlsx, xls, ods) or CSV of targets (see below).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The workbook's sheet of targets (default: the first sheet).
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
    /// A "Tổng cộng" (totals) row: check it against the sum of the rows (default), or ignore it.
    /// Either way it is never taken for a locality.
    #[arg(long, value_enum, default_value = "check", value_name = "check|ignore")]
    totals: TotalsArg,
    /// The due date of a sheet with one column per indicator, YYYY-MM-DD (default: the template's).
    #[arg(long, value_name = "DATE")]
    due_date: Option<NaiveDate>,
    /// The province whose localities the targets are for (default: the template's, else the
    /// token's).
    #[arg(long, value_name = "CODE")]
    province: Option<String>,
}

/// The targets of a file, every problem named by its cell.
async fn read_targets(args: &TargetsImportArgs) -> anyhow::Result<(Vec<u8>, Vec<Target>)> {
    use p06_workbook::{Column, Kind, Problem, Schema};
    let c = &args.connection;
    let progress = sheet::spinner(tr("đọc bảng tính…", "reading the workbook…"));
    let (bytes, book) = sheet::open(&args.file)?;
    let grid = sheet::data_sheet(&args.file, &book, args.sheet.as_deref())?;
    let info = sheet::info(&book, grid);
    let indicators = crate::catalog::list_indicators(c, None).await?;
    let mut problems = Vec::new();
    let long = Schema {
        key: sheet::key_column(),
        columns: vec![
            Column::new("indicator_code", Kind::Text, &["Mã chỉ số", "Chỉ số"]),
            Column::new("due_date", Kind::Date, &["Hạn chỉ tiêu", "Hạn"]),
            Column::new("value", Kind::Number, &["Chỉ tiêu", "Giá trị"]),
        ],
        ignored: sheet::IGNORED.iter().map(|s| (*s).to_owned()).collect(),
        unique: None,
    };
    let mut table = p06_workbook::read_table_with(grid, &long, args.totals.workbook());
    let is_long = table.columns.iter().any(|(k, _)| k == "indicator_code")
        && table.columns.iter().any(|(k, _)| k == "value");
    if !is_long {
        let wide = Schema {
            key: sheet::key_column(),
            columns: indicators
                .iter()
                .map(|i| Column {
                    key: i.code.clone(),
                    labels: vec![i.code.clone(), i.name_vi.clone(), i.name_en.clone()],
                    kind: Kind::Number,
                })
                .collect(),
            ignored: sheet::IGNORED.iter().map(|s| (*s).to_owned()).collect(),
            unique: Some(("đơn vị".into(), "unit".into())),
        };
        table = p06_workbook::read_table_with(grid, &wide, args.totals.workbook());
    }
    problems.append(&mut table.problems);
    let due = match args.due_date {
        Some(d) => Some(d),
        None => sheet::info_date(&info, "due_date", &mut problems),
    };
    if !is_long && due.is_none() && table.header_row.is_some() {
        return Err(user(tr(
            format!(
                "{}: bảng chỉ tiêu theo cột cần hạn chỉ tiêu: thêm --due-date YYYY-MM-DD (mẫu của `p06 template targets` có ghi)",
                args.file.display()
            ),
            format!(
                "{}: a sheet with one column per indicator needs the due date: add --due-date YYYY-MM-DD (the `p06 template targets` workbook has it)",
                args.file.display()
            ),
        )));
    }
    let province = args
        .province
        .clone()
        .or_else(|| sheet::info_text(&info, "province"))
        .or_else(|| c.claims().map(|claims| claims.province));
    progress.set_message(tr(
        "đối chiếu địa bàn với danh mục…",
        "checking the localities against the catalog…",
    ));
    if let Some(province) = &province {
        let mut known = sheet::localities(c, province, LocalityLevel::Unspecified).await?;
        known.extend(
            sheet::localities(c, "", LocalityLevel::Province)
                .await?
                .into_iter()
                .filter(|p| &p.code == province),
        );
        sheet::resolve_codes(
            &mut table.records,
            &known,
            province,
            LocalityLevel::Unspecified,
            &mut problems,
        );
    }
    progress.finish_and_clear();
    let locality = |code: &str| {
        Some(LocalityRef {
            edition: c.edition.clone(),
            code: code.to_owned(),
        })
    };
    let mut targets = Vec::new();
    for record in &table.records {
        if is_long {
            let code = match record.get("indicator_code") {
                Some(Value::Text(code)) => code.clone(),
                _ => String::new(),
            };
            if !indicators.iter().any(|i| i.code == code) {
                let cell = record
                    .cell("indicator_code")
                    .unwrap_or(&record.key_cell)
                    .clone();
                problems.push(Problem::other(
                    cell,
                    format!("không có chỉ số {code:?} trong danh mục (xem `p06 indicators`)"),
                    format!("no indicator {code:?} in the catalog (see `p06 indicators`)"),
                ));
                continue;
            }
            let (Some(Value::Date(due)), Some(value)) = (
                record.get("due_date"),
                record.get("value").and_then(Value::as_f64),
            ) else {
                problems.push(Problem::other(
                    record.key_cell.clone(),
                    "dòng chỉ tiêu cần đủ due_date và value",
                    "a target row needs both due_date and value",
                ));
                continue;
            };
            targets.push(Target {
                indicator_code: code,
                locality: locality(&record.key),
                due_date: Some(date_to_proto(*due)),
                value,
                update_time: None,
            });
        } else if let Some(due) = due {
            for (code, (value, _)) in &record.values {
                if let Some(value) = value.as_f64() {
                    targets.push(Target {
                        indicator_code: code.clone(),
                        locality: locality(&record.key),
                        due_date: Some(date_to_proto(due)),
                        value,
                        update_time: None,
                    });
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(sheet::problems_error(&args.file, problems));
    }
    if targets.is_empty() {
        return Err(user(tr(
            format!(
                "{}: không có chỉ tiêu nào (các ô đều trống)",
                args.file.display()
            ),
            format!("{}: no targets (every cell is blank)", args.file.display()),
        )));
    }
    Ok((bytes, targets))
}

pub async fn targets_import(args: TargetsImportArgs) -> anyhow::Result<()> {
    let (content, targets) = read_targets(&args).await?;
    let mut client =
        CatalogServiceClient::new(args.connection.channel(&args.connection.server).await?);
    let (mut created, mut updated) = (0, 0);
    let file_id = {
        use sha2::Digest as _;
        hex::encode(&sha2::Sha256::digest(&content)[..12])
    };
    let bar = indicatif::ProgressBar::new(targets.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(tr("chỉ tiêu", "targets"));
    for (i, batch) in targets.chunks(TARGET_BATCH).enumerate() {
        let response = client
            .upsert_targets(args.connection.request(UpsertTargetsRequest {
                // Re-running the same import is harmless: each batch keeps its request id.
                request_id: format!("import:{file_id}:{i}"),
                targets: batch.to_vec(),
            })?)
            .await
            .map_err(|status| {
                let batch = tr(
                    format!(
                        "lô {} (chỉ tiêu {}–{} của {})",
                        i + 1,
                        i * TARGET_BATCH + 1,
                        i * TARGET_BATCH + batch.len(),
                        args.file.display()
                    ),
                    format!(
                        "batch {} (targets {}–{} of {})",
                        i + 1,
                        i * TARGET_BATCH + 1,
                        i * TARGET_BATCH + batch.len(),
                        args.file.display()
                    ),
                );
                args.connection.refused(rpc::UPSERT_TARGETS, None)(status).context(batch)
            })?
            .into_inner();
        created += response.created_count;
        updated += response.updated_count;
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    out!(
        "{}",
        tr(
            format!("{created} chỉ tiêu mới, {updated} chỉ tiêu cập nhật"),
            format!("{created} targets created, {updated} updated")
        )
    );
    Ok(())
}

/// `--totals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TotalsArg {
    /// Each figure of the totals row must equal the sum of the rows.
    Check,
    /// The totals row is passed over.
    Ignore,
}

impl TotalsArg {
    pub fn workbook(self) -> p06_workbook::Totals {
        match self {
            TotalsArg::Check => p06_workbook::Totals::Check,
            TotalsArg::Ignore => p06_workbook::Totals::Ignore,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AgencyName {
    Police,
    Health,
    Justice,
}

/// `submit --help`: each agency's columns, from the agency services' own field tables.
fn submit_help() -> String {
    let mut text = String::from(
        "The CSV: a header row, then one row per locality: `locality_code` (a code of --edition inside \
         --province) and the agency's figure columns below, in any order. Leave a cell empty for \
         \"not reported\" (never 0); counts may use thousands separators (5.908 or 5,908).\n",
    );
    for (agency, fields) in [
        ("police", p06_police::FIELDS),
        ("health", p06_health::FIELDS),
        ("justice", p06_justice::FIELDS),
    ] {
        text.push_str(&format!("\n{agency} columns (column → indicator):\n"));
        for f in fields {
            let unit = if f.percent { " (%, 0–100)" } else { "" };
            text.push_str(&format!("  {:<30} {}{unit}\n", f.name, f.indicator));
        }
    }
    // This week, Monday to Sunday, in the province's time zone (Asia/Ho_Chi_Minh, UTC+7 all year).
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let monday = today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let sunday = monday + chrono::Duration::days(6);
    text.push_str(&format!(
        "\nExample, this week (needs a reporter token of the agency, see `p06 token --help`):\n  \
         p06 submit police week.csv --province 52 --obligation police-weekly-identity-52 \\\n    \
         --period-start {monday} --period-end {sunday} --assessment \"Đạt 71,1 % chỉ tiêu …\"\n\
         The obligations and their periods: `p06 obligations --province 52`.\n\n\
         A second report for the same period is a new revision. By default it replaces the earlier \
         one (--mode replace: a locality or figure left out has no value from then on). To correct \
         a few figures only, send just those rows with --mode amend: every other figure of the \
         earlier revision is kept, and the receipt says how many were carried:\n  \
         p06 submit police correction.csv --province 52 --obligation police-weekly-identity-52 \\\n    \
         --period-start {monday} --period-end {sunday} --mode amend",
    ));
    text
}

impl AgencyName {
    pub fn shared(self) -> p06_submission::Agency {
        match self {
            AgencyName::Police => p06_submission::Agency::Police,
            AgencyName::Health => p06_submission::Agency::Health,
            AgencyName::Justice => p06_submission::Agency::Justice,
        }
    }
}

/// `submit --mode`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ModeArg {
    /// The file is the whole report: what it leaves out has no value from this revision on.
    Replace,
    /// The file corrects the figures it names; every other figure of the earlier revision is kept.
    Amend,
}

impl ModeArg {
    fn proto(self) -> i32 {
        match self {
            ModeArg::Replace => RevisionMode::Replace,
            ModeArg::Amend => RevisionMode::Amend,
        }
        .into()
    }
}

#[derive(Debug, clap::Args)]
#[command(after_long_help = submit_help(), after_help = "The agencies' columns: p06 submit --help (long help).")]
pub struct SubmitArgs {
    #[command(flatten)]
    connection: Connection,
    /// The agency whose service receives the report: police, health or justice.
    #[arg(value_name = "AGENCY")]
    agency: AgencyName,
    /// The report: a workbook (xlsx, xls, ods: the template of `p06 template`, or made by hand)
    /// or CSV, one row per locality (see the columns below).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The workbook's sheet of figures (default: the first sheet).
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
    /// A "Tổng cộng" (totals) row: check it against the sum of the rows (default), or ignore it.
    /// Either way it is never taken for a locality.
    #[arg(long, value_enum, default_value = "check", value_name = "check|ignore")]
    totals: TotalsArg,
    /// The agency service's URL (default: http://127.0.0.1:50052 police, 50053 health, 50054 justice).
    #[arg(long, env = "P06_AGENCY_SERVICE", value_name = "URL")]
    service: Option<String>,
    /// Province code in --edition the report is for, e.g. 52 (default: the template's).
    #[arg(long, value_name = "CODE")]
    province: Option<String>,
    /// The reporting obligation, e.g. police-weekly-identity (see `p06 obligations`; default: the
    /// template's).
    #[arg(long, value_name = "CODE")]
    obligation: Option<String>,
    /// First day of the reporting period, YYYY-MM-DD (a Monday for weekly obligations; default:
    /// the template's).
    #[arg(long, value_name = "DATE")]
    period_start: Option<NaiveDate>,
    /// Last day of the reporting period, YYYY-MM-DD (default: the template's).
    #[arg(long, value_name = "DATE")]
    period_end: Option<NaiveDate>,
    /// Assessment against the targets (đánh giá), in words with figures.
    #[arg(long, default_value = "", value_name = "TEXT")]
    assessment: String,
    /// Obstacles met (khó khăn, vướng mắc).
    #[arg(long, default_value = "", value_name = "TEXT")]
    obstacles: String,
    /// Proposals for what is behind (đề xuất, kiến nghị).
    #[arg(long, default_value = "", value_name = "TEXT")]
    proposals: String,
    /// replace (default) or amend, when the period was reported before: replace makes this file the
    /// whole report; amend changes only the figures in the file and keeps every other figure of the
    /// earlier revision. Example: --mode amend with a CSV holding only the commune to correct.
    #[arg(long, value_enum, default_value = "replace", value_name = "MODE")]
    mode: ModeArg,
    /// Idempotency key; default: derived from the file's content, so a re-run stores nothing new.
    #[arg(long, value_name = "ID")]
    request_id: Option<String>,
    /// Output format: table, json or csv.
    #[arg(long, value_enum, default_value = "table", value_name = "FORMAT")]
    format: Format,
}

/// What a submission sends, read from the file and the command line.
struct Submission {
    records: Vec<Record>,
    province: String,
    obligation: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    narrative: Narrative,
    request_id: String,
}

/// A value from the command line, else from the workbook's information sheet, else an error
/// naming the option.
fn required<T>(value: Option<T>, option: &str) -> anyhow::Result<T> {
    value.ok_or_else(|| {
        user(tr(
            format!(
                "thiếu {option} (bảng tính không ghi giá trị này; mẫu của `p06 template` có ghi)"
            ),
            format!(
                "{option} is missing (the workbook does not say; the `p06 template` workbook does)"
            ),
        ))
    })
}

/// Reads the file, checks every row and every locality, and says every problem at once.
async fn read_submission(args: &SubmitArgs) -> anyhow::Result<Submission> {
    let progress = sheet::spinner(tr("đọc bảng tính…", "reading the workbook…"));
    let (bytes, book) = sheet::open(&args.file)?;
    let grid = sheet::data_sheet(&args.file, &book, args.sheet.as_deref())?;
    let info = sheet::info(&book, grid);
    let c = &args.connection;
    let mut problems = Vec::new();
    if let Some(edition) = sheet::info_text(&info, "edition")
        && edition != c.edition
    {
        return Err(user(tr(
            format!(
                "{}: bảng tính dùng bộ mã đơn vị hành chính {edition}, lệnh đang dùng {}; thêm --edition {edition}",
                args.file.display(),
                c.edition
            ),
            format!(
                "{}: the workbook uses the locality edition {edition}, the command {}; add --edition {edition}",
                args.file.display(),
                c.edition
            ),
        )));
    }
    let period_start = args
        .period_start
        .or_else(|| sheet::info_date(&info, "period_start", &mut problems));
    let period_end = args
        .period_end
        .or_else(|| sheet::info_date(&info, "period_end", &mut problems));
    let province = required(
        args.province
            .clone()
            .or_else(|| sheet::info_text(&info, "province")),
        "--province",
    )?;
    let obligation = required(
        args.obligation
            .clone()
            .or_else(|| sheet::info_text(&info, "obligation")),
        "--obligation",
    )?;
    let names = crate::catalog::list_indicators(c, None)
        .await?
        .into_iter()
        .map(|i| (i.code, (i.name_vi, i.name_en)))
        .collect();
    let level = crate::catalog::list_obligations(c, Some(&province))
        .await?
        .into_iter()
        .find(|o| o.code == obligation)
        .and_then(|o| p06_submission::level_of(o.level.as_str()))
        .unwrap_or(LocalityLevel::Unspecified);
    let schema = p06_submission::report_schema(args.agency.shared(), &names, level);
    progress.set_message(tr("kiểm tra từng ô…", "checking every cell…"));
    let mut table = p06_workbook::read_table_with(grid, &schema, args.totals.workbook());
    problems.append(&mut table.problems);
    progress.set_message(tr(
        "đối chiếu địa bàn với danh mục…",
        "checking the localities against the catalog…",
    ));
    let known = if level == LocalityLevel::Province {
        Vec::new()
    } else {
        sheet::localities(c, &province, level).await?
    };
    if level != LocalityLevel::Province {
        sheet::resolve_codes(&mut table.records, &known, &province, level, &mut problems);
    }
    progress.finish_and_clear();
    if !problems.is_empty() {
        return Err(sheet::problems_error(&args.file, problems));
    }
    if table.records.iter().all(|r| r.values.is_empty()) {
        return Err(user(tr(
            format!(
                "{}: trang '{}' chưa có số liệu nào (mọi ô số liệu đều trống); chưa gửi gì",
                args.file.display(),
                grid.sheet
            ),
            format!(
                "{}: sheet '{}' has no figures (every figure cell is blank); nothing was submitted",
                args.file.display(),
                grid.sheet
            ),
        )));
    }
    let period_start = required(period_start, "--period-start")?;
    let period_end = required(period_end, "--period-end")?;
    let narrative =
        p06_submission::narrative(&info, &args.assessment, &args.obstacles, &args.proposals);
    let request_id = args.request_id.clone().unwrap_or_else(|| {
        p06_submission::request_id(&bytes, &grid.sheet, matches!(args.mode, ModeArg::Amend))
    });
    Ok(Submission {
        records: table.records,
        province,
        obligation,
        period_start,
        period_end,
        narrative,
        request_id,
    })
}

pub async fn submit(args: SubmitArgs) -> anyhow::Result<()> {
    let Submission {
        records: rows,
        province: province_code,
        obligation,
        period_start,
        period_end,
        narrative,
        request_id,
    } = read_submission(&args).await?;
    let c = &args.connection;
    let head = p06_submission::Head {
        request_id,
        obligation,
        province: LocalityRef {
            edition: c.edition.clone(),
            code: province_code.clone(),
        },
        period_start,
        period_end,
        narrative,
        mode: args.mode.proto(),
    };
    let (default_url, path) = match args.agency {
        AgencyName::Police => ("http://127.0.0.1:50052", rpc::SUBMIT_IDENTITY_REPORT),
        AgencyName::Health => ("http://127.0.0.1:50053", rpc::SUBMIT_HEALTH_REPORT),
        AgencyName::Justice => ("http://127.0.0.1:50054", rpc::SUBMIT_CIVIL_STATUS_REPORT),
    };
    let report = p06_submission::agency_report(args.agency.shared(), &rows, head);
    let url = args.service.clone().unwrap_or_else(|| default_url.into());
    let channel = c.channel(&url).await?;
    let (metadata, _, ()) = c.request(())?.into_parts();
    // A refusal naming `localities[i].field` is pointed at the cell it came from.
    let receipt: Receipt = report.send(channel, metadata).await.map_err(|status| {
        let problems = sheet::violations_at_cells(&status, &rows);
        if problems.is_empty() {
            c.refused(path, Some(&province_code))(status)
        } else {
            sheet::problems_error(&args.file, problems)
        }
    })?;
    let record = json!({
        "report": receipt.report, "revision": receipt.revision, "payload_sha256": receipt.payload_sha256,
        "receive_time": receipt.receive_time.as_ref().map(|t| t.seconds), "deadline": receipt.deadline.as_ref().map(|t| t.seconds),
        "timeliness": receipt.timeliness().as_str_name(), "lateness_seconds": receipt.lateness.as_ref().map(|d| d.seconds),
        "specificity_score": receipt.specificity_score, "replayed": receipt.replayed,
        "mode": receipt.mode().as_str_name(), "carried_observations": receipt.carried_observations,
        "specificity_reasons": receipt.specificity_reasons.iter().map(|r| json!({"code": r.code, "penalty": r.penalty, "explanation_vi": r.explanation_vi, "explanation_en": r.explanation_en})).collect::<Vec<_>>(),
        "flags": receipt.flags.iter().map(|f| json!({"kind": f.kind, "message": f.message})).collect::<Vec<_>>(),
    });
    match args.format {
        Format::Json => output::json(&record),
        Format::Csv => output::csv(
            &[
                "report",
                "revision",
                "payload_sha256",
                "timeliness",
                "lateness_seconds",
                "specificity_score",
                "replayed",
                "mode",
                "carried_observations",
            ],
            &[record],
        ),
        Format::Table => {
            out!(
                "{} — {} {}, {} {}",
                receipt.report,
                tr("lần nộp", "revision"),
                receipt.revision,
                rows.len(),
                tr("dòng", "rows")
            );
            out!("  SHA-256      {}", receipt.payload_sha256);
            out!(
                "  {}  {}",
                tr("cách nộp   ", "mode       "),
                lang::revision_mode(receipt.mode(), receipt.carried_observations)
            );
            let timeliness = lang::timeliness(receipt.timeliness().as_str_name());
            match receipt.lateness.as_ref() {
                Some(d) if d.seconds > 0 => out!(
                    "  {}  {timeliness} ({})",
                    tr("thời hạn   ", "timeliness "),
                    lang::duration(d.seconds)
                ),
                _ => out!("  {}  {timeliness}", tr("thời hạn   ", "timeliness ")),
            }
            if let Some(score) = receipt.specificity_score {
                out!("  {}  {score}/100", tr("điểm cụ thể", "specificity"));
            }
            for r in &receipt.specificity_reasons {
                out!(
                    "  - {} (−{}): {}",
                    r.code,
                    r.penalty,
                    tr(&r.explanation_vi, &r.explanation_en)
                );
            }
            for f in &receipt.flags {
                out!("  ! {}: {}", lang::flag_kind(&f.kind), flag_message(f));
            }
            if receipt.replayed {
                out!(
                    "  {}",
                    tr(
                        "(đã nộp trước đó với cùng request id: không ghi gì mới)",
                        "(submitted before with the same request id: nothing new stored)"
                    )
                );
            }
            Ok(())
        }
    }
}
