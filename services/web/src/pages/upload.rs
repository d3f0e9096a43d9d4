//! A reporter's workbook: the template of one report to download (the workbook `p06 template`
//! writes), the filled workbook to upload, and what came of it — the receipt, or every problem
//! with its cell (`'Số liệu'!D17: "12a" không phải là số`) and nothing submitted.
//!
//! Reading and checking are `p06-submission`'s, the same as `p06 submit`: the agency's columns,
//! the information sheet, the localities against the catalog, the agency service's own mapping
//! and rule book; the report then goes to the aggregator's `IngestService.SubmitReport` with the
//! session's token, exactly the request the agency service would forward. Who may submit what
//! is the aggregator's decision: another agency's or province's report is its PERMISSION_DENIED,
//! a 403 page. The task force has no upload (their tokens cannot submit).
//!
//! Calls: `ListObligations`, `ListIndicators` and `ListLocalities` (cached), `SubmitReport`.

use askama::Template;
use axum::body::Body;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use p06_domain::obligation::ObligationSpec;
use p06_proto::aggregation::{ListObligationsRequest, LocalityLevel, Receipt, RevisionMode};
use p06_proto::common::LocalityRef;
use p06_submission::template::{ReportTemplate, locality_rows};
use p06_submission::{Agency, Head, IndicatorNames};
use p06_workbook::{Problem, Record, Totals};
use serde::Deserialize;
use tonic::{Code, Status};

use super::report::{Fact, FlagLine, ReasonRow, flag_lines, reason_rows, receipt_facts};
use super::{Choice, date_param, today};
use crate::ctx::{Chrome, Ctx, Section, render};
use crate::format::{self, Lang};
use crate::multipart;
use crate::{i18n, security};

/// The largest workbook taken (a province's communes × an agency's figures is far smaller).
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

