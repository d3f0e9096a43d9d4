//! Reading figures back from what the page shows (vi-VN: `704.828`, `40,8 %`, `—` for no data)
//! and comparing them with the gRPC API's, independently of how the page formats them.

/// A figure as the page shows it in Vietnamese: `704.828` → 704828, `40,8 %` → 40.8,
/// `+1.234` → 1234, `—` → `None`. Panics on anything else, naming `what`.
pub fn vi_number(what: &str, shown: &str) -> Option<f64> {
    let s = shown.trim();
    if s == "—" {
        return None;
    }
    let s = s.trim_end_matches('%').trim_end();
    let s = s.strip_prefix('+').unwrap_or(s);
    assert!(
        !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || ".,-".contains(c)),
        "{what}: {shown:?} is not a Vietnamese number"
    );
    // Thousands are grouped by '.', the decimal separator is ','.
    for group in s
        .trim_start_matches('-')
        .split(',')
        .next()
        .unwrap()
        .split('.')
        .skip(1)
    {
        assert_eq!(group.len(), 3, "{what}: {shown:?} groups thousands by 3");
    }
    Some(
        s.replace('.', "")
            .replace(',', ".")
            .parse()
            .unwrap_or_else(|e| panic!("{what}: {shown:?}: {e}")),
    )
}

/// The figure shown equals the API's, to the decimals shown (a count exactly).
pub fn same(what: &str, shown: &str, api: Option<f64>) {
    let got = vi_number(what, shown);
    match (got, api) {
        (None, None) => {}
        (Some(g), Some(a)) => {
            let decimals = shown.split(',').nth(1).map_or(0, |f| {
                f.chars().take_while(char::is_ascii_digit).count() as i32
            });
            let tolerance = 0.5 * 10f64.powi(-decimals) + 1e-9;
            assert!(
                (g - a).abs() <= tolerance,
                "{what}: the page shows {shown:?}, the API says {a}"
            );
        }
        _ => panic!("{what}: the page shows {shown:?}, the API says {api:?}"),
    }
}

/// A percentage shown with its sign (`40,8 %`) equals the API's.
pub fn same_percent(what: &str, shown: &str, api: Option<f64>) {
    if api.is_some() {
        assert!(
            shown.ends_with("\u{a0}%"),
            "{what}: {shown:?} is written `40,8 %` (a no-break space before the sign)"
        );
    }
    same(what, shown, api);
}

/// `"19/218"` as shown equals `(a, b)`.
pub fn same_pair(what: &str, shown: &str, (a, b): (i32, i32)) {
    let (x, y) = shown
        .split_once('/')
        .unwrap_or_else(|| panic!("{what}: {shown:?} is not `n/N`"));
    same(what, x, Some(f64::from(a)));
    same(what, y, Some(f64::from(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_numbers_read_back() {
        assert_eq!(vi_number("x", "704.828"), Some(704_828.0));
        assert_eq!(vi_number("x", "40,8 %"), Some(40.8));
        assert_eq!(vi_number("x", "40,8\u{a0}%"), Some(40.8));
        assert_eq!(vi_number("x", "+1.234"), Some(1_234.0));
        assert_eq!(vi_number("x", "-56"), Some(-56.0));
        assert_eq!(vi_number("x", "—"), None);
        same("x", "40,8 %", Some(40.83));
        same_pair("x", "19/218", (19, 218));
    }

    #[test]
    #[should_panic(expected = "groups thousands by 3")]
    fn english_grouping_is_refused() {
        vi_number("x", "704.82");
    }
}
