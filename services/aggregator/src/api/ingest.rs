//! `p06.aggregation.v1.IngestService`.

use std::sync::Arc;

use p06_domain::obligation::ObligationSpec;
use p06_domain::report::{
    self, DraftObservation, Narrative, ReportDraft, ValidObservation, ValidReport,
};
use p06_domain::revision::{self, EarlierRevision, RevisionMode};
use p06_domain::schedule::Period;
use p06_domain::specificity::SpecificityReason;
use p06_domain::text::echo;
use p06_kit::convert::{date_from_proto, date_to_proto, duration, timestamp};
use p06_proto::aggregation::{
    self as pb, GetReportRequest, Observation, Receipt, Report, SubmitReportRequest, Timeliness,
    ingest_service_server::IngestService,
};
use p06_proto::common::{self, LocalityRef};
use tonic::{Request, Response, Status};
use tracing::Instrument as _;

use super::Caller;
use crate::app::AppState;
use crate::compliance;
use crate::error::Error;
use crate::store::compliance::{FlagFacts, FlagRow};
use crate::store::{NewReport, Stored, StoredReceipt};

pub struct IngestApi {
    state: Arc<AppState>,
}

impl IngestApi {
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl IngestService for IngestApi {
    #[tracing::instrument(
        skip_all,
        fields(
            agency,
            province,
            obligation,
            period,
            report,
            revision,
            observations,
            timeliness,
            specificity_score
        )
    )]
    async fn submit_report(
        &self,
        request: Request<SubmitReportRequest>,
    ) -> Result<Response<Receipt>, Status> {
        let caller = Caller::of(&request)?;
        let received_at = self.state.clock.now();
        let req = request.into_inner();
        let province = req.province.clone().unwrap_or_default();
        let span = tracing::Span::current();
        span.record("agency", req.agency.as_str());
        span.record(
            "province",
            format!("{}/{}", province.edition, province.code),
        );
        span.record("obligation", req.obligation.as_str());
        span.record("observations", req.observations.len());

        caller.require_agency(&req.agency)?;
        caller.require_province(&province.edition, &province.code)?;

        let draft = draft_from_proto(req);
        let valid = tracing::info_span!("validate").in_scope(|| {
            report::validate(draft, &self.state.catalog, self.state.today()).map_err(Error::from)
        })?;
        span.record(
            "period",
            format!("{}..{}", valid.period_start, valid.period_end),
        );
        let obligation = self.obligation_of(&valid).await?;
        // The hash covers what was sent (the mode included), never the figures an amendment
        // carries forward.
        let payload_sha256 = report::payload_sha256(&valid);
        let mut attempt = 0;
        let stored = loop {
            attempt += 1;
            let (merged, amends) = self.merge_amendment(&valid).await?;
            let evaluation = compliance::evaluate(&self.state, &merged, &obligation)
                .instrument(tracing::info_span!("compliance.evaluate"))
                .await?;
            span.record("specificity_score", evaluation.specificity.score);
            // A percentage that matches only when truncated is accepted with a note; the note
            // quotes the narrative, which stays out of traces, so only the count is logged.
            if !evaluation.narrative_notes.is_empty() {
                tracing::info!(
                    notes = evaluation.narrative_notes.len(),
                    mismatches = evaluation.narrative_mismatches.len(),
                    "narrative figures accepted with a note (truncated percentages)"
                );
            }
            // One report of each waiting agency at a time at the province's writer.
            let _turn = self
                .state
                .write_turns
                .take(merged.province.id, &merged.agency)
                .instrument(tracing::info_span!("write_turn"))
                .await;
            let stored = self
                .state
                .store
                .insert_report(&NewReport {
                    report: &merged,
                    payload_sha256: &payload_sha256,
                    received_at,
                    submitted_by: caller.subject(),
                    evaluation: &evaluation,
                    catalog: &self.state.catalog,
                    bounds: &self.state.compliance.cross_agency_bounds,
                    amends,
                })
                .instrument(tracing::info_span!(
                    "store.insert_report",
                    observations = merged.observations.len(),
                    statements = tracing::field::Empty,
                ))
                .await;
            match stored {
                // Another revision landed between the merge and the insert: merge with it.
                Err(Error::Superseded(_)) if attempt < 3 => continue,
                other => break other?,
            }
        };
        span.record("report", stored.receipt.id);
        span.record("revision", stored.receipt.revision);
        span.record(
            "timeliness",
            stored
                .receipt
                .timeliness
                .as_deref()
                .unwrap_or("NOT_EVALUATED"),
        );
        Ok(Response::new(receipt_to_proto(
            &stored,
            &self.state.catalog,
        )))
    }

    async fn get_report(
        &self,
        request: Request<GetReportRequest>,
    ) -> Result<Response<Report>, Status> {
        let caller = Caller::of(&request)?;
        let name = request.into_inner().name;
        let not_found = || Error::NotFound(format!("{name} not found"));
        let id: i64 = name
            .strip_prefix("reports/")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| Error::invalid_field("name", "expected reports/{id}"))?;
        let stored = self.state.store.report(id).await?.ok_or_else(not_found)?;
        let catalog = &self.state.catalog;
        let province = catalog
            .locality_by_id(stored.header.province_id)
            .ok_or_else(|| Error::Internal(format!("report {id} has an unknown province")))?;
        // Another province's or (for a reporter) another agency's report is indistinguishable from a
        // missing one.
        // The national task force reads every province of its edition.
        let edition = province.edition.as_str();
        let visible = if caller.is_task_force() {
            caller.owns_province(edition, &province.code)
                || caller.owns_province(edition, p06_domain::locality::COUNTRY_CODE)
        } else {
            caller.owns_province(edition, &province.code) && caller.agency() == stored.header.agency
        };
        if !visible {
            return Err(not_found().into());
        }
        let h = &stored.header;
        let observations = stored
            .observations
            .iter()
            .map(|o| Observation {
                indicator_code: o.indicator_code.clone(),
                locality_code: catalog
                    .locality_by_id(o.locality_id)
                    .map(|l| l.code.clone())
                    .unwrap_or_default(),
                value: o.value,
                carried_from: o
                    .carried_from
                    .map(|id| format!("reports/{id}"))
                    .unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(Report {
            name: format!("reports/{id}"),
            agency: h.agency.clone(),
            obligation: h.obligation.clone(),
            province: Some(LocalityRef {
                edition: province.edition.to_string(),
                code: province.code.clone(),
            }),
            period: Some(common::Period {
                start: Some(date_to_proto(h.period_start)),
                end: Some(date_to_proto(h.period_end)),
            }),
            observations,
            narrative: Some(common::Narrative {
                assessment: h.assessment.clone(),
                obstacles: h.obstacles.clone(),
                proposals: h.proposals.clone(),
            }),
            receipt: Some(receipt_to_proto(
                &Stored {
                    receipt: stored.receipt.clone(),
                    flags: self.state.store.flags_of_report(id).await?,
                    replayed: false,
                },
                catalog,
            )),
            submitted_by: h.submitted_by.clone(),
        }))
    }
}

