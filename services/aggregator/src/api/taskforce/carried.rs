//! History across the 2025 reform: the snapshots of a 2025-edition scope as of dates before 1 July
//! 2025, carried from the edition-2024 provinces it was made of (`p06_domain::reform`).
//!
//! Each predecessor province's own snapshot is read as usual (live, or as known at an instant);
//! its communes' own figures and targets go to their default successors (merged communes add up,
//! a split commune counts whole and is counted in `split_units`), and its maintained totals and
//! target sums add up onto the 2025 province. A carried snapshot has no read version of its own
//! (`version: None`): nothing derived from it is cached under the 2025 province's version, which
//! no write to a predecessor province advances.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use p06_domain::locality::{Edition, Level, Locality};
use p06_domain::reform;
use p06_domain::report::CatalogView;

use super::known::Reads;
use super::pace::Dues;
use super::{Snapshot, TaskForceApi};
use crate::error::Error;
use crate::read_cache::{IndicatorFigures, OwnFigure, Targets, Totals};

/// What a carried snapshot says besides its figures: the edition carried and, by (2025 locality,
/// indicator), how many split communes count in the figure.
#[derive(Debug, Default)]
pub(super) struct CarriedFrom {
    pub(super) edition: Option<Edition>,
    pub(super) split: HashMap<(i64, String), u32>,
}

impl CarriedFrom {
    /// The carried edition as the proto says it (2024), 0 when none.
    pub(super) fn edition_year(carried: Option<&Self>) -> i32 {
        carried
            .and_then(|c| c.edition)
            .and_then(|e| e.as_str().parse().ok())
            .unwrap_or(0)
    }
}

/// The country pseudo-locality of edition 2025 is not carried (one province at a time).
fn country_refused() -> Error {
    Error::invalid_field(
        "as_of",
        "the whole country's 2025 view is not carried from edition 2024 before 1 July 2025: \
         ask one province (or the 2024 edition)",
    )
}

impl TaskForceApi {
    /// The edition whose figures a view of `scope` carries as of `date` (2024 for a 2025 scope
    /// before 1 July 2025), if any.
    pub(super) fn carried_edition(&self, scope: &Locality, date: NaiveDate) -> Option<Edition> {
        let catalog = &self.state.catalog;
        reform::carried_from(CatalogView::editions(catalog), scope.edition, date)
    }

    /// Snapshots of `scope` as of each of `reads.dates` (see [`Self::direct_snapshots`]): those of
    /// dates before the reform for a 2025 scope carried from edition 2024, the others direct.
    pub(super) async fn snapshots(
        &self,
        scope: &Locality,
        reads: &Reads<'_>,
    ) -> Result<Vec<Snapshot>, Error> {
        let dates = match reads.later.is_empty() {
            true => &reads.dates[..reads.dates.len().min(1)],
            false => reads.dates,
        };
        if dates
            .iter()
            .all(|d| self.carried_edition(scope, *d).is_none())
        {
            return self.direct_snapshots(scope, reads).await;
        }
        let mut out = Vec::with_capacity(dates.len());
        for (i, &date) in dates.iter().enumerate() {
            let indicators = if i == 0 {
                reads.indicators
            } else {
                Some(reads.later)
            };
            let snapshot = match self.carried_edition(scope, date) {
                Some(_) => {
                    self.carried_snapshot(scope, date, reads.flow_from, indicators, reads.known_at)
                        .await?
                }
                None => {
                    let one = Reads {
                        dates: &[date],
                        indicators,
                        later: &[],
                        ..*reads
                    };
                    self.direct_snapshots(scope, &one)
                        .await?
                        .pop()
                        .unwrap_or_default()
                }
            };
            out.push(snapshot);
        }
        Ok(out)
    }

