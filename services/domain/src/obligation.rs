//! Reporting obligations: which agency reports which indicators, for which provinces and locality
//! level, on which schedule, by when.

use serde::{Deserialize, Serialize};

use crate::locality::{Edition, Level};
use crate::report::{CatalogView, FieldViolation};
use crate::schedule::{Cadence, DeadlineRule, Period};

/// One obligation, as configured (TOML) or set by an admin (stored as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObligationSpec {
    /// Stable identifier, e.g. "police-weekly-identity".
    pub code: String,
    /// The reporting agency: police, health or justice.
    pub agency: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// Indicators every report must carry.
    pub indicators: Vec<String>,
    /// The level whose every unit needs figures (e.g. commune).
    pub level: Level,
    /// Provinces bound by the obligation, as "edition/code" (e.g. "2024/64").
    pub provinces: Vec<String>,
    pub cadence: Cadence,
    pub deadline: DeadlineRule,
}

/// A province reference "edition/code" split into its parts.
pub fn parse_province(key: &str) -> Option<(Edition, &str)> {
    let (edition, code) = key.split_once('/')?;
    Some((edition.parse().ok()?, code))
}

impl ObligationSpec {
    /// Checks the obligation against the catalog; every problem is a field violation.
    pub fn check(&self, catalog: &impl CatalogView) -> Result<(), Vec<FieldViolation>> {
        let mut v = Vec::new();
        if self.code.trim().is_empty() || self.code.len() > 64 {
            v.push(FieldViolation::new("code", "1 to 64 characters"));
        }
        if !["police", "health", "justice"].contains(&self.agency.as_str()) {
            v.push(FieldViolation::new("agency", "police, health or justice"));
        }
        if self.indicators.is_empty() {
            v.push(FieldViolation::new("indicators", "at least one indicator"));
        }
        for (i, code) in self.indicators.iter().enumerate() {
            match catalog.indicator(code) {
                None => v.push(FieldViolation::new(
                    format!("indicators[{i}]"),
                    format!("unknown indicator {code:?}"),
                )),
                Some(ind) if ind.agency != self.agency => v.push(FieldViolation::new(
                    format!("indicators[{i}]"),
                    format!("{code} belongs to {}, not {}", ind.agency, self.agency),
                )),
                Some(_) => {}
            }
        }
        for (i, key) in self.provinces.iter().enumerate() {
            let known = parse_province(key)
                .and_then(|(e, code)| catalog.locality(e, code))
                .is_some_and(|l| l.level == Level::Province);
            if !known {
                v.push(FieldViolation::new(
                    format!("provinces[{i}]"),
                    format!("{key:?} is not an edition/province code"),
                ));
            }
        }
        if let Err(why) = self.cadence.check() {
            v.push(FieldViolation::new("cadence", why));
        }
        if self.deadline.days > 366 {
            v.push(FieldViolation::new("deadline.days", "at most 366"));
        }
        if v.is_empty() { Ok(()) } else { Err(v) }
    }

    /// Whether the obligation binds this province.
    pub fn binds(&self, edition: Edition, code: &str) -> bool {
        self.provinces
            .iter()
            .any(|p| parse_province(p) == Some((edition, code)))
    }

    /// Checks that a submitted period is one of the obligation's periods.
    pub fn check_period(&self, period: Period) -> Result<(), FieldViolation> {
        if self.cadence.is_period(period) {
            return Ok(());
        }
        let hint = match self.cadence.period_containing(period.start) {
            Some(p) => format!("the period containing {} is {p}", period.start),
            None => "no period of this obligation contains that date".into(),
        };
        Err(FieldViolation::new(
            "period",
            format!(
                "{period} is not a period of obligation {}: {hint}",
                self.code
            ),
        ))
    }
}
