//! The police (Công an) reporting service: VNeID accounts, CCCD chip cards and digital signatures.
//!
//! Checks the report in police terms, maps it to indicator observations and forwards it to the
//! aggregator with the caller's token; returns the aggregator's receipt. Holds no state of its own.

use p06_domain::report::FieldViolation;
use p06_kit::agency::{Envelope, Field, ReportMapper, forward};
use p06_kit::forward::AggregatorClient;
use p06_proto::aggregation::{Observation, Receipt};
use p06_proto::police::{
    IdentityFigures, SubmitIdentityReportRequest,
    police_reporting_service_server::PoliceReportingService,
};
use tonic::{Request, Response, Status};

pub use p06_proto::police::police_reporting_service_server::PoliceReportingServiceServer;

pub struct PoliceApi {
    aggregator: AggregatorClient,
}

impl PoliceApi {
    pub fn new(aggregator: AggregatorClient) -> Self {
        Self { aggregator }
    }

    pub fn into_server(self) -> PoliceReportingServiceServer<Self> {
        PoliceReportingServiceServer::new(self)
            .max_decoding_message_size(p06_kit::host::MAX_MESSAGE_BYTES)
    }
}

/// The figure fields of a police report, in the order of `IdentityFigures`: the API's fields and the
/// columns of the agency's spreadsheets (`p06 submit police --help` lists them from here).
pub const FIELDS: &[Field] = &[
    Field::count("permanent_residents", "residents.permanent"),
    Field::count("vneid_level1_created", "vneid.l1.created"),
    Field::count("vneid_level2_created", "vneid.l2.created"),
    Field::count("vneid_level2_activated", "vneid.l2.activated"),
    Field::count("vneid_profiles_collected", "vneid.profiles.collected"),
    Field::count("cccd_applications_collected", "cccd.applications.collected"),
    Field::count("cccd_cards_issued", "cccd.cards.issued"),
    Field::count("eligible_without_cccd", "cccd.eligible.without_card"),
    Field::count("signatures_initiated", "signature.initiated"),
    Field::count("signatures_completed", "signature.completed"),
    Field::count("signatures_pending", "signature.pending"),
];

/// Maps police figures to observations: no negative counts, and the domain's rule book
/// ([`p06_domain::invariants`]: level-2 activated ≤ level-2 created; digital signatures completed +
/// pending ≤ initiated), each violation named by its police field.
pub fn observations(
    localities: &[IdentityFigures],
) -> Result<Vec<Observation>, Vec<FieldViolation>> {
    let mut mapper = ReportMapper::new();
    for (i, f) in localities.iter().enumerate() {
        mapper
            .locality(i, &f.locality_code)
            .count(
                "permanent_residents",
                "residents.permanent",
                f.permanent_residents,
            )
            .count(
                "vneid_level1_created",
                "vneid.l1.created",
                f.vneid_level1_created,
            )
            .count(
                "vneid_level2_created",
                "vneid.l2.created",
                f.vneid_level2_created,
            )
            .count(
                "vneid_level2_activated",
                "vneid.l2.activated",
                f.vneid_level2_activated,
            )
            .count(
                "vneid_profiles_collected",
                "vneid.profiles.collected",
                f.vneid_profiles_collected,
            )
            .count(
                "cccd_applications_collected",
                "cccd.applications.collected",
                f.cccd_applications_collected,
            )
            .count(
                "cccd_cards_issued",
                "cccd.cards.issued",
                f.cccd_cards_issued,
            )
            .count(
                "eligible_without_cccd",
                "cccd.eligible.without_card",
                f.eligible_without_cccd,
            )
            .count(
                "signatures_initiated",
                "signature.initiated",
                f.signatures_initiated,
            )
            .count(
                "signatures_completed",
                "signature.completed",
                f.signatures_completed,
            )
            .count(
                "signatures_pending",
                "signature.pending",
                f.signatures_pending,
            );
    }
    mapper.finish()
}

#[tonic::async_trait]
impl PoliceReportingService for PoliceApi {
    #[tracing::instrument(skip_all, fields(agency = "police", localities))]
    async fn submit_identity_report(
        &self,
        request: Request<SubmitIdentityReportRequest>,
    ) -> Result<Response<Receipt>, Status> {
        let (metadata, _, req) = request.into_parts();
        tracing::Span::current().record("localities", req.localities.len());
        let observations = observations(&req.localities);
        let envelope = Envelope {
            agency: "police",
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
        let all = IdentityFigures {
            locality_code: "1".into(),
            permanent_residents: Some(1),
            vneid_level1_created: Some(1),
            vneid_level2_created: Some(1),
            vneid_level2_activated: Some(1),
            vneid_profiles_collected: Some(1),
            cccd_applications_collected: Some(1),
            cccd_cards_issued: Some(1),
            eligible_without_cccd: Some(1),
            signatures_initiated: Some(2),
            signatures_completed: Some(1),
            signatures_pending: Some(1),
        };
        let obs = observations(&[all]).unwrap();
        let mapped: Vec<&str> = obs.iter().map(|o| o.indicator_code.as_str()).collect();
        let table: Vec<&str> = FIELDS.iter().map(|f| f.indicator).collect();
        assert_eq!(mapped, table);
    }

    #[test]
    fn figures_map_to_indicators_and_invariants_hold() {
        let ok = IdentityFigures {
            locality_code: "23680".into(),
            permanent_residents: Some(5_908),
            vneid_level2_created: Some(300),
            vneid_level2_activated: Some(109),
            ..Default::default()
        };
        let obs = observations(std::slice::from_ref(&ok)).unwrap();
        let codes: Vec<_> = obs.iter().map(|o| o.indicator_code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "residents.permanent",
                "vneid.l2.created",
                "vneid.l2.activated"
            ]
        );

        let bad = IdentityFigures {
            vneid_level2_activated: Some(301),
            signatures_initiated: Some(10),
            signatures_completed: Some(8),
            signatures_pending: Some(3),
            ..ok
        };
        let fields: Vec<_> = observations(&[bad])
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "localities[0].vneid_level2_activated",
                "localities[0].signatures_completed"
            ]
        );
    }
}
