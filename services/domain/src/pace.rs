//! Pace to target: will a locality reach its target by the due date at its recent pace?
//!
//! Rules (issue 24):
//! - the **recent pace** is measured over the last `weeks` reported weeks (default 4) before the
//!   latest reported figure, each kind of indicator by its own rule:
//!   - a **stock** is a level as of a date: the pace is the change of the level between the
//!     oldest and the newest figure of the window (figures dated at most `weeks` weeks before the
//!     newest), divided by the weeks between their dates;
//!   - a **flow** is a count within a period: the pace is the sum of the counts of the periods
//!     ending in the window (the `weeks` weeks up to the newest period's end), divided by the
//!     weeks those periods span;
//! - the **pace needed** is what is still missing of the target divided by the weeks from the
//!   as-of date to the due date;
//! - the **projected date** is the as-of date plus the weeks the missing part takes at the recent
//!   pace (none when the pace is not positive);
//! - the status: `MET` when the progress is at or above the target; otherwise `NO_TREND` with
//!   fewer than two reported figures in the window; `ON_TRACK` when projected on or before the
//!   due date; `AT_RISK` when within [`AT_RISK_DAYS`] after it; `OFF_TRACK` otherwise (also when
//!   the pace is not positive, or the due date has passed).
//!
//! Example: 1,200 of a 2,000 target due in 5 weeks, gaining 100 a week: needs 160 a week and
//! reaches the target in 8 weeks, 3 weeks late: `AT_RISK`.

use chrono::{Duration, NaiveDate};

use crate::report::IndicatorKind;

/// The default window of the recent pace, in reported weeks.
pub const DEFAULT_WEEKS: u32 = 4;
/// At most this many reported weeks make a window.
pub const MAX_WEEKS: u32 = 26;
/// A projection at most this many days after the due date is `AT_RISK`, later `OFF_TRACK`.
pub const AT_RISK_DAYS: i64 = 28;

/// Where a locality stands against its target's due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaceStatus {
    /// At or above the target.
    Met,
    /// Projected to reach it on or before the due date.
    OnTrack,
    /// Projected to reach it within four weeks after the due date.
    AtRisk,
    /// Projected later than that, or not at all (no growth, or the due date has passed).
    OffTrack,
    /// Fewer than two reported figures in the window: no pace to judge.
    NoTrend,
}

impl PaceStatus {
    pub const ALL: [PaceStatus; 5] = [
        PaceStatus::Met,
        PaceStatus::OnTrack,
        PaceStatus::AtRisk,
        PaceStatus::OffTrack,
        PaceStatus::NoTrend,
    ];

    /// The stable code (`MET`, `ON_TRACK`, `AT_RISK`, `OFF_TRACK`, `NO_TREND`).
    pub fn code(self) -> &'static str {
        match self {
            PaceStatus::Met => "MET",
            PaceStatus::OnTrack => "ON_TRACK",
            PaceStatus::AtRisk => "AT_RISK",
            PaceStatus::OffTrack => "OFF_TRACK",
            PaceStatus::NoTrend => "NO_TREND",
        }
    }

    /// Parses a code, case-insensitively, with `-` or `_` (`off-track`, `OFF_TRACK`).
    pub fn parse(text: &str) -> Option<PaceStatus> {
        let norm = text.trim().to_ascii_uppercase().replace('-', "_");
        PaceStatus::ALL.into_iter().find(|s| s.code() == norm)
    }
}

/// One reported figure of a locality's series: for a stock the level as of `end`, for a flow the
/// count of the period `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reported {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub value: f64,
}

/// What the pace of one locality and indicator is judged from.
#[derive(Debug, Clone)]
pub struct PaceInput<'a> {
    pub kind: IndicatorKind,
    /// The reported figures, one per period, in any order (periods ending after `as_of` are
    /// ignored).
    pub reported: &'a [Reported],
    /// Progress toward the target as of `as_of`: a stock's level, a flow's sum since the start of
    /// its counting period.
    pub current: f64,
    pub target: f64,
    pub due: NaiveDate,
    pub as_of: NaiveDate,
    /// The window in reported weeks (0 = [`DEFAULT_WEEKS`]).
    pub weeks: u32,
}

/// The pace of one locality and indicator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub status: PaceStatus,
    /// Per week over the window; `None` with fewer than two reported figures.
    pub recent_per_week: Option<f64>,
    /// Per week from the as-of date to the due date; `None` when met or when the due date is not
    /// after the as-of date.
    pub needed_per_week: Option<f64>,
    /// When the target is reached at the recent pace; `None` when met or when the pace is not
    /// positive.
    pub projected: Option<NaiveDate>,
    /// Reported figures the recent pace is measured over.
    pub reports_used: usize,
}

