//! The reports behind a compliance row: a province's stored revisions, newest period first,
//! filtered by obligation, agency and period, each linking to its report page; as CSV too.
//!
//! Calls: `ListReports` (pages of 1,000, at most [`MAX_REPORTS`] rows).

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use p06_proto::aggregation::{ListReportsRequest, ReportSummary};
use serde::Deserialize;
use serde_json::json;

use super::{Choice, date_param, locality, proto_date, query, valid_code};
use crate::ctx::{Chrome, Ctx, Section, ok};
use crate::download;
use crate::format;
use crate::i18n;

/// Rows one page lists (a year of weekly reports of three agencies, with revisions, fits).
const MAX_REPORTS: usize = 1_000;

pub const REPORT_COLUMNS: &[&str] = &[
    "name",
    "agency",
    "obligation",
    "period_start",
    "period_end",
    "revision",
    "receive_time",
    "timeliness",
    "lateness_seconds",
    "specificity_score",
    "observations",
    "payload_sha256",
];

#[derive(Deserialize, Default)]
pub struct ReportsQuery {
    obligation: Option<String>,
    agency: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

struct Asked {
    obligation: String,
    agency: String,
    from: String,
    to: String,
}

fn asked(ctx: &Ctx, q: &ReportsQuery) -> Result<Asked, Response> {
    let agency = q.agency.clone().unwrap_or_default();
    if !agency.is_empty() && !i18n::AGENCIES.contains(&agency.as_str()) {
        return Err(ctx.bad_request("agency: police, health or justice"));
    }
    let from = date_param(ctx, "from", q.from.as_deref())?;
    let to = date_param(ctx, "to", q.to.as_deref())?;
    Ok(Asked {
        obligation: q
            .obligation
            .clone()
            .unwrap_or_default()
            .chars()
            .take(100)
            .collect(),
        agency,
        from: from.map(format::iso).unwrap_or_default(),
        to: to.map(format::iso).unwrap_or_default(),
    })
}

/// The reports asked for, and whether more matched than a page lists.
async fn reports(ctx: &Ctx, code: &str, a: &Asked) -> Result<(Vec<ReportSummary>, bool), Response> {
    let api = ctx.api();
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = api
            .task_force()
            .list_reports(api.request(
                ctx.token(),
                ListReportsRequest {
                    province: locality(ctx, code),
                    obligation: a.obligation.clone(),
                    agency: a.agency.clone(),
                    from: proto_date(format::parse_date(&a.from)),
                    to: proto_date(format::parse_date(&a.to)),
                    page_size: 1_000,
                    page_token: page_token.clone(),
                },
            ))
            .await
            .map_err(|s| ctx.fail(s))?
            .into_inner();
        all.extend(page.reports);
        if page.next_page_token.is_empty() {
            return Ok((all, false));
        }
        if all.len() >= MAX_REPORTS {
            all.truncate(MAX_REPORTS);
            return Ok((all, true));
        }
        page_token = page.next_page_token;
    }
}

pub struct Row {
    pub name: String,
    pub href: String,
    pub agency: String,
    pub obligation: String,
    pub period: String,
    pub revision: String,
    pub received: String,
    pub timeliness: String,
    pub specificity: String,
    pub observations: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    code: String,
    obligation: String,
    agencies: Vec<Choice>,
    from: String,
    to: String,
    rows: Vec<Row>,
    truncated: bool,
    count: String,
    csv_href: String,
}

/// `GET /p/{code}/reports`.
pub async fn page(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<ReportsQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let a = asked(&ctx, &q)?;
    let (found, place) = tokio::join!(
        reports(&ctx, &code, &a),
        ctx.api().province_name(ctx.token(), ctx.edition(), &code),
    );
    let (found, truncated) = found?;
    let place = place.map_err(|s| ctx.fail(s))?;
    let lang = ctx.lang;
    let t = ctx.t();
    let rows = found
        .iter()
        .map(|r| {
            let receipt = r.receipt.clone().unwrap_or_default();
            let period = r.period.unwrap_or_default();
            let mut timeliness = i18n::timeliness(lang, receipt.timeliness);
            if let Some(late) = &receipt.lateness {
                timeliness.push_str(&format!(" ({})", format::lateness(lang, late.seconds)));
            }
            Row {
                href: format!(
                    "/p/{code}/reports/{}",
                    r.name.strip_prefix("reports/").unwrap_or_default()
                ),
                name: r.name.clone(),
                agency: i18n::agency(lang, &r.agency),
                obligation: r.obligation.clone(),
                period: format!(
                    "{} – {}",
                    format::opt_date(lang, period.start.as_ref()),
                    format::opt_date(lang, period.end.as_ref())
                ),
                revision: format::figure(lang, f64::from(receipt.revision)),
                received: format::opt_timestamp(lang, receipt.receive_time.as_ref()),
                timeliness,
                specificity: receipt
                    .specificity_score
                    .map_or_else(|| "—".into(), |s| format!("{s}/100")),
                observations: format::figure(lang, f64::from(r.observation_count)),
            }
        })
        .collect::<Vec<_>>();
    let filters = [
        ("obligation", a.obligation.as_str()),
        ("agency", a.agency.as_str()),
        ("from", a.from.as_str()),
        ("to", a.to.as_str()),
    ];
    let agencies = std::iter::once(Choice {
        value: String::new(),
        label: t.all_agencies.into(),
        selected: a.agency.is_empty(),
    })
    .chain(i18n::AGENCIES.iter().map(|c| Choice {
        value: (*c).into(),
        label: i18n::agency(lang, c),
        selected: a.agency == *c,
    }))
    .collect();
    Ok(ok(&ReportsPage {
        agencies,
        chrome: ctx.chrome(t.reports_caption, &place, &code, Section::Report),
        count: format::figure(lang, rows.len() as f64),
        csv_href: format!("/p/{code}/reports.csv{}", query(&filters)),
        code,
        rows,
        truncated,
        obligation: a.obligation,
        from: a.from,
        to: a.to,
    }))
}

/// `GET /p/{code}/reports.csv`.
pub async fn csv(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<ReportsQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let a = asked(&ctx, &q)?;
    let (found, _) = reports(&ctx, &code, &a).await?;
    let records: Vec<_> = found.iter().map(record).collect();
    Ok(download::response(
        &ctx,
        &format!("reports-{code}.csv"),
        REPORT_COLUMNS,
        &records,
    ))
}

fn record(r: &ReportSummary) -> serde_json::Value {
    let receipt = r.receipt.clone().unwrap_or_default();
    let period = r.period.unwrap_or_default();
    let iso = |d: Option<&p06_proto::common::CalendarDate>| {
        p06_kit::convert::date_from_proto(d).map(format::iso)
    };
    json!({
        "name": r.name, "agency": r.agency, "obligation": r.obligation,
        "period_start": iso(period.start.as_ref()), "period_end": iso(period.end.as_ref()),
        "revision": receipt.revision,
        "receive_time": receipt.receive_time.as_ref().and_then(p06_kit::convert::from_timestamp).map(|t| t.to_rfc3339()),
        "timeliness": match receipt.timeliness { 1 => "ON_TIME", 2 => "LATE", 3 => "NOT_EVALUATED", _ => "" },
        "lateness_seconds": receipt.lateness.as_ref().map(|d| d.seconds),
        "specificity_score": receipt.specificity_score,
        "observations": r.observation_count,
        "payload_sha256": receipt.payload_sha256,
    })
}
