//! The social insurance and health (BHXH / Sở Y tế) reporting service: BHYT cards and health books
//! on VNeID, facilities accepting chip ID cards, cashless pension payments, social-security accounts.
//!
//! Checks the report in BHXH terms, maps it to indicator observations and forwards it to the
//! aggregator with the caller's token; returns the aggregator's receipt. Holds no state of its own.

use p06_domain::report::FieldViolation;
use p06_kit::agency::{Envelope, Field, ReportMapper, forward};
use p06_kit::forward::AggregatorClient;
use p06_proto::aggregation::{Observation, Receipt};
use p06_proto::health::{
    HealthFigures, SubmitHealthReportRequest,
    health_reporting_service_server::HealthReportingService,
};
use tonic::{Request, Response, Status};

pub use p06_proto::health::health_reporting_service_server::HealthReportingServiceServer;

pub struct HealthApi {
    aggregator: AggregatorClient,
}

impl HealthApi {
    pub fn new(aggregator: AggregatorClient) -> Self {
        Self { aggregator }
    }

    pub fn into_server(self) -> HealthReportingServiceServer<Self> {
        HealthReportingServiceServer::new(self)
            .max_decoding_message_size(p06_kit::host::MAX_MESSAGE_BYTES)
    }
}

/// The figure fields of a health report, in the order of `HealthFigures`: the API's fields and the
/// columns of the agency's spreadsheets (`p06 submit health --help` lists them from here).
pub const FIELDS: &[Field] = &[
    Field::count("bhyt_cards_integrated", "bhyt.cards.integrated"),
    Field::count("health_books_integrated", "health_book.integrated"),
    Field::count("facilities_accepting_cccd", "facilities.accepting_cccd"),
    Field::count("facilities_total", "facilities.total"),
    Field::count("pension_recipients_cashless", "pension.cashless.recipients"),
    Field::count("pension_recipients", "pension.recipients"),
    Field::count("social_security_accounts", "social_security.accounts"),
    Field::percent(
        "pension_cashless_urban_percent",
        "pension.cashless.urban_share",
    ),
];

/// Maps health figures to observations: no negative counts, percentages within 0–100, and the
/// domain's rule book ([`p06_domain::invariants`]: recipients paid without cash ≤ recipients;
/// facilities accepting chip ID cards ≤ facilities), each violation named by its BHXH field.
pub fn observations(localities: &[HealthFigures]) -> Result<Vec<Observation>, Vec<FieldViolation>> {
    let mut mapper = ReportMapper::new();
    for (i, f) in localities.iter().enumerate() {
        mapper
            .locality(i, &f.locality_code)
            .count(
                "bhyt_cards_integrated",
                "bhyt.cards.integrated",
                f.bhyt_cards_integrated,
            )
            .count(
                "health_books_integrated",
                "health_book.integrated",
                f.health_books_integrated,
            )
            .count(
                "facilities_accepting_cccd",
                "facilities.accepting_cccd",
                f.facilities_accepting_cccd,
            )
            .count("facilities_total", "facilities.total", f.facilities_total)
            .count(
                "pension_recipients_cashless",
                "pension.cashless.recipients",
                f.pension_recipients_cashless,
            )
            .count(
                "pension_recipients",
                "pension.recipients",
                f.pension_recipients,
            )
            .count(
                "social_security_accounts",
                "social_security.accounts",
                f.social_security_accounts,
            )
            .percent(
                "pension_cashless_urban_percent",
                "pension.cashless.urban_share",
                f.pension_cashless_urban_percent,
            );
    }
    mapper.finish()
}

#[tonic::async_trait]
impl HealthReportingService for HealthApi {
    #[tracing::instrument(skip_all, fields(agency = "health", localities))]
    async fn submit_health_report(
        &self,
        request: Request<SubmitHealthReportRequest>,
    ) -> Result<Response<Receipt>, Status> {
        let (metadata, _, req) = request.into_parts();
        tracing::Span::current().record("localities", req.localities.len());
        let observations = observations(&req.localities);
        let envelope = Envelope {
            agency: "health",
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
        let all = HealthFigures {
            locality_code: "1".into(),
            bhyt_cards_integrated: Some(1),
            health_books_integrated: Some(1),
            facilities_accepting_cccd: Some(1),
            facilities_total: Some(1),
            pension_recipients_cashless: Some(1),
            pension_recipients: Some(1),
            social_security_accounts: Some(1),
            pension_cashless_urban_percent: Some(50.0),
        };
        let obs = observations(&[all]).unwrap();
        let mapped: Vec<&str> = obs.iter().map(|o| o.indicator_code.as_str()).collect();
        let table: Vec<&str> = FIELDS.iter().map(|f| f.indicator).collect();
        assert_eq!(mapped, table);
    }

    #[test]
    fn cashless_recipients_cannot_exceed_recipients() {
        let f = HealthFigures {
            locality_code: "64".into(),
            pension_recipients_cashless: Some(12_001),
            pension_recipients: Some(12_000),
            pension_cashless_urban_percent: Some(100.5),
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
                "localities[0].pension_cashless_urban_percent",
                "localities[0].pension_recipients_cashless"
            ]
        );
    }
}
