//! The claim rules: which figures of a sentence make a claim, and what they are compared with.
//! See the module docs of [`super`] for the rules in words.

use super::number::{Convention, Num, Tok, Token, format_vi, token_word, tokenize};
use super::vocab::{self, Elem, pattern};
use super::{Claim, ClaimKind, IndicatorFigures, Outcome, compare_count, compare_percent};

/// The indicators with their patterns, parsed once per check.
pub(super) struct Known<'a> {
    indicators: &'a [IndicatorFigures],
    /// (indicator index, pattern) for every name and synonym.
    names: Vec<(usize, Vec<Elem>)>,
    /// Per indicator, the patterns naming its denominator.
    denominators: Vec<Vec<Vec<Elem>>>,
    targets: Vec<Vec<Elem>>,
    previous: Vec<Vec<Elem>>,
}

impl<'a> Known<'a> {
    pub(super) fn new(indicators: &'a [IndicatorFigures]) -> Self {
        let mut names = Vec::new();
        for (i, ind) in indicators.iter().enumerate() {
            for p in std::iter::once(&ind.name_vi).chain(&ind.synonyms) {
                let p = pattern(p);
                if !p.is_empty() {
                    names.push((i, p));
                }
            }
        }
        Known {
            indicators,
            names,
            denominators: indicators
                .iter()
                .map(|i| i.denominator_names.iter().map(|p| pattern(p)).collect())
                .collect(),
            targets: vocab::TARGET_WORDS.iter().map(|p| pattern(p)).collect(),
            previous: vocab::PREVIOUS_PERIOD.iter().map(|p| pattern(p)).collect(),
        }
    }
}

/// Every end (and slot) where `p` matches `toks` from `ti`.
fn match_at(p: &[Elem], toks: &[Token], ti: usize, slot: Option<usize>) -> Vec<(usize, Option<usize>)> {
    let Some((first, rest)) = p.split_first() else {
        return vec![(ti, slot)];
    };
    match first {
        Elem::Word(w) => match toks.get(ti) {
            Some(t) if token_word(t) == Some(w.as_str()) => match_at(rest, toks, ti + 1, slot),
            _ => Vec::new(),
        },
        Elem::Slot => match toks.get(ti).map(|t| &t.kind) {
            Some(Tok::Num(n)) if n.count().is_some() => match_at(rest, toks, ti + 1, Some(ti)),
            _ => Vec::new(),
        },
        Elem::Group {
            alternatives,
            optional,
        } => {
            let mut out = Vec::new();
            for alt in alternatives {
                let joined: Vec<Elem> = alt.iter().chain(rest).cloned().collect();
                out.extend(match_at(&joined, toks, ti, slot));
            }
            if *optional {
                out.extend(match_at(rest, toks, ti, slot));
            }
            out
        }
    }
}

/// The end of the longest match of any of `patterns` at `ti`.
fn longest(patterns: &[Vec<Elem>], toks: &[Token], ti: usize) -> Option<usize> {
    patterns
        .iter()
        .flat_map(|p| match_at(p, toks, ti, None))
        .map(|(end, _)| end)
        .filter(|end| *end > ti)
        .max()
}

#[derive(Debug, Clone, Copy)]
struct Mention {
    start: usize,
    end: usize,
    indicator: usize,
    slot: Option<usize>,
}

/// The indicators named in a sentence: longest matches first; the same span named by two
/// indicators names neither.
fn mentions(known: &Known<'_>, toks: &[Token]) -> Vec<Mention> {
    let mut found: Vec<Mention> = Vec::new();
    for ti in 0..toks.len() {
        for (indicator, p) in &known.names {
            for (end, slot) in match_at(p, toks, ti, None) {
                if end > ti {
                    found.push(Mention {
                        start: ti,
                        end,
                        indicator: *indicator,
                        slot,
                    });
                }
            }
        }
    }
    found.sort_by_key(|m| (std::cmp::Reverse(m.end - m.start), m.start, m.indicator));
    let mut taken = vec![false; toks.len()];
    let mut out: Vec<Mention> = Vec::new();
    let mut k = 0;
    while k < found.len() {
        let m = found[k];
        let same_span: Vec<&Mention> = found[k..]
            .iter()
            .take_while(|o| o.start == m.start && o.end == m.end)
            .collect();
        let ambiguous = same_span.iter().any(|o| o.indicator != m.indicator);
        let skip = same_span.len();
        if !taken[m.start..m.end].iter().any(|t| *t) {
            taken[m.start..m.end].iter_mut().for_each(|t| *t = true);
            if !ambiguous {
                out.push(m);
            }
        }
        k += skip;
    }
    out.sort_by_key(|m| m.start);
    out
}

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

