//! Pace to target in the task-force views: the figures of the weeks before the as-of date, read
//! as snapshots (live or as known at an instant), turned into the reported series the domain's
//! rules judge (`p06_domain::pace`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use p06_domain::locality::Locality;
use p06_domain::pace::{self, PaceInput, PaceStatus, Reported};
use p06_domain::report::{Indicator, IndicatorKind};
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::{self as pb};

use super::known::flow_start;
use super::snapshot::one_read_version;
use super::view_cache::ViewMap;
use super::{Snapshot, TaskForceApi};
use crate::error::Error;

/// Due dates of targets by (indicator, locality).
pub(super) type Dues = HashMap<(String, i64), NaiveDate>;

/// At most this many entries per map of [`PaceCache`].
const PACE_CACHE_ENTRIES: usize = 512;

/// At most this many paces maps (one per view asked: a province's communes for one indicator,
/// say); fewer than the other maps, being larger.
const PACES_ENTRIES: usize = 128;

/// The paces of one view, by locality.
pub(super) type Paces = HashMap<i64, pb::Pace>;

/// What the pace reads besides the snapshots, and the paces themselves, keyed by what they depend
/// on and stamped with the read version of the scope's province (the country's: the sum), which
/// every write — targets included — advances: live like the read cache. Paces computed from
/// snapshots known at an instant are not kept (they have no read version).
pub(super) struct PaceCache {
    dues: ViewMap<DuesKey, Dues>,
    with_targets: ViewMap<(i64, i64, NaiveDate), HashSet<String>>,
    paces: ViewMap<PacesKey, Paces>,
}

impl Default for PaceCache {
    fn default() -> Self {
        Self {
            dues: ViewMap::new(PACE_CACHE_ENTRIES),
            with_targets: ViewMap::new(PACE_CACHE_ENTRIES),
            paces: ViewMap::new(PACES_ENTRIES),
        }
    }
}

/// (read version, scope, localities rolled up, as-of date).
type DuesKey = (i64, i64, Vec<i64>, NaiveDate);

/// What a view's paces depend on besides the read version's figures and targets.
#[derive(Hash, PartialEq, Eq)]
struct PacesKey {
    version: i64,
    scope: i64,
    indicator: String,
    as_of: NaiveDate,
    flow_from: Option<NaiveDate>,
    weeks: u32,
    localities: Vec<i64>,
}

/// The request's window in weeks: 0 → the default (4), at most [`pace::MAX_WEEKS`].
pub(super) fn weeks(asked: i32) -> Result<u32, Error> {
    match asked {
        0 => Ok(pace::DEFAULT_WEEKS),
        n if n > 0 && n as u32 <= pace::MAX_WEEKS => Ok(n as u32),
        _ => Err(Error::invalid_field(
            "pace_weeks",
            format!(
                "between 1 and {} weeks (0: {})",
                pace::MAX_WEEKS,
                pace::DEFAULT_WEEKS
            ),
        )),
    }
}

/// The dates the pace reads: the as-of date and each of the `weeks` weeks before it.
pub(super) fn dates(as_of: NaiveDate, weeks: u32) -> Vec<NaiveDate> {
    (0..=i64::from(weeks))
        .map(|k| as_of - Duration::days(7 * k))
        .collect()
}

pub(super) fn status_to_proto(status: PaceStatus) -> pb::PaceStatus {
    match status {
        PaceStatus::Met => pb::PaceStatus::Met,
        PaceStatus::OnTrack => pb::PaceStatus::OnTrack,
        PaceStatus::AtRisk => pb::PaceStatus::AtRisk,
        PaceStatus::OffTrack => pb::PaceStatus::OffTrack,
        PaceStatus::NoTrend => pb::PaceStatus::NoTrend,
    }
}