    /// The snapshot of a 2025 `scope` as of `date` (before the reform) carried from its
    /// predecessor provinces' edition-2024 snapshots.
    pub(super) async fn carried_snapshot(
        &self,
        scope: &Locality,
        date: NaiveDate,
        flow_from: Option<NaiveDate>,
        indicators: Option<&[String]>,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Snapshot, Error> {
        if scope.id < 0 {
            return Err(country_refused());
        }
        let catalog = &self.state.catalog;
        let province_id = scope.province_id;
        let mut carried = CarriedFrom {
            edition: self.carried_edition(scope, date),
            ..CarriedFrom::default()
        };
        let mut own: HashMap<String, IndicatorFigures> = HashMap::new();
        let mut totals = Totals::default();
        let mut targets = Targets::default();
        // 2025 communes with a carried figure, by indicator (what the province's total "units" are).
        let mut reporting: HashMap<String, HashSet<i64>> = HashMap::new();
        let mut old_units: HashMap<String, i64> = HashMap::new();
        for old in catalog.predecessor_provinces(province_id) {
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
            // The communes' own figures onto their successors.
            for (code, figures) in &before.figures {
                let communes = figures.iter().filter(|(id, _)| {
                    catalog
                        .locality_by_id(**id)
                        .is_some_and(|l| l.level == Level::Commune)
                });
                let mut split_in_province = 0;
                for (old_id, figure) in communes {
                    let Some(to) = catalog.successor(*old_id) else {
                        continue;
                    };
                    let entry =
                        own.entry(code.clone())
                            .or_default()
                            .entry(to.to)
                            .or_insert(OwnFigure {
                                value: 0.0,
                                as_of: figure.as_of,
                                reports: 0,
                            });
                    entry.value += figure.value;
                    entry.as_of = entry.as_of.min(figure.as_of);
                    entry.reports += figure.reports;
                    reporting.entry(code.clone()).or_default().insert(to.to);
                    if to.split {
                        split_in_province += 1;
                        *carried.split.entry((to.to, code.clone())).or_default() += 1;
                    }
                }
                if split_in_province > 0
                    && before.totals.totals.contains_key(&(old.id, code.clone()))
                {
                    *carried
                        .split
                        .entry((province_id, code.clone()))
                        .or_default() += split_in_province;
                }
            }
            // The province's maintained totals and target sums onto the 2025 province.
            for ((id, code), t) in &before.totals.totals {
                if *id != old.id {
                    continue;
                }
                let sum = totals
                    .totals
                    .entry((province_id, code.clone()))
                    .or_default();
                sum.amounts.value += t.amounts.value;
                sum.amounts.paired_value += t.amounts.paired_value;
                sum.amounts.paired_denominator += t.amounts.paired_denominator;
                sum.reports += t.reports;
                sum.oldest_as_of = match (sum.oldest_as_of, t.oldest_as_of) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                *old_units.entry(code.clone()).or_default() += t.units;
            }
            for ((id, code), (sum, n)) in &before.totals.target_sums {
                if *id != old.id {
                    continue;
                }
                let s = totals
                    .target_sums
                    .entry((province_id, code.clone()))
                    .or_default();
                s.0 += sum;
                s.1 += n;
            }
            // Own targets: the communes' onto their successors; the province's target (its own,
            // else its communes' sum) onto the 2025 province, as its own.
            let mut codes: HashSet<&String> = HashSet::new();
            for ((code, id), value) in before.targets.iter() {
                codes.insert(code);
                let Some(l) = catalog.locality_by_id(*id) else {
                    continue;
                };
                if l.level != Level::Commune {
                    continue;
                }
                if let Some(c) = catalog.successor(l.id) {
                    *targets.entry((code.clone(), c.to)).or_default() += value;
                }
            }
            codes.extend(before.totals.target_sums.keys().map(|(_, code)| code));
            for code in codes {
                if let Some(t) = self.target(&before, code, old) {
                    *targets.entry((code.clone(), province_id)).or_default() += t;
                }
            }
        }
        // The 2025 province's reporting units: its communes with a carried figure (2024 units
        // reporting only above the communes count as they did).
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

    /// Targets' due dates for the pace of `scope` as of `as_of`: carried from the predecessor
    /// provinces before the reform (each 2025 unit: the nearest of its predecessors'), else
    /// direct.
    pub(super) async fn dues(
        &self,
        scope: &Locality,
        rolled: &[&Locality],
        as_of: NaiveDate,
        with_pace: &[String],
        version: Option<i64>,
    ) -> Result<Arc<Dues>, Error> {
        if self.carried_edition(scope, as_of).is_none() {
            return self
                .direct_dues(scope, rolled, as_of, with_pace, version)
                .await;
        }
        if scope.id < 0 {
            return Err(country_refused());
        }
        let catalog = &self.state.catalog;
        let mut out = Dues::new();
        for old in catalog.predecessor_provinces(scope.province_id) {
            let dues = self
                .direct_dues(old, &[old], as_of, with_pace, None)
                .await?;
            for ((code, id), due) in dues.iter() {
                let to = if *id == old.id {
                    scope.province_id
                } else {
                    match catalog.successor(*id) {
                        Some(c) => c.to,
                        None => continue,
                    }
                };
                let entry = out.entry((code.clone(), to)).or_insert(*due);
                *entry = (*entry).min(*due);
            }
        }
        Ok(Arc::new(out))
    }

    /// The indicators (of `among`) with a target for the pace of `scope` as of `date`: those of
    /// its predecessor provinces before the reform, else direct.
    pub(super) async fn indicators_with_targets(
        &self,
        scope: &Locality,
        date: NaiveDate,
        among: &[String],
    ) -> Result<Vec<String>, Error> {
        if self.carried_edition(scope, date).is_none() {
            return self
                .direct_indicators_with_targets(scope, date, among)
                .await;
        }
        if scope.id < 0 {
            return Err(country_refused());
        }
        let mut with: HashSet<String> = HashSet::new();
        for old in self.state.catalog.predecessor_provinces(scope.province_id) {
            with.extend(
                self.direct_indicators_with_targets(old, date, among)
                    .await?,
            );
        }
        Ok(among
            .iter()
            .filter(|c| with.contains(*c))
            .cloned()
            .collect())
    }

    /// How many split communes count in `locality`'s figure of `indicator` in `snapshot`.
    pub(super) fn split_units(snapshot: &Snapshot, indicator: &str, locality: &Locality) -> i32 {
        snapshot
            .carried
            .as_ref()
            .and_then(|c| c.split.get(&(locality.id, indicator.to_owned())))
            .map_or(0, |n| *n as i32)
    }
}
