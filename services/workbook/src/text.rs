//! Text as clerks type it: Vietnamese thousands separators (`704.828`), decimal commas (`40,8`),
//! dates as `22/03/2025` or `2025-03-22`, headers with or without diacritics.

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization as _;

/// Why a text is not the value its column wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    NotANumber,
    NotWhole,
    Negative,
    OutOfRange,
    NotADate,
}

/// Lower case, diacritics removed (`đ` → `d`), every run of other characters one space:
/// "Số tài khoản  định danh\nmức 2" and "so tai khoan dinh danh muc 2" compare equal.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

/// Blank, or a dash standing for "nothing": no data (never 0).
fn is_blank(text: &str) -> bool {
    matches!(text, "" | "-" | "–" | "—")
}

/// Spaces (also non-breaking and narrow ones) inside a number are grouping, as in "704 828".
fn compact(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}' && *c != '\u{a0}')
        .collect()
}

/// "704.828", "704,828", "1.234.567" — groups of three after the first: a grouped whole number.
fn grouped(text: &str, separator: char) -> Option<i64> {
    let mut parts = text.split(separator);
    let first = parts.next()?;
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits = first.to_owned();
    let mut groups = 0;
    for part in parts {
        if part.len() != 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.push_str(part);
        groups += 1;
    }
    if groups == 0 {
        return None;
    }
    digits.parse().ok()
}

/// A whole count typed as text: `704.828`, `704,828`, `704 828`, `704828`. `40,8` is not whole.
/// Blank or a dash is `None` (no data).
pub fn parse_count(text: &str) -> Result<Option<i64>, TextError> {
    let text = compact(text.trim());
    if is_blank(&text) {
        return Ok(None);
    }
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let value = if body.bytes().all(|b| b.is_ascii_digit()) && !body.is_empty() {
        body.parse::<i64>().map_err(|_| TextError::NotANumber)?
    } else if let Some(v) = grouped(body, '.').or_else(|| grouped(body, ',')) {
        v
    } else {
        return Err(match parse_decimal(body) {
            Ok(Some(v)) if v.fract() == 0.0 => {
                // "12.0" or "1.234,00": whole after all.
                if negative {
                    return Err(TextError::Negative);
                }
                return Ok(Some(v as i64));
            }
            Ok(Some(_)) => TextError::NotWhole,
            _ => TextError::NotANumber,
        });
    };
    if negative && value != 0 {
        return Err(TextError::Negative);
    }
    Ok(Some(value))
}

/// A decimal typed as text: `40,8`, `40.8`, `1.234,5`, `1,234.5`, `40,8 %`. The last of `.` and
/// `,` is the decimal mark when both appear; a lone comma is a decimal comma; a lone dot followed
/// by three digits in a number of more digits (`1.234`) groups thousands.
pub fn parse_decimal(text: &str) -> Result<Option<f64>, TextError> {
    let text = compact(text.trim());
    let text = text.trim_end_matches('%');
    if is_blank(text) {
        return Ok(None);
    }
    let last_dot = text.rfind('.');
    let last_comma = text.rfind(',');
    let canonical = match (last_dot, last_comma) {
        (Some(d), Some(c)) if d > c => text.replace(',', ""),
        (Some(_), Some(_)) => text.replace('.', "").replace(',', "."),
        (None, Some(_)) if text.matches(',').count() == 1 => text.replace(',', "."),
        (None, Some(_)) => match grouped(text.trim_start_matches('-'), ',') {
            Some(_) => text.replace(',', ""),
            None => return Err(TextError::NotANumber),
        },
        (Some(_), None) if text.matches('.').count() > 1 => {
            match grouped(text.trim_start_matches('-'), '.') {
                Some(_) => text.replace('.', ""),
                None => return Err(TextError::NotANumber),
            }
        }
        _ => text.to_owned(),
    };
    let valid = canonical
        .trim_start_matches('-')
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.')
        && canonical.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return Err(TextError::NotANumber);
    }
    canonical
        .parse::<f64>()
        .map(Some)
        .map_err(|_| TextError::NotANumber)
}

/// A number typed as text the Vietnamese way first: a lone dot before exactly three digits groups
/// thousands (`2.068` is 2068), else as [`parse_decimal`] (`40,8`, `40.8`, `1.234,5`).
pub fn parse_number(text: &str) -> Result<Option<f64>, TextError> {
    let compacted = compact(text.trim());
    if !compacted.contains(',')
        && let Some(v) = grouped(compacted.trim_start_matches('-'), '.')
    {
        return Ok(Some(if compacted.starts_with('-') { -v } else { v } as f64));
    }
    parse_decimal(text)
}

