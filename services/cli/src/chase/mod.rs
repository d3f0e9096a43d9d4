//! `p06 chase`: drafts the task force's chase-up letter (công văn đôn đốc) from the facts the
//! aggregator returns with the caller's token — open MISSING, LATE, VAGUE and mismatch flags
//! (ListFlags), the receipts behind them (ListReports), the compliance board
//! (GetComplianceBoard) and the localities furthest behind target (GetConsolidatedStatus) — as
//! Markdown (stdout or `-o letter.md`) or Word (`-o letter.docx`).
//!
//! `gather` is the only part that talks gRPC; [`letter`] turns the facts into sentences,
//! [`markdown`] and [`docx`] print them.

pub mod docx;
pub mod letter;
pub mod markdown;

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use p06_kit::convert::{date_from_proto, date_to_proto, from_timestamp};
use p06_proto::aggregation::{
    Flag, GetComplianceBoardRequest, GetConsolidatedStatusRequest, ListFlagsRequest,
    ListReportsRequest, ReportSummary,
};
use p06_proto::common::LocalityRef;

use self::letter::{
    AgencyFacts, BoardLine, Facts, Lagging, Late, Letter, Missing, Mismatch, Period, Vague,
};
use crate::client::Connection;
use crate::flags::vietnam;
use crate::lang;
use crate::rpc;

/// How far back the letter looks: periods ending in the eight weeks up to --as-of (the
/// compliance board's default window).
const WINDOW_DAYS: i64 = 56;
/// Localities listed per indicator behind target.
const LOWEST: i32 = 3;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  p06 chase --province 52\n  p06 chase --province 52 --as-of 2026-12-04 --deadline-days 7 -o cong-van-don-doc.docx"
)]
pub struct ChaseArgs {
    #[command(flatten)]
    connection: Connection,
    /// Province code in --edition, e.g. 52 (see `p06 localities`).
    #[arg(long, value_name = "CODE")]
    province: String,
    /// The date the letter is drafted as of, YYYY-MM-DD (default: today in Vietnam).
    #[arg(long, value_name = "DATE")]
    as_of: Option<NaiveDate>,
    /// The new deadline, in working days after --as-of (weekends and public holidays skipped).
    #[arg(long, value_name = "N", default_value_t = 5)]
    deadline_days: u32,
    /// Write the letter to FILE: .docx (Word) or .md (Markdown). Default: Markdown on stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Local (Vietnam) time of a timestamp.
fn local(ts: Option<&prost_types::Timestamp>) -> Option<NaiveDateTime> {
    ts.and_then(from_timestamp)
        .map(|t| t.with_timezone(&vietnam()).naive_local())
}

fn period_of(f: &Flag) -> Option<Period> {
    let p = f.period.as_ref()?;
    Some(Period {
        start: date_from_proto(p.start.as_ref())?,
        end: date_from_proto(p.end.as_ref())?,
    })
}

struct Client<'a> {
    c: &'a Connection,
    province: &'a str,
    tf: p06_proto::aggregation::task_force_service_client::TaskForceServiceClient<
        tonic::transport::Channel,
    >,
}

impl Client<'_> {
    fn locality(&self) -> Option<LocalityRef> {
        Some(LocalityRef {
            edition: self.c.edition.clone(),
            code: self.province.to_owned(),
        })
    }

    async fn open_flags(&mut self) -> anyhow::Result<Vec<Flag>> {
        let mut flags = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .tf
                .list_flags(self.c.request(ListFlagsRequest {
                    province: self.locality(),
                    state: "OPEN".into(),
                    page_size: 1_000,
                    page_token: page_token.clone(),
                    ..Default::default()
                })?)
                .await
                .map_err(self.c.refused(rpc::LIST_FLAGS, Some(self.province)))?
                .into_inner();
            flags.extend(page.flags);
            if page.next_page_token.is_empty() {
                return Ok(flags);
            }
            page_token = page.next_page_token;
        }
    }

    async fn reports(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> anyhow::Result<Vec<ReportSummary>> {
        let mut reports = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .tf
                .list_reports(self.c.request(ListReportsRequest {
                    province: self.locality(),
                    from: Some(date_to_proto(from)),
                    to: Some(date_to_proto(to)),
                    page_size: 1_000,
                    page_token: page_token.clone(),
                    ..Default::default()
                })?)
                .await
                .map_err(self.c.refused(rpc::LIST_REPORTS, Some(self.province)))?
                .into_inner();
            reports.extend(page.reports);
            if page.next_page_token.is_empty() {
                return Ok(reports);
            }
            page_token = page.next_page_token;
        }
    }
}

