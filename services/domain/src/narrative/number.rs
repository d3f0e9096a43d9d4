//! Reading the figures of a Vietnamese narrative: numbers in both writing conventions, percentages,
//! ratios, and what only looks like a number (dates, document numbers).
//!
//! A text is cut into sentences, and each sentence into [`Token`]s: folded words (lower case, no
//! diacritics), numbers, ratios `A/B`, and the punctuation the claim rules look at. Numbers are read
//! as follows:
//!
//! | written | read as | why |
//! |---|---|---|
//! | `1.727.520`, `1,727,520` | 1727520 | several groups of three digits: thousands |
//! | `40,8`, `73.3`, `24.37` | 40.8, 73.3, 24.37 | one separator and not three digits after it: a decimal |
//! | `704.828` | 704828 | Vietnamese thousands (unless the text writes thousands with commas) |
//! | `704,828` | 704828 only when the text writes decimals with a dot (`24.37`) or thousands with commas, and no decimal with a comma (`40,8`); otherwise unreadable | a comma before three digits is a decimal in Vietnamese and a thousands separator in English |
//! | `1.727.520,5`, `1,727,520.5` | 1727520.5 | thousands and a decimal |
//! | `40,8%`, `40,8 %` | 40.8 per cent | |
//! | `704 nghìn`, `1,49 triệu` | 704000, 1490000 | approximate: exact to the last digit written |
//! | `22/03/2025`, `22/3`, `03/2025` | a date, never a ratio | |
//! | `06/QĐ-TTg`, `59/2022/NĐ-CP`, `Quyết định 06/2023` | a document number | |
//!
//! An unreadable number stays a token (it separates claims) but no rule uses its value.

use crate::specificity::fold;

/// A number as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct Num {
    /// The value, `None` when the writing is ambiguous (`704,828` in a text without a convention).
    pub value: Option<f64>,
    /// Decimal places printed (`40,8` → 1, `99,98` → 2, `704.828` → 0).
    pub decimals: u32,
    /// Followed by `%`.
    pub percent: bool,
    /// Multiplier word after it (`nghìn` → 1000, `triệu` → 1e6, `tỷ` → 1e9), else 1.
    pub scale: f64,
    /// Preceded by a hedge ("khoảng", "hơn", "gần", …): not a precise claim.
    pub hedged: bool,
    /// The text as written (with the `%`, without a multiplier word).
    pub text: String,
}

impl Num {
    /// The value with its multiplier, when readable.
    pub fn scaled(&self) -> Option<f64> {
        self.value.map(|v| v * self.scale)
    }

    /// A plain count: readable, not a percentage, not hedged.
    pub fn count(&self) -> Option<f64> {
        if self.percent || self.hedged {
            None
        } else {
            self.scaled()
        }
    }

    /// A precise percentage: readable, with `%`, not hedged.
    pub fn pct(&self) -> Option<f64> {
        if self.percent && !self.hedged && self.scale == 1.0 {
            self.value
        } else {
            None
        }
    }
}

/// One token of a sentence; `start..end` are byte offsets into the sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A folded word ("kich", "hoat"); words starting with a letter may contain digits ("pc06").
    Word(String),
    Num(Num),
    /// `A/B` with both parts plain numbers.
    Ratio(Num, Num),
    /// A date or a document number: no claim.
    Other,
    /// One of `, ; : ( ) = /`.
    Punct(char),
}

impl Tok {
    pub fn word(&self) -> Option<&str> {
        match self {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }
}

/// How a text writes its numbers, from its unambiguous numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Convention {
    /// Some number is written with a decimal comma (`40,8`) or dotted thousands (`1.727.520`).
    pub vietnamese: bool,
    /// Some number is written with a decimal dot (`24.37`) or comma thousands (`1,727,520`).
    pub english: bool,
    /// Some number is written with comma thousands (`1,727,520`).
    pub comma_thousands: bool,
}

