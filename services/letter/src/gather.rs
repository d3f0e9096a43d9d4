//! The facts of a chase-up letter, gathered through the aggregator's task-force API with the
//! caller's credentials: the province's open flags (ListFlags) of periods ending in the eight weeks
//! up to the as-of date whose fact was there by its end, the reports behind them (ListReports), the
//! compliance board (GetComplianceBoard), the localities furthest behind target
//! (GetConsolidatedStatus), the obligations' names (ListObligations) and the indicators' owners
//! (ListIndicators). Used by `p06 chase` and the web page's compliance download alike.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use p06_kit::convert::{date_from_proto, date_to_proto, from_timestamp};
use p06_proto::aggregation::admin_service_client::AdminServiceClient;
use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    Flag, GetComplianceBoardRequest, GetConsolidatedStatusRequest, ListFlagsRequest,
    ListIndicatorsRequest, ListObligationsRequest, ListReportsRequest, ReportSummary,
};
use p06_proto::common::LocalityRef;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::letter::{
    self, AgencyFacts, BoardLine, Facts, Lagging, Late, Mismatch, Missing, Period, Vague,
    agency_office, vague_reason,
};

/// How far back the letter looks: periods ending in the eight weeks up to the as-of date (the
/// compliance board's default window).
const WINDOW_DAYS: i64 = 56;
/// Localities listed per indicator behind target.
const LOWEST: i32 = 3;
/// A province's flags and reports fit well within this.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Vietnam's time (UTC+7, no daylight saving), the provinces' reporting calendar.
fn vietnam() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(7 * 3_600).expect("a valid offset")
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

/// A failed call: which RPC, and the status the aggregator answered.
#[derive(Debug)]
pub struct Failed {
    /// The full gRPC path, e.g. "/p06.aggregation.v1.TaskForceService/ListFlags".
    pub rpc: &'static str,
    pub status: Status,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.rpc, self.status.message())
    }
}

impl std::error::Error for Failed {}

pub const LIST_FLAGS: &str = "/p06.aggregation.v1.TaskForceService/ListFlags";
pub const LIST_REPORTS: &str = "/p06.aggregation.v1.TaskForceService/ListReports";
pub const GET_COMPLIANCE_BOARD: &str = "/p06.aggregation.v1.TaskForceService/GetComplianceBoard";
pub const GET_CONSOLIDATED_STATUS: &str =
    "/p06.aggregation.v1.TaskForceService/GetConsolidatedStatus";
pub const LIST_OBLIGATIONS: &str = "/p06.aggregation.v1.AdminService/ListObligations";
pub const LIST_INDICATORS: &str = "/p06.aggregation.v1.CatalogService/ListIndicators";

/// Puts the caller's credentials (and whatever else the caller adds, e.g. trace context) on a
/// request: the CLI's token, the web page's signed-in user's token.
pub trait Authorize {
    fn authorize<T>(&self, message: T) -> Request<T>;
}

/// What to draft: the province (edition and code), the as-of date, the new deadline's working days.
#[derive(Debug, Clone)]
pub struct Ask {
    pub edition: String,
    pub province: String,
    pub as_of: NaiveDate,
    pub deadline_days: u32,
}

fn failed(rpc: &'static str) -> impl FnOnce(Status) -> Failed {
    move |status| Failed { rpc, status }
}

struct Client<'a, A: Authorize> {
    auth: &'a A,
    ask: &'a Ask,
    channel: Channel,
}

