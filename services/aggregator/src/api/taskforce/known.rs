//! The task-force views as known at an instant (`known_at`): computed on demand from the stored
//! revisions received by then (`p06_domain::known_at`), not from the live read model.
//!
//! Stocks: the known revisions are read newest period first, and the reading stops once every
//! (indicator, locality) the views need has its figure in force at the earliest date asked, the
//! revisions changed after the instant have been passed, and that date is passed. The pairs
//! needed are those with a live figure in force then (one key-range read) — a pair the known
//! figures have but the live ones lack can only come from a revision changed after the instant,
//! which the reading passes. Flows: the known revisions of the periods summed. Totals: the
//! on-demand roll-up rules (`p06_domain::rollup`) over the own figures. Targets: today's.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use p06_domain::contribution::Amounts;
use p06_domain::known_at::{self, OwnAsOf, PeriodFigure, Revision};
use p06_domain::locality::Locality;
use p06_domain::report::{CatalogView as _, IndicatorKind};
use p06_domain::rollup::{self, Figure, Tree};

use super::{LiveReads, Snapshot, TaskForceApi};
use crate::catalog::Catalog;
use crate::error::Error;
use crate::read_cache::{IndicatorFigures, OwnFigure, Targets, Totals};
use crate::store::queries::RollupTotal;

/// The catalog's tree, for the roll-up rules.
struct CatalogTree<'a>(&'a Catalog);

impl Tree for CatalogTree<'_> {
    fn children(&self, id: i64) -> Vec<i64> {
        self.0.children(id).map(|l| l.id).collect()
    }
}

/// The start of a flow's summed period as of `date`.
pub(super) fn flow_start(flow_from: Option<NaiveDate>, date: NaiveDate) -> NaiveDate {
    flow_from.unwrap_or_else(|| NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date))
}

/// What a view reads: as of which dates (the first with `indicators`, default all; the others,
/// for the pace, with `later` only), and whether as known at an instant.
pub(super) struct Reads<'a> {
    pub dates: &'a [NaiveDate],
    pub flow_from: Option<NaiveDate>,
    pub totals_for: &'a [&'a Locality],
    pub indicators: Option<&'a [String]>,
    pub later: &'a [String],
    pub known_at: Option<DateTime<Utc>>,
}

impl TaskForceApi {
    /// Snapshots of `scope` as of each of `reads.dates`: live (the maintained read model) or, with
    /// `known_at`, from the revisions received by then. Without `later` indicators only the first
    /// date is read.
    pub(super) async fn direct_snapshots(
        &self,
        scope: &Locality,
        reads: &Reads<'_>,
    ) -> Result<Vec<Snapshot>, Error> {
        let dates = match reads.later.is_empty() {
            true => &reads.dates[..reads.dates.len().min(1)],
            false => reads.dates,
        };
        let Some(known_at) = reads.known_at else {
            // Every date at one read version: one look-up of it, and no mix of before and after
            // a commit between the dates.
            let version = self.read_version(scope).await?;
            let mut out = Vec::with_capacity(dates.len());
            for (i, &date) in dates.iter().enumerate() {
                let indicators = if i == 0 {
                    reads.indicators
                } else {
                    Some(reads.later)
                };
                let live = LiveReads {
                    totals_for: reads.totals_for,
                    indicators,
                    own_figures: true,
                };
                out.push(
                    self.snapshot_at(scope, version, date, reads.flow_from, live)
                        .await?,
                );
            }
            return Ok(out);
        };
        if scope.id < 0 {
            return Err(Error::invalid_field(
                "known_at",
                "figures known at an instant are computed for one province (or a unit of it), \
                 not the whole country",
            ));
        }
        let all: Vec<String> = self.codes_or_all(reads.indicators);
        self.known_snapshots(scope, reads, dates, &all, known_at)
            .await
    }

