//! `ListLocalityProgress`: the localities of one level below a parent, for one indicator, with
//! their figure, target, change and pace, ranked lowest percent of target first, then filtered,
//! ordered and paged as asked.
//!
//! The ranked rows of a live view are kept at the read version they were computed at: a
//! province's hundreds of communes are built and ranked once per commit, and each call after it
//! reads the version, filters the kept rows and copies out one page. Views known at an instant
//! or carried across the reform are computed at every call (they have no single read version).

use std::sync::Arc;

use chrono::NaiveDate;
use p06_domain::locality::{Level, Locality};
use p06_domain::report::Indicator;
use p06_kit::convert::date_from_proto;
use p06_proto::aggregation::{
    self as pb, ListLocalityProgressRequest, ListLocalityProgressResponse, LocalityLevel,
    LocalityProgress, ProgressOrder,
};

use super::snapshot::one_read_version;
use super::view_cache::ViewMap;
use super::{PaceReads, Reads, TaskForceApi, carried, known_at_of, pace, rank};
use crate::api::{Caller, paging};
use crate::error::Error;

/// At most this many ranked views are kept (a parent, level, indicator and dates each).
const RANKED_KEPT: usize = 128;

/// What a view's ranked rows depend on besides the read version's figures and targets.
#[derive(Hash, PartialEq, Eq)]
pub(super) struct RankedKey {
    version: i64,
    parent: i64,
    level: Level,
    indicator: String,
    as_of: NaiveDate,
    compare_to: Option<NaiveDate>,
    weeks: u32,
}

/// Every row of a view, ranked (unfiltered, in the catalog's order).
pub(super) struct Ranked {
    rows: Vec<LocalityProgress>,
    carried_from_edition: i32,
}

/// The ranked views by [`RankedKey`].
pub(super) type RankedCache = ViewMap<RankedKey, Ranked>;

pub(super) fn ranked_cache() -> RankedCache {
    ViewMap::new(RANKED_KEPT)
}

