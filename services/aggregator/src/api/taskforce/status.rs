//! `GetConsolidatedStatus`: a locality's figure, target, progress, completeness, change and pace
//! per indicator, with how many of its finest units meet their targets, how they fare by pace,
//! and the lowest of them.
//!
//! A live status is kept at the read version it was computed at (every write advances it): the
//! province's hundreds of communes are measured and ranked once per commit, and the calls after
//! it read the version and copy the kept answer. Statuses known at an instant or carried across
//! the reform are computed at every call (they have no single read version).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use p06_domain::locality::Locality;
use p06_domain::report::Indicator;
use p06_domain::rollup;
use p06_kit::convert::{date_from_proto, date_to_proto};
use p06_proto::aggregation::{
    self as pb, ConsolidatedStatus, GetConsolidatedStatusRequest, IndicatorStatus, LocalityProgress,
};

use super::snapshot::one_read_version;
use super::view_cache::ViewMap;
use super::{PaceReads, Reads, TaskForceApi, carried, known_at_of, pace};
use crate::api::Caller;
use crate::error::Error;

/// At most this many statuses are kept (a locality, date and set of indicators each).
const STATUSES_KEPT: usize = 256;

/// What a status depends on besides the read version's figures and targets: the request, with
/// its defaults resolved.
#[derive(Hash, PartialEq, Eq)]
pub(super) struct StatusKey {
    version: i64,
    locality: i64,
    as_of: NaiveDate,
    flow_from: Option<NaiveDate>,
    indicator_codes: Vec<String>,
    compare_to: Option<NaiveDate>,
    lowest_count: i32,
    weeks: u32,
    omit_pace: bool,
}

/// The statuses by [`StatusKey`].
pub(super) type StatusCache = ViewMap<StatusKey, ConsolidatedStatus>;

pub(super) fn status_cache() -> StatusCache {
    ViewMap::new(STATUSES_KEPT)
}

impl TaskForceApi {
    /// The status `req` asks for: kept when live at the current read version, else computed (and
    /// kept when every snapshot was read live at that version).
    pub(super) async fn status(
        &self,
        caller: &Caller,
        req: GetConsolidatedStatusRequest,
    ) -> Result<Arc<ConsolidatedStatus>, Error> {
        let locality = self.locality(caller, req.locality.as_ref(), "locality")?;
        let as_of = self.as_of(req.as_of.as_ref());
        let known_at = known_at_of(req.known_at.as_ref())?;
        let weeks = pace::weeks(req.pace_weeks)?;
        let key = match known_at {
            Some(_) => None,
            None => Some(StatusKey {
                version: self.read_version(locality).await?,
                locality: locality.id,
                as_of,
                flow_from: date_from_proto(req.flow_from.as_ref()),
                indicator_codes: req.indicator_codes.clone(),
                compare_to: date_from_proto(req.compare_to.as_ref()),
                lowest_count: req.lowest_count,
                weeks,
                omit_pace: req.omit_pace,
            }),
        };
        if let Some(status) = key.as_ref().and_then(|k| self.status_cache.get(k)) {
            return Ok(status);
        }
        let asked = Asked {
            locality,
            as_of,
            weeks,
            known_at,
        };
        let (status, read_at) = self.compute_status(&asked, &req).await?;
        let status = Arc::new(status);
        if let Some(key) = key.filter(|k| read_at == Some(k.version)) {
            self.status_cache.keep(key, status.clone());
        }
        Ok(status)
    }

