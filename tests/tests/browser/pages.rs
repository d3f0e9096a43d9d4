//! One function per page: open it the way a person would (navigation, forms), read the figures
//! from the DOM, and compare them with the gRPC API's answer to the same question.

use std::collections::BTreeSet;
use std::time::Duration;

use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::ingest_service_client::IngestServiceClient;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    GetComplianceBoardRequest, GetConsolidatedStatusRequest, ListFlagsRequest,
    ListLocalityProgressRequest, LocalityLevel, LocalityProgress, ProgressOrder,
    SummarizeChildrenRequest,
};
use p06_proto::common::LocalityRef;
use p06_tests::fixtures::{EDITION, GIA_LAI, HA_DONG};
use p06_tests::services::authed;
use serde::Deserialize;
use serde_json::json;
use tonic::transport::Channel;

use crate::demo::day;
use crate::driver::Browser;
use crate::read::{same, same_pair, same_percent};

pub const AS_OF: &str = "2025-03-22";
pub const COMPARE_TO: &str = "2025-03-15";
pub const INDICATOR: &str = "vneid.l2.activated";

/// The browser and the API, asked with the same token.
pub struct Session {
    pub b: Browser,
    pub api: TaskForceServiceClient<Channel>,
    /// Reads a report (`GetReport`).
    pub ingest: IngestServiceClient<Channel>,
    pub token: String,
}

fn at(code: &str) -> Option<LocalityRef> {
    Some(LocalityRef {
        edition: EDITION.into(),
        code: code.into(),
    })
}

/// Signs in through the form: the token pasted into the password field, then submitted.
pub async fn sign_in(s: &mut Session, shot: Option<&str>) {
    assert!(
        s.b.here().await.starts_with("/signin"),
        "the sign-in page, not {}",
        s.b.here().await
    );
    if let Some(name) = shot {
        s.b.screenshots(name).await;
    }
    s.b.type_into("#token", &s.token).await;
    s.b.click("form[action='/signin'] button[type=submit]")
        .await;
    let here = s.b.here().await;
    assert!(
        !here.starts_with("/signin"),
        "signed in, at {here}: {:?}",
        s.b.text("main").await
    );
    assert!(!here.contains(&s.token), "no token in the URL: {here}");
    let html: String =
        s.b.eval("return document.documentElement.outerHTML;", vec![])
            .await;
    assert!(!html.contains(&s.token), "no token in the page");
}

#[derive(Deserialize, Debug)]
struct Card {
    code: String,
    name: String,
    value: Option<String>,
    target: Option<String>,
    pct: Option<String>,
    den: Option<String>,
    change: Option<String>,
    met: Option<String>,
    reporting: Option<String>,
    trend: bool,
}

