//! Pace to target in the task-force views: the figures of the weeks before the as-of date, read
//! as snapshots (live or as known at an instant), turned into the reported series the domain's
//! rules judge (`p06_domain::pace`).

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use p06_domain::locality::Locality;
use p06_domain::pace::{self, PaceInput, PaceStatus, Reported};
use p06_domain::report::{Indicator, IndicatorKind};
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::{self as pb};

use super::known::flow_start;
use super::{Snapshot, TaskForceApi};
use crate::error::Error;

/// Due dates of targets by (indicator, locality).
pub(super) type Dues = HashMap<(String, i64), NaiveDate>;

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

/// What one sample of a locality's figure says.
#[derive(Clone, Copy, PartialEq)]
struct Sample {
    value: f64,
    as_of: Option<NaiveDate>,
    units: i64,
    reports: usize,
}

impl TaskForceApi {
    /// The pace of `locality` for `indicator` from `snapshots` as of [`dates`]`(as_of, weeks)`
    /// (newest first); `None` without a target and its due date.
    pub(super) fn pace(
        &self,
        snapshots: &[Snapshot],
        dues: &Dues,
        indicator: &Indicator,
        locality: &Locality,
        flow_from: Option<NaiveDate>,
        weeks: u32,
    ) -> Option<pb::Pace> {
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
