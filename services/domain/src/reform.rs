//! History across the 2025 reform: which edition-2024 figures count toward which 2025 unit.
//!
//! On 1 July 2025 the three-tier units of edition 2024 (63 provinces) became the two-tier units of
//! edition 2025 (34 provinces, no districts). A task force of a 2025 province asking for a date
//! before that day gets the figures reported in edition 2024, **carried** onto its units through
//! the official crosswalk (old commune → new commune):
//!
//! - a 2024 commune that went whole into one 2025 commune counts toward it; communes merged into
//!   one add up;
//! - a 2024 commune that was **split** among several 2025 communes counts, whole, toward its
//!   *default successor* (the crosswalk's `is_default_target`), and every carried figure says how
//!   many split communes it includes (their figures cannot be divided without data the reports do
//!   not hold);
//! - a 2025 province's figure is the sum of its predecessor provinces' figures (provinces merged
//!   whole in 2025); targets are carried the same way.
//!
//! The carried edition is the one in force on the date asked, when it is edition 2024 and the
//! scope is of edition 2025: no crosswalk from 2023 to 2024 ships with the project, so dates in
//! 2023 are not carried.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::edition::{EditionValidity, in_force};
use crate::locality::Edition;

/// The first day of edition 2025's units: dates before it are carried from edition 2024.
pub const REFORM_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2025, 7, 1) {
    Some(day) => day,
    None => panic!("1 July 2025 is a date"),
};

/// The edition whose figures a view of `scope` (an edition) carries as of `date`, if any: edition
/// 2024 for a 2025 scope on a date when edition 2024 was in force.
pub fn carried_from(
    editions: &[EditionValidity],
    scope: Edition,
    date: NaiveDate,
) -> Option<Edition> {
    match (scope, in_force(editions, date)?) {
        (Edition::E2025, Edition::E2024) => Some(Edition::E2024),
        _ => None,
    }
}

/// One crosswalk row from an old unit: the new unit, whether the old one was split, and whether
/// the new one is its default successor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Successor {
    pub to: i64,
    pub split: bool,
    pub default_target: bool,
}

/// Where an old unit's figure goes: the new unit and whether the old one was split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Carry {
    pub to: i64,
    pub split: bool,
}

/// Where an old unit's figure counts, from its crosswalk rows: its default successor (a unit
/// mapped to exactly one new unit needs no flag); `None` when the rows name no default among
/// several successors, or there are none.
pub fn carry(rows: &[Successor]) -> Option<Carry> {
    let split = rows.len() > 1 || rows.iter().any(|r| r.split);
    let to = match rows {
        [only] => only.to,
        _ => {
            let mut defaults = rows.iter().filter(|r| r.default_target);
            let first = defaults.next()?;
            if defaults.any(|r| r.to != first.to) {
                return None;
            }
            first.to
        }
    };
    Some(Carry { to, split })
}

/// A figure carried onto a new unit: the sum of the old units' figures, the oldest as-of date
/// among them, how many old units and how many split ones it includes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Carried {
    pub value: f64,
    pub oldest_as_of: NaiveDate,
    pub units: u32,
    pub split_units: u32,
}

/// Sums old units' figures `(old id, value, as of)` onto the new units `carry_of` names; figures
/// of old units without a successor are left out.
pub fn carry_figures(
    figures: impl IntoIterator<Item = (i64, f64, NaiveDate)>,
    carry_of: impl Fn(i64) -> Option<Carry>,
) -> HashMap<i64, Carried> {
    let mut out: HashMap<i64, Carried> = HashMap::new();
    for (old, value, as_of) in figures {
        let Some(c) = carry_of(old) else {
            continue;
        };
        let entry = out.entry(c.to).or_insert(Carried {
            value: 0.0,
            oldest_as_of: as_of,
            units: 0,
            split_units: 0,
        });
        entry.value += value;
        entry.oldest_as_of = entry.oldest_as_of.min(as_of);
        entry.units += 1;
        entry.split_units += u32::from(c.split);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edition::builtin;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn only_2025_scopes_before_the_reform_carry_2024() {
        let e = builtin();
        assert_eq!(
            carried_from(&e, Edition::E2025, d("2025-03-22")),
            Some(Edition::E2024)
        );
        assert_eq!(
            carried_from(&e, Edition::E2025, d("2025-06-30")),
            Some(Edition::E2024)
        );
        assert_eq!(carried_from(&e, Edition::E2025, REFORM_DAY), None);
        assert_eq!(carried_from(&e, Edition::E2024, d("2025-03-22")), None);
        // No 2023 → 2024 crosswalk: 2023 dates are not carried.
        assert_eq!(carried_from(&e, Edition::E2025, d("2023-06-01")), None);
    }

    #[test]
    fn a_whole_unit_goes_to_its_only_successor() {
        let rows = [Successor {
            to: 7,
            split: false,
            default_target: true,
        }];
        assert_eq!(
            carry(&rows),
            Some(Carry {
                to: 7,
                split: false
            })
        );
    }

    #[test]
    fn a_split_unit_goes_whole_to_its_default_successor() {
        let rows = [
            Successor {
                to: 21622,
                split: true,
                default_target: false,
            },
            Successor {
                to: 21628,
                split: true,
                default_target: true,
            },
        ];
        assert_eq!(
            carry(&rows),
            Some(Carry {
                to: 21628,
                split: true
            })
        );
        // Without a default among several successors the figure has nowhere to go.
        let no_default = rows.map(|r| Successor {
            default_target: false,
            ..r
        });
        assert_eq!(carry(&no_default), None);
        assert_eq!(carry(&[]), None);
    }

    #[test]
    fn merged_units_add_up_and_count_their_split_ones() {
        let carry_of = |old: i64| match old {
            1 | 2 => Some(Carry {
                to: 10,
                split: false,
            }),
            3 => Some(Carry {
                to: 10,
                split: true,
            }),
            4 => Some(Carry {
                to: 11,
                split: false,
            }),
            _ => None,
        };
        let figures = [
            (1, 100.0, d("2025-03-16")),
            (2, 250.0, d("2025-03-09")),
            (3, 40.0, d("2025-03-16")),
            (4, 5.0, d("2025-03-16")),
            (9, 1_000.0, d("2025-03-16")),
        ];
        let carried = carry_figures(figures, carry_of);
        assert_eq!(carried.len(), 2);
        assert_eq!(
            carried[&10],
            Carried {
                value: 390.0,
                oldest_as_of: d("2025-03-09"),
                units: 3,
                split_units: 1,
            }
        );
        assert_eq!(carried[&11].value, 5.0);
        assert_eq!(carried[&11].split_units, 0);
    }
}
