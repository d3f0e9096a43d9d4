//! Page 7, the country (a national task-force token, `province = VN`): provinces ranked by one
//! indicator, lowest percent of target first, each opening that province's pages.
//!
//! Calls: `ListLocalityProgress` of the provinces below `VN`, the indicator catalog (cached).

use askama::Template;
use axum::extract::Query;
use axum::response::Response;
use p06_proto::aggregation::{
    ListLocalityProgressRequest, LocalityLevel, LocalityProgress, ProgressOrder,
};
use serde::Deserialize;

use super::{Choice, DEFAULT_INDICATOR, date_param, locality, proto_date, today};
use crate::chart;
use crate::claims::COUNTRY;
use crate::ctx::{Chrome, Ctx, Section, ok};
use crate::download;
use crate::format::{self, Lang};

#[derive(Deserialize, Default)]
pub struct CountryQuery {
    indicator: Option<String>,
    as_of: Option<String>,
}

async fn rows(
    ctx: &Ctx,
    indicator: &str,
    as_of: chrono::NaiveDate,
) -> Result<Vec<LocalityProgress>, Response> {
    let api = ctx.api();
    Ok(api
        .task_force()
        .list_locality_progress(api.request(
            ctx.token(),
            ListLocalityProgressRequest {
                indicator_code: indicator.to_owned(),
                parent: locality(ctx, COUNTRY),
                level: LocalityLevel::Province as i32,
                order: ProgressOrder::PercentAsc as i32,
                as_of: proto_date(Some(as_of)),
                page_size: 1_000,
                ..Default::default()
            },
        ))
        .await
        .map_err(|s| ctx.fail(s))?
        .into_inner()
        .rows)
}

pub struct Row {
    pub rank: String,
    pub code: String,
    pub name: String,
    pub value: String,
    pub target: String,
    pub percent: String,
    pub bar: String,
    pub percent_of_denominator: String,
}

#[derive(Template)]
#[template(path = "country.html")]
struct CountryPage {
    chrome: Chrome,
    indicators: Vec<Choice>,
    as_of: String,
    rows: Vec<Row>,
    csv_href: String,
}

/// `GET /country`.
pub async fn page(ctx: Ctx, Query(q): Query<CountryQuery>) -> Result<Response, Response> {
    let indicator = q
        .indicator
        .clone()
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| DEFAULT_INDICATOR.to_owned());
    let as_of = date_param(&ctx, "as_of", q.as_of.as_deref())?.unwrap_or_else(today);
    let (found, indicators) = tokio::join!(
        rows(&ctx, &indicator, as_of),
        ctx.api().indicators(ctx.token())
    );
    let found = found?;
    let indicators = indicators.map_err(|s| ctx.fail(s))?;
    let lang = ctx.lang;
    let t = ctx.t();
    let rows = found
        .iter()
        .map(|r| {
            let l = r.locality.clone().unwrap_or_default();
            Row {
                rank: if r.rank > 0 {
                    r.rank.to_string()
                } else {
                    "—".into()
                },
                code: l.code,
                name: l.name,
                value: format::opt_figure(lang, r.value),
                target: format::opt_figure(lang, r.target),
                percent: format::opt_percent(lang, r.percent_of_target),
                bar: chart::mini_bar(r.percent_of_target),
                percent_of_denominator: format::opt_percent(lang, r.percent_of_denominator),
            }
        })
        .collect();
    let iso = format::iso(as_of);
    Ok(ok(&CountryPage {
        chrome: ctx.chrome(t.nav_country, "", COUNTRY, Section::Country),
        indicators: indicators
            .iter()
            .map(|i| Choice {
                selected: i.code == indicator,
                label: if lang == Lang::Vi {
                    i.name_vi.clone()
                } else {
                    i.name_en.clone()
                },
                value: i.code.clone(),
            })
            .collect(),
        csv_href: format!(
            "/country.csv{}",
            super::query(&[("indicator", &indicator), ("as_of", &iso)])
        ),
        as_of: iso,
        rows,
    }))
}

/// `GET /country.csv`: as `p06 progress --province VN --level province --format csv`.
pub async fn csv(ctx: Ctx, Query(q): Query<CountryQuery>) -> Result<Response, Response> {
    let indicator = q
        .indicator
        .clone()
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| DEFAULT_INDICATOR.to_owned());
    let as_of = date_param(&ctx, "as_of", q.as_of.as_deref())?.unwrap_or_else(today);
    let found = rows(&ctx, &indicator, as_of).await?;
    let records: Vec<_> = found.iter().map(download::progress).collect();
    Ok(download::response(
        &ctx,
        &format!("provinces-{indicator}.csv"),
        download::PROGRESS_COLUMNS,
        &records,
    ))
}
