//! When each edition of the administrative units is in force, and which edition a report must use.
//!
//! Vietnam's units changed on 1 July 2025 (three tiers → two, codes reused), so the locality list a
//! report names depends on its period. Each edition has a validity interval of local calendar dates
//! (both ends inclusive, open where absent); the intervals do not overlap and leave no gap, so every
//! date has exactly one edition in force.
//!
//! **The rule.** A report uses the edition in force on its period's **last day**: stock figures are
//! as of that day, and it settles periods that straddle a change (the week of Mon 30 June – Sun 6
//! July 2025 is reported in edition 2025). Any other edition is refused, naming the one in force.

use chrono::NaiveDate;

use crate::locality::Edition;
use crate::report::FieldViolation;

/// The interval during which an edition is in force, both ends inclusive; `None` is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditionValidity {
    pub edition: Edition,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// 3 (province > district > commune) or 2 (province > commune).
    pub tiers: u8,
}

impl EditionValidity {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= date)
            && self.valid_until.is_none_or(|until| date <= until)
    }

    /// "from 2024-01-01 until 2025-06-30", "until 2023-12-31", "since 2025-07-01".
    pub fn describe(&self) -> String {
        match (self.valid_from, self.valid_until) {
            (Some(from), Some(until)) => format!("from {from} until {until}"),
            (None, Some(until)) => format!("until {until}"),
            (Some(from), None) => format!("since {from}"),
            (None, None) => "at all times".into(),
        }
    }
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The built-in intervals, oldest first (what migration 12 seeds into the catalog's
/// `locality_edition` table): the April 2023 list for reports until the end of 2023; the last
/// three-tier state from 1 January 2024 until the reform; the two-tier units since 1 July 2025.
pub fn builtin() -> [EditionValidity; 3] {
    [
        EditionValidity {
            edition: Edition::E2023,
            valid_from: None,
            valid_until: ymd(2023, 12, 31),
            tiers: 3,
        },
        EditionValidity {
            edition: Edition::E2024,
            valid_from: ymd(2024, 1, 1),
            valid_until: ymd(2025, 6, 30),
            tiers: 3,
        },
        EditionValidity {
            edition: Edition::E2025,
            valid_from: ymd(2025, 7, 1),
            valid_until: None,
            tiers: 2,
        },
    ]
}

/// The edition in force on `date` among `editions`, if any.
pub fn in_force(editions: &[EditionValidity], date: NaiveDate) -> Option<Edition> {
    editions
        .iter()
        .find(|e| e.contains(date))
        .map(|e| e.edition)
}

/// The edition in force on `date` by the built-in intervals: the default of every command, token
/// and demo that does not name one (pass today's local date).
pub fn edition_in_force(date: NaiveDate) -> Edition {
    in_force(&builtin(), date).unwrap_or(Edition::E2025)
}

/// Checks that a report of `edition` for a period ending on `period_end` uses the edition in force
/// then; the violation names the edition's interval and the one in force.
pub fn check_report_edition(
    editions: &[EditionValidity],
    edition: Edition,
    period_end: NaiveDate,
) -> Result<(), FieldViolation> {
    let Some(own) = editions.iter().find(|e| e.edition == edition) else {
        return Err(FieldViolation::new(
            "province.edition",
            format!("edition {edition} has no validity interval in the catalog"),
        ));
    };
    if own.contains(period_end) {
        return Ok(());
    }
    let in_force = match in_force(editions, period_end) {
        Some(e) => format!("edition {e} is in force for that period; report in edition {e}"),
        None => "no edition is in force for that period".into(),
    };
    Err(FieldViolation::new(
        "province.edition",
        format!(
            "edition {edition} is in force {}, and the period ends on {period_end}: {in_force}",
            own.describe()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn every_date_has_exactly_one_edition() {
        let editions = builtin();
        let mut date = d("2022-01-01");
        while date < d("2027-12-31") {
            let n = editions.iter().filter(|e| e.contains(date)).count();
            assert_eq!(n, 1, "{date}");
            date = date.succ_opt().unwrap();
        }
    }

    #[test]
    fn the_reform_day_is_the_boundary() {
        assert_eq!(edition_in_force(d("2023-12-31")), Edition::E2023);
        assert_eq!(edition_in_force(d("2024-01-01")), Edition::E2024);
        assert_eq!(edition_in_force(d("2025-03-22")), Edition::E2024);
        assert_eq!(edition_in_force(d("2025-06-30")), Edition::E2024);
        assert_eq!(edition_in_force(d("2025-07-01")), Edition::E2025);
        assert_eq!(edition_in_force(d("2026-12-05")), Edition::E2025);
    }

    #[test]
    fn a_report_after_its_edition_names_the_edition_in_force() {
        let v = check_report_edition(&builtin(), Edition::E2024, d("2026-03-08")).unwrap_err();
        assert_eq!(v.field, "province.edition");
        assert!(
            v.description
                .contains("edition 2024 is in force from 2024-01-01 until 2025-06-30")
        );
        assert!(
            v.description.contains("edition 2025 is in force"),
            "{}",
            v.description
        );
    }

    #[test]
    fn a_report_before_its_edition_is_refused_too() {
        let v = check_report_edition(&builtin(), Edition::E2025, d("2025-06-29")).unwrap_err();
        assert!(
            v.description.contains("edition 2024 is in force"),
            "{}",
            v.description
        );
        assert!(check_report_edition(&builtin(), Edition::E2023, d("2024-01-07")).is_err());
    }

    #[test]
    fn a_period_straddling_the_reform_belongs_to_the_edition_of_its_last_day() {
        // Mon 30 June – Sun 6 July 2025.
        assert!(check_report_edition(&builtin(), Edition::E2025, d("2025-07-06")).is_ok());
        assert!(check_report_edition(&builtin(), Edition::E2024, d("2025-07-06")).is_err());
        assert!(check_report_edition(&builtin(), Edition::E2024, d("2025-06-30")).is_ok());
    }

    #[test]
    fn an_edition_without_an_interval_is_refused() {
        let only_2025 = [builtin()[2]];
        let v = check_report_edition(&only_2025, Edition::E2024, d("2025-03-16")).unwrap_err();
        assert!(v.description.contains("no validity interval"));
    }
}
