//! The words the narrative rules know: synonyms of the catalog's indicators, the words naming a
//! target, the words that name a locality, and the patterns those phrases are written in.
//!
//! A pattern is a phrase with optional parts: `[a|b c]` is optional (either alternative), `{a|b}`
//! requires one alternative, `#` is the slot of the figure ("kích hoạt # tài khoản mức 2"), `[#]`
//! an optional slot. Words compare folded (no case, no diacritics).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use super::number::phrase_words;

/// Clear synonyms of each indicator besides its catalog name (`name_vi`), by indicator code.
pub const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "residents.permanent",
        &[
            "dân số [thường trú]",
            "công dân [thường trú]",
            "nhân khẩu [thường trú]",
            "người dân",
            "dân cư",
            "số dân",
        ],
    ),
    (
        "vneid.l2.activated",
        &[
            "tài khoản [định danh] [điện tử] {mức|mức độ} 2 {đã|được|đã được} kích hoạt",
            "tài khoản VNeID mức 2 {đã|được} kích hoạt",
            "[đã] kích hoạt [được|thành công] [#] tài khoản [định danh] [điện tử] {mức|mức độ} 2",
            "[tỷ lệ] kích hoạt tài khoản [định danh] [điện tử] {mức|mức độ} 2",
        ],
    ),
    (
        "vneid.l2.created",
        &[
            "tài khoản [định danh] [điện tử] {mức|mức độ} 2 {đã|được} {tạo lập|tạo|đăng ký}",
            "{tạo lập|đăng ký} [được] [#] tài khoản [định danh] [điện tử] {mức|mức độ} 2",
            "[#] hồ sơ đăng ký tài khoản [định danh] [điện tử] mức 2",
        ],
    ),
    (
        "vneid.l1.created",
        &[
            "tài khoản [định danh] [điện tử] {mức|mức độ} 1 {đã|được} {tạo lập|tạo|đăng ký}",
            "{tạo lập|đăng ký} [được] [#] tài khoản [định danh] [điện tử] {mức|mức độ} 1",
        ],
    ),
    (
        "cccd.cards.issued",
        &[
            "thẻ {căn cước|CCCD|căn cước công dân} [gắn chip] {đã cấp|được cấp|đã được cấp}",
            "cấp [được] [#] thẻ {căn cước|CCCD|căn cước công dân} [gắn chip]",
        ],
    ),
    (
        "cccd.applications.collected",
        &[
            "{hồ sơ|hồ sơ đề nghị} cấp {căn cước|CCCD|căn cước công dân} {đã thu nhận|được thu nhận}",
            "thu nhận [được] [#] hồ sơ [đề nghị] cấp {căn cước|CCCD|căn cước công dân}",
        ],
    ),
    (
        "bhyt.cards.integrated",
        &[
            "thẻ BHYT [đã|được|đã được] tích hợp [trên|vào] [VNeID|ứng dụng VNeID]",
            "tích hợp [được] [#] thẻ BHYT",
        ],
    ),
    (
        "health_book.integrated",
        &[
            "sổ sức khỏe điện tử [đã|được|đã được] tích hợp [trên|vào] [VNeID]",
            "tích hợp [được] [#] sổ sức khỏe điện tử",
        ],
    ),
    (
        "civil_status.digitized",
        &[
            "dữ liệu hộ tịch {đã|được|đã được} số hóa",
            "số hóa [được] [#] {dữ liệu|hồ sơ|bản ghi} hộ tịch",
            "{hồ sơ|bản ghi} hộ tịch {đã|được|đã được} số hóa",
        ],
    ),
    (
        "civil_status.backlog",
        &[
            "{dữ liệu|hồ sơ|bản ghi} hộ tịch cần số hóa",
            "{dữ liệu|hồ sơ|bản ghi} [hộ tịch] phải số hóa",
        ],
    ),
    (
        "civil_registration.online",
        &[
            "hồ sơ đăng ký hộ tịch [trực tuyến|qua mạng]",
            "tiếp nhận [#] hồ sơ đăng ký hộ tịch trực tuyến",
        ],
    ),
    (
        "signature.completed",
        &[
            "chữ ký số {đã hoàn thành|hoàn thành|đã cấp}",
            "hoàn thành [#] chữ ký số",
        ],
    ),
];