impl Convention {
    /// Looks at every number of `text`.
    pub fn of(text: &str) -> Self {
        let mut c = Convention::default();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_digit() && (i == 0 || !is_word_byte(bytes[i - 1])) {
                let (groups, end) = digit_groups(text, i);
                let seps: Vec<u8> = groups.iter().skip(1).map(|(s, _)| *s).collect();
                let threes = groups.iter().skip(1).all(|(_, d)| d.len() == 3);
                match (seps.as_slice(), groups.last()) {
                    ([b','], Some((_, d))) if d.len() != 3 => c.vietnamese = true,
                    ([b'.'], Some((_, d))) if d.len() != 3 => c.english = true,
                    ([b'.', b'.', ..], _) if threes && seps.iter().all(|s| *s == b'.') => {
                        c.vietnamese = true
                    }
                    ([b',', b',', ..], _) if threes && seps.iter().all(|s| *s == b',') => {
                        c.english = true;
                        c.comma_thousands = true;
                    }
                    _ => {}
                }
                i = end;
            } else {
                i += 1;
            }
        }
        c
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// The digit groups from `start`: the first with separator 0, then each `.` or `,` followed by a
/// digit; and the end offset.
fn digit_groups(text: &str, start: usize) -> (Vec<(u8, String)>, usize) {
    let bytes = text.as_bytes();
    let mut groups = Vec::new();
    let mut i = start;
    let mut sep = 0u8;
    loop {
        let from = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        groups.push((sep, text[from..i].to_owned()));
        if i + 1 < bytes.len() && matches!(bytes[i], b'.' | b',') && bytes[i + 1].is_ascii_digit() {
            sep = bytes[i];
            i += 1;
        } else {
            break;
        }
    }
    (groups, i)
}

/// Reads digit groups under a convention: the value (None when ambiguous) and the decimals.
pub fn read_groups(groups: &[(u8, String)], convention: Convention) -> (Option<f64>, u32) {
    let int = |s: &str| s.parse::<f64>().ok();
    let first = &groups[0].1;
    let rest = &groups[1..];
    if rest.is_empty() {
        return (int(first), 0);
    }
    let decimal = |whole: &str, frac: &str| -> (Option<f64>, u32) {
        (
            format!("{whole}.{frac}").parse::<f64>().ok(),
            frac.len() as u32,
        )
    };
    let (last_sep, last) = &rest[rest.len() - 1];
    let init = &rest[..rest.len() - 1];
    let joined = |gs: &[(u8, String)]| -> String {
        let mut s = first.clone();
        for (_, d) in gs {
            s.push_str(d);
        }
        s
    };
    if first.len() > 3 && rest.iter().any(|(_, d)| d.len() == 3) && rest.len() > 1 {
        return (None, 0);
    }
    match rest.len() {
        1 if last.len() != 3 => decimal(first, last),
        1 => {
            // One separator before three digits: the ambiguous case.
            let thousands = match last_sep {
                b'.' => !convention.comma_thousands,
                _ => convention.english && !convention.vietnamese,
            };
            if thousands && first.len() <= 3 {
                (int(&joined(rest)), 0)
            } else {
                (None, 0)
            }
        }
        _ => {
            let sep = init[0].0;
            if !init.iter().all(|(s, d)| *s == sep && d.len() == 3) || first.len() > 3 {
                return (None, 0);
            }
            if *last_sep == sep && last.len() == 3 {
                (int(&joined(rest)), 0)
            } else if *last_sep != sep {
                decimal(&joined(init), last)
            } else {
                (None, 0)
            }
        }
    }
}

/// Words that make the number after them approximate.
const HEDGES: &[&str] = &[
    "khoang",
    "gan",
    "hon",
    "tren",
    "duoi",
    "uoc",
    "xap xi",
    "chung",
    "it nhat",
    "toi thieu",
    "toi da",
    "chua den",
    "hang",
    "gan nhu",
    "vai",
];

/// Words naming documents: a number after them is the document's.
const DOCUMENT_WORDS: &[&str] = &[
    "quyet dinh",
    "nghi dinh",
    "nghi quyet",
    "cong van",
    "thong tu",
    "chi thi",
    "thong bao",
    "de an",
    "qd",
    "cv",
    "ngay",
    "thang",
    "nam",
    "quy",
    "tuan",
    "ky",
    "lan",
    "dot",
    "giai doan",
    "phu luc",
    "dieu",
    "bieu",
];

/// Multiplier words after a number.
const SCALES: &[(&str, f64)] = &[("nghin", 1e3), ("ngan", 1e3), ("trieu", 1e6), ("ty", 1e9)];

/// The sentences of a text with their byte offsets: cut after `.`, `!`, `?` followed by white space
/// or the end, and at line breaks. A dot between digits (`704.828`) does not end a sentence.
pub fn sentences(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        let next = chars.get(k + 1).map(|&(_, c)| c);
        let end = match c {
            '\n' | '\r' => Some(i),
            '.' | '!' | '?' if next.is_none_or(char::is_whitespace) => Some(i + 1),
            _ => None,
        };
        if let Some(end) = end {
            push_sentence(&mut out, text, start, end);
            start = i + c.len_utf8();
        }
    }
    push_sentence(&mut out, text, start, text.len());
    out
}

