//! The justice (Sở Tư pháp) reporting service: civil-status digitization and online registration.
//!
//! Checks the report in justice terms, maps it to indicator observations and forwards it to the
//! aggregator with the caller's token; returns the aggregator's receipt. Holds no state of its own.

use p06_domain::report::FieldViolation;
use p06_kit::agency::{Envelope, ReportMapper, forward};
use p06_kit::forward::AggregatorClient;
use p06_proto::aggregation::{Observation, Receipt};
use p06_proto::justice::{
    CivilStatusFigures, SubmitCivilStatusReportRequest,
    justice_reporting_service_server::JusticeReportingService,
};
use tonic::{Request, Response, Status};

pub use p06_proto::justice::justice_reporting_service_server::JusticeReportingServiceServer;

pub struct JusticeApi {
    aggregator: AggregatorClient,
}

impl JusticeApi {
    pub fn new(aggregator: AggregatorClient) -> Self {
        Self { aggregator }
    }

    pub fn into_server(self) -> JusticeReportingServiceServer<Self> {
        JusticeReportingServiceServer::new(self)
            .max_decoding_message_size(p06_kit::host::MAX_MESSAGE_BYTES)
    }
}

/// Maps civil-status figures to observations, checking: records digitized ≤ backlog to digitize;
/// interlinked registrations ≤ online registrations ≤ all registrations; no negative counts.
pub fn observations(
    localities: &[CivilStatusFigures],
) -> Result<Vec<Observation>, Vec<FieldViolation>> {
    let mut mapper = ReportMapper::new();
    for (i, f) in localities.iter().enumerate() {
        mapper
            .locality(i, &f.locality_code)
            .count(
                "records_digitized",
                "civil_status.digitized",
                f.records_digitized,
            )
            .count("records_backlog", "civil_status.backlog", f.records_backlog)
            .count(
                "registrations_total",
                "civil_registration.total",
                f.registrations_total,
            )
            .count(
                "registrations_online",
                "civil_registration.online",
                f.registrations_online,
            )
            .count(
                "registrations_interlinked",
                "civil_registration.interlinked",
                f.registrations_interlinked,
            )
            .at_most(
                &[("records_digitized", f.records_digitized)],
                ("records_backlog", f.records_backlog),
            )
            .at_most(
                &[("registrations_interlinked", f.registrations_interlinked)],
                ("registrations_online", f.registrations_online),
            )
            .at_most(
                &[("registrations_online", f.registrations_online)],
                ("registrations_total", f.registrations_total),
            );
    }
    mapper.finish()
}

#[tonic::async_trait]
impl JusticeReportingService for JusticeApi {
    #[tracing::instrument(skip_all, fields(agency = "justice", localities))]
    async fn submit_civil_status_report(
        &self,
        request: Request<SubmitCivilStatusReportRequest>,
    ) -> Result<Response<Receipt>, Status> {
        let (metadata, _, req) = request.into_parts();
        tracing::Span::current().record("localities", req.localities.len());
        let observations = observations(&req.localities);
        let envelope = Envelope {
            agency: "justice",
            request_id: req.request_id,
            obligation: req.obligation,
            province: req.province,
            period: req.period,
            narrative: req.narrative,
        };
        let receipt = forward(&self.aggregator, &metadata, envelope, observations).await?;
        Ok(Response::new(receipt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digitized_cannot_exceed_backlog_nor_interlinked_online() {
        let f = CivilStatusFigures {
            locality_code: "626".into(),
            records_digitized: Some(11),
            records_backlog: Some(10),
            registrations_online: Some(4),
            registrations_interlinked: Some(5),
            ..Default::default()
        };
        let fields: Vec<_> = observations(&[f])
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "localities[0].records_digitized",
                "localities[0].registrations_interlinked"
            ]
        );
    }
}
