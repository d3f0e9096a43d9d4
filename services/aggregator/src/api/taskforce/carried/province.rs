//! A 2025 province (or a unit of it) as of a date before the reform, carried from its predecessor
//! provinces of the edition then in force (2024, or 2023 through 2024).
//!
//! Each predecessor province's own snapshot is read as usual (live, or as known at an instant);
//! its communes' own figures and targets go where `Catalog::route` sends them
//! (`p06_domain::reform::carry_figures`: merged communes add up, a split commune counts whole and
//! is counted in `split_units`), and its maintained totals and target sums add up onto the 2025
//! province. A 2023 commune with no successor the unit lists can give is left out: its figure is
//! taken off its province's total, its target off the sum of the communes' targets, and the
//! province's figure counts it in `uncarried_units`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use p06_domain::locality::{Level, Locality};
use p06_domain::reform::{self, OldFigure, Route};
use p06_domain::report::CatalogView as _;

use super::{CarriedFrom, CarriedRead};
use crate::api::taskforce::known::Reads;
use crate::api::taskforce::{Snapshot, TaskForceApi};
use crate::error::Error;
use crate::read_cache::{IndicatorFigures, OwnFigure, Targets, Totals};

impl TaskForceApi {
    /// The snapshot of a 2025 province-level `scope` as of `date` carried from its predecessor
    /// provinces' snapshots of edition `from`.
    pub(super) async fn carried_province(
        &self,
        scope: &Locality,
        read: CarriedRead<'_>,
    ) -> Result<Snapshot, Error> {
        let CarriedRead {
            from,
            date,
            flow_from,
            indicators,
            known_at,
        } = read;
        let catalog = &self.state.catalog;
        let province_id = scope.province_id;
        let mut carried = CarriedFrom {
            edition: Some(from),
            ..CarriedFrom::default()
        };
        let mut own: HashMap<String, IndicatorFigures> = HashMap::new();
        let mut totals = Totals::default();
        let mut targets = Targets::default();
        // 2025 communes with a carried figure, by indicator (what the province's total "units" are).
        let mut reporting: HashMap<String, HashSet<i64>> = HashMap::new();
        let mut old_units: HashMap<String, i64> = HashMap::new();
        for old in catalog.predecessor_provinces_in(province_id, from) {
            let totals_for = [old];
            let reads = Reads {
                dates: &[date],
                flow_from,
                totals_for: &totals_for,
                indicators,
                later: &[],
                known_at,
            };
            let Some(before) = self.direct_snapshots(old, &reads).await?.pop() else {
                continue;
            };
            // The communes' own figures onto their successors; those without one left out.
            let mut left_out: HashMap<&String, Vec<i64>> = HashMap::new();
            for (code, figures) in &before.figures {
                let communes = figures
                    .iter()
                    .filter(|(id, _)| {
                        catalog
                            .locality_by_id(**id)
                            .is_some_and(|l| l.level == Level::Commune)
                    })
                    .map(|(id, f)| OldFigure {
                        unit: *id,
                        value: f.value,
                        as_of: f.as_of,
                        reports: f.reports,
                    });
                let routed = reform::carry_figures(communes, |id| catalog.route(id));
                for (to, c) in &routed.onto {
                    let entry =
                        own.entry(code.clone())
                            .or_default()
                            .entry(*to)
                            .or_insert(OwnFigure {
                                value: 0.0,
                                as_of: c.oldest_as_of,
                                reports: 0,
                            });
                    entry.value += c.value;
                    entry.as_of = entry.as_of.min(c.oldest_as_of);
                    entry.reports += c.reports;
                    reporting.entry(code.clone()).or_default().insert(*to);
                    if c.split_units > 0 {
                        *carried.split.entry((*to, code.clone())).or_default() += c.split_units;
                    }
                }
                if before.totals.totals.contains_key(&(old.id, code.clone())) {
                    let key = (province_id, code.clone());
                    let split = routed.split_units();
                    if split > 0 {
                        *carried.split.entry(key.clone()).or_default() += split;
                    }
                    if !routed.uncarried.is_empty() {
                        *carried.uncarried.entry(key).or_default() += routed.uncarried.len() as u32;
                    }
                }
                left_out.insert(code, routed.uncarried);
            }
            // The province's maintained totals, less the communes left out, onto the 2025
            // province.
            for ((id, code), t) in &before.totals.totals {
                if *id != old.id {
                    continue;
                }
                let mut t = t.clone();
                let indicator = catalog.indicator(code);
                let gone = left_out.get(code).map_or(&[][..], |v| v.as_slice());
                for l in gone.iter().filter_map(|id| catalog.locality_by_id(*id)) {
                    let Some(m) = indicator.and_then(|i| self.measure(&before, i, l)) else {
                        continue;
                    };
                    t.amounts.value -= m.value;
                    t.amounts.paired_value -= m.paired_value;
                    t.amounts.paired_denominator -= m.paired_denominator;
                    t.units -= m.units;
                }
                *old_units.entry(code.clone()).or_default() += t.units;
                totals
                    .totals
                    .entry((province_id, code.clone()))
                    .or_default()
                    .add(&t);
            }
            // Targets of communes without a successor the unit lists give, by indicator: not
            // counted in the sums of the communes' targets.
            let mut uncarried_targets: HashMap<&String, (f64, i64)> = HashMap::new();
            for ((code, id), value) in before.targets.iter() {
                let Some(l) = catalog.locality_by_id(*id) else {
                    continue;
                };
                if l.level != Level::Commune {
                    continue;
                }
                match catalog.route(l.id) {
                    Route::Onto(c) => *targets.entry((code.clone(), c.to)).or_default() += value,
                    Route::Uncarried => {
                        let t = uncarried_targets.entry(code).or_default();
                        t.0 += value;
                        t.1 += 1;
                    }
                    Route::Nowhere => {}
                }
            }
            let mut sums = before.totals.target_sums.clone();
            for ((id, code), (sum, n)) in sums.iter_mut() {
                if *id != old.id {
                    continue;
                }
                if let Some((less, k)) = uncarried_targets.get(code) {
                    *sum -= less;
                    *n -= k;
                }
                let s = totals
                    .target_sums
                    .entry((province_id, code.clone()))
                    .or_default();
                s.0 += *sum;
                s.1 += *n;
            }
            // The province's target (its own, else its carried communes' sum) onto the 2025
            // province, as its own.
            let codes: HashSet<&String> = before
                .targets
                .keys()
                .map(|(code, _)| code)
                .chain(sums.keys().map(|(_, code)| code))
                .collect();
            for code in codes {
                let target = match before.targets.get(&(code.clone(), old.id)) {
                    Some(t) => Some(*t),
                    None => sums.get(&(old.id, code.clone())).map(|(sum, _)| *sum),
                };
                if let Some(t) = target {
                    *targets.entry((code.clone(), province_id)).or_default() += t;
                }
            }
        }
        // The 2025 province's reporting units: its communes with a carried figure (three-tier
        // units reporting only above the communes count as they did).
        for ((_, code), t) in totals.totals.iter_mut() {
            t.units = match reporting.get(code).map_or(0, |s| s.len() as i64) {
                0 => old_units.get(code).copied().unwrap_or(0),
                n => n,
            };
        }
        Ok(Snapshot {
            as_of: date,
            version: None,
            figures: own.into_iter().map(|(c, f)| (c, Arc::new(f))).collect(),
            totals: Arc::new(totals),
            targets: Arc::new(targets),
            carried: Some(Arc::new(carried)),
        })
    }
}
