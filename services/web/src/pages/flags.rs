//! Page 5, flags: the open flags, filterable by kind, agency and obligation, complete without
//! script; `flags.js` adds the ones raised while the page is open, from Server-Sent Events that
//! this service feeds from the aggregator's `WatchFlags` (one stream per open page, with that
//! page's token, so the aggregator decides what each browser sees).
//!
//! Calls: `ListFlags` (pages of 1,000), the province's communes (cached, for names); the event
//! stream: `WatchFlags`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use p06_proto::aggregation::{Flag, ListFlagsRequest, LocalityLevel, WatchFlagsRequest};
use serde::Deserialize;
use tokio_stream::StreamExt as _;

use super::{Choice, locality, query, valid_code};
use crate::assets;
use crate::ctx::{Chrome, Ctx, Section, ok};
use crate::download;
use crate::format::{self, Lang};
use crate::i18n;

#[derive(Deserialize, Default, Clone)]
pub struct FlagsQuery {
    kind: Option<String>,
    agency: Option<String>,
    obligation: Option<String>,
    /// Events only: the newest flag the page shows (`flags/{id}`); the stream starts after it.
    after: Option<String>,
}

struct Asked {
    kind: String,
    agency: String,
    obligation: String,
}

fn asked(ctx: &Ctx, q: &FlagsQuery) -> Result<Asked, Response> {
    let kind = q.kind.clone().unwrap_or_default();
    let agency = q.agency.clone().unwrap_or_default();
    if !kind.is_empty() && !i18n::FLAG_KINDS.contains(&kind.as_str()) {
        return Err(ctx.bad_request("kind: not a flag kind"));
    }
    if !agency.is_empty() && !i18n::AGENCIES.contains(&agency.as_str()) {
        return Err(ctx.bad_request("agency: police, health or justice"));
    }
    Ok(Asked {
        kind,
        agency,
        obligation: q
            .obligation
            .clone()
            .unwrap_or_default()
            .chars()
            .take(100)
            .collect(),
    })
}

async fn open_flags(ctx: &Ctx, code: &str, a: &Asked) -> Result<Vec<Flag>, Response> {
    let api = ctx.api();
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = api
            .task_force()
            .list_flags(api.request(
                ctx.token(),
                ListFlagsRequest {
                    province: locality(ctx, code),
                    kind: a.kind.clone(),
                    state: "OPEN".into(),
                    agency: a.agency.clone(),
                    page_size: 1_000,
                    page_token: page_token.clone(),
                    archived: false,
                },
            ))
            .await
            .map_err(|s| ctx.fail(s))?
            .into_inner();
        all.extend(page.flags);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    all.retain(|f| a.obligation.is_empty() || f.obligation == a.obligation);
    Ok(all)
}

/// A flag as the table (and the live script) shows it.
#[derive(serde::Serialize)]
pub struct FlagRow {
    pub name: String,
    pub kind: String,
    pub kind_text: String,
    pub agency_text: String,
    pub obligation: String,
    pub period: String,
    pub locality: String,
    pub message: String,
    pub report: String,
    /// The report page, empty for a flag about no report (MISSING).
    pub report_href: String,
    pub raised: String,
    pub announce: String,
}

