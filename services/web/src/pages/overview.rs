//! Page 1, the province overview: one card per indicator (value, target, % of target with a bar,
//! % of the denominator, change since the comparison date, communes meeting target,
//! completeness, oldest figure) and a weekly trend line.
//!
//! Calls, all at once: `GetConsolidatedStatus` as of the date (with the comparison date),
//! `GetStatusTrend` for the eight weekly points of the trend lines, and the indicator catalog
//! (cached here) for denominator names.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use p06_kit::convert::date_from_proto;
use p06_proto::aggregation::{
    GetConsolidatedStatusRequest, GetStatusTrendRequest, IndicatorStatus, StatusTrend,
};
use serde::Deserialize;

use super::{date_param, instant_param, locality, proto_date, query, today, valid_code};
use crate::chart;
use crate::ctx::{Chrome, Ctx, Section, ok};
use crate::download;
use crate::format::{self, Lang};

/// Weekly points of the trend line, the as-of date included.
pub const TREND_WEEKS: i32 = 8;

#[derive(Deserialize, Default)]
pub struct OverviewQuery {
    as_of: Option<String>,
    compare_to: Option<String>,
    /// Only revisions received by this local time (`2025-03-21T17:00`): a meeting's figures.
    known_at: Option<String>,
}

pub struct LowRow {
    pub name: String,
    pub percent: String,
}

pub struct Card {
    pub code: String,
    pub name: String,
    pub has_value: bool,
    pub value: String,
    pub target: String,
    pub has_target: bool,
    pub percent_of_target: String,
    pub bar: String,
    pub denominator: String,
    pub percent_of_denominator: String,
    pub change: String,
    pub met: String,
    pub reporting: String,
    pub completeness: String,
    pub oldest: String,
    pub reports: String,
    pub lowest: Vec<LowRow>,
    pub trend: String,
    pub communes_href: String,
    /// Pace to target: shown when the indicator has a target and a due date.
    pub has_pace: bool,
    pub pace_code: String,
    pub pace_status: String,
    pub pace_recent: String,
    pub pace_needed: String,
    pub pace_projected: String,
    pub pace_due: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    heading: String,
    as_of: String,
    as_of_text: String,
    compare_to: String,
    compare_text: String,
    cards: Vec<Card>,
    csv_href: String,
    code: String,
    known_at: String,
    known_at_text: String,
    /// Set when the figures are carried across the 2025 reform (`i18n::carried_note`).
    carried_note: String,
}

/// The dates asked: as-of (default today), comparison (default a week before).
fn dates(ctx: &Ctx, q: &OverviewQuery) -> Result<(NaiveDate, NaiveDate), Response> {
    let as_of = date_param(ctx, "as_of", q.as_of.as_deref())?.unwrap_or_else(today);
    let compare_to = date_param(ctx, "compare_to", q.compare_to.as_deref())?
        .unwrap_or(as_of - Duration::days(7));
    Ok((as_of, compare_to))
}

fn status_request(
    ctx: &Ctx,
    code: &str,
    as_of: NaiveDate,
    compare_to: Option<NaiveDate>,
    lowest: i32,
    known_at: Option<DateTime<Utc>>,
) -> GetConsolidatedStatusRequest {
    GetConsolidatedStatusRequest {
        locality: locality(ctx, code),
        as_of: proto_date(Some(as_of)),
        indicator_codes: Vec::new(),
        compare_to: proto_date(compare_to),
        lowest_count: lowest,
        flow_from: None,
        known_at: known_at.map(p06_kit::convert::timestamp),
        pace_weeks: 0,
        omit_pace: false,
    }
}

/// `GET /p/{code}`.
pub async fn page(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<OverviewQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let (as_of, compare_to) = dates(&ctx, &q)?;
    let known_at = instant_param(&ctx, "known_at", q.known_at.as_deref())?;
    let api = ctx.api();
    let main = async {
        api.task_force()
            .get_consolidated_status(api.request(
                ctx.token(),
                status_request(&ctx, &code, as_of, Some(compare_to), 3, known_at),
            ))
            .await
    };
    let trend = async {
        api.task_force()
            .get_status_trend(api.request(
                ctx.token(),
                GetStatusTrendRequest {
                    locality: locality(&ctx, &code),
                    as_of: proto_date(Some(as_of)),
                    points: TREND_WEEKS,
                    step_days: 7,
                    indicator_codes: Vec::new(),
                    flow_from: None,
                    known_at: known_at.map(p06_kit::convert::timestamp),
                },
            ))
            .await
    };
    let indicators = api.indicators(ctx.token());
    let (main, trend, indicators) = tokio::join!(main, trend, indicators);
    let status = main.map_err(|s| ctx.fail(s))?.into_inner();
    let trend = trend.map_err(|s| ctx.fail(s))?.into_inner();
    let names: HashMap<String, (String, String)> = indicators
        .map_err(|s| ctx.fail(s))?
        .iter()
        .map(|i| (i.code.clone(), (i.name_vi.clone(), i.name_en.clone())))
        .collect();

    let lang = ctx.lang;
    let t = ctx.t();
    let place = status
        .locality
        .as_ref()
        .map(|l| l.name.clone())
        .unwrap_or_default();
    let province = status
        .locality
        .as_ref()
        .map_or_else(|| code.clone(), |l| l.province_code.clone());
    let cards = status
        .indicators
        .iter()
        .map(|i| card(lang, &code, i, &trend, &names, as_of))
        .collect();
    // The most split / uncarried communes any indicator's figure includes.
    let most = |f: fn(&IndicatorStatus) -> i32| status.indicators.iter().map(f).max().unwrap_or(0);
    let csv_href = format!(
        "/p/{code}/status.csv{}",
        query(&[
            ("as_of", &format::iso(as_of)),
            ("compare_to", &format::iso(compare_to))
        ])
    );
    Ok(ok(&OverviewPage {
        chrome: ctx.chrome(t.nav_overview, &place, &province, Section::Overview),
        heading: place,
        as_of: format::iso(as_of),
        as_of_text: format::date(lang, as_of),
        compare_to: format::iso(compare_to),
        compare_text: format::date(lang, compare_to),
        cards,
        csv_href,
        code,
        known_at: known_at
            .map(format::local_instant_field)
            .unwrap_or_default(),
        known_at_text: known_at
            .map(|t| format::instant(lang, t))
            .unwrap_or_default(),
        carried_note: crate::i18n::carried_note(
            lang,
            crate::i18n::Carried {
                from: status.carried_from_edition,
                to: status.locality.as_ref().map_or("", |l| l.edition.as_str()),
                split: most(|i| i.split_units),
                uncarried: most(|i| i.uncarried_units),
            },
        ),
    }))
}

