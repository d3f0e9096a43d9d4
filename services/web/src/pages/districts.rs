//! Page 2, districts: per district, how many of its communes are below a threshold of their
//! target ("Kông Chro 5/14") as a bar, sortable, each linking to the district's communes.
//!
//! Calls: `SummarizeChildren` (one), the indicator catalog (cached).

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use p06_proto::aggregation::{ChildSummary, SummarizeChildrenRequest};
use serde::Deserialize;

use super::{
    Choice, DEFAULT_INDICATOR, date_param, locality, percent_param, proto_date, query, today,
    valid_code,
};
use crate::chart;
use crate::ctx::{Chrome, Ctx, Section, ok};
use crate::download;
use crate::format::{self, Lang};

#[derive(Deserialize, Default)]
pub struct DistrictsQuery {
    indicator: Option<String>,
    threshold: Option<String>,
    as_of: Option<String>,
    sort: Option<String>,
}

struct Asked {
    indicator: String,
    threshold: f64,
    as_of: chrono::NaiveDate,
    sort: &'static str,
}

fn asked(ctx: &Ctx, q: &DistrictsQuery) -> Result<Asked, Response> {
    let sort = match q.sort.as_deref() {
        Some("share") => "share",
        Some("name") => "name",
        Some("percent") => "percent",
        _ => "below",
    };
    Ok(Asked {
        indicator: q
            .indicator
            .clone()
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| DEFAULT_INDICATOR.to_owned()),
        threshold: percent_param(ctx, "threshold", q.threshold.as_deref())?.unwrap_or(50.0),
        as_of: date_param(ctx, "as_of", q.as_of.as_deref())?.unwrap_or_else(today),
        sort,
    })
}

async fn summarize(ctx: &Ctx, code: &str, a: &Asked) -> Result<Vec<ChildSummary>, Response> {
    let api = ctx.api();
    Ok(api
        .task_force()
        .summarize_children(api.request(
            ctx.token(),
            SummarizeChildrenRequest {
                indicator_code: a.indicator.clone(),
                parent: locality(ctx, code),
                threshold_percent: a.threshold,
                as_of: proto_date(Some(a.as_of)),
                known_at: None,
            },
        ))
        .await
        .map_err(|s| ctx.fail(s))?
        .into_inner()
        .children)
}

fn share(s: &ChildSummary) -> f64 {
    if s.total > 0 {
        f64::from(s.below_threshold) / f64::from(s.total)
    } else {
        0.0
    }
}

/// Orders the districts as asked; ties by code, so the order is stable.
fn sort(rows: &mut [ChildSummary], by: &str) {
    let code = |s: &ChildSummary| {
        s.child
            .as_ref()
            .and_then(|c| c.locality.as_ref())
            .map(|l| l.code.clone())
            .unwrap_or_default()
    };
    let name = |s: &ChildSummary| {
        s.child
            .as_ref()
            .and_then(|c| c.locality.as_ref())
            .map(|l| crate::fold::fold(&l.name))
            .unwrap_or_default()
    };
    let pct = |s: &ChildSummary| {
        s.child
            .as_ref()
            .and_then(|c| c.percent_of_target)
            .unwrap_or(f64::INFINITY)
    };
    match by {
        "share" => rows.sort_by(|a, b| {
            share(b)
                .total_cmp(&share(a))
                .then_with(|| code(a).cmp(&code(b)))
        }),
        "name" => rows.sort_by_key(name),
        "percent" => rows.sort_by(|a, b| {
            pct(a)
                .total_cmp(&pct(b))
                .then_with(|| code(a).cmp(&code(b)))
        }),
        _ => rows.sort_by(|a, b| {
            b.below_threshold
                .cmp(&a.below_threshold)
                .then_with(|| code(a).cmp(&code(b)))
        }),
    }
}

pub struct Row {
    pub name: String,
    pub below: String,
    pub bar: String,
    pub without_data: String,
    pub value: String,
    pub percent: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "districts.html")]
struct DistrictsPage {
    chrome: Chrome,
    code: String,
    indicators: Vec<Choice>,
    sorts: Vec<Choice>,
    threshold: String,
    threshold_text: String,
    as_of: String,
    rows: Vec<Row>,
    csv_href: String,
}

