//! `p06.aggregation.v1.IngestService`.

use std::sync::Arc;

use p06_domain::obligation::ObligationSpec;
use p06_domain::report::{self, DraftObservation, Narrative, ReportDraft, ValidReport};
use p06_domain::schedule::Period;
use p06_domain::specificity::SpecificityReason;
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
use crate::store::compliance::FlagRow;
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
        let evaluation = compliance::evaluate(&self.state, &valid, &obligation)
            .instrument(tracing::info_span!("compliance.evaluate"))
            .await?;
        span.record("specificity_score", evaluation.specificity.score);
        let payload_sha256 = report::payload_sha256(&valid);
        let stored = self
            .state
            .store
            .insert_report(&NewReport {
                report: &valid,
                payload_sha256: &payload_sha256,
                received_at,
                submitted_by: caller.subject(),
                evaluation: &evaluation,
                catalog: &self.state.catalog,
            })
            .instrument(tracing::info_span!(
                "store.insert_report",
                observations = valid.observations.len(),
                statements = tracing::field::Empty,
            ))
            .await?;
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
        let visible = caller.owns_province(province.edition.as_str(), &province.code)
            && (caller.is_task_force() || caller.agency() == stored.header.agency);
        if !visible {
            return Err(not_found().into());
        }
        let h = &stored.header;
        let observations = stored
            .observations
            .iter()
            .map(|(indicator, locality_id, value)| Observation {
                indicator_code: indicator.clone(),
                locality_code: catalog
                    .locality_by_id(*locality_id)
                    .map(|l| l.code.clone())
                    .unwrap_or_default(),
                value: *value,
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
    }
}

impl IngestApi {
    /// The obligation a report claims to fulfil, checked against it.
    async fn obligation_of(&self, report: &ValidReport) -> Result<ObligationSpec, Error> {
        let obligation = self
            .state
            .store
            .obligation(&report.obligation)
            .await?
            .ok_or_else(|| {
                Error::invalid_field(
                    "obligation",
                    format!("unknown obligation {:?}", report.obligation),
                )
            })?;
        if obligation.agency != report.agency {
            return Err(Error::invalid_field(
                "obligation",
                format!(
                    "obligation {} is reported by {}, not {}",
                    obligation.code, obligation.agency, report.agency
                ),
            ));
        }
        if !obligation.binds(report.edition, &report.province.code) {
            return Err(Error::invalid_field(
                "obligation",
                format!(
                    "obligation {} does not bind province {}/{}",
                    obligation.code, report.edition, report.province.code
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
    }
}

/// The receipt of a stored revision, with its flags.
fn receipt_to_proto(stored: &Stored, catalog: &crate::catalog::Catalog) -> Receipt {
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
    }
}