    /// The status of `asked.locality`, and the one read version every snapshot was read live at
    /// (`None`: known at an instant, carried, or read across a commit).
    async fn compute_status(
        &self,
        asked: &Asked<'_>,
        req: &GetConsolidatedStatusRequest,
    ) -> Result<(ConsolidatedStatus, Option<i64>), Error> {
        let Asked {
            locality,
            as_of,
            weeks,
            known_at,
        } = *asked;
        let flow_from = date_from_proto(req.flow_from.as_ref());
        let catalog = &self.state.catalog;
        let finest = self.finest_below(locality);
        // Units that report at the bottom of the tree: what "expected" counts.
        let expected = if locality.id < 0 {
            catalog
                .descendants(locality.id)
                .iter()
                .filter(|l| !catalog.has_children(l.id))
                .count()
        } else {
            finest.len()
        };
        let mut rolled: Vec<&Locality> = vec![locality];
        if locality.id < 0 {
            rolled.extend(finest.iter().copied());
        }
        let requested = (!req.indicator_codes.is_empty()).then_some(req.indicator_codes.as_slice());
        let with_pace = match req.omit_pace {
            true => Vec::new(),
            false => {
                let among: Vec<String> = self.codes_or_all(requested);
                self.indicators_with_targets(locality, as_of, &among)
                    .await?
            }
        };
        let dates = pace::dates(as_of, weeks);
        let reads = Reads {
            dates: &dates,
            flow_from,
            totals_for: &rolled,
            indicators: requested,
            later: &with_pace,
            known_at,
        };
        let snapshots = self.snapshots(locality, &reads).await?;
        let snapshot = &snapshots[0];
        let dues = self
            .dues(locality, &rolled, as_of, &with_pace, snapshot.version)
            .await?;
        // The lowest rows carry their change too: the earlier snapshot covers what they need
        // (the province's figures; for the country, its provinces' totals).
        let earlier = match date_from_proto(req.compare_to.as_ref()) {
            Some(date) => {
                let reads = Reads {
                    dates: &[date],
                    later: &[],
                    ..reads
                };
                self.snapshots(locality, &reads).await?.pop()
            }
            None => None,
        };
        let pace_reads = PaceReads {
            snapshots: &snapshots,
            dues: &dues,
            flow_from,
            weeks,
        };
        // Every finest locality's pace and the scope's, per indicator with a pace: judged once
        // per read version (cached), looked up below.
        let mut paced_units = finest.clone();
        paced_units.push(locality);
        let mut paces: HashMap<&str, Arc<pace::Paces>> = HashMap::new();
        for code in &with_pace {
            let indicator = self.indicator(code)?;
            let computed = self.paces(locality, &pace_reads, indicator, &paced_units);
            paces.insert(code.as_str(), computed);
        }
        let paced = |indicator: &Indicator, l: &Locality| {
            paces.get(indicator.code.as_str())?.get(&l.id).cloned()
        };
        let lowest_count = match req.lowest_count {
            0 => 5,
            n => n.clamp(1, 50) as usize,
        };
        let codes: Vec<String> = if req.indicator_codes.is_empty() {
            let mut with_data: BTreeSet<String> = snapshot.figures.keys().cloned().collect();
            with_data.extend(
                snapshot
                    .totals
                    .totals
                    .iter()
                    .filter(|((id, _), t)| *id == locality.id && t.units > 0)
                    .map(|((_, code), _)| code.clone()),
            );
            // In the catalog's display order: the headline first.
            catalog
                .indicators()
                .iter()
                .filter(|i| with_data.contains(&i.code))
                .map(|i| i.code.clone())
                .collect()
        } else {
            for code in &req.indicator_codes {
                self.indicator(code)?;
            }
            req.indicator_codes.clone()
        };
        // The indicators with a target anywhere in the snapshot: only theirs are looked up for
        // every finest locality below (a look-up that finds nothing costs as much as one that does).
        let targeted: HashSet<&str> = snapshot
            .targets
            .keys()
            .map(|(code, _)| code.as_str())
            .chain(snapshot.totals.target_sums.keys().map(|(_, c)| c.as_str()))
            .collect();
        let mut indicators = Vec::with_capacity(codes.len());
        for code in &codes {
            let indicator = self.indicator(code)?;
            let totals = self.progress(snapshot, earlier.as_ref(), indicator, locality);
            let measure = self.measure(snapshot, indicator, locality);
            let reporting = if locality.id < 0 || catalog.has_children(locality.id) {
                measure
                    .as_ref()
                    .map_or(0, |m| m.units as usize)
                    .min(expected)
            } else {
                usize::from(measure.is_some())
            };
            // Counted over every finest locality; full rows are built for the lowest only.
            let (mut with_target, mut meeting) = (0, 0);
            let mut ranked: Vec<(f64, &Locality)> = Vec::new();
            let mut by_pace: BTreeMap<i32, i32> = BTreeMap::new();
            let with_targets: &[&Locality] = match targeted.contains(code.as_str()) {
                true => &finest,
                false => &[],
            };
            for l in with_targets {
                let Some(target) = self.target(snapshot, &indicator.code, l) else {
                    continue;
                };
                with_target += 1;
                if let Some(p) = paced(indicator, l) {
                    *by_pace.entry(p.status).or_default() += 1;
                }
                let Some(value) = self.measure(snapshot, indicator, l).map(|m| m.value) else {
                    continue;
                };
                if value >= target {
                    meeting += 1;
                }
                if let Some(pct) = rollup::percent(value, target) {
                    ranked.push((pct, l));
                }
            }
            ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
            let lowest: Vec<LocalityProgress> = ranked
                .iter()
                .take(lowest_count)
                .enumerate()
                .map(|(position, (_, l))| LocalityProgress {
                    rank: position as i32 + 1,
                    pace: paced(indicator, l),
                    ..self.progress(snapshot, earlier.as_ref(), indicator, l)
                })
                .collect();
            indicators.push(IndicatorStatus {
                indicator_code: code.clone(),
                name_vi: indicator.name_vi.clone(),
                name_en: indicator.name_en.clone(),
                value: totals.value,
                target: totals.target,
                percent_of_target: totals.percent_of_target,
                denominator_code: indicator.denominator.clone().unwrap_or_default(),
                denominator_value: totals.denominator_value,
                percent_of_denominator: totals.percent_of_denominator,
                change: totals.change,
                localities_meeting_target: meeting,
                localities_with_target: with_target,
                localities_reporting: reporting as i32,
                localities_expected: expected as i32,
                localities_without_data: (expected - reporting) as i32,
                lowest,
                oldest_as_of: totals.as_of,
                locality_completeness: if expected == 0 {
                    0.0
                } else {
                    reporting as f64 / expected as f64
                },
                reports_included: measure.map_or(0, |m| m.reports) as i32,
                pace: paced(indicator, locality),
                split_units: totals.split_units,
                uncarried_units: totals.uncarried_units,
                localities_by_pace: by_pace
                    .into_iter()
                    .map(|(status, count)| pb::PaceStatusCount { status, count })
                    .collect(),
            });
        }
        let read_at = one_read_version(snapshots.iter().chain(earlier.as_ref()));
        let status = ConsolidatedStatus {
            locality: Some(self.locality_to_proto(locality)),
            as_of: Some(date_to_proto(as_of)),
            indicators,
            carried_from_edition: carried::CarriedFrom::edition_year(snapshot.carried.as_deref()),
        };
        Ok((status, read_at))
    }
}

/// What a status request names, resolved.
#[derive(Clone, Copy)]
struct Asked<'a> {
    locality: &'a Locality,
    as_of: NaiveDate,
    weeks: u32,
    known_at: Option<DateTime<Utc>>,
}
