//! Text from callers: what both databases can store, and how much of it an error may echo back.
//!
//! PostgreSQL refuses a NUL byte in any text value (SQLite stores it), and a `varchar(n)` column
//! refuses more than n characters (SQLite does not check). Every text input that reaches storage or a
//! query is checked here first, so both back-ends accept the same requests and a refusal is
//! INVALID_ARGUMENT naming the field, never INTERNAL from the database.

use crate::report::FieldViolation;

/// At most this many characters of a caller's input are quoted back in an error.
pub const ECHO_CHARS: usize = 40;

/// Whether a character may appear in stored text: anything but control characters, except tab, line
/// feed and carriage return.
pub fn allowed(c: char) -> bool {
    !c.is_control() || matches!(c, '\t' | '\n' | '\r')
}

/// Checks a text input: no disallowed control character (NUL among them) and at most `max_chars`
/// characters. The violation names `field`, the character and its position.
pub fn check(field: &str, text: &str, max_chars: usize) -> Result<(), FieldViolation> {
    let mut count = 0;
    for (i, c) in text.chars().enumerate() {
        if !allowed(c) {
            return Err(FieldViolation::new(
                field,
                format!(
                    "{field} contains the control character U+{:04X} at character {}; only tab, \
                     line feed and carriage return are allowed",
                    c as u32,
                    i + 1
                ),
            ));
        }
        count += 1;
    }
    if count > max_chars {
        return Err(FieldViolation::new(
            field,
            format!("{field} has {count} characters; at most {max_chars} are allowed"),
        ));
    }
    Ok(())
}

/// Like [`check`], pushing the violation (if any) onto `violations`.
pub fn check_into(violations: &mut Vec<FieldViolation>, field: &str, text: &str, max_chars: usize) {
    if let Err(v) = check(field, text, max_chars) {
        violations.push(v);
    }
}

/// At most `max_chars` characters of `text` (cut on a character boundary), with "…" when cut.
pub fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// Caller input quoted for an error message: at most [`ECHO_CHARS`] characters, control characters
/// escaped, e.g. `"23680"` or `"xxxxxxxx…"` for a long one.
pub fn echo(text: &str) -> String {
    format!("\"{}\"", echo_bare(text))
}

/// Like [`echo`] without the quotes.
pub fn echo_bare(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == ECHO_CHARS {
            out.push('…');
            break;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_other_controls_are_refused_but_layout_characters_kept() {
        assert!(check("narrative.assessment", "Đạt 40,8 %\n\tdòng\r\n", 100).is_ok());
        let v = check("narrative.assessment", "ab\0c", 100).unwrap_err();
        assert_eq!(v.field, "narrative.assessment");
        assert!(v.description.contains("U+0000 at character 3"), "{v:?}");
        assert!(check("x", "a\u{1b}[31m", 100).is_err());
        assert!(check("x", "a\u{7f}", 100).is_err());
        assert!(check("x", "a\u{85}", 100).is_err());
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(check("code", "Đắk Đoa", 7).is_ok());
        let v = check("code", "Đắk Đoa!", 7).unwrap_err();
        assert_eq!(
            v.description,
            "code has 8 characters; at most 7 are allowed"
        );
    }

    #[test]
    fn echoes_are_short_quoted_and_cut_on_character_boundaries() {
        assert_eq!(echo("23680"), "\"23680\"");
        let long = "đ".repeat(20_000);
        let e = echo(&long);
        assert_eq!(e.chars().count(), ECHO_CHARS + 3);
        assert!(e.ends_with("…\""));
        assert_eq!(echo("a\0\"b"), "\"a\\u{0}\\\"b\"");
        assert_eq!(truncate("đđđ", 2), "đđ…");
        assert_eq!(truncate("đđ", 2), "đđ");
    }
}

/// `value` with `decimals` digits after `decimal` and its whole part grouped by three with
/// `thousands`: (704828.0, 0, '.', ',') → "704.828", (40.83, 1, '.', ',') → "40,8". A value that
/// rounds to zero has no sign. Shared by every place that writes figures for people (the CLI, the
/// web page, the chase letter), each choosing its separators.
pub fn grouped(value: f64, decimals: usize, thousands: char, decimal: char) -> String {
    let text = rounded(value.abs(), decimals);
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::with_capacity(int.len() + int.len() / 3 + frac.len() + 2);
    if value < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(thousands);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(decimal);
        out.push_str(frac);
    }
    out
}

/// `value` with `decimals` digits after a `.`, exactly as `format!("{:.*}", decimals, value)`
/// writes it (the binary value rounded, ties to even), but by integer arithmetic where that gives
/// the same digits: pages write thousands of figures, and the formatter's exact algorithm is
/// several times slower than an integer's digits.
///
/// The integer path is taken when the scaled value is below 10⁹ (so its floating-point error is
/// under 10⁻⁷) and at least 10⁻⁶ away from a half: then rounding the computed product rounds the
/// exact one the same way. Ties, near-ties, large values and non-finite values go to the formatter.
fn rounded(value: f64, decimals: usize) -> String {
    const POWERS: [u64; 4] = [1, 10, 100, 1_000];
    if let Some(&scale) = POWERS.get(decimals)
        && value.is_finite()
    {
        let scaled = value * scale as f64;
        if (0.0..1e9).contains(&scaled) && (scaled - scaled.floor() - 0.5).abs() > 1e-6 {
            let n = scaled.round() as u64;
            let (int, frac) = (n / scale, n % scale);
            return if decimals == 0 {
                int.to_string()
            } else {
                format!("{int}.{frac:0decimals$}")
            };
        }
    }
    format!("{:.*}", decimals, value)
}

#[cfg(test)]
mod grouped_tests {
    use super::{grouped, rounded};

    #[test]
    fn rounding_writes_the_formatters_digits() {
        let mut values: Vec<f64> = (0..200_000).map(|i| f64::from(i) / 1_000.0).collect();
        values.extend((0..20_000).map(|i| f64::from(i) * 0.05));
        values.extend((0..20_000).map(|i| f64::from(i) * 7_919.37 + 0.0005));
        values.extend([
            0.15,
            0.25,
            2.5,
            0.045,
            1e8 + 0.05,
            999_999_999.5,
            1e12,
            1e15 + 0.3,
        ]);
        values.extend([f64::NAN, f64::INFINITY, f64::MIN_POSITIVE]);
        for v in values {
            for d in 0..=4 {
                assert_eq!(rounded(v, d), format!("{v:.d$}"), "{v} with {d} decimals");
            }
        }
    }

    #[test]
    fn digits_are_grouped_by_three_with_the_chosen_separators() {
        assert_eq!(grouped(704_828.0, 0, '.', ','), "704.828");
        assert_eq!(grouped(1_234_567.25, 1, ',', '.'), "1,234,567.2");
        assert_eq!(grouped(40.83, 1, '.', ','), "40,8");
        assert_eq!(grouped(-1_250.0, 0, '.', ','), "-1.250");
        assert_eq!(grouped(-0.04, 1, '.', ','), "0,0");
        assert_eq!(grouped(999.0, 0, '.', ','), "999");
    }
}
