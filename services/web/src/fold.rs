//! Searching names with or without Vietnamese diacritics: "ha dong", "Hà Đông" and "HA ĐONG" all
//! find "Xã Hà Đông".

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// Lower case, tone marks and vowel marks removed (NFD, combining marks dropped), `đ` → `d`,
/// runs of whitespace collapsed to one space.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        match c {
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Whether `name` matches the search `query` (folded substring; an empty query matches all).
pub fn matches(name: &str, folded_query: &str) -> bool {
    folded_query.is_empty() || fold(name).contains(folded_query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diacritics_and_d_bar_fold_away() {
        assert_eq!(fold("Xã Hà Đông"), "xa ha dong");
        assert_eq!(fold("Kông Chro"), "kong chro");
        assert_eq!(fold("Thị trấn Đak Đoa"), "thi tran dak doa");
        assert_eq!(fold("  Ia   Grai "), "ia grai");
        assert_eq!(fold("Ưu Đãi Ốc Ỷ"), "uu dai oc y");
    }

    #[test]
    fn decomposed_input_folds_like_composed() {
        // "Hà" written as H + a + combining grave accent.
        assert_eq!(fold("Ha\u{0300} \u{0110}ông"), "ha dong");
    }

    #[test]
    fn search_matches_with_or_without_marks() {
        let q = fold("ha dong");
        assert!(matches("Xã Hà Đông", &q));
        assert!(matches("Xã Hà Đông", &fold("HÀ ĐÔNG")));
        assert!(matches("Xã Hà Đông", &fold("đông")));
        assert!(!matches("Xã Hà Tam", &q));
        assert!(matches("anything", ""));
    }
}
