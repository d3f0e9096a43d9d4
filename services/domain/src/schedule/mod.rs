//! Reporting schedules: which periods an obligation has, when each period's report is due, and
//! whether it came on time.
//!
//! Periods are inclusive ranges of local calendar dates. The deadline rule is deliberately spelled
//! out to avoid the "period end + N days" off-by-one:
//!
//! > The deadline of a period is the local date that is N days after the period's **last day**
//! > (N calendar days, or N working days skipping Saturdays, Sundays and configured holidays), at the
//! > rule's local time of day, in the province's time zone. A report is **on time** when its first
//! > revision was received at or before that instant (to the second, inclusive); one second later is
//! > late. N = 0 means the last day of the period itself.
//!
//! Example: a week of Mon 10 – Sun 16 March 2025 with "2 working days at 17:00" is due Tue 18 March
//! 2025 17:00:00 +07:00 = 10:00:00 UTC.

mod cadence;
mod deadline;

pub use cadence::{Cadence, Period};
pub use deadline::{DayCount, DeadlineRule, HolidayCalendar, Timeliness, timeliness};
