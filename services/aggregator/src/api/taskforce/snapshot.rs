//! The snapshots every task-force view reads: a province's own figures, the maintained totals of
//! the units with units below them, and targets, as of one date and at the province's read version
//! (cached in `crate::read_cache`); and a locality's figure, target and progress read from them.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use p06_domain::locality::Locality;
use p06_domain::report::{CatalogView as _, Indicator, IndicatorKind};
use p06_domain::rollup;
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::LocalityProgress;

use super::TaskForceApi;
use crate::error::Error;
use crate::read_cache::{FigureKey, IndicatorFigures, OwnFigure, Targets, Totals, TotalsKey};
use crate::store::queries::TotalsRequest;

/// What the task-force views read as of one date: the own figures of a province's localities
/// (stocks in force, flows summed over the flow period), the maintained totals of the localities
/// with units below them, and targets.
#[derive(Default)]
pub(super) struct Snapshot {
    pub(super) as_of: NaiveDate,
    /// The read version a live snapshot was read at; `None` for one known at an instant (what
    /// is derived from it may then not be cached).
    pub(super) version: Option<i64>,
    /// Own figures by indicator (indicators without any are absent).
    pub(super) figures: HashMap<String, Arc<IndicatorFigures>>,
    /// Maintained totals and sums of the communes' targets, by (locality, indicator).
    pub(super) totals: Arc<Totals>,
    /// Own targets, by (indicator, locality).
    pub(super) targets: Arc<Targets>,
    /// Set when the figures were carried across the reform from another edition (`carried.rs`).
    pub(super) carried: Option<Arc<super::carried::CarriedFrom>>,
}

/// The one read version every snapshot was read live at, if any — what views derived from them
/// may be kept at (`None`: one was known at an instant or carried across the reform, or a commit
/// came between two reads).
pub(super) fn one_read_version<'a>(
    snapshots: impl IntoIterator<Item = &'a Snapshot>,
) -> Option<i64> {
    let mut snapshots = snapshots.into_iter();
    let first = snapshots.next()?.version?;
    snapshots.all(|s| s.version == Some(first)).then_some(first)
}

/// What a snapshot loads besides targets: the maintained totals of `totals_for`, of `indicators`
/// (default all), and — when `own_figures` — the own figures of the scope's province.
#[derive(Clone, Copy)]
pub(super) struct LiveReads<'a> {
    pub(super) totals_for: &'a [&'a Locality],
    pub(super) indicators: Option<&'a [String]>,
    pub(super) own_figures: bool,
}

/// A locality's figure for one indicator: its own (a unit with nothing below it) or the
/// maintained roll-up of the units below it.
pub(super) struct Measure {
    pub(super) value: f64,
    pub(super) paired_value: f64,
    pub(super) paired_denominator: f64,
    pub(super) oldest_as_of: Option<NaiveDate>,
    pub(super) units: i64,
    pub(super) reports: usize,
}

impl TaskForceApi {
    /// The read version of `scope`'s province (the country's: of every province), which the
    /// cached parts of a snapshot are valid at.
    pub(super) async fn read_version(&self, scope: &Locality) -> Result<i64, Error> {
        let cache_scope = if scope.id < 0 {
            scope.id
        } else {
            scope.province_id
        };
        self.state.store.read_version(cache_scope).await
    }

    /// The indicator codes asked for, or every indicator's (in the catalog's order) when none.
    pub(super) fn codes_or_all(&self, requested: Option<&[String]>) -> Vec<String> {
        match requested {
            Some(codes) => codes.to_vec(),
            None => self
                .state
                .catalog
                .indicators()
                .iter()
                .map(|i| i.code.clone())
                .collect(),
        }
    }

