//! `p06 targets import` and `p06 submit`: the agencies' spreadsheets, as CSV, into the exchange.

use std::io::Write as _;
use std::path::PathBuf;

use chrono::NaiveDate;
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::{Receipt, Target, UpsertTargetsRequest};
use p06_proto::common::{LocalityRef, Narrative, Period};
use serde_json::json;

use crate::client::{Connection, explain};
use crate::output::{self, Format};

/// Targets per call; a province's every commune × indicator fits in a few calls.
const TARGET_BATCH: usize = 5_000;

#[derive(Debug, clap::Args)]
pub struct TargetsImportArgs {
    #[command(flatten)]
    connection: Connection,
    /// CSV with columns `indicator_code,locality_code,due_date,value` (due_date as YYYY-MM-DD).
    file: PathBuf,
}

#[derive(serde::Deserialize)]
struct TargetRow {
    indicator_code: String,
    locality_code: String,
    due_date: NaiveDate,
    value: f64,
}

pub async fn targets_import(args: TargetsImportArgs) -> anyhow::Result<()> {
    let mut reader = csv::Reader::from_path(&args.file)?;
    let mut targets = Vec::new();
    for (line, row) in reader.deserialize::<TargetRow>().enumerate() {
        let row =
            row.map_err(|e| anyhow::anyhow!("{} line {}: {e}", args.file.display(), line + 2))?;
        targets.push(Target {
            indicator_code: row.indicator_code,
            locality: Some(LocalityRef {
                edition: args.connection.edition.clone(),
                code: row.locality_code,
            }),
            due_date: Some(date_to_proto(row.due_date)),
            value: row.value,
            update_time: None,
        });
    }
    let mut client =
        CatalogServiceClient::new(args.connection.channel(&args.connection.server).await?);
    let (mut created, mut updated) = (0, 0);
    let file_id = format!(
        "{}-{}",
        args.file.display(),
        std::fs::metadata(&args.file)?.len()
    );
    for (i, batch) in targets.chunks(TARGET_BATCH).enumerate() {
        let response = client
            .upsert_targets(args.connection.request(UpsertTargetsRequest {
                // Re-running the same import is harmless: each batch keeps its request id.
                request_id: format!("import:{file_id}:{i}"),
                targets: batch.to_vec(),
            })?)
            .await
            .map_err(|status| {
                explain(status).context(format!(
                    "batch {} (rows {}–{})",
                    i + 1,
                    i * TARGET_BATCH + 1,
                    i * TARGET_BATCH + batch.len()
                ))
            })?
            .into_inner();
        created += response.created_count;
        updated += response.updated_count;
        eprint!(
            "\r{} / {} targets",
            (i * TARGET_BATCH + batch.len()).min(targets.len()),
            targets.len()
        );
        let _ = std::io::stderr().flush();
    }
    eprintln!();
    println!("{created} created, {updated} updated");
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AgencyName {
    Police,
    Health,
    Justice,
}

#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    connection: Connection,
    /// The agency whose service receives the report.
    agency: AgencyName,
    /// CSV in the agency's own columns, one row per locality: `locality_code` and the figure fields of
    /// the agency's API (e.g. police: permanent_residents, vneid_level2_activated, …). Empty cells are
    /// "not reported".
    file: PathBuf,
    /// The agency service (default: its local port 50052/50053/50054).
    #[arg(long)]
    service: Option<String>,
    #[arg(long)]
    province: String,
    #[arg(long)]
    obligation: String,
    #[arg(long)]
    period_start: NaiveDate,
    #[arg(long)]
    period_end: NaiveDate,
    #[arg(long, default_value = "")]
    assessment: String,
    #[arg(long, default_value = "")]
    obstacles: String,
    #[arg(long, default_value = "")]
    proposals: String,
    /// Idempotency key; default: derived from the file's content, so a re-run stores nothing new.
    #[arg(long)]
    request_id: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

type Row = std::collections::HashMap<String, String>;

fn count(row: &Row, line: usize, field: &str) -> anyhow::Result<Option<i64>> {
    match row.get(field).map(|s| s.trim()) {
        None | Some("") => Ok(None),
        Some(text) => {
            text.replace(['.', ','], "").parse().map(Some).map_err(|_| {
                anyhow::anyhow!("line {line}: {field} = {text:?} is not a whole number")
            })
        }
    }
}

pub async fn submit(args: SubmitArgs) -> anyhow::Result<()> {
    let content = std::fs::read(&args.file)?;
    let mut reader = csv::Reader::from_reader(content.as_slice());
    let rows: Vec<(usize, Row)> = reader
        .deserialize::<Row>()
        .enumerate()
        .map(|(i, r)| r.map(|r| (i + 2, r)))
        .collect::<Result<_, _>>()?;
    let request_id = args.request_id.clone().unwrap_or_else(|| {
        use sha2::Digest as _;
        format!("csv-{}", hex::encode(&sha2::Sha256::digest(&content)[..12]))
    });
    let province = Some(LocalityRef {
        edition: args.connection.edition.clone(),
        code: args.province.clone(),
    });
    let period = Some(Period {
        start: Some(date_to_proto(args.period_start)),
        end: Some(date_to_proto(args.period_end)),
    });
    let narrative = Some(Narrative {
        assessment: args.assessment.clone(),
        obstacles: args.obstacles.clone(),
        proposals: args.proposals.clone(),
    });
    let code = |row: &Row| row.get("locality_code").cloned().unwrap_or_default();
    let c = &args.connection;
    let (default_port, receipt): (u16, Receipt) = match args.agency {
        AgencyName::Police => {
            use p06_proto::police::{
                IdentityFigures, SubmitIdentityReportRequest,
                police_reporting_service_client::PoliceReportingServiceClient,
            };
            let mut localities = Vec::new();
            for (line, row) in &rows {
                let f = |name| count(row, *line, name);
                localities.push(IdentityFigures {
                    locality_code: code(row),
                    permanent_residents: f("permanent_residents")?,
                    vneid_level1_created: f("vneid_level1_created")?,
                    vneid_level2_created: f("vneid_level2_created")?,
                    vneid_level2_activated: f("vneid_level2_activated")?,
                    vneid_profiles_collected: f("vneid_profiles_collected")?,
                    cccd_applications_collected: f("cccd_applications_collected")?,
                    cccd_cards_issued: f("cccd_cards_issued")?,
                    eligible_without_cccd: f("eligible_without_cccd")?,
                    signatures_initiated: f("signatures_initiated")?,
                    signatures_completed: f("signatures_completed")?,
                    signatures_pending: f("signatures_pending")?,
                });
            }
            let url = args
                .service
                .clone()
                .unwrap_or_else(|| "http://127.0.0.1:50052".into());
            let mut client = PoliceReportingServiceClient::new(c.channel(&url).await?);
            let request = SubmitIdentityReportRequest {
                request_id,
                obligation: args.obligation.clone(),
                province,
                period,
                localities,
                narrative,
            };
            (
                50052,
                client
                    .submit_identity_report(c.request(request)?)
                    .await
                    .map_err(explain)?
                    .into_inner(),
            )
        }
        AgencyName::Health => {
            use p06_proto::health::{
                HealthFigures, SubmitHealthReportRequest,
                health_reporting_service_client::HealthReportingServiceClient,
            };
            let mut localities = Vec::new();
            for (line, row) in &rows {
                let f = |name| count(row, *line, name);
                let percent = match row.get("pension_cashless_urban_percent").map(|s| s.trim()) {
                    None | Some("") => None,
                    Some(p) => Some(
                        p.replace(',', ".")
                            .parse::<f64>()
                            .map_err(|_| anyhow::anyhow!("line {line}: bad percentage {p:?}"))?,
                    ),
                };
                localities.push(HealthFigures {
                    locality_code: code(row),
                    bhyt_cards_integrated: f("bhyt_cards_integrated")?,
                    health_books_integrated: f("health_books_integrated")?,
                    facilities_accepting_cccd: f("facilities_accepting_cccd")?,
                    facilities_total: f("facilities_total")?,
                    pension_recipients_cashless: f("pension_recipients_cashless")?,
                    pension_recipients: f("pension_recipients")?,
                    social_security_accounts: f("social_security_accounts")?,
                    pension_cashless_urban_percent: percent,
                });
            }
            let url = args
                .service
                .clone()
                .unwrap_or_else(|| "http://127.0.0.1:50053".into());
            let mut client = HealthReportingServiceClient::new(c.channel(&url).await?);
            let request = SubmitHealthReportRequest {
                request_id,
                obligation: args.obligation.clone(),
                province,
                period,
                localities,
                narrative,
            };
            (
                50053,
                client
                    .submit_health_report(c.request(request)?)
                    .await
                    .map_err(explain)?
                    .into_inner(),
            )
        }
        AgencyName::Justice => {
            use p06_proto::justice::{
                CivilStatusFigures, SubmitCivilStatusReportRequest,
                justice_reporting_service_client::JusticeReportingServiceClient,
            };
            let mut localities = Vec::new();
            for (line, row) in &rows {
                let f = |name| count(row, *line, name);
                localities.push(CivilStatusFigures {
                    locality_code: code(row),
                    records_digitized: f("records_digitized")?,
                    records_backlog: f("records_backlog")?,
                    registrations_total: f("registrations_total")?,
                    registrations_online: f("registrations_online")?,
                    registrations_interlinked: f("registrations_interlinked")?,
                });
            }
            let url = args
                .service
                .clone()
                .unwrap_or_else(|| "http://127.0.0.1:50054".into());
            let mut client = JusticeReportingServiceClient::new(c.channel(&url).await?);
            let request = SubmitCivilStatusReportRequest {
                request_id,
                obligation: args.obligation.clone(),
                province,
                period,
                localities,
                narrative,
            };
            (
                50054,
                client
                    .submit_civil_status_report(c.request(request)?)
                    .await
                    .map_err(explain)?
                    .into_inner(),
            )
        }
    };
    let _ = default_port;
    let record = json!({
        "report": receipt.report, "revision": receipt.revision, "payload_sha256": receipt.payload_sha256,
        "receive_time": receipt.receive_time.as_ref().map(|t| t.seconds), "deadline": receipt.deadline.as_ref().map(|t| t.seconds),
        "timeliness": receipt.timeliness().as_str_name(), "lateness_seconds": receipt.lateness.as_ref().map(|d| d.seconds),
        "specificity_score": receipt.specificity_score, "replayed": receipt.replayed,
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
            ],
            &[record],
        ),
        Format::Table => {
            println!(
                "{} (lần nộp {}) — {} dòng",
                receipt.report,
                receipt.revision,
                rows.len()
            );
            println!("  SHA-256   {}", receipt.payload_sha256);
            println!("  thời hạn  {}", receipt.timeliness().as_str_name());
            if let Some(score) = receipt.specificity_score {
                println!("  điểm cụ thể {score}/100");
            }
            for r in &receipt.specificity_reasons {
                println!("  - {} (−{}): {}", r.code, r.penalty, r.explanation_vi);
            }
            for f in &receipt.flags {
                println!("  ! {}: {}", f.kind, f.message);
            }
            Ok(())
        }
    }
}