/// What the pace of a view is judged from: its snapshots as of [`dates`]`(as_of, weeks)`
/// (newest first), the targets' due dates and the flows' summing start.
#[derive(Clone, Copy)]
pub(super) struct PaceReads<'a> {
    pub snapshots: &'a [Snapshot],
    pub dues: &'a Dues,
    pub flow_from: Option<NaiveDate>,
    pub weeks: u32,
}

/// What one sample of a locality's figure says.
#[derive(Clone, Copy, PartialEq)]
struct Sample {
    value: f64,
    as_of: Option<NaiveDate>,
    units: i64,
    reports: usize,
}

impl TaskForceApi {
    /// Targets' due dates of the province of `scope` and of the totals of `rolled`, when the pace
    /// of some indicator is asked; `version` is the snapshots' read version (`None`: known at an
    /// instant, looked up here).
    pub(super) async fn direct_dues(
        &self,
        scope: &Locality,
        rolled: &[&Locality],
        as_of: NaiveDate,
        with_pace: &[String],
        version: Option<i64>,
    ) -> Result<Arc<Dues>, Error> {
        if with_pace.is_empty() {
            return Ok(Arc::default());
        }
        let ids: Vec<i64> = rolled
            .iter()
            .filter(|l| l.id < 0 || self.state.catalog.has_children(l.id))
            .map(|l| l.id)
            .collect();
        let version = match version {
            Some(version) => version,
            None => self.read_version(scope).await?,
        };
        let key = (version, scope.id, ids, as_of);
        if let Some(dues) = self.pace_cache.dues.get(&key) {
            return Ok(dues);
        }
        let dues = self
            .state
            .store
            .target_dues(
                &self.state.catalog,
                (scope.id >= 0).then_some(scope.province_id),
                &key.2,
                as_of,
            )
            .await?;
        let dues = Arc::new(dues);
        self.pace_cache.dues.keep(key, dues.clone());
        Ok(dues)
    }

    /// The indicators (of `among`) with a target at `scope` or at a unit of its province, as of
    /// `date`: those the pace reads history for.
    pub(super) async fn direct_indicators_with_targets(
        &self,
        scope: &Locality,
        date: NaiveDate,
        among: &[String],
    ) -> Result<Vec<String>, Error> {
        let key = (self.read_version(scope).await?, scope.id, date);
        let with = match self.pace_cache.with_targets.get(&key) {
            Some(with) => with,
            None => {
                let catalog = &self.state.catalog;
                let mut with: HashSet<String> = self
                    .state
                    .store
                    .target_totals(catalog, &[scope.id], date)
                    .await?
                    .into_keys()
                    .map(|(_, code)| code)
                    .collect();
                if scope.id >= 0 {
                    with.extend(
                        self.targets_as_of(scope.province_id, date)
                            .await?
                            .keys()
                            .map(|(code, _)| code.clone()),
                    );
                }
                let with = Arc::new(with);
                self.pace_cache.with_targets.keep(key, with.clone());
                with
            }
        };
        Ok(among
            .iter()
            .filter(|c| with.contains(*c))
            .cloned()
            .collect())
    }

    /// The paces of `localities` for `indicator` from `snapshots` as of [`dates`]`(as_of, weeks)`
    /// (newest first), by locality (absent: no target or due date). Live snapshots' paces are
    /// cached at their read version: a province's thousands of communes are judged once per
    /// commit, not at every view.
    pub(super) fn paces(
        &self,
        scope: &Locality,
        reads: &PaceReads<'_>,
        indicator: &Indicator,
        localities: &[&Locality],
    ) -> Arc<Paces> {
        let compute = || {
            Arc::new(
                localities
                    .iter()
                    .filter_map(|l| Some((l.id, self.pace(reads, indicator, l)?)))
                    .collect::<Paces>(),
            )
        };
        let PaceReads {
            snapshots,
            flow_from,
            weeks,
            ..
        } = *reads;
        // Cached only when every date was read live at one read version (not known at an
        // instant, nor carried across the reform from other provinces).
        let Some(version) = one_read_version(snapshots) else {
            return compute();
        };
        let key = PacesKey {
            version,
            scope: scope.id,
            indicator: indicator.code.clone(),
            as_of: snapshots[0].as_of,
            flow_from,
            weeks,
            localities: localities.iter().map(|l| l.id).collect(),
        };
        if let Some(paces) = self.pace_cache.paces.get(&key) {
            return paces;
        }
        let paces = compute();
        self.pace_cache.paces.keep(key, paces.clone());
        paces
    }

