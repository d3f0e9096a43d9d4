//! The claim rules: which figures of a sentence make a claim, and what they are compared with.
//! See the module docs of [`super`] for the rules in words.

use super::matching::{Known, Mention, longest, mentions, num_at, phrase_len, word_at, words_from};
use super::number::{Convention, Num, Tok, Token, format_vi, tokenize};
use super::vocab;
use super::{Claim, ClaimKind, Outcome, compare_count, compare_percent};

/// One sentence being read.
struct Sentence<'s, 'k> {
    field: &'static str,
    text: &'s str,
    toks: Vec<Token>,
    /// Clause and segment (`;`-separated) of each token.
    clause: Vec<usize>,
    segment: Vec<usize>,
    mentions: Vec<Mention>,
    known: &'k Known<'k>,
    /// Percentages already used by a ratio.
    used: Vec<bool>,
    claims: Vec<Claim>,
}

const LINK_WORDS: &[&str] = &[
    "dat",
    "bang",
    "chiem",
    "tuong duong",
    "tuong ung",
    "ty le",
    "dat ty le",
    "tuc",
];
const CONNECTORS: &[&str] = &[
    "so voi",
    "so voi tong",
    "tong",
    "cua",
    "tren",
    "tren tong so",
    "tong so",
    "tren tong",
    "so voi tong so",
    "trong tong so",
];
const COUNT_LINKS: &[&str] = &[
    "la",
    "dat",
    "co",
    "duoc",
    "gom",
    "tong so",
    "dat tong so",
    "len",
    "dat so",
];
const UNIT_WORDS: &[&str] = &[
    "xa",
    "phuong",
    "huyen",
    "quan",
    "thi tran",
    "don vi",
    "dia phuong",
    "co so",
    "so nganh",
    "to",
    "thon",
    "xa phuong",
    "xa phuong thi tran",
];
const NEGATIONS: &[&str] = &["chua", "khong", "con chua", "chua duoc"];
const TARGET_CONTEXT: &[&str] = &["chi tieu", "ke hoach", "muc tieu", "phan dau", "giao"];
const INTRODUCERS: &[&str] = &[
    "dat",
    "bang",
    "chiem",
    "tuong duong",
    "tuong ung",
    "la",
    "ty le",
    "dat ty le",
    "dat muc",
];
/// Words between a ratio and a percentage that make the percentage something else ("còn thiếu").
const CONTRASTS: &[&str] = &["con", "thieu", "vuot", "tang", "giam", "chua", "ngoai"];
const CHANGE_BEFORE: &[&str] = &["tang", "giam", "them", "moi", "tang them", "giam di"];
const PERIOD_SCOPE: &[&str] = &[
    "trong tuan",
    "trong thang",
    "trong ky",
    "trong ngay",
    "tuan nay",
    "ky nay",
    "thang nay",
    "trong nam",
];

impl<'s, 'k> Sentence<'s, 'k> {
    fn new(
        field: &'static str,
        text: &'s str,
        convention: Convention,
        known: &'k Known<'k>,
    ) -> Self {
        let toks = tokenize(text, convention);
        let (mut c, mut s) = (0, 0);
        let mut clause = Vec::with_capacity(toks.len());
        let mut segment = Vec::with_capacity(toks.len());
        for t in &toks {
            match t.kind {
                Tok::Punct(',') => c += 1,
                Tok::Punct(';') => {
                    c += 1;
                    s += 1;
                }
                _ => {}
            }
            clause.push(c);
            segment.push(s);
        }
        let mentions = mentions(known, &toks);
        let used = vec![false; toks.len()];
        Sentence {
            field,
            text,
            toks,
            clause,
            segment,
            mentions,
            known,
            used,
            claims: Vec::new(),
        }
    }

    /// Whether the `;`-segment of token `i` names a locality ("xã Hà Đông").
    fn names_locality(&self, i: usize) -> bool {
        let seg = self.segment.get(i).copied().unwrap_or(0);
        (0..self.toks.len())
            .filter(|k| self.segment[*k] == seg)
            .any(|k| {
                let n = phrase_len(&self.toks, k, vocab::LOCALITY_WORDS);
                n > 0
                    && self.toks.get(k + n).is_some_and(|t| {
                        t.kind.word().is_some()
                            && self.text[t.start..]
                                .chars()
                                .next()
                                .is_some_and(char::is_uppercase)
                    })
            })
    }

