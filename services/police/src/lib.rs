//! The police (Công an) reporting service: VNeID accounts, CCCD chip cards and digital signatures.
//!
//! Checks the report in police terms, maps it to indicator observations and forwards it to the
//! aggregator with the caller's token; returns the aggregator's receipt. Holds no state of its own.

use p06_domain::report::FieldViolation;
use p06_kit::agency::{Envelope, ReportMapper, forward};
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

/// Maps police figures to observations, checking: level-2 activated ≤ level-2 created; digital
/// signatures completed + pending ≤ initiated; no negative counts.
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
            )
            .at_most(
                &[("vneid_level2_activated", f.vneid_level2_activated)],
                ("vneid_level2_created", f.vneid_level2_created),
            )
            .at_most(
                &[
                    ("signatures_completed", f.signatures_completed),
                    ("signatures_pending", f.signatures_pending),
                ],
                ("signatures_initiated", f.signatures_initiated),
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
        };
        let receipt = forward(&self.aggregator, &metadata, envelope, observations).await?;
        Ok(Response::new(receipt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
