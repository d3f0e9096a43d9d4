//! Public holidays that working-day deadlines skip.
//!
//! A working day is Monday to Friday and not in the [`HolidayCalendar`]. Make-up working Saturdays
//! (the government sometimes swaps a weekday off for a Saturday worked, e.g. Sat 4 May 2024) are
//! **not** modelled: such a Saturday is still a day off here, so a deadline can only come out later
//! than the official count, never earlier — the reporter is never penalised by the simplification.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Days off besides Saturdays and Sundays. Configured as a plain list of ISO dates
/// (`holidays = ["2025-01-01", …]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HolidayCalendar(pub BTreeSet<NaiveDate>);

/// `(year, month, day)`.
pub type Ymd = (i32, u32, u32);

/// A named run of days off, both ends inclusive.
pub type HolidaySpan = (&'static str, Ymd, Ymd);

/// Vietnam's public holidays 2024–2026 as inclusive `(name, first day, last day)` spans, in
/// `(year, month, day)` form.
///
/// Source: Labour Code 2019 (Bộ luật Lao động 45/2019/QH14) Art. 112 — New Year 1 Jan; Tết 5 days;
/// Hùng Kings' Day 10/3 lunar; 30 April; 1 May; National Day 2 September plus one adjacent day — and
/// the government's annual announcements of the days off for civil servants (Tết spans include the
/// weekends and swapped days they announced). Dates not confirmed when this table was written are
/// left out rather than guessed: in 2026, Hùng Kings' Day (10/3 lunar, expected Sun 26 April, with
/// a compensatory Monday) and the day adjacent to 2 September. Add them through configuration once
/// announced.
pub const VIETNAM_PUBLIC_HOLIDAYS_2024_2026: &[HolidaySpan] = &[
    ("Tết Dương lịch 2024", (2024, 1, 1), (2024, 1, 1)),
    ("Tết Giáp Thìn", (2024, 2, 8), (2024, 2, 14)),
    ("Giỗ Tổ Hùng Vương 2024", (2024, 4, 18), (2024, 4, 18)),
    // 29 April swapped with Saturday 4 May 2024 (worked).
    ("30/4 – 1/5 2024", (2024, 4, 29), (2024, 5, 1)),
    ("Quốc khánh 2024", (2024, 9, 2), (2024, 9, 3)),
    ("Tết Dương lịch 2025", (2025, 1, 1), (2025, 1, 1)),
    ("Tết Ất Tỵ", (2025, 1, 25), (2025, 2, 2)),
    ("Giỗ Tổ Hùng Vương 2025", (2025, 4, 7), (2025, 4, 7)),
    // 2 May swapped with Saturday 26 April 2025 (worked).
    ("30/4 – 1/5 2025", (2025, 4, 30), (2025, 5, 2)),
    ("Quốc khánh 2025", (2025, 9, 1), (2025, 9, 2)),
    ("Tết Dương lịch 2026", (2026, 1, 1), (2026, 1, 1)),
    ("Tết Bính Ngọ", (2026, 2, 14), (2026, 2, 22)),
    ("30/4 – 1/5 2026", (2026, 4, 30), (2026, 5, 1)),
    ("Quốc khánh 2026", (2026, 9, 2), (2026, 9, 2)),
];

impl HolidayCalendar {
    /// A calendar of the given days off.
    pub fn new(days: impl IntoIterator<Item = NaiveDate>) -> Self {
        HolidayCalendar(days.into_iter().collect())
    }

    /// [`VIETNAM_PUBLIC_HOLIDAYS_2024_2026`], every day of every span.
    pub fn vietnam_2024_2026() -> Self {
        let mut days = BTreeSet::new();
        for (_, first, last) in VIETNAM_PUBLIC_HOLIDAYS_2024_2026 {
            let (Some(mut day), Some(last)) = (
                NaiveDate::from_ymd_opt(first.0, first.1, first.2),
                NaiveDate::from_ymd_opt(last.0, last.1, last.2),
            ) else {
                continue;
            };
            while day <= last {
                days.insert(day);
                day += Duration::days(1);
            }
        }
        HolidayCalendar(days)
    }

    /// Whether `date` is a configured holiday (weekends aside).
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.0.contains(&date)
    }

    /// Monday to Friday and not a holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(date)
    }

    /// The `n`-th working day strictly after `date` (`date` itself when `n` is 0, whatever it is).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut day = date;
        for _ in 0..n {
            day += Duration::days(1);
            // Terminates: the calendar is finite, so a working day always comes.
            while !self.is_working_day(day) {
                day += Duration::days(1);
            }
        }
        day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_vietnam_table_covers_tet_and_skips_nothing_unconfirmed() {
        let vn = HolidayCalendar::vietnam_2024_2026();
        for day in [
            "2025-01-25",
            "2025-01-29",
            "2025-02-02",
            "2026-02-14",
            "2026-02-22",
        ] {
            assert!(vn.is_holiday(d(day)), "{day}");
        }
        assert!(!vn.is_holiday(d("2025-02-03")));
        assert!(!vn.is_holiday(d("2026-02-23")));
        assert!(!vn.is_holiday(d("2026-04-27")));
        assert!(vn.is_holiday(d("2024-02-08")) && vn.is_holiday(d("2024-09-03")));
        // Every span is well-formed and every date exists.
        for (name, a, b) in VIETNAM_PUBLIC_HOLIDAYS_2024_2026 {
            let a = NaiveDate::from_ymd_opt(a.0, a.1, a.2).unwrap();
            let b = NaiveDate::from_ymd_opt(b.0, b.1, b.2).unwrap();
            assert!(a <= b, "{name}");
        }
        assert_eq!(
            vn.0.len(),
            1 + 7 + 1 + 3 + 2 + 1 + 9 + 1 + 3 + 2 + 1 + 9 + 2 + 1
        );
    }

    #[test]
    fn working_days_skip_weekends_and_holidays() {
        let none = HolidayCalendar::default();
        // Fri 14 Mar 2025 + 1 working day = Mon 17 Mar.
        assert_eq!(none.add_working_days(d("2025-03-14"), 1), d("2025-03-17"));
        // Zero working days is the date itself, even on a Sunday.
        assert_eq!(none.add_working_days(d("2025-03-16"), 0), d("2025-03-16"));
        assert!(!none.is_working_day(d("2025-03-15")));
        let vn = HolidayCalendar::vietnam_2024_2026();
        // Fri 24 Jan 2025 + 1 working day jumps all of Tết to Mon 3 Feb.
        assert_eq!(vn.add_working_days(d("2025-01-24"), 1), d("2025-02-03"));
        // Over 30 Apr – 2 May 2025 (Wed–Fri) and the weekend: Tue 29 Apr + 1 = Mon 5 May.
        assert_eq!(vn.add_working_days(d("2025-04-29"), 1), d("2025-05-05"));
    }

    #[test]
    fn configuration_is_a_list_of_dates() {
        #[derive(Deserialize)]
        struct C {
            holidays: HolidayCalendar,
        }
        let c: C = toml::from_str(r#"holidays = ["2025-01-01", "2025-09-02"]"#).unwrap();
        assert_eq!(
            c.holidays,
            HolidayCalendar::new([d("2025-01-01"), d("2025-09-02")])
        );
    }
}
