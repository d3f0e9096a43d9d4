//! Unit tests of number reading: conventions, dates, document numbers, years, hedges.

use super::*;

fn nums(text: &str) -> Vec<Tok> {
    let c = Convention::of(text);
    tokenize(text, c)
        .into_iter()
        .map(|t| t.kind)
        .filter(|k| !matches!(k, Tok::Word(_) | Tok::Punct(_)))
        .collect()
}

fn value(t: &Tok) -> Option<f64> {
    match t {
        Tok::Num(n) => n.scaled(),
        _ => None,
    }
}

#[test]
fn dotted_thousands_and_comma_decimals() {
    let t = nums("704.828 tài khoản, đạt 40,8% trên 1.727.520 công dân");
    assert_eq!(value(&t[0]), Some(704_828.0));
    assert!(matches!(&t[1], Tok::Num(n) if n.percent && n.value == Some(40.8) && n.decimals == 1));
    assert_eq!(value(&t[2]), Some(1_727_520.0));
}

#[test]
fn a_space_before_the_percent_sign_and_a_decimal_dot() {
    let t = nums("đạt 40,8 % và 73.3%; 99,98 %");
    let p: Vec<(Option<f64>, u32, bool)> = t
        .iter()
        .map(|t| match t {
            Tok::Num(n) => (n.value, n.decimals, n.percent),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        p,
        [
            (Some(40.8), 1, true),
            (Some(73.3), 1, true),
            (Some(99.98), 2, true)
        ]
    );
}

#[test]
fn a_comma_before_three_digits_is_read_only_under_an_english_convention() {
    // No convention: unreadable.
    assert_eq!(value(&nums("có 704,828 tài khoản")[0]), None);
    // A decimal comma elsewhere: Vietnamese, so 704,828 is a decimal, not a count: unreadable.
    assert_eq!(value(&nums("có 704,828 tài khoản, đạt 40,8%")[0]), None);
    // A decimal dot elsewhere: English thousands.
    let t = nums("186,568 of 738,291 (24.37 %)");
    assert_eq!(value(&t[0]), Some(186_568.0));
    assert_eq!(value(&t[1]), Some(738_291.0));
    // Comma thousands elsewhere.
    assert_eq!(value(&nums("704,828 và 1,727,520")[0]), Some(704_828.0));
    // With comma thousands, a single dot group is no longer read as thousands.
    assert_eq!(value(&nums("704.828 và 1,727,520")[0]), None);
    assert_eq!(value(&nums("1.727.520,5 người")[0]), Some(1_727_520.5));
    assert_eq!(value(&nums("1,727,520.5 người")[0]), Some(1_727_520.5));
}

#[test]
fn dates_and_document_numbers_are_not_ratios() {
    for text in [
        "tính đến ngày 22/03/2025",
        "đến 22/3 đạt 40,8%",
        "trong tháng 03/2025",
        "theo Quyết định 06/QĐ-TTg",
        "Nghị định 59/2022/NĐ-CP",
        "Kế hoạch số 123/KH-UBND",
        "Quyết định 06/2023 ngày 6/1/2022",
        "Công văn 1234/CAT-PC06",
    ] {
        let t = nums(text);
        assert!(
            t.iter().all(|k| !matches!(k, Tok::Ratio(..))),
            "{text}: {t:?}"
        );
    }
    let t = nums("186.568/738.291 tài khoản");
    assert!(
        matches!(&t[0], Tok::Ratio(a, b) if a.value == Some(186_568.0) && b.value == Some(738_291.0))
    );
    let t = nums("186.568 / 738.291");
    assert!(matches!(&t[0], Tok::Ratio(..)));
    // 19/218 is not a date (218 is no month).
    assert!(matches!(&nums("19/218 xã")[0], Tok::Ratio(..)));
}

#[test]
fn years_and_glued_codes_are_not_counts() {
    // "năm 2025" is read as a document/date context, not a figure.
    assert!(matches!(&nums("năm 2025")[0], Tok::Other));
    assert!(matches!(&nums("Đề án 06")[0], Tok::Other));
    assert!(matches!(&nums("mẫu 2a")[0], Tok::Other));
}

#[test]
fn hedges_and_multipliers() {
    let t = nums("đạt khoảng 704.828 và hơn 1,49 triệu, 705 nghìn");
    assert!(matches!(&t[0], Tok::Num(n) if n.hedged && n.count().is_none()));
    assert!(matches!(&t[1], Tok::Num(n) if n.hedged));
    assert!(matches!(&t[2], Tok::Num(n) if !n.hedged && n.scaled() == Some(705_000.0)));
}

#[test]
fn sentences_end_at_a_dot_before_a_space_not_inside_a_number() {
    let s: Vec<&str> = sentences("Đạt 704.828 tài khoản. Tăng 8.221!\nHết")
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(s, ["Đạt 704.828 tài khoản.", "Tăng 8.221!", "Hết"]);
}

#[test]
fn formats_the_vietnamese_way() {
    assert_eq!(format_vi(704_828.0, 0), "704.828");
    assert_eq!(format_vi(25.2705, 2), "25,27");
    assert_eq!(format_vi(1_727_520.0, 0), "1.727.520");
    assert_eq!(format_vi(69.6, 1), "69,6");
    assert_eq!(format_vi(-8_221.0, 0), "-8.221");
    assert_eq!(format_vi(99.995, 2), "100,00");
}