    fn segment_has(&self, i: usize, set: &[&str]) -> bool {
        let seg = self.segment.get(i).copied().unwrap_or(0);
        (0..self.toks.len())
            .filter(|k| self.segment[*k] == seg)
            .any(|k| {
                words_from(&self.toks, k, 3)
                    .iter()
                    .any(|w| set.contains(&w.as_str()))
            })
    }

    /// Whether a mention is the base of a percentage before it ("40,8 % dân số", "85,7 % so với
    /// dữ liệu hộ tịch cần số hóa"), not a subject.
    fn is_base(&self, m: &Mention) -> bool {
        let mut k = m.start;
        while k > 0 {
            match &self.toks[k - 1].kind {
                Tok::Word(w)
                    if ["so", "voi", "cua", "tren", "tong", "trong"].contains(&w.as_str()) =>
                {
                    k -= 1
                }
                Tok::Num(n) if n.count().is_some() => k -= 1,
                Tok::Num(n) => return n.pct().is_some(),
                _ => return false,
            }
        }
        false
    }

    /// The indicator a figure at token `i` is said of (see the module docs).
    fn subject(&self, i: usize) -> Option<usize> {
        let mut c = self.clause[i];
        loop {
            let mut inds: Vec<usize> = self
                .mentions
                .iter()
                .filter(|m| self.clause[m.start] == c && !self.is_base(m))
                .map(|m| m.indicator)
                .collect();
            inds.dedup();
            inds.sort_unstable();
            inds.dedup();
            match inds.len() {
                1 => return Some(inds[0]),
                0 => {}
                _ => return None,
            }
            // No indicator here: the previous clause's, if this one continues it.
            let first = (0..self.toks.len()).find(|k| {
                self.clause[*k] == c
                    && !matches!(self.toks[*k].kind, Tok::Punct(',') | Tok::Punct(';'))
            })?;
            let opens = matches!(self.toks[first].kind, Tok::Punct('=') | Tok::Punct('('))
                || phrase_len(&self.toks, first, vocab::LINKERS) > 0;
            if c == 0 || !opens || self.segment[first] != self.segment[i] {
                return None;
            }
            c -= 1;
        }
    }

    fn claim(
        &mut self,
        kind: ClaimKind,
        indicator: Option<usize>,
        printed: &Num,
        computed: f64,
        outcome: Outcome,
        (vi, en): (String, String),
    ) {
        let decimals = if printed.percent { printed.decimals } else { 0 };
        self.claims.push(Claim {
            field: self.field.to_owned(),
            sentence: self.text.to_owned(),
            kind,
            indicator: indicator.map(|i| self.known.indicators[i].code.clone()),
            printed: printed.scaled().unwrap_or_default(),
            printed_text: printed.text.clone(),
            computed,
            computed_text: format_vi(computed, decimals),
            outcome,
            message_vi: vi,
            message_en: en,
        });
    }

    /// A percentage after (or right before) a ratio: its index.
    fn percent_near(&self, from: usize, ratio_at: usize) -> Option<usize> {
        let mut words = 0;
        let mut commas = 0;
        let mut j = from;
        while let Some(t) = self.toks.get(j) {
            // An indicator's name counts as one word ("… công dân kích hoạt tài khoản mức 2 (24,37 %)").
            if let Some(m) = self.mentions.iter().find(|m| m.start == j) {
                words += 1;
                j = m.end;
                continue;
            }
            match &t.kind {
                Tok::Num(n) => return (n.pct().is_some() && !self.used[j]).then_some(j),
                Tok::Word(w) => {
                    if CONTRASTS.contains(&w.as_str()) {
                        break;
                    }
                    words += 1;
                    if words > 8 {
                        break;
                    }
                }
                Tok::Punct('(' | ':' | '=') => {}
                Tok::Punct(',') if commas == 0 && phrase_len(&self.toks, j + 1, LINK_WORDS) > 0 => {
                    commas += 1
                }
                _ => break,
            }
            j += 1;
        }
        // "25,27 % (186.568/738.291)".
        if ratio_at >= 2
            && self.toks[ratio_at - 1].kind == Tok::Punct('(')
            && num_at(&self.toks, ratio_at - 2).is_some_and(|n| n.pct().is_some())
        {
            return Some(ratio_at - 2);
        }
        None
    }