fn card(
    lang: Lang,
    code: &str,
    i: &IndicatorStatus,
    trend: &StatusTrend,
    names: &HashMap<String, (String, String)>,
    as_of: NaiveDate,
) -> Card {
    let t = crate::i18n::texts(lang);
    let name = match lang {
        Lang::Vi => i.name_vi.clone(),
        Lang::En => i.name_en.clone(),
    };
    let denominator = names
        .get(&i.denominator_code)
        .map(|(vi, en)| {
            if lang == Lang::Vi {
                vi.clone()
            } else {
                en.clone()
            }
        })
        .unwrap_or_else(|| i.denominator_code.clone());
    let series = trend
        .indicators
        .iter()
        .find(|t| t.indicator_code == i.indicator_code);
    let points: Vec<(NaiveDate, Option<f64>)> = series
        .map(|t| {
            t.points
                .iter()
                .filter_map(|p| Some((date_from_proto(p.as_of.as_ref())?, p.value)))
                .collect()
        })
        .unwrap_or_default();
    // Where the series crosses the reform: the first point no longer carried after carried ones.
    let reform = series.and_then(|t| {
        let carried = t.points.iter().position(|p| p.carried_from_edition != 0)?;
        let after = t.points[carried..]
            .iter()
            .position(|p| p.carried_from_edition == 0)?;
        Some(carried + after)
    });
    let percent = format::opt_percent(lang, i.percent_of_target);
    let pace = i.pace.unwrap_or_default();
    Card {
        has_pace: i.pace.is_some(),
        pace_code: crate::i18n::pace_code(pace.status).to_owned(),
        pace_status: crate::i18n::pace_status(lang, pace.status),
        pace_recent: format::per_week(lang, pace.recent_per_week),
        pace_needed: format::per_week(lang, pace.needed_per_week),
        pace_projected: format::opt_date(lang, pace.projected.as_ref()),
        pace_due: format::opt_date(lang, pace.due.as_ref()),
        code: i.indicator_code.clone(),
        has_value: i.value.is_some(),
        value: format::opt_figure(lang, i.value),
        target: format::opt_figure(lang, i.target),
        has_target: i.target.is_some(),
        bar: chart::bar(i.percent_of_target, &format!("{percent} {}", t.of_target)),
        percent_of_target: percent,
        percent_of_denominator: format::opt_percent(lang, i.percent_of_denominator),
        denominator,
        change: format::change(lang, i.change),
        met: format!(
            "{}/{}",
            format::figure(lang, f64::from(i.localities_meeting_target)),
            format::figure(lang, f64::from(i.localities_with_target))
        ),
        reporting: format!(
            "{}/{}",
            format::figure(lang, f64::from(i.localities_reporting)),
            format::figure(lang, f64::from(i.localities_expected))
        ),
        completeness: format::share(lang, i.locality_completeness),
        oldest: format::opt_date(lang, i.oldest_as_of.as_ref()),
        reports: format::figure(lang, f64::from(i.reports_included)),
        lowest: i
            .lowest
            .iter()
            .map(|r| LowRow {
                name: r
                    .locality
                    .as_ref()
                    .map(|l| l.name.clone())
                    .unwrap_or_default(),
                percent: format::opt_percent(lang, r.percent_of_target),
            })
            .collect(),
        trend: chart::trend(lang, &name, &points, i.target, reform),
        communes_href: format!(
            "/p/{code}/communes{}",
            query(&[
                ("indicator", &i.indicator_code),
                ("as_of", &format::iso(as_of))
            ])
        ),
        name,
    }
}

/// `GET /p/{code}/status.csv`: the cards as `p06 status --format csv` prints them.
pub async fn csv(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<OverviewQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let (as_of, compare_to) = dates(&ctx, &q)?;
    let api = ctx.api();
    let status = api
        .task_force()
        .get_consolidated_status(api.request(
            ctx.token(),
            status_request(
                &ctx,
                &code,
                as_of,
                Some(compare_to),
                5,
                instant_param(&ctx, "known_at", q.known_at.as_deref())?,
            ),
        ))
        .await
        .map_err(|s| ctx.fail(s))?
        .into_inner();
    Ok(download::response(
        &ctx,
        &format!("status-{code}-{}.csv", format::iso(as_of)),
        download::STATUS_COLUMNS,
        &download::status(&status),
    ))
}