/// A date typed as text: `22/03/2025`, `22-03-2025`, `22.03.2025`, `2025-03-22`.
pub fn parse_date(text: &str) -> Result<Option<NaiveDate>, TextError> {
    let text = text.trim();
    if is_blank(text) {
        return Ok(None);
    }
    let date_part = text.split([' ', 'T']).next().unwrap_or(text);
    for format in ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(date_part, format) {
            return Ok(Some(d));
        }
    }
    Err(TextError::NotADate)
}

/// An Excel serial day number (1900 system) as a date: 45738 → 2025-03-22.
pub fn serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    // Excel counts a 29 February 1900 that never was: serials before 61 are one day later.
    let days = if serial < 61.0 {
        serial.floor() as i64 + 1
    } else {
        serial.floor() as i64
    };
    epoch.checked_add_signed(chrono::Duration::days(days))
}

/// 704828 → "704.828" (vi) / "704,828" (en); 40.8 → "40,8" / "40.8".
pub fn figure(value: f64, vietnamese: bool) -> String {
    let (group, decimal) = if vietnamese { ('.', ',') } else { (',', '.') };
    let negative = value < 0.0;
    let abs = value.abs();
    let whole = abs.trunc() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(group);
        }
        out.push(c);
    }
    let fract = abs - abs.trunc();
    if fract > 1e-9 {
        let text = format!("{fract:.2}");
        let text = text.trim_start_matches('0').trim_end_matches('0');
        out.push(decimal);
        out.push_str(text.trim_start_matches('.'));
    }
    if negative { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_compare_without_diacritics_case_or_spacing() {
        assert_eq!(
            normalize("Số tài khoản  định danh\nmức 2 (đã kích hoạt)"),
            "so tai khoan dinh danh muc 2 da kich hoat"
        );
        assert_eq!(normalize("Tổng cộng:"), "tong cong");
        assert_eq!(normalize("vneid.l2.activated"), "vneid l2 activated");
        assert_eq!(normalize("ĐẮK ĐOA"), "dak doa");
    }

    #[test]
    fn counts_read_vietnamese_and_english_grouping() {
        assert_eq!(parse_count("704.828"), Ok(Some(704_828)));
        assert_eq!(parse_count("704,828"), Ok(Some(704_828)));
        assert_eq!(parse_count("1.494.541"), Ok(Some(1_494_541)));
        assert_eq!(parse_count(" 704 828 "), Ok(Some(704_828)));
        assert_eq!(parse_count("109"), Ok(Some(109)));
        assert_eq!(parse_count("12,0"), Ok(Some(12)));
        assert_eq!(parse_count(""), Ok(None));
        assert_eq!(parse_count("-"), Ok(None));
        assert_eq!(parse_count("40,8"), Err(TextError::NotWhole));
        assert_eq!(parse_count("12a"), Err(TextError::NotANumber));
        assert_eq!(parse_count("7.04.828"), Err(TextError::NotANumber));
        assert_eq!(parse_count("-5"), Err(TextError::Negative));
    }

    #[test]
    fn decimals_read_decimal_commas() {
        assert_eq!(parse_decimal("40,8"), Ok(Some(40.8)));
        assert_eq!(parse_decimal("40.8"), Ok(Some(40.8)));
        assert_eq!(parse_decimal("40,8 %"), Ok(Some(40.8)));
        assert_eq!(parse_decimal("1.234,5"), Ok(Some(1234.5)));
        assert_eq!(parse_decimal("1,234.5"), Ok(Some(1234.5)));
        assert_eq!(parse_decimal("1.234.567"), Ok(Some(1_234_567.0)));
        assert_eq!(parse_decimal("abc"), Err(TextError::NotANumber));
        assert_eq!(parse_decimal(" "), Ok(None));
    }

    #[test]
    fn numbers_read_vietnamese_grouping_first() {
        assert_eq!(parse_number("2.068"), Ok(Some(2068.0)));
        assert_eq!(parse_number("40,8"), Ok(Some(40.8)));
        assert_eq!(parse_number("40.8"), Ok(Some(40.8)));
        assert_eq!(parse_number("1.234,5"), Ok(Some(1234.5)));
    }

    #[test]
    fn dates_read_as_typed_or_as_serials() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 22).unwrap();
        assert_eq!(parse_date("22/03/2025"), Ok(Some(d)));
        assert_eq!(parse_date("2025-03-22"), Ok(Some(d)));
        assert_eq!(parse_date("22.03.2025"), Ok(Some(d)));
        assert_eq!(parse_date("32/03/2025"), Err(TextError::NotADate));
        assert_eq!(serial_date(45738.0), Some(d));
        assert_eq!(serial_date(45738.75), Some(d));
    }

    #[test]
    fn figures_are_written_per_language() {
        assert_eq!(figure(704_828.0, true), "704.828");
        assert_eq!(figure(704_828.0, false), "704,828");
        assert_eq!(figure(40.8, true), "40,8");
        assert_eq!(figure(0.0, true), "0");
    }
}
