//! `GetStatusTrend`: a locality's figures at a series of dates a step apart, for trend charts.
//!
//! Each point is what `GetConsolidatedStatus` answers for the locality at that date (value,
//! target, percent of target, percent of the denominator), read through the same snapshots at one
//! read version, so a series never mixes figures from before and after a commit. A locality with
//! units below it reads only its maintained totals and targets at each point, not the province's
//! per-commune figures: a whole series costs about what one status of the locality does. With
//! `known_at`, every point is computed from the revisions received by then (`known.rs`).

use chrono::{Duration, NaiveDate};
use p06_domain::locality::Locality;
use p06_domain::report::Indicator;
use p06_kit::convert::{date_from_proto, date_to_proto};
use p06_proto::aggregation::{GetStatusTrendRequest, IndicatorTrend, StatusTrend, TrendPoint};

use super::known::Reads as KnownReads;
use super::{LiveReads, Snapshot, TaskForceApi, known_at_of};
use crate::api::Caller;
use crate::error::Error;

/// Points when the request names none: the as-of date and the seven weeks before it.
const DEFAULT_POINTS: i32 = 8;
/// Two years of weeks and one.
const MAX_POINTS: i32 = 105;
const DEFAULT_STEP_DAYS: i32 = 7;
const MAX_STEP_DAYS: i32 = 366;

/// `value` unless 0 (unset), checked to lie in `1..=max`.
fn count(field: &str, value: i32, default: i32, max: i32) -> Result<i32, Error> {
    match value {
        0 => Ok(default),
        n if (1..=max).contains(&n) => Ok(n),
        n => Err(Error::invalid_field(
            field,
            format!("{n} is not between 1 and {max}"),
        )),
    }
}

impl TaskForceApi {
    pub(super) async fn status_trend(
        &self,
        caller: &Caller,
        req: GetStatusTrendRequest,
    ) -> Result<StatusTrend, Error> {
        let locality = self.locality(caller, req.locality.as_ref(), "locality")?;
        let points = count("points", req.points, DEFAULT_POINTS, MAX_POINTS)?;
        let step = count("step_days", req.step_days, DEFAULT_STEP_DAYS, MAX_STEP_DAYS)?;
        let last = self.as_of(req.as_of.as_ref());
        let flow_from = date_from_proto(req.flow_from.as_ref());
        let asked: Vec<&Indicator> = req
            .indicator_codes
            .iter()
            .map(|code| self.indicator(code))
            .collect::<Result<_, _>>()?;
        let requested = (!req.indicator_codes.is_empty()).then_some(req.indicator_codes.as_slice());
        let dates: Vec<NaiveDate> = (0..i64::from(points))
            .rev()
            .map(|k| last - Duration::days(i64::from(step) * k))
            .collect();
        // Units with units below them read their maintained totals; a commune its own figure.
        let rolls_up = locality.id < 0 || self.state.catalog.has_children(locality.id);
        let totals_for = [locality];
        let known_at = known_at_of(req.known_at.as_ref())?;
        let snapshots: Vec<(NaiveDate, Snapshot)> = match known_at {
            // As known at an instant: every point from the revisions received by then.
            Some(known_at) => {
                let codes: Vec<String> = self.codes_or_all(requested);
                let reads = KnownReads {
                    dates: &dates,
                    flow_from,
                    totals_for: &totals_for,
                    indicators: Some(&codes),
                    later: &codes,
                    known_at: Some(known_at),
                };
                dates
                    .iter()
                    .copied()
                    .zip(self.snapshots(locality, &reads).await?)
                    .collect()
            }
            None => {
                let version = self.read_version(locality).await?;
                let mut snapshots = Vec::with_capacity(dates.len());
                for date in &dates {
                    let reads = LiveReads {
                        totals_for: &totals_for,
                        indicators: requested,
                        own_figures: !rolls_up,
                    };
                    // Before the reform a 2025 unit's points are carried from edition 2024.
                    let snapshot = match self.carried_edition(locality, *date) {
                        Some(_) => {
                            self.carried_snapshot(locality, *date, flow_from, requested, None)
                                .await?
                        }
                        None => {
                            self.snapshot_at(locality, version, *date, flow_from, reads)
                                .await?
                        }
                    };
                    snapshots.push((*date, snapshot));
                }
                snapshots
            }
        };
        let indicators: Vec<&Indicator> = if asked.is_empty() {
            // Every indicator with a figure at some point, in the catalog's order.
            self.state
                .catalog
                .indicators()
                .iter()
                .filter(|i| {
                    snapshots
                        .iter()
                        .any(|(_, s)| self.measure(s, i, locality).is_some())
                })
                .collect()
        } else {
            asked
        };
        Ok(StatusTrend {
            locality: Some(self.locality_to_proto(locality)),
            indicators: indicators
                .into_iter()
                .map(|indicator| IndicatorTrend {
                    indicator_code: indicator.code.clone(),
                    points: snapshots
                        .iter()
                        .map(|(date, s)| self.point(s, *date, indicator, locality))
                        .collect(),
                })
                .collect(),
        })
    }

    fn point(
        &self,
        snapshot: &Snapshot,
        date: NaiveDate,
        indicator: &Indicator,
        locality: &Locality,
    ) -> TrendPoint {
        let p = self.progress(snapshot, None, indicator, locality);
        TrendPoint {
            as_of: Some(date_to_proto(date)),
            value: p.value,
            target: p.target,
            percent_of_target: p.percent_of_target,
            percent_of_denominator: p.percent_of_denominator,
            carried_from_edition: super::carried::CarriedFrom::edition_year(
                snapshot.carried.as_deref(),
            ),
            split_units: p.split_units,
            uncarried_units: p.uncarried_units,
        }
    }
}
