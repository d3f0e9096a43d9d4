//! Maintained roll-ups: what one unit's own figures add to the totals of the units above it.
//!
//! The task force's totals ([`crate::rollup`]) are kept up to date as each report is saved instead
//! of being recomputed per query. Each unit contributes a piecewise-constant function of the as-of
//! date; the store keeps, per ancestor and indicator, the **deltas** of the sum of those functions
//! (a total as of `D` is the sum of the deltas dated on or before `D`) and the **spans** during
//! which a figure is the one in force (which give how many units are included, from which reports,
//! and how old the oldest figure is). Saving a figure changes one unit's function from its date on;
//! [`Contribution::of`] before and after, and [`changes`] between them, give exactly what to add.
//!
//! The rules are those of [`crate::rollup`], stated per unit and per date:
//! - a stock counts at `D` with its latest figure on or before `D`; a flow counts each period that
//!   ends on or before `D` (and starts on or after the query's `flow_from`);
//! - a unit's own figure counts only before the first date at which any unit below it has a figure
//!   ([`UnitFigures::superseded_from`]); from then on the finer figures replace it;
//! - the paired value and denominator count a unit's value and its own denominator figure while it
//!   has both (stocks: both in force at `D`; flows: both reported for the same period).
//!
//! For flows the rule is applied per period: a unit's own period counts when it ends before the
//! first period reported below the unit, so a district that reported its own registrations for
//! January and whose communes report from February on is counted for January by the district and
//! from February by the communes, never twice.

use std::collections::BTreeMap;

use chrono::NaiveDate;

/// One stored figure: the newest revision's value of one unit for one period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub period_start: NaiveDate,
    /// The period's last day: the figure is as of this date.
    pub as_of: NaiveDate,
    pub value: f64,
    pub report_id: i64,
}

/// A unit's own figures of one indicator, as the roll-up rule sees them.
#[derive(Debug, Clone, Copy)]
pub struct UnitFigures<'a> {
    pub flow: bool,
    /// Own figures, ordered by `as_of`, at most one per date.
    pub own: &'a [Entry],
    /// The first date at which a unit below this one has a figure of the indicator, if any.
    pub superseded_from: Option<NaiveDate>,
    /// Own figures of the indicator's denominator (ordered), when it has one.
    pub denominator: Option<&'a [Entry]>,
}

/// The sums a roll-up keeps per date.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Amounts {
    pub value: f64,
    pub paired_value: f64,
    pub paired_denominator: f64,
}

impl Amounts {
    fn minus(self, other: Amounts) -> Amounts {
        Amounts {
            value: self.value - other.value,
            paired_value: self.paired_value - other.paired_value,
            paired_denominator: self.paired_denominator - other.paired_denominator,
        }
    }

    fn plus(self, other: Amounts) -> Amounts {
        Amounts {
            value: self.value + other.value,
            paired_value: self.paired_value + other.paired_value,
            paired_denominator: self.paired_denominator + other.paired_denominator,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.value == 0.0 && self.paired_value == 0.0 && self.paired_denominator == 0.0
    }

    /// Adds `other` in place.
    pub fn add(&mut self, other: Amounts) {
        *self = self.plus(other);
    }
}

/// Where a delta is filed: its date, and for flows the period's first day (stocks have none, so
/// a flow-from filter never drops them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeltaKey {
    pub as_of: NaiveDate,
    pub period_start: Option<NaiveDate>,
}

/// A figure in force from `as_of` until `until` (exclusive; `None` = still in force).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub report_id: i64,
    pub as_of: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl Span {
    pub fn in_force_at(&self, date: NaiveDate) -> bool {
        self.as_of <= date && self.until.is_none_or(|u| u > date)
    }
}

/// One unit's contribution from a date on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contribution {
    /// Stocks: steps `(date, amounts in force from that date)`, the first at the `from` date.
    /// Flows: one point per period ending on or after `from`.
    points: Vec<(DeltaKey, Amounts)>,
    /// Spans in force at or after `from` (or ending there).
    spans: Vec<Span>,
    flow: bool,
}