fn word_at<'t>(toks: &'t [Token], i: usize) -> Option<&'t str> {
    toks.get(i).and_then(|t| t.kind.word())
}

/// The words from `i` joined, up to `n`, as one string ("so voi").
fn words_from(toks: &[Token], i: usize, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut acc = String::new();
    for k in i..(i + n).min(toks.len()) {
        let Some(w) = word_at(toks, k) else { break };
        if !acc.is_empty() {
            acc.push(' ');
        }
        acc.push_str(w);
        out.push(acc.clone());
    }
    out
}

/// How many tokens from `i` spell one of `set` (longest), or 0.
fn phrase_len(toks: &[Token], i: usize, set: &[&str]) -> usize {
    words_from(toks, i, 3)
        .iter()
        .enumerate()
        .filter(|(_, w)| set.contains(&w.as_str()))
        .map(|(k, _)| k + 1)
        .max()
        .unwrap_or(0)
}

fn num_at(toks: &[Token], i: usize) -> Option<&Num> {
    match toks.get(i).map(|t| &t.kind) {
        Some(Tok::Num(n)) => Some(n),
        _ => None,
    }
}

const LINK_WORDS: &[&str] = &["dat", "bang", "chiem", "tuong duong", "tuong ung", "ty le", "dat ty le", "tuc"];
const CONNECTORS: &[&str] = &["so voi", "cua", "tren", "tren tong so", "tong so", "tren tong", "so voi tong so", "trong tong so"];
const COUNT_LINKS: &[&str] = &["la", "dat", "co", "duoc", "gom", "tong so", "dat tong so", "len", "dat so"];
const CHANGE_BEFORE: &[&str] = &["tang", "giam", "them", "moi", "tang them", "giam di"];
const PERIOD_SCOPE: &[&str] = &["trong tuan", "trong thang", "trong ky", "trong ngay", "tuan nay", "ky nay", "thang nay", "trong nam"];

impl<'s, 'k> Sentence<'s, 'k> {
    fn new(field: &'static str, text: &'s str, convention: Convention, known: &'k Known<'k>) -> Self {
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
        Sentence { field, text, toks, clause, segment, mentions, known, used, claims: Vec::new() }
    }

    /// Whether the `;`-segment of token `i` names a locality ("xã Hà Đông").
    fn names_locality(&self, i: usize) -> bool {
        let seg = self.segment.get(i).copied().unwrap_or(0);
        (0..self.toks.len()).filter(|k| self.segment[*k] == seg).any(|k| {
            let n = phrase_len(&self.toks, k, vocab::LOCALITY_WORDS);
            n > 0
                && self.toks.get(k + n).is_some_and(|t| {
                    t.kind.word().is_some()
                        && self.text[t.start..].chars().next().is_some_and(char::is_uppercase)
                })
        })
    }

    fn segment_has(&self, i: usize, set: &[&str]) -> bool {
        let seg = self.segment.get(i).copied().unwrap_or(0);
        (0..self.toks.len())
            .filter(|k| self.segment[*k] == seg)
            .any(|k| words_from(&self.toks, k, 3).iter().any(|w| set.contains(&w.as_str())))
    }