/// The recent pace per week of a series and how many figures it uses; `None` with fewer than two.
pub fn recent_pace(kind: IndicatorKind, reported: &[Reported], weeks: u32) -> (Option<f64>, usize) {
    let weeks = match weeks {
        0 => DEFAULT_WEEKS,
        w => w.min(MAX_WEEKS),
    };
    let mut sorted: Vec<Reported> = reported.to_vec();
    sorted.sort_by_key(|r| r.end);
    sorted.dedup_by_key(|r| r.end);
    let Some(last) = sorted.last().copied() else {
        return (None, 0);
    };
    let window_start = last.end - Duration::days(7 * i64::from(weeks));
    match kind {
        IndicatorKind::Stock => {
            let used: Vec<&Reported> = sorted.iter().filter(|r| r.end >= window_start).collect();
            let first = used[0];
            let days = (last.end - first.end).num_days();
            if used.len() < 2 || days <= 0 {
                return (None, used.len());
            }
            let per_week = (last.value - first.value) * 7.0 / days as f64;
            (Some(per_week), used.len())
        }
        IndicatorKind::Flow => {
            let used: Vec<&Reported> = sorted.iter().filter(|r| r.end > window_start).collect();
            let start = used.iter().map(|r| r.start).min().unwrap_or(last.start);
            let days = (last.end - start).num_days() + 1;
            if used.len() < 2 || days <= 0 {
                return (None, used.len());
            }
            let sum: f64 = used.iter().map(|r| r.value).sum();
            (Some(sum * 7.0 / days as f64), used.len())
        }
    }
}

