//! `p06.aggregation.v1.IngestService`.

use std::sync::Arc;

use p06_domain::report::{self, DraftObservation, Narrative, ReportDraft};
use p06_kit::convert::{date_from_proto, date_to_proto, duration, timestamp};
use p06_proto::aggregation::{
    GetReportRequest, Observation, Receipt, Report, SubmitReportRequest, Timeliness,
    ingest_service_server::IngestService,
};
use p06_proto::common::{self, LocalityRef};
use tonic::{Request, Response, Status};

use super::Caller;
use crate::app::AppState;
use crate::error::Error;
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
        fields(agency, province, obligation, report, revision, observations)
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
        let valid = report::validate(draft, &self.state.catalog, self.state.today())
            .map_err(Error::from)?;
        let payload_sha256 = report::payload_sha256(&valid);
        let stored = self
            .state
            .store
            .insert_report(&NewReport {
                report: &valid,
                payload_sha256: &payload_sha256,
                received_at,
                submitted_by: caller.subject(),
            })
            .await?;
        span.record("report", stored.receipt.id);
        span.record("revision", stored.receipt.revision);
        Ok(Response::new(receipt_to_proto(&stored)))
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
            receipt: Some(receipt_to_proto(&Stored {
                receipt: stored.receipt.clone(),
                replayed: false,
            })),
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

fn receipt_to_proto(stored: &Stored) -> Receipt {
    let r: &StoredReceipt = &stored.receipt;
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
        specificity_reasons: Vec::new(),
        flags: Vec::new(),
        replayed: stored.replayed,
    }
}