/// The overview of `province` as of [`AS_OF`], compared card by card with
/// `GetConsolidatedStatus`.
pub async fn overview(s: &mut Session, province: &str) {
    s.b.set_value("input[name=as_of]", AS_OF).await;
    s.b.set_value("input[name=compare_to]", COMPARE_TO).await;
    s.b.click("form.filters button[type=submit]").await;
    let here = s.b.here().await;
    assert!(
        here.starts_with(&format!("/p/{province}?")) && here.contains("as_of=2025-03-22"),
        "{here}"
    );
    let status = s
        .api
        .get_consolidated_status(authed(
            GetConsolidatedStatusRequest {
                locality: at(province),
                as_of: Some(date_to_proto(day(AS_OF))),
                compare_to: Some(date_to_proto(day(COMPARE_TO))),
                lowest_count: 3,
                ..Default::default()
            },
            &s.token,
        ))
        .await
        .expect("GetConsolidatedStatus")
        .into_inner();
    let cards: Vec<Card> = s
        .b
        .eval(
            "return Array.from(document.querySelectorAll('section.card')).map(c => { \
               const q = s => { const e = c.querySelector(s); return e ? e.innerText.trim() : null; }; \
               return { code: c.dataset.indicator, name: q('h2'), value: q('.big .value'), \
                 target: q('.big .of'), pct: q('.progress .pct'), den: q('.pct-den'), \
                 change: q('.change'), met: q('.met'), reporting: q('.reporting'), \
                 trend: !!c.querySelector('svg.trend') }; });",
            vec![],
        )
        .await;
    assert_eq!(
        cards.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(),
        status
            .indicators
            .iter()
            .map(|i| i.indicator_code.as_str())
            .collect::<Vec<_>>(),
        "a card per indicator, in the API's order"
    );
    assert!(status.indicators.iter().any(|i| i.value.is_some()));
    for (c, i) in cards.iter().zip(&status.indicators) {
        let what = |field: &str| format!("overview {} {field}", i.indicator_code);
        assert_eq!(c.name, i.name_vi, "{}", what("name"));
        if i.value.is_none() {
            assert!(c.value.is_none(), "{}: no figure, no value", what("value"));
            continue;
        }
        same(&what("value"), c.value.as_deref().unwrap(), i.value);
        if let Some(target) = i.target {
            let shown = c.target.as_deref().expect("target shown");
            same(
                &what("target"),
                shown.trim_start_matches("/ "),
                Some(target),
            );
            let pct = c.pct.as_deref().expect("percent of target shown");
            let pct = &pct[..pct.find('%').expect("a percentage") + 1];
            same_percent(&what("% of target"), pct, i.percent_of_target);
            same_pair(
                &what("communes met"),
                c.met.as_deref().expect("met shown"),
                (i.localities_meeting_target, i.localities_with_target),
            );
        }
        if let Some(den) = &c.den {
            same_percent(&what("% of denominator"), den, i.percent_of_denominator);
        }
        same(
            &what("change"),
            c.change.as_deref().expect("change"),
            i.change,
        );
        same_pair(
            &what("reporting"),
            c.reporting.as_deref().expect("reporting shown"),
            (i.localities_reporting, i.localities_expected),
        );
        assert!(c.trend, "{}", what("trend chart"));
    }
}

#[derive(Deserialize)]
struct DistrictRow {
    name: String,
    below: String,
    value: String,
    pct: String,
    href: String,
}

/// Districts as of [`AS_OF`] (threshold 50 %), compared with `SummarizeChildren`; returns the link
/// of the district with the most communes below the threshold and how many they are.
pub async fn districts(s: &mut Session) -> (String, i32) {
    s.b.click("nav.nav a[href='/p/64/districts']").await;
    s.b.set_value("input[name=as_of]", AS_OF).await;
    s.b.click("form.filters button[type=submit]").await;
    let summary = s
        .api
        .summarize_children(authed(
            SummarizeChildrenRequest {
                indicator_code: INDICATOR.into(),
                parent: at(GIA_LAI),
                threshold_percent: 50.0,
                as_of: Some(date_to_proto(day(AS_OF))),
                known_at: None,
            },
            &s.token,
        ))
        .await
        .expect("SummarizeChildren")
        .into_inner()
        .children;
    let rows: Vec<DistrictRow> =
        s.b.eval(
            "return Array.from(document.querySelectorAll('#districts tbody tr')).map(r => ({ \
               name: r.querySelector('th').innerText.trim(), \
               below: r.querySelector('.below').innerText.trim(), \
               value: r.cells[3].innerText.trim(), pct: r.querySelector('.pct').innerText.trim(), \
               href: r.querySelector('th a').getAttribute('href') }));",
            vec![],
        )
        .await;
    assert_eq!(rows.len(), summary.len(), "a row per district");
    assert!(rows.len() > 10, "Gia Lai's districts");
    for c in &summary {
        let p = c.child.clone().unwrap();
        let name = p.locality.clone().unwrap().name;
        let row = rows
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("district {name} shown"));
        let what = format!("districts {name}");
        same_pair(&what, &row.below, (c.below_threshold, c.total));
        same(&what, &row.value, p.value);
        same_percent(&what, &row.pct, p.percent_of_target);
    }
    // Most communes below the threshold first.
    let below: Vec<i32> = summary_order(&rows);
    assert!(below.windows(2).all(|w| w[0] >= w[1]), "{below:?}");
    (rows[0].href.clone(), below[0])
}

fn summary_order(rows: &[DistrictRow]) -> Vec<i32> {
    rows.iter()
        .map(|r| r.below.split('/').next().unwrap().parse().unwrap())
        .collect()
}

#[derive(Deserialize)]
struct CommuneRow {
    code: String,
    name: String,
    value: String,
    target: String,
    pct: String,
}

