//! How figures read on the page: Vietnamese by default (`704.828`, `40,8 %`, `22/03/2025`),
//! English on request (`704,828`, `40.8%`, `22 Mar 2025`). Absent figures are "—", never 0.
//!
//! CSV downloads do not use this module: they keep the CLI's machine format (see `download`).

use chrono::{DateTime, NaiveDate, Utc};
use p06_proto::common::CalendarDate;

/// The page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// `vi` or `en`, anything else `None`.
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    fn separators(self) -> (char, char) {
        match self {
            Lang::Vi => ('.', ','),
            Lang::En => (',', '.'),
        }
    }
}

/// A number with `decimals` digits and the language's separators: 704828 → "704.828".
pub fn number(lang: Lang, value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "—".into();
    }
    let (thousands, decimal) = lang.separators();
    p06_domain::text::grouped(value, decimals, thousands, decimal)
}

/// A count or measure: whole numbers without decimals, others with one.
pub fn figure(lang: Lang, value: f64) -> String {
    let decimals = if value.fract() == 0.0 { 0 } else { 1 };
    number(lang, value, decimals)
}

/// An optional figure; absent is "—" (no data), never zero.
pub fn opt_figure(lang: Lang, value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| figure(lang, v))
}

/// A change with its sign: "+1.234", "-56", "0".
pub fn change(lang: Lang, value: Option<f64>) -> String {
    match value {
        None => "—".into(),
        Some(v) if v > 0.0 => format!("+{}", figure(lang, v)),
        Some(v) => figure(lang, v),
    }
}

/// A percentage given in percent: 40.83 → "40,8 %" (vi, with a no-break space, so the sign never
/// wraps onto a line of its own) or "40.8%" (en).
pub fn percent(lang: Lang, value: f64) -> String {
    match lang {
        Lang::Vi => format!("{}\u{a0}%", number(lang, value, 1)),
        Lang::En => format!("{}%", number(lang, value, 1)),
    }
}

pub fn opt_percent(lang: Lang, value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| percent(lang, v))
}