/// Everything the letter needs, through the task-force API with the caller's token.
async fn gather(args: &ChaseArgs, as_of: NaiveDate) -> anyhow::Result<Facts> {
    let c = &args.connection;
    let mut client = Client {
        c,
        province: &args.province,
        tf: p06_proto::aggregation::task_force_service_client::TaskForceServiceClient::new(
            c.channel(&c.server).await?,
        ),
    };
    let from = as_of - Duration::days(WINDOW_DAYS);
    let reports: HashMap<String, ReportSummary> = client
        .reports(from, as_of)
        .await?
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect();
    // A flag counts when its period ends in the window and its fact was there by the end of
    // --as-of (Vietnam time): the deadline of a MISSING period, the receipt of a report's flag
    // (the flag's own raise time when the report is not at hand).
    let end_of_day = as_of
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(NaiveDateTime::MAX);
    let fact_time = |f: &Flag| match f.kind.as_str() {
        "MISSING" => local(f.deadline.as_ref()),
        _ => reports
            .get(&f.report)
            .and_then(|r| r.receipt.as_ref())
            .and_then(|r| local(r.receive_time.as_ref()))
            .or_else(|| local(f.raise_time.as_ref())),
    };
    let flags: Vec<Flag> = client
        .open_flags()
        .await?
        .into_iter()
        .filter(|f| {
            period_of(f).is_some_and(|p| p.end >= from && p.end <= as_of)
                && fact_time(f).is_none_or(|t| t < end_of_day)
        })
        .collect();
    // A later revision is judged afresh (it has its own VAGUE flag when still vague): the VAGUE
    // flags of earlier revisions of a series are not chased.
    let mut latest: HashMap<(String, String, Option<NaiveDate>), (i32, String)> = HashMap::new();
    for r in reports.values() {
        let key = (
            r.agency.clone(),
            r.obligation.clone(),
            date_from_proto(r.period.as_ref().and_then(|p| p.start.as_ref())),
        );
        let revision = r.receipt.as_ref().map_or(0, |x| x.revision);
        let entry = latest.entry(key).or_insert((revision, r.name.clone()));
        if revision > entry.0 {
            *entry = (revision, r.name.clone());
        }
    }
    let superseded = |f: &Flag| {
        reports.get(&f.report).is_some_and(|r| {
            let key = (
                r.agency.clone(),
                r.obligation.clone(),
                date_from_proto(r.period.as_ref().and_then(|p| p.start.as_ref())),
            );
            latest.get(&key).is_some_and(|(_, name)| name != &r.name)
        })
    };
    let board = client
        .tf
        .get_compliance_board(c.request(GetComplianceBoardRequest {
            province: client.locality(),
            from: Some(date_to_proto(from)),
            to: Some(date_to_proto(as_of)),
            agency: String::new(),
        })?)
        .await
        .map_err(c.refused(rpc::GET_COMPLIANCE_BOARD, Some(&args.province)))?
        .into_inner();
    let status = client
        .tf
        .get_consolidated_status(c.request(GetConsolidatedStatusRequest {
            locality: client.locality(),
            as_of: Some(date_to_proto(as_of)),
            lowest_count: LOWEST,
            ..Default::default()
        })?)
        .await
        .map_err(c.refused(rpc::GET_CONSOLIDATED_STATUS, Some(&args.province)))?
        .into_inner();
    let province_name = status
        .locality
        .as_ref()
        .map(|l| l.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("Tỉnh {}", args.province));
    let obligation_names: HashMap<String, String> =
        crate::catalog::list_obligations(c, Some(&args.province))
            .await?
            .into_iter()
            .filter(|o| !o.name.is_empty())
            .map(|o| (o.code, o.name))
            .collect();
    let owners: HashMap<String, String> = crate::catalog::list_indicators(c, None)
        .await?
        .into_iter()
        .map(|i| (i.code, i.agency))
        .collect();
    let name = |code: &str| {
        obligation_names
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    };
    let unit = letter::unit_word(&province_name);

    let mut agencies: Vec<AgencyFacts> = ["police", "health", "justice"]
        .iter()
        .map(|a| AgencyFacts {
            agency: (*a).to_owned(),
            addressee: lang::agency_office(a, unit),
            ..Default::default()
        })
        .collect();
    // Flags of an agency outside the three (none today) get their own addressee.
    for f in &flags {
        if !agencies.iter().any(|a| a.agency == f.agency) {
            agencies.push(AgencyFacts {
                agency: f.agency.clone(),
                addressee: lang::agency_office(&f.agency, unit),
                ..Default::default()
            });
        }
    }
    for a in agencies.iter_mut() {
        let mine = flags.iter().filter(|f| f.agency == a.agency);
        for f in mine {
            let Some(period) = period_of(f) else { continue };
            let obligation = name(&f.obligation);
            let receipt = reports.get(&f.report).and_then(|r| r.receipt.as_ref());
            match f.kind.as_str() {
                "MISSING" => a.missing.push(Missing {
                    obligation,
                    period,
                    deadline: local(f.deadline.as_ref()),
                }),
                "LATE" => a.late.push(Late {
                    obligation,
                    period,
                    deadline: local(receipt.and_then(|r| r.deadline.as_ref())),
                    received: local(receipt.and_then(|r| r.receive_time.as_ref())),
                    lateness_seconds: f
                        .lateness
                        .as_ref()
                        .or(receipt.and_then(|r| r.lateness.as_ref()))
                        .map_or(0, |d| d.seconds),
                }),
                "VAGUE" if superseded(f) => {}
                "VAGUE" => {
                    let explained: Vec<String> = receipt
                        .map(|r| {
                            r.specificity_reasons
                                .iter()
                                .map(|s| s.explanation_vi.clone())
                                .filter(|s| !s.is_empty())
                                .collect()
                        })
                        .unwrap_or_default();
                    let reasons = if explained.is_empty() {
                        f.reason_codes.iter().map(|c| lang::vague_reason_vi(c)).collect()
                    } else {
                        explained
                    };
                    a.vague.push(Vague {
                        obligation,
                        period,
                        score: f
                            .specificity_score
                            .or(receipt.and_then(|r| r.specificity_score)),
                        reasons,
                    });
                }
                kind if kind.ends_with("_MISMATCH") => a.mismatches.push(Mismatch {
                    kind: kind.to_owned(),
                    obligation,
                    period,
                    message: f.message.clone(),
                    quote: f.quote.clone(),
                }),
                _ => {}
            }
        }
        for o in board
            .obligations
            .iter()
            .filter(|o| o.agency == a.agency && o.expected > 0)
        {
            a.board.push(BoardLine {
                obligation: name(&o.obligation),
                expected: o.expected,
                received: o.received,
                on_time: o.on_time,
            });
        }
        for i in status
            .indicators
            .iter()
            .filter(|i| owners.get(&i.indicator_code) == Some(&a.agency))
        {
            for row in i.lowest.iter().filter(|r| r.rank > 0) {
                let (Some(target), Some(percent)) = (row.target, row.percent_of_target) else {
                    continue;
                };
                if percent >= 100.0 {
                    continue;
                }
                a.lagging.push(Lagging {
                    indicator: i.name_vi.clone(),
                    locality: row
                        .locality
                        .as_ref()
                        .map(|l| l.name.clone())
                        .unwrap_or_default(),
                    value: row.value,
                    target,
                    percent: Some(percent),
                });
            }
        }
    }
    for a in agencies.iter_mut() {
        a.missing.sort_by_key(|m| (m.period.start, m.obligation.clone()));
        a.late.sort_by_key(|l| (l.period.start, l.obligation.clone()));
        a.vague.sort_by_key(|v| (v.period.start, v.obligation.clone()));
        a.mismatches
            .sort_by_key(|m| (m.period.start, m.kind.clone(), m.message.clone()));
    }
    Ok(Facts {
        province_name,
        as_of,
        deadline_days: args.deadline_days,
        agencies,
    })
}