/// What a change to a unit's figures adds to every roll-up above it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Changes {
    pub deltas: BTreeMap<DeltaKey, Amounts>,
    /// +1 for a span that starts to exist, −1 for one that ends.
    pub spans: BTreeMap<Span, i64>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.deltas.is_empty() && self.spans.is_empty()
    }

    /// Adds `other` to these changes.
    pub fn merge(&mut self, other: &Changes) {
        for (key, amounts) in &other.deltas {
            self.deltas.entry(*key).or_default().add(*amounts);
        }
        for (span, n) in &other.spans {
            *self.spans.entry(*span).or_default() += n;
        }
        self.deltas.retain(|_, a| !a.is_zero());
        self.spans.retain(|_, n| *n != 0);
    }
}

/// The entry in force at `date` in an ordered series.
fn in_force(series: &[Entry], date: NaiveDate) -> Option<&Entry> {
    let after = series.partition_point(|e| e.as_of <= date);
    after.checked_sub(1).map(|i| &series[i])
}

impl Contribution {
    /// The unit's contribution on `[from, ∞)`.
    pub fn of(unit: &UnitFigures<'_>, from: NaiveDate) -> Contribution {
        let cut = unit.superseded_from;
        let counts = |date: NaiveDate| cut.is_none_or(|c| date < c);
        let effective: Vec<&Entry> = unit.own.iter().filter(|e| counts(e.as_of)).collect();
        let mut spans = Vec::new();
        for e in &effective {
            let next = unit.own.iter().find(|n| n.as_of > e.as_of).map(|n| n.as_of);
            let until = match (next, cut) {
                (Some(n), Some(c)) => Some(n.min(c)),
                (n, c) => n.or(c),
            };
            // A span ending exactly at `from` is one a change at `from` may have cut short.
            if until.is_none_or(|u| u >= from) {
                spans.push(Span {
                    report_id: e.report_id,
                    as_of: e.as_of,
                    until,
                });
            }
        }
        let denominator = unit.denominator.unwrap_or(&[]);
        let points = if unit.flow {
            effective
                .iter()
                .filter(|e| e.as_of >= from)
                .map(|e| {
                    let paired = denominator
                        .iter()
                        .find(|d| d.as_of == e.as_of && d.period_start == e.period_start);
                    (
                        DeltaKey {
                            as_of: e.as_of,
                            period_start: Some(e.period_start),
                        },
                        Amounts {
                            value: e.value,
                            paired_value: paired.map_or(0.0, |_| e.value),
                            paired_denominator: paired.map_or(0.0, |d| d.value),
                        },
                    )
                })
                .collect()
        } else {
            let mut dates: Vec<NaiveDate> = vec![from];
            dates.extend(unit.own.iter().map(|e| e.as_of).filter(|d| *d > from));
            dates.extend(denominator.iter().map(|e| e.as_of).filter(|d| *d > from));
            dates.extend(cut.filter(|c| *c > from));
            dates.sort();
            dates.dedup();
            dates
                .into_iter()
                .map(|date| {
                    let own = in_force(unit.own, date).filter(|_| counts(date));
                    let den = in_force(denominator, date);
                    let amounts = match (own, den) {
                        (Some(o), Some(d)) => Amounts {
                            value: o.value,
                            paired_value: o.value,
                            paired_denominator: d.value,
                        },
                        (Some(o), None) => Amounts {
                            value: o.value,
                            ..Amounts::default()
                        },
                        (None, _) => Amounts::default(),
                    };
                    (
                        DeltaKey {
                            as_of: date,
                            period_start: None,
                        },
                        amounts,
                    )
                })
                .collect()
        };
        Contribution {
            points,
            spans,
            flow: unit.flow,
        }
    }
}

