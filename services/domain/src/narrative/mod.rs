//! The figures a report's narrative quotes, checked against the report's own figures.
//!
//! Reports are half narrative, and the narrative is where slips hide ("186.568/738.291 (24,37 %)"
//! where the counts give 25,27 %). [`check`] reads the numbers of the assessment, obstacles and
//! proposals ([`number`] says how) and checks every claim it can tie to figures:
//!
//! | claim | example | computed from |
//! |---|---|---|
//! | **ratio** | `186.568/738.291 (24,37 %)`, `14.571 trên 20.934 hồ sơ, đạt 85,7 %` | the two printed counts |
//! | **count** of an indicator | `kích hoạt 704.828 tài khoản định danh điện tử mức 2` | the report's total of it |
//! | **% of denominator** | `…, đạt 40,8 % dân số` | report total ÷ denominator total (e.g. residents) |
//! | **% of target** | `…, đạt 73,3 % chỉ tiêu (961.566)` | report total ÷ target; a printed target is checked too |
//! | **change** | `…, tăng 8.221 so với tuần trước` | report total − previous period's total |
//!
//! An indicator is named by its catalog name (`name_vi`) or a synonym of [`vocab::SYNONYMS`]. A
//! count or percentage belongs to the indicator named in its clause (clauses end at `,` and `;`),
//! or — when its clause opens with "đạt", "bằng", "chiếm", "tăng", … — to the one indicator named
//! in the clause before it. A claim is left alone when it cannot be tied precisely: no indicator or
//! more than one, a hedged figure ("khoảng", "hơn", "gần"…), an unreadable number (`704,828` without
//! a convention), a named locality in the sentence ("xã Hà Đông": its figures are not the
//! report's totals), a period-scoped count of a stock ("trong tuần"), a percentage whose base is not
//! named, a figure the caller does not have.
//!
//! Percentages compare at the printed precision: `40,8 %` matches anything that rounds to 40,8. A
//! percentage that matches only when the computed value is truncated instead of rounded
//! (194.675/194.703 = 99,9856… printed 99,98 %) is accepted with a note, not a mismatch. Counts
//! compare exactly; a count with a multiplier word (`705 nghìn`) to its last printed digit.

mod matching;
pub mod number;
mod rules;
pub mod vocab;

use serde::{Deserialize, Serialize};

/// What the check needs to know of one indicator: names and the report's figures. The caller
/// fills it from the catalog and the report; `None` where a figure is not known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndicatorFigures {
    pub code: String,
    /// The catalog's Vietnamese name.
    pub name_vi: String,
    /// More ways to name it, as patterns (see [`vocab`]); [`vocab::synonyms`] gives the built-in ones.
    pub synonyms: Vec<String>,
    /// A flow counts within the period (a "trong tuần" count is its total); a stock is cumulative.
    pub flow: bool,
    /// The report's total of the indicator (province total, or the sum of its localities).
    pub total: Option<f64>,
    /// The target due for the period, summed like the total.
    pub target: Option<f64>,
    /// The denominator's total (e.g. permanent residents), and the phrases naming it.
    pub denominator: Option<f64>,
    pub denominator_names: Vec<String>,
    /// The total of the previous revision or period of the series.
    pub previous_total: Option<f64>,
}

/// The three narrative texts, by field name.
#[derive(Debug, Clone, Copy, Default)]
pub struct NarrativeTexts<'a> {
    pub assessment: &'a str,
    pub obstacles: &'a str,
    pub proposals: &'a str,
}

/// Which kind of claim was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClaimKind {
    Ratio,
    Count,
    PercentOfDenominator,
    PercentOfTarget,
    /// A printed target or denominator count.
    Reference,
    Change,
}

/// How a claim compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Match,
    /// Matches when the computed value is truncated to the printed precision, not when rounded.
    Truncated,
    Mismatch,
}

/// One claim of the narrative and how it compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// `assessment`, `obstacles` or `proposals`.
    pub field: String,
    /// The sentence, as written.
    pub sentence: String,
    pub kind: ClaimKind,
    /// The indicator the claim is about (none for a bare ratio).
    pub indicator: Option<String>,
    /// The value printed (per cent for percentages) and as written.
    pub printed: f64,
    pub printed_text: String,
    /// The value computed from the figures, and written the Vietnamese way at the printed precision.
    pub computed: f64,
    pub computed_text: String,
    pub outcome: Outcome,
    /// "186.568/738.291 = 25,27 %, báo cáo ghi 24,37 %".
    pub message_vi: String,
    pub message_en: String,
}