    /// Loads what the views of `scope` need as of `as_of`, at `version` (its
    /// [`Self::read_version`]): for a province-level scope its localities' own figures and
    /// targets; for the country only maintained totals. `totals_for` names the localities whose
    /// maintained totals are read (those without units below them are skipped: their own figure
    /// is their total), of `indicators` (default all); `own_figures` false leaves the own
    /// figures out.
    pub(super) async fn snapshot_at(
        &self,
        scope: &Locality,
        version: i64,
        as_of: NaiveDate,
        flow_from: Option<NaiveDate>,
        reads: LiveReads<'_>,
    ) -> Result<Snapshot, Error> {
        let LiveReads {
            totals_for,
            indicators,
            own_figures,
        } = reads;
        let store = &self.state.store;
        let catalog = &self.state.catalog;
        let from = flow_from
            .unwrap_or_else(|| NaiveDate::from_ymd_opt(as_of.year(), 1, 1).unwrap_or(as_of));
        let rolled: Vec<i64> = totals_for
            .iter()
            .filter(|l| catalog.has_children(l.id))
            .map(|l| l.id)
            .collect();
        let flows: Vec<String> = catalog
            .indicators()
            .iter()
            .filter(|i| i.kind == IndicatorKind::Flow)
            .map(|i| i.code.clone())
            .collect();
        let codes: Vec<String> = self.codes_or_all(indicators);
        // Whatever is cached is used only at the read version of the scope's province (the
        // country's: of every province).
        let cache = &self.state.read_cache;
        let (cache_scope, province_id) = match scope.id < 0 {
            true => (scope.id, None),
            false => (scope.province_id, Some(scope.province_id)),
        };
        let key = TotalsKey {
            scope: scope.id,
            as_of,
            flow_from: from,
            localities: rolled,
            indicators: codes.clone(),
        };
        let totals = match cache.totals(cache_scope, version, &key) {
            Some(totals) => totals,
            None => {
                let totals = Arc::new(Totals {
                    totals: store
                        .rollup_totals(
                            catalog,
                            &TotalsRequest {
                                localities: &key.localities,
                                indicators: &codes,
                                as_of,
                                flow_from: from,
                                flows: &flows,
                                flow_reports_of: &[scope.id],
                            },
                        )
                        .await?,
                    target_sums: store.target_totals(catalog, &key.localities, as_of).await?,
                });
                cache.put_totals(cache_scope, version, key, totals.clone());
                totals
            }
        };
        let mut snapshot = Snapshot {
            as_of,
            version: Some(version),
            totals,
            ..Snapshot::default()
        };
        let Some(province_id) = province_id else {
            snapshot.targets = match cache.targets(cache_scope, version, as_of) {
                Some(targets) => targets,
                None => {
                    let provinces: Vec<i64> = catalog.children(scope.id).map(|l| l.id).collect();
                    let targets = Arc::new(store.own_targets_due_from(&provinces, as_of).await?);
                    cache.put_targets(cache_scope, version, as_of, targets.clone());
                    targets
                }
            };
            return Ok(snapshot);
        };
        if !own_figures {
            snapshot.targets = self.province_targets(province_id, version, as_of).await?;
            return Ok(snapshot);
        }
        // The indicators asked for and their denominators (a paired figure needs both).
        let mut wanted: BTreeSet<String> = codes.iter().cloned().collect();
        wanted.extend(
            codes
                .iter()
                .filter_map(|c| catalog.indicator(c)?.denominator.clone()),
        );
        let (mut stocks, mut flows) = (Vec::new(), Vec::new());
        for code in wanted {
            let flow = catalog
                .indicator(&code)
                .is_some_and(|i| i.kind == IndicatorKind::Flow);
            let key = FigureKey {
                indicator: code,
                as_of,
                flow_from: flow.then_some(from),
            };
            match cache.figures(province_id, version, &key) {
                Some(figures) => {
                    if !figures.is_empty() {
                        snapshot.figures.insert(key.indicator, figures);
                    }
                }
                None if flow => flows.push(key),
                None => stocks.push(key),
            }
        }
        let mut read: HashMap<String, IndicatorFigures> = HashMap::new();
        if !stocks.is_empty() {
            let codes: Vec<String> = stocks.iter().map(|k| k.indicator.clone()).collect();
            for row in store
                .figures_in_force(province_id, as_of, Some(&codes))
                .await?
            {
                read.entry(row.indicator_code).or_default().insert(
                    row.locality_id,
                    OwnFigure {
                        value: row.value,
                        as_of: row.period_end,
                        reports: 1,
                    },
                );
            }
        }
        if !flows.is_empty() {
            let codes: Vec<String> = flows.iter().map(|k| k.indicator.clone()).collect();
            for row in store.flow_sums(province_id, &codes, from, as_of).await? {
                read.entry(row.indicator_code).or_default().insert(
                    row.locality_id,
                    OwnFigure {
                        value: row.value,
                        as_of: row.period_end,
                        reports: row.reports as u32,
                    },
                );
            }
        }
        for key in stocks.into_iter().chain(flows) {
            let figures = Arc::new(read.remove(&key.indicator).unwrap_or_default());
            if !figures.is_empty() {
                snapshot
                    .figures
                    .insert(key.indicator.clone(), figures.clone());
            }
            cache.put_figures(province_id, version, key, figures);
        }
        snapshot.targets = self.province_targets(province_id, version, as_of).await?;
        Ok(snapshot)
    }