/// What replacing `before` by `after` (contributions of one unit from the same date on) adds to
/// the roll-ups above the unit.
pub fn changes(before: &Contribution, after: &Contribution) -> Changes {
    let mut out = Changes::default();
    let flow = before.flow || after.flow;
    if flow {
        for (key, amounts) in &after.points {
            out.deltas.entry(*key).or_default().add(*amounts);
        }
        for (key, amounts) in &before.points {
            let entry = out.deltas.entry(*key).or_default();
            *entry = entry.minus(*amounts);
        }
    } else {
        // Both are step functions from the same date; the delta at each step date is the change
        // of (after − before) there.
        let mut dates: Vec<DeltaKey> = before
            .points
            .iter()
            .chain(&after.points)
            .map(|(k, _)| *k)
            .collect();
        dates.sort();
        dates.dedup();
        let at = |steps: &[(DeltaKey, Amounts)], key: DeltaKey| {
            let after = steps.partition_point(|(k, _)| *k <= key);
            after
                .checked_sub(1)
                .map_or(Amounts::default(), |i| steps[i].1)
        };
        let mut previous = Amounts::default();
        for key in dates {
            let difference = at(&after.points, key).minus(at(&before.points, key));
            out.deltas.insert(key, difference.minus(previous));
            previous = difference;
        }
    }
    for span in &after.spans {
        *out.spans.entry(*span).or_default() += 1;
    }
    for span in &before.spans {
        *out.spans.entry(*span).or_default() -= 1;
    }
    out.deltas.retain(|_, a| !a.is_zero());
    out.spans.retain(|_, n| *n != 0);
    out
}

/// A roll-up total evaluated from its deltas and spans.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Total {
    pub amounts: Amounts,
    /// Units whose figure is in force.
    pub units: i64,
    /// Distinct reports those figures come from.
    pub reports: usize,
    pub oldest_as_of: Option<NaiveDate>,
}