    /// The pace of `locality` for `indicator` from `snapshots` as of [`dates`]`(as_of, weeks)`
    /// (newest first); `None` without a target and its due date.
    fn pace(
        &self,
        reads: &PaceReads<'_>,
        indicator: &Indicator,
        locality: &Locality,
    ) -> Option<pb::Pace> {
        let PaceReads {
            snapshots,
            dues,
            flow_from,
            weeks,
        } = *reads;
        let now = snapshots.first()?;
        let target = self.target(now, &indicator.code, locality)?;
        let due = *dues.get(&(indicator.code.clone(), locality.id))?;
        let as_of_dates: Vec<NaiveDate> = snapshots.iter().map(|s| s.as_of).collect();
        let samples: Vec<Option<Sample>> = snapshots
            .iter()
            .map(|s| {
                self.measure(s, indicator, locality).map(|m| Sample {
                    value: m.value,
                    as_of: m.oldest_as_of,
                    units: m.units,
                    reports: m.reports,
                })
            })
            .collect();
        let Some(current) = samples[0] else {
            // No figure: "not reported", never zero; nothing to judge.
            return Some(pb::Pace {
                status: pb::PaceStatus::NoTrend as i32,
                due: Some(date_to_proto(due)),
                weeks: weeks as i32,
                ..Default::default()
            });
        };
        let own = !self.state.catalog.has_children(locality.id) && locality.id >= 0;
        let mut reported: Vec<Reported> = Vec::new();
        // Oldest first.
        for k in (0..samples.len()).rev() {
            let Some(sample) = samples[k] else {
                continue;
            };
            let date = as_of_dates[k];
            let older = samples.get(k + 1).copied().flatten();
            match indicator.kind {
                IndicatorKind::Stock => {
                    let end = match own {
                        true => sample.as_of.unwrap_or(date),
                        false if older == Some(sample) => continue,
                        false => date,
                    };
                    reported.push(Reported {
                        start: end,
                        end,
                        value: sample.value,
                    });
                }
                IndicatorKind::Flow => {
                    // The count of the week ending on this date: this sum less the week before's,
                    // unless a new summing period began in between.
                    let start = flow_start(flow_from, date);
                    let (older_value, from) = match as_of_dates.get(k + 1) {
                        Some(before) if flow_start(flow_from, *before) == start => match older {
                            Some(o) if o.reports == sample.reports && o.value == sample.value => {
                                continue;
                            }
                            Some(o) => (o.value, *before + Duration::days(1)),
                            None if *before < start => (0.0, start),
                            None => continue,
                        },
                        Some(_) => (0.0, start),
                        None => continue,
                    };
                    reported.push(Reported {
                        start: from,
                        end: date,
                        value: sample.value - older_value,
                    });
                }
            }
        }
        let assessed = pace::assess(&PaceInput {
            kind: indicator.kind,
            reported: &reported,
            current: current.value,
            target,
            due,
            as_of: as_of_dates[0],
            weeks,
        });
        Some(pb::Pace {
            status: status_to_proto(assessed.status) as i32,
            recent_per_week: assessed.recent_per_week,
            needed_per_week: assessed.needed_per_week,
            projected: assessed.projected.map(date_to_proto),
            due: Some(date_to_proto(due)),
            weeks: weeks as i32,
            reports_used: assessed.reports_used as i32,
        })
    }
}