/// A view as asked, before filtering.
struct View<'a> {
    parent: &'a Locality,
    level: Level,
    indicator: &'a Indicator,
    as_of: NaiveDate,
    compare_to: Option<NaiveDate>,
    weeks: u32,
    known_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TaskForceApi {
    pub(super) async fn locality_progress(
        &self,
        caller: &Caller,
        req: ListLocalityProgressRequest,
    ) -> Result<ListLocalityProgressResponse, Error> {
        let view = View {
            parent: self.locality(caller, req.parent.as_ref(), "parent")?,
            level: match LocalityLevel::try_from(req.level).unwrap_or(LocalityLevel::Unspecified) {
                LocalityLevel::Province => Level::Province,
                LocalityLevel::District => Level::District,
                _ => Level::Commune,
            },
            indicator: self.indicator(&req.indicator_code)?,
            as_of: self.as_of(req.as_of.as_ref()),
            compare_to: date_from_proto(req.compare_to.as_ref()),
            weeks: pace::weeks(req.pace_weeks)?,
            known_at: known_at_of(req.known_at.as_ref())?,
        };
        let statuses = pace_statuses(&req.pace_statuses)?;
        let ranked = self.ranked(&view).await?;
        let mut rows: Vec<&LocalityProgress> = ranked
            .rows
            .iter()
            .filter(|r| {
                let pct = r.percent_of_target;
                let status = r.pace.as_ref().map(|p| p.status);
                (statuses.is_empty() || status.is_some_and(|s| statuses.contains(&s)))
                    && (!req.only_no_data || r.value.is_none())
                    && req.below_percent.is_none_or(|b| pct.is_some_and(|p| p < b))
                    && req.above_percent.is_none_or(|a| pct.is_some_and(|p| p > a))
            })
            .collect();
        let code = |r: &LocalityProgress| {
            r.locality
                .as_ref()
                .map(|l| l.code.clone())
                .unwrap_or_default()
        };
        let percent = |r: &LocalityProgress| r.percent_of_target.unwrap_or(f64::NEG_INFINITY);
        let value = |r: &LocalityProgress| r.value.unwrap_or(f64::NEG_INFINITY);
        match ProgressOrder::try_from(req.order).unwrap_or(ProgressOrder::Unspecified) {
            ProgressOrder::PercentDesc => rows.sort_by(|a, b| percent(b).total_cmp(&percent(a))),
            ProgressOrder::ValueDesc => rows.sort_by(|a, b| value(b).total_cmp(&value(a))),
            ProgressOrder::Code => rows.sort_by_cached_key(|r| code(r)),
            _ => rows.sort_by_cached_key(|r| (r.rank == 0, r.rank, code(r))),
        }
        let total_size = rows.len() as i32;
        let (page, next_page_token) =
            paging::page("progress", &rows, req.page_size, &req.page_token)?;
        Ok(ListLocalityProgressResponse {
            rows: page.into_iter().cloned().collect(),
            next_page_token,
            total_size,
            carried_from_edition: ranked.carried_from_edition,
        })
    }

    /// The ranked rows of `view`: kept ones when live at the current read version, else computed
    /// (and kept when every snapshot was read live at that version).
    async fn ranked(&self, view: &View<'_>) -> Result<Arc<Ranked>, Error> {
        let key = match view.known_at {
            Some(_) => None,
            None => Some(RankedKey {
                version: self.read_version(view.parent).await?,
                parent: view.parent.id,
                level: view.level,
                indicator: view.indicator.code.clone(),
                as_of: view.as_of,
                compare_to: view.compare_to,
                weeks: view.weeks,
            }),
        };
        if let Some(ranked) = key.as_ref().and_then(|k| self.ranked_cache.get(k)) {
            return Ok(ranked);
        }
        let (ranked, read_at) = self.rank_view(view).await?;
        let ranked = Arc::new(ranked);
        if let Some(key) = key.filter(|k| read_at == Some(k.version)) {
            self.ranked_cache.keep(key, ranked.clone());
        }
        Ok(ranked)
    }

    /// Every row of `view`, ranked, and the one read version every snapshot was read live at
    /// (`None`: known at an instant, carried, or read across a commit).
    async fn rank_view(&self, view: &View<'_>) -> Result<(Ranked, Option<i64>), Error> {
        let View {
            parent,
            level,
            indicator,
            as_of,
            compare_to,
            weeks,
            known_at,
        } = *view;
        let catalog = &self.state.catalog;
        let listed: Vec<&Locality> = if parent.id < 0 {
            catalog.children(parent.id).collect()
        } else {
            catalog
                .descendants(parent.id)
                .into_iter()
                .filter(|l| l.level == level)
                .collect()
        };
        let only = std::slice::from_ref(&indicator.code);
        let with_pace = self.indicators_with_targets(parent, as_of, only).await?;
        let dates = pace::dates(as_of, weeks);
        let reads = Reads {
            dates: &dates,
            flow_from: None,
            totals_for: &listed,
            indicators: Some(only),
            later: &with_pace,
            known_at,
        };
        let snapshots = self.snapshots(parent, &reads).await?;
        let dues = self
            .dues(parent, &listed, as_of, &with_pace, snapshots[0].version)
            .await?;
        let earlier = match compare_to {
            Some(date) => {
                let reads = Reads {
                    dates: &[date],
                    later: &[],
                    ..reads
                };
                self.snapshots(parent, &reads).await?.pop()
            }
            None => None,
        };
        let paces = match with_pace.is_empty() {
            true => Arc::default(),
            false => {
                let pace_reads = PaceReads {
                    snapshots: &snapshots,
                    dues: &dues,
                    flow_from: None,
                    weeks,
                };
                self.paces(parent, &pace_reads, indicator, &listed)
            }
        };
        let carried_from_edition =
            carried::CarriedFrom::edition_year(snapshots[0].carried.as_deref());
        let mut rows: Vec<LocalityProgress> = listed
            .into_iter()
            .map(|l| LocalityProgress {
                pace: paces.get(&l.id).cloned(),
                ..self.progress(&snapshots[0], earlier.as_ref(), indicator, l)
            })
            .collect();
        rank(&mut rows);
        let read_at = one_read_version(snapshots.iter().chain(earlier.as_ref()));
        let ranked = Ranked {
            rows,
            carried_from_edition,
        };
        Ok((ranked, read_at))
    }
}

/// The request's pace statuses (none: every row).
fn pace_statuses(asked: &[i32]) -> Result<Vec<i32>, Error> {
    let mut statuses = Vec::with_capacity(asked.len());
    for (i, &status) in asked.iter().enumerate() {
        match pb::PaceStatus::try_from(status) {
            Ok(s) if s != pb::PaceStatus::Unspecified => statuses.push(status),
            _ => {
                return Err(Error::invalid_field(
                    &format!("pace_statuses[{i}]"),
                    "MET, ON_TRACK, AT_RISK, OFF_TRACK or NO_TREND",
                ));
            }
        }
    }
    Ok(statuses)
}
