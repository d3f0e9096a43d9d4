//! Roll-up of figures from localities to their parents, as the task force reads them.
//!
//! Rules (DESIGN.md):
//! - values are **sums of counts**; every percentage is recomputed from a summed numerator and a
//!   summed denominator, never averaged;
//! - a locality's figure is used only when none of its children has one, so a district reported
//!   both directly and through its communes is not counted twice (the finer, per-commune figures
//!   win); a locality with neither is "no data", never zero;
//! - a percentage of a denominator (e.g. of permanent residents) pairs each contributing unit's
//!   value with its own denominator, over the units that have both.

use std::collections::HashMap;

use chrono::NaiveDate;

/// The tree the roll-up walks: children of a locality, by id.
pub trait Tree {
    fn children(&self, id: i64) -> Vec<i64>;
}

/// A figure of one locality: value and the end of the period it is as of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    pub value: f64,
    pub as_of: NaiveDate,
}

/// The units whose own figures make up `root`'s value: bottom-up, a unit's own figure counts only
/// when none of its descendants has one.
pub fn contributing_units(tree: &impl Tree, root: i64, figures: &HashMap<i64, Figure>) -> Vec<i64> {
    fn walk(tree: &impl Tree, id: i64, figures: &HashMap<i64, Figure>, out: &mut Vec<i64>) -> bool {
        let mut any_child = false;
        for child in tree.children(id) {
            any_child |= walk(tree, child, figures, out);
        }
        if any_child {
            return true;
        }
        if figures.contains_key(&id) {
            out.push(id);
            return true;
        }
        false
    }
    let mut out = Vec::new();
    walk(tree, root, figures, &mut out);
    out
}

/// A rolled-up figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollup {
    pub value: f64,
    pub units: Vec<i64>,
    /// The oldest as-of date among the figures summed.
    pub oldest_as_of: Option<NaiveDate>,
    /// Σ value and Σ denominator over the units that have both.
    pub paired_value: f64,
    pub paired_denominator: f64,
}

impl Rollup {
    pub fn denominator_percent(&self) -> Option<f64> {
        (self.paired_denominator > 0.0).then(|| 100.0 * self.paired_value / self.paired_denominator)
    }
}

/// Rolls `figures` up to `root`; `None` when nothing below (or at) `root` has a figure.
pub fn roll_up(
    tree: &impl Tree,
    root: i64,
    figures: &HashMap<i64, Figure>,
    denominators: &HashMap<i64, Figure>,
) -> Option<Rollup> {
    let units = contributing_units(tree, root, figures);
    if units.is_empty() {
        return None;
    }
    let mut rollup = Rollup {
        value: 0.0,
        units: Vec::with_capacity(units.len()),
        oldest_as_of: None,
        paired_value: 0.0,
        paired_denominator: 0.0,
    };
    for id in units {
        let f = figures[&id];
        rollup.value += f.value;
        rollup.oldest_as_of = Some(rollup.oldest_as_of.map_or(f.as_of, |o| o.min(f.as_of)));
        if let Some(d) = denominators.get(&id) {
            rollup.paired_value += f.value;
            rollup.paired_denominator += d.value;
        }
        rollup.units.push(id);
    }
    Some(rollup)
}

/// `part` as a percentage of `whole`, `None` when the whole is not positive.
pub fn percent(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| 100.0 * part / whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1 = province; 10, 20 = districts; 11, 12 under 10; 21 under 20.
    struct T;
    impl Tree for T {
        fn children(&self, id: i64) -> Vec<i64> {
            match id {
                1 => vec![10, 20],
                10 => vec![11, 12],
                20 => vec![21],
                _ => vec![],
            }
        }
    }

    fn f(value: f64, day: u32) -> Figure {
        Figure {
            value,
            as_of: NaiveDate::from_ymd_opt(2025, 3, day).unwrap(),
        }
    }

    #[test]
    fn a_district_reported_directly_and_through_communes_counts_once() {
        let figures: HashMap<i64, Figure> = [
            (11, f(100.0, 16)),
            (12, f(50.0, 9)),
            (10, f(999.0, 16)),
            (20, f(30.0, 16)),
        ]
        .into();
        let r = roll_up(&T, 1, &figures, &HashMap::new()).unwrap();
        assert_eq!(
            r.value, 180.0,
            "communes of 10 replace 10's own figure; 20 has no communes reporting"
        );
        assert_eq!(r.oldest_as_of, f(0.0, 9).as_of.into());
        let mut units = r.units.clone();
        units.sort();
        assert_eq!(units, [11, 12, 20]);
        assert!(
            roll_up(&T, 21, &figures, &HashMap::new()).is_none(),
            "no data is not zero"
        );
    }

    #[test]
    fn percentages_are_recomputed_not_averaged() {
        // Commune 11: 109 of 5,908 (1.8 %); commune 12: 2,000 of 2,100 (95.2 %).
        let figures: HashMap<i64, Figure> = [(11, f(109.0, 16)), (12, f(2_000.0, 16))].into();
        let residents: HashMap<i64, Figure> = [(11, f(5_908.0, 16)), (12, f(2_100.0, 16))].into();
        let r = roll_up(&T, 10, &figures, &residents).unwrap();
        let pct = r.denominator_percent().unwrap();
        assert!((pct - 100.0 * 2_109.0 / 8_008.0).abs() < 1e-9);
        let averaged: f64 = (100.0 * 109.0 / 5_908.0 + 100.0 * 2_000.0 / 2_100.0) / 2.0;
        assert!(
            (pct - 26.34).abs() < 0.01 && (averaged - 48.54).abs() < 0.01,
            "{pct} vs averaged {averaged}"
        );
    }

    #[test]
    fn denominators_pair_with_the_units_that_have_them() {
        let figures: HashMap<i64, Figure> = [(11, f(100.0, 16)), (12, f(50.0, 16))].into();
        let residents: HashMap<i64, Figure> = [(11, f(1_000.0, 16))].into();
        let r = roll_up(&T, 10, &figures, &residents).unwrap();
        assert_eq!(
            (r.value, r.paired_value, r.paired_denominator),
            (150.0, 100.0, 1_000.0)
        );
    }
}
