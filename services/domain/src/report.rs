//! Validation and canonical form of a submitted report.
//!
//! A report is checked as a whole; every problem with the caller's data becomes a [`FieldViolation`]
//! naming the offending field by its proto path (`observations[3].value`), so the caller can fix
//! everything in one round trip. Nothing is stored unless the whole report is valid.

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use crate::edition::{self, EditionValidity};
use crate::invariants::{self, Figure};
use crate::locality::{Edition, Locality};
pub use crate::revision::RevisionMode;
use crate::text;

/// At most this many observations in one report (a province's every commune × every indicator of
/// an obligation stays far below it).
pub const MAX_OBSERVATIONS: usize = 50_000;
/// At most this many characters in each narrative field.
pub const MAX_NARRATIVE_CHARS: usize = 20_000;
/// At most this many characters in a request id.
pub const MAX_REQUEST_ID_CHARS: usize = 128;
/// At most this many characters in a code (obligation, indicator), as the columns hold.
pub const MAX_CODE_CHARS: usize = 64;

/// Whether an indicator is a cumulative stock or a count within the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndicatorKind {
    Stock,
    Flow,
}

/// The unit an indicator's values are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Percent,
}

/// An indicator of the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub code: String,
    pub agency: String,
    pub kind: IndicatorKind,
    pub unit: Unit,
    pub denominator: Option<String>,
    pub name_vi: String,
    pub name_en: String,
}

/// What validation needs to know of the catalog.
pub trait CatalogView {
    /// The editions with their intervals of validity (the catalog's `locality_edition` rows).
    fn editions(&self) -> &[EditionValidity];
    fn indicator(&self, code: &str) -> Option<&Indicator>;
    fn locality(&self, edition: Edition, code: &str) -> Option<&Locality>;
}

/// One problem with one field of the caller's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// Why a report was refused before anything was stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    /// The caller's data is wrong; each violation names a field.
    #[error("invalid report: {} problem(s)", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// The report is well-formed but the reporting agency may not report it (another agency's
    /// indicator).
    #[error("{0}")]
    NotPermitted(String),
}

/// The narrative of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrative {
    pub assessment: String,
    pub obstacles: String,
    pub proposals: String,
}

/// A report as received, before validation. Dates are `None` when absent or not a calendar date.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDraft {
    pub request_id: String,
    pub agency: String,
    pub obligation: String,
    pub edition: String,
    pub province_code: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub observations: Vec<DraftObservation>,
    pub narrative: Narrative,
    pub mode: RevisionMode,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DraftObservation {
    pub indicator_code: String,
    pub locality_code: String,
    pub value: f64,
}

/// A validated report: every code resolved, every value checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidReport {
    pub request_id: String,
    pub agency: String,
    pub obligation: String,
    pub edition: Edition,
    pub province: Locality,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The figures sent, sorted by indicator then locality code; after [`crate::revision::amend`]
    /// also the figures carried forward from the earlier revision.
    pub observations: Vec<ValidObservation>,
    pub narrative: Narrative,
    pub mode: RevisionMode,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidObservation {
    pub indicator_code: String,
    pub locality_id: i64,
    pub locality_code: String,
    pub value: f64,
    /// For a figure an AMEND revision carried forward rather than sent: the id of the revision that
    /// sent it. `None` for a figure of the submitted payload.
    pub carried_from: Option<i64>,
}

/// Checks a request id (AIP-155), already trimmed: required, at most [`MAX_REQUEST_ID_CHARS`]
/// printable ASCII characters.
pub fn check_request_id(request_id: &str) -> Result<(), FieldViolation> {
    if request_id.is_empty() {
        Err(FieldViolation::new(
            "request_id",
            "request_id is required (AIP-155); use a UUID",
        ))
    } else if request_id.chars().count() > MAX_REQUEST_ID_CHARS
        || !request_id.chars().all(|c| c.is_ascii_graphic())
    {
        Err(FieldViolation::new(
            "request_id",
            format!("request_id must be at most {MAX_REQUEST_ID_CHARS} printable ASCII characters"),
        ))
    } else {
        Ok(())
    }
}

