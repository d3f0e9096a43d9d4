//! Reporting schedules: which periods an obligation has, when each period's report is due, and
//! whether it came on time. Pure calendar arithmetic; "now" is always a parameter.
//!
//! # Periods
//!
//! A [`Period`] is an inclusive range of local calendar dates (in the province's time zone). A
//! [`Cadence`] cuts the calendar into periods: daily; weekly from a chosen first weekday; monthly
//! from a cut-off day (1 = calendar months, 15 = the government regime's "15th of the previous
//! month to the 14th", **labelled by the month of the period's last day**: 15 Feb – 14 Mar 2025 is
//! the March 2025 period); calendar quarters; or the explicit periods of a campaign. A submission
//! matches an obligation period only when its (start, end) is exactly one of the cadence's periods
//! ([`Cadence::match_period`]); a period whose first day is after today (local) is refused
//! ([`Period::check_started`]).
//!
//! # The deadline boundary
//!
//! Deliberately spelled out to avoid the "period end + N days" off-by-one:
//!
//! > The deadline of a period is the local date that is N days after the period's **last day**
//! > (N calendar days, or N working days skipping Saturdays, Sundays and configured holidays), at the
//! > rule's local time of day, in the province's time zone. A report is **on time** when its first
//! > revision was received at or before that instant (to the second, inclusive); one second later is
//! > late. N = 0 means the last day of the period itself (even if it is not a working day).
//!
//! Example: a week of Mon 10 – Sun 16 March 2025 with "2 working days at 17:00" is due Tue 18 March
//! 2025 17:00:00 +07:00 = 10:00:00 UTC. With "0 calendar days at 23:59:59" it is due Sun 16 March
//! 23:59:59 +07:00 = 16:59:59 UTC; a report at 17:00:00 UTC (00:00:00 on the 17th, local) is one
//! second late.
//!
//! # Timeliness
//!
//! [`timeliness`]: on time if the first revision came by the deadline, late (by how much) if after;
//! with nothing received, missing once `now` is past the deadline, pending until then.

mod cadence;
mod deadline;
mod error;
mod holidays;

pub use cadence::{Cadence, Period};
pub use deadline::{
    DEFAULT_TIME_ZONE, DayCount, DeadlineRule, MAX_DEADLINE_DAYS, Timeliness, deadline_passed,
    first_late_instant, local_date, parse_time_zone, timeliness,
};
pub use error::ScheduleError;
pub use holidays::{HolidayCalendar, HolidaySpan, VIETNAM_PUBLIC_HOLIDAYS_2024_2026, Ymd};