/// A flag's facts in the reader's language (the aggregator's `message` is an English sentence
/// kept for logs; it is the fallback for facts this page does not know).
pub fn message(lang: Lang, f: &Flag) -> String {
    let vi = lang == Lang::Vi;
    match f.kind.as_str() {
        "LATE" if f.lateness.is_some() => {
            let late = format::lateness(lang, f.lateness.as_ref().map_or(0, |d| d.seconds));
            if vi {
                format!("Lần nộp đầu tiên trễ {late} so với hạn")
            } else {
                format!("First revision {late} after the deadline")
            }
        }
        "MISSING" if f.deadline.is_some() => {
            let deadline = format::opt_timestamp(lang, f.deadline.as_ref());
            if vi {
                format!("Không có báo cáo khi hết hạn {deadline}")
            } else {
                format!("No report by the deadline {deadline}")
            }
        }
        "VAGUE" if f.specificity_score.is_some() => {
            let reasons: Vec<String> = f
                .reason_codes
                .iter()
                .map(|c| i18n::vague_reason(lang, c))
                .collect();
            let score = f.specificity_score.unwrap_or_default();
            if vi {
                format!("Điểm cụ thể {score}/100: {}", reasons.join("; "))
            } else {
                format!("Specificity {score}/100: {}", reasons.join("; "))
            }
        }
        "STOCK_DECREASE" | "TREND_JUMP" | "ABOVE_DENOMINATOR"
            if f.value.is_some() && f.reference.is_some() =>
        {
            let (value, reference) = (
                format::opt_figure(lang, f.value),
                format::opt_figure(lang, f.reference),
            );
            let what = if f.kind == "ABOVE_DENOMINATOR" {
                if vi { "mẫu số" } else { "its denominator" }
            } else if vi {
                "số trước đó"
            } else {
                "the previous figure"
            };
            let indicator = &f.indicator_code;
            if vi {
                format!("{indicator}: {value} (so với {what} {reference})")
            } else {
                format!("{indicator}: {value} (against {what} {reference})")
            }
        }
        // The aggregator words it in Vietnamese, with the sentence it quotes.
        "NARRATIVE_MISMATCH" if !f.quote.is_empty() => {
            if vi {
                format!("{} — «{}»", f.message, f.quote)
            } else {
                format!("{} (the report says: «{}»)", f.message, f.quote)
            }
        }
        // The server's message is Vietnamese and names both figures and both reports.
        "CROSS_AGENCY_MISMATCH" if !vi && f.value.is_some() && f.reference.is_some() => {
            format!(
                "{}: {} (above another agency's figure that bounds it, {})",
                f.indicator_code,
                format::opt_figure(lang, f.value),
                format::opt_figure(lang, f.reference)
            )
        }
        _ => f.message.clone(),
    }
}

fn row(lang: Lang, f: &Flag, names: &HashMap<String, String>) -> FlagRow {
    let period = f.period.unwrap_or_default();
    let kind_text = i18n::flag_kind(lang, &f.kind);
    FlagRow {
        announce: format!(
            "{}: {} — {}",
            i18n::texts(lang).nav_flags,
            kind_text,
            f.obligation
        ),
        name: f.name.clone(),
        kind: f.kind.clone(),
        kind_text,
        agency_text: i18n::agency(lang, &f.agency),
        obligation: f.obligation.clone(),
        period: format!(
            "{} – {}",
            format::opt_date(lang, period.start.as_ref()),
            format::opt_date(lang, period.end.as_ref())
        ),
        locality: if f.locality_code.is_empty() {
            String::new()
        } else {
            names.get(&f.locality_code).map_or_else(
                || f.locality_code.clone(),
                |n| format!("{n} ({})", f.locality_code),
            )
        },
        message: message(lang, f),
        report_href: match (f.report.strip_prefix("reports/"), &f.province) {
            (Some(id), Some(p)) => format!("/p/{}/reports/{id}", p.code),
            _ => String::new(),
        },
        report: f.report.clone(),
        raised: format::opt_timestamp(lang, f.raise_time.as_ref()),
    }
}

#[derive(Template)]
#[template(path = "flags.html")]
struct FlagsPage {
    chrome: Chrome,
    code: String,
    kinds: Vec<Choice>,
    agencies: Vec<Choice>,
    obligation: String,
    rows: Vec<FlagRow>,
    events_href: String,
    csv_href: String,
}

/// Commune (and district) names of a province, for flags that name a locality.
async fn names(ctx: &Ctx, code: &str) -> Result<HashMap<String, String>, Response> {
    let communes = ctx
        .api()
        .localities(ctx.token(), ctx.edition(), code, LocalityLevel::Commune)
        .await
        .map_err(|s| ctx.fail(s))?;
    Ok(communes
        .iter()
        .map(|l| (l.code.clone(), l.name.clone()))
        .collect())
}

