//! History across the 2025 reform: which edition-2024 (and edition-2023) figures count toward
//! which 2025 unit.
//!
//! On 1 July 2025 the three-tier units of edition 2024 (63 provinces) became the two-tier units of
//! edition 2025 (34 provinces, no districts). A task force of a 2025 province asking for a date
//! before that day gets the figures reported in the edition then in force, **carried** onto its
//! units through the official crosswalk (old commune → new commune):
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
//! **Edition 2023.** No 2023 → 2024 crosswalk ships with the project, but the 63 province codes
//! did not change and most communes kept their code (10,032 of 10,599). A 2023 commune is carried
//! through the 2024 commune of the **same code** ([`route_2023`]: it went whole into it), then
//! onward by the 2024 → 2025 crosswalk ([`compose`]). A 2023 commune with no 2024 unit of its code
//! was absorbed in a 2023–2024 merger whose absorbing unit the unit lists do not name: its figure
//! is **not counted** (no guess), and every carried province (and country) figure says how many
//! such communes that reported it leaves out ([`Carried::uncarried_units`]).
use std::collections::HashMap;

use chrono::NaiveDate;

use crate::edition::{EditionValidity, in_force};
use crate::locality::Edition;

/// The first day of edition 2025's units: dates before it are carried from edition 2024.
pub const REFORM_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2025, 7, 1) {
    Some(day) => day,
    None => panic!("1 July 2025 is a date"),
};

/// The edition whose figures a view of `scope` (an edition) carries as of `date`, if any: the
/// edition in force on that date (2024 or 2023) for a 2025 scope. Three-tier scopes are never
/// carried (a 2024 view of a 2023 date answers with the 2024 units' own figures, as it always did).
pub fn carried_from(
    editions: &[EditionValidity],
    scope: Edition,
    date: NaiveDate,
) -> Option<Edition> {
    match (scope, in_force(editions, date)?) {
        (Edition::E2025, old @ (Edition::E2024 | Edition::E2023)) => Some(old),
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

/// Two carries one after the other (2023 → 2024, then 2024 → 2025): the unit the second one
/// reaches, split when either step split the unit.
pub fn compose(first: Carry, then: Carry) -> Carry {
    Carry {
        to: then.to,
        split: first.split || then.split,
    }
}

/// Where an old unit's figure goes across the reform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Onto this new unit.
    Onto(Carry),
    /// Nowhere the unit lists can tell: a 2023 commune with no 2024 unit of its code. Not counted,
    /// and counted as uncarried.
    Uncarried,
    /// The crosswalk names no default among several successors: not counted.
    Nowhere,
}

impl From<Option<Carry>> for Route {
    fn from(carry: Option<Carry>) -> Self {
        carry.map_or(Route::Nowhere, Route::Onto)
    }
}

/// The route of a 2023 commune: `kept` is the 2024 commune of the same code, if edition 2024 has
/// one (the 2023 commune went whole into it), `onward` that commune's 2024 → 2025 carry.
pub fn route_2023(kept: Option<i64>, onward: impl FnOnce(i64) -> Option<Carry>) -> Route {
    let Some(kept) = kept else {
        return Route::Uncarried;
    };
    let first = Carry {
        to: kept,
        split: false,
    };
    onward(kept).map(|then| compose(first, then)).into()
}

/// A figure carried onto a new unit: the sum of the old units' figures, the oldest as-of date
/// among them, the reports they come from, how many old units and how many split ones it
/// includes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Carried {
    pub value: f64,
    pub oldest_as_of: NaiveDate,
    pub reports: u32,
    pub units: u32,
    pub split_units: u32,
}

/// An old unit's own figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OldFigure {
    pub unit: i64,
    pub value: f64,
    pub as_of: NaiveDate,
    pub reports: u32,
}

/// Old units' figures carried onto new units.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CarriedFigures {
    /// By new unit.
    pub onto: HashMap<i64, Carried>,
    /// The old units with a figure whose route is [`Route::Uncarried`] (their figures are in no
    /// new unit's), in the order given.
    pub uncarried: Vec<i64>,
}

impl CarriedFigures {
    /// How many split old units the new units' figures include in all.
    pub fn split_units(&self) -> u32 {
        self.onto.values().map(|c| c.split_units).sum()
    }
}