/// Checks a draft against the catalog. `today` is the current date in the province's time zone.
pub fn validate(
    draft: ReportDraft,
    catalog: &impl CatalogView,
    today: NaiveDate,
) -> Result<ValidReport, Rejection> {
    let mut violations = Vec::new();
    let mut bad =
        |field: &str, description: String| violations.push(FieldViolation::new(field, description));

    let request_id = draft.request_id.trim();
    if let Err(v) = check_request_id(request_id) {
        bad(&v.field, v.description);
    }
    if draft.obligation.trim().is_empty() {
        bad("obligation", "obligation is required".into());
    } else if let Err(v) = text::check("obligation", &draft.obligation, MAX_CODE_CHARS) {
        bad(&v.field, v.description);
    }

    let edition = draft.edition.parse::<Edition>().ok();
    if edition.is_none() {
        bad(
            "province.edition",
            format!(
                "unknown edition {}; expected 2023, 2024 or 2025",
                text::echo(&draft.edition)
            ),
        );
    }
    let province = edition.and_then(|e| catalog.locality(e, &draft.province_code));
    let province = province.filter(|p| p.parent_id.is_none());
    if edition.is_some() && province.is_none() {
        bad(
            "province.code",
            format!(
                "{} is not a province of edition {}",
                text::echo(&draft.province_code),
                draft.edition
            ),
        );
    }

    match (draft.period_start, draft.period_end) {
        (None, _) => bad(
            "period.start",
            "period start is required and must be a valid date".into(),
        ),
        (_, None) => bad(
            "period.end",
            "period end is required and must be a valid date".into(),
        ),
        (Some(start), Some(end)) => {
            if end < start {
                bad(
                    "period.end",
                    format!("period ends ({end}) before it starts ({start})"),
                );
            }
            if start > today {
                bad(
                    "period.start",
                    format!("period starts in the future ({start} > {today})"),
                );
            }
            if let Some(e) = edition
                && let Err(v) = edition::check_report_edition(catalog.editions(), e, end)
            {
                bad(&v.field, v.description);
            }
        }
    }

    for (field, text) in [
        ("narrative.assessment", &draft.narrative.assessment),
        ("narrative.obstacles", &draft.narrative.obstacles),
        ("narrative.proposals", &draft.narrative.proposals),
    ] {
        if let Err(v) = text::check(field, text, MAX_NARRATIVE_CHARS) {
            bad(&v.field, v.description);
        }
    }

    let mut observations = Vec::with_capacity(draft.observations.len());
    let mut foreign_indicators = Vec::new();
    if draft.observations.is_empty() {
        bad(
            "observations",
            "a report needs at least one observation".into(),
        );
    } else if draft.observations.len() > MAX_OBSERVATIONS {
        bad(
            "observations",
            format!(
                "{} observations exceed the limit of {MAX_OBSERVATIONS} per report; split the report",
                draft.observations.len()
            ),
        );
    } else {
        // The relations between indicators of one locality (activated ≤ created, …): the same
        // rule book the agency services apply before forwarding.
        let figures = draft.observations.iter().map(|o| Figure {
            indicator: &o.indicator_code,
            locality: &o.locality_code,
            value: o.value,
        });
        for breach in invariants::check(figures) {
            bad(
                &format!("observations[{}].value", breach.figure),
                breach.description(),
            );
        }
        let mut seen = HashSet::with_capacity(draft.observations.len());
        for (i, obs) in draft.observations.into_iter().enumerate() {
            let indicator = catalog.indicator(&obs.indicator_code);
            match indicator {
                None => bad(
                    &format!("observations[{i}].indicator_code"),
                    format!("unknown indicator {}", text::echo(&obs.indicator_code)),
                ),
                Some(ind) if ind.agency != draft.agency => {
                    foreign_indicators.push(ind.code.clone())
                }
                Some(_) => {}
            }
            let locality = match (edition, province) {
                (Some(e), Some(p)) => catalog
                    .locality(e, &obs.locality_code)
                    .filter(|l| l.province_id == p.id),
                _ => None,
            };
            if locality.is_none() && province.is_some() {
                bad(
                    &format!("observations[{i}].locality_code"),
                    format!(
                        "{} is not a locality of province {} in edition {}",
                        text::echo(&obs.locality_code),
                        draft.province_code,
                        draft.edition
                    ),
                );
            }
            let value_field = format!("observations[{i}].value");
            if !obs.value.is_finite() {
                bad(&value_field, "value must be a finite number".into());
            } else if obs.value < 0.0 {
                bad(&value_field, format!("value {} is negative", obs.value));
            } else if indicator.is_some_and(|ind| ind.unit == Unit::Percent) && obs.value > 100.0 {
                bad(
                    &value_field,
                    format!("percentage {} is above 100", obs.value),
                );
            }
            if !seen.insert((obs.indicator_code.clone(), obs.locality_code.clone())) {
                bad(
                    &format!("observations[{i}]"),
                    format!(
                        "duplicate observation of {} for locality {}",
                        text::echo_bare(&obs.indicator_code),
                        text::echo_bare(&obs.locality_code)
                    ),
                );
            }
            if let Some(l) = locality {
                observations.push(ValidObservation {
                    indicator_code: obs.indicator_code,
                    locality_id: l.id,
                    locality_code: obs.locality_code,
                    // -0.0 and 0.0 are the same figure; keep one canonical form.
                    value: if obs.value == 0.0 { 0.0 } else { obs.value },
                    carried_from: None,
                });
            }
        }
    }

    if !violations.is_empty() {
        return Err(Rejection::Invalid(violations));
    }
    if !foreign_indicators.is_empty() {
        foreign_indicators.sort();
        foreign_indicators.dedup();
        return Err(Rejection::NotPermitted(format!(
            "agency {} does not own indicator(s) {}",
            draft.agency,
            foreign_indicators.join(", ")
        )));
    }
    let (Some(edition), Some(province), Some(period_start), Some(period_end)) =
        (edition, province, draft.period_start, draft.period_end)
    else {
        unreachable!("every missing part was reported as a violation");
    };
    observations.sort_by(|a, b| {
        (&a.indicator_code, &a.locality_code).cmp(&(&b.indicator_code, &b.locality_code))
    });
    Ok(ValidReport {
        request_id: request_id.to_owned(),
        agency: draft.agency,
        obligation: draft.obligation.trim().to_owned(),
        edition,
        province: province.clone(),
        period_start,
        period_end,
        observations,
        narrative: draft.narrative,
        mode: draft.mode,
    })
}

