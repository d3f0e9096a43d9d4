//! Figures as known at an instant: what the task force saw at a meeting, reproduced after later
//! amendments and backfills.
//!
//! Rules (issue 24):
//! - of every report series (agency, obligation, province, period) only the newest revision
//!   **received at or before** the instant counts; a series with none received by then does not
//!   exist yet (an AMEND revision stores the figures it carried, so each revision is whole);
//! - from those revisions the ordinary rules apply: a stock's figure as of a date is the figure of
//!   the latest period ending on or before it; a flow's is the sum of the periods inside
//!   `[from, date]`.

use std::collections::HashMap;
use std::hash::Hash;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::report::IndicatorKind;

/// A stored revision of a series, as far as choosing goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision<K> {
    pub series: K,
    pub revision: i32,
    pub received_at: DateTime<Utc>,
    pub id: i64,
}

/// The revision of each series known at `known_at` (the newest received at or before it), by
/// series; series with nothing received by then are absent.
pub fn known_revisions<K: Eq + Hash + Clone>(
    revisions: &[Revision<K>],
    known_at: DateTime<Utc>,
) -> HashMap<K, i64> {
    let mut best: HashMap<K, (i32, i64)> = HashMap::new();
    for r in revisions.iter().filter(|r| r.received_at <= known_at) {
        let entry = best.entry(r.series.clone()).or_insert((r.revision, r.id));
        if r.revision > entry.0 {
            *entry = (r.revision, r.id);
        }
    }
    best.into_iter().map(|(k, (_, id))| (k, id)).collect()
}

/// One figure of a known revision for one (indicator, locality).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeriodFigure {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub value: f64,
    pub report_id: i64,
}

/// A locality's own figure of one indicator as of a date, from known period figures.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnAsOf {
    pub value: f64,
    /// End of the (last) period it comes from.
    pub as_of: NaiveDate,
    /// The reports it comes from.
    pub reports: Vec<i64>,
}

/// The figure in force on `date` (stock) or summed over `[from, date]` (flow) from the period
/// figures of one (indicator, locality); `None` when there is none.
pub fn own_as_of(
    kind: IndicatorKind,
    periods: &[PeriodFigure],
    date: NaiveDate,
    from: NaiveDate,
) -> Option<OwnAsOf> {
    match kind {
        IndicatorKind::Stock => periods
            .iter()
            .filter(|p| p.end <= date)
            .max_by_key(|p| p.end)
            .map(|p| OwnAsOf {
                value: p.value,
                as_of: p.end,
                reports: vec![p.report_id],
            }),
        IndicatorKind::Flow => {
            let summed: Vec<&PeriodFigure> = periods
                .iter()
                .filter(|p| p.start >= from && p.end <= date)
                .collect();
            let last = summed.iter().map(|p| p.end).max()?;
            let mut reports: Vec<i64> = summed.iter().map(|p| p.report_id).collect();
            reports.sort_unstable();
            reports.dedup();
            Some(OwnAsOf {
                value: summed.iter().map(|p| p.value).sum(),
                as_of: last,
                reports,
            })
        }
    }
}

/// Reads an instant as people write it: a local time in `zone` (`2025-03-21 17:00`,
/// `2025-03-21T17:00:30`; the earlier of two readings at a clock change) or an RFC 3339 instant
/// with its offset (`2025-03-21T10:00:00Z`).
pub fn parse_instant(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())?;
    zone.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 21, h, 0, 0).unwrap()
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).unwrap()
    }

    #[test]
    fn instants_read_in_the_province_time_zone() {
        let zone = chrono_tz::Asia::Ho_Chi_Minh;
        assert_eq!(parse_instant("2025-03-21 17:00", zone), Some(at(10)));
        assert_eq!(parse_instant("2025-03-21T17:00:00", zone), Some(at(10)));
        assert_eq!(parse_instant("2025-03-21T10:00:00Z", zone), Some(at(10)));
        assert_eq!(parse_instant("21/03/2025 17:00", zone), None);
    }

    #[test]
    fn the_newest_revision_received_by_the_instant_counts() {
        let revisions = vec![
            Revision {
                series: "a",
                revision: 1,
                received_at: at(8),
                id: 1,
            },
            Revision {
                series: "a",
                revision: 2,
                received_at: at(10),
                id: 2,
            },
            Revision {
                series: "a",
                revision: 3,
                received_at: at(12),
                id: 3,
            },
            Revision {
                series: "b",
                revision: 1,
                received_at: at(11),
                id: 4,
            },
        ];
        let known = known_revisions(&revisions, at(10));
        assert_eq!(
            known.get("a"),
            Some(&2),
            "received exactly at the instant counts"
        );
        assert_eq!(
            known.get("b"),
            None,
            "a backfill received later does not exist yet"
        );
        let now = known_revisions(&revisions, at(23));
        assert_eq!((now["a"], now["b"]), (3, 4));
    }

    #[test]
    fn stocks_take_the_latest_period_flows_sum_theirs() {
        let periods = [
            PeriodFigure {
                start: d(3, 3),
                end: d(3, 9),
                value: 10.0,
                report_id: 1,
            },
            PeriodFigure {
                start: d(3, 10),
                end: d(3, 16),
                value: 15.0,
                report_id: 2,
            },
            PeriodFigure {
                start: d(2, 24),
                end: d(3, 2),
                value: 4.0,
                report_id: 3,
            },
        ];
        let stock = own_as_of(IndicatorKind::Stock, &periods, d(3, 12), d(1, 1)).unwrap();
        assert_eq!(
            (stock.value, stock.as_of, stock.reports),
            (10.0, d(3, 9), vec![1])
        );
        let flow = own_as_of(IndicatorKind::Flow, &periods, d(3, 16), d(3, 1)).unwrap();
        assert_eq!((flow.value, flow.as_of), (25.0, d(3, 16)));
        assert_eq!(flow.reports, vec![1, 2]);
        assert_eq!(
            own_as_of(IndicatorKind::Stock, &periods, d(2, 1), d(1, 1)),
            None
        );
        assert_eq!(
            own_as_of(IndicatorKind::Flow, &periods, d(3, 5), d(3, 1)),
            None
        );
    }
}
