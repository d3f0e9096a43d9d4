//! The pages. Each handler is thin: gRPC call(s) with the session's token → view model (figures
//! formatted by `format`) → template. Every table also downloads as CSV (`download`).

pub mod communes;
pub mod compliance;
pub mod country;
pub mod districts;
pub mod flags;
pub mod overview;
pub mod report;
pub mod reports;
pub mod signin;
pub mod upload;

use chrono::{NaiveDate, Utc};
use p06_kit::convert::date_to_proto;
use p06_proto::common::{CalendarDate, LocalityRef};

use crate::ctx::Ctx;
use crate::format;

/// Today in the provinces' calendar (UTC+7), the default as-of date of the views.
pub fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// An optional date parameter; a value that is not a date is a 400 page naming the field.
pub fn date_param(
    ctx: &Ctx,
    field: &str,
    value: Option<&str>,
) -> Result<Option<NaiveDate>, axum::response::Response> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => format::parse_date(v)
            .map(Some)
            .ok_or_else(|| ctx.bad_request(&format!("{field}: {v:?} is not a date (YYYY-MM-DD)"))),
    }
}

/// An optional instant parameter (`known_at`), in the provinces' time zone.
pub fn instant_param(
    ctx: &Ctx,
    field: &str,
    value: Option<&str>,
) -> Result<Option<chrono::DateTime<Utc>>, axum::response::Response> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => format::parse_local_instant(v).map(Some).ok_or_else(|| {
            ctx.bad_request(&format!("{field}: {v:?} is not a time (YYYY-MM-DD HH:MM)"))
        }),
    }
}

/// An optional percentage parameter.
pub fn percent_param(
    ctx: &Ctx,
    field: &str,
    value: Option<&str>,
) -> Result<Option<f64>, axum::response::Response> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => format::parse_percent(v).map(Some).ok_or_else(|| {
            ctx.bad_request(&format!("{field}: {v:?} is not a percentage (0–1000)"))
        }),
    }
}

pub fn locality(ctx: &Ctx, code: &str) -> Option<LocalityRef> {
    Some(LocalityRef {
        edition: ctx.edition().to_owned(),
        code: code.to_owned(),
    })
}

pub fn proto_date(d: Option<NaiveDate>) -> Option<CalendarDate> {
    d.map(date_to_proto)
}

/// A query string from pairs, leaving out empty values: `?a=1&b=x%20y`.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in pairs {
        if !v.is_empty() {
            s.append_pair(k, v);
            any = true;
        }
    }
    if any {
        format!("?{}", s.finish())
    } else {
        String::new()
    }
}

/// A province or district code as it may appear in a path: digits or `VN`.
pub fn valid_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= 12 && code.chars().all(|c| c.is_ascii_alphanumeric())
}

/// An option of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The indicator codes a task force looks at first, when none is chosen.
pub const DEFAULT_INDICATOR: &str = "vneid.l2.activated";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_skip_empty_values_and_encode() {
        assert_eq!(
            query(&[("a", "1"), ("b", ""), ("q", "Hà Đông")]),
            "?a=1&q=H%C3%A0+%C4%90%C3%B4ng"
        );
        assert_eq!(query(&[("a", "")]), "");
        assert!(valid_code("64") && valid_code("VN") && !valid_code("6/4") && !valid_code(""));
    }
}