/// The canonical text of a report's payload, whose SHA-256 the receipt carries.
///
/// Line-oriented UTF-8, `\n`-terminated, in this order: `p06-report/v1`; `agency=`; `obligation=`;
/// `province=<edition>/<code>`; `period=<start>/<end>` (ISO dates); `mode=amend` for an AMEND
/// revision only (a REPLACE report has no mode line, so its hash is what it was before modes
/// existed); the three narrative fields as `assessment=`, `obstacles=`, `proposals=` with the text
/// JSON-string-escaped; then one `obs=<indicator>|<locality>|<value>` per observation sent, sorted by
/// indicator code then locality code, the value in Rust's shortest round-trip decimal form
/// (`704828`, `40.8`). Figures an amendment carried forward are not part of what was sent, so not of
/// the payload. The request id is not part of the payload. Anyone holding the report can recompute
/// the hash.
pub fn canonical_payload(report: &ValidReport) -> String {
    let mut out = String::with_capacity(128 + report.observations.len() * 40);
    let _ = writeln!(out, "p06-report/v1");
    let _ = writeln!(out, "agency={}", report.agency);
    let _ = writeln!(out, "obligation={}", report.obligation);
    let _ = writeln!(out, "province={}/{}", report.edition, report.province.code);
    let _ = writeln!(out, "period={}/{}", report.period_start, report.period_end);
    if report.mode == RevisionMode::Amend {
        let _ = writeln!(out, "mode=amend");
    }
    for (name, text) in [
        ("assessment", &report.narrative.assessment),
        ("obstacles", &report.narrative.obstacles),
        ("proposals", &report.narrative.proposals),
    ] {
        let _ = writeln!(out, "{name}={}", json_escape(text));
    }
    let mut observations: Vec<&ValidObservation> = report
        .observations
        .iter()
        .filter(|o| o.carried_from.is_none())
        .collect();
    observations.sort_by(|a, b| {
        (&a.indicator_code, &a.locality_code).cmp(&(&b.indicator_code, &b.locality_code))
    });
    for o in observations {
        let _ = writeln!(
            out,
            "obs={}|{}|{}",
            o.indicator_code, o.locality_code, o.value
        );
    }
    out
}

/// Lower-case hex SHA-256 of [`canonical_payload`].
pub fn payload_sha256(report: &ValidReport) -> String {
    hex::encode(Sha256::digest(canonical_payload(report).as_bytes()))
}

fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::locality::Level;

    struct Fixture {
        indicators: HashMap<String, Indicator>,
        localities: HashMap<(Edition, String), Locality>,
        editions: [EditionValidity; 3],
    }

    impl CatalogView for Fixture {
        fn editions(&self) -> &[EditionValidity] {
            &self.editions
        }
        fn indicator(&self, code: &str) -> Option<&Indicator> {
            self.indicators.get(code)
        }
        fn locality(&self, edition: Edition, code: &str) -> Option<&Locality> {
            self.localities.get(&(edition, code.to_owned()))
        }
    }

    fn fixture() -> Fixture {
        let ind = |code: &str, agency: &str, unit| Indicator {
            code: code.into(),
            agency: agency.into(),
            kind: IndicatorKind::Stock,
            unit,
            denominator: None,
            name_vi: code.into(),
            name_en: code.into(),
        };
        let loc = |id, code: &str, level, parent_id, province_id| Locality {
            id,
            edition: Edition::E2024,
            code: code.into(),
            name: code.into(),
            level,
            parent_id,
            province_id,
        };
        let indicators = [
            ind("vneid.l2.activated", "police", Unit::Count),
            ind("bhyt.cards.integrated", "health", Unit::Count),
            ind("share", "police", Unit::Percent),
        ];
        let localities = [
            loc(1, "64", Level::Province, None, 1),
            loc(2, "626", Level::District, Some(1), 1),
            loc(3, "23680", Level::Commune, Some(2), 1),
            loc(10, "52", Level::Province, None, 10),
            loc(11, "21550", Level::Commune, Some(10), 10),
        ];
        Fixture {
            indicators: indicators
                .into_iter()
                .map(|i| (i.code.clone(), i))
                .collect(),
            localities: localities
                .into_iter()
                .map(|l| ((l.edition, l.code.clone()), l))
                .collect(),
            editions: crate::edition::builtin(),
        }
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn draft(observations: Vec<(&str, &str, f64)>) -> ReportDraft {
        ReportDraft {
            request_id: "req-1".into(),
            agency: "police".into(),
            obligation: "police-weekly".into(),
            edition: "2024".into(),
            province_code: "64".into(),
            period_start: Some(date("2025-03-10")),
            period_end: Some(date("2025-03-16")),
            observations: observations
                .into_iter()
                .map(|(i, l, v)| DraftObservation {
                    indicator_code: i.into(),
                    locality_code: l.into(),
                    value: v,
                })
                .collect(),
            narrative: Narrative::default(),
            mode: RevisionMode::Replace,
        }
    }

    fn violations(result: Result<ValidReport, Rejection>) -> Vec<String> {
        match result {
            Err(Rejection::Invalid(v)) => v.into_iter().map(|v| v.field).collect(),
            other => panic!("expected violations, got {other:?}"),
        }
    }

    const TODAY: &str = "2025-03-22";

    #[test]
    fn a_valid_report_resolves_codes_and_sorts_observations() {
        let report = validate(
            draft(vec![
                ("vneid.l2.activated", "626", 900.0),
                ("vneid.l2.activated", "23680", 109.0),
            ]),
            &fixture(),
            date(TODAY),
        )
        .unwrap();
        assert_eq!(report.province.id, 1);
        let codes: Vec<_> = report
            .observations
            .iter()
            .map(|o| o.locality_code.as_str())
            .collect();
        assert_eq!(codes, ["23680", "626"]);
        assert_eq!(report.observations[0].locality_id, 3);
    }

    #[test]
    fn a_report_outside_its_editions_interval_is_refused_naming_the_edition_in_force() {
        let mut late = draft(vec![("vneid.l2.activated", "23680", 1.0)]);
        late.period_start = Some(date("2026-03-02"));
        late.period_end = Some(date("2026-03-08"));
        match validate(late, &fixture(), date("2026-03-10")) {
            Err(Rejection::Invalid(v)) => {
                assert_eq!(v.len(), 1);
                assert_eq!(v[0].field, "province.edition");
                assert!(v[0].description.contains("edition 2025 is in force"));
            }
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn bad_values_are_each_named() {
        let fields = violations(validate(
            draft(vec![
                ("vneid.l2.activated", "23680", -1.0),
                ("vneid.l2.activated", "626", f64::NAN),
                ("share", "626", 100.5),
                ("share", "23680", f64::INFINITY),
                ("nope", "64", 1.0),
            ]),
            &fixture(),
            date(TODAY),
        ));
        assert_eq!(
            fields,
            [
                "observations[0].value",
                "observations[1].value",
                "observations[2].value",
                "observations[3].value",
                "observations[4].indicator_code"
            ]
        );
    }

    #[test]
    fn duplicates_outside_localities_and_empty_reports_are_refused() {
        let fields = violations(validate(
            draft(vec![
                ("vneid.l2.activated", "23680", 1.0),
                ("vneid.l2.activated", "23680", 2.0),
                ("vneid.l2.activated", "21550", 2.0),
            ]),
            &fixture(),
            date(TODAY),
        ));
        assert_eq!(fields, ["observations[1]", "observations[2].locality_code"]);
        assert_eq!(
            violations(validate(draft(vec![]), &fixture(), date(TODAY))),
            ["observations"]
        );
    }

    #[test]
    fn periods_must_be_ordered_and_started() {
        let mut d = draft(vec![("vneid.l2.activated", "23680", 1.0)]);
        d.period_end = Some(date("2025-03-01"));
        assert_eq!(
            violations(validate(d, &fixture(), date(TODAY))),
            ["period.end"]
        );
        let d = draft(vec![("vneid.l2.activated", "23680", 1.0)]);
        assert_eq!(
            violations(validate(d, &fixture(), date("2025-03-09"))),
            ["period.start"]
        );
        let mut d = draft(vec![("vneid.l2.activated", "23680", 1.0)]);
        d.period_start = None;
        d.request_id = " ".into();
        assert_eq!(
            violations(validate(d, &fixture(), date(TODAY))),
            ["request_id", "period.start"]
        );
    }

    #[test]
    fn another_agencys_indicator_is_not_permitted() {
        let result = validate(
            draft(vec![("bhyt.cards.integrated", "23680", 1.0)]),
            &fixture(),
            date(TODAY),
        );
        assert!(
            matches!(result, Err(Rejection::NotPermitted(m)) if m.contains("bhyt.cards.integrated"))
        );
    }

    #[test]
    fn too_many_observations_are_refused_without_looking_at_them() {
        let many = vec![("vneid.l2.activated", "23680", 1.0); MAX_OBSERVATIONS + 1];
        assert_eq!(
            violations(validate(draft(many), &fixture(), date(TODAY))),
            ["observations"]
        );
    }

    #[test]
    fn the_hash_ignores_order_and_request_id_but_not_values() {
        let a = validate(
            draft(vec![
                ("vneid.l2.activated", "626", 900.0),
                ("vneid.l2.activated", "23680", 109.0),
            ]),
            &fixture(),
            date(TODAY),
        )
        .unwrap();
        let mut b_draft = draft(vec![
            ("vneid.l2.activated", "23680", 109.0),
            ("vneid.l2.activated", "626", 900.0),
        ]);
        b_draft.request_id = "other".into();
        let b = validate(b_draft, &fixture(), date(TODAY)).unwrap();
        assert_eq!(payload_sha256(&a), payload_sha256(&b));
        let c = validate(
            draft(vec![
                ("vneid.l2.activated", "626", 901.0),
                ("vneid.l2.activated", "23680", 109.0),
            ]),
            &fixture(),
            date(TODAY),
        )
        .unwrap();
        assert_ne!(payload_sha256(&a), payload_sha256(&c));
        assert!(canonical_payload(&a).contains("obs=vneid.l2.activated|23680|109\n"));
    }

    /// REPLACE keeps the hash reports had before modes existed; AMEND adds one line, so the same
    /// figures sent as an amendment are another payload (and another idempotent request).
    #[test]
    fn only_an_amendment_adds_a_mode_line_to_the_payload() {
        let figures = vec![("vneid.l2.activated", "23680", 109.0)];
        let replace = validate(draft(figures.clone()), &fixture(), date(TODAY)).unwrap();
        assert_eq!(
            canonical_payload(&replace),
            "p06-report/v1\nagency=police\nobligation=police-weekly\nprovince=2024/64\n\
             period=2025-03-10/2025-03-16\nassessment=\"\"\nobstacles=\"\"\nproposals=\"\"\n\
             obs=vneid.l2.activated|23680|109\n"
        );
        let mut amend_draft = draft(figures);
        amend_draft.mode = RevisionMode::Amend;
        let amend = validate(amend_draft, &fixture(), date(TODAY)).unwrap();
        assert_eq!(
            canonical_payload(&amend),
            canonical_payload(&replace).replace(
                "period=2025-03-10/2025-03-16\n",
                "period=2025-03-10/2025-03-16\nmode=amend\n"
            )
        );
        assert_ne!(payload_sha256(&amend), payload_sha256(&replace));
    }
}
