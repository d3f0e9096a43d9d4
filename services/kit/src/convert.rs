//! Conversions between wire types and domain types that every service needs.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use p06_proto::common::CalendarDate;

/// The compliance board's window when the caller names no start (`GetComplianceBoardRequest.from`):
/// periods ending in the 56 days (eight weeks) up to `to` — two months of weekly meetings, and the
/// eight weeks the demo reports. The aggregator, the CLI and the web page use this one value.
pub const COMPLIANCE_WINDOW_DAYS: i64 = 56;

/// A calendar date from the wire, `None` when absent or not a real date (e.g. 2025-02-30).
pub fn date_from_proto(date: Option<&CalendarDate>) -> Option<NaiveDate> {
    let d = date?;
    NaiveDate::from_ymd_opt(
        d.year,
        u32::try_from(d.month).ok()?,
        u32::try_from(d.day).ok()?,
    )
}

pub fn date_to_proto(date: NaiveDate) -> CalendarDate {
    CalendarDate {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

pub fn timestamp(instant: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: instant.timestamp(),
        nanos: instant.timestamp_subsec_nanos() as i32,
    }
}

pub fn from_timestamp(ts: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).ok()?)
}

pub fn duration(d: chrono::Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.num_seconds(),
        nanos: d.subsec_nanos(),
    }
}