/// Evaluates deltas and spans as of `date` (flows: periods starting on or after `flow_from`).
pub fn evaluate<'a>(
    deltas: impl IntoIterator<Item = (&'a DeltaKey, &'a Amounts)>,
    spans: impl IntoIterator<Item = (&'a Span, &'a i64)>,
    date: NaiveDate,
    flow_from: NaiveDate,
) -> Total {
    let mut total = Total::default();
    for (key, amounts) in deltas {
        if key.as_of <= date && key.period_start.is_none_or(|s| s >= flow_from) {
            total.amounts.add(*amounts);
        }
    }
    let mut reports = std::collections::HashSet::new();
    for (span, units) in spans {
        if span.in_force_at(date) && *units > 0 {
            total.units += units;
            reports.insert(span.report_id);
            total.oldest_as_of = Some(total.oldest_as_of.map_or(span.as_of, |o| o.min(span.as_of)));
        }
    }
    total.reports = reports.len();
    total
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::rollup::{self, Figure, Tree};

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 5).unwrap() + chrono::Duration::days(n)
    }

    /// 1 = province; 10, 20 = districts; 11, 12 under 10; 21, 22 under 20.
    struct T;
    impl Tree for T {
        fn children(&self, id: i64) -> Vec<i64> {
            match id {
                1 => vec![10, 20],
                10 => vec![11, 12],
                20 => vec![21, 22],
                _ => vec![],
            }
        }
    }
    const UNITS: [i64; 7] = [1, 10, 20, 11, 12, 21, 22];
    fn ancestors_and_self(id: i64) -> Vec<i64> {
        match id {
            11 | 12 => vec![id, 10, 1],
            21 | 22 => vec![id, 20, 1],
            10 | 20 => vec![id, 1],
            _ => vec![id],
        }
    }
    fn descendants(id: i64) -> Vec<i64> {
        match id {
            1 => vec![10, 20, 11, 12, 21, 22],
            10 => vec![11, 12],
            20 => vec![21, 22],
            _ => vec![],
        }
    }

    /// Deterministic pseudo-random numbers (xorshift), so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Figures of two indicators (value "v" with denominator "d"), per unit, ordered.
    #[derive(Default, Clone)]
    struct World {
        v: HashMap<i64, Vec<Entry>>,
        d: HashMap<i64, Vec<Entry>>,
    }

    impl World {
        fn set(&mut self, denominator: bool, unit: i64, entry: Entry) {
            let series = if denominator {
                &mut self.d
            } else {
                &mut self.v
            };
            let s = series.entry(unit).or_default();
            s.retain(|e| e.as_of != entry.as_of);
            s.push(entry);
            s.sort_by_key(|e| e.as_of);
        }

        fn superseded_from(&self, unit: i64) -> Option<NaiveDate> {
            descendants(unit)
                .iter()
                .filter_map(|d| self.v.get(d)?.first().map(|e| e.as_of))
                .min()
        }

        fn contribution(&self, unit: i64, flow: bool, from: NaiveDate) -> Contribution {
            let own = self.v.get(&unit).cloned().unwrap_or_default();
            let den = self.d.get(&unit).cloned().unwrap_or_default();
            Contribution::of(
                &UnitFigures {
                    flow,
                    own: &own,
                    superseded_from: self.superseded_from(unit),
                    denominator: Some(&den),
                },
                from,
            )
        }

        /// The on-demand evaluation of crate::rollup for unit `root` as of `date`.
        fn on_demand(
            &self,
            root: i64,
            flow: bool,
            date: NaiveDate,
            from: NaiveDate,
        ) -> Option<rollup::Rollup> {
            let pick = |series: &HashMap<i64, Vec<Entry>>| -> HashMap<i64, Figure> {
                series
                    .iter()
                    .filter_map(|(id, s)| {
                        let value = if flow {
                            let within: Vec<&Entry> = s
                                .iter()
                                .filter(|e| e.as_of <= date && e.period_start >= from)
                                .collect();
                            if within.is_empty() {
                                return None;
                            }
                            within.iter().map(|e| e.value).sum()
                        } else {
                            in_force(s, date)?.value
                        };
                        Some((*id, Figure { value, as_of: date }))
                    })
                    .collect()
            };
            rollup::roll_up(&T, root, &pick(&self.v), &pick(&self.d))
        }
    }

    /// Applies random figures one by one, maintaining deltas incrementally exactly as the store
    /// does, and checks every unit's total at every date against a recomputation from scratch and
    /// against the on-demand roll-up of `crate::rollup` (stocks) or the per-period sum (flows).
    fn run(flow: bool, seed: u64) {
        let mut rng = Rng(seed);
        let mut world = World::default();
        let mut deltas: HashMap<i64, Changes> = HashMap::new();
        for report_id in 1..=60 {
            // Mostly communes, sometimes districts or the province; dates 0..10 weeks.
            let unit = UNITS[rng.below(UNITS.len() as u64) as usize];
            let week = rng.below(10) as i64;
            let entry = Entry {
                period_start: day(7 * week - 6),
                as_of: day(7 * week),
                value: rng.below(100) as f64,
                report_id,
            };
            let denominator = rng.below(4) == 0;
            let from = entry.as_of;
            // Units whose contribution may change: the unit and its ancestors (their
            // superseded_from may move).
            let affected = ancestors_and_self(unit);
            let before: Vec<Contribution> = affected
                .iter()
                .map(|u| world.contribution(*u, flow, from))
                .collect();
            world.set(denominator, unit, entry);
            for (u, before) in affected.iter().zip(&before) {
                let change = changes(before, &world.contribution(*u, flow, from));
                for a in ancestors_and_self(*u) {
                    deltas.entry(a).or_default().merge(&change);
                }
            }
            for root in UNITS {
                let mut scratch = Changes::default();
                for u in std::iter::once(root).chain(descendants(root)) {
                    let all = world.contribution(u, flow, day(-100));
                    scratch.merge(&changes(&Contribution::default(), &all));
                }
                let kept = deltas.get(&root).cloned().unwrap_or_default();
                assert_eq!(kept, scratch, "unit {root}: incremental vs from scratch");
                for w in -1..11 {
                    let date = day(7 * w + 3);
                    let flow_from = day(-100);
                    let total = evaluate(&kept.deltas, &kept.spans, date, flow_from);
                    let expected = world.on_demand(root, flow, date, flow_from);
                    if flow {
                        // Flows: every period below `root` that ends by `date`, a unit's own
                        // periods counting while they end before the first one reported below it.
                        let periods: f64 = std::iter::once(root)
                            .chain(descendants(root))
                            .flat_map(|u| {
                                let cut = world.superseded_from(u);
                                world.v.get(&u).into_iter().flatten().filter(move |e| {
                                    e.as_of <= date && cut.is_none_or(|c| e.as_of < c)
                                })
                            })
                            .map(|e| e.value)
                            .sum();
                        assert_eq!(total.amounts.value, periods, "unit {root} at {date}");
                        assert_eq!(total.units > 0, expected.is_some(), "{root} at {date}");
                        continue;
                    }
                    match &expected {
                        Some(r) => {
                            assert_eq!(total.amounts.value, r.value, "unit {root} at {date}");
                            assert_eq!(total.units as usize, r.units.len(), "{root} at {date}");
                            if !flow {
                                assert_eq!(
                                    (total.amounts.paired_value, total.amounts.paired_denominator),
                                    (r.paired_value, r.paired_denominator),
                                    "unit {root} at {date}: paired"
                                );
                            }
                        }
                        None => assert_eq!(
                            (total.units, total.amounts.value),
                            (0, 0.0),
                            "unit {root} at {date}: no data"
                        ),
                    }
                    assert_eq!(total.units > 0, expected.is_some(), "unit {root} at {date}");
                }
            }
        }
    }

    #[test]
    fn stock_totals_kept_incrementally_equal_the_on_demand_roll_up() {
        for seed in 1..=20 {
            run(false, seed * 7919);
        }
    }

    #[test]
    fn flow_totals_kept_incrementally_equal_the_on_demand_roll_up() {
        for seed in 1..=20 {
            run(true, seed * 104_729);
        }
    }

    #[test]
    fn a_revision_moves_the_span_and_the_value_only() {
        let first = [Entry {
            period_start: day(0),
            as_of: day(6),
            value: 10.0,
            report_id: 1,
        }];
        let revised = [Entry {
            value: 12.0,
            report_id: 2,
            ..first[0]
        }];
        let unit = |own| UnitFigures {
            flow: false,
            own,
            superseded_from: None,
            denominator: None,
        };
        let c = changes(
            &Contribution::of(&unit(&first), day(6)),
            &Contribution::of(&unit(&revised), day(6)),
        );
        let key = DeltaKey {
            as_of: day(6),
            period_start: None,
        };
        assert_eq!(c.deltas.len(), 1);
        assert_eq!(c.deltas[&key].value, 2.0);
        let span = |report_id| Span {
            report_id,
            as_of: day(6),
            until: None,
        };
        assert_eq!(c.spans, BTreeMap::from([(span(1), -1), (span(2), 1)]));
    }

    #[test]
    fn paired_amounts_count_units_with_both_figures() {
        let e = |as_of: i64, value: f64| Entry {
            period_start: day(as_of),
            as_of: day(as_of),
            value,
            report_id: 1,
        };
        let own = [e(0, 100.0), e(7, 150.0)];
        let residents = [e(7, 1_000.0)];
        let c = Contribution::of(
            &UnitFigures {
                flow: false,
                own: &own,
                superseded_from: None,
                denominator: Some(&residents),
            },
            day(0),
        );
        let all = changes(&Contribution::default(), &c);
        let t = evaluate(&all.deltas, &all.spans, day(3), day(0));
        assert_eq!(
            (t.amounts.value, t.amounts.paired_denominator),
            (100.0, 0.0)
        );
        let t = evaluate(&all.deltas, &all.spans, day(8), day(0));
        assert_eq!(
            (
                t.amounts.paired_value,
                t.amounts.paired_denominator,
                t.units
            ),
            (150.0, 1_000.0, 1)
        );
        assert_eq!(t.oldest_as_of, Some(day(7)));
    }
}