/// Phrases naming the target a percentage is of.
pub const TARGET_WORDS: &[&str] = &[
    "chỉ tiêu [được giao|giao|đề ra|kế hoạch|năm]",
    "kế hoạch [được giao|giao|đề ra|năm]",
    "mục tiêu [được giao|giao|đề ra]",
];

/// Words before a named locality (`xã Hà Đông`): a sentence that names one speaks of that
/// locality's figures, not the report's totals.
pub const LOCALITY_WORDS: &[&str] = &[
    "xa",
    "phuong",
    "huyen",
    "quan",
    "thi tran",
    "thi xa",
    "thanh pho",
    "tp",
    "thon",
    "lang",
    "buon",
    "plei",
    "to dan pho",
];

/// Words that open a clause continuing the previous one's subject ("…, đạt 40,8 % dân số").
pub const LINKERS: &[&str] = &[
    "dat",
    "bang",
    "chiem",
    "tuong duong",
    "tuong ung",
    "ty le",
    "tang",
    "giam",
    "so voi",
    "=",
];

/// The periods a change is stated against ("so với tuần trước").
pub const PREVIOUS_PERIOD: &[&str] = &[
    "so voi {tuan|ky|thang|ky bao cao|lan bao cao|bao cao} truoc",
    "so voi {tuan|ky|thang} lien ke truoc",
];

/// One element of a pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Elem {
    Word(String),
    Slot,
    /// Alternatives; `optional` when the group may be skipped.
    Group {
        alternatives: Vec<Vec<Elem>>,
        optional: bool,
    },
}

/// Parses a pattern (see the module docs).
pub fn pattern(text: &str) -> Vec<Elem> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let open = rest.find(['[', '{', '#']);
        let Some(open) = open else {
            out.extend(words(rest));
            break;
        };
        out.extend(words(&rest[..open]));
        let c = rest[open..].chars().next().unwrap_or(' ');
        if c == '#' {
            out.push(Elem::Slot);
            rest = &rest[open + 1..];
            continue;
        }
        let close_char = if c == '[' { ']' } else { '}' };
        let close = rest[open..]
            .find(close_char)
            .map_or(rest.len(), |i| open + i);
        let inner = &rest[open + 1..close];
        out.push(Elem::Group {
            alternatives: inner
                .split('|')
                .map(|alt| {
                    if alt.trim() == "#" {
                        vec![Elem::Slot]
                    } else {
                        words(alt)
                    }
                })
                .collect(),
            optional: c == '[',
        });
        rest = rest.get(close + 1..).unwrap_or("");
    }
    out
}

/// Most patterns [`pattern_of`] keeps; a full memo is emptied before the next is kept.
const MEMO_MOST: usize = 4_096;

static MEMO: LazyLock<RwLock<HashMap<String, Arc<[Elem]>>>> = LazyLock::new(RwLock::default);

/// [`pattern`], parsed once per text for the process: the catalog's indicator names, synonyms
/// and denominators are the same at every report's check, and parsing them again was ≈ 10 % of
/// a one-commune report's CPU.
pub fn pattern_of(text: &str) -> Arc<[Elem]> {
    if let Some(found) = MEMO
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(text)
    {
        return found.clone();
    }
    let parsed: Arc<[Elem]> = pattern(text).into();
    let mut memo = MEMO.write().unwrap_or_else(PoisonError::into_inner);
    if memo.len() >= MEMO_MOST {
        memo.clear();
    }
    memo.insert(text.to_owned(), parsed.clone());
    parsed
}

fn words(text: &str) -> Vec<Elem> {
    phrase_words(text).into_iter().map(Elem::Word).collect()
}

/// The synonyms of `code` in [`SYNONYMS`].
pub fn synonyms(code: &str) -> Vec<String> {
    SYNONYMS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, s)| s.iter().map(|s| (*s).to_owned()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_parse_groups_and_slots() {
        let p = pattern("kích hoạt [được|thành công] # tài khoản {mức|mức độ} 2");
        assert_eq!(p[0], Elem::Word("kich".into()));
        assert!(
            matches!(&p[2], Elem::Group { alternatives, optional: true } if alternatives.len() == 2)
        );
        assert_eq!(p[3], Elem::Slot);
        assert!(matches!(
            &p[6],
            Elem::Group {
                optional: false,
                ..
            }
        ));
        assert_eq!(p[7], Elem::Word("2".into()));
        assert!(
            matches!(&pattern("[#] x")[0], Elem::Group { alternatives, .. } if alternatives[0] == vec![Elem::Slot])
        );
    }
}
