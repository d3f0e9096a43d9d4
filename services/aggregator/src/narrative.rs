//! Gathering what the narrative check ([`p06_domain::narrative`]) needs from a report: for every
//! indicator of the catalog its names and, where the report has them, its total, target,
//! denominator and previous period's total.
//!
//! A total is the report's own: the province's figure when the report has one, otherwise the sum of
//! the finest figures (a district reported both directly and through its communes counts once),
//! and only when the report covers every locality its obligation requires — a report of a few
//! communes has no province total to quote, so claims about one are left alone. Targets and the
//! previous period's figures are summed over the same localities, and only when each has one.

use p06_domain::narrative::{self, IndicatorFigures, NarrativeCheck, NarrativeTexts, vocab};
use p06_domain::report::{CatalogView as _, IndicatorKind, ValidReport};

use crate::catalog::Catalog;
use crate::hash::{FastMap, FastSet, by_code};

/// The figures of one indicator in a report: locality id → value.
fn by_locality(report: &ValidReport, code: &str) -> FastMap<i64, f64> {
    report
        .observations
        .iter()
        .filter(|o| o.indicator_code == code)
        .map(|o| (o.locality_id, o.value))
        .collect()
}

/// The localities whose figures make up the report's total of an indicator, or `None` when the
/// report does not cover the province.
fn units(
    catalog: &Catalog,
    report: &ValidReport,
    figures: &FastMap<i64, f64>,
    required: &FastSet<i64>,
) -> Option<Vec<i64>> {
    if figures.is_empty() {
        return None;
    }
    if figures.contains_key(&report.province.id) {
        return Some(vec![report.province.id]);
    }
    if required.is_empty() || !required.iter().all(|id| figures.contains_key(id)) {
        return None;
    }
    // A figure counts when no finer figure of the same indicator is in the report.
    let covered: FastSet<i64> = figures
        .keys()
        .flat_map(|id| catalog.ancestors(*id))
        .collect();
    let mut units: Vec<i64> = figures
        .keys()
        .copied()
        .filter(|id| !covered.contains(id))
        .collect();
    units.sort_unstable();
    Some(units)
}

/// Σ of `value(unit)` over `units`, `None` unless every unit has one.
fn sum(units: &[i64], value: impl Fn(i64) -> Option<f64>) -> Option<f64> {
    units.iter().map(|u| value(*u)).sum()
}

/// The names of an indicator: catalog name, then the built-in synonyms.
fn names(catalog: &Catalog, code: &str) -> Vec<String> {
    catalog
        .indicator(code)
        .map(|i| i.name_vi.clone())
        .into_iter()
        .chain(vocab::synonyms(code))
        .collect()
}

/// The narrative check's input for `report`. `required` are the localities its obligation requires
/// (by id); `targets` the nearest targets due, by (indicator, locality id), the province's among
/// them; `history` the earlier periods' values by (indicator, locality id), oldest first.
pub fn figures(
    catalog: &Catalog,
    report: &ValidReport,
    required: &FastSet<i64>,
    targets: &FastMap<(String, i64), f64>,
    history: &FastMap<(String, i64), Vec<f64>>,
) -> Vec<IndicatorFigures> {
    let totals: FastMap<String, (Vec<i64>, f64)> = catalog
        .indicators()
        .iter()
        .filter_map(|i| {
            let figures = by_locality(report, &i.code);
            let units = units(catalog, report, &figures, required)?;
            let total = sum(&units, |u| figures.get(&u).copied())?;
            Some((i.code.clone(), (units, total)))
        })
        .collect();
    let targets = by_code(targets);
    let history = by_code(history);
    catalog
        .indicators()
        .iter()
        .map(|i| {
            let code = i.code.as_str();
            let own = totals.get(code);
            let target = own.and_then(|(units, _)| {
                targets
                    .get(&(code, report.province.id))
                    .map(|t| **t)
                    .or_else(|| sum(units, |u| targets.get(&(code, u)).map(|t| **t)))
            });
            let previous_total = own.and_then(|(units, _)| {
                sum(units, |u| {
                    history.get(&(code, u)).and_then(|h| h.last().copied())
                })
            });
            IndicatorFigures {
                code: i.code.clone(),
                name_vi: i.name_vi.clone(),
                synonyms: vocab::synonyms(&i.code),
                flow: i.kind == IndicatorKind::Flow,
                total: own.map(|(_, t)| *t),
                target,
                denominator: i
                    .denominator
                    .as_ref()
                    .and_then(|d| totals.get(d))
                    .map(|(_, t)| *t),
                denominator_names: i
                    .denominator
                    .as_deref()
                    .map(|d| names(catalog, d))
                    .unwrap_or_default(),
                previous_total,
            }
        })
        .collect()
}

/// Checks the report's narrative against its figures.
pub fn check(report: &ValidReport, indicators: &[IndicatorFigures]) -> NarrativeCheck {
    narrative::check(
        NarrativeTexts {
            assessment: &report.narrative.assessment,
            obstacles: &report.narrative.obstacles,
            proposals: &report.narrative.proposals,
        },
        indicators,
    )
}
