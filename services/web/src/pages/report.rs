//! Page 6, a report: its receipt (revision, payload SHA-256, receive time, deadline, timeliness,
//! specificity score and reasons), the flags it raised, its narrative, its observations, and every
//! revision of its period with what each changed (per indicator and locality: before → after).
//! Its observations download as CSV.
//!
//! Calls: `ListReportRevisions` (scoped by the province in the path: another province's report is
//! the aggregator's PERMISSION_DENIED, a 403 page), `GetReport` (observations, narrative, flags),
//! the catalog (cached, for names).

use std::collections::HashMap;

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use p06_proto::aggregation::{
    GetReportRequest, ListReportRevisionsRequest, LocalityLevel, Receipt, Report, ReportRevision,
};

use super::{locality, valid_code};
use crate::ctx::{Chrome, Ctx, Section, ok};
use crate::download;
use crate::format::{self, Lang};
use crate::i18n;

/// Observations shown on the page; the CSV has them all.
const SHOWN_OBSERVATIONS: usize = 500;
/// Changes shown per revision; the earlier revision's page and CSV have the figures.
const SHOWN_CHANGES: usize = 100;

/// The report and its series, both read with the session's token. The revisions are asked first
/// so that a report of another province answers with the aggregator's PERMISSION_DENIED.
async fn load(ctx: &Ctx, code: &str, id: u64) -> Result<(Report, Vec<ReportRevision>), Response> {
    let api = ctx.api();
    let name = format!("reports/{id}");
    let revisions = api
        .task_force()
        .list_report_revisions(api.request(
            ctx.token(),
            ListReportRevisionsRequest {
                province: locality(ctx, code),
                name: name.clone(),
            },
        ))
        .await
        .map_err(|s| ctx.fail(s))?
        .into_inner()
        .revisions;
    let report = api
        .ingest()
        .get_report(api.request(ctx.token(), GetReportRequest { name }))
        .await
        .map_err(|s| ctx.fail(s))?
        .into_inner();
    Ok((report, revisions))
}

/// Names of the province's districts and communes by code, and of the province itself.
async fn locality_names(ctx: &Ctx, code: &str) -> Result<HashMap<String, String>, Response> {
    let api = ctx.api();
    let (districts, communes, province) = tokio::join!(
        api.localities(ctx.token(), ctx.edition(), code, LocalityLevel::District),
        api.localities(ctx.token(), ctx.edition(), code, LocalityLevel::Commune),
        api.province_name(ctx.token(), ctx.edition(), code),
    );
    let mut names: HashMap<String, String> = HashMap::new();
    for l in districts
        .map_err(|s| ctx.fail(s))?
        .iter()
        .chain(communes.map_err(|s| ctx.fail(s))?.iter())
    {
        names.insert(l.code.clone(), l.name.clone());
    }
    names.insert(code.to_owned(), province.map_err(|s| ctx.fail(s))?);
    Ok(names)
}

pub struct Fact {
    pub label: &'static str,
    pub value: String,
    pub class: &'static str,
}

pub struct ReasonRow {
    pub code: String,
    pub penalty: String,
    pub text: String,
    pub subjects: String,
}

pub struct FlagLine {
    pub kind: String,
    pub kind_text: String,
    pub message: String,
}

pub struct ObservationRow {
    pub indicator: String,
    pub indicator_code: String,
    pub locality: String,
    pub locality_code: String,
    pub value: String,
}

pub struct ChangeRow {
    pub indicator: String,
    pub locality: String,
    pub before: String,
    pub after: String,
}

pub struct RevisionRow {
    pub revision: String,
    pub href: String,
    pub current: bool,
    pub received: String,
    pub sha256: String,
    pub timeliness: String,
    pub specificity: String,
    pub observations: String,
    pub submitted_by: String,
    pub changes: Vec<ChangeRow>,
    pub more_changes: String,
    pub changed_count: String,
    pub narrative_changed: bool,
    pub first: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: Chrome,
    heading: String,
    receipt: Vec<Fact>,
    reasons: Vec<ReasonRow>,
    flags: Vec<FlagLine>,
    assessment: String,
    obstacles: String,
    proposals: String,
    observations: Vec<ObservationRow>,
    observations_note: String,
    revisions: Vec<RevisionRow>,
    csv_href: String,
    flags_href: String,
}