    /// Whether the percentage at `i` is introduced as a level reached ("đạt 40,8 %", "bằng",
    /// "chiếm", "(40,8 %", ": 40,8 %"), not as a difference ("vượt 5 % chỉ tiêu", "còn 26,7 %").
    fn introduced(&self, i: usize) -> bool {
        match i.checked_sub(1).map(|k| &self.toks[k].kind) {
            Some(Tok::Punct('(' | ':' | '=' | ',')) => true,
            Some(Tok::Word(_)) => {
                (i.saturating_sub(2)..i).any(|k| phrase_len(&self.toks, k, INTRODUCERS) + k == i)
            }
            _ => false,
        }
    }

    /// "19/218 xã đạt 100 % chỉ tiêu": the percentage after a count of units, or a 100 % followed
    /// by a base, says what the units reached, not what the ratio is.
    fn describes_units(&self, ratio_end: usize, p: usize) -> bool {
        let followed_by_base = longest(self.known.targets, &self.toks, p + 1).is_some()
            || self
                .known
                .denominators
                .iter()
                .any(|d| longest(d, &self.toks, p + 1).is_some());
        let units = phrase_len(&self.toks, ratio_end + 1, UNIT_WORDS) > 0;
        let hundred = num_at(&self.toks, p).and_then(Num::pct) == Some(100.0);
        followed_by_base && (units || hundred)
    }

    fn ratios(&mut self) {
        for i in 0..self.toks.len() {
            let (a, b, end) = match &self.toks[i].kind {
                Tok::Ratio(a, b) => (a.clone(), b.clone(), i),
                Tok::Num(a) if a.count().is_some() => {
                    // "A [words] trên [tổng số] B".
                    let mut j = i + 1;
                    while j < self.toks.len()
                        && j <= i + 3
                        && word_at(&self.toks, j).is_some_and(|w| w != "tren" && w != "trong")
                    {
                        j += 1;
                    }
                    let n = phrase_len(
                        &self.toks,
                        j,
                        &["tren", "tren tong so", "tren tong", "trong tong so"],
                    );
                    if n == 0 {
                        continue;
                    }
                    match num_at(&self.toks, j + n) {
                        Some(b) if !b.percent && b.scale == 1.0 && b.value.is_some() => {
                            (a.clone(), b.clone(), j + n)
                        }
                        _ => continue,
                    }
                }
                _ => continue,
            };
            let (Some(x), Some(y)) = (a.scaled(), b.scaled()) else {
                continue;
            };
            if y <= 0.0 || a.percent || b.percent {
                continue;
            }
            let Some(p) = self.percent_near(end + 1, i) else {
                continue;
            };
            if self.describes_units(end, p) {
                continue;
            }
            self.used[p] = true;
            let printed = num_at(&self.toks, p).cloned().expect("a percentage");
            let pct = printed.pct().unwrap_or_default();
            let computed = 100.0 * x / y;
            let outcome = compare_percent(pct, printed.decimals, computed);
            let (ax, by) = (format_vi(x, a.decimals), format_vi(y, b.decimals));
            let c = format_vi(computed, printed.decimals);
            let pv = format_vi(pct, printed.decimals);
            let (vi, en) = match outcome {
                Outcome::Truncated => (
                    format!(
                        "{ax}/{by} = {c} % (làm tròn); báo cáo ghi {pv} % là giá trị cắt bớt, chấp nhận"
                    ),
                    format!(
                        "{ax}/{by} = {c} % rounded; the report's {pv} % is truncated, accepted"
                    ),
                ),
                _ => (
                    format!("{ax}/{by} = {c} %, báo cáo ghi {pv} %"),
                    format!("{ax}/{by} = {c} %, the report says {pv} %"),
                ),
            };
            self.claim(
                ClaimKind::Ratio,
                None,
                &printed,
                computed,
                outcome,
                (vi, en),
            );
        }
    }