pub async fn chase(args: ChaseArgs) -> anyhow::Result<()> {
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().with_timezone(&vietnam()).date_naive());
    let format = match &args.output {
        None => Output::Markdown,
        Some(path) => match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("docx") => Output::Docx,
            Some("md" | "markdown") => Output::Markdown,
            _ => crate::bail_user!(
                vi: "-o {} phải là tệp .docx hoặc .md", path.display();
                en: "-o {} must be a .docx or .md file", path.display()
            ),
        },
    };
    let facts = gather(&args, as_of).await?;
    let Some(letter) = Letter::from_facts(&facts) else {
        eprintln!(
            "{}",
            lang::tr(
                format!(
                    "Không có cơ quan nào cần đôn đốc tính đến ngày {}: không có báo cáo thiếu, trễ, chung chung hay số liệu không khớp.",
                    letter::date(as_of)
                ),
                format!(
                    "Nobody to chase as of {as_of}: no missing, late or vague report and no mismatch."
                ),
            )
        );
        return Ok(());
    };
    let bytes = match format {
        Output::Markdown => markdown::render(&letter).into_bytes(),
        Output::Docx => docx::render(&letter)?,
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, bytes).map_err(|e| crate::error::file(path, &e))?;
            eprintln!(
                "{}",
                lang::tr(
                    format!("Đã ghi công văn: {}", path.display()),
                    format!("Letter written: {}", path.display()),
                )
            );
        }
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(())
}

enum Output {
    Markdown,
    Docx,
}