/// A share 0–1 as a percentage: 0.408 → "40,8 %".
pub fn share(lang: Lang, fraction: f64) -> String {
    percent(lang, fraction * 100.0)
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A calendar date: "22/03/2025" (vi) or "22 Mar 2025" (en).
pub fn date(lang: Lang, d: NaiveDate) -> String {
    use chrono::Datelike as _;
    match lang {
        Lang::Vi => format!("{:02}/{:02}/{:04}", d.day(), d.month(), d.year()),
        Lang::En => format!(
            "{} {} {}",
            d.day(),
            MONTHS_EN[d.month0() as usize],
            d.year()
        ),
    }
}

/// A short date for chart axes: "22/03" or "22 Mar".
pub fn short_date(lang: Lang, d: NaiveDate) -> String {
    use chrono::Datelike as _;
    match lang {
        Lang::Vi => format!("{:02}/{:02}", d.day(), d.month()),
        Lang::En => format!("{} {}", d.day(), MONTHS_EN[d.month0() as usize]),
    }
}

pub fn opt_date(lang: Lang, d: Option<&CalendarDate>) -> String {
    p06_kit::convert::date_from_proto(d).map_or_else(|| "—".into(), |d| date(lang, d))
}

/// An instant in the provinces' time zone (UTC+7, no daylight saving): "22/03/2025 10:00:05".
pub fn instant(lang: Lang, t: DateTime<Utc>) -> String {
    use chrono::Timelike as _;
    let local = t.naive_utc() + chrono::Duration::hours(7);
    format!(
        "{} {:02}:{:02}:{:02} (GMT+7)",
        date(lang, local.date()),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// A pace per week: "+1.234/tuần"; "—" when absent.
pub fn per_week(lang: Lang, value: Option<f64>) -> String {
    match value {
        Some(v) => {
            let sign = if v > 0.0 { "+" } else { "" };
            let unit = crate::i18n::texts(lang).per_week;
            format!("{sign}{}{unit}", figure(lang, v.round()))
        }
        None => "—".into(),
    }
}

/// An instant typed on the page (`2025-03-21T17:00` from a datetime field, or `2025-03-21 17:00`)
/// in the provinces' time zone (UTC+7, no daylight saving).
pub fn parse_local_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let local = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())?;
    Some((local - chrono::Duration::hours(7)).and_utc())
}

/// The value of a datetime field for an instant: its local time, `2025-03-21T17:00`.
pub fn local_instant_field(t: DateTime<Utc>) -> String {
    (t.naive_utc() + chrono::Duration::hours(7))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

pub fn opt_timestamp(lang: Lang, t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(p06_kit::convert::from_timestamp)
        .map_or_else(|| "—".into(), |t| instant(lang, t))
}

/// A lateness in words: minutes, hours, or days beyond two days ("5,5 giờ", "3,0 ngày").
pub fn lateness(lang: Lang, seconds: i64) -> String {
    let (value, unit_vi, unit_en) = if seconds >= 2 * 86_400 {
        (seconds as f64 / 86_400.0, "ngày", "days")
    } else if seconds >= 3_600 {
        (seconds as f64 / 3_600.0, "giờ", "h")
    } else {
        (seconds as f64 / 60.0, "phút", "min")
    };
    let unit = match lang {
        Lang::Vi => unit_vi,
        Lang::En => unit_en,
    };
    format!("{} {unit}", number(lang, value, 1))
}

/// An ISO date (`2025-03-22`) for forms, links and CSV.
pub fn iso(d: NaiveDate) -> String {
    use chrono::Datelike as _;
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// Parses a date from a form field: ISO `2025-03-22` or Vietnamese `22/03/2025`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}

/// Parses a percentage from a form field: `50`, `40,5` or `40.5`.
pub fn parse_percent(text: &str) -> Option<f64> {
    let value: f64 = text
        .trim()
        .trim_end_matches('%')
        .trim()
        .replace(',', ".")
        .parse()
        .ok()?;
    (value.is_finite() && (0.0..=1_000.0).contains(&value)).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn vietnamese_numbers_group_with_dots_and_decimals_with_commas() {
        assert_eq!(number(Lang::Vi, 704_828.0, 0), "704.828");
        assert_eq!(number(Lang::Vi, 1_494_541.0, 0), "1.494.541");
        assert_eq!(number(Lang::Vi, 109.0, 0), "109");
        assert_eq!(number(Lang::Vi, 40.83, 1), "40,8");
        assert_eq!(number(Lang::Vi, -8_221.0, 0), "-8.221");
        assert_eq!(number(Lang::Vi, -0.01, 1), "0,0");
        assert_eq!(number(Lang::En, 704_828.0, 0), "704,828");
        assert_eq!(number(Lang::En, 1_234.56, 1), "1,234.6");
        assert_eq!(number(Lang::Vi, f64::NAN, 0), "—");
    }

    #[test]
    fn figures_keep_decimals_only_when_they_have_them() {
        assert_eq!(figure(Lang::Vi, 2_068.0), "2.068");
        assert_eq!(figure(Lang::Vi, 73.26), "73,3");
        assert_eq!(opt_figure(Lang::Vi, None), "—");
        assert_eq!(change(Lang::Vi, Some(12_345.0)), "+12.345");
        assert_eq!(change(Lang::Vi, Some(-56.0)), "-56");
        assert_eq!(change(Lang::En, Some(0.0)), "0");
        assert_eq!(change(Lang::En, None), "—");
    }

    #[test]
    fn percentages_have_one_decimal_and_the_language_spacing() {
        assert_eq!(percent(Lang::Vi, 40.83), "40,8\u{a0}%");
        assert_eq!(percent(Lang::En, 40.83), "40.8%");
        assert_eq!(percent(Lang::Vi, 5.3), "5,3\u{a0}%");
        assert_eq!(share(Lang::Vi, 0.733), "73,3\u{a0}%");
        assert_eq!(opt_percent(Lang::Vi, None), "—");
    }

    #[test]
    fn dates_read_day_first() {
        assert_eq!(date(Lang::Vi, d(2025, 3, 22)), "22/03/2025");
        assert_eq!(date(Lang::En, d(2025, 3, 22)), "22 Mar 2025");
        assert_eq!(short_date(Lang::Vi, d(2025, 3, 2)), "02/03");
        assert_eq!(iso(d(2025, 3, 2)), "2025-03-02");
        let t: DateTime<Utc> = "2025-03-22T03:00:05Z".parse().unwrap();
        assert_eq!(instant(Lang::Vi, t), "22/03/2025 10:00:05 (GMT+7)");
        let late_evening: DateTime<Utc> = "2025-03-22T17:30:00Z".parse().unwrap();
        assert_eq!(
            instant(Lang::En, late_evening),
            "23 Mar 2025 00:30:00 (GMT+7)"
        );
    }

    #[test]
    fn lateness_reads_in_minutes_hours_or_days() {
        assert_eq!(lateness(Lang::Vi, 1_800), "30,0 phút");
        assert_eq!(lateness(Lang::Vi, 19_800), "5,5 giờ");
        assert_eq!(lateness(Lang::Vi, 3 * 86_400), "3,0 ngày");
        assert_eq!(lateness(Lang::En, 3 * 86_400), "3.0 days");
    }

    #[test]
    fn form_values_parse_in_both_spellings() {
        assert_eq!(parse_date("2025-03-22"), Some(d(2025, 3, 22)));
        assert_eq!(parse_date("22/03/2025"), Some(d(2025, 3, 22)));
        assert_eq!(parse_date("2025-02-30"), None);
        assert_eq!(parse_percent("40,5"), Some(40.5));
        assert_eq!(parse_percent("50 %"), Some(50.0));
        assert_eq!(parse_percent("-1"), None);
        assert_eq!(parse_percent("abc"), None);
    }
}
