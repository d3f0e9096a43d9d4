//! Finding what a sentence names: indicators (by name or synonym patterns) and phrases.

use std::sync::{Arc, LazyLock};

use super::IndicatorFigures;
use super::number::{Num, Tok, Token, token_word};
use super::vocab::{self, Elem, pattern, pattern_of};

/// The indicators with their patterns, parsed once per check; the fixed phrases parsed once.
pub(super) struct Known<'a> {
    pub(super) indicators: &'a [IndicatorFigures],
    /// (indicator index, pattern) for every name and synonym.
    pub(super) names: Vec<(usize, Arc<[Elem]>)>,
    /// Per indicator, the patterns naming its denominator.
    pub(super) denominators: Vec<Vec<Arc<[Elem]>>>,
    pub(super) targets: &'static [Vec<Elem>],
    pub(super) previous: &'static [Vec<Elem>],
}

static TARGETS: LazyLock<Vec<Vec<Elem>>> =
    LazyLock::new(|| vocab::TARGET_WORDS.iter().map(|p| pattern(p)).collect());
static PREVIOUS: LazyLock<Vec<Vec<Elem>>> =
    LazyLock::new(|| vocab::PREVIOUS_PERIOD.iter().map(|p| pattern(p)).collect());

impl<'a> Known<'a> {
    pub(super) fn new(indicators: &'a [IndicatorFigures]) -> Self {
        let mut names = Vec::new();
        for (i, ind) in indicators.iter().enumerate() {
            for p in std::iter::once(&ind.name_vi).chain(&ind.synonyms) {
                let p = pattern_of(p);
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
                .map(|i| i.denominator_names.iter().map(|p| pattern_of(p)).collect())
                .collect(),
            targets: &TARGETS,
            previous: &PREVIOUS,
        }
    }
}

/// Every end (and slot) where `p` matches `toks` from `ti`.
pub(super) fn match_at(
    p: &[Elem],
    toks: &[Token],
    ti: usize,
    slot: Option<usize>,
) -> Vec<(usize, Option<usize>)> {
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
            // Matching `alt` then `rest` from each of its ends is matching `alt ++ rest`, the
            // same ends in the same order, without building the joined pattern (the copy of its
            // words was most of a report's narrative check).
            let mut out = Vec::new();
            for alt in alternatives {
                for (end, slot) in match_at(alt, toks, ti, slot) {
                    out.extend(match_at(rest, toks, end, slot));
                }
            }
            if *optional {
                out.extend(match_at(rest, toks, ti, slot));
            }
            out
        }
    }
}

/// The end of the longest match of any of `patterns` at `ti`.
pub(super) fn longest<P: AsRef<[Elem]>>(
    patterns: &[P],
    toks: &[Token],
    ti: usize,
) -> Option<usize> {
    patterns
        .iter()
        .flat_map(|p| match_at(p.as_ref(), toks, ti, None))
        .map(|(end, _)| end)
        .filter(|end| *end > ti)
        .max()
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Mention {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) indicator: usize,
    pub(super) slot: Option<usize>,
}

/// The indicators named in a sentence: longest matches first; the same span named by two
/// indicators names neither.
pub(super) fn mentions(known: &Known<'_>, toks: &[Token]) -> Vec<Mention> {
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

pub(super) fn word_at(toks: &[Token], i: usize) -> Option<&str> {
    toks.get(i).and_then(|t| t.kind.word())
}

/// The words from `i` joined, up to `n`, as one string ("so voi").
pub(super) fn words_from(toks: &[Token], i: usize, n: usize) -> Vec<String> {
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
pub(super) fn phrase_len(toks: &[Token], i: usize, set: &[&str]) -> usize {
    words_from(toks, i, 3)
        .iter()
        .enumerate()
        .filter(|(_, w)| set.contains(&w.as_str()))
        .map(|(k, _)| k + 1)
        .max()
        .unwrap_or(0)
}

pub(super) fn num_at(toks: &[Token], i: usize) -> Option<&Num> {
    match toks.get(i).map(|t| &t.kind) {
        Some(Tok::Num(n)) => Some(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::narrative::number::{Convention, tokenize};

    /// The matcher as first written: each alternative joined with the rest of the pattern, then
    /// matched as one sequence. [`match_at`] must give the same ends and slots in the same order.
    fn joined_reference(
        p: &[Elem],
        toks: &[Token],
        ti: usize,
        slot: Option<usize>,
    ) -> Vec<(usize, Option<usize>)> {
        let Some((first, rest)) = p.split_first() else {
            return vec![(ti, slot)];
        };
        match first {
            Elem::Word(w) => match toks.get(ti) {
                Some(t) if token_word(t) == Some(w.as_str()) => {
                    joined_reference(rest, toks, ti + 1, slot)
                }
                _ => Vec::new(),
            },
            Elem::Slot => match toks.get(ti).map(|t| &t.kind) {
                Some(Tok::Num(n)) if n.count().is_some() => {
                    joined_reference(rest, toks, ti + 1, Some(ti))
                }
                _ => Vec::new(),
            },
            Elem::Group {
                alternatives,
                optional,
            } => {
                let mut out = Vec::new();
                for alt in alternatives {
                    let joined: Vec<Elem> = alt.iter().chain(rest).cloned().collect();
                    out.extend(joined_reference(&joined, toks, ti, slot));
                }
                if *optional {
                    out.extend(joined_reference(rest, toks, ti, slot));
                }
                out
            }
        }
    }

    #[test]
    fn matching_a_group_then_the_rest_is_matching_them_joined() {
        let mut patterns: Vec<&str> = vocab::SYNONYMS
            .iter()
            .flat_map(|(_, synonyms)| synonyms.iter().copied())
            .collect();
        patterns.extend(vocab::TARGET_WORDS);
        patterns.extend(vocab::PREVIOUS_PERIOD);
        // Adjacent groups, slots in alternatives, optional slots, an alternative that is a prefix of
        // another.
        patterns.extend([
            "[đã] {kích hoạt|kích hoạt được} [#] [tài khoản] {mức [độ]|mức} 2",
            "{# tài khoản|tài khoản #} [{đã|được}] kích hoạt",
            "[#] [#] xã",
        ]);
        let sentences = [
            "Đã kích hoạt được 12.345 tài khoản mức độ 2, đạt 40,8 % chỉ tiêu so với tuần trước.",
            "tài khoản định danh điện tử mức 2 đã được kích hoạt 658.536 tài khoản",
            "12 34 xã đạt chỉ tiêu; 5 tài khoản đã kích hoạt; tài khoản 7 được kích hoạt",
            "Dân số thường trú 1.880.724 người, công dân thường trú tăng so với kỳ trước",
        ];
        for sentence in sentences {
            let toks = tokenize(sentence, Convention::of(sentence));
            for text in &patterns {
                let p = pattern(text);
                for ti in 0..=toks.len() {
                    assert_eq!(
                        match_at(&p, &toks, ti, None),
                        joined_reference(&p, &toks, ti, None),
                        "{text:?} at token {ti} of {sentence:?}"
                    );
                }
            }
        }
        // Not vacuous: the sentences name what the patterns say.
        let toks = tokenize(sentences[2], Convention::of(sentences[2]));
        let p = pattern("{# tài khoản|tài khoản #} [{đã|được}] kích hoạt");
        let found: Vec<_> = (0..toks.len())
            .flat_map(|ti| match_at(&p, &toks, ti, None))
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
    }
}