pub(crate) fn receipt_facts(lang: Lang, r: &Receipt, submitted_by: &str) -> Vec<Fact> {
    let t = i18n::texts(lang);
    let mut timeliness = i18n::timeliness(lang, r.timeliness);
    if let Some(late) = &r.lateness {
        timeliness.push_str(&format!(" ({})", format::lateness(lang, late.seconds)));
    }
    vec![
        Fact {
            label: t.revision,
            value: format::figure(lang, f64::from(r.revision)),
            class: "revision",
        },
        Fact {
            label: t.payload_sha256,
            value: r.payload_sha256.clone(),
            class: "sha256 mono",
        },
        Fact {
            label: t.receive_time,
            value: format::opt_timestamp(lang, r.receive_time.as_ref()),
            class: "received",
        },
        Fact {
            label: t.deadline,
            value: format::opt_timestamp(lang, r.deadline.as_ref()),
            class: "deadline",
        },
        Fact {
            label: match lang {
                Lang::Vi => "Cách nộp",
                Lang::En => "Revision mode",
            },
            value: mode(lang, r),
            class: "mode",
        },
        Fact {
            label: t.timeliness,
            value: timeliness,
            class: "timeliness",
        },
        Fact {
            label: t.specificity,
            value: r
                .specificity_score
                .map_or_else(|| "—".into(), |s| format!("{s}/100")),
            class: "specificity",
        },
        Fact {
            label: t.submitted_by,
            value: submitted_by.to_owned(),
            class: "submitted-by",
        },
    ]
}

/// The receipt's specificity reasons, worded in `lang`.
pub(crate) fn reason_rows(lang: Lang, r: &Receipt) -> Vec<ReasonRow> {
    r.specificity_reasons
        .iter()
        .map(|x| ReasonRow {
            code: x.code.clone(),
            penalty: format!("−{}", x.penalty),
            text: match lang {
                Lang::Vi => x.explanation_vi.clone(),
                Lang::En => x.explanation_en.clone(),
            },
            subjects: x.subjects.join(", "),
        })
        .collect()
}

/// The first `most` flags the receipt's report raised, worded in `lang`.
pub(crate) fn flag_lines(lang: Lang, r: &Receipt, most: usize) -> Vec<FlagLine> {
    r.flags
        .iter()
        .take(most)
        .map(|f| FlagLine {
            kind: f.kind.clone(),
            kind_text: i18n::flag_kind(lang, &f.kind),
            message: super::flags::message(lang, f),
        })
        .collect()
}

/// REPLACE or AMEND in words, with the figures an amendment kept.
fn mode(lang: Lang, r: &Receipt) -> String {
    let kept = format::figure(lang, f64::from(r.carried_observations));
    match (r.mode, lang) {
        (2, Lang::Vi) => format!("Sửa đổi, bổ sung — giữ nguyên {kept} số liệu của lần nộp trước"),
        (2, Lang::En) => format!("Amendment — {kept} figures kept from the previous revision"),
        (_, Lang::Vi) => "Thay thế toàn bộ".to_owned(),
        (_, Lang::En) => "Whole report (replaces)".to_owned(),
    }
}

/// `GET /p/{code}/reports/{id}`.
pub async fn page(
    ctx: Ctx,
    Path((code, id)): Path<(String, String)>,
) -> Result<Response, Response> {
    let id = checked(&ctx, &code, &id)?;
    let ((report, revisions), names, indicators) = {
        let (loaded, names, indicators) = tokio::join!(
            load(&ctx, &code, id),
            locality_names(&ctx, &code),
            ctx.api().indicators(ctx.token()),
        );
        (loaded?, names?, indicators.map_err(|s| ctx.fail(s))?)
    };
    let lang = ctx.lang;
    let t = ctx.t();
    let indicator_names: HashMap<&str, &str> = indicators
        .iter()
        .map(|i| {
            let name = match lang {
                Lang::Vi => i.name_vi.as_str(),
                Lang::En => i.name_en.as_str(),
            };
            (i.code.as_str(), name)
        })
        .collect();
    let indicator = |c: &str| indicator_names.get(c).map_or(c, |n| n).to_owned();
    let place_of = |c: &str| names.get(c).cloned().unwrap_or_else(|| c.to_owned());
    let receipt = report.receipt.clone().unwrap_or_default();
    let reasons = reason_rows(lang, &receipt);
    let flags = flag_lines(lang, &receipt, usize::MAX);
    let total = report.observations.len();
    let observations = report
        .observations
        .iter()
        .take(SHOWN_OBSERVATIONS)
        .map(|o| ObservationRow {
            indicator: indicator(&o.indicator_code),
            indicator_code: o.indicator_code.clone(),
            locality: place_of(&o.locality_code),
            locality_code: o.locality_code.clone(),
            value: format::figure(lang, o.value),
        })
        .collect();
    let observations_note = format!(
        "{} {} / {}",
        t.observations_shown,
        format::figure(lang, total.min(SHOWN_OBSERVATIONS) as f64),
        format::figure(lang, total as f64)
    );
    let revisions = revisions
        .iter()
        .map(|rev| revision_row(lang, &code, &report.name, rev, &indicator, &place_of))
        .collect();
    let period = report.period.unwrap_or_default();
    let heading = format!(
        "{} · {} · {} – {}",
        report.obligation,
        i18n::agency(lang, &report.agency),
        format::opt_date(lang, period.start.as_ref()),
        format::opt_date(lang, period.end.as_ref()),
    );
    let narrative = report.narrative.clone().unwrap_or_default();
    let place = place_of(&code);
    Ok(ok(&ReportPage {
        chrome: ctx.chrome(
            &format!("{} {id}", t.report),
            &place,
            &code,
            Section::Report,
        ),
        heading,
        receipt: receipt_facts(lang, &receipt, &report.submitted_by),
        reasons,
        flags,
        assessment: narrative.assessment,
        obstacles: narrative.obstacles,
        proposals: narrative.proposals,
        observations,
        observations_note,
        revisions,
        csv_href: format!("/p/{code}/reports/{id}/observations.csv"),
        flags_href: format!(
            "/p/{code}/flags{}",
            super::query(&[
                ("agency", &report.agency),
                ("obligation", &report.obligation)
            ])
        ),
    }))
}

