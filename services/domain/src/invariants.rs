//! The rule book of relations between indicators of one locality in one report: every
//! `parts ≤ whole` relation the agencies' figures must satisfy, in one table.
//!
//! The same table is applied where data enters the aggregator ([`crate::report::validate`]) and by
//! the agency services before they forward a report, so no path stores what an agency would refuse
//! and both paths word a violation identically ([`Breach::description`]).
//!
//! A relation is checked only when the whole and every part are reported for the locality (an
//! absent figure is "not reported", not zero).

use std::collections::{HashMap, HashSet};

/// `sum(parts) ≤ whole`, between indicator codes, within one locality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtMost {
    pub parts: &'static [&'static str],
    pub whole: &'static str,
}

/// Every relation, by agency.
pub const AT_MOST: &[AtMost] = &[
    // police (Công an): VNeID accounts and digital signatures
    AtMost {
        parts: &["vneid.l2.activated"],
        whole: "vneid.l2.created",
    },
    AtMost {
        parts: &["signature.completed", "signature.pending"],
        whole: "signature.initiated",
    },
    // health (BHXH / Sở Y tế): cashless payments and facilities accepting chip ID cards
    AtMost {
        parts: &["pension.cashless.recipients"],
        whole: "pension.recipients",
    },
    AtMost {
        parts: &["facilities.accepting_cccd"],
        whole: "facilities.total",
    },
    // justice (Sở Tư pháp): digitization and online civil registration
    AtMost {
        parts: &["civil_status.digitized"],
        whole: "civil_status.backlog",
    },
    AtMost {
        parts: &["civil_registration.interlinked"],
        whole: "civil_registration.online",
    },
    AtMost {
        parts: &["civil_registration.online"],
        whole: "civil_registration.total",
    },
];

/// One figure of a report: an indicator's value at a locality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure<'a> {
    pub indicator: &'a str,
    pub locality: &'a str,
    pub value: f64,
}

/// A relation a report breaks at one locality.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    /// Index (among the figures checked) of the relation's first part: the figure to blame.
    pub figure: usize,
    pub rule: AtMost,
    pub locality: String,
    /// The sum of the parts.
    pub parts_value: f64,
    pub whole_value: f64,
}

impl Breach {
    /// The wording both paths use, e.g. `in locality 23680, vneid.l2.activated (500) must not
    /// exceed vneid.l2.created (5)`.
    pub fn description(&self) -> String {
        format!(
            "in locality {}, {} ({}) must not exceed {} ({})",
            crate::text::echo_bare(&self.locality),
            self.rule.parts.join(" + "),
            self.parts_value,
            self.rule.whole,
            self.whole_value
        )
    }
}

/// Checks every relation of [`AT_MOST`] per locality. Figures that are not finite are ignored
/// (validation refuses them on its own); of duplicate figures the first counts. Breaches come in
/// the order of the figure to blame.
pub fn check<'a>(figures: impl IntoIterator<Item = Figure<'a>>) -> Vec<Breach> {
    let related = |code: &str| {
        AT_MOST
            .iter()
            .any(|r| r.whole == code || r.parts.contains(&code))
    };
    // (locality, indicator) → (index, value), first occurrence only; localities in order of
    // appearance.
    let mut values: HashMap<(&str, &str), (usize, f64)> = HashMap::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut localities: Vec<&str> = Vec::new();
    for (i, f) in figures.into_iter().enumerate() {
        if !f.value.is_finite() || !related(f.indicator) {
            continue;
        }
        if seen.insert(f.locality) {
            localities.push(f.locality);
        }
        values
            .entry((f.locality, f.indicator))
            .or_insert((i, f.value));
    }
    let mut breaches = Vec::new();
    for locality in localities {
        for rule in AT_MOST {
            let Some(&(_, whole_value)) = values.get(&(locality, rule.whole)) else {
                continue;
            };
            let parts: Option<Vec<(usize, f64)>> = rule
                .parts
                .iter()
                .map(|p| values.get(&(locality, *p)).copied())
                .collect();
            let Some(parts) = parts else { continue };
            let parts_value: f64 = parts.iter().map(|(_, v)| v).sum();
            if parts_value > whole_value {
                breaches.push(Breach {
                    figure: parts[0].0,
                    rule: *rule,
                    locality: locality.to_owned(),
                    parts_value,
                    whole_value,
                });
            }
        }
    }
    breaches.sort_by_key(|b| b.figure);
    breaches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig<'a>(indicator: &'a str, locality: &'a str, value: f64) -> Figure<'a> {
        Figure {
            indicator,
            locality,
            value,
        }
    }

    #[test]
    fn a_part_above_its_whole_names_both_values_and_the_locality() {
        let breaches = check([
            fig("vneid.l2.created", "23680", 5.0),
            fig("vneid.l2.activated", "23680", 500.0),
            fig("vneid.l2.activated", "23681", 500.0),
        ]);
        assert_eq!(breaches.len(), 1);
        assert_eq!(breaches[0].figure, 1);
        assert_eq!(
            breaches[0].description(),
            "in locality 23680, vneid.l2.activated (500) must not exceed vneid.l2.created (5)"
        );
    }

    #[test]
    fn parts_are_summed_and_checked_only_when_all_are_reported() {
        let breaches = check([
            fig("signature.initiated", "1", 10.0),
            fig("signature.completed", "1", 6.0),
            fig("signature.pending", "1", 5.0),
            fig("signature.initiated", "2", 10.0),
            fig("signature.completed", "2", 11.0),
        ]);
        assert_eq!(breaches.len(), 1);
        assert_eq!(breaches[0].figure, 1);
        assert!(breaches[0].description().ends_with(
            "signature.completed + signature.pending (11) must not exceed signature.initiated (10)"
        ));
        assert!(
            check([
                fig("signature.initiated", "1", 10.0),
                fig("signature.completed", "1", 5.0),
                fig("signature.pending", "1", 5.0),
            ])
            .is_empty()
        );
    }

    #[test]
    fn chains_are_each_checked_and_breaches_sorted_by_figure() {
        let breaches = check([
            fig("civil_registration.online", "626", 120.0),
            fig("civil_registration.total", "626", 100.0),
            fig("civil_registration.interlinked", "626", 121.0),
        ]);
        let rules: Vec<_> = breaches.iter().map(|b| b.rule.whole).collect();
        assert_eq!(
            rules,
            ["civil_registration.total", "civil_registration.online"]
        );
        assert_eq!(breaches[1].figure, 2);
    }

    #[test]
    fn every_rule_names_distinct_indicators() {
        for rule in AT_MOST {
            assert!(!rule.parts.is_empty());
            assert!(!rule.parts.contains(&rule.whole), "{rule:?}");
        }
    }
}
