//! Cadences and their periods.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// A reporting period: both ends inclusive, local calendar dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    pub fn new(start: NaiveDate, end: NaiveDate) -> Self {
        Period { start, end }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// How often an obligation's reports fall due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cadence {
    /// One period per calendar day.
    Daily,
    /// Seven-day periods starting on `first_weekday` (e.g. "Mon").
    Weekly {
        #[serde(default = "monday")]
        first_weekday: Weekday,
    },
    /// Monthly periods starting on `cutoff_day` (1–28). 1 gives calendar months; 15 gives the
    /// government regime's "15th of the previous month to the 14th", labelled by the month it ends
    /// in: the March 2025 period is 15 Feb – 14 Mar 2025.
    Monthly {
        #[serde(default = "first")]
        cutoff_day: u32,
    },
    /// Calendar quarters.
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
    /// Checks the parameters; returns a description of what is wrong.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Cadence::Monthly { cutoff_day } if !(1..=28).contains(cutoff_day) => {
                Err(format!("cutoff_day {cutoff_day} must be between 1 and 28"))
            }
            Cadence::Campaign { periods } if periods.is_empty() => {
                Err("a campaign needs at least one period".into())
            }
            Cadence::Campaign { periods } => {
                let mut sorted = periods.clone();
                sorted.sort();
                for p in &sorted {
                    if p.end < p.start {
                        return Err(format!("campaign period {p} ends before it starts"));
                    }
                }
                for pair in sorted.windows(2) {
                    if pair[1].start <= pair[0].end {
                        return Err(format!(
                            "campaign periods {} and {} overlap",
                            pair[0], pair[1]
                        ));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
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

    /// The periods whose last day lies in `[from, to]`, oldest first.
    pub fn periods_ending_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<Period> {
        let mut out = Vec::new();
        if let Cadence::Campaign { periods } = self {
            let mut ps: Vec<Period> = periods
                .iter()
                .copied()
                .filter(|p| from <= p.end && p.end <= to)
                .collect();
            ps.sort();
            return ps;
        }
        let mut cursor = from;
        while cursor <= to {
            let Some(p) = self.period_containing(cursor) else {
                break;
            };
            if p.end >= from && p.end <= to && out.last() != Some(&p) {
                out.push(p);
            }
            cursor = p.end + Duration::days(1);
        }
        out
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
}
