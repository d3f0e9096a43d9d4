//! Page 3, communes: the ranking, lowest percent of target first, of one district or the whole
//! province; "below X %" filter; search by name with or without diacritics.
//!
//! Calls: `ListLocalityProgress` (the server filters by percent and ranks; pages of 1,000), the
//! indicator catalog and the province's districts (both cached). The name search is applied here,
//! on the rows the server returned.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use p06_proto::aggregation::{
    ListLocalityProgressRequest, LocalityLevel, LocalityProgress, ProgressOrder,
};
use serde::Deserialize;

use super::{
    Choice, DEFAULT_INDICATOR, date_param, locality, percent_param, proto_date, query, today,
    valid_code,
};
use crate::chart;
use crate::ctx::{Chrome, Ctx, Section, ok};
use crate::download;
use crate::fold;
use crate::format::{self, Lang};

/// Rows per page: the worst hundred first; the pager and the CSV have the rest (keeps the largest
/// province's page small and quick to render).
pub const PAGE_ROWS: usize = 100;

#[derive(Deserialize, Default)]
pub struct CommunesQuery {
    indicator: Option<String>,
    district: Option<String>,
    below: Option<String>,
    q: Option<String>,
    as_of: Option<String>,
    page: Option<usize>,
    /// A pace status code (`off-track`), when filtering by pace.
    pace: Option<String>,
}

struct Asked {
    indicator: String,
    district: String,
    below: Option<f64>,
    /// The pace status filtered on (its `PaceStatus` number; 0 = any).
    pace: i32,
    search: String,
    as_of: chrono::NaiveDate,
    page: usize,
}

fn asked(ctx: &Ctx, q: &CommunesQuery) -> Result<Asked, Response> {
    let district = q.district.clone().unwrap_or_default();
    if !district.is_empty() && !valid_code(&district) {
        return Err(ctx.bad_request("district: not a locality code"));
    }
    Ok(Asked {
        indicator: q
            .indicator
            .clone()
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| DEFAULT_INDICATOR.to_owned()),
        district,
        below: percent_param(ctx, "below", q.below.as_deref())?,
        pace: match q.pace.as_deref().map(str::trim).unwrap_or_default() {
            "" => 0,
            code => (1..=5)
                .find(|s| crate::i18n::pace_code(*s) == code)
                .ok_or_else(|| {
                    ctx.bad_request("pace: met, on-track, at-risk, off-track or no-trend")
                })?,
        },
        search: q
            .q
            .clone()
            .unwrap_or_default()
            .trim()
            .chars()
            .take(100)
            .collect(),
        as_of: date_param(ctx, "as_of", q.as_of.as_deref())?.unwrap_or_else(today),
        page: q.page.unwrap_or(1).max(1),
    })
}

/// The rows the server gives for the question, then the name search, and how many there are in
/// all. Without a search only the first `needed` rows are fetched (the page shown and those before
/// it); a search reads every row, since the API does not search names.
async fn rows(
    ctx: &Ctx,
    code: &str,
    a: &Asked,
    needed: Option<usize>,
) -> Result<(Vec<LocalityProgress>, usize), Response> {
    let api = ctx.api();
    let parent = if a.district.is_empty() {
        code
    } else {
        &a.district
    };
    let q = fold::fold(&a.search);
    let needed = if q.is_empty() { needed } else { None };
    let mut all = Vec::new();
    let mut total;
    let mut page_token = String::new();
    loop {
        let wanted = needed.map_or(1_000, |n| (n - all.len()).clamp(1, 1_000));
        let page = api
            .task_force()
            .list_locality_progress(api.request(
                ctx.token(),
                ListLocalityProgressRequest {
                    indicator_code: a.indicator.clone(),
                    parent: locality(ctx, parent),
                    level: LocalityLevel::Commune as i32,
                    below_percent: a.below,
                    above_percent: None,
                    only_no_data: false,
                    order: ProgressOrder::PercentAsc as i32,
                    as_of: proto_date(Some(a.as_of)),
                    compare_to: None,
                    page_size: wanted as i32,
                    page_token: page_token.clone(),
                    pace_statuses: if a.pace == 0 { vec![] } else { vec![a.pace] },
                    known_at: None,
                    pace_weeks: 0,
                },
            ))
            .await
            .map_err(|s| ctx.fail(s))?
            .into_inner();
        total = usize::try_from(page.total_size).unwrap_or(0);
        all.extend(page.rows);
        if page.next_page_token.is_empty() || needed.is_some_and(|n| all.len() >= n) {
            break;
        }
        page_token = page.next_page_token;
    }
    if !q.is_empty() {
        all.retain(|r| {
            r.locality
                .as_ref()
                .is_some_and(|l| fold::matches(&l.name, &q))
        });
        total = all.len();
    }
    let total = total.max(all.len());
    Ok((all, total))
}

pub struct Row {
    pub rank: String,
    pub name: String,
    pub code: String,
    pub district: String,
    pub value: String,
    pub target: String,
    pub percent: String,
    pub bar: String,
    pub denominator: String,
    pub percent_of_denominator: String,
    pub pace_code: String,
    pub pace_status: String,
    pub pace_detail: String,
}

#[derive(Template)]
#[template(path = "communes.html")]
struct CommunesPage {
    chrome: Chrome,
    code: String,
    heading: String,
    indicators: Vec<Choice>,
    districts: Vec<Choice>,
    has_districts: bool,
    below: String,
    paces: Vec<Choice>,
    search: String,
    as_of: String,
    rows: Vec<Row>,
    count: String,
    prev_href: String,
    next_href: String,
    csv_href: String,
}