/// Every claim checked, in the order of the texts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NarrativeCheck {
    pub claims: Vec<Claim>,
}

impl NarrativeCheck {
    /// The claims the figures contradict.
    pub fn mismatches(&self) -> impl Iterator<Item = &Claim> {
        self.claims
            .iter()
            .filter(|c| c.outcome == Outcome::Mismatch)
    }

    /// The claims accepted with a note (truncated percentages).
    pub fn notes(&self) -> impl Iterator<Item = &Claim> {
        self.claims
            .iter()
            .filter(|c| c.outcome == Outcome::Truncated)
    }
}

/// Checks the narrative's claims against `indicators` (every indicator the narrative may name,
/// with figures where the report has them). Pure and deterministic.
pub fn check(texts: NarrativeTexts<'_>, indicators: &[IndicatorFigures]) -> NarrativeCheck {
    let known = matching::Known::new(indicators);
    let mut claims = Vec::new();
    for (field, text) in [
        ("assessment", texts.assessment),
        ("obstacles", texts.obstacles),
        ("proposals", texts.proposals),
    ] {
        let convention = number::Convention::of(text);
        for (_, sentence) in number::sentences(text) {
            claims.extend(rules::claims(field, sentence, convention, &known));
        }
    }
    NarrativeCheck { claims }
}

/// Compares a printed percentage (with `decimals` places) with a computed one.
pub fn compare_percent(printed: f64, decimals: u32, computed: f64) -> Outcome {
    let f = 10f64.powi(decimals as i32);
    let p = (printed * f).round();
    let c = computed * f;
    if (c - p).abs() <= 0.5 + 1e-9 {
        Outcome::Match
    } else if (c + 1e-9).floor() == p {
        Outcome::Truncated
    } else {
        Outcome::Mismatch
    }
}

/// Compares a printed count (exact, or to `step` for "705 nghìn") with a computed one.
pub fn compare_count(printed: f64, step: f64, computed: f64) -> Outcome {
    if step <= 1.0 {
        if (printed - computed).abs() < 0.5 {
            Outcome::Match
        } else {
            Outcome::Mismatch
        }
    } else {
        let p = (printed / step).round();
        let c = computed / step;
        if (c - p).abs() <= 0.5 + 1e-9 || (c + 1e-9).floor() == p {
            Outcome::Match
        } else {
            Outcome::Mismatch
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_compare_at_the_printed_precision() {
        assert_eq!(compare_percent(40.8, 1, 40.800_08), Outcome::Match);
        assert_eq!(compare_percent(25.27, 2, 25.2705), Outcome::Match);
        assert_eq!(compare_percent(24.37, 2, 25.2705), Outcome::Mismatch);
        let c = 194_675.0 / 194_703.0 * 100.0;
        assert_eq!(compare_percent(99.99, 2, c), Outcome::Match);
        assert_eq!(compare_percent(99.98, 2, c), Outcome::Truncated);
        assert_eq!(compare_percent(41.0, 0, 40.8), Outcome::Match);
        assert_eq!(compare_percent(40.0, 0, 40.8), Outcome::Truncated);
        assert_eq!(compare_percent(85.7, 1, 69.6), Outcome::Mismatch);
    }

    #[test]
    fn counts_compare_exactly_or_to_the_printed_digit() {
        assert_eq!(compare_count(704_828.0, 1.0, 704_828.0), Outcome::Match);
        assert_eq!(compare_count(704_882.0, 1.0, 704_828.0), Outcome::Mismatch);
        assert_eq!(compare_count(705_000.0, 1000.0, 704_828.0), Outcome::Match);
        assert_eq!(compare_count(704_000.0, 1000.0, 704_828.0), Outcome::Match);
        assert_eq!(
            compare_count(1_490_000.0, 10_000.0, 1_494_541.0),
            Outcome::Match
        );
        assert_eq!(
            compare_count(1_600_000.0, 100_000.0, 1_494_541.0),
            Outcome::Mismatch
        );
    }
}
