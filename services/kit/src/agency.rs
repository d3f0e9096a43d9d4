//! What the three agency services share: turning a report in the agency's own terms into generic
//! indicator observations while checking its invariants, and the envelope forwarded to the
//! aggregator.

use p06_domain::report::FieldViolation;
use p06_proto::aggregation::{Observation, Receipt, SubmitReportRequest};
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::forward::AggregatorClient;
use p06_proto::common::{LocalityRef, Narrative, Period};

/// Collects the observations and the invariant violations of one agency report.
#[derive(Debug, Default)]
pub struct ReportMapper {
    observations: Vec<Observation>,
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

    /// The observations, or every violation found.
    pub fn finish(self) -> Result<Vec<Observation>, Vec<FieldViolation>> {
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

    fn push(&mut self, indicator: &str, value: f64) {
        self.mapper.observations.push(Observation {
            indicator_code: indicator.to_owned(),
            locality_code: self.locality_code.to_owned(),
            value,
        });
    }

    /// A count: must not be negative.
    pub fn count(&mut self, field: &str, indicator: &str, value: Option<i64>) -> &mut Self {
        match value {
            Some(v) if v < 0 => self.violation(field, format!("{v} is negative")),
            Some(v) => self.push(indicator, v as f64),
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
            Some(v) => self.push(indicator, v),
            None => {}
        }
        self
    }

    /// The invariant `sum(parts) ≤ whole`, checked when the whole and every part are reported.
    pub fn at_most(
        &mut self,
        parts: &[(&str, Option<i64>)],
        whole: (&str, Option<i64>),
    ) -> &mut Self {
        let (whole_name, Some(whole_value)) = whole else {
            return self;
        };
        let Some(sum) = parts.iter().map(|(_, v)| *v).sum::<Option<i64>>() else {
            return self;
        };
        if sum > whole_value {
            let names: Vec<&str> = parts.iter().map(|(n, _)| *n).collect();
            let (first, _) = parts[0];
            self.violation(
                first,
                format!(
                    "{} ({sum}) must not exceed {whole_name} ({whole_value})",
                    names.join(" + ")
                ),
            );
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
    fn unset_figures_produce_nothing_and_invariants_name_the_field() {
        let mut mapper = ReportMapper::new();
        mapper
            .locality(0, "23680")
            .count("created", "a", Some(10))
            .count("activated", "b", None)
            .at_most(&[("activated", None)], ("created", Some(10)));
        mapper
            .locality(1, "23681")
            .count("created", "a", Some(5))
            .count("activated", "b", Some(6))
            .at_most(&[("activated", Some(6))], ("created", Some(5)));
        let violations = mapper.finish().unwrap_err();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "localities[1].activated");
        assert!(
            violations[0]
                .description
                .contains("activated (6) must not exceed created (5)")
        );
    }

    #[test]
    fn parts_sum_against_the_whole() {
        let mut mapper = ReportMapper::new();
        mapper.locality(0, "1").at_most(
            &[("completed", Some(6)), ("pending", Some(5))],
            ("initiated", Some(10)),
        );
        assert_eq!(
            mapper.finish().unwrap_err()[0].field,
            "localities[0].completed"
        );
        let mut mapper = ReportMapper::new();
        mapper.locality(0, "1").count("x", "x", Some(3)).at_most(
            &[("completed", Some(5)), ("pending", Some(5))],
            ("initiated", Some(10)),
        );
        assert_eq!(mapper.finish().unwrap().len(), 1);
    }
}
