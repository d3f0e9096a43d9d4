//! What a revision does to the revision before it: REPLACE or AMEND, the submitter's explicit
//! choice.
//!
//! - REPLACE (the default): the revision is the whole report. A figure (indicator, locality) it
//!   leaves out has no value for the period from this revision on.
//! - AMEND: the revision changes the figures it names and carries every other figure of the latest
//!   earlier revision forward unchanged. The carried figures are stored with the revision, marked
//!   with the revision that sent them, so the read model, the roll-ups and the compliance rules see
//!   exactly what they would see had the submitter sent the whole report, and an audit shows where
//!   each figure came from.
//!
//! A first report is the same in both modes: there is nothing to carry.

use std::collections::{BTreeMap, HashSet};

use crate::invariants::{self, Figure};
use crate::report::{FieldViolation, Rejection, ValidObservation, ValidReport};

/// How a revision relates to the earlier revision of its series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum RevisionMode {
    #[default]
    Replace,
    Amend,
}

impl RevisionMode {
    /// The stable code stored with the revision: `REPLACE` or `AMEND`.
    pub fn code(self) -> &'static str {
        match self {
            RevisionMode::Replace => "REPLACE",
            RevisionMode::Amend => "AMEND",
        }
    }

    /// The mode of a stored code; anything but `AMEND` is REPLACE (revisions stored before modes
    /// existed replaced their predecessor).
    pub fn from_code(code: &str) -> Self {
        if code == "AMEND" {
            RevisionMode::Amend
        } else {
            RevisionMode::Replace
        }
    }
}

/// The latest earlier revision of a report's series, as an amendment starts from it.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierRevision {
    /// The earlier revision's id.
    pub id: i64,
    /// Its figures, each with `carried_from` as stored (set when it had carried the figure itself).
    pub observations: Vec<ValidObservation>,
}

/// Merges an AMEND `report` with the latest earlier revision of its series: every earlier figure the
/// report does not name (same indicator and locality) is carried forward, marked with the revision
/// that originally sent it; the figures the report names override. The merged figures must keep the
/// rule book of relations between indicators ([`invariants`]), as a full report would have to.
///
/// A REPLACE report, or an amendment with no earlier revision, is returned unchanged.
pub fn amend(
    mut report: ValidReport,
    earlier: Option<&EarlierRevision>,
) -> Result<ValidReport, Rejection> {
    let Some(earlier) = earlier else {
        return Ok(report);
    };
    if report.mode != RevisionMode::Amend {
        return Ok(report);
    }
    let named: HashSet<(&str, i64)> = report
        .observations
        .iter()
        .map(|o| (o.indicator_code.as_str(), o.locality_id))
        .collect();
    let carried: Vec<ValidObservation> = earlier
        .observations
        .iter()
        .filter(|o| !named.contains(&(o.indicator_code.as_str(), o.locality_id)))
        .map(|o| ValidObservation {
            carried_from: Some(o.carried_from.unwrap_or(earlier.id)),
            ..o.clone()
        })
        .collect();
    report.observations.extend(carried);
    report.observations.sort_by(|a, b| {
        (&a.indicator_code, &a.locality_code).cmp(&(&b.indicator_code, &b.locality_code))
    });

    let figures = report.observations.iter().map(|o| Figure {
        indicator: &o.indicator_code,
        locality: &o.locality_code,
        value: o.value,
    });
    let violations: Vec<FieldViolation> = invariants::check(figures)
        .into_iter()
        .map(|breach| {
            FieldViolation::new(
                "observations",
                format!(
                    "amending reports/{} with these figures breaks a rule: {} (figures not sent \
                     are carried from the earlier revision; send both, or REPLACE)",
                    earlier.id,
                    breach.description()
                ),
            )
        })
        .collect();
    if violations.is_empty() {
        Ok(report)
    } else {
        Err(Rejection::Invalid(violations))
    }
}

/// How many of a revision's figures were carried forward rather than sent.
pub fn carried_count(report: &ValidReport) -> usize {
    report
        .observations
        .iter()
        .filter(|o| o.carried_from.is_some())
        .count()
}

/// A figure a revision set, altered or dropped: `before` is absent when the previous revision had
/// no value for the key, `after` when this revision dropped it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<K> {
    pub key: K,
    pub before: Option<f64>,
    pub after: Option<f64>,
}

