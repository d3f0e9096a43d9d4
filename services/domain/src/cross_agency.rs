//! Cross-agency bounds: relations between indicators of *different* agencies for the same
//! locality and date, e.g. health's `bhyt.cards.integrated` cannot exceed police's
//! `vneid.l2.activated` (a card is integrated on VNeID only for an activated level-2 account).
//!
//! Unlike the rule book of one report ([`crate::invariants`]), neither agency can check such a
//! bound when it reports: each holds only its own figures. So the bounds are data (the compliance
//! file's `[[cross_agency_bounds]]`), and the aggregator judges them when a report is accepted, with
//! the figures *in force* for the locality as of the report's period end — the report's own and the
//! other agency's latest stored figure — in both directions: a higher bounded figure and a lower
//! bound break it alike. A breach is flagged (`CROSS_AGENCY_MISMATCH`), not refused: which of the
//! two agencies is wrong is for the task force to find out.
//!
//! A bound is judged only when both figures are in force (an absent figure is "not reported",
//! never zero); it breaks when the bounded figure is strictly above the bound.

use std::collections::HashSet;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::narrative::number::format_vi;
use crate::report::{CatalogView, IndicatorKind};

/// `indicator ≤ at_most`, per locality and date, between indicators of two agencies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossAgencyBound {
    /// The bounded indicator (e.g. `bhyt.cards.integrated`).
    pub indicator: String,
    /// The indicator of another agency it must not exceed (e.g. `vneid.l2.activated`).
    pub at_most: String,
}

impl CrossAgencyBound {
    /// The rule's name in flag keys and logs: `bhyt.cards.integrated<=vneid.l2.activated`.
    pub fn key(&self) -> String {
        format!("{}<={}", self.indicator, self.at_most)
    }

    /// Whether the rule relates `code` (either side).
    pub fn involves(&self, code: &str) -> bool {
        self.indicator == code || self.at_most == code
    }
}

/// Checks the bounds against the catalog: both indicators exist, are stocks (a figure "in force"
/// on a date is a stock's), belong to different agencies; no rule twice. Each problem is one line
/// naming the rule.
pub fn check_bounds(bounds: &[CrossAgencyBound], catalog: &impl CatalogView) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for (i, b) in bounds.iter().enumerate() {
        let at = format!("cross_agency_bounds[{i}] ({})", b.key());
        if !seen.insert(b) {
            problems.push(format!("{at}: the same bound twice"));
        }
        let (Some(bounded), Some(bound)) = (
            catalog.indicator(&b.indicator),
            catalog.indicator(&b.at_most),
        ) else {
            for code in [&b.indicator, &b.at_most] {
                if catalog.indicator(code).is_none() {
                    problems.push(format!("{at}: unknown indicator {code:?}"));
                }
            }
            continue;
        };
        if bounded.agency == bound.agency {
            problems.push(format!(
                "{at}: both indicators are {}'s (the agency's own rule book covers that)",
                bounded.agency
            ));
        }
        for i in [bounded, bound] {
            if i.kind != IndicatorKind::Stock {
                problems.push(format!("{at}: {} is not a stock", i.code));
            }
        }
    }
    problems
}

/// The (rule, locality) pairs a report's figures bear on: every rule one of whose indicators the
/// report has a figure of at the locality, once each, in the order of the figures.
pub fn touched<'r, 'a, L: Copy + Eq + Hash>(
    bounds: &'r [CrossAgencyBound],
    figures: impl IntoIterator<Item = (&'a str, L)>,
) -> Vec<(&'r CrossAgencyBound, L)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (code, locality) in figures {
        for (i, rule) in bounds.iter().enumerate() {
            if rule.involves(code) && seen.insert((i, locality)) {
                out.push((rule, locality));
            }
        }
    }
    out
}

/// A figure in force at a locality on a date, and the report revision that sent it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InForce {
    pub value: f64,
    pub report_id: i64,
}

/// A broken bound: the bounded figure above the bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breach {
    pub value: InForce,
    pub bound: InForce,
}

/// The verdict on one rule at one locality.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement<'r, L> {
    pub rule: &'r CrossAgencyBound,
    pub locality: L,
    /// Both figures, when the bound is broken; `None` when it holds or either figure is not in
    /// force (nothing to judge).
    pub breach: Option<Breach>,
}

/// Judges each (rule, locality) pair with the figures in force `in_force(indicator, locality)`.
/// Figures that are not finite are ignored.
pub fn judge<'r, L: Copy>(
    pairs: &[(&'r CrossAgencyBound, L)],
    in_force: impl Fn(&str, L) -> Option<InForce>,
) -> Vec<Judgement<'r, L>> {
    pairs
        .iter()
        .map(|&(rule, locality)| {
            let finite = |code: &str| in_force(code, locality).filter(|f| f.value.is_finite());
            let breach = match (finite(&rule.indicator), finite(&rule.at_most)) {
                (Some(value), Some(bound)) if value.value > bound.value => {
                    Some(Breach { value, bound })
                }
                _ => None,
            };
            Judgement {
                rule,
                locality,
                breach,
            }
        })
        .collect()
}

/// An agency in Vietnamese, as the task force's screens word it.
pub fn agency_vi(code: &str) -> &str {
    match code {
        "police" => "Công an",
        "health" => "BHXH / Y tế",
        "justice" => "Tư pháp",
        other => other,
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The flag's messages (Vietnamese, English) naming both figures, both reports and the locality:
/// "Thẻ BHYT đã tích hợp trên VNeID 1.200 (BHXH / Y tế, reports/13) > tài khoản định danh điện tử
/// mức 2 đã kích hoạt 1.000 (Công an, reports/12) tại xã Hà Đông (23680)".
pub fn describe(
    rule: &CrossAgencyBound,
    breach: &Breach,
    catalog: &impl CatalogView,
    locality_name: &str,
    locality_code: &str,
) -> (String, String) {
    let side = |code: &str| {
        catalog.indicator(code).map_or_else(
            || (code.to_owned(), code.to_owned(), String::new()),
            |i| (i.name_vi.clone(), i.name_en.clone(), i.agency.clone()),
        )
    };
    let (value_vi, value_en, value_agency) = side(&rule.indicator);
    let (bound_vi, bound_en, bound_agency) = side(&rule.at_most);
    let (v, b) = (breach.value, breach.bound);
    let vi = format!(
        "{value_vi} {} ({}, reports/{}) > {} {} ({}, reports/{}) tại {} ({locality_code})",
        format_vi(v.value, 0),
        agency_vi(&value_agency),
        v.report_id,
        lower_first(&bound_vi),
        format_vi(b.value, 0),
        agency_vi(&bound_agency),
        b.report_id,
        lower_first(locality_name),
    );
    let en = format!(
        "{value_en} {} ({value_agency}, reports/{}) exceeds {} {} ({bound_agency}, reports/{}) \
         in {locality_name} ({locality_code})",
        v.value,
        v.report_id,
        lower_first(&bound_en),
        b.value,
        b.report_id,
    );
    (vi, en)
}

#[cfg(test)]
#[path = "cross_agency_tests.rs"]
mod tests;
