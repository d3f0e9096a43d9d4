//! Reporting obligations: which agency reports which indicators, for which provinces and locality
//! level, on which schedule, by when.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::locality::{Edition, Level};
use crate::report::{CatalogView, FieldViolation, MAX_CODE_CHARS};
use crate::text;

/// At most this many characters in an obligation's name.
pub const MAX_NAME_CHARS: usize = 200;
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
    /// The first day the obligation is in effect: periods that start before it are not expected
    /// (no MISSING flag, not counted on the compliance board). Absent: every period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
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
        if self.code.trim().is_empty() {
            v.push(FieldViolation::new("code", "1 to 64 characters"));
        } else {
            text::check_into(&mut v, "code", &self.code, MAX_CODE_CHARS);
        }
        text::check_into(&mut v, "name", &self.name, MAX_NAME_CHARS);
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
                    format!("unknown indicator {}", text::echo(code)),
                )),
                Some(ind) if ind.agency != self.agency => v.push(FieldViolation::new(
                    format!("indicators[{i}]"),
                    format!("{code} belongs to {}, not {}", ind.agency, self.agency),
                )),
                Some(_) => {}
            }
        }
        if self.provinces.is_empty() {
            v.push(FieldViolation::new(
                "provinces",
                "at least one edition/province code, e.g. \"2024/64\"",
            ));
        }
        for (i, key) in self.provinces.iter().enumerate() {
            if self.provinces[..i].contains(key) {
                v.push(FieldViolation::new(
                    format!("provinces[{i}]"),
                    format!("{} is listed more than once", text::echo(key)),
                ));
            }
            let known = parse_province(key)
                .and_then(|(e, code)| catalog.locality(e, code))
                .is_some_and(|l| l.level == Level::Province);
            if !known {
                v.push(FieldViolation::new(
                    format!("provinces[{i}]"),
                    format!("{} is not an edition/province code", text::echo(key)),
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

    /// Whether a period is expected of the bound provinces (it starts on or after `from`).
    pub fn expects(&self, period: &Period) -> bool {
        self.from.is_none_or(|from| period.start >= from)
    }

    /// The obligation as it binds one province ("edition/code"): the same settings, that province
    /// alone. Each province holds its own settings of a shared code (see [`crate::admin`]).
    pub fn for_province(&self, key: &str) -> ObligationSpec {
        ObligationSpec {
            provinces: vec![key.to_owned()],
            ..self.clone()
        }
    }

    /// Same code and settings, whichever provinces each binds.
    pub fn same_settings(&self, other: &ObligationSpec) -> bool {
        ObligationSpec {
            provinces: Vec::new(),
            ..self.clone()
        } == ObligationSpec {
            provinces: Vec::new(),
            ..other.clone()
        }
    }

    /// Per-province settings merged back for reading: one spec per code and distinct settings,
    /// binding every province that holds them (sorted), ordered by code, then by first province.
    pub fn merge(per_province: impl IntoIterator<Item = ObligationSpec>) -> Vec<ObligationSpec> {
        let mut merged: Vec<ObligationSpec> = Vec::new();
        for spec in per_province {
            match merged.iter_mut().find(|m| m.same_settings(&spec)) {
                Some(m) => m.provinces.extend(spec.provinces),
                None => merged.push(spec),
            }
        }
        for m in &mut merged {
            m.provinces.sort();
            m.provinces.dedup();
        }
        merged.sort_by(|a, b| (&a.code, &a.provinces).cmp(&(&b.code, &b.provinces)));
        merged
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edition::EditionValidity;
    use crate::locality::Locality;
    use crate::report::Indicator;

    /// A catalog that knows nothing: only the province-list rules are looked at here.
    struct Empty;

    impl CatalogView for Empty {
        fn editions(&self) -> &[EditionValidity] {
            &[]
        }
        fn indicator(&self, _: &str) -> Option<&Indicator> {
            None
        }
        fn locality(&self, _: Edition, _: &str) -> Option<&Locality> {
            None
        }
    }

    fn spec(code: &str, provinces: &[&str], days: u32) -> ObligationSpec {
        let provinces: Vec<String> = provinces.iter().map(|p| format!("{p:?}")).collect();
        toml::from_str(&format!(
            r#"
            code = "{code}"
            agency = "police"
            indicators = ["vneid.l2.activated"]
            level = "commune"
            provinces = [{}]
            cadence = {{ kind = "weekly", first_weekday = "mon" }}
            deadline = {{ days = {days}, count = "working", at = "17:00:00" }}
            "#,
            provinces.join(", ")
        ))
        .unwrap()
    }

    fn fields(spec: &ObligationSpec) -> Vec<String> {
        spec.check(&Empty)
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect()
    }

    #[test]
    fn an_obligation_binds_at_least_one_province_each_once() {
        assert!(fields(&spec("a", &[], 2)).contains(&"provinces".to_owned()));
        let twice = fields(&spec("a", &["2024/64", "2024/52", "2024/64"], 2));
        assert!(twice.contains(&"provinces[2]".to_owned()), "{twice:?}");
    }

    #[test]
    fn per_province_settings_split_and_merge_back() {
        let shared = spec("police-weekly-identity", &["2024/64", "2024/52"], 2);
        let for_64 = shared.for_province("2024/64");
        assert_eq!(for_64.provinces, ["2024/64"]);
        assert!(for_64.same_settings(&shared));
        // 01 keeps the shared settings; 52 changed its deadline.
        let merged = ObligationSpec::merge([
            shared.for_province("2024/64"),
            spec("police-weekly-identity", &["2024/52"], 5),
            shared.for_province("2024/01"),
            spec("health-weekly", &["2024/64"], 2),
        ]);
        let summary: Vec<(&str, Vec<&str>, u32)> = merged
            .iter()
            .map(|m| {
                (
                    m.code.as_str(),
                    m.provinces.iter().map(String::as_str).collect(),
                    m.deadline.days,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("health-weekly", vec!["2024/64"], 2),
                ("police-weekly-identity", vec!["2024/01", "2024/64"], 2),
                ("police-weekly-identity", vec!["2024/52"], 5),
            ]
        );
    }
}
