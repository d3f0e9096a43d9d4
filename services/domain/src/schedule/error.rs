//! Typed errors of the schedule rules (configuration and period matching).

use chrono::NaiveDate;

use super::Period;

/// Why a cadence, deadline rule, time zone or submitted period is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("cutoff_day {0} must be between 1 and 28")]
    CutoffDayOutOfRange(u32),
    #[error("a campaign needs at least one period")]
    EmptyCampaign,
    #[error("period {0} ends before it starts")]
    PeriodReversed(Period),
    #[error("campaign periods {0} and {1} overlap")]
    CampaignPeriodsOverlap(Period, Period),
    #[error("a deadline of {days} days is too far; at most {max}")]
    DeadlineTooFar { days: u32, max: u32 },
    #[error("unknown time zone {0:?} (use an IANA name such as Asia/Ho_Chi_Minh)")]
    UnknownTimeZone(String),
    #[error("{period} is not a period of this cadence{}", hint_text(.containing))]
    NotAPeriod {
        period: Period,
        /// The cadence's period that contains `period.start`, if any.
        containing: Option<Period>,
    },
    #[error("period {period} has not started yet (today is {today})")]
    NotStarted { period: Period, today: NaiveDate },
}

fn hint_text(containing: &Option<Period>) -> String {
    match containing {
        Some(p) => format!("; the period containing {} is {p}", p.start),
        None => "; no period of this cadence contains its start".to_owned(),
    }
}