/// `GET /p/{code}/communes`.
pub async fn page(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<CommunesQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let a = asked(&ctx, &q)?;
    let api = ctx.api();
    let start = (a.page - 1) * PAGE_ROWS;
    let (found, indicators, districts, place) = tokio::join!(
        rows(&ctx, &code, &a, Some(start + PAGE_ROWS)),
        api.indicators(ctx.token()),
        api.localities(ctx.token(), ctx.edition(), &code, LocalityLevel::District),
        api.province_name(ctx.token(), ctx.edition(), &code),
    );
    let (found, total) = found?;
    let indicators = indicators.map_err(|s| ctx.fail(s))?;
    let districts = districts.map_err(|s| ctx.fail(s))?;
    let place = place.map_err(|s| ctx.fail(s))?;
    let lang = ctx.lang;
    let t = ctx.t();
    let district_names: HashMap<&str, &str> = districts
        .iter()
        .map(|d| (d.code.as_str(), d.name.as_str()))
        .collect();
    let shown: Vec<Row> = found
        .iter()
        .skip(start)
        .take(PAGE_ROWS)
        .map(|r| {
            let l = r.locality.clone().unwrap_or_default();
            let pace = r.pace.unwrap_or_default();
            Row {
                pace_code: crate::i18n::pace_code(pace.status).to_owned(),
                pace_status: crate::i18n::pace_status(lang, pace.status),
                pace_detail: match r.pace {
                    Some(_) => format!(
                        "{} {} · {} {}",
                        t.pace_needed,
                        format::per_week(lang, pace.needed_per_week),
                        t.pace_recent,
                        format::per_week(lang, pace.recent_per_week)
                    ),
                    None => String::new(),
                },
                rank: if r.rank > 0 {
                    r.rank.to_string()
                } else {
                    "—".into()
                },
                district: district_names
                    .get(l.parent_code.as_str())
                    .map(|s| (*s).to_owned())
                    .unwrap_or_default(),
                name: l.name,
                code: l.code,
                value: format::opt_figure(lang, r.value),
                target: format::opt_figure(lang, r.target),
                percent: format::opt_percent(lang, r.percent_of_target),
                bar: chart::mini_bar(r.percent_of_target),
                denominator: format::opt_figure(lang, r.denominator_value),
                percent_of_denominator: format::opt_percent(lang, r.percent_of_denominator),
            }
        })
        .collect();
    let below = a
        .below
        .map(|b| format::number(Lang::En, b, 1).replace(',', ""))
        .unwrap_or_default();
    let iso = format::iso(a.as_of);
    let pace_code = crate::i18n::pace_code(a.pace);
    let link = |page: usize| {
        let page = page.to_string();
        format!(
            "/p/{code}/communes{}",
            query(&[
                ("indicator", &a.indicator),
                ("district", &a.district),
                ("below", &below),
                ("pace", pace_code),
                ("q", &a.search),
                ("as_of", &iso),
                ("page", if page == "1" { "" } else { &page }),
            ])
        )
    };
    let prev_href = if a.page > 1 {
        link(a.page - 1)
    } else {
        String::new()
    };
    let next_href = if start + PAGE_ROWS < total {
        link(a.page + 1)
    } else {
        String::new()
    };
    let count = format!(
        "{}–{} / {}",
        format::figure(lang, (start + 1).min(total) as f64),
        format::figure(lang, (start + shown.len()) as f64),
        format::figure(lang, total as f64)
    );
    let csv_href = format!(
        "/p/{code}/communes.csv{}",
        query(&[
            ("indicator", &a.indicator),
            ("district", &a.district),
            ("below", &below),
            ("pace", pace_code),
            ("q", &a.search),
            ("as_of", &iso)
        ])
    );
    let heading = match district_names.get(a.district.as_str()) {
        Some(d) => format!("{} — {d}", t.communes_caption),
        None => t.communes_caption.to_owned(),
    };
    let mut district_choices = vec![Choice {
        value: String::new(),
        label: t.whole_province.to_owned(),
        selected: a.district.is_empty(),
    }];
    district_choices.extend(districts.iter().map(|d| Choice {
        value: d.code.clone(),
        label: d.name.clone(),
        selected: d.code == a.district,
    }));
    Ok(ok(&CommunesPage {
        chrome: ctx.chrome(t.nav_communes, &place, &code, Section::Communes),
        code,
        heading,
        indicators: indicators
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
            .collect(),
        has_districts: !districts.is_empty(),
        districts: district_choices,
        below,
        paces: (0..=5)
            .map(|s| Choice {
                value: crate::i18n::pace_code(s).to_owned(),
                label: match s {
                    0 => t.pace_any.to_owned(),
                    s => crate::i18n::pace_status(lang, s),
                },
                selected: s == a.pace,
            })
            .collect(),
        search: a.search,
        as_of: iso,
        rows: shown,
        count,
        prev_href,
        next_href,
        csv_href,
    }))
}

/// `GET /p/{code}/communes.csv`: every row of the question (not just one page), as
/// `p06 progress --format csv`.
pub async fn csv(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<CommunesQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let a = asked(&ctx, &q)?;
    let (found, _) = rows(&ctx, &code, &a, None).await?;
    let records: Vec<_> = found.iter().map(download::progress).collect();
    Ok(download::response(
        &ctx,
        &format!("communes-{code}-{}.csv", a.indicator),
        download::PROGRESS_COLUMNS,
        &records,
    ))
}