    fn percents(&mut self) {
        for i in 0..self.toks.len() {
            let Some(printed) = num_at(&self.toks, i).filter(|n| n.pct().is_some()).cloned() else {
                continue;
            };
            if self.used[i] || self.names_locality(i) || !self.introduced(i) {
                continue;
            }
            let Some(ind) = self.subject(i) else { continue };
            let figures = &self.known.indicators[ind];
            let mut j = i + 1;
            j += phrase_len(&self.toks, j, CONNECTORS);
            let mut reference_count = num_at(&self.toks, j)
                .filter(|n| n.count().is_some())
                .cloned();
            if reference_count.is_some() {
                j += 1;
            }
            let (kind, end, value) =
                if let Some(end) = longest(&self.known.denominators[ind], &self.toks, j) {
                    (ClaimKind::PercentOfDenominator, end, figures.denominator)
                } else if let Some(end) = longest(self.known.targets, &self.toks, j) {
                    (ClaimKind::PercentOfTarget, end, figures.target)
                } else {
                    continue;
                };
            let mut k = end;
            while matches!(
                self.toks.get(k).map(|t| &t.kind),
                Some(Tok::Punct('(' | ':'))
            ) || word_at(&self.toks, k) == Some("la")
            {
                k += 1;
            }
            if reference_count.is_none() {
                reference_count = num_at(&self.toks, k)
                    .filter(|n| n.count().is_some())
                    .cloned();
            }
            let (Some(total), Some(base)) = (figures.total, value) else {
                continue;
            };
            if base <= 0.0 {
                continue;
            }
            let pct = printed.pct().unwrap_or_default();
            let computed = 100.0 * total / base;
            let outcome = compare_percent(pct, printed.decimals, computed);
            let name = &figures.name_vi;
            let (t, b) = (format_vi(total, 0), format_vi(base, 0));
            let (c, pv) = (
                format_vi(computed, printed.decimals),
                format_vi(pct, printed.decimals),
            );
            let denominator_name = figures.denominator_names.first().map(|n| n.to_lowercase());
            let (base_vi, base_en) = if kind == ClaimKind::PercentOfTarget {
                ("chỉ tiêu", "target")
            } else {
                (
                    denominator_name.as_deref().unwrap_or("mẫu số"),
                    "denominator",
                )
            };
            let (vi, en) = match outcome {
                Outcome::Truncated => (
                    format!(
                        "{name}: {t}/{b} ({base_vi}) = {c} % (làm tròn); báo cáo ghi {pv} % là giá trị cắt bớt, chấp nhận"
                    ),
                    format!(
                        "{}: {t}/{b} ({base_en}) = {c} % rounded; the report's {pv} % is truncated, accepted",
                        figures.code
                    ),
                ),
                _ => (
                    format!("{name}: {t}/{b} ({base_vi}) = {c} %, báo cáo ghi {pv} %"),
                    format!(
                        "{}: {t}/{b} ({base_en}) = {c} %, the report says {pv} %",
                        figures.code
                    ),
                ),
            };
            self.claim(kind, Some(ind), &printed, computed, outcome, (vi, en));
            if let Some(r) = reference_count {
                let printed_ref = r.count().unwrap_or_default();
                let step = if r.scale > 1.0 {
                    r.scale / 10f64.powi(r.decimals as i32)
                } else {
                    1.0
                };
                let outcome = compare_count(printed_ref, step, base);
                if outcome == Outcome::Mismatch {
                    let pr = format_vi(printed_ref, 0);
                    self.claim(
                        ClaimKind::Reference,
                        Some(ind),
                        &r,
                        base,
                        outcome,
                        (
                            format!("{name}: {base_vi} theo số liệu là {b}, báo cáo ghi {pr}"),
                            format!(
                                "{}: the {base_en} in the figures is {b}, the report says {pr}",
                                figures.code
                            ),
                        ),
                    );
                }
            }
        }
    }