fn draft_from_proto(req: SubmitReportRequest) -> ReportDraft {
    let province = req.province.unwrap_or_default();
    let period = req.period.unwrap_or_default();
    let narrative = req.narrative.unwrap_or_default();
    ReportDraft {
        request_id: req.request_id,
        agency: req.agency,
        obligation: req.obligation,
        edition: province.edition,
        province_code: province.code,
        period_start: date_from_proto(period.start.as_ref()),
        period_end: date_from_proto(period.end.as_ref()),
        observations: req
            .observations
            .into_iter()
            .map(|o| DraftObservation {
                indicator_code: o.indicator_code,
                locality_code: o.locality_code,
                value: o.value,
            })
            .collect(),
        narrative: Narrative {
            assessment: narrative.assessment,
            obstacles: narrative.obstacles,
            proposals: narrative.proposals,
        },
        mode: match pb::RevisionMode::try_from(req.mode) {
            Ok(pb::RevisionMode::Amend) => RevisionMode::Amend,
            _ => RevisionMode::Replace,
        },
    }
}

impl IngestApi {
    /// An AMEND merged with the latest revision of its series ([`revision::amend`]), and that
    /// revision's id; a REPLACE, a first report or a retried request id as sent.
    async fn merge_amendment(
        &self,
        valid: &ValidReport,
    ) -> Result<(ValidReport, Option<i64>), Error> {
        let store = &self.state.store;
        if valid.mode != RevisionMode::Amend || store.request_seen(valid).await? {
            // A retry is answered from its stored receipt before anything is merged.
            return Ok((valid.clone(), None));
        }
        let Some((id, figures)) = store.latest_of_series(valid).await? else {
            return Ok((valid.clone(), None));
        };
        let catalog = &self.state.catalog;
        let observations = figures
            .into_iter()
            .map(|o| {
                let locality = catalog.locality_by_id(o.locality_id).ok_or_else(|| {
                    Error::Internal(format!(
                        "reports/{id} names unknown locality {}",
                        o.locality_id
                    ))
                })?;
                Ok(ValidObservation {
                    indicator_code: o.indicator_code,
                    locality_id: o.locality_id,
                    locality_code: locality.code.clone(),
                    value: o.value,
                    carried_from: o.carried_from,
                })
            })
            .collect::<Result<_, Error>>()?;
        let earlier = EarlierRevision { id, observations };
        let merged = revision::amend(valid.clone(), Some(&earlier))?;
        Ok((merged, Some(id)))
    }