fn revision_row(
    lang: Lang,
    code: &str,
    current: &str,
    rev: &ReportRevision,
    indicator: &dyn Fn(&str) -> String,
    place_of: &dyn Fn(&str) -> String,
) -> RevisionRow {
    let summary = rev.report.clone().unwrap_or_default();
    let receipt = summary.receipt.clone().unwrap_or_default();
    let id = summary.name.strip_prefix("reports/").unwrap_or_default();
    let changes = rev
        .changes
        .iter()
        .take(SHOWN_CHANGES)
        .map(|c| ChangeRow {
            indicator: indicator(&c.indicator_code),
            locality: place_of(&c.locality_code),
            before: format::opt_figure(lang, c.before),
            after: format::opt_figure(lang, c.after),
        })
        .collect();
    let hidden = rev.changes.len().saturating_sub(SHOWN_CHANGES);
    RevisionRow {
        revision: format::figure(lang, f64::from(receipt.revision)),
        href: format!("/p/{code}/reports/{id}"),
        current: summary.name == current,
        received: format::opt_timestamp(lang, receipt.receive_time.as_ref()),
        sha256: receipt.payload_sha256.chars().take(12).collect(),
        timeliness: i18n::timeliness(lang, receipt.timeliness),
        specificity: receipt
            .specificity_score
            .map_or_else(|| "—".into(), |s| format!("{s}/100")),
        observations: format::figure(lang, f64::from(summary.observation_count)),
        submitted_by: summary.submitted_by,
        changes,
        more_changes: if hidden > 0 {
            format!("+{}", format::figure(lang, hidden as f64))
        } else {
            String::new()
        },
        changed_count: format!(
            "{} {}",
            format::figure(lang, rev.changes.len() as f64),
            match lang {
                Lang::Vi => "số liệu thay đổi",
                Lang::En => "figures changed",
            }
        ),
        narrative_changed: rev.narrative_changed,
        first: receipt.revision == 1,
    }
}

/// `GET /p/{code}/reports/{id}/observations.csv`: `indicator_code,locality_code,value`.
pub async fn csv(ctx: Ctx, Path((code, id)): Path<(String, String)>) -> Result<Response, Response> {
    let id = checked(&ctx, &code, &id)?;
    let (report, _) = load(&ctx, &code, id).await?;
    let records: Vec<_> = report
        .observations
        .iter()
        .map(|o| {
            serde_json::json!({
                "indicator_code": o.indicator_code,
                "locality_code": o.locality_code,
                "value": o.value,
            })
        })
        .collect();
    Ok(download::response(
        &ctx,
        &format!("report-{id}-observations.csv"),
        download::OBSERVATION_COLUMNS,
        &records,
    ))
}

fn checked(ctx: &Ctx, code: &str, id: &str) -> Result<u64, Response> {
    if !valid_code(code) {
        return Err(ctx.bad_request("locality code"));
    }
    id.parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ctx.bad_request(&format!("report: {id:?} is not a report number")))
}