/// `GET /p/{code}/flags`.
pub async fn page(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<FlagsQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let a = asked(&ctx, &q)?;
    let (flags, names, place) = tokio::join!(
        open_flags(&ctx, &code, &a),
        names(&ctx, &code),
        ctx.api().province_name(ctx.token(), ctx.edition(), &code),
    );
    let (flags, names) = (flags?, names?);
    let place = place.map_err(|s| ctx.fail(s))?;
    let lang = ctx.lang;
    let t = ctx.t();
    let filters = [
        ("kind", a.kind.as_str()),
        ("agency", a.agency.as_str()),
        ("obligation", a.obligation.as_str()),
    ];
    let mut chrome = ctx.chrome(t.nav_flags, &place, &code, Section::Flags);
    chrome.script = assets::flags_js_url();
    let kinds = std::iter::once(Choice {
        value: String::new(),
        label: t.all_kinds.into(),
        selected: a.kind.is_empty(),
    })
    .chain(i18n::FLAG_KINDS.iter().map(|k| Choice {
        value: (*k).into(),
        label: i18n::flag_kind(lang, k),
        selected: a.kind == *k,
    }))
    .collect();
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
    // The stream resumes after the newest flag shown, so a flag raised between this render and
    // the browser's connection is sent too.
    let newest = flags
        .iter()
        .filter_map(|f| f.name.strip_prefix("flags/")?.parse::<i64>().ok())
        .max()
        .map(|id| format!("flags/{id}"))
        .unwrap_or_else(|| "flags/0".to_owned());
    let mut with_lang = filters.to_vec();
    with_lang.push(("lang", lang.code()));
    with_lang.push(("after", &newest));
    Ok(ok(&FlagsPage {
        chrome,
        events_href: format!("/p/{code}/flags/events{}", query(&with_lang)),
        csv_href: format!("/p/{code}/flags.csv{}", query(&filters)),
        rows: flags.iter().map(|f| row(lang, f, &names)).collect(),
        code,
        kinds,
        agencies,
        obligation: a.obligation,
    }))
}

/// `GET /p/{code}/flags.csv`: as `p06 flags --state OPEN --format csv`.
pub async fn csv(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<FlagsQuery>,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let a = asked(&ctx, &q)?;
    let flags = open_flags(&ctx, &code, &a).await?;
    let records: Vec<_> = flags.iter().map(download::flag).collect();
    Ok(download::response(
        &ctx,
        &format!("flags-{code}.csv"),
        download::FLAG_COLUMNS,
        &records,
    ))
}

/// `GET /p/{code}/flags/events`: Server-Sent Events, one `flag` event (the row as JSON) per flag
/// the aggregator raises while the page is open. The stream ends when the aggregator ends it
/// (e.g. the token expired); the browser then reconnects and a stale session gets the sign-in
/// redirect.
pub async fn events(
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<FlagsQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, Response> {
    if !valid_code(&code) {
        return Err(ctx.bad_request("locality code"));
    }
    let a = asked(&ctx, &q)?;
    let api = ctx.api();
    let stream = api
        .task_force()
        .watch_flags(
            api.request(
                ctx.token(),
                WatchFlagsRequest {
                    province: locality(&ctx, &code),
                    kind: a.kind.clone(),
                    include_open: false,
                    // A reconnecting browser names the last flag it received (the events' ids are
                    // flag names); a first connection, the newest flag its page shows.
                    after: headers
                        .get("last-event-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                        .or(q.after.clone())
                        .unwrap_or_default(),
                },
            ),
        )
        .await
        .map_err(|s| ctx.fail(s))?
        .into_inner();
    let names = names(&ctx, &code).await?;
    let lang = ctx.lang;
    let events = stream
        .map_while(|item| item.ok())
        .filter(move |f| {
            (a.agency.is_empty() || f.agency == a.agency)
                && (a.obligation.is_empty() || f.obligation == a.obligation)
        })
        .map(move |f| {
            let data = serde_json::to_string(&row(lang, &f, &names)).unwrap_or_default();
            Ok::<_, Infallible>(Event::default().event("flag").id(f.name.clone()).data(data))
        });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
