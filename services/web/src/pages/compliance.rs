//! Page 4, compliance: per obligation and agency, expected, received, on time, late, missing,
//! vague, the rates, the worst lateness and the top vagueness reasons in words; each row links to
//! reports and the flags behind it.
//!
//! Calls: `GetComplianceBoard` (one).

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use p06_proto::aggregation::{ComplianceBoard, GetComplianceBoardRequest};
use serde::Deserialize;

use super::{Choice, date_param, locality, proto_date, query, today, valid_code};
use crate::ctx::{Chrome, Ctx, Section, ok};
use crate::download;
use crate::format;
use crate::i18n;

#[derive(Deserialize, Default)]
pub struct ComplianceQuery {
    from: Option<String>,
    to: Option<String>,
    agency: Option<String>,
}

struct Asked {
    from: NaiveDate,
    to: NaiveDate,
    agency: String,
}

fn asked(ctx: &Ctx, q: &ComplianceQuery) -> Result<Asked, Response> {
    let to = date_param(ctx, "to", q.to.as_deref())?.unwrap_or_else(today);
    let from = date_param(ctx, "from", q.from.as_deref())?
        .unwrap_or(to - Duration::days(p06_kit::convert::COMPLIANCE_WINDOW_DAYS));
    let agency = q.agency.clone().unwrap_or_default();
    if !agency.is_empty() && !i18n::AGENCIES.contains(&agency.as_str()) {
        return Err(ctx.bad_request("agency: police, health or justice"));
    }
    Ok(Asked { from, to, agency })
}

async fn board(ctx: &Ctx, code: &str, a: &Asked) -> Result<ComplianceBoard, Response> {
    let api = ctx.api();
    Ok(api
        .task_force()
        .get_compliance_board(api.request(
            ctx.token(),
            GetComplianceBoardRequest {
                province: locality(ctx, code),
                from: proto_date(Some(a.from)),
                to: proto_date(Some(a.to)),
                agency: a.agency.clone(),
            },
        ))
        .await
        .map_err(|s| ctx.fail(s))?
        .into_inner())
}

pub struct Row {
    pub obligation: String,
    pub agency: String,
    pub expected: String,
    pub received: String,
    pub on_time: String,
    pub late: String,
    pub missing: String,
    pub pending: String,
    pub early: String,
    pub vague: String,
    pub reporting_rate: String,
    pub on_time_rate: String,
    pub worst: String,
    pub reasons: String,
    pub consistency: String,
    pub flags_href: String,
    pub reports_href: String,
}

#[derive(Template)]
#[template(path = "compliance.html")]
struct CompliancePage {
    chrome: Chrome,
    code: String,
    from: String,
    to: String,
    agencies: Vec<Choice>,
    rows: Vec<Row>,
    open_flags: String,
    flags_href: String,
    csv_href: String,
}

/// `GET /p/{code}/compliance`.
pub async fn page(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<ComplianceQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let a = asked(&ctx, &q)?;
    let (board, place) = tokio::join!(
        board(&ctx, &code, &a),
        ctx.api().province_name(ctx.token(), ctx.edition(), &code),
    );
    let board = board?;
    let place = place.map_err(|s| ctx.fail(s))?;
    let lang = ctx.lang;
    let t = ctx.t();
    let n = |v: i32| format::figure(lang, f64::from(v));
    let rows = board
        .obligations
        .iter()
        .map(|o| Row {
            agency: i18n::agency(lang, &o.agency),
            expected: n(o.expected),
            received: n(o.received),
            on_time: n(o.on_time),
            late: n(o.late),
            missing: n(o.missing),
            pending: n(o.pending),
            early: n(o.early),
            vague: n(o.vague),
            reporting_rate: format::share(lang, o.reporting_rate),
            on_time_rate: format::share(lang, o.on_time_rate),
            worst: o
                .worst_lateness
                .as_ref()
                .map_or_else(|| "—".into(), |d| format::lateness(lang, d.seconds)),
            reasons: o
                .top_vague_reasons
                .iter()
                .map(|r| format!("{} ({})", i18n::vague_reason(lang, &r.code), r.count))
                .collect::<Vec<_>>()
                .join("; "),
            consistency: n(o.consistency_flags),
            flags_href: format!(
                "/p/{code}/flags{}",
                query(&[("agency", &o.agency), ("obligation", &o.obligation)])
            ),
            reports_href: format!(
                "/p/{code}/reports{}",
                query(&[
                    ("agency", &o.agency),
                    ("obligation", &o.obligation),
                    ("from", &format::iso(a.from)),
                    ("to", &format::iso(a.to)),
                ])
            ),
            obligation: o.obligation.clone(),
        })
        .collect();
    let agencies = std::iter::once(Choice {
        value: String::new(),
        label: t.all_agencies.into(),
        selected: a.agency.is_empty(),
    })
    .chain(i18n::AGENCIES.iter().map(|code| Choice {
        value: (*code).into(),
        label: i18n::agency(lang, code),
        selected: a.agency == *code,
    }))
    .collect();
    let (from, to) = (format::iso(a.from), format::iso(a.to));
    Ok(ok(&CompliancePage {
        chrome: ctx.chrome(t.nav_compliance, &place, &code, Section::Compliance),
        open_flags: n(board.open_flags.len() as i32),
        flags_href: format!("/p/{code}/flags{}", query(&[("agency", &a.agency)])),
        csv_href: format!(
            "/p/{code}/compliance.csv{}",
            query(&[("from", &from), ("to", &to), ("agency", &a.agency)])
        ),
        code,
        from,
        to,
        agencies,
        rows,
    }))
}

/// `GET /p/{code}/compliance.csv`: as `p06 compliance --format csv`.
pub async fn csv(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<ComplianceQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let a = asked(&ctx, &q)?;
    let board = board(&ctx, &code, &a).await?;
    let records: Vec<_> = board.obligations.iter().map(download::compliance).collect();
    Ok(download::response(
        &format!("compliance-{code}-{}.csv", format::iso(a.to)),
        download::COMPLIANCE_COLUMNS,
        &records,
    ))
}