    /// A province's own targets due on or after `date` (today's targets), through the cache.
    pub(super) async fn targets_as_of(
        &self,
        province_id: i64,
        date: NaiveDate,
    ) -> Result<Arc<Targets>, Error> {
        let cache = &self.state.read_cache;
        let version = self.state.store.read_version(province_id).await?;
        if let Some(targets) = cache.targets(province_id, version, date) {
            return Ok(targets);
        }
        let targets = Arc::new(self.state.store.targets_due_from(province_id, date).await?);
        cache.put_targets(province_id, version, date, targets.clone());
        Ok(targets)
    }

    /// Snapshots of `scope` (a province or a unit of it) as of each of `dates`, from the revisions
    /// received at or before `known_at`. `indicators` are read at the first date, `reads.later`
    /// (a subset) at the others.
    async fn known_snapshots(
        &self,
        scope: &Locality,
        reads: &Reads<'_>,
        dates: &[NaiveDate],
        indicators: &[String],
        known_at: DateTime<Utc>,
    ) -> Result<Vec<Snapshot>, Error> {
        let (flow_from, totals_for, later) = (reads.flow_from, reads.totals_for, reads.later);
        let store = &self.state.store;
        let catalog = &self.state.catalog;
        let province_id = scope.province_id;
        let (Some(&first), Some(&last_date), Some(&earliest)) =
            (dates.first(), dates.iter().max(), dates.iter().min())
        else {
            return Ok(Vec::new());
        };
        // The indicators and their denominators, at the first date and at the others.
        let with_denominators = |codes: &[String]| -> Vec<String> {
            let mut all: Vec<String> = codes.to_vec();
            all.extend(
                codes
                    .iter()
                    .filter_map(|c| catalog.indicator(c)?.denominator.clone()),
            );
            all.sort();
            all.dedup();
            all
        };
        let wanted = with_denominators(indicators);
        let wanted_later = with_denominators(later);
        let kind = |code: &str| {
            catalog
                .indicator(code)
                .map_or(IndicatorKind::Stock, |i| i.kind)
        };
        let (stocks, flows): (Vec<String>, Vec<String>) = wanted
            .iter()
            .cloned()
            .partition(|c| kind(c) == IndicatorKind::Stock);

        let index = store.revision_index(province_id, last_date).await?;
        let revisions: Vec<Revision<(String, String, NaiveDate)>> = index
            .iter()
            .map(|r| Revision {
                series: (r.agency.clone(), r.obligation.clone(), r.period_start),
                revision: r.revision,
                received_at: r.received_at,
                id: r.id,
            })
            .collect();
        let chosen: HashSet<i64> = known_at::known_revisions(&revisions, known_at)
            .into_values()
            .collect();
        let known: Vec<_> = index.iter().filter(|r| chosen.contains(&r.id)).collect();
        // The earliest period end of a series with a known revision and a later one: the
        // reading must pass it (the known revision may hold pairs the live figures lack).
        let known_series: HashSet<(&str, &str, NaiveDate)> = known
            .iter()
            .map(|r| (r.agency.as_str(), r.obligation.as_str(), r.period_start))
            .collect();
        let changed_since = index
            .iter()
            .filter(|r| r.received_at > known_at)
            .filter(|r| {
                known_series.contains(&(r.agency.as_str(), r.obligation.as_str(), r.period_start))
            })
            .map(|r| r.period_end)
            .min();

        let mut periods: HashMap<(String, i64), Vec<PeriodFigure>> = HashMap::new();
        let period_of: HashMap<i64, (NaiveDate, NaiveDate)> = known
            .iter()
            .map(|r| (r.id, (r.period_start, r.period_end)))
            .collect();
        let mut add = |figures: Vec<crate::store::known::RevisionFigure>| -> usize {
            let n = figures.len();
            for f in figures {
                let (start, end) = period_of[&f.report_id];
                periods
                    .entry((f.indicator_code, f.locality_id))
                    .or_default()
                    .push(PeriodFigure {
                        start,
                        end,
                        value: f.value,
                        report_id: f.report_id,
                    });
            }
            n
        };
        // Flows the later dates need (the pace): every known period, summed per date below.
        let (flows_by_period, flows_summed): (Vec<String>, Vec<String>) = flows
            .iter()
            .cloned()
            .partition(|c| dates.len() > 1 && wanted_later.contains(c));
        if !flows_by_period.is_empty() {
            let from = dates
                .iter()
                .map(|d| flow_start(flow_from, *d))
                .min()
                .unwrap_or(earliest);
            let ids: Vec<i64> = known
                .iter()
                .filter(|r| r.period_start >= from)
                .map(|r| r.id)
                .collect();
            add(store.revision_figures(&ids, &flows_by_period).await?);
        }
        // The others only at the first date: summed by the database.
        let mut summed: HashMap<String, HashMap<i64, OwnAsOf>> = HashMap::new();
        let mut counts: HashMap<(String, i64), u32> = HashMap::new();
        if !flows_summed.is_empty() {
            let from = flow_start(flow_from, first);
            let ids: Vec<i64> = known
                .iter()
                .filter(|r| r.period_start >= from && r.period_end <= first)
                .map(|r| r.id)
                .collect();
            let mut sums = Vec::new();
            let mut holders: HashMap<String, Vec<i64>> = HashMap::new();
            for chunk in ids.chunks(500) {
                let (s, h) = store.revision_flow_sums(chunk, &flows_summed).await?;
                sums.push(s);
                for h in h {
                    holders
                        .entry(h.indicator_code)
                        .or_default()
                        .push(h.report_id);
                }
            }
            // Pairs summed over several statements add up.
            for s in sums.into_iter().flatten() {
                let reports = holders.get(&s.indicator_code).cloned().unwrap_or_default();
                let own = summed
                    .entry(s.indicator_code.clone())
                    .or_default()
                    .entry(s.locality_id)
                    .or_insert(OwnAsOf {
                        value: 0.0,
                        as_of: s.period_end,
                        reports: Vec::new(),
                    });
                own.value += s.value;
                own.as_of = own.as_of.max(s.period_end);
                // The unit's own count; the indicator's revisions stand for the reports a total
                // comes from (each revision of a flow obligation covers the units it reports).
                own.reports = reports;
                *counts
                    .entry((s.indicator_code.clone(), s.locality_id))
                    .or_default() += s.reports as u32;
            }
        }
        // Stocks: newest period first, until every pair needed has its figure at the earliest
        // date (the later dates need only `later`'s pairs).
        if !stocks.is_empty() {
            let stock_later: Vec<String> = stocks
                .iter()
                .filter(|c| dates.len() > 1 && wanted_later.contains(c))
                .cloned()
                .collect();
            let until = if stock_later.is_empty() {
                first
            } else {
                earliest
            };
            let mut missing: HashSet<(String, i64)> = store
                .series_in_force(province_id, until, Some(&stock_later))
                .await?
                .into_iter()
                .collect();
            let mut missing_first: HashSet<(String, i64)> = store
                .series_in_force(province_id, first, Some(&stocks))
                .await?
                .into_iter()
                .collect();
            let mut by_end: BTreeMap<NaiveDate, Vec<i64>> = BTreeMap::new();
            for r in &known {
                by_end.entry(r.period_end).or_default().push(r.id);
            }
            for (end, ids) in by_end.into_iter().rev() {
                let done = end <= until
                    && missing.is_empty()
                    && missing_first.is_empty()
                    && changed_since.is_none_or(|c| end < c);
                if done {
                    break;
                }
                // Once the first date has all it needs, only the later dates' indicators.
                let codes = match missing_first.is_empty() && end <= until {
                    true => &stock_later,
                    false => &stocks,
                };
                let figures = store.revision_figures(&ids, codes).await?;
                for f in &figures {
                    let pair = (f.indicator_code.clone(), f.locality_id);
                    if end <= first {
                        missing_first.remove(&pair);
                    }
                    if end <= until {
                        missing.remove(&pair);
                    }
                }
                add(figures);
            }
        }

        // Own figures at each date, then the totals of the units with units below them.
        let tree = CatalogTree(catalog);
        let rolled: Vec<&Locality> = totals_for
            .iter()
            .copied()
            .filter(|l| catalog.has_children(l.id))
            .collect();
        let mut out = Vec::with_capacity(dates.len());
        for (i, &date) in dates.iter().enumerate() {
            let codes = if i == 0 { &wanted } else { &wanted_later };
            let mut own: HashMap<String, HashMap<i64, OwnAsOf>> = match i {
                0 => std::mem::take(&mut summed),
                _ => HashMap::new(),
            };
            for ((code, locality), figures) in &periods {
                if !codes.contains(code) {
                    continue;
                }
                let from = flow_start(flow_from, date);
                if let Some(f) = known_at::own_as_of(kind(code), figures, date, from) {
                    own.entry(code.clone()).or_default().insert(*locality, f);
                }
            }
            let mut totals = Totals::default();
            let requested = if i == 0 { indicators } else { later };
            for code in requested {
                let Some(figures) = own.get(code) else {
                    continue;
                };
                let as_figures = |m: &HashMap<i64, OwnAsOf>| -> HashMap<i64, Figure> {
                    m.iter()
                        .map(|(id, f)| {
                            (
                                *id,
                                Figure {
                                    value: f.value,
                                    as_of: f.as_of,
                                },
                            )
                        })
                        .collect()
                };
                let values = as_figures(figures);
                let denominators = catalog
                    .indicator(code)
                    .and_then(|i| i.denominator.as_ref())
                    .and_then(|d| own.get(d))
                    .map(as_figures)
                    .unwrap_or_default();
                for l in &rolled {
                    let Some(r) = rollup::roll_up(&tree, l.id, &values, &denominators) else {
                        continue;
                    };
                    let mut reports: Vec<i64> = r
                        .units
                        .iter()
                        .flat_map(|u| figures[u].reports.iter().copied())
                        .collect();
                    reports.sort_unstable();
                    reports.dedup();
                    totals.totals.insert(
                        (l.id, code.clone()),
                        RollupTotal {
                            amounts: Amounts {
                                value: r.value,
                                paired_value: r.paired_value,
                                paired_denominator: r.paired_denominator,
                            },
                            units: r.units.len() as i64,
                            reports: reports.len() as i64,
                            oldest_as_of: r.oldest_as_of,
                        },
                    );
                }
            }
            let ids: Vec<i64> = rolled.iter().map(|l| l.id).collect();
            // The pace reads targets at the first date only.
            if i == 0 {
                totals.target_sums = store.target_totals(catalog, &ids, date).await?;
            }
            let figures: HashMap<String, Arc<IndicatorFigures>> = own
                .into_iter()
                .map(|(code, m)| {
                    let figures: IndicatorFigures = m
                        .into_iter()
                        .map(|(id, f)| {
                            (
                                id,
                                OwnFigure {
                                    value: f.value,
                                    as_of: f.as_of,
                                    reports: match i {
                                        0 => counts.get(&(code.clone(), id)).copied(),
                                        _ => None,
                                    }
                                    .unwrap_or(f.reports.len() as u32),
                                },
                            )
                        })
                        .collect();
                    (code, Arc::new(figures))
                })
                .collect();
            out.push(Snapshot {
                as_of: date,
                version: None,
                figures,
                totals: Arc::new(totals),
                targets: match i {
                    0 => self.targets_as_of(province_id, date).await?,
                    _ => Arc::default(),
                },
                carried: None,
            });
        }
        Ok(out)
    }
}