pub struct ProblemRow {
    pub cell: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage {
    chrome: Chrome,
    heading: String,
    obligations: Vec<Choice>,
    upload_obligations: Vec<Choice>,
    day: String,
    totals_ignore: bool,
    mode_amend: bool,
    file_name: String,
    /// One error about the whole file or form (not a workbook, too large …).
    error: String,
    problems: Vec<ProblemRow>,
    problems_count: String,
    receipt: Vec<Fact>,
    reasons: Vec<ReasonRow>,
    flags: Vec<FlagLine>,
    /// "… and 1.234 more flags" when the receipt raised more than are shown.
    more_flags: String,
    report_href: String,
    report_name: String,
}

/// Flags listed on the receipt; the task force's flags page has them all.
const SHOWN_FLAGS: usize = 20;

/// What came of an upload.
#[derive(Default)]
struct Outcome {
    file_name: String,
    error: String,
    problems: Vec<Problem>,
    receipt: Option<Receipt>,
    totals: Totals,
    amend: bool,
    obligation: String,
    day: String,
}

/// The agency of a reporter's session, or the 403 page for anyone else.
fn reporter(ctx: &Ctx) -> Result<Agency, Response> {
    ctx.session.claims.reporting_agency().ok_or_else(|| {
        ctx.fail(Status::permission_denied(
            ctx.t().upload_not_reporter.to_owned(),
        ))
    })
}

/// The agency's obligations binding the session's province, as the aggregator lists them.
async fn obligations(ctx: &Ctx, agency: Agency) -> Result<Vec<ObligationSpec>, Response> {
    let api = ctx.api();
    let key = format!("{}/{}", ctx.edition(), ctx.home_province());
    let mut specs = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = api
            .admin()
            .list_obligations(api.request(
                ctx.token(),
                ListObligationsRequest {
                    page_size: 1_000,
                    page_token: page_token.clone(),
                },
            ))
            .await
            .map_err(|s| ctx.fail(s))?
            .into_inner();
        for o in page.obligations {
            match serde_json::from_str::<ObligationSpec>(&o.spec_json) {
                Ok(spec) if spec.agency == agency.code() && spec.provinces.contains(&key) => {
                    specs.push(spec);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(obligation = o.code, error = %e, "unreadable obligation"),
            }
        }
        if page.next_page_token.is_empty() {
            return Ok(specs);
        }
        page_token = page.next_page_token;
    }
}

async fn indicator_names(ctx: &Ctx) -> Result<IndicatorNames, Response> {
    Ok(ctx
        .api()
        .indicators(ctx.token())
        .await
        .map_err(|s| ctx.fail(s))?
        .iter()
        .map(|i| (i.code.clone(), (i.name_vi.clone(), i.name_en.clone())))
        .collect())
}

#[derive(Deserialize, Default)]
pub struct UploadQuery {
    obligation: Option<String>,
    day: Option<String>,
}

/// `GET /upload`.
pub async fn page(ctx: Ctx, Query(q): Query<UploadQuery>) -> Result<Response, Response> {
    let agency = reporter(&ctx)?;
    let specs = obligations(&ctx, agency).await?;
    let day = date_param(&ctx, "day", q.day.as_deref())?.unwrap_or_else(today);
    let outcome = Outcome {
        obligation: q.obligation.unwrap_or_default(),
        day: format::iso(day),
        ..Outcome::default()
    };
    show(&ctx, agency, &specs, outcome).await
}

/// The page, with the outcome of an upload when there was one.
async fn show(
    ctx: &Ctx,
    agency: Agency,
    specs: &[ObligationSpec],
    outcome: Outcome,
) -> Result<Response, Response> {
    let lang = ctx.lang;
    let t = ctx.t();
    let province = ctx.home_province().to_owned();
    let province_name = ctx
        .api()
        .province_name(ctx.token(), ctx.edition(), &province)
        .await
        .map_err(|s| ctx.fail(s))?;
    let choices = |empty: Option<&str>| -> Vec<Choice> {
        let mut all: Vec<Choice> = empty
            .map(|label| Choice {
                value: String::new(),
                label: label.to_owned(),
                selected: outcome.obligation.is_empty(),
            })
            .into_iter()
            .collect();
        all.extend(specs.iter().enumerate().map(|(i, s)| Choice {
            value: s.code.clone(),
            label: if s.name.is_empty() {
                s.code.clone()
            } else {
                format!("{} ({})", s.name, s.code)
            },
            selected: s.code == outcome.obligation
                || (empty.is_none() && i == 0 && outcome.obligation.is_empty()),
        }));
        all
    };
    let receipt = outcome.receipt.clone();
    // A workbook with problems is answered 422: the page lists them.
    let code = if outcome.problems.is_empty() && outcome.error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let problems: Vec<ProblemRow> = p06_submission::in_cell_order(outcome.problems)
        .iter()
        .map(|p| {
            let cell = p.cell.to_string();
            let full = match lang {
                Lang::Vi => p.vi(),
                Lang::En => p.en(),
            };
            let text = full
                .strip_prefix(&format!("{cell}: "))
                .map_or_else(|| full.clone(), str::to_owned);
            ProblemRow { cell, text }
        })
        .collect();
    let problems_count = format!(
        "{} {}",
        format::figure(lang, problems.len() as f64),
        t.problems_heading
    );
    let (receipt_rows, reasons, flags, report_href, report_name) = match &receipt {
        None => (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            String::new(),
            String::new(),
        ),
        Some(r) => {
            let reasons = reason_rows(lang, r);
            let flags = flag_lines(lang, r, SHOWN_FLAGS);
            // The report page reads the task force's API: linked only for a token that may.
            let href = match r.report.strip_prefix("reports/") {
                Some(id) if ctx.session.claims.is_task_force() => {
                    format!("/p/{province}/reports/{id}")
                }
                _ => String::new(),
            };
            (
                receipt_facts(lang, r, &ctx.session.claims.sub),
                reasons,
                flags,
                href,
                r.report.clone(),
            )
        }
    };
    let hidden = receipt
        .as_ref()
        .map_or(0, |r| r.flags.len().saturating_sub(SHOWN_FLAGS));
    let more_flags = match (hidden, lang) {
        (0, _) => String::new(),
        (n, Lang::Vi) => format!("… và {} cảnh báo khác", format::figure(lang, n as f64)),
        (n, Lang::En) => format!("… and {} more flags", format::figure(lang, n as f64)),
    };
    let heading = format!("{} · {}", t.upload_title, i18n::agency(lang, agency.code()));
    Ok(render(
        code,
        &UploadPage {
            chrome: ctx.chrome(t.upload_title, &province_name, &province, Section::Upload),
            heading,
            obligations: choices(None),
            upload_obligations: choices(Some(t.from_workbook)),
            day: outcome.day,
            totals_ignore: outcome.totals == Totals::Ignore,
            mode_amend: outcome.amend,
            file_name: outcome.file_name,
            error: outcome.error,
            problems,
            problems_count,
            receipt: receipt_rows,
            reasons,
            flags,
            more_flags,
            report_href,
            report_name,
        },
    ))
}

#[derive(Deserialize)]
pub struct TemplateQuery {
    #[serde(default)]
    obligation: String,
    day: Option<String>,
}

/// `GET /upload/template.xlsx?obligation=&day=`: the workbook of the obligation's period
/// containing `day` (default today), as `p06 template` writes it.
pub async fn template(ctx: Ctx, Query(q): Query<TemplateQuery>) -> Result<Response, Response> {
    let agency = reporter(&ctx)?;
    let specs = obligations(&ctx, agency).await?;
    let Some(spec) = specs.iter().find(|s| s.code == q.obligation) else {
        return Err(ctx.bad_request(&format!(
            "obligation: {:?} is not one of {}'s obligations in this province",
            q.obligation,
            agency.code()
        )));
    };
    let day = date_param(&ctx, "day", q.day.as_deref())?.unwrap_or_else(today);
    let Some(period) = spec.cadence.period_containing(day) else {
        return Err(ctx.bad_request(&format!(
            "day: obligation {} has no period containing {day}",
            spec.code
        )));
    };
    let api = ctx.api();
    let (edition, province) = (ctx.edition(), ctx.home_province());
    let names = indicator_names(&ctx).await?;
    let province_name = api
        .province_name(ctx.token(), edition, province)
        .await
        .map_err(|s| ctx.fail(s))?;
    let level = p06_submission::level_of(spec.level.as_str()).unwrap_or(LocalityLevel::Commune);
    let rows = if level == LocalityLevel::Province {
        vec![vec![
            province.to_owned(),
            province_name.clone(),
            String::new(),
        ]]
    } else {
        let units = api
            .localities(ctx.token(), edition, province, level)
            .await
            .map_err(|s| ctx.fail(s))?;
        let districts = if level == LocalityLevel::Commune {
            api.localities(ctx.token(), edition, province, LocalityLevel::District)
                .await
                .map_err(|s| ctx.fail(s))?
        } else {
            Default::default()
        };
        locality_rows(&units, &districts)
    };
    let workbook = ReportTemplate {
        agency,
        edition,
        province,
        province_name: &province_name,
        obligation: &spec.code,
        indicators: &spec.indicators,
        period_start: period.start,
        period_end: period.end,
        rows,
        names: &names,
    }
    .layout();
    let bytes = p06_workbook::template::write(&workbook).map_err(|e| {
        tracing::error!(error = %e, "template failed");
        ctx.fail(Status::internal("template"))
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                crate::download::XLSX_CONTENT_TYPE.to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}-{}.xlsx\"",
                    spec.code,
                    format::iso(period.start)
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /upload` (multipart: `csrf`, `file`, `totals`, `mode`, `obligation`, `day`).
pub async fn submit(ctx: Ctx, headers: HeaderMap, body: Body) -> Result<Response, Response> {
    let agency = reporter(&ctx)?;
    let t = ctx.t();
    let refuse = |code: StatusCode, text: &str| (code, text.to_owned()).into_response();
    let Some(boundary) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(multipart::boundary)
    else {
        return Err(refuse(StatusCode::BAD_REQUEST, t.upload_bad_form));
    };
    // The file and the form's few fields; beyond that the body is refused unread.
    let Ok(bytes) = axum::body::to_bytes(body, MAX_UPLOAD_BYTES + 64 * 1024).await else {
        return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, t.upload_too_large));
    };
    let Ok(parts) = multipart::parse(&bytes, &boundary) else {
        return Err(refuse(StatusCode::BAD_REQUEST, t.upload_bad_form));
    };
    let field = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(multipart::Part::text)
            .unwrap_or_default()
    };
    if !security::csrf_ok(&headers, Some(&ctx.session.csrf), &field("csrf")) {
        return Err(refuse(StatusCode::FORBIDDEN, t.csrf_refused));
    }
    let specs = obligations(&ctx, agency).await?;
    let mut outcome = Outcome {
        totals: Totals::parse(&field("totals")).unwrap_or_default(),
        amend: field("mode") == "amend",
        obligation: field("obligation").trim().to_owned(),
        day: field("day").trim().to_owned(),
        ..Outcome::default()
    };
    let file = parts
        .iter()
        .find(|p| p.name == "file" && p.filename.is_some());
    let file = match file {
        Some(f) if !f.data.is_empty() => f,
        _ => {
            outcome.error = t.upload_bad_form.to_owned();
            return show(&ctx, agency, &specs, outcome).await;
        }
    };
    if file.data.len() > MAX_UPLOAD_BYTES {
        outcome.error = t.upload_too_large.to_owned();
        return show(&ctx, agency, &specs, outcome).await;
    }
    // Only the file's own name, never a path a browser might send.
    outcome.file_name = file
        .filename
        .as_deref()
        .unwrap_or_default()
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if let Some((agency, records, head)) =
        check(&ctx, agency, &specs, &file.data, &mut outcome).await?
    {
        let report = p06_submission::agency_report(agency, &records, head);
        match report.to_ingest() {
            Err(violations) => {
                outcome.problems = p06_submission::field_violations_at_cells(&violations, &records);
                if outcome.problems.is_empty() {
                    outcome.error = violations
                        .iter()
                        .map(|v| format!("{}: {}", v.field, v.description))
                        .collect::<Vec<_>>()
                        .join("; ");
                }
            }
            Ok(request) => {
                let api = ctx.api();
                match api
                    .ingest_sender()
                    .submit_report(api.request(ctx.token(), request))
                    .await
                {
                    Ok(receipt) => outcome.receipt = Some(receipt.into_inner()),
                    Err(status) => refused(&ctx, status, &records, &mut outcome)?,
                }
            }
        }
    }
    show(&ctx, agency, &specs, outcome).await
}

/// The aggregator's refusal: bad input is shown on the page (at its cells where it names a
/// locality's field); PERMISSION_DENIED and the rest are the error pages.
fn refused(
    ctx: &Ctx,
    status: Status,
    records: &[Record],
    outcome: &mut Outcome,
) -> Result<(), Response> {
    match status.code() {
        Code::InvalidArgument | Code::FailedPrecondition | Code::AlreadyExists => {
            let problems = p06_submission::violations_at_cells(&status, records);
            if problems.is_empty() {
                let mut text = status.message().to_owned();
                for (field, description) in p06_kit::status::field_violations(&status) {
                    text.push_str(&format!(" — {field}: {description}"));
                }
                outcome.error = text;
            } else {
                outcome.problems = problems;
            }
            Ok(())
        }
        _ => Err(ctx.fail(status)),
    }
}

/// Reads and checks the workbook as `p06 submit` does; `Ok(None)` when the outcome holds its
/// problems (nothing is sent then).
async fn check(
    ctx: &Ctx,
    agency: Agency,
    specs: &[ObligationSpec],
    bytes: &[u8],
    outcome: &mut Outcome,
) -> Result<Option<(Agency, Vec<Record>, Head)>, Response> {
    let lang = ctx.lang;
    let pick = |vi: String, en: String| match lang {
        Lang::Vi => vi,
        Lang::En => en,
    };
    let book = match p06_workbook::open(bytes, &outcome.file_name) {
        Ok(book) => book,
        Err(e) => {
            outcome.error = pick(
                format!("{}: {}", outcome.file_name, e.vi()),
                format!("{}: {e}", outcome.file_name),
            );
            return Ok(None);
        }
    };
    let Some(grid) = book.sheets.first() else {
        outcome.error = pick(
            "bảng tính không có trang nào".into(),
            "the workbook has no sheets".into(),
        );
        return Ok(None);
    };
    let info = p06_submission::info(&book, grid);
    // The agency the workbook says it reports for (the template does): should that not be the
    // session's, the aggregator refuses it (PERMISSION_DENIED), as it decides who submits what.
    let agency = p06_submission::info_text(&info, "agency")
        .and_then(|a| Agency::parse(&a))
        .unwrap_or(agency);
    let edition = ctx.edition();
    if let Some(theirs) = p06_submission::info_text(&info, "edition")
        && theirs != edition
    {
        outcome.error = pick(
            format!(
                "bảng tính dùng bộ mã đơn vị hành chính {theirs}, phiên đăng nhập dùng {edition}; hãy tải mẫu mới"
            ),
            format!(
                "the workbook uses the locality edition {theirs}, the session {edition}; download a new template"
            ),
        );
        return Ok(None);
    }
    let mut problems = Vec::new();
    // The workbook says what it is for (the template does); the form fills in what it leaves out.
    let province = p06_submission::info_text(&info, "province")
        .unwrap_or_else(|| ctx.home_province().to_owned());
    let obligation = p06_submission::info_text(&info, "obligation")
        .or_else(|| Some(outcome.obligation.clone()).filter(|o| !o.is_empty()));
    // Without an obligation the cells are still checked, so that every problem shows at once.
    let no_obligation = pick(
        "bảng tính không ghi nghĩa vụ báo cáo: hãy dùng mẫu tải ở trên, hoặc chọn nghĩa vụ và ngày trong kỳ".into(),
        "the workbook does not name its obligation: use the template above, or choose the obligation and a day of the period".into(),
    );
    let spec = obligation
        .as_ref()
        .and_then(|o| specs.iter().find(|s| &s.code == o));
    let mut period_start = p06_submission::info_date(&info, "period_start", &mut problems);
    let mut period_end = p06_submission::info_date(&info, "period_end", &mut problems);
    if period_start.is_none() || period_end.is_none() {
        let day = format::parse_date(&outcome.day);
        if let Some(p) = day
            .zip(spec)
            .and_then(|(d, s)| s.cadence.period_containing(d))
        {
            period_start = period_start.or(Some(p.start));
            period_end = period_end.or(Some(p.end));
        }
    }
    let level = spec
        .and_then(|s| p06_submission::level_of(s.level.as_str()))
        .unwrap_or(LocalityLevel::Unspecified);
    let names = indicator_names(ctx).await?;
    let schema = p06_submission::report_schema(agency, &names, level);
    let mut table = p06_workbook::read_table_with(grid, &schema, outcome.totals);
    problems.append(&mut table.problems);
    if level != LocalityLevel::Province {
        let known = ctx
            .api()
            .localities(ctx.token(), edition, &province, level)
            .await
            .map_err(|s| ctx.fail(s))?;
        p06_submission::resolve_codes(&mut table.records, &known, &province, level, &mut problems);
    }
    if obligation.is_none() {
        outcome.error = no_obligation;
    }
    if !problems.is_empty() {
        outcome.problems = problems;
        return Ok(None);
    }
    let Some(obligation) = obligation else {
        return Ok(None);
    };
    if table.records.iter().all(|r| r.values.is_empty()) {
        outcome.error = pick(
            format!(
                "trang '{}' chưa có số liệu nào (mọi ô số liệu đều trống); chưa gửi gì",
                grid.sheet
            ),
            format!(
                "sheet '{}' has no figures (every figure cell is blank); nothing was submitted",
                grid.sheet
            ),
        );
        return Ok(None);
    }
    let (Some(period_start), Some(period_end)) = (period_start, period_end) else {
        outcome.error = pick(
            "bảng tính không ghi kỳ báo cáo: hãy dùng mẫu tải ở trên, hoặc chọn nghĩa vụ và một ngày trong kỳ".into(),
            "the workbook does not say its period: use the template above, or choose the obligation and a day of the period".into(),
        );
        return Ok(None);
    };
    let head = Head {
        request_id: p06_submission::request_id(bytes, &grid.sheet, outcome.amend),
        obligation,
        province: LocalityRef {
            edition: edition.to_owned(),
            code: province,
        },
        period_start,
        period_end,
        narrative: p06_submission::narrative(&info, "", "", ""),
        mode: if outcome.amend {
            RevisionMode::Amend
        } else {
            RevisionMode::Replace
        }
        .into(),
    };
    Ok(Some((agency, table.records, head)))
}