    /// The own targets of a province's localities due on or after `as_of`, cached at `version`.
    pub(super) async fn province_targets(
        &self,
        province_id: i64,
        version: i64,
        as_of: NaiveDate,
    ) -> Result<Arc<Targets>, Error> {
        let cache = &self.state.read_cache;
        if let Some(targets) = cache.targets(province_id, version, as_of) {
            return Ok(targets);
        }
        let targets = Arc::new(
            self.state
                .store
                .targets_due_from(province_id, as_of)
                .await?,
        );
        cache.put_targets(province_id, version, as_of, targets.clone());
        Ok(targets)
    }

    /// A locality's figure: the maintained roll-up when units lie below it, else its own.
    pub(super) fn measure(
        &self,
        snapshot: &Snapshot,
        indicator: &Indicator,
        l: &Locality,
    ) -> Option<Measure> {
        if self.state.catalog.has_children(l.id) {
            let t = snapshot
                .totals
                .totals
                .get(&(l.id, indicator.code.clone()))?;
            return (t.units > 0).then_some(Measure {
                value: t.amounts.value,
                paired_value: t.amounts.paired_value,
                paired_denominator: t.amounts.paired_denominator,
                oldest_as_of: t.oldest_as_of,
                units: t.units,
                reports: t.reports as usize,
            });
        }
        let own = snapshot.figures.get(&indicator.code)?.get(&l.id)?;
        let denominator = indicator
            .denominator
            .as_ref()
            .and_then(|d| snapshot.figures.get(d)?.get(&l.id));
        Some(Measure {
            value: own.value,
            paired_value: denominator.map_or(0.0, |_| own.value),
            paired_denominator: denominator.map_or(0.0, |d| d.value),
            oldest_as_of: Some(own.as_of),
            units: 1,
            reports: own.reports as usize,
        })
    }

    /// The finest-level localities at or below `root` (communes, or `root` itself at the
    /// bottom); for the country, its provinces.
    pub(super) fn finest_below<'a>(&'a self, root: &'a Locality) -> Vec<&'a Locality> {
        let catalog = &self.state.catalog;
        if root.id < 0 {
            return catalog.children(root.id).collect();
        }
        let below = catalog.descendants(root.id);
        let finest = below.iter().map(|l| l.level).max();
        match finest {
            Some(level) => below.into_iter().filter(|l| l.level == level).collect(),
            None => vec![root],
        }
    }

    /// A locality's target: its own, else the sum of the targets of the communes below it.
    pub(super) fn target(
        &self,
        snapshot: &Snapshot,
        indicator: &str,
        locality: &Locality,
    ) -> Option<f64> {
        if let Some(t) = snapshot.targets.get(&(indicator.to_owned(), locality.id)) {
            return Some(*t);
        }
        snapshot
            .totals
            .target_sums
            .get(&(locality.id, indicator.to_owned()))
            .map(|(sum, _)| *sum)
    }

    pub(super) fn progress(
        &self,
        snapshot: &Snapshot,
        earlier: Option<&Snapshot>,
        indicator: &Indicator,
        locality: &Locality,
    ) -> LocalityProgress {
        let measure = self.measure(snapshot, indicator, locality);
        let target = self.target(snapshot, &indicator.code, locality);
        let value = measure.as_ref().map(|m| m.value);
        let change = earlier.and_then(|e| {
            let before = self.measure(e, indicator, locality)?;
            Some(value? - before.value)
        });
        let paired = measure
            .as_ref()
            .filter(|m| m.paired_denominator > 0.0)
            .map(|m| (m.paired_value, m.paired_denominator));
        LocalityProgress {
            locality: Some(self.locality_to_proto(locality)),
            value,
            target,
            percent_of_target: value.zip(target).and_then(|(v, t)| rollup::percent(v, t)),
            denominator_value: paired.map(|(_, d)| d),
            percent_of_denominator: paired.and_then(|(v, d)| rollup::percent(v, d)),
            change,
            rank: 0,
            as_of: measure.and_then(|m| m.oldest_as_of).map(date_to_proto),
            pace: None,
            split_units: Self::split_units(snapshot, &indicator.code, locality),
            uncarried_units: Self::uncarried_units(snapshot, &indicator.code, locality),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(version: Option<i64>) -> Snapshot {
        Snapshot {
            version,
            ..Snapshot::default()
        }
    }

    #[test]
    fn derived_views_are_kept_only_at_one_live_read_version() {
        assert_eq!(one_read_version(&[at(Some(7)), at(Some(7))]), Some(7));
        assert_eq!(one_read_version(&[at(Some(7)), at(Some(8))]), None);
        assert_eq!(one_read_version(&[at(Some(7)), at(None)]), None);
        assert_eq!(one_read_version(&[at(None)]), None);
        assert_eq!(one_read_version(&[]), None);
    }
}