/// Sums old units' figures onto the new units `route_of` names; figures of old units without a
/// successor are left out, those [`Route::Uncarried`] listed.
pub fn carry_figures(
    figures: impl IntoIterator<Item = OldFigure>,
    route_of: impl Fn(i64) -> Route,
) -> CarriedFigures {
    let mut out = CarriedFigures::default();
    for f in figures {
        let c = match route_of(f.unit) {
            Route::Onto(c) => c,
            Route::Uncarried => {
                out.uncarried.push(f.unit);
                continue;
            }
            Route::Nowhere => continue,
        };
        let entry = out.onto.entry(c.to).or_insert(Carried {
            value: 0.0,
            oldest_as_of: f.as_of,
            reports: 0,
            units: 0,
            split_units: 0,
        });
        entry.value += f.value;
        entry.oldest_as_of = entry.oldest_as_of.min(f.as_of);
        entry.reports += f.reports;
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
        // 2023 dates carry edition 2023 (through edition 2024) onto 2025 units.
        assert_eq!(
            carried_from(&e, Edition::E2025, d("2023-06-01")),
            Some(Edition::E2023)
        );
        assert_eq!(
            carried_from(&e, Edition::E2025, d("2024-01-01")),
            Some(Edition::E2024)
        );
        // Three-tier scopes are never carried.
        assert_eq!(carried_from(&e, Edition::E2024, d("2023-06-01")), None);
        assert_eq!(carried_from(&e, Edition::E2023, d("2023-06-01")), None);
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
        let route_of = |old: i64| match old {
            1 | 2 => Route::Onto(Carry {
                to: 10,
                split: false,
            }),
            3 => Route::Onto(Carry {
                to: 10,
                split: true,
            }),
            4 => Route::Onto(Carry {
                to: 11,
                split: false,
            }),
            5 | 6 => Route::Uncarried,
            _ => Route::Nowhere,
        };
        let figure = |unit, value, as_of: &str| OldFigure {
            unit,
            value,
            as_of: d(as_of),
            reports: 1,
        };
        let figures = [
            figure(1, 100.0, "2025-03-16"),
            figure(2, 250.0, "2025-03-09"),
            figure(3, 40.0, "2025-03-16"),
            figure(4, 5.0, "2025-03-16"),
            figure(6, 7.0, "2025-03-16"),
            figure(9, 1_000.0, "2025-03-16"),
        ];
        let carried = carry_figures(figures, route_of);
        assert_eq!(carried.onto.len(), 2);
        assert_eq!(
            carried.onto[&10],
            Carried {
                value: 390.0,
                oldest_as_of: d("2025-03-09"),
                reports: 3,
                units: 3,
                split_units: 1,
            }
        );
        assert_eq!(carried.onto[&11].value, 5.0);
        assert_eq!(carried.onto[&11].split_units, 0);
        assert_eq!(carried.split_units(), 1);
        // Unit 6 reported and has no successor the data gives: listed, in no figure; unit 5 did
        // not report; unit 9 has nowhere to go (no default) and is not listed.
        assert_eq!(carried.uncarried, vec![6]);
    }

    #[test]
    fn a_2023_commune_goes_through_the_2024_commune_of_its_code() {
        // 2023 commune kept as 2024 commune 23680, which went whole into 23683.
        let onward = |old: i64| {
            (old == 23680).then_some(Carry {
                to: 23683,
                split: false,
            })
        };
        assert_eq!(
            route_2023(Some(23680), onward),
            Route::Onto(Carry {
                to: 23683,
                split: false
            })
        );
        // Kept in 2024, then split in 2025: split, toward the default successor.
        let split = |_| {
            Some(Carry {
                to: 21628,
                split: true,
            })
        };
        assert_eq!(
            route_2023(Some(21634), split),
            Route::Onto(Carry {
                to: 21628,
                split: true
            })
        );
        // Absent from 2024 (absorbed, the absorbing unit unknown): uncarried, never guessed.
        assert_eq!(route_2023(None, split), Route::Uncarried);
        // Kept, but the crosswalk names no default successor: nowhere, like a 2024 commune.
        assert_eq!(route_2023(Some(1), |_| None), Route::Nowhere);
    }

    #[test]
    fn composed_carries_are_split_when_either_step_is() {
        let whole = |to| Carry { to, split: false };
        let split = |to| Carry { to, split: true };
        assert_eq!(compose(whole(2), whole(3)), whole(3));
        assert_eq!(compose(split(2), whole(3)), split(3));
        assert_eq!(compose(whole(2), split(3)), split(3));
    }
}
