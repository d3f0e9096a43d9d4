//! Cadences and their periods.
//!
//! Every period is an inclusive range of local calendar dates ([`Period`]). Periods of one cadence
//! never overlap; apart from a campaign's, they tile the calendar without gaps.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::ScheduleError;

/// A reporting period: both ends inclusive, local calendar dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Period {
    pub start: NaiveDate,
    /// The period's last day, its cut-off: deadlines count from it.
    pub end: NaiveDate,
}

impl Period {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Self {
        Period { start, end }
    }

    /// A period from caller data: refused when it ends before it starts.
    pub fn try_new(start: NaiveDate, end: NaiveDate) -> Result<Self, ScheduleError> {
        let period = Period { start, end };
        if end < start {
            return Err(ScheduleError::PeriodReversed(period));
        }
        Ok(period)
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }

    /// Whether the period shares at least one day with `[from, to]`.
    pub fn overlaps(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.start <= to && from <= self.end
    }

    /// Number of days, both ends counted (a day is 1).
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }

    /// Whether the period has begun on local date `today` (its first day counts as begun).
    pub fn has_started(&self, today: NaiveDate) -> bool {
        self.start <= today
    }

    /// Refuses a period that has not started on local date `today`: nobody can report on it yet.
    pub fn check_started(&self, today: NaiveDate) -> Result<(), ScheduleError> {
        if self.has_started(today) {
            Ok(())
        } else {
            Err(ScheduleError::NotStarted {
                period: *self,
                today,
            })
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// How often an obligation's reports fall due. Configured as a tagged table, e.g.
/// `{ kind = "daily" }`, `{ kind = "weekly", first_weekday = "sun" }`,
/// `{ kind = "monthly", cutoff_day = 15 }`, `{ kind = "quarterly" }`,
/// `{ kind = "campaign", periods = [{ start = "2025-03-17", end = "2025-03-23" }] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cadence {
    /// One period per calendar day.
    Daily,
    /// Seven-day periods starting on `first_weekday` ("mon" by default; "sun" is also common).
    Weekly {
        #[serde(default = "monday")]
        first_weekday: Weekday,
    },
    /// Monthly periods starting on day `cutoff_day` (1–28) and ending the day before the next
    /// month's `cutoff_day`. 1 gives calendar months; 15 gives the government regime's "15th of the
    /// previous month to the 14th". A period is **labelled by the month of its last day**: with
    /// cut-off 15 the March 2025 period is 15 Feb – 14 Mar 2025 and the January 2025 period is
    /// 15 Dec 2024 – 14 Jan 2025 (see [`Cadence::month_period`] and [`Cadence::label`]).
    Monthly {
        #[serde(default = "first")]
        cutoff_day: u32,
    },
    /// Calendar quarters (1 Jan – 31 Mar, …).
    Quarterly,
    /// Explicit periods, e.g. a "peak week" campaign; dates outside them have no period.
    Campaign { periods: Vec<Period> },
}

fn monday() -> Weekday {
    Weekday::Mon
}

fn first() -> u32 {
    1
}

/// Adds months to the first-of-month date `(year, month)`.
fn month_shift(year: i32, month: u32, by: i32) -> (i32, u32) {
    let index = year * 12 + month as i32 - 1 + by;
    (index.div_euclid(12), index.rem_euclid(12) as u32 + 1)
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("day 1–28 exists in every month")
}

impl Cadence {
    /// Checks the parameters: cut-off day 1–28; a campaign has periods, none reversed, none
    /// overlapping another.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        match self {
            Cadence::Monthly { cutoff_day } if !(1..=28).contains(cutoff_day) => {
                Err(ScheduleError::CutoffDayOutOfRange(*cutoff_day))
            }
            Cadence::Campaign { periods } if periods.is_empty() => {
                Err(ScheduleError::EmptyCampaign)
            }
            Cadence::Campaign { periods } => {
                let mut sorted = periods.clone();
                sorted.sort();
                if let Some(p) = sorted.iter().find(|p| p.end < p.start) {
                    return Err(ScheduleError::PeriodReversed(*p));
                }
                for pair in sorted.windows(2) {
                    if pair[1].start <= pair[0].end {
                        return Err(ScheduleError::CampaignPeriodsOverlap(pair[0], pair[1]));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// [`Cadence::validate`] with the error as text (for field violations).
    pub fn check(&self) -> Result<(), String> {
        self.validate().map_err(|e| e.to_string())
    }

    /// The period containing `date`, if the cadence has one there.
    pub fn period_containing(&self, date: NaiveDate) -> Option<Period> {
        match self {
            Cadence::Daily => Some(Period::new(date, date)),
            Cadence::Weekly { first_weekday } => {
                let back = (7 + date.weekday().num_days_from_monday() as i64
                    - first_weekday.num_days_from_monday() as i64)
                    % 7;
                let start = date - Duration::days(back);
                Some(Period::new(start, start + Duration::days(6)))
            }
            Cadence::Monthly { cutoff_day } => {
                let c = (*cutoff_day).clamp(1, 28);
                let (y, m) = if date.day() >= c {
                    (date.year(), date.month())
                } else {
                    month_shift(date.year(), date.month(), -1)
                };
                let start = ymd(y, m, c);
                let (ny, nm) = month_shift(y, m, 1);
                let end = ymd(ny, nm, c) - Duration::days(1);
                Some(Period::new(start, end))
            }
            Cadence::Quarterly => {
                let first_month = (date.month0() / 3) * 3 + 1;
                let start = ymd(date.year(), first_month, 1);
                let (ny, nm) = month_shift(date.year(), first_month, 3);
                Some(Period::new(start, ymd(ny, nm, 1) - Duration::days(1)))
            }
            Cadence::Campaign { periods } => periods.iter().copied().find(|p| p.contains(date)),
        }
    }

    /// Whether `period` is exactly one of the cadence's periods.
    pub fn is_period(&self, period: Period) -> bool {
        self.period_containing(period.start) == Some(period)
    }

    /// Matches a submitted period to the cadence: `Ok` when it is exactly one of its periods,
    /// otherwise an error naming the period that contains its start (a hint for the reporter).
    pub fn match_period(&self, period: Period) -> Result<Period, ScheduleError> {
        if period.end < period.start {
            return Err(ScheduleError::PeriodReversed(period));
        }
        let containing = self.period_containing(period.start);
        if containing == Some(period) {
            Ok(period)
        } else {
            Err(ScheduleError::NotAPeriod { period, containing })
        }
    }

    /// The monthly period labelled `(year, month)`, i.e. the one whose last day lies in that month;
    /// `None` for other cadences or an invalid month. Cut-off 15, March 2025: 15 Feb – 14 Mar 2025.
    pub fn month_period(&self, year: i32, month: u32) -> Option<Period> {
        let Cadence::Monthly { cutoff_day } = self else {
            return None;
        };
        if !(1..=12).contains(&month) {
            return None;
        }
        let last_day = if *cutoff_day <= 1 {
            // Calendar month: the last day is the day before the 1st of the next month.
            let (ny, nm) = month_shift(year, month, 1);
            NaiveDate::from_ymd_opt(ny, nm, 1)? - Duration::days(1)
        } else {
            NaiveDate::from_ymd_opt(year, month, (*cutoff_day).min(28) - 1)?
        };
        self.period_containing(last_day)
    }

    /// A short, stable label of one of the cadence's periods:
    /// daily `2025-03-16`; weekly from Monday the ISO week `2025-W11`, weekly from another weekday
    /// and campaign `2025-03-16..2025-03-22`; monthly the month of the **last day**, `2025-03`
    /// (so with cut-off 15, 15 Feb – 14 Mar 2025 is `2025-03`); quarterly `2025-Q1`.
    pub fn label(&self, period: &Period) -> String {
        match self {
            Cadence::Daily => period.start.to_string(),
            Cadence::Weekly {
                first_weekday: Weekday::Mon,
            } => {
                let week = period.start.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            Cadence::Weekly { .. } | Cadence::Campaign { .. } => period.to_string(),
            Cadence::Monthly { .. } => format!("{}-{:02}", period.end.year(), period.end.month()),
            Cadence::Quarterly => format!("{}-Q{}", period.end.year(), period.end.month0() / 3 + 1),
        }
    }

    /// The periods sharing at least one day with `[from, to]`, oldest first, lazily (a daily
    /// cadence over a long range yields many). Empty when `to < from`.
    pub fn periods_overlapping(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Iterator<Item = Period> + '_ {
        let mut campaign: Vec<Period> = match self {
            Cadence::Campaign { periods } => periods
                .iter()
                .copied()
                .filter(|p| p.overlaps(from, to))
                .collect(),
            _ => Vec::new(),
        };
        campaign.sort();
        let mut campaign = campaign.into_iter();
        let mut cursor = Some(from).filter(|f| *f <= to);
        std::iter::from_fn(move || {
            if matches!(self, Cadence::Campaign { .. }) {
                return campaign.next();
            }
            let period = self.period_containing(cursor?)?;
            cursor = period.end.succ_opt().filter(|next| *next <= to);
            Some(period)
        })
    }

    /// The periods whose last day lies in `[from, to]`, oldest first: the periods whose deadlines
    /// (which count from the last day) can have passed between two sweeps.
    pub fn periods_ending_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<Period> {
        self.periods_overlapping(from, to)
            .filter(|p| from <= p.end && p.end <= to)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn p(a: &str, b: &str) -> Period {
        Period::new(d(a), d(b))
    }

    #[test]
    fn weeks_start_on_the_chosen_weekday_and_cross_years() {
        let monday = Cadence::Weekly {
            first_weekday: Weekday::Mon,
        };
        assert_eq!(
            monday.period_containing(d("2025-03-16")),
            Some(p("2025-03-10", "2025-03-16"))
        );
        assert_eq!(
            monday.period_containing(d("2025-01-01")),
            Some(p("2024-12-30", "2025-01-05"))
        );
        let sunday = Cadence::Weekly {
            first_weekday: Weekday::Sun,
        };
        assert_eq!(
            sunday.period_containing(d("2025-03-16")),
            Some(p("2025-03-16", "2025-03-22"))
        );
        assert!(monday.is_period(p("2025-03-10", "2025-03-16")));
        assert!(!monday.is_period(p("2025-03-11", "2025-03-17")));
    }

    #[test]
    fn calendar_months_end_on_the_right_day() {
        let monthly = Cadence::Monthly { cutoff_day: 1 };
        assert_eq!(
            monthly.period_containing(d("2024-02-10")),
            Some(p("2024-02-01", "2024-02-29"))
        );
        assert_eq!(
            monthly.period_containing(d("2025-02-28")),
            Some(p("2025-02-01", "2025-02-28"))
        );
        assert_eq!(
            monthly.period_containing(d("2025-01-31")),
            Some(p("2025-01-01", "2025-01-31"))
        );
        assert_eq!(
            monthly.period_containing(d("2025-12-31")),
            Some(p("2025-12-01", "2025-12-31"))
        );
    }

    #[test]
    fn the_15th_to_14th_regime_spans_month_and_year_boundaries() {
        let regime = Cadence::Monthly { cutoff_day: 15 };
        assert_eq!(
            regime.period_containing(d("2025-03-14")),
            Some(p("2025-02-15", "2025-03-14"))
        );
        assert_eq!(
            regime.period_containing(d("2025-03-15")),
            Some(p("2025-03-15", "2025-04-14"))
        );
        assert_eq!(
            regime.period_containing(d("2025-01-03")),
            Some(p("2024-12-15", "2025-01-14"))
        );
        assert_eq!(
            regime.period_containing(d("2024-02-20")),
            Some(p("2024-02-15", "2024-03-14"))
        );
    }

    #[test]
    fn quarters_and_days() {
        assert_eq!(
            Cadence::Quarterly.period_containing(d("2025-11-24")),
            Some(p("2025-10-01", "2025-12-31"))
        );
        assert_eq!(
            Cadence::Quarterly.period_containing(d("2025-02-01")),
            Some(p("2025-01-01", "2025-03-31"))
        );
        assert_eq!(
            Cadence::Daily.period_containing(d("2025-02-01")),
            Some(p("2025-02-01", "2025-02-01"))
        );
    }

    #[test]
    fn campaign_weeks_are_explicit() {
        let peak = Cadence::Campaign {
            periods: vec![p("2025-03-17", "2025-03-23"), p("2025-03-24", "2025-03-30")],
        };
        assert!(peak.check().is_ok());
        assert_eq!(
            peak.period_containing(d("2025-03-20")),
            Some(p("2025-03-17", "2025-03-23"))
        );
        assert_eq!(peak.period_containing(d("2025-04-01")), None);
        let overlapping = Cadence::Campaign {
            periods: vec![p("2025-03-17", "2025-03-23"), p("2025-03-23", "2025-03-30")],
        };
        assert!(overlapping.check().is_err());
    }

    #[test]
    fn periods_ending_in_a_range() {
        let monday = Cadence::Weekly {
            first_weekday: Weekday::Mon,
        };
        assert_eq!(
            monday.periods_ending_between(d("2025-03-10"), d("2025-03-24")),
            vec![p("2025-03-10", "2025-03-16"), p("2025-03-17", "2025-03-23")]
        );
        let regime = Cadence::Monthly { cutoff_day: 15 };
        assert_eq!(
            regime.periods_ending_between(d("2025-03-01"), d("2025-04-30")),
            vec![p("2025-02-15", "2025-03-14"), p("2025-03-15", "2025-04-14")]
        );
    }

    #[test]
    fn monthly_periods_are_labelled_by_the_month_of_their_last_day() {
        let regime = Cadence::Monthly { cutoff_day: 15 };
        let march = p("2025-02-15", "2025-03-14");
        assert_eq!(regime.label(&march), "2025-03");
        assert_eq!(regime.month_period(2025, 3), Some(march));
        let january = p("2024-12-15", "2025-01-14");
        assert_eq!(regime.label(&january), "2025-01");
        assert_eq!(regime.month_period(2025, 1), Some(january));
        // Leap February makes the March 2024 regime period one day longer.
        assert_eq!(regime.month_period(2024, 3).unwrap().days(), 29);
        assert_eq!(regime.month_period(2025, 3).unwrap().days(), 28);

        let calendar = Cadence::Monthly { cutoff_day: 1 };
        assert_eq!(
            calendar.month_period(2024, 2),
            Some(p("2024-02-01", "2024-02-29"))
        );
        assert_eq!(
            calendar.month_period(2025, 12),
            Some(p("2025-12-01", "2025-12-31"))
        );
        assert_eq!(calendar.label(&p("2025-12-01", "2025-12-31")), "2025-12");
        assert_eq!(calendar.month_period(2025, 13), None);
        assert_eq!(regime.month_period(2025, 0), None);
        assert_eq!(Cadence::Quarterly.month_period(2025, 3), None);
    }

    #[test]
    fn labels_of_the_other_cadences() {
        let monday = Cadence::Weekly {
            first_weekday: Weekday::Mon,
        };
        assert_eq!(monday.label(&p("2025-03-10", "2025-03-16")), "2025-W11");
        // The week holding 1 Jan 2026 (a Thursday) is ISO week 1 of 2026.
        assert_eq!(monday.label(&p("2025-12-29", "2026-01-04")), "2026-W01");
        let sunday = Cadence::Weekly {
            first_weekday: Weekday::Sun,
        };
        assert_eq!(
            sunday.label(&p("2025-03-16", "2025-03-22")),
            "2025-03-16..2025-03-22"
        );
        assert_eq!(
            Cadence::Daily.label(&p("2024-02-29", "2024-02-29")),
            "2024-02-29"
        );
        assert_eq!(
            Cadence::Quarterly.label(&p("2025-10-01", "2025-12-31")),
            "2025-Q4"
        );
    }

    #[test]
    fn year_boundaries() {
        let monday = Cadence::Weekly {
            first_weekday: Weekday::Mon,
        };
        assert_eq!(
            monday.period_containing(d("2025-12-31")),
            Some(p("2025-12-29", "2026-01-04"))
        );
        let sunday = Cadence::Weekly {
            first_weekday: Weekday::Sun,
        };
        assert_eq!(
            sunday.period_containing(d("2025-12-31")),
            Some(p("2025-12-28", "2026-01-03"))
        );
        assert_eq!(
            Cadence::Quarterly.period_containing(d("2025-12-31")),
            Some(p("2025-10-01", "2025-12-31"))
        );
        assert_eq!(
            Cadence::Quarterly.period_containing(d("2026-01-01")),
            Some(p("2026-01-01", "2026-03-31"))
        );
        let calendar = Cadence::Monthly { cutoff_day: 1 };
        assert_eq!(
            calendar
                .periods_overlapping(d("2024-12-31"), d("2025-01-01"))
                .collect::<Vec<_>>(),
            vec![p("2024-12-01", "2024-12-31"), p("2025-01-01", "2025-01-31")]
        );
        assert_eq!(
            Cadence::Quarterly.periods_ending_between(d("2025-12-01"), d("2026-04-30")),
            vec![p("2025-10-01", "2025-12-31"), p("2026-01-01", "2026-03-31")]
        );
    }

    #[test]
    fn leap_days() {
        assert_eq!(
            Cadence::Daily.period_containing(d("2024-02-29")),
            Some(p("2024-02-29", "2024-02-29"))
        );
        let calendar = Cadence::Monthly { cutoff_day: 1 };
        assert_eq!(
            calendar.period_containing(d("2024-02-29")),
            Some(p("2024-02-01", "2024-02-29"))
        );
        assert_eq!(
            calendar.period_containing(d("2024-03-01")),
            Some(p("2024-03-01", "2024-03-31"))
        );
        assert!(calendar.is_period(p("2025-02-01", "2025-02-28")));
        assert!(!calendar.is_period(p("2025-02-01", "2025-03-01")));
    }

    #[test]
    fn periods_overlapping_a_range() {
        let regime = Cadence::Monthly { cutoff_day: 15 };
        assert_eq!(
            regime
                .periods_overlapping(d("2025-03-01"), d("2025-03-20"))
                .collect::<Vec<_>>(),
            vec![p("2025-02-15", "2025-03-14"), p("2025-03-15", "2025-04-14")]
        );
        assert_eq!(
            Cadence::Daily
                .periods_overlapping(d("2025-02-27"), d("2025-03-01"))
                .count(),
            3
        );
        assert_eq!(
            Cadence::Daily
                .periods_overlapping(d("2025-03-02"), d("2025-03-01"))
                .count(),
            0
        );
        let peak = Cadence::Campaign {
            periods: vec![p("2025-03-24", "2025-03-30"), p("2025-03-17", "2025-03-23")],
        };
        assert_eq!(
            peak.periods_overlapping(d("2025-03-23"), d("2025-04-30"))
                .collect::<Vec<_>>(),
            vec![p("2025-03-17", "2025-03-23"), p("2025-03-24", "2025-03-30")]
        );
        assert_eq!(
            peak.periods_ending_between(d("2025-03-24"), d("2025-04-30")),
            vec![p("2025-03-24", "2025-03-30")]
        );
        assert_eq!(
            peak.periods_overlapping(d("2025-04-01"), d("2025-04-30"))
                .count(),
            0
        );
    }

    #[test]
    fn submitted_periods_are_matched_or_refused_with_a_hint() {
        let regime = Cadence::Monthly { cutoff_day: 15 };
        assert_eq!(
            regime.match_period(p("2025-02-15", "2025-03-14")),
            Ok(p("2025-02-15", "2025-03-14"))
        );
        let err = regime
            .match_period(p("2025-03-01", "2025-03-31"))
            .unwrap_err();
        assert_eq!(
            err,
            ScheduleError::NotAPeriod {
                period: p("2025-03-01", "2025-03-31"),
                containing: Some(p("2025-02-15", "2025-03-14")),
            }
        );
        assert!(err.to_string().contains("2025-02-15..2025-03-14"), "{err}");
        assert_eq!(
            regime.match_period(p("2025-03-14", "2025-02-15")),
            Err(ScheduleError::PeriodReversed(p("2025-03-14", "2025-02-15")))
        );
        let peak = Cadence::Campaign {
            periods: vec![p("2025-03-17", "2025-03-23")],
        };
        assert!(matches!(
            peak.match_period(p("2025-04-01", "2025-04-07")),
            Err(ScheduleError::NotAPeriod {
                containing: None,
                ..
            })
        ));
        assert!(Period::try_new(d("2025-03-02"), d("2025-03-01")).is_err());
    }

    #[test]
    fn a_period_that_has_not_started_is_refused() {
        let week = p("2025-03-17", "2025-03-23");
        assert!(week.check_started(d("2025-03-17")).is_ok());
        assert!(week.check_started(d("2025-03-30")).is_ok());
        assert_eq!(
            week.check_started(d("2025-03-16")),
            Err(ScheduleError::NotStarted {
                period: week,
                today: d("2025-03-16")
            })
        );
    }

    #[test]
    fn invalid_cadences_get_typed_errors() {
        assert_eq!(
            Cadence::Monthly { cutoff_day: 29 }.validate(),
            Err(ScheduleError::CutoffDayOutOfRange(29))
        );
        assert_eq!(
            Cadence::Monthly { cutoff_day: 0 }.validate(),
            Err(ScheduleError::CutoffDayOutOfRange(0))
        );
        assert!(Cadence::Monthly { cutoff_day: 28 }.validate().is_ok());
        assert_eq!(
            Cadence::Campaign { periods: vec![] }.validate(),
            Err(ScheduleError::EmptyCampaign)
        );
        assert_eq!(
            Cadence::Campaign {
                periods: vec![p("2025-03-23", "2025-03-17")]
            }
            .validate(),
            Err(ScheduleError::PeriodReversed(p("2025-03-23", "2025-03-17")))
        );
        assert_eq!(
            Cadence::Monthly { cutoff_day: 31 }.check(),
            Err("cutoff_day 31 must be between 1 and 28".to_owned())
        );
    }

    #[test]
    fn cadences_read_from_toml() {
        #[derive(Deserialize)]
        struct C {
            cadence: Cadence,
        }
        let read = |t: &str| toml::from_str::<C>(t).unwrap().cadence;
        assert_eq!(read(r#"cadence = { kind = "daily" }"#), Cadence::Daily);
        assert_eq!(
            read(r#"cadence = { kind = "weekly", first_weekday = "sun" }"#),
            Cadence::Weekly {
                first_weekday: Weekday::Sun
            }
        );
        assert_eq!(
            read(r#"cadence = { kind = "weekly" }"#),
            Cadence::Weekly {
                first_weekday: Weekday::Mon
            }
        );
        assert_eq!(
            read(r#"cadence = { kind = "monthly", cutoff_day = 15 }"#),
            Cadence::Monthly { cutoff_day: 15 }
        );
        assert_eq!(
            read(r#"cadence = { kind = "quarterly" }"#),
            Cadence::Quarterly
        );
        assert_eq!(
            read(
                r#"cadence = { kind = "campaign", periods = [{ start = "2025-03-17", end = "2025-03-23" }] }"#
            ),
            Cadence::Campaign {
                periods: vec![p("2025-03-17", "2025-03-23")]
            }
        );
        assert!(toml::from_str::<C>(r#"cadence = { kind = "hourly" }"#).is_err());
    }
}