    /// The indicator a figure at token `i` is said of (see the module docs).
    fn subject(&self, i: usize) -> Option<usize> {
        let mut c = self.clause[i];
        loop {
            let mut inds: Vec<usize> = self
                .mentions
                .iter()
                .filter(|m| self.clause[m.start] == c)
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
                self.clause[*k] == c && !matches!(self.toks[*k].kind, Tok::Punct(',') | Tok::Punct(';'))
            })?;
            let opens = matches!(self.toks[first].kind, Tok::Punct('=') | Tok::Punct('('))
                || phrase_len(&self.toks, first, vocab::LINKERS) > 0;
            if c == 0 || !opens || self.segment[first] != self.segment[i] {
                return None;
            }
            c -= 1;
        }
    }

    fn claim(&mut self, kind: ClaimKind, indicator: Option<usize>, printed: &Num, computed: f64, outcome: Outcome, vi: String, en: String) {
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
            match &t.kind {
                Tok::Num(n) => return (n.pct().is_some() && !self.used[j]).then_some(j),
                Tok::Word(_) => {
                    words += 1;
                    if words > 6 {
                        break;
                    }
                }
                Tok::Punct('(' | ':' | '=') => {}
                Tok::Punct(',') if commas == 0 && phrase_len(&self.toks, j + 1, LINK_WORDS) > 0 => commas += 1,
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

    fn ratios(&mut self) {
        for i in 0..self.toks.len() {
            let (a, b, end) = match &self.toks[i].kind {
                Tok::Ratio(a, b) => (a.clone(), b.clone(), i),
                Tok::Num(a) if a.count().is_some() => {
                    // "A [words] trên [tổng số] B".
                    let mut j = i + 1;
                    while j < self.toks.len() && j <= i + 3 && word_at(&self.toks, j).is_some_and(|w| w != "tren" && w != "trong") {
                        j += 1;
                    }
                    let n = phrase_len(&self.toks, j, &["tren", "tren tong so", "tren tong", "trong tong so"]);
                    if n == 0 {
                        continue;
                    }
                    match num_at(&self.toks, j + n) {
                        Some(b) if !b.percent && b.scale == 1.0 && b.value.is_some() => (a.clone(), b.clone(), j + n),
                        _ => continue,
                    }
                }
                _ => continue,
            };
            let (Some(x), Some(y)) = (a.scaled(), b.scaled()) else { continue };
            if y <= 0.0 || a.percent || b.percent {
                continue;
            }
            let Some(p) = self.percent_near(end + 1, i) else { continue };
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
                    format!("{ax}/{by} = {c} % (làm tròn); báo cáo ghi {pv} % là giá trị cắt bớt, chấp nhận"),
                    format!("{ax}/{by} = {c} % rounded; the report's {pv} % is truncated, accepted"),
                ),
                _ => (
                    format!("{ax}/{by} = {c} %, báo cáo ghi {pv} %"),
                    format!("{ax}/{by} = {c} %, the report says {pv} %"),
                ),
            };
            self.claim(ClaimKind::Ratio, None, &printed, computed, outcome, vi, en);
        }
    }

    fn percents(&mut self) {
        for i in 0..self.toks.len() {
            let Some(printed) = num_at(&self.toks, i).filter(|n| n.pct().is_some()).cloned() else { continue };
            if self.used[i] || self.names_locality(i) {
                continue;
            }
            let Some(ind) = self.subject(i) else { continue };
            let figures = &self.known.indicators[ind];
            let mut j = i + 1;
            j += phrase_len(&self.toks, j, CONNECTORS);
            let mut reference_count = num_at(&self.toks, j).filter(|n| n.count().is_some()).cloned();
            if reference_count.is_some() {
                j += 1;
            }
            let (kind, end, value) = if let Some(end) = longest(&self.known.denominators[ind], &self.toks, j) {
                (ClaimKind::PercentOfDenominator, end, figures.denominator)
            } else if let Some(end) = longest(&self.known.targets, &self.toks, j) {
                (ClaimKind::PercentOfTarget, end, figures.target)
            } else {
                continue;
            };
            let mut k = end;
            while matches!(self.toks.get(k).map(|t| &t.kind), Some(Tok::Punct('(' | ':'))) || word_at(&self.toks, k) == Some("la") {
                k += 1;
            }
            if reference_count.is_none() {
                reference_count = num_at(&self.toks, k).filter(|n| n.count().is_some()).cloned();
            }
            let (Some(total), Some(base)) = (figures.total, value) else { continue };
            if base <= 0.0 {
                continue;
            }
            let pct = printed.pct().unwrap_or_default();
            let computed = 100.0 * total / base;
            let outcome = compare_percent(pct, printed.decimals, computed);
            let name = &figures.name_vi;
            let (t, b) = (format_vi(total, 0), format_vi(base, 0));
            let (c, pv) = (format_vi(computed, printed.decimals), format_vi(pct, printed.decimals));
            let (base_vi, base_en) = if kind == ClaimKind::PercentOfTarget { ("chỉ tiêu", "target") } else { ("mẫu số", "denominator") };
            let (vi, en) = match outcome {
                Outcome::Truncated => (
                    format!("{name}: {t}/{b} ({base_vi}) = {c} % (làm tròn); báo cáo ghi {pv} % là giá trị cắt bớt, chấp nhận"),
                    format!("{}: {t}/{b} ({base_en}) = {c} % rounded; the report's {pv} % is truncated, accepted", figures.code),
                ),
                _ => (
                    format!("{name}: {t}/{b} ({base_vi}) = {c} %, báo cáo ghi {pv} %"),
                    format!("{}: {t}/{b} ({base_en}) = {c} %, the report says {pv} %", figures.code),
                ),
            };
            self.claim(kind, Some(ind), &printed, computed, outcome, vi, en);
            if let Some(r) = reference_count {
                let printed_ref = r.count().unwrap_or_default();
                let step = if r.scale > 1.0 { r.scale / 10f64.powi(r.decimals as i32) } else { 1.0 };
                let outcome = compare_count(printed_ref, step, base);
                if outcome == Outcome::Mismatch {
                    let pr = format_vi(printed_ref, 0);
                    self.claim(
                        ClaimKind::Reference,
                        Some(ind),
                        &r,
                        base,
                        outcome,
                        format!("{name}: {base_vi} theo số liệu là {b}, báo cáo ghi {pr}"),
                        format!("{}: the {base_en} in the figures is {b}, the report says {pr}", figures.code),
                    );
                }
            }
        }
    }

    fn counts(&mut self) {
        for m in self.mentions.clone() {
            let figures = &self.known.indicators[m.indicator];
            let Some(total) = figures.total else { continue };
            let at = m.slot.or_else(|| {
                if m.start > 0 && num_at(&self.toks, m.start - 1).is_some_and(|n| n.count().is_some()) {
                    return Some(m.start - 1);
                }
                let mut j = m.end;
                if self.toks.get(j).is_some_and(|t| t.kind == Tok::Punct(':')) {
                    j += 1;
                }
                j += phrase_len(&self.toks, j, COUNT_LINKS);
                num_at(&self.toks, j).filter(|n| n.count().is_some()).map(|_| j)
            });
            let Some(at) = at else { continue };
            let printed = num_at(&self.toks, at).cloned().expect("a number");
            let Some(value) = printed.count() else { continue };
            let before = (at.saturating_sub(2)..at).any(|k| phrase_len(&self.toks, k, CHANGE_BEFORE) > 0);
            if before || self.names_locality(at) || (!figures.flow && self.segment_has(at, PERIOD_SCOPE)) {
                continue;
            }
            let step = if printed.scale > 1.0 { printed.scale / 10f64.powi(printed.decimals as i32) } else { 1.0 };
            let outcome = compare_count(value, step, total);
            let (t, pv) = (format_vi(total, 0), printed.text.clone());
            let name = &figures.name_vi;
            self.claim(
                ClaimKind::Count,
                Some(m.indicator),
                &printed,
                total,
                outcome,
                format!("{name}: số liệu báo cáo là {t}, phần thuyết minh ghi {pv}"),
                format!("{}: the report's figures give {t}, the narrative says {pv}", figures.code),
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
            let Some(printed) = num_at(&self.toks, j).cloned() else { continue };
            if printed.hedged || printed.value.is_none() || printed.scale != 1.0 {
                continue;
            }
            // "so với tuần trước" after a few words, or right before "tăng".
            let after = (j + 1..(j + 6).min(self.toks.len())).take_while(|k| self.toks[*k].kind.word().is_some() || *k == j + 1).any(|k| longest(&self.known.previous, &self.toks, k).is_some());
            let before = (i.saturating_sub(6)..i).any(|k| longest(&self.known.previous, &self.toks, k).is_some_and(|end| end + 1 >= i && end <= i));
            if !(after || before) || self.names_locality(j) {
                continue;
            }
            let Some(ind) = self.subject(j) else { continue };
            let figures = &self.known.indicators[ind];
            let (Some(now), Some(prev)) = (figures.total, figures.previous_total) else { continue };
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
            let c = format_vi(computed, if printed.percent { printed.decimals } else { 0 });
            let (n, p) = (format_vi(now, 0), format_vi(prev, 0));
            self.claim(
                ClaimKind::Change,
                Some(ind),
                &printed,
                computed,
                outcome,
                format!("{name}: {n} so với {p} kỳ trước là {word} {c}{unit}, báo cáo ghi {word} {}", printed.text),
                format!("{}: {n} against {p} the previous period is a change of {}{c}{unit}, the report says {word} {}", figures.code, if sign > 0.0 { "+" } else { "−" }, printed.text),
            );
        }
    }
}

/// The claims of one sentence, checked.
pub(super) fn claims(field: &'static str, sentence: &str, convention: Convention, known: &Known<'_>) -> Vec<Claim> {
    let mut s = Sentence::new(field, sentence, convention, known);
    s.ratios();
    s.percents();
    s.counts();
    s.changes();
    s.claims
}