    /// The obligation a report claims to fulfil, checked against it.
    async fn obligation_of(&self, report: &ValidReport) -> Result<ObligationSpec, Error> {
        let store = &self.state.store;
        let Some(obligation) = store
            .obligation_for(&report.obligation, report.province.id)
            .await?
        else {
            let why = if store.obligation_exists(&report.obligation).await? {
                format!(
                    "obligation {} does not bind province {}/{}",
                    report.obligation, report.edition, report.province.code
                )
            } else {
                format!("unknown obligation {}", echo(&report.obligation))
            };
            return Err(Error::invalid_field("obligation", why));
        };
        if obligation.agency != report.agency {
            return Err(Error::invalid_field(
                "obligation",
                format!(
                    "obligation {} is reported by {}, not {}",
                    obligation.code, obligation.agency, report.agency
                ),
            ));
        }
        obligation
            .check_period(Period::new(report.period_start, report.period_end))
            .map_err(|v| Error::invalid(vec![v]))?;
        Ok(obligation)
    }
}

/// A flag on the wire.
pub fn flag_to_proto(f: &FlagRow, catalog: &crate::catalog::Catalog) -> pb::Flag {
    let province = catalog.locality_by_id(f.province_id);
    let facts = FlagFacts::from_details(f.details.as_deref());
    pb::Flag {
        name: format!("flags/{}", f.id),
        kind: f.kind.clone(),
        state: f.state.clone(),
        agency: f.agency.clone(),
        obligation: f.obligation.clone(),
        province: province.map(|p| LocalityRef {
            edition: p.edition.to_string(),
            code: p.code.clone(),
        }),
        period: Some(common::Period {
            start: Some(date_to_proto(f.period_start)),
            end: Some(date_to_proto(f.period_end)),
        }),
        report: f
            .report_id
            .map(|id| format!("reports/{id}"))
            .unwrap_or_default(),
        indicator_code: f.indicator_code.clone().unwrap_or_default(),
        locality_code: f
            .locality_id
            .and_then(|id| catalog.locality_by_id(id))
            .map(|l| l.code.clone())
            .unwrap_or_default(),
        message: f.message.clone(),
        raise_time: Some(timestamp(f.raised_at)),
        resolve_time: f.resolved_at.map(timestamp),
        lateness: facts
            .lateness_seconds
            .map(|s| duration(chrono::Duration::seconds(s))),
        deadline: facts.deadline.map(timestamp),
        value: facts.value,
        reference: facts.reference,
        specificity_score: facts.score,
        reason_codes: facts.reason_codes(),
        quote: facts.quote.unwrap_or_default(),
    }
}

/// The receipt of a stored revision, with its flags.
pub(crate) fn receipt_to_proto(stored: &Stored, catalog: &crate::catalog::Catalog) -> Receipt {
    let r: &StoredReceipt = &stored.receipt;
    let reasons: Vec<SpecificityReason> = r
        .specificity_reasons
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    let timeliness = match r.timeliness.as_deref() {
        Some("ON_TIME") => Timeliness::OnTime,
        Some("LATE") => Timeliness::Late,
        _ => Timeliness::NotEvaluated,
    };
    Receipt {
        report: format!("reports/{}", r.id),
        revision: r.revision,
        receive_time: Some(timestamp(r.received_at)),
        payload_sha256: r.payload_sha256.clone(),
        deadline: r.deadline.map(timestamp),
        timeliness: timeliness as i32,
        lateness: r
            .lateness_seconds
            .map(|s| duration(chrono::Duration::seconds(s))),
        specificity_score: r.specificity_score,
        specificity_reasons: reasons
            .into_iter()
            .map(|r| pb::SpecificityReason {
                code: r.code,
                penalty: i32::from(r.penalty),
                explanation_vi: r.explanation_vi,
                explanation_en: r.explanation_en,
                subjects: r.subjects,
            })
            .collect(),
        flags: stored
            .flags
            .iter()
            .map(|f| flag_to_proto(f, catalog))
            .collect(),
        replayed: stored.replayed,
        mode: match RevisionMode::from_code(&r.mode) {
            RevisionMode::Replace => pb::RevisionMode::Replace,
            RevisionMode::Amend => pb::RevisionMode::Amend,
        } as i32,
        carried_observations: r.carried_count,
    }
}