/// The changes from `before` to `after` (each a revision's figures by key, every key at most once),
/// ordered by key. Equal values (compared exactly, as stored) are not changes.
pub fn changes<K: Ord + Clone>(before: &[(K, f64)], after: &[(K, f64)]) -> Vec<Change<K>> {
    let mut pairs: BTreeMap<&K, (Option<f64>, Option<f64>)> = BTreeMap::new();
    for (key, value) in before {
        pairs.entry(key).or_default().0 = Some(*value);
    }
    for (key, value) in after {
        pairs.entry(key).or_default().1 = Some(*value);
    }
    pairs
        .into_iter()
        .filter(|(_, (b, a))| b != a)
        .map(|(key, (before, after))| Change {
            key: key.clone(),
            before,
            after,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::locality::{Edition, Level, Locality};
    use crate::report::Narrative;

    fn obs(
        indicator: &str,
        locality: i64,
        value: f64,
        carried_from: Option<i64>,
    ) -> ValidObservation {
        ValidObservation {
            indicator_code: indicator.into(),
            locality_id: locality,
            locality_code: format!("{locality:05}"),
            value,
            carried_from,
        }
    }

    fn report(mode: RevisionMode, observations: Vec<ValidObservation>) -> ValidReport {
        let date = |s: &str| s.parse::<NaiveDate>().unwrap();
        ValidReport {
            request_id: "r".into(),
            agency: "police".into(),
            obligation: "police-weekly".into(),
            edition: Edition::E2025,
            province: Locality {
                id: 1,
                edition: Edition::E2025,
                code: "52".into(),
                name: "Gia Lai".into(),
                level: Level::Province,
                parent_id: None,
                province_id: 1,
            },
            period_start: date("2026-11-23"),
            period_end: date("2026-11-29"),
            observations,
            narrative: Narrative::default(),
            mode,
        }
    }

    fn figures(r: &ValidReport) -> Vec<(String, i64, f64, Option<i64>)> {
        r.observations
            .iter()
            .map(|o| {
                (
                    o.indicator_code.clone(),
                    o.locality_id,
                    o.value,
                    o.carried_from,
                )
            })
            .collect()
    }

    fn earlier() -> EarlierRevision {
        EarlierRevision {
            id: 7,
            observations: vec![
                obs("vneid.l2.activated", 10, 100.0, None),
                obs("vneid.l2.activated", 11, 200.0, Some(3)),
                obs("vneid.l2.created", 10, 150.0, None),
            ],
        }
    }

    #[test]
    fn an_amendment_carries_what_it_does_not_name_from_the_revision_that_sent_it() {
        let amended = amend(
            report(
                RevisionMode::Amend,
                vec![
                    obs("vneid.l2.activated", 10, 120.0, None),
                    obs("vneid.l2.activated", 12, 5.0, None),
                ],
            ),
            Some(&earlier()),
        )
        .unwrap();
        assert_eq!(
            figures(&amended),
            [
                ("vneid.l2.activated".into(), 10, 120.0, None),
                ("vneid.l2.activated".into(), 11, 200.0, Some(3)),
                ("vneid.l2.activated".into(), 12, 5.0, None),
                ("vneid.l2.created".into(), 10, 150.0, Some(7)),
            ]
        );
        assert_eq!(carried_count(&amended), 2);
    }

    #[test]
    fn a_replacement_or_a_first_amendment_is_unchanged() {
        let sent = vec![obs("vneid.l2.activated", 10, 120.0, None)];
        let replace = report(RevisionMode::Replace, sent.clone());
        assert_eq!(amend(replace.clone(), Some(&earlier())).unwrap(), replace);
        let first = report(RevisionMode::Amend, sent);
        assert_eq!(amend(first.clone(), None).unwrap(), first);
        assert_eq!(carried_count(&first), 0);
    }

    #[test]
    fn the_merged_figures_keep_the_rule_book() {
        // activated 160 is fine alone, but the carried created (150) is below it.
        let refused = amend(
            report(
                RevisionMode::Amend,
                vec![obs("vneid.l2.activated", 10, 160.0, None)],
            ),
            Some(&earlier()),
        );
        match refused {
            Err(Rejection::Invalid(v)) => {
                assert_eq!(v.len(), 1);
                assert_eq!(v[0].field, "observations");
                assert!(
                    v[0].description.contains("reports/7"),
                    "{}",
                    v[0].description
                );
                assert!(
                    v[0].description.contains(
                        "vneid.l2.activated (160) must not exceed vneid.l2.created (150)"
                    ),
                    "{}",
                    v[0].description
                );
            }
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn altered_added_and_dropped_figures_are_changes_equal_ones_are_not() {
        let before = [("a", 1.0), ("b", 2.0), ("c", 3.0)];
        let after = [("d", 4.0), ("b", 2.0), ("a", 1.5)];
        let got = changes(&before, &after);
        assert_eq!(
            got,
            vec![
                Change {
                    key: "a",
                    before: Some(1.0),
                    after: Some(1.5)
                },
                Change {
                    key: "c",
                    before: Some(3.0),
                    after: None
                },
                Change {
                    key: "d",
                    before: None,
                    after: Some(4.0)
                },
            ]
        );
        assert!(changes(&after, &after).is_empty());
        assert_eq!(changes::<&str>(&[], &[]), vec![]);
    }
}