impl<A: Authorize> Client<'_, A> {
    fn locality(&self) -> Option<LocalityRef> {
        Some(LocalityRef {
            edition: self.ask.edition.clone(),
            code: self.ask.province.clone(),
        })
    }

    fn tf(&self) -> TaskForceServiceClient<Channel> {
        TaskForceServiceClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE)
    }

    async fn open_flags(&self) -> Result<Vec<Flag>, Failed> {
        let mut flags = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .tf()
                .list_flags(self.auth.authorize(ListFlagsRequest {
                    province: self.locality(),
                    state: "OPEN".into(),
                    page_size: 1_000,
                    page_token: page_token.clone(),
                    ..Default::default()
                }))
                .await
                .map_err(failed(LIST_FLAGS))?
                .into_inner();
            flags.extend(page.flags);
            if page.next_page_token.is_empty() {
                return Ok(flags);
            }
            page_token = page.next_page_token;
        }
    }

    async fn reports(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<ReportSummary>, Failed> {
        let mut reports = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .tf()
                .list_reports(self.auth.authorize(ListReportsRequest {
                    province: self.locality(),
                    from: Some(date_to_proto(from)),
                    to: Some(date_to_proto(to)),
                    page_size: 1_000,
                    page_token: page_token.clone(),
                    ..Default::default()
                }))
                .await
                .map_err(failed(LIST_REPORTS))?
                .into_inner();
            reports.extend(page.reports);
            if page.next_page_token.is_empty() {
                return Ok(reports);
            }
            page_token = page.next_page_token;
        }
    }

    /// Obligation code → name.
    async fn obligation_names(&self) -> Result<HashMap<String, String>, Failed> {
        let mut names = HashMap::new();
        let mut page_token = String::new();
        let mut admin = AdminServiceClient::new(self.channel.clone());
        loop {
            let page = admin
                .list_obligations(self.auth.authorize(ListObligationsRequest {
                    page_size: 1_000,
                    page_token: page_token.clone(),
                }))
                .await
                .map_err(failed(LIST_OBLIGATIONS))?
                .into_inner();
            for o in page.obligations {
                let name = serde_json::from_str::<serde_json::Value>(&o.spec_json)
                    .ok()
                    .and_then(|v| v["name"].as_str().map(str::to_owned))
                    .filter(|n| !n.is_empty());
                if let Some(name) = name {
                    names.insert(o.code, name);
                }
            }
            if page.next_page_token.is_empty() {
                return Ok(names);
            }
            page_token = page.next_page_token;
        }
    }

    /// Indicator code → owning agency.
    async fn owners(&self) -> Result<HashMap<String, String>, Failed> {
        let mut owners = HashMap::new();
        let mut page_token = String::new();
        let mut catalog = CatalogServiceClient::new(self.channel.clone());
        loop {
            let page = catalog
                .list_indicators(self.auth.authorize(ListIndicatorsRequest {
                    agency: String::new(),
                    page_size: 1_000,
                    page_token: page_token.clone(),
                }))
                .await
                .map_err(failed(LIST_INDICATORS))?
                .into_inner();
            owners.extend(page.indicators.into_iter().map(|i| (i.code, i.agency)));
            if page.next_page_token.is_empty() {
                return Ok(owners);
            }
            page_token = page.next_page_token;
        }
    }
}

/// Everything the letter needs, through the task-force API with the caller's credentials.
pub async fn gather<A: Authorize>(channel: Channel, auth: &A, ask: &Ask) -> Result<Facts, Failed> {
    let client = Client { auth, ask, channel };
    let as_of = ask.as_of;
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
        .tf()
        .get_compliance_board(auth.authorize(GetComplianceBoardRequest {
            province: client.locality(),
            from: Some(date_to_proto(from)),
            to: Some(date_to_proto(as_of)),
            agency: String::new(),
        }))
        .await
        .map_err(failed(GET_COMPLIANCE_BOARD))?
        .into_inner();
    let status = client
        .tf()
        .get_consolidated_status(auth.authorize(GetConsolidatedStatusRequest {
            locality: client.locality(),
            as_of: Some(date_to_proto(as_of)),
            lowest_count: LOWEST,
            ..Default::default()
        }))
        .await
        .map_err(failed(GET_CONSOLIDATED_STATUS))?
        .into_inner();
    let province_name = status
        .locality
        .as_ref()
        .map(|l| l.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("Tỉnh {}", ask.province));
    let obligation_names = client.obligation_names().await?;
    let owners = client.owners().await?;
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
            addressee: agency_office(a, unit),
            ..Default::default()
        })
        .collect();
    // Flags of an agency outside the three (none today) get their own addressee.
    for f in &flags {
        if !agencies.iter().any(|a| a.agency == f.agency) {
            agencies.push(AgencyFacts {
                agency: f.agency.clone(),
                addressee: agency_office(&f.agency, unit),
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
                        f.reason_codes.iter().map(|c| vague_reason(c)).collect()
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
        a.missing
            .sort_by_key(|m| (m.period.start, m.obligation.clone()));
        a.late
            .sort_by_key(|l| (l.period.start, l.obligation.clone()));
        a.vague
            .sort_by_key(|v| (v.period.start, v.obligation.clone()));
        a.mismatches
            .sort_by_key(|m| (m.period.start, m.kind.clone(), m.message.clone()));
    }
    Ok(Facts {
        province_name,
        as_of,
        deadline_days: ask.deadline_days,
        agencies,
    })
}