async fn commune_rows(s: &Session) -> Vec<CommuneRow> {
    s.b.eval(
        "return Array.from(document.querySelectorAll('#communes tbody tr')).map(r => ({ \
           code: r.dataset.code, name: r.querySelector('th').innerText.trim(), \
           value: r.querySelector('.value').innerText.trim(), \
           target: r.querySelector('.value').nextElementSibling.innerText.trim(), \
           pct: r.querySelector('.pct').childNodes[0].textContent.trim() }));",
        vec![],
    )
    .await
}

async fn progress(s: &mut Session, parent: &str, below: Option<f64>) -> Vec<LocalityProgress> {
    s.api
        .list_locality_progress(authed(
            ListLocalityProgressRequest {
                indicator_code: INDICATOR.into(),
                parent: at(parent),
                level: LocalityLevel::Commune as i32,
                below_percent: below,
                order: ProgressOrder::PercentAsc as i32,
                as_of: Some(date_to_proto(day(AS_OF))),
                page_size: 1_000,
                ..Default::default()
            },
            &s.token,
        ))
        .await
        .expect("ListLocalityProgress")
        .into_inner()
        .rows
}

fn compare_communes(what: &str, shown: &[CommuneRow], api: &[LocalityProgress]) {
    assert_eq!(
        shown.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        api.iter()
            .map(|r| r.locality.as_ref().unwrap().code.as_str())
            .collect::<Vec<_>>(),
        "{what}: the API's communes, lowest percent first"
    );
    for (r, p) in shown.iter().zip(api) {
        let what = format!("{what} {}", r.code);
        assert_eq!(r.name, p.locality.as_ref().unwrap().name, "{what}");
        same(&what, &r.value, p.value);
        same(&what, &r.target, p.target);
        same_percent(&what, &r.pct, p.percent_of_target);
    }
}

/// A district's communes below 50 % (the link from the districts page).
pub async fn district_communes(s: &mut Session, href: &str, below: i32) {
    s.b.click(&format!("#districts a[href='{href}']")).await;
    let district = href
        .split("district=")
        .nth(1)
        .and_then(|q| q.split('&').next())
        .expect("the district's code in the link")
        .to_owned();
    let shown = commune_rows(s).await;
    let api = progress(s, &district, Some(50.0)).await;
    assert_eq!(
        shown.len(),
        below as usize,
        "as many as the districts page said"
    );
    compare_communes(&format!("communes of {district}"), &shown, &api);
}

/// The whole province's communes: the "below" filter, then a search without diacritics.
pub async fn communes(s: &mut Session) {
    s.b.click("nav.nav a[href='/p/64/communes']").await;
    s.b.set_value("input[name=as_of]", AS_OF).await;
    s.b.type_into("input[name=below]", "30").await;
    s.b.click("form.filters button[type=submit]").await;
    let shown = commune_rows(s).await;
    let api = progress(s, GIA_LAI, Some(30.0)).await;
    assert!(!api.is_empty() && api.len() < 218, "a filter that filters");
    compare_communes("communes below 30 %", &shown, &api);

    s.b.type_into("input[name=below]", "").await;
    s.b.type_into("input[name=q]", "ha dong").await;
    s.b.click("form.filters button[type=submit]").await;
    let shown = commune_rows(s).await;
    let all = progress(s, GIA_LAI, None).await;
    let ha_dong: Vec<_> = all
        .into_iter()
        .filter(|r| r.locality.as_ref().unwrap().code == HA_DONG)
        .collect();
    compare_communes("search \"ha dong\"", &shown, &ha_dong);
    assert_eq!(shown[0].name, "Xã Hà Đông", "shown with its diacritics");
}

#[derive(Deserialize)]
struct ComplianceRow {
    obligation: String,
    cells: Vec<String>,
    flags: String,
    reports: String,
}

