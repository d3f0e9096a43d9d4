//! Deadlines and timeliness (see the module docs of `schedule` for the exact boundary).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, SubsecRound, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{HolidayCalendar, Period, ScheduleError};

/// The province time zone unless configured otherwise.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Ho_Chi_Minh;

/// The largest `days` a deadline rule may have.
pub const MAX_DEADLINE_DAYS: u32 = 366;

/// Parses an IANA time-zone name ("Asia/Ho_Chi_Minh").
pub fn parse_time_zone(name: &str) -> Result<Tz, ScheduleError> {
    name.trim()
        .parse()
        .map_err(|_| ScheduleError::UnknownTimeZone(name.to_owned()))
}

/// The local calendar date of an instant in `time_zone` (e.g. to decide "today" for
/// [`Period::check_started`]): 2025-03-16T16:59:59Z is still the 16th in Vietnam, 17:00:00Z the 17th.
pub fn local_date(instant: DateTime<Utc>, time_zone: Tz) -> NaiveDate {
    instant.with_timezone(&time_zone).date_naive()
}

/// Whether a deadline counts every day or only working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    #[serde(alias = "calendar_days")]
    Calendar,
    /// Monday to Friday, except configured public holidays.
    #[serde(alias = "working_days")]
    Working,
}

/// "N calendar/working days after the period's last day, at a local time". Configured as
/// `deadline = { days = 2, count = "working", at = "17:00:00" }` (`unit` is accepted for `count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRule {
    /// N ≥ 0; 0 means the period's last day itself.
    pub days: u32,
    #[serde(alias = "unit")]
    pub count: DayCount,
    /// Local time of day, e.g. 17:00:00.
    pub at: NaiveTime,
}

impl DeadlineRule {
    /// Checks the parameters (`days` at most [`MAX_DEADLINE_DAYS`]).
    pub fn validate(&self) -> Result<(), ScheduleError> {
        if self.days > MAX_DEADLINE_DAYS {
            return Err(ScheduleError::DeadlineTooFar {
                days: self.days,
                max: MAX_DEADLINE_DAYS,
            });
        }
        Ok(())
    }

    /// The local date the period's report is due: `days` calendar days after `period.end`, or the
    /// `days`-th working day after it (`period.end` itself when `days` is 0).
    pub fn due_date(&self, period: &Period, holidays: &HolidayCalendar) -> NaiveDate {
        match self.count {
            DayCount::Calendar => period.end + Duration::days(i64::from(self.days)),
            DayCount::Working => holidays.add_working_days(period.end, self.days),
        }
    }

