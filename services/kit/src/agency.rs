//! What the three agency services share: turning a report in the agency's own terms into generic
//! indicator observations while checking the domain's rule book on them
//! ([`p06_domain::invariants`], the same the aggregator applies), and the envelope forwarded to the
//! aggregator.

use p06_domain::invariants::{self, Figure};
use p06_domain::report::FieldViolation;
use p06_proto::aggregation::{Observation, Receipt, SubmitReportRequest};
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::forward::AggregatorClient;
use p06_proto::common::{LocalityRef, Narrative, Period};

/// One figure field of an agency's report (a field of its API's per-locality message, and the
/// column of the same name in its spreadsheets), and the indicator it feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub indicator: &'static str,
    /// A percentage (0–100) rather than a whole count.
    pub percent: bool,
}

impl Field {
    pub const fn count(name: &'static str, indicator: &'static str) -> Self {
        Self {
            name,
            indicator,
            percent: false,
        }
    }

    pub const fn percent(name: &'static str, indicator: &'static str) -> Self {
        Self {
            name,
            indicator,
            percent: true,
        }
    }
}

/// Collects the observations and the violations of one agency report.
#[derive(Debug, Default)]
pub struct ReportMapper {
    observations: Vec<Observation>,
    /// The agency field each observation comes from, e.g. `localities[0].vneid_level2_activated`.
    sources: Vec<String>,
    violations: Vec<FieldViolation>,
}

impl ReportMapper {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the figures of `localities[index]`.
    pub fn locality<'a>(&'a mut self, index: usize, locality_code: &'a str) -> LocalityFigures<'a> {
        if locality_code.trim().is_empty() {
            self.violations.push(FieldViolation::new(
                format!("localities[{index}].locality_code"),
                "locality_code is required",
            ));
        }
        LocalityFigures {
            index,
            locality_code,
            mapper: self,
        }
    }

    /// The observations, or every violation found: the figures' own, then every relation of the
    /// domain's rule book they break, named by the agency field of the relation's first part and
    /// worded as the aggregator words it.
    pub fn finish(mut self) -> Result<Vec<Observation>, Vec<FieldViolation>> {
        let figures = self.observations.iter().map(|o| Figure {
            indicator: &o.indicator_code,
            locality: &o.locality_code,
            value: o.value,
        });
        for breach in invariants::check(figures) {
            self.violations.push(FieldViolation::new(
                self.sources[breach.figure].clone(),
                breach.description(),
            ));
        }
        if self.violations.is_empty() {
            Ok(self.observations)
        } else {
            Err(self.violations)
        }
    }
}

/// The figures of one locality. Unset figures are "not reported" and produce no observation.
pub struct LocalityFigures<'a> {
    index: usize,
    locality_code: &'a str,
    mapper: &'a mut ReportMapper,
}

impl LocalityFigures<'_> {
    fn field(&self, name: &str) -> String {
        format!("localities[{}].{name}", self.index)
    }

    fn violation(&mut self, field: &str, description: String) {
        let field = self.field(field);
        self.mapper
            .violations
            .push(FieldViolation::new(field, description));
    }

    fn push(&mut self, field: &str, indicator: &str, value: f64) {
        let source = self.field(field);
        self.mapper.sources.push(source);
        self.mapper.observations.push(Observation {
            indicator_code: indicator.to_owned(),
            locality_code: self.locality_code.to_owned(),
            value,
            carried_from: String::new(),
        });
    }

    /// A count: must not be negative.
    pub fn count(&mut self, field: &str, indicator: &str, value: Option<i64>) -> &mut Self {
        match value {
            Some(v) if v < 0 => self.violation(field, format!("{v} is negative")),
            Some(v) => self.push(field, indicator, v as f64),
            None => {}
        }
        self
    }

    /// A percentage: finite and within 0–100.
    pub fn percent(&mut self, field: &str, indicator: &str, value: Option<f64>) -> &mut Self {
        match value {
            Some(v) if !(0.0..=100.0).contains(&v) => {
                self.violation(field, format!("{v} is not a percentage between 0 and 100"))
            }
            Some(v) => self.push(field, indicator, v),
            None => {}
        }
        self
    }
}

/// The envelope of a report as the aggregator receives it.
pub struct Envelope {
    pub agency: &'static str,
    pub request_id: String,
    pub obligation: String,
    pub province: Option<LocalityRef>,
    pub period: Option<Period>,
    pub narrative: Option<Narrative>,
    /// `p06.aggregation.v1.RevisionMode`, forwarded unchanged (unset = REPLACE).
    pub mode: i32,
}

impl Envelope {
    pub fn into_request(self, observations: Vec<Observation>) -> SubmitReportRequest {
        SubmitReportRequest {
            request_id: self.request_id,
            agency: self.agency.to_owned(),
            obligation: self.obligation,
            province: self.province,
            period: self.period,
            observations,
            narrative: self.narrative,
            mode: self.mode,
        }
    }
}

/// Forwards an agency's report to the aggregator on behalf of the caller whose request metadata is
/// `incoming`, or refuses it with every invariant violation (nothing reaches the aggregator then).
pub async fn forward(
    aggregator: &AggregatorClient,
    incoming: &MetadataMap,
    envelope: Envelope,
    observations: Result<Vec<Observation>, Vec<FieldViolation>>,
) -> Result<Receipt, Status> {
    let observations = observations.map_err(|v| {
        crate::status::invalid_argument(
            format!("the {} report violates its invariants", envelope.agency),
            &v,
        )
    })?;
    aggregator
        .submit(incoming, envelope.into_request(observations))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_figures_produce_nothing_and_the_rule_book_names_the_agency_field() {
        let mut mapper = ReportMapper::new();
        mapper
            .locality(0, "23680")
            .count("created", "vneid.l2.created", Some(10))
            .count("activated", "vneid.l2.activated", None);
        mapper
            .locality(1, "23681")
            .count("created", "vneid.l2.created", Some(5))
            .count("activated", "vneid.l2.activated", Some(6));
        let violations = mapper.finish().unwrap_err();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "localities[1].activated");
        assert_eq!(
            violations[0].description,
            "in locality 23681, vneid.l2.activated (6) must not exceed vneid.l2.created (5)"
        );
    }

    #[test]
    fn parts_sum_against_the_whole() {
        let mut mapper = ReportMapper::new();
        mapper
            .locality(0, "1")
            .count("initiated", "signature.initiated", Some(10))
            .count("completed", "signature.completed", Some(6))
            .count("pending", "signature.pending", Some(5));
        assert_eq!(
            mapper.finish().unwrap_err()[0].field,
            "localities[0].completed"
        );
        let mut mapper = ReportMapper::new();
        mapper
            .locality(0, "1")
            .count("initiated", "signature.initiated", Some(10))
            .count("completed", "signature.completed", Some(5))
            .count("pending", "signature.pending", Some(5));
        assert_eq!(mapper.finish().unwrap().len(), 3);
    }

    #[test]
    fn negative_counts_and_bad_percentages_are_named() {
        let mut mapper = ReportMapper::new();
        mapper
            .locality(0, "")
            .count("created", "vneid.l2.created", Some(-1))
            .percent("share", "pension.cashless.urban_share", Some(f64::NAN));
        let fields: Vec<_> = mapper
            .finish()
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "localities[0].locality_code",
                "localities[0].created",
                "localities[0].share"
            ]
        );
    }
}