/// Compliance from the first week's Monday to [`AS_OF`], compared with `GetComplianceBoard`;
/// returns the links to the flags behind the justice row and to the reports behind the police row.
pub async fn compliance(s: &mut Session) -> (String, String) {
    s.b.click("nav.nav a[href='/p/64/compliance']").await;
    s.b.set_value("input[name=from]", "2025-02-17").await;
    s.b.set_value("input[name=to]", AS_OF).await;
    s.b.click("form.filters button[type=submit]").await;
    let board = s
        .api
        .get_compliance_board(authed(
            GetComplianceBoardRequest {
                province: at(GIA_LAI),
                from: Some(date_to_proto(day("2025-02-17"))),
                to: Some(date_to_proto(day(AS_OF))),
                agency: String::new(),
            },
            &s.token,
        ))
        .await
        .expect("GetComplianceBoard")
        .into_inner();
    let rows: Vec<ComplianceRow> =
        s.b.eval(
            "return Array.from(document.querySelectorAll('#compliance tbody tr')).map(r => ({ \
               obligation: r.dataset.obligation, \
               cells: Array.from(r.cells).map(c => c.innerText.trim()), \
               flags: r.querySelector('th a.flags-link').getAttribute('href'), \
               reports: r.querySelector('th a.reports-link').getAttribute('href') }));",
            vec![],
        )
        .await;
    assert_eq!(rows.len(), board.obligations.len(), "a row per obligation");
    for o in &board.obligations {
        let row = rows
            .iter()
            .find(|r| r.obligation == o.obligation)
            .unwrap_or_else(|| panic!("{} shown", o.obligation));
        let what = format!("compliance {}", o.obligation);
        // obligation, agency, expected, received, on time, late, missing, pending, early, vague,
        // reporting rate, on-time rate, …
        for (i, v) in [
            o.expected, o.received, o.on_time, o.late, o.missing, o.pending, o.early, o.vague,
        ]
        .into_iter()
        .enumerate()
        {
            same(&what, &row.cells[2 + i], Some(f64::from(v)));
        }
        same_percent(&what, &row.cells[10], Some(o.reporting_rate * 100.0));
        same_percent(&what, &row.cells[11], Some(o.on_time_rate * 100.0));
    }
    let justice = board
        .obligations
        .iter()
        .find(|o| o.obligation == "justice-weekly")
        .expect("justice's obligation");
    assert_eq!((justice.late, justice.vague), (1, 1), "the demo's mix");
    let link = |obligation: &str| {
        rows.iter()
            .find(|r| r.obligation == obligation)
            .unwrap_or_else(|| panic!("{obligation} shown"))
    };
    (
        link("justice-weekly").flags.clone(),
        link("police-weekly-identity").reports.clone(),
    )
}

/// The open flags' names shown, and the API's.
pub async fn flag_names(s: &mut Session, obligation: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let shown: Vec<String> = s
        .b
        .eval(
            "return Array.from(document.querySelectorAll('#flags tbody tr')).map(r => r.dataset.name);",
            vec![],
        )
        .await;
    let flags = s
        .api
        .list_flags(authed(
            ListFlagsRequest {
                province: at(GIA_LAI),
                state: "OPEN".into(),
                page_size: 1_000,
                ..Default::default()
            },
            &s.token,
        ))
        .await
        .expect("ListFlags")
        .into_inner()
        .flags;
    let api = flags
        .into_iter()
        .filter(|f| obligation.is_empty() || f.obligation == obligation)
        .map(|f| f.name)
        .collect();
    (shown.into_iter().collect(), api)
}

/// Opens the flags page's own event stream once, and waits until it is connected (the page's
/// script opened its stream before, so the aggregator is watching for it by then).
pub async fn wait_until_live(s: &Session) {
    let _: bool =
        s.b.eval(
            "window.__p06_probe = 'connecting'; \
             const src = new EventSource(document.getElementById('flags').dataset.events); \
             src.onopen = () => { window.__p06_probe = 'open'; src.close(); }; return true;",
            vec![],
        )
        .await;
    s.b.wait_for(
        "the flags page's event stream",
        "return window.__p06_probe === 'open';",
        Duration::from_secs(10),
    )
    .await;
}

/// Waits for the rows of `names` to appear in the open page, and checks the page did not reload.
pub async fn wait_for_flag_rows(s: &Session, names: &[String], page: u64) {
    s.b.wait_for(
        "the new flags' rows",
        &format!(
            "const names = {}; return names.every(n => \
               document.querySelector('#flags tbody tr.fresh[data-name=\"' + n + '\"]'));",
            json!(names)
        ),
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(s.b.page_id().await, page, "the rows came without a reload");
}