    fn counts(&mut self) {
        for m in self.mentions.clone() {
            let figures = &self.known.indicators[m.indicator];
            let Some(total) = figures.total else { continue };
            // "chưa kích hoạt 1.022.692 tài khoản": not the indicator's count.
            if (m.start.saturating_sub(2)..m.start)
                .any(|k| phrase_len(&self.toks, k, NEGATIONS) + k == m.start)
            {
                continue;
            }
            let at = m.slot.or_else(|| {
                if m.start > 0
                    && num_at(&self.toks, m.start - 1).is_some_and(|n| n.count().is_some())
                {
                    return Some(m.start - 1);
                }
                let mut j = m.end;
                if self.toks.get(j).is_some_and(|t| t.kind == Tok::Punct(':')) {
                    j += 1;
                }
                j += phrase_len(&self.toks, j, COUNT_LINKS);
                num_at(&self.toks, j)
                    .filter(|n| n.count().is_some())
                    .map(|_| j)
            });
            let Some(at) = at else { continue };
            let printed = num_at(&self.toks, at).cloned().expect("a number");
            let Some(value) = printed.count() else {
                continue;
            };
            let before =
                (at.saturating_sub(2)..at).any(|k| phrase_len(&self.toks, k, CHANGE_BEFORE) > 0);
            // "chỉ tiêu năm 2025 giao 961.566 tài khoản …": a target, not the count.
            let clause = self.clause[at];
            let target_context = (0..self.toks.len())
                .filter(|k| self.clause[*k] == clause)
                .any(|k| phrase_len(&self.toks, k, TARGET_CONTEXT) > 0);
            if before
                || target_context
                || self.names_locality(at)
                || (!figures.flow && self.segment_has(at, PERIOD_SCOPE))
            {
                continue;
            }
            let step = if printed.scale > 1.0 {
                printed.scale / 10f64.powi(printed.decimals as i32)
            } else {
                1.0
            };
            let outcome = compare_count(value, step, total);
            let (t, pv) = (format_vi(total, 0), printed.text.clone());
            let name = &figures.name_vi;
            self.claim(
                ClaimKind::Count,
                Some(m.indicator),
                &printed,
                total,
                outcome,
                (
                    format!("{name}: số liệu báo cáo là {t}, phần thuyết minh ghi {pv}"),
                    format!(
                        "{}: the report's figures give {t}, the narrative says {pv}",
                        figures.code
                    ),
                ),
            );
        }
    }

    fn changes(&mut self) {
        for i in 0..self.toks.len() {
            let sign = match word_at(&self.toks, i) {
                Some("tang") => 1.0,
                Some("giam") => -1.0,
                _ => continue,
            };
            let mut j = i + 1;
            if matches!(word_at(&self.toks, j), Some("them" | "di")) {
                j += 1;
            }
            let Some(printed) = num_at(&self.toks, j).cloned() else {
                continue;
            };
            if printed.hedged || printed.value.is_none() || printed.scale != 1.0 {
                continue;
            }
            // "so với tuần trước" after a few words, or right before "tăng".
            let after = (j + 1..(j + 6).min(self.toks.len()))
                .take_while(|k| self.toks[*k].kind.word().is_some() || *k == j + 1)
                .any(|k| longest(self.known.previous, &self.toks, k).is_some());
            let before = (i.saturating_sub(6)..i).any(|k| {
                longest(self.known.previous, &self.toks, k)
                    .is_some_and(|end| end + 1 >= i && end <= i)
            });
            if !(after || before) || self.names_locality(j) {
                continue;
            }
            let Some(ind) = self.subject(j) else { continue };
            let figures = &self.known.indicators[ind];
            let (Some(now), Some(prev)) = (figures.total, figures.previous_total) else {
                continue;
            };
            let value = printed.scaled().unwrap_or_default();
            let name = &figures.name_vi;
            let word = if sign > 0.0 { "tăng" } else { "giảm" };
            let (computed, outcome) = if printed.percent {
                if prev <= 0.0 {
                    continue;
                }
                let c = sign * 100.0 * (now - prev) / prev;
                (c, compare_percent(value, printed.decimals, c))
            } else {
                let c = sign * (now - prev);
                (c, compare_count(value, 1.0, c))
            };
            let unit = if printed.percent { " %" } else { "" };
            let actual = if sign * computed >= 0.0 {
                "tăng"
            } else {
                "giảm"
            };
            let c = format_vi(
                computed.abs(),
                if printed.percent { printed.decimals } else { 0 },
            );
            let (n, p) = (format_vi(now, 0), format_vi(prev, 0));
            self.claim(
                ClaimKind::Change,
                Some(ind),
                &printed,
                computed,
                outcome,
                (
                    format!(
                        "{name}: {n} so với {p} kỳ trước là {actual} {c}{unit}, báo cáo ghi {word} {}",
                        printed.text
                    ),
                    format!(
                        "{}: {n} against {p} in the previous period is {} {c}{unit}, the report says {} {}",
                        figures.code,
                        if actual == "tăng" { "up" } else { "down" },
                        if sign > 0.0 { "up" } else { "down" },
                        printed.text
                    ),
                ),
            );
        }
    }
}

/// The claims of one sentence, checked.
pub(super) fn claims(
    field: &'static str,
    sentence: &str,
    convention: Convention,
    known: &Known<'_>,
) -> Vec<Claim> {
    let mut s = Sentence::new(field, sentence, convention, known);
    s.ratios();
    s.percents();
    s.counts();
    s.changes();
    s.claims
}