fn push_sentence<'a>(out: &mut Vec<(usize, &'a str)>, text: &'a str, start: usize, end: usize) {
    let s = &text[start..end.max(start)];
    let lead = s.len() - s.trim_start().len();
    let s = s.trim();
    if !s.is_empty() {
        out.push((start + lead, s));
    }
}

/// Cuts a sentence into tokens, reading numbers under `convention` (of the whole text).
pub fn tokenize(sentence: &str, convention: Convention) -> Vec<Token> {
    let mut raw: Vec<Token> = Vec::new();
    let bytes = sentence.as_bytes();
    let mut i = 0;
    while i < sentence.len() {
        let c = sentence[i..].chars().next().unwrap_or(' ');
        if c.is_ascii_digit() {
            let (groups, mut end) = digit_groups(sentence, i);
            let (value, decimals) = read_groups(&groups, convention);
            // A letter right after the digits ("2a", "06QĐ"): not a figure.
            let glued = sentence[end..]
                .chars()
                .next()
                .is_some_and(char::is_alphabetic);
            let mut percent = false;
            let mut j = end;
            while j < bytes.len() && (bytes[j] == b' ' || sentence[j..].starts_with('\u{a0}')) {
                j += if bytes[j] == b' ' { 1 } else { 2 };
            }
            if j < bytes.len() && bytes[j] == b'%' {
                percent = true;
                end = j + 1;
            }
            let text = sentence[i..end].to_owned();
            let num = Num {
                value: if glued { None } else { value },
                decimals,
                percent,
                scale: 1.0,
                hedged: false,
                text,
            };
            raw.push(Token {
                kind: Tok::Num(num),
                start: i,
                end,
            });
            if glued {
                // Skip the rest of the glued word.
                while end < sentence.len() {
                    let c = sentence[end..].chars().next().unwrap_or(' ');
                    if !c.is_alphanumeric() && c != '-' {
                        break;
                    }
                    end += c.len_utf8();
                }
                if let Some(t) = raw.last_mut() {
                    t.kind = Tok::Other;
                    t.end = end;
                }
            }
            i = end;
        } else if c.is_alphabetic() {
            let mut end = i;
            while end < sentence.len() {
                let c = sentence[end..].chars().next().unwrap_or(' ');
                if !(c.is_alphanumeric() || ('\u{300}'..='\u{36f}').contains(&c)) {
                    break;
                }
                end += c.len_utf8();
            }
            raw.push(Token {
                kind: Tok::Word(fold(&sentence[i..end])),
                start: i,
                end,
            });
            i = end;
        } else {
            if matches!(c, ',' | ';' | ':' | '(' | ')' | '=' | '/' | '-' | '–') {
                raw.push(Token {
                    kind: Tok::Punct(if c == '–' { '-' } else { c }),
                    start: i,
                    end: i + c.len_utf8(),
                });
            }
            i += c.len_utf8();
        }
    }
    combine(raw)
}

