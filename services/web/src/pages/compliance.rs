//! Page 4, compliance: per obligation and agency, expected, received, on time, late, missing,
//! vague, the rates, the worst lateness and the top vagueness reasons in words; each row links to
//! reports and the flags behind it.
//!
//! Calls: `GetComplianceBoard` (one). The chase-up letter's download (`letter.docx`) calls what
//! `p06 chase` calls (`p06_letter::gather`), with the signed-in user's token.

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse as _, Response};
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
    /// Empty on the country's page (a letter is a province's).
    letter_href: String,
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
        letter_href: if code == crate::claims::COUNTRY {
            String::new()
        } else {
            format!("/p/{code}/compliance/letter.docx{}", query(&[("to", &to)]))
        },
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
        &ctx,
        &format!("compliance-{code}-{}.csv", format::iso(a.to)),
        download::COMPLIANCE_COLUMNS,
        &records,
    ))
}

/// The signed-in user's token on every call of the letter's facts.
struct Bearer<'a>(&'a crate::api::Api, &'a str);

impl p06_letter::Authorize for Bearer<'_> {
    fn authorize<T>(&self, message: T) -> tonic::Request<T> {
        self.0.request(self.1, message)
    }
}

/// `GET /p/{code}/compliance/letter.docx?to=DATE`: the chase-up letter (công văn đôn đốc) as of
/// `to` (default today), new deadline 5 working days later — the .docx of `p06 chase --province
/// {code} --as-of {to} -o letter.docx`, drawn from the same facts through the same API.
pub async fn letter(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<ComplianceQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) || code == crate::claims::COUNTRY {
        return Err(ctx.bad_request("locality code: a province"));
    }
    let a = asked(&ctx, &q)?;
    let ask = p06_letter::Ask {
        edition: ctx.edition().to_owned(),
        province: code.clone(),
        as_of: a.to,
        deadline_days: 5,
    };
    let api = ctx.api();
    let facts = p06_letter::gather(api.channel(), &Bearer(api, ctx.token()), &ask)
        .await
        .map_err(|f| ctx.fail(f.status))?;
    let Some(letter) = p06_letter::Letter::from_facts(&facts) else {
        return Ok((
            http::StatusCode::NOT_FOUND,
            [(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!(
                "Không có cơ quan nào cần đôn đốc tính đến ngày {}.",
                p06_letter::letter::date(a.to)
            ),
        )
            .into_response());
    };
    match p06_letter::docx::render(&letter) {
        Ok(bytes) => Ok((
            [
                (
                    http::header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                        .to_owned(),
                ),
                (
                    http::header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"cong-van-don-doc-{code}-{}.docx\"",
                        format::iso(a.to)
                    ),
                ),
            ],
            bytes,
        )
            .into_response()),
        Err(e) => {
            tracing::error!(error = %e, "chase-up letter failed");
            Ok(http::StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}
