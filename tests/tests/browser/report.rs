//! The reports behind a compliance row and a report's own page (receipt, narrative, observations,
//! earlier revisions with what changed), compared with `ListReports`, `GetReport` and
//! `ListReportRevisions`.

use std::collections::HashMap;

use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::{
    GetReportRequest, ListReportRevisionsRequest, ListReportsRequest, ReportSummary,
};
use p06_proto::common::LocalityRef;
use p06_tests::fixtures::{EDITION, GIA_LAI};
use p06_tests::services::authed;
use serde::Deserialize;

use crate::demo::day;
use crate::pages::Session;
use crate::read::same;

fn gia_lai() -> Option<LocalityRef> {
    Some(LocalityRef {
        edition: EDITION.into(),
        code: GIA_LAI.into(),
    })
}

/// A query parameter of a path (`from` of `/p/64/reports?from=2025-02-17`).
fn param(path: &str, name: &str) -> Option<String> {
    let query = path.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

#[derive(Deserialize)]
struct ReportsRow {
    name: String,
    obligation: String,
    revision: String,
    observations: String,
    href: String,
}

/// The reports behind the police compliance row, compared with `ListReports`; returns the link of
/// the newest revision of the newest period (the demo corrected it once).
pub async fn reports(s: &mut Session, obligation: &str) -> String {
    let here = s.b.here().await;
    assert!(here.starts_with("/p/64/reports"), "{here}");
    let rows: Vec<ReportsRow> =
        s.b.eval(
            "return Array.from(document.querySelectorAll('#reports tbody tr')).map(r => ({ \
               name: r.dataset.name, obligation: r.cells[1].innerText.trim(), \
               revision: r.cells[4].innerText.trim(), observations: r.cells[8].innerText.trim(), \
               href: r.querySelector('th a').getAttribute('href') }));",
            vec![],
        )
        .await;
    let api: Vec<ReportSummary> = s
        .api
        .list_reports(authed(
            ListReportsRequest {
                province: gia_lai(),
                obligation: obligation.into(),
                from: param(&here, "from").map(|d| date_to_proto(day(&d))),
                to: param(&here, "to").map(|d| date_to_proto(day(&d))),
                page_size: 1_000,
                ..Default::default()
            },
            &s.token,
        ))
        .await
        .expect("ListReports")
        .into_inner()
        .reports;
    assert!(
        param(&here, "from").is_some() && param(&here, "to").is_some(),
        "the compliance row's window: {here}"
    );
    assert_eq!(api.len(), 5, "four weeks and a correction");
    assert_eq!(
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        api.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        "the API's reports in its order"
    );
    for (row, r) in rows.iter().zip(&api) {
        let what = format!("reports {}", r.name);
        assert_eq!(row.obligation, r.obligation, "{what}");
        let receipt = r.receipt.clone().unwrap();
        same(&what, &row.revision, Some(f64::from(receipt.revision)));
        same(
            &what,
            &row.observations,
            Some(f64::from(r.observation_count)),
        );
    }
    let corrected = rows
        .iter()
        .find(|r| r.revision == "2")
        .expect("the corrected report's second revision");
    corrected.href.clone()
}

#[derive(Deserialize)]
struct Shown {
    receipt: HashMap<String, String>,
    assessment: String,
    observations: Vec<(String, String, String)>,
    revisions: Vec<(String, String)>,
    changes: Vec<(String, String)>,
}

/// A report's page: its receipt, narrative and observations as `GetReport` gives them, and its
/// revisions (with the figures the last one changed) as `ListReportRevisions` gives them.
pub async fn report(s: &mut Session) {
    let here = s.b.here().await;
    let id = here
        .strip_prefix("/p/64/reports/")
        .unwrap_or_else(|| panic!("a report's page, not {here}"));
    let name = format!("reports/{id}");
    let shown: Shown =
        s.b.eval(
            "const dl = document.getElementById('receipt'); const receipt = {}; \
             for (const dd of dl.querySelectorAll('dd')) { \
               receipt[dd.className.split(' ')[0]] = dd.innerText.trim(); } \
             return { receipt, \
               assessment: document.querySelector('.assessment').innerText.trim(), \
               observations: Array.from(document.querySelectorAll('#observations tbody tr')) \
                 .map(r => [r.dataset.indicator, r.dataset.locality, \
                   r.querySelector('.value').innerText.trim()]), \
               revisions: Array.from(document.querySelectorAll('#revisions tbody tr')) \
                 .map(r => [r.cells[0].innerText.trim(), r.cells[4].innerText.trim()]), \
               changes: Array.from(document.querySelectorAll('#revisions tbody tr li')) \
                 .filter(li => li.querySelector('.before')) \
                 .map(li => [li.querySelector('.before').innerText.trim(), \
                   li.querySelector('.after').innerText.trim()]) };",
            vec![],
        )
        .await;
    let report = s
        .ingest
        .get_report(authed(GetReportRequest { name: name.clone() }, &s.token))
        .await
        .expect("GetReport")
        .into_inner();
    let receipt = report.receipt.clone().unwrap();
    let what = |f: &str| format!("{name} {f}");
    same(
        &what("revision"),
        &shown.receipt["revision"],
        Some(f64::from(receipt.revision)),
    );
    assert_eq!(
        shown.receipt["sha256"],
        receipt.payload_sha256,
        "{}",
        what("payload SHA-256")
    );
    assert_eq!(
        shown.receipt["specificity"],
        receipt
            .specificity_score
            .map_or_else(|| "—".to_owned(), |v| format!("{v}/100")),
        "{}",
        what("specificity")
    );
    let assessment = report.narrative.clone().unwrap_or_default().assessment;
    if assessment.is_empty() {
        assert_eq!(shown.assessment, "—", "{}", what("no assessment"));
    } else {
        assert_eq!(shown.assessment, assessment, "{}", what("assessment"));
    }
    let api: HashMap<(String, String), f64> = report
        .observations
        .iter()
        .map(|o| ((o.indicator_code.clone(), o.locality_code.clone()), o.value))
        .collect();
    assert!(!shown.observations.is_empty(), "{}", what("observations"));
    if shown.observations.len() < api.len() {
        // A long report shows its first rows (the rest in its CSV).
        assert!(shown.observations.len() >= 100, "{}", what("observations"));
    } else {
        assert_eq!(
            shown.observations.len(),
            api.len(),
            "{}",
            what("observations")
        );
    }
    for (indicator, locality, value) in &shown.observations {
        let key = (indicator.clone(), locality.clone());
        same(&what("observation"), value, api.get(&key).copied());
    }
    let revisions = s
        .api
        .list_report_revisions(authed(
            ListReportRevisionsRequest {
                province: gia_lai(),
                name: name.clone(),
            },
            &s.token,
        ))
        .await
        .expect("ListReportRevisions")
        .into_inner()
        .revisions;
    assert_eq!(
        shown.revisions.len(),
        revisions.len(),
        "{}",
        what("revisions")
    );
    for ((number, _), r) in shown.revisions.iter().zip(&revisions) {
        let n = r
            .report
            .as_ref()
            .unwrap()
            .receipt
            .as_ref()
            .unwrap()
            .revision;
        assert!(
            number.starts_with(&n.to_string()),
            "{}: {number}",
            what("revision")
        );
    }
    let changes: Vec<_> = revisions.iter().flat_map(|r| &r.changes).collect();
    assert_eq!(shown.changes.len(), changes.len().min(shown.changes.len()));
    for ((before, after), c) in shown.changes.iter().zip(&changes) {
        same(&what("changed from"), before, c.before);
        same(&what("changed to"), after, c.after);
    }
    if revisions.len() > 1 {
        assert!(
            !shown.changes.is_empty(),
            "{}: what changed",
            what("revisions")
        );
    }
}
