//! The justice (Sở Tư pháp) reporting service: civil-status digitization and online registration.
//!
//! Checks the report in justice terms, maps it to indicator observations and forwards it to the
//! aggregator with the caller's token; returns the aggregator's receipt. Holds no state of its own.

use p06_domain::report::FieldViolation;
use p06_kit::agency::{Envelope, Field, ReportMapper, forward};
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

/// The figure fields of a justice report, in the order of `CivilStatusFigures`: the API's fields and the
/// columns of the agency's spreadsheets (`p06 submit justice --help` lists them from here).
pub const FIELDS: &[Field] = &[
    Field::count("records_digitized", "civil_status.digitized"),
    Field::count("records_backlog", "civil_status.backlog"),
    Field::count("registrations_total", "civil_registration.total"),
    Field::count("registrations_online", "civil_registration.online"),
    Field::count(
        "registrations_interlinked",
        "civil_registration.interlinked",
    ),
];

/// Maps civil-status figures to observations: no negative counts, and the domain's rule book
/// ([`p06_domain::invariants`]: records digitized ≤ backlog to digitize; interlinked registrations
/// ≤ online registrations ≤ all registrations), each violation named by its justice field.
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
            mode: req.mode,
        };
        let receipt = forward(&self.aggregator, &metadata, envelope, observations).await?;
        Ok(Response::new(receipt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`FIELDS`] is what [`observations`] maps: every field, to its indicator, in order.
    #[test]
    fn the_field_table_is_the_mapping() {
        let all = CivilStatusFigures {
            locality_code: "1".into(),
            records_digitized: Some(1),
            records_backlog: Some(1),
            registrations_total: Some(1),
            registrations_online: Some(1),
            registrations_interlinked: Some(1),
        };
        let obs = observations(&[all]).unwrap();
        let mapped: Vec<&str> = obs.iter().map(|o| o.indicator_code.as_str()).collect();
        let table: Vec<&str> = FIELDS.iter().map(|f| f.indicator).collect();
        assert_eq!(mapped, table);
    }

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