/// `GET /p/{code}/districts`.
pub async fn page(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<DistrictsQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let a = asked(&ctx, &q)?;
    let (children, indicators, place) = tokio::join!(
        summarize(&ctx, &code, &a),
        ctx.api().indicators(ctx.token()),
        ctx.api().province_name(ctx.token(), ctx.edition(), &code),
    );
    let mut children = children?;
    let indicators = indicators.map_err(|s| ctx.fail(s))?;
    let place = place.map_err(|s| ctx.fail(s))?;
    sort(&mut children, a.sort);
    let lang = ctx.lang;
    let t = ctx.t();
    let threshold_text = format::percent(lang, a.threshold);
    let iso = format::iso(a.as_of);
    let threshold = format::number(Lang::En, a.threshold, 1).replace(",", "");
    let rows = children
        .iter()
        .map(|s| {
            let child = s.child.clone().unwrap_or_default();
            let l = child.locality.clone().unwrap_or_default();
            let fraction = share(s) * 100.0;
            let below = format!(
                "{}/{}",
                format::figure(lang, f64::from(s.below_threshold)),
                format::figure(lang, f64::from(s.total))
            );
            Row {
                bar: chart::lag_bar(fraction, &format!("{} {below}", t.below_threshold)),
                below,
                without_data: format::figure(lang, f64::from(s.without_data)),
                value: format::opt_figure(lang, child.value),
                percent: format::opt_percent(lang, child.percent_of_target),
                href: format!(
                    "/p/{code}/communes{}",
                    query(&[
                        ("district", &l.code),
                        ("indicator", &a.indicator),
                        ("below", &threshold),
                        ("as_of", &iso)
                    ])
                ),
                name: l.name,
            }
        })
        .collect();
    let indicators = indicators
        .iter()
        .map(|i| Choice {
            selected: i.code == a.indicator,
            label: if lang == Lang::Vi {
                i.name_vi.clone()
            } else {
                i.name_en.clone()
            },
            value: i.code.clone(),
        })
        .collect();
    let sorts = [
        ("below", t.sort_below),
        ("share", t.sort_share),
        ("percent", t.sort_percent),
        ("name", t.sort_name),
    ]
    .into_iter()
    .map(|(v, label)| Choice {
        value: v.into(),
        label: label.into(),
        selected: v == a.sort,
    })
    .collect();
    let csv_href = format!(
        "/p/{code}/districts.csv{}",
        query(&[
            ("indicator", &a.indicator),
            ("threshold", &threshold),
            ("as_of", &iso)
        ])
    );
    Ok(ok(&DistrictsPage {
        chrome: ctx.chrome(t.nav_districts, &place, &code, Section::Districts),
        code,
        indicators,
        sorts,
        threshold,
        threshold_text,
        as_of: iso,
        rows,
        csv_href,
    }))
}

/// `GET /p/{code}/districts.csv`: as `p06 districts --format csv`.
pub async fn csv(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<DistrictsQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let a = asked(&ctx, &q)?;
    let mut children = summarize(&ctx, &code, &a).await?;
    sort(&mut children, a.sort);
    let records: Vec<_> = children.iter().map(download::district).collect();
    Ok(download::response(
        &ctx,
        &format!("districts-{code}-{}.csv", a.indicator),
        download::DISTRICT_COLUMNS,
        &records,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p06_proto::aggregation::{Locality, LocalityProgress};

    fn summary(code: &str, name: &str, below: i32, total: i32) -> ChildSummary {
        ChildSummary {
            child: Some(LocalityProgress {
                locality: Some(Locality {
                    code: code.into(),
                    name: name.into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            below_threshold: below,
            total,
            ..Default::default()
        }
    }

    fn codes(rows: &[ChildSummary]) -> Vec<String> {
        rows.iter()
            .map(|s| {
                s.child
                    .as_ref()
                    .unwrap()
                    .locality
                    .as_ref()
                    .unwrap()
                    .code
                    .clone()
            })
            .collect()
    }

    #[test]
    fn districts_sort_by_count_share_or_name() {
        let mut rows = vec![
            summary("1", "Đak Đoa", 5, 10),
            summary("2", "Kông Chro", 5, 14),
            summary("3", "An Khê", 2, 2),
        ];
        sort(&mut rows, "below");
        assert_eq!(codes(&rows), ["1", "2", "3"]);
        sort(&mut rows, "share");
        assert_eq!(codes(&rows), ["3", "1", "2"]);
        sort(&mut rows, "name");
        assert_eq!(codes(&rows), ["3", "1", "2"]);
    }
}