    /// The instant the period's report is due: [`DeadlineRule::due_date`] at `at`, local time in
    /// `time_zone`.
    pub fn deadline(
        &self,
        period: &Period,
        time_zone: Tz,
        holidays: &HolidayCalendar,
    ) -> DateTime<Utc> {
        let local = self.due_date(period, holidays).and_time(self.at);
        // A local time that does not exist (a DST gap; not in Vietnam) moves to the next hour; an
        // ambiguous one (DST overlap) takes the earlier instant.
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
    /// The first revision arrived this much after the deadline (at least one second).
    Late { by: Duration },
    /// The deadline passed and nothing arrived.
    Missing,
    /// Nothing yet, and the deadline is still ahead (or is this very second).
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

/// The deadline is a whole second ("17:00:00"): a report is on time when it arrives at or before
/// that second, i.e. strictly before the next one begins. The first instant that is too late.
pub fn first_late_instant(deadline: DateTime<Utc>) -> DateTime<Utc> {
    deadline.trunc_subsecs(0) + Duration::seconds(1)
}

/// Whether the deadline second is over at `now` (MISSING may be raised, the period is expected).
pub fn deadline_passed(deadline: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= first_late_instant(deadline)
}

/// Judges a period by its deadline, the first revision's receive time and the current instant:
/// on time iff the first revision arrived at or before the deadline second (14:22:56.301 is within
/// 14:22:56); missing iff nothing came and that second is over. Lateness counts whole seconds past
/// the deadline (at least 1). Later revisions never change the verdict.
pub fn timeliness(
    deadline: DateTime<Utc>,
    first_received: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Timeliness {
    match first_received {
        Some(at) if at < first_late_instant(deadline) => Timeliness::OnTime,
        Some(at) => Timeliness::Late {
            by: at.trunc_subsecs(0) - deadline.trunc_subsecs(0),
        },
        None if deadline_passed(deadline, now) => Timeliness::Missing,
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
        let tet = HolidayCalendar::new((0..9).map(|i| d("2025-01-25") + Duration::days(i)));
        let rule = DeadlineRule {
            days: 3,
            count: DayCount::Working,
            at: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        };
        let period = Period::new(d("2025-01-18"), d("2025-01-24"));
        assert_eq!(rule.due_date(&period, &tet), d("2025-02-05"));
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

    fn rule(days: u32, count: DayCount, at: &str) -> DeadlineRule {
        DeadlineRule {
            days,
            count,
            at: at.parse().unwrap(),
        }
    }

    #[test]
    fn the_midnight_edge_in_local_time() {
        assert_eq!(
            local_date(utc("2025-03-16T16:59:59Z"), HCM),
            d("2025-03-16")
        );
        assert_eq!(
            local_date(utc("2025-03-16T17:00:00Z"), HCM),
            d("2025-03-17")
        );
        // A report received at 00:30 local on Monday is on the 17th, after a Sunday-midnight rule.
        let sunday_midnight = rule(0, DayCount::Calendar, "23:59:59");
        let deadline = sunday_midnight.deadline(&week(), HCM, &HolidayCalendar::default());
        assert!(matches!(
            timeliness(deadline, Some(utc("2025-03-16T17:30:00Z")), utc("2025-03-18T00:00:00Z")),
            Timeliness::Late { by } if by == Duration::minutes(30) + Duration::seconds(1)
        ));
        // Another zone, same rule: the deadline moves with the zone.
        let utc_zone =
            sunday_midnight.deadline(&week(), chrono_tz::UTC, &HolidayCalendar::default());
        assert_eq!(utc_zone, utc("2025-03-16T23:59:59Z"));
    }

    #[test]
    fn on_time_at_the_deadline_second_late_one_second_after_and_by_days() {
        let r = rule(2, DayCount::Working, "17:00:00");
        let deadline = r.deadline(&week(), HCM, &HolidayCalendar::default());
        assert_eq!(deadline, utc("2025-03-18T10:00:00Z"));
        let now = utc("2025-04-01T00:00:00Z");
        assert_eq!(
            timeliness(deadline, Some(deadline), now),
            Timeliness::OnTime
        );
        assert_eq!(
            timeliness(deadline, Some(utc("2025-03-18T10:00:01Z")), now),
            Timeliness::Late {
                by: Duration::seconds(1)
            }
        );
        assert_eq!(
            timeliness(deadline, Some(utc("2025-03-21T10:00:00Z")), now),
            Timeliness::Late {
                by: Duration::days(3)
            }
        );
        // Inside the deadline second is on time; the sweep sees it as still due.
        let inside = deadline + Duration::milliseconds(301);
        assert_eq!(timeliness(deadline, Some(inside), now), Timeliness::OnTime);
        assert_eq!(timeliness(deadline, None, inside), Timeliness::Pending);
        assert!(!deadline_passed(
            deadline,
            deadline + Duration::milliseconds(999)
        ));
        assert!(deadline_passed(deadline, deadline + Duration::seconds(1)));
        // 1.301 s after the deadline second began is one whole second late.
        assert_eq!(
            timeliness(
                deadline,
                Some(deadline + Duration::milliseconds(1_301)),
                now
            ),
            Timeliness::Late {
                by: Duration::seconds(1)
            }
        );
        assert_eq!(
            timeliness(deadline, None, deadline + Duration::milliseconds(1_000)),
            Timeliness::Missing
        );
        // Early reports (even before the period ends) are on time.
        assert_eq!(
            timeliness(deadline, Some(utc("2025-03-15T01:00:00Z")), now),
            Timeliness::OnTime
        );
        assert_eq!(Timeliness::Missing.code(), "MISSING");
    }

    #[test]
    fn working_days_across_tet_with_the_vietnam_table() {
        let vn = HolidayCalendar::vietnam_2024_2026();
        let r = rule(2, DayCount::Working, "17:00:00");
        // Tết 2025 is Sat 25 Jan – Sun 2 Feb: 2 working days after Fri 24 Jan are Mon 3 and Tue 4 Feb.
        let before_tet = Period::new(d("2025-01-20"), d("2025-01-24"));
        assert_eq!(r.due_date(&before_tet, &vn), d("2025-02-04"));
        assert_eq!(
            r.deadline(&before_tet, HCM, &vn),
            utc("2025-02-04T10:00:00Z")
        );
        // 2026: week Mon 9 – Sun 15 Feb, Tết from Sat 14 to Sun 22 Feb: due Tue 24 Feb.
        let tet_week = Period::new(d("2026-02-09"), d("2026-02-15"));
        assert_eq!(r.due_date(&tet_week, &vn), d("2026-02-24"));
        // Calendar days ignore holidays.
        assert_eq!(
            rule(2, DayCount::Calendar, "17:00:00").due_date(&tet_week, &vn),
            d("2026-02-17")
        );
        // Zero working days is the last day itself, even a Sunday.
        assert_eq!(
            rule(0, DayCount::Working, "17:00:00").due_date(&tet_week, &vn),
            d("2026-02-15")
        );
    }

    #[test]
    fn rules_and_zones_are_validated() {
        assert!(rule(366, DayCount::Calendar, "00:00:00").validate().is_ok());
        assert_eq!(
            rule(367, DayCount::Calendar, "00:00:00").validate(),
            Err(ScheduleError::DeadlineTooFar {
                days: 367,
                max: MAX_DEADLINE_DAYS
            })
        );
        assert_eq!(parse_time_zone("Asia/Ho_Chi_Minh"), Ok(DEFAULT_TIME_ZONE));
        assert_eq!(
            parse_time_zone("Asia/Saigon_City"),
            Err(ScheduleError::UnknownTimeZone("Asia/Saigon_City".into()))
        );
    }

    #[test]
    fn the_brief_spelling_with_unit_is_accepted() {
        let r: DeadlineRule =
            toml::from_str("days = 2\nunit = \"working_days\"\nat = \"17:00:00\"").unwrap();
        assert_eq!(r, rule(2, DayCount::Working, "17:00:00"));
        assert!(
            toml::from_str::<DeadlineRule>("days = -1\ncount = \"working\"\nat = \"17:00:00\"")
                .is_err()
        );
        assert!(
            toml::from_str::<DeadlineRule>("days = 1\ncount = \"working\"\nat = \"25:00:00\"")
                .is_err()
        );
    }
}