/// Joins `A / B` into ratios, marks dates and document numbers, and applies hedges and
/// multiplier words.
fn combine(raw: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(raw.len());
    let mut k = 0;
    while k < raw.len() {
        let t = &raw[k];
        if let Tok::Num(a) = &t.kind {
            // A run of `/`-joined parts: N / N (/ N …), or N / word (a document number).
            let mut parts = vec![k];
            let mut j = k;
            let mut doc = false;
            while raw.get(j + 1).is_some_and(|p| p.kind == Tok::Punct('/')) {
                match raw.get(j + 2).map(|t| &t.kind) {
                    Some(Tok::Num(_)) => {
                        parts.push(j + 2);
                        j += 2;
                    }
                    Some(Tok::Word(_)) | Some(Tok::Other) => {
                        doc = true;
                        j += 2;
                        break;
                    }
                    _ => break,
                }
            }
            // A document number goes on with `-word` or `/word` parts ("59/2022/NĐ-CP").
            if doc {
                while raw.get(j + 1).is_some_and(|p| {
                    matches!(p.kind, Tok::Punct('/') | Tok::Punct('-')) && p.start == raw[j].end
                }) && raw
                    .get(j + 2)
                    .is_some_and(|w| !matches!(w.kind, Tok::Punct(_)))
                {
                    j += 2;
                }
            }
            let after_document_word = preceding_words(&out, 2)
                .iter()
                .any(|w| DOCUMENT_WORDS.contains(&w.as_str()));
            let span = (t.start, raw[j].end);
            if doc || parts.len() > 2 {
                out.push(Token {
                    kind: Tok::Other,
                    start: span.0,
                    end: span.1,
                });
                k = j + 1;
                continue;
            }
            if parts.len() == 2 {
                let Tok::Num(b) = &raw[parts[1]].kind else {
                    unreachable!()
                };
                let kind = if after_document_word || looks_like_date(a, b) || a.percent {
                    Tok::Other
                } else {
                    Tok::Ratio(a.clone(), b.clone())
                };
                out.push(Token {
                    kind,
                    start: span.0,
                    end: span.1,
                });
                k = j + 1;
                continue;
            }
            let mut num = a.clone();
            if after_document_word && !num.percent && num.decimals == 0 {
                out.push(Token {
                    kind: Tok::Other,
                    start: t.start,
                    end: t.end,
                });
                k += 1;
                continue;
            }
            num.hedged = is_hedged(&out);
            let mut end = t.end;
            if !num.percent
                && let Some(Tok::Word(w)) = raw.get(k + 1).map(|t| &t.kind)
                && let Some((_, s)) = SCALES.iter().find(|(name, _)| name == w)
            {
                num.scale = *s;
                end = raw[k + 1].end;
                k += 1;
            }
            out.push(Token {
                kind: Tok::Num(num),
                start: t.start,
                end,
            });
            k += 1;
            continue;
        }
        out.push(t.clone());
        k += 1;
    }
    // Hedges also make a ratio approximate.
    out
}

/// The last `n` words before the end of `out`, oldest first, joined in pairs too ("quyet dinh").
fn preceding_words(out: &[Token], n: usize) -> Vec<String> {
    let words: Vec<&str> = out
        .iter()
        .rev()
        .take_while(|t| matches!(t.kind, Tok::Word(_)))
        .take(n)
        .filter_map(|t| t.kind.word())
        .collect();
    let mut all: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    if words.len() == 2 {
        all.push(format!("{} {}", words[1], words[0]));
    }
    // Only the word right before the number (or the pair ending there) counts.
    all.retain(|w| {
        words
            .first()
            .is_some_and(|last| w == last || w.ends_with(&format!(" {last}")))
    });
    all
}

fn is_hedged(out: &[Token]) -> bool {
    preceding_words(out, 2)
        .iter()
        .any(|w| HEDGES.contains(&w.as_str()))
}

/// `22/3`, `22/03`, `03/2025`: a day and month, or a month and year.
fn looks_like_date(a: &Num, b: &Num) -> bool {
    let (Some(x), Some(y)) = (a.value, b.value) else {
        return true;
    };
    if a.decimals > 0 || b.decimals > 0 || a.text.contains(['.', ',']) {
        return false;
    }
    let day_month = (1.0..=31.0).contains(&x) && (1.0..=12.0).contains(&y);
    let month_year = (1.0..=12.0).contains(&x) && (1900.0..=2100.0).contains(&y);
    day_month || month_year
}

/// The words of a phrase as tokens compare them: folded words and numbers as written.
pub fn phrase_words(phrase: &str) -> Vec<String> {
    tokenize(phrase, Convention::default())
        .into_iter()
        .filter_map(|t| match t.kind {
            Tok::Word(w) => Some(w),
            Tok::Num(n) => Some(n.text),
            _ => None,
        })
        .collect()
}

/// A token as phrase matching sees it (see [`phrase_words`]); punctuation is `None`.
pub fn token_word(t: &Token) -> Option<&str> {
    match &t.kind {
        Tok::Word(w) => Some(w),
        Tok::Num(n) if !n.percent => Some(&n.text),
        _ => None,
    }
}

/// Vietnamese writing of a number: `704.828`, `25,27`, with `decimals` places.
pub fn format_vi(value: f64, decimals: u32) -> String {
    let factor = 10f64.powi(decimals as i32);
    let scaled = (value.abs() * factor).round();
    let int = (scaled / factor).trunc() as u64;
    let frac = (scaled - (int as f64) * factor).round() as u64;
    let digits = int.to_string();
    let mut out = String::new();
    for (n, ch) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    if decimals > 0 {
        out.push(',');
        out.push_str(&format!("{frac:0width$}", width = decimals as usize));
    }
    if value < 0.0 && scaled > 0.0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
#[path = "number_tests.rs"]
mod tests;
