//! Pace to target and "known at" in the task-force commands: words, cells, JSON and arguments.

use chrono::{DateTime, Utc};
use p06_proto::aggregation::{Pace, PaceStatus};
use serde_json::{Value, json};

use crate::lang::{self, tr};
use crate::query::{iso_date, shown_date};

/// `--known-at "2025-03-21 17:00"`: a local time in the province's time zone (or RFC 3339).
pub fn parse_known_at(text: &str) -> Result<DateTime<Utc>, String> {
    p06_domain::known_at::parse_instant(text, p06_domain::schedule::DEFAULT_TIME_ZONE).ok_or_else(
        || {
            format!(
                "{text:?} is not an instant: write \"2025-03-21 17:00\" (Vietnam time) or \
                 2025-03-21T10:00:00Z"
            )
        },
    )
}

/// `--pace off-track`: a pace status, by its code in either spelling.
pub fn parse_status(text: &str) -> Result<PaceStatus, String> {
    let status = p06_domain::pace::PaceStatus::parse(text)
        .ok_or_else(|| format!("{text:?}: one of met, on-track, at-risk, off-track, no-trend"))?;
    Ok(match status {
        p06_domain::pace::PaceStatus::Met => PaceStatus::Met,
        p06_domain::pace::PaceStatus::OnTrack => PaceStatus::OnTrack,
        p06_domain::pace::PaceStatus::AtRisk => PaceStatus::AtRisk,
        p06_domain::pace::PaceStatus::OffTrack => PaceStatus::OffTrack,
        p06_domain::pace::PaceStatus::NoTrend => PaceStatus::NoTrend,
    })
}

/// The stable code of a status (`OFF_TRACK`), empty when unset.
pub fn code(status: i32) -> &'static str {
    match PaceStatus::try_from(status).unwrap_or(PaceStatus::Unspecified) {
        PaceStatus::Unspecified => "",
        PaceStatus::Met => "MET",
        PaceStatus::OnTrack => "ON_TRACK",
        PaceStatus::AtRisk => "AT_RISK",
        PaceStatus::OffTrack => "OFF_TRACK",
        PaceStatus::NoTrend => "NO_TREND",
    }
}

/// A status in the output language.
pub fn word(status: i32) -> String {
    match PaceStatus::try_from(status).unwrap_or(PaceStatus::Unspecified) {
        PaceStatus::Unspecified => "—",
        PaceStatus::Met => tr("đã đạt", "met"),
        PaceStatus::OnTrack => tr("kịp tiến độ", "on track"),
        PaceStatus::AtRisk => tr("có nguy cơ trễ", "at risk"),
        PaceStatus::OffTrack => tr("chậm tiến độ", "off track"),
        PaceStatus::NoTrend => tr("chưa đủ số liệu", "no trend"),
    }
    .to_owned()
}

/// "+1.234/tuần" / "—".
fn per_week(value: Option<f64>) -> String {
    match value {
        Some(v) => {
            let sign = if v > 0.0 { "+" } else { "" };
            format!("{sign}{}{}", lang::figure(v.round()), tr("/tuần", "/week"))
        }
        None => "—".into(),
    }
}

/// The table cells of a pace: status, recent pace, needed pace, projected date.
pub fn cells(pace: Option<&Pace>) -> [String; 4] {
    match pace {
        None => ["—".into(), "—".into(), "—".into(), "—".into()],
        Some(p) => [
            word(p.status),
            per_week(p.recent_per_week),
            per_week(p.needed_per_week),
            shown_date(p.projected.as_ref()),
        ],
    }
}

/// The header cells matching [`cells`].
pub fn headers() -> [&'static str; 4] {
    tr(
        ["tiến độ", "tốc độ gần đây", "tốc độ cần", "dự kiến đạt"],
        ["pace", "recent pace", "needed pace", "projected"],
    )
}

/// A pace in JSON (stable codes, ISO dates); `null` when absent.
pub fn json(pace: Option<&Pace>) -> Value {
    match pace {
        None => Value::Null,
        Some(p) => json!({
            "status": code(p.status),
            "recent_per_week": p.recent_per_week,
            "needed_per_week": p.needed_per_week,
            "projected": iso_date(p.projected.as_ref()),
            "due": iso_date(p.due.as_ref()),
            "weeks": p.weeks,
            "reports_used": p.reports_used,
        }),
    }
}

/// The flat CSV fields of a pace.
pub fn csv_fields(pace: Option<&Pace>, record: &mut serde_json::Map<String, Value>) {
    let j = json(pace);
    for key in [
        "status",
        "recent_per_week",
        "needed_per_week",
        "projected",
        "due",
    ] {
        record.insert(
            format!("pace_{key}"),
            j.get(key).cloned().unwrap_or(Value::Null),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_instants_parse() {
        assert_eq!(parse_status("off-track"), Ok(PaceStatus::OffTrack));
        assert!(parse_status("late").is_err());
        assert_eq!(
            parse_known_at("2025-03-21 17:00").map(|t| t.to_rfc3339()),
            Ok("2025-03-21T10:00:00+00:00".to_owned())
        );
        assert!(parse_known_at("yesterday").is_err());
    }
}