/// Judges the pace of one locality and indicator (see the module's rules).
pub fn assess(input: &PaceInput<'_>) -> Pace {
    let reported: Vec<Reported> = input
        .reported
        .iter()
        .filter(|r| r.end <= input.as_of)
        .copied()
        .collect();
    let (recent, used) = recent_pace(input.kind, &reported, input.weeks);
    let missing = input.target - input.current;
    if missing <= 0.0 {
        return Pace {
            status: PaceStatus::Met,
            recent_per_week: recent,
            needed_per_week: None,
            projected: None,
            reports_used: used,
        };
    }
    let days_left = (input.due - input.as_of).num_days();
    let needed = (days_left > 0).then(|| missing * 7.0 / days_left as f64);
    let projected = recent.filter(|p| *p > 0.0).and_then(|p| {
        let days = (missing / p * 7.0).ceil();
        // Beyond any useful horizon (a pace of almost nothing) there is no date to show.
        (days < 365.0 * 100.0).then(|| input.as_of + Duration::days(days as i64))
    });
    let status = match (recent, projected) {
        (None, _) => PaceStatus::NoTrend,
        (Some(_), None) => PaceStatus::OffTrack,
        (Some(_), Some(date)) if date <= input.due => PaceStatus::OnTrack,
        (Some(_), Some(date)) if (date - input.due).num_days() <= AT_RISK_DAYS => {
            PaceStatus::AtRisk
        }
        _ => PaceStatus::OffTrack,
    };
    Pace {
        status,
        recent_per_week: recent,
        needed_per_week: needed,
        projected,
        reports_used: used,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Weekly levels (stock) ending on the Sundays before `as_of` (2025-03-23 is a Sunday).
    fn weekly(values: &[f64]) -> Vec<Reported> {
        let last = d(2025, 3, 23);
        let n = values.len() as i64;
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let end = last - Duration::days(7 * (n - 1 - i as i64));
                Reported {
                    start: end - Duration::days(6),
                    end,
                    value: *v,
                }
            })
            .collect()
    }

    fn input<'a>(
        kind: IndicatorKind,
        reported: &'a [Reported],
        current: f64,
        target: f64,
    ) -> PaceInput<'a> {
        PaceInput {
            kind,
            reported,
            current,
            target,
            due: d(2025, 3, 23) + Duration::weeks(5),
            as_of: d(2025, 3, 23),
            weeks: 0,
        }
    }

    #[test]
    fn the_issue_example_is_at_risk() {
        // 1,200 of 2,000 due in 5 weeks, +100 a week over the last 4 weeks.
        let reported = weekly(&[800.0, 900.0, 1000.0, 1100.0, 1200.0]);
        let pace = assess(&input(IndicatorKind::Stock, &reported, 1200.0, 2000.0));
        assert_eq!(pace.status, PaceStatus::AtRisk);
        assert_eq!(pace.recent_per_week, Some(100.0));
        assert_eq!(pace.needed_per_week, Some(160.0));
        // 800 missing at 100 a week: 8 weeks, 3 after the due date.
        assert_eq!(pace.projected, Some(d(2025, 3, 23) + Duration::weeks(8)));
        assert_eq!(pace.reports_used, 5);
    }

    #[test]
    fn met_on_track_off_track_and_no_trend() {
        let growing = weekly(&[1000.0, 1200.0, 1400.0, 1600.0, 1800.0]);
        let met = assess(&input(IndicatorKind::Stock, &growing, 2000.0, 2000.0));
        assert_eq!(met.status, PaceStatus::Met);
        assert_eq!(met.projected, None);
        let on_track = assess(&input(IndicatorKind::Stock, &growing, 1800.0, 2000.0));
        assert_eq!(on_track.status, PaceStatus::OnTrack);
        assert_eq!(on_track.recent_per_week, Some(200.0));
        assert_eq!(on_track.projected, Some(d(2025, 3, 30)));
        // 10 a week for 790 more: 79 weeks, far past the due date.
        let slow = weekly(&[1170.0, 1180.0, 1190.0, 1200.0, 1210.0]);
        let off = assess(&input(IndicatorKind::Stock, &slow, 1210.0, 2000.0));
        assert_eq!(off.status, PaceStatus::OffTrack);
        // Flat or falling: no projection at all.
        let flat = weekly(&[1200.0, 1200.0]);
        let flat = assess(&input(IndicatorKind::Stock, &flat, 1200.0, 2000.0));
        assert_eq!((flat.status, flat.projected), (PaceStatus::OffTrack, None));
        let one = weekly(&[1200.0]);
        let none = assess(&input(IndicatorKind::Stock, &one, 1200.0, 2000.0));
        assert_eq!(none.status, PaceStatus::NoTrend);
        assert_eq!(none.recent_per_week, None);
        assert_eq!(none.needed_per_week, Some(160.0));
        // A due date already past: needs the impossible, off track.
        let mut late = input(IndicatorKind::Stock, &growing, 1800.0, 2000.0);
        late.due = d(2025, 3, 1);
        let late = assess(&late);
        assert_eq!(late.status, PaceStatus::OffTrack);
        assert_eq!(late.needed_per_week, None);
    }

    #[test]
    fn a_stock_window_is_four_weeks_before_the_newest_figure() {
        // Older growth (+1,000 a week) is outside the window; the last 4 weeks gained 50 a week.
        let reported = weekly(&[0.0, 1000.0, 1800.0, 1850.0, 1900.0, 1950.0, 2000.0 - 100.0]);
        let (pace, used) = recent_pace(IndicatorKind::Stock, &reported, 0);
        assert_eq!(used, 5);
        assert_eq!(pace, Some((1900.0 - 1800.0) / 4.0));
        // A gap: two figures three weeks apart are a pace over three weeks.
        let gap = [reported[3], reported[6]];
        assert_eq!(
            recent_pace(IndicatorKind::Stock, &gap, 0),
            (Some((1900.0 - 1850.0) / 3.0), 2)
        );
        // Figures dated after the as-of date do not count.
        let mut future = reported.clone();
        future.push(Reported {
            start: d(2025, 3, 24),
            end: d(2025, 3, 30),
            value: 99_999.0,
        });
        let pace = assess(&input(IndicatorKind::Stock, &future, 1900.0, 2000.0));
        assert_eq!(pace.recent_per_week, Some(25.0));
    }

    #[test]
    fn a_flow_sums_its_last_four_periods() {
        // Counts per week: the last four are 90, 110, 100, 100 → 100 a week; the oldest (500) is
        // outside the window.
        let reported = weekly(&[500.0, 90.0, 110.0, 100.0, 100.0]);
        let (pace, used) = recent_pace(IndicatorKind::Flow, &reported, 0);
        assert_eq!((pace, used), (Some(100.0), 4));
        // Progress of a flow is its sum: 1,200 of 2,000 at 100 a week, due in 5 weeks: AT_RISK,
        // as for a stock growing by 100 a week.
        let pace = assess(&input(IndicatorKind::Flow, &reported, 1200.0, 2000.0));
        assert_eq!(pace.status, PaceStatus::AtRisk);
        assert_eq!(pace.needed_per_week, Some(160.0));
        // The same numbers read as a stock's levels would fall: no projection.
        let as_stock = assess(&input(IndicatorKind::Stock, &reported, 1200.0, 2000.0));
        assert_eq!(as_stock.status, PaceStatus::OffTrack);
        // One reported period: no trend, whatever its count.
        let one = weekly(&[300.0]);
        assert_eq!(
            assess(&input(IndicatorKind::Flow, &one, 1200.0, 2000.0)).status,
            PaceStatus::NoTrend
        );
        // A monthly flow: two periods of 31 and 28 days, 620 and 560 → 140 a week.
        let monthly = [
            Reported {
                start: d(2025, 1, 1),
                end: d(2025, 1, 31),
                value: 620.0,
            },
            Reported {
                start: d(2025, 2, 1),
                end: d(2025, 2, 28),
                value: 560.0,
            },
        ];
        let (pace, used) = recent_pace(IndicatorKind::Flow, &monthly, 0);
        assert_eq!(used, 1, "the window is 4 weeks: only February ends in it");
        assert_eq!(pace, None);
        let (pace, used) = recent_pace(IndicatorKind::Flow, &monthly, 9);
        assert_eq!(used, 2);
        assert!((pace.unwrap() - 1180.0 * 7.0 / 59.0).abs() < 1e-9);
    }

    #[test]
    fn status_codes_parse_both_spellings() {
        assert_eq!(PaceStatus::parse("off-track"), Some(PaceStatus::OffTrack));
        assert_eq!(PaceStatus::parse("AT_RISK"), Some(PaceStatus::AtRisk));
        assert_eq!(PaceStatus::parse("later"), None);
        for s in PaceStatus::ALL {
            assert_eq!(PaceStatus::parse(s.code()), Some(s));
        }
    }
}
