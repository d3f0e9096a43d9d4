//! Deadlines and timeliness (see the module docs of `schedule` for the exact boundary).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::Period;

/// Whether a deadline counts every day or only working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    Calendar,
    /// Monday to Friday, except configured public holidays.
    Working,
}

/// "N calendar/working days after the period's last day, at a local time".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRule {
    pub days: u32,
    pub count: DayCount,
    /// Local time of day, e.g. 17:00:00.
    pub at: NaiveTime,
}

/// Public holidays (e.g. Tết) that working-day deadlines skip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HolidayCalendar(pub BTreeSet<NaiveDate>);

impl HolidayCalendar {
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.0.contains(&date)
    }
}

impl DeadlineRule {
    /// The local date the period's report is due.
    pub fn due_date(&self, period: &Period, holidays: &HolidayCalendar) -> NaiveDate {
        match self.count {
            DayCount::Calendar => period.end + Duration::days(i64::from(self.days)),
            DayCount::Working => {
                let mut date = period.end;
                for _ in 0..self.days {
                    date += Duration::days(1);
                    while !holidays.is_working_day(date) {
                        date += Duration::days(1);
                    }
                }
                date
            }
        }
    }

    /// The instant the period's report is due.
    pub fn deadline(
        &self,
        period: &Period,
        time_zone: Tz,
        holidays: &HolidayCalendar,
    ) -> DateTime<Utc> {
        let local = self.due_date(period, holidays).and_time(self.at);
        // A local time that does not exist (a DST gap; not in Vietnam) moves to the next hour.
        time_zone
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                time_zone
                    .from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local))
    }
}

/// The deadline status of one period of one obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeliness {
    /// The first revision arrived at or before the deadline.
    OnTime,
    /// The first revision arrived this much after the deadline.
    Late { by: Duration },
    /// The deadline passed and nothing arrived.
    Missing,
    /// Nothing yet, and the deadline is still ahead.
    Pending,
}

impl Timeliness {
    pub fn code(&self) -> &'static str {
        match self {
            Timeliness::OnTime => "ON_TIME",
            Timeliness::Late { .. } => "LATE",
            Timeliness::Missing => "MISSING",
            Timeliness::Pending => "PENDING",
        }
    }
}

/// Judges a period by its deadline, the first revision's receive time and the current instant.
pub fn timeliness(
    deadline: DateTime<Utc>,
    first_received: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Timeliness {
    match first_received {
        Some(at) if at <= deadline => Timeliness::OnTime,
        Some(at) => Timeliness::Late { by: at - deadline },
        None if now > deadline => Timeliness::Missing,
        None => Timeliness::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn week() -> Period {
        Period::new(d("2025-03-10"), d("2025-03-16"))
    }

    const HCM: Tz = chrono_tz::Asia::Ho_Chi_Minh;

    #[test]
    fn working_days_skip_the_weekend() {
        let rule = DeadlineRule {
            days: 2,
            count: DayCount::Working,
            at: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        };
        // Period ends Sunday 16th: Mon 17th is day 1, Tue 18th day 2, 17:00 +07:00 = 10:00 UTC.
        assert_eq!(
            rule.deadline(&week(), HCM, &HolidayCalendar::default()),
            utc("2025-03-18T10:00:00Z")
        );
        let friday = Period::new(d("2025-03-10"), d("2025-03-14"));
        assert_eq!(
            rule.due_date(&friday, &HolidayCalendar::default()),
            d("2025-03-18")
        );
    }

    #[test]
    fn working_days_skip_tet() {
        // Tết 2025: 25 Jan – 2 Feb. A period ending Fri 24 Jan, 3 working days later is Wed 5 Feb.
        let tet: BTreeSet<NaiveDate> = (0..9)
            .map(|i| d("2025-01-25") + Duration::days(i))
            .collect();
        let rule = DeadlineRule {
            days: 3,
            count: DayCount::Working,
            at: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        };
        let period = Period::new(d("2025-01-18"), d("2025-01-24"));
        assert_eq!(
            rule.due_date(&period, &HolidayCalendar(tet)),
            d("2025-02-05")
        );
    }

    #[test]
    fn calendar_days_count_every_day_and_zero_is_the_last_day() {
        let rule = DeadlineRule {
            days: 5,
            count: DayCount::Calendar,
            at: NaiveTime::from_hms_opt(23, 59, 59).unwrap(),
        };
        let month = Period::new(d("2024-12-15"), d("2025-01-14"));
        assert_eq!(
            rule.due_date(&month, &HolidayCalendar::default()),
            d("2025-01-19")
        );
        let same_day = DeadlineRule { days: 0, ..rule };
        assert_eq!(
            same_day.deadline(&week(), HCM, &HolidayCalendar::default()),
            utc("2025-03-16T16:59:59Z")
        );
    }

    #[test]
    fn the_boundary_is_inclusive_to_the_second() {
        let rule = DeadlineRule {
            days: 0,
            count: DayCount::Calendar,
            at: NaiveTime::from_hms_opt(23, 59, 59).unwrap(),
        };
        let deadline = rule.deadline(&week(), HCM, &HolidayCalendar::default());
        // 23:59:59 local on the 16th is 16:59:59 UTC; 17:00:00 UTC is already the 17th locally.
        assert_eq!(
            timeliness(
                deadline,
                Some(utc("2025-03-16T16:59:59Z")),
                utc("2025-03-20T00:00:00Z")
            ),
            Timeliness::OnTime
        );
        assert_eq!(
            timeliness(
                deadline,
                Some(utc("2025-03-16T17:00:00Z")),
                utc("2025-03-20T00:00:00Z")
            ),
            Timeliness::Late {
                by: Duration::seconds(1)
            }
        );
        assert_eq!(
            timeliness(deadline, None, utc("2025-03-16T16:59:59Z")),
            Timeliness::Pending
        );
        assert_eq!(
            timeliness(deadline, None, utc("2025-03-16T17:00:00Z")),
            Timeliness::Missing
        );
    }

    #[test]
    fn configuration_is_readable() {
        let rule: DeadlineRule =
            toml::from_str("days = 2\ncount = \"working\"\nat = \"17:00:00\"").unwrap();
        assert_eq!(rule.count, DayCount::Working);
    }
}
