//! The specificity score of a report: 0–100, with machine-readable reasons, to flag reports that are
//! "chung chung" (vague).
//!
//! Every rule is explainable and weighted by configuration ([`SpecificityConfig`], defaults in
//! brackets). Each rule that fires adds one [`SpecificityReason`] with a stable code, its penalty,
//! an English and a Vietnamese sentence (with the numbers in it) and its subjects. The score is
//! `max(0, 100 − Σ penalties)`, and a report scoring below `threshold` [60] is VAGUE.
//!
//! | code | fires when | penalty | subjects |
//! |---|---|---|---|
//! | `REQUIRED_INDICATORS_MISSING` | a required indicator has no figure at all | `missing_indicators` [30] × share missing | the missing codes |
//! | `LOCALITIES_NOT_COVERED` | required localities (e.g. every commune) have no figure — a province total alone covers no commune | `uncovered_localities` [30] × share uncovered | up to 20 uncovered codes (the count is in the sentence) |
//! | `NO_ASSESSMENT` | the assessment, trimmed, has fewer than `min_assessment_chars` [20] characters (empty counts) | `no_assessment` [20] | — |
//! | `BEHIND_TARGET_WITHOUT_PROPOSAL` | some indicator is behind target (as computed by the caller) and the proposals are empty | `behind_without_proposal` [15] | the lagging indicators |
//! | `HEDGING_WITHOUT_FIGURES` | the narrative (assessment, obstacles, proposals) uses a hedging phrase and contains no digit | `hedging` [15] | the phrases found |
//! | `IDENTICAL_TO_PREVIOUS` | at least `identical_min_figures` [3] figures can be compared with the previous period's, and at least `identical_share` [0.9] of them are equal | `identical` [20] | up to 20 identical series as `indicator@locality` |
//!
//! **Scaled penalties.** The two coverage rules scale with how much is missing:
//! `round(weight × max(share, 1/4))`, where share = missing ÷ required. One of two indicators
//! missing costs 15 of 30; one of 218 communes missing still costs ¼ × 30 = 8 (rounded), because
//! any gap in coverage matters; everything missing costs the full weight. The other rules cost their
//! full weight when they fire.
//!
//! **Hedging phrases** (default: "cơ bản hoàn thành", "tích cực triển khai", "đang triển khai",
//! "cơ bản đáp ứng", "từng bước", "chưa đạt yêu cầu", "đang tiếp tục"…, see
//! [`SpecificityConfig::default`]) match case-insensitively, with or without Vietnamese diacritics
//! (precomposed or combining, đ → d), on whole words: both the text and each phrase are folded by
//! [`fold`] and split into words at anything that is not a letter or digit, and the phrase's words
//! must appear consecutively. "co ban hoan thanh" thus matches "Cơ bản hoàn thành,". A narrative
//! with any digit ("19/218 xã", "40,8%") is considered to carry figures and is not penalised.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// Stable reason codes.
pub mod codes {
    pub const REQUIRED_INDICATORS_MISSING: &str = "REQUIRED_INDICATORS_MISSING";
    pub const LOCALITIES_NOT_COVERED: &str = "LOCALITIES_NOT_COVERED";
    pub const NO_ASSESSMENT: &str = "NO_ASSESSMENT";
    pub const BEHIND_TARGET_WITHOUT_PROPOSAL: &str = "BEHIND_TARGET_WITHOUT_PROPOSAL";
    pub const HEDGING_WITHOUT_FIGURES: &str = "HEDGING_WITHOUT_FIGURES";
    pub const IDENTICAL_TO_PREVIOUS: &str = "IDENTICAL_TO_PREVIOUS";
}

/// Weights, thresholds and phrases; every field has a documented default, and a configuration
/// file may set only some of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpecificityConfig {
    /// Reports scoring below this (0–100) are flagged VAGUE. Default 60.
    pub threshold: u8,
    /// Full penalty of `REQUIRED_INDICATORS_MISSING`, scaled by the share missing. Default 30.
    pub missing_indicators: u8,
    /// Full penalty of `LOCALITIES_NOT_COVERED`, scaled by the share uncovered. Default 30.
    pub uncovered_localities: u8,
    /// Penalty of `NO_ASSESSMENT`. Default 20.
    pub no_assessment: u8,
    /// Penalty of `BEHIND_TARGET_WITHOUT_PROPOSAL`. Default 15.
    pub behind_without_proposal: u8,
    /// Penalty of `HEDGING_WITHOUT_FIGURES`. Default 15.
    pub hedging: u8,
    /// Penalty of `IDENTICAL_TO_PREVIOUS`. Default 20.
    pub identical: u8,
    /// Shortest assessment (characters, trimmed) that counts as one. Default 20.
    pub min_assessment_chars: usize,
    /// Share (0–1) of comparable figures equal to the previous period's that counts as
    /// "identical". Default 0.9 ("nearly all"); 1.0 means all.
    pub identical_share: f64,
    /// Fewest comparable figures for the identical rule to apply. Default 3.
    pub identical_min_figures: usize,
    /// Hedging phrases, with or without diacritics.
    pub hedging_phrases: Vec<String>,
}

impl Default for SpecificityConfig {
    fn default() -> Self {
        SpecificityConfig {
            threshold: 60,
            missing_indicators: 30,
            uncovered_localities: 30,
            no_assessment: 20,
            behind_without_proposal: 15,
            hedging: 15,
            identical: 20,
            min_assessment_chars: 20,
            identical_share: 0.9,
            identical_min_figures: 3,
            hedging_phrases: [
                "cơ bản hoàn thành",
                "tích cực triển khai",
                "đang triển khai",
                "cơ bản đáp ứng",
                "từng bước",
                "chưa đạt yêu cầu",
                "đang tiếp tục",
                "khẩn trương",
                "quyết liệt",
                "đạt kết quả tích cực",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// A configuration that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecificityConfigError {
    #[error("threshold {0} must be between 0 and 100")]
    ThresholdOutOfRange(u8),
    #[error("identical_share {0} must be between 0 and 1")]
    IdenticalShareOutOfRange(f64),
    #[error("hedging phrase #{0} is empty")]
    EmptyHedgingPhrase(usize),
}

impl SpecificityConfig {
    /// Checks ranges: threshold ≤ 100, 0 ≤ identical_share ≤ 1, no empty phrase.
    pub fn validate(&self) -> Result<(), SpecificityConfigError> {
        if self.threshold > 100 {
            return Err(SpecificityConfigError::ThresholdOutOfRange(self.threshold));
        }
        if !(0.0..=1.0).contains(&self.identical_share) {
            return Err(SpecificityConfigError::IdenticalShareOutOfRange(
                self.identical_share,
            ));
        }
        if let Some(i) = self
            .hedging_phrases
            .iter()
            .position(|p| words(p).is_empty())
        {
            return Err(SpecificityConfigError::EmptyHedgingPhrase(i));
        }
        Ok(())
    }
}

/// What the score is computed from (the caller gathers it from the report, the obligation, the
/// targets and the previous period).
#[derive(Debug, Clone, Default)]
pub struct SpecificityInput<'a> {
    /// Indicators the obligation requires.
    pub required_indicators: &'a [String],
    /// Localities the obligation requires figures for (codes at the required level).
    pub required_localities: &'a [String],
    /// (indicator, locality code, value) of the report.
    pub observations: &'a [(&'a str, &'a str, f64)],
    pub assessment: &'a str,
    pub obstacles: &'a str,
    pub proposals: &'a str,
    /// Indicators with at least one figure below its target.
    pub behind_target: &'a [String],
    /// The previous period's figures of the same series, by (indicator, locality code); `None`
    /// when there is no previous report.
    pub previous: Option<&'a HashMap<(&'a str, &'a str), f64>>,
}

/// One rule that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecificityReason {
    /// One of [`codes`].
    pub code: String,
    pub penalty: u8,
    pub explanation_en: String,
    pub explanation_vi: String,
    /// What the reason is about (indicator codes, locality codes, phrases…).
    pub subjects: Vec<String>,
}

/// The score, whether it is below the threshold, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecificityAssessment {
    pub score: u8,
    pub vague: bool,
    pub reasons: Vec<SpecificityReason>,
}

/// `round(weight × max(share, 1/4))`, share clamped to [1/4, 1].
fn scaled(weight: u8, share: f64) -> u8 {
    let share = share.clamp(0.25, 1.0);
    (f64::from(weight) * share).round() as u8
}

/// At most this many subjects are listed in a reason (the count is in the explanation).
pub const MAX_SUBJECTS: usize = 20;

fn listed<S: AsRef<str>>(items: &[S]) -> String {
    let mut text = items
        .iter()
        .take(MAX_SUBJECTS)
        .map(AsRef::as_ref)
        .collect::<Vec<&str>>()
        .join(", ");
    if items.len() > MAX_SUBJECTS {
        text.push_str(", …");
    }
    text
}

/// Scores a report. Pure: the same input and configuration always give the same assessment, with
/// the reasons in the order of the table in the module docs.
pub fn assess(input: &SpecificityInput<'_>, config: &SpecificityConfig) -> SpecificityAssessment {
    let mut reasons = Vec::new();
    let reported: HashSet<&str> = input.observations.iter().map(|(i, _, _)| *i).collect();

    let missing: Vec<String> = input
        .required_indicators
        .iter()
        .filter(|i| !reported.contains(i.as_str()))
        .cloned()
        .collect();
    if !missing.is_empty() {
        let required = input.required_indicators.len();
        let share = missing.len() as f64 / required as f64;
        reasons.push(SpecificityReason {
            code: codes::REQUIRED_INDICATORS_MISSING.into(),
            penalty: scaled(config.missing_indicators, share),
            explanation_en: format!(
                "{} of {required} required indicators have no figure: {}",
                missing.len(),
                listed(&missing)
            ),
            explanation_vi: format!(
                "{}/{required} chỉ tiêu bắt buộc không có số liệu: {}",
                missing.len(),
                listed(&missing)
            ),
            subjects: missing,
        });
    }

    let covered: HashSet<&str> = input.observations.iter().map(|(_, l, _)| *l).collect();
    // Borrowed: a one-commune report leaves hundreds uncovered, of which only a few are kept.
    let uncovered: Vec<&str> = input
        .required_localities
        .iter()
        .map(String::as_str)
        .filter(|l| !covered.contains(l))
        .collect();
    if !uncovered.is_empty() {
        let required = input.required_localities.len();
        let share = uncovered.len() as f64 / required as f64;
        reasons.push(SpecificityReason {
            code: codes::LOCALITIES_NOT_COVERED.into(),
            penalty: scaled(config.uncovered_localities, share),
            explanation_en: format!(
                "{} of {required} required localities have no figures (e.g. {})",
                uncovered.len(),
                listed(&uncovered[..uncovered.len().min(5)])
            ),
            explanation_vi: format!(
                "{}/{required} địa bàn bắt buộc không có số liệu (ví dụ {})",
                uncovered.len(),
                listed(&uncovered[..uncovered.len().min(5)])
            ),
            subjects: uncovered
                .iter()
                .take(MAX_SUBJECTS)
                .map(|l| (*l).to_owned())
                .collect(),
        });
    }

    let assessment_chars = input.assessment.trim().chars().count();
    if assessment_chars < config.min_assessment_chars {
        let (en, vi) = if assessment_chars == 0 {
            (
                "the report gives no assessment against targets".to_owned(),
                "báo cáo không có đánh giá kết quả so với chỉ tiêu".to_owned(),
            )
        } else {
            (
                format!(
                    "the assessment has only {assessment_chars} characters (at least {} expected)",
                    config.min_assessment_chars
                ),
                format!(
                    "phần đánh giá chỉ có {assessment_chars} ký tự (cần ít nhất {})",
                    config.min_assessment_chars
                ),
            )
        };
        reasons.push(SpecificityReason {
            code: codes::NO_ASSESSMENT.into(),
            penalty: config.no_assessment,
            explanation_en: en,
            explanation_vi: vi,
            subjects: Vec::new(),
        });
    }

    if !input.behind_target.is_empty() && input.proposals.trim().is_empty() {
        reasons.push(SpecificityReason {
            code: codes::BEHIND_TARGET_WITHOUT_PROPOSAL.into(),
            penalty: config.behind_without_proposal,
            explanation_en: format!(
                "{} indicator(s) are behind target ({}) and no remedy is proposed",
                input.behind_target.len(),
                listed(input.behind_target)
            ),
            explanation_vi: format!(
                "{} chỉ tiêu chưa đạt ({}) nhưng không có đề xuất, giải pháp",
                input.behind_target.len(),
                listed(input.behind_target)
            ),
            subjects: input.behind_target.to_vec(),
        });
    }

    let narrative = [input.assessment, input.obstacles, input.proposals];
    let hedges = hedging_phrases_in(&narrative.join("\n"), &config.hedging_phrases);
    let has_figures = narrative
        .iter()
        .any(|t| t.chars().any(|c| c.is_ascii_digit()));
    if !hedges.is_empty() && !has_figures {
        reasons.push(SpecificityReason {
            code: codes::HEDGING_WITHOUT_FIGURES.into(),
            penalty: config.hedging,
            explanation_en: format!(
                "the narrative hedges with {} phrase(s) ({}) without giving any figure",
                hedges.len(),
                hedges.join("; ")
            ),
            explanation_vi: format!(
                "phần đánh giá dùng {} cụm từ chung chung ({}) mà không nêu số liệu",
                hedges.len(),
                hedges.join("; ")
            ),
            subjects: hedges,
        });
    }

    if let Some(previous) = input.previous {
        let mut comparable = 0usize;
        let mut same: Vec<String> = Vec::new();
        for (i, l, v) in input.observations {
            if let Some(p) = previous.get(&(*i, *l)) {
                comparable += 1;
                if p == v {
                    same.push(format!("{i}@{l}"));
                }
            }
        }
        if comparable >= config.identical_min_figures
            && same.len() as f64 >= config.identical_share * comparable as f64
        {
            reasons.push(SpecificityReason {
                code: codes::IDENTICAL_TO_PREVIOUS.into(),
                penalty: config.identical,
                explanation_en: format!(
                    "{} of {comparable} figures are identical to the previous period's",
                    same.len()
                ),
                explanation_vi: format!("{}/{comparable} số liệu giống hệt kỳ trước", same.len()),
                subjects: same.into_iter().take(MAX_SUBJECTS).collect(),
            });
        }
    }

    let penalty: u32 = reasons.iter().map(|r| u32::from(r.penalty)).sum();
    let score = 100u32.saturating_sub(penalty) as u8;
    SpecificityAssessment {
        score,
        vague: score < config.threshold,
        reasons,
    }
}

/// The configured phrases that occur in `text` (as configured, in configuration order), matched
/// on whole folded words.
pub fn hedging_phrases_in(text: &str, phrases: &[String]) -> Vec<String> {
    let text = words(text);
    phrases
        .iter()
        .filter(|phrase| {
            let phrase = words(phrase);
            !phrase.is_empty() && text.windows(phrase.len()).any(|w| w == phrase.as_slice())
        })
        .cloned()
        .collect()
}

/// The folded words of `text`, split at anything that is not a letter or digit.
fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Lower-cases and strips Vietnamese diacritics (precomposed letters and combining marks U+0300–
/// U+036F; đ → d), collapsing whitespace: `fold("Đang  TRIỂN khai") == "dang trien khai"`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        let base = strip(c);
        if base.is_whitespace() {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(base);
            space = false;
        }
    }
    out.trim_end().to_owned()
}

/// The base letter of a lower-case Vietnamese letter with diacritics.
fn strip(c: char) -> char {
    const GROUPS: &[(char, &str)] = &[
        ('a', "àáảãạăằắẳẵặâầấẩẫậ"),
        ('e', "èéẻẽẹêềếểễệ"),
        ('i', "ìíỉĩị"),
        ('o', "òóỏõọôồốổỗộơờớởỡợ"),
        ('u', "ùúủũụưừứửữự"),
        ('y', "ỳýỷỹỵ"),
        ('d', "đ"),
    ];
    if c.is_ascii() {
        return c;
    }
    GROUPS
        .iter()
        .find(|(_, accented)| accented.contains(c))
        .map_or(c, |(base, _)| *base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn obs(v: &[(&str, &str, f64)]) -> Vec<(String, String, f64)> {
        v.iter()
            .map(|(i, l, x)| (i.to_string(), l.to_string(), *x))
            .collect()
    }

    /// Observations as the input borrows them.
    fn borrowed(observations: &[(String, String, f64)]) -> Vec<(&str, &str, f64)> {
        observations
            .iter()
            .map(|(i, l, v)| (i.as_str(), l.as_str(), *v))
            .collect()
    }

    /// A previous period's figures as the input borrows them.
    fn borrowed_previous(previous: &HashMap<(String, String), f64>) -> HashMap<(&str, &str), f64> {
        previous
            .iter()
            .map(|((i, l), v)| ((i.as_str(), l.as_str()), *v))
            .collect()
    }

    struct Case {
        required_indicators: Vec<String>,
        required_localities: Vec<String>,
        observations: Vec<(String, String, f64)>,
        assessment: String,
        obstacles: String,
        proposals: String,
        behind: Vec<String>,
        previous: Option<HashMap<(String, String), f64>>,
    }

    impl Case {
        fn specific() -> Case {
            Case {
                required_indicators: s(&["a", "b"]),
                required_localities: s(&["1", "2"]),
                observations: obs(&[
                    ("a", "1", 10.0),
                    ("a", "2", 20.0),
                    ("b", "1", 5.0),
                    ("b", "2", 6.0),
                ]),
                assessment: "Đạt 40,8% dân số; 19/218 xã đạt chỉ tiêu.".into(),
                obstacles: String::new(),
                proposals: "Tăng cường tổ lưu động tại các xã chưa đạt.".into(),
                behind: vec![],
                previous: None,
            }
        }

        fn assess(&self) -> SpecificityAssessment {
            let observations = borrowed(&self.observations);
            let previous = self.previous.as_ref().map(borrowed_previous);
            assess(
                &SpecificityInput {
                    required_indicators: &self.required_indicators,
                    required_localities: &self.required_localities,
                    observations: &observations,
                    assessment: &self.assessment,
                    obstacles: &self.obstacles,
                    proposals: &self.proposals,
                    behind_target: &self.behind,
                    previous: previous.as_ref(),
                },
                &SpecificityConfig::default(),
            )
        }
    }

    fn codes(a: &SpecificityAssessment) -> Vec<&str> {
        a.reasons.iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn a_specific_report_scores_100() {
        let a = Case::specific().assess();
        assert_eq!((a.score, a.vague, a.reasons.len()), (100, false, 0));
    }

    #[test]
    fn each_reason_alone() {
        let mut c = Case::specific();
        c.observations.retain(|(i, _, _)| i == "a");
        let a = c.assess();
        assert_eq!(codes(&a), ["REQUIRED_INDICATORS_MISSING"]);
        assert_eq!((a.score, a.reasons[0].subjects.clone()), (85, s(&["b"])));

        let mut c = Case::specific();
        c.observations.retain(|(_, l, _)| l == "1");
        assert_eq!(codes(&c.assess()), ["LOCALITIES_NOT_COVERED"]);

        let mut c = Case::specific();
        c.assessment = "  ".into();
        assert_eq!(
            (codes(&c.assess()), c.assess().score),
            (vec!["NO_ASSESSMENT"], 80)
        );

        let mut c = Case::specific();
        c.behind = s(&["a"]);
        c.proposals.clear();
        assert_eq!(codes(&c.assess()), ["BEHIND_TARGET_WITHOUT_PROPOSAL"]);

        let mut c = Case::specific();
        c.assessment =
            "Cơ bản hoàn thành các nhiệm vụ, tích cực triển khai đề án trên địa bàn".into();
        assert_eq!(codes(&c.assess()), ["HEDGING_WITHOUT_FIGURES"]);

        let mut c = Case::specific();
        c.previous = Some(
            c.observations
                .iter()
                .map(|(i, l, v)| ((i.clone(), l.clone()), *v))
                .collect(),
        );
        assert_eq!(codes(&c.assess()), ["IDENTICAL_TO_PREVIOUS"]);
    }

    #[test]
    fn reasons_combine_below_the_threshold() {
        let mut c = Case::specific();
        c.observations = obs(&[("a", "1", 10.0)]);
        c.assessment = "co ban hoan thanh".into();
        c.behind = s(&["a"]);
        c.proposals.clear();
        let a = c.assess();
        assert_eq!(
            codes(&a),
            [
                "REQUIRED_INDICATORS_MISSING",
                "LOCALITIES_NOT_COVERED",
                "NO_ASSESSMENT",
                "BEHIND_TARGET_WITHOUT_PROPOSAL",
                "HEDGING_WITHOUT_FIGURES"
            ]
        );
        assert_eq!(a.score, 100 - 15 - 15 - 20 - 15 - 15);
        assert!(a.vague);
    }

    #[test]
    fn hedging_matches_with_and_without_diacritics() {
        assert_eq!(fold("Đang  TRIỂN khai"), "dang trien khai");
        assert!(fold("Chúng tôi đang triển khai").contains(&fold("dang trien khai")));
        let mut c = Case::specific();
        c.assessment = "Dang trien khai, tich cuc trien khai tai cac xa trong tinh".into();
        assert_eq!(codes(&c.assess()), ["HEDGING_WITHOUT_FIGURES"]);
        // A figure in the narrative makes the hedging harmless.
        c.assessment.push_str(" (19 xã)");
        assert!(c.assess().reasons.is_empty());
    }

    fn config() -> SpecificityConfig {
        SpecificityConfig::default()
    }

    #[test]
    fn coverage_penalties_scale_with_the_share_missing() {
        let required = s(&["a", "b", "c", "d"]);
        let communes: Vec<String> = (1..=218).map(|i| format!("{i:05}")).collect();
        let mut all: Vec<(String, String, f64)> = communes
            .iter()
            .flat_map(|l| required.iter().map(move |i| (i.clone(), l.clone(), 1.0)))
            .collect();
        let run = |obs: &[(String, String, f64)]| {
            let obs = borrowed(obs);
            assess(
                &SpecificityInput {
                    required_indicators: &required,
                    required_localities: &communes,
                    observations: &obs,
                    assessment: "Đạt 40,8% dân số; 19/218 xã đạt chỉ tiêu.",
                    ..Default::default()
                },
                &config(),
            )
        };
        assert_eq!(run(&all).score, 100);
        // One commune of 218 missing: the share is tiny, the floor of 1/4 applies: 30/4 = 7.5 → 8.
        all.retain(|(_, l, _)| l != "00218");
        let a = run(&all);
        assert_eq!(
            (a.score, a.reasons[0].subjects.clone()),
            (92, s(&["00218"]))
        );
        assert!(
            a.reasons[0]
                .explanation_en
                .starts_with("1 of 218 required localities")
        );
        // 3 of 4 indicators missing: 30 × 3/4 = 22.5 → 23 (round half away from zero).
        all.retain(|(i, _, _)| i == "a");
        let a = run(&all);
        assert_eq!(a.reasons[0].code, codes::REQUIRED_INDICATORS_MISSING);
        assert_eq!(a.reasons[0].penalty, 23);
        assert_eq!(a.reasons[0].subjects, s(&["b", "c", "d"]));
        assert!(
            a.reasons[0]
                .explanation_vi
                .starts_with("3/4 chỉ tiêu bắt buộc")
        );
        // Nothing at all: both coverage rules at full weight.
        let a = run(&[]);
        assert_eq!(a.score, 40);
        assert_eq!(a.reasons[1].subjects.len(), MAX_SUBJECTS);
        assert!(a.reasons[1].explanation_en.contains("218 of 218"));
    }

    #[test]
    fn a_province_total_does_not_cover_communes() {
        let mut c = Case::specific();
        c.observations = obs(&[("a", "64", 704_828.0), ("b", "64", 1.0)]);
        let a = c.assess();
        assert_eq!(codes(&a), [codes::LOCALITIES_NOT_COVERED]);
        assert_eq!(a.reasons[0].subjects, s(&["1", "2"]));
        assert_eq!((a.reasons[0].penalty, a.score), (30, 70));
    }

    #[test]
    fn a_short_assessment_counts_as_none_and_says_how_short() {
        let mut c = Case::specific();
        c.assessment = "Tốt.".into();
        let a = c.assess();
        assert_eq!(codes(&a), [codes::NO_ASSESSMENT]);
        assert!(
            a.reasons[0].explanation_en.contains("only 4 characters"),
            "{:?}",
            a.reasons
        );
        assert!(a.reasons[0].explanation_vi.contains("4 ký tự"));
    }

    #[test]
    fn behind_target_with_a_proposal_is_fine() {
        let mut c = Case::specific();
        c.behind = s(&["a", "b"]);
        assert!(c.assess().reasons.is_empty());
        c.proposals = " \n ".into();
        let a = c.assess();
        assert_eq!(codes(&a), [codes::BEHIND_TARGET_WITHOUT_PROPOSAL]);
        assert_eq!(a.reasons[0].subjects, s(&["a", "b"]));
        assert!(a.reasons[0].explanation_en.starts_with("2 indicator(s)"));
    }

    #[test]
    fn nearly_identical_counts_and_a_few_changes_do_not() {
        let mut c = Case::specific();
        let mut previous: HashMap<(String, String), f64> = c
            .observations
            .iter()
            .map(|(i, l, v)| ((i.clone(), l.clone()), *v))
            .collect();
        // 3 of 4 equal: 0.75 < 0.9, not identical.
        previous.insert(("a".into(), "1".into()), 9.0);
        c.previous = Some(previous.clone());
        assert!(c.assess().reasons.is_empty());
        // With identical_share 0.75 it is.
        let lenient = SpecificityConfig {
            identical_share: 0.75,
            ..config()
        };
        let observations = borrowed(&c.observations);
        let borrowed_before = borrowed_previous(&previous);
        let a = assess(
            &SpecificityInput {
                required_indicators: &c.required_indicators,
                required_localities: &c.required_localities,
                observations: &observations,
                assessment: &c.assessment,
                proposals: &c.proposals,
                previous: Some(&borrowed_before),
                ..Default::default()
            },
            &lenient,
        );
        assert_eq!(codes(&a), [codes::IDENTICAL_TO_PREVIOUS]);
        assert_eq!(
            a.reasons[0].explanation_en,
            "3 of 4 figures are identical to the previous period's"
        );
        assert_eq!(a.reasons[0].subjects, s(&["a@2", "b@1", "b@2"]));
        // Too few comparable figures: the rule does not apply.
        let mut few = Case::specific();
        few.observations.truncate(2);
        few.required_indicators = s(&["a"]);
        few.previous = Some(previous);
        few.observations = obs(&[("a", "1", 9.0), ("a", "2", 20.0)]);
        assert!(few.assess().reasons.is_empty());
    }

    #[test]
    fn hedging_matches_whole_words_in_any_spelling() {
        let phrases = config().hedging_phrases;
        // Precomposed, upper case, punctuation right after the phrase.
        assert_eq!(
            hedging_phrases_in("CƠ BẢN HOÀN THÀNH, khẩn trương.", &phrases),
            s(&["cơ bản hoàn thành", "khẩn trương"])
        );
        // Without diacritics, and đ/Đ folded to d.
        assert_eq!(
            hedging_phrases_in("Dang tiep tuc", &phrases),
            s(&["đang tiếp tục"])
        );
        assert_eq!(
            hedging_phrases_in("ĐANG TIẾP TỤC", &phrases),
            s(&["đang tiếp tục"])
        );
        // Decomposed (combining marks, as some keyboards produce): "từng bước" as t u+horn+grave…
        let decomposed = "tu\u{31b}\u{300}ng bu\u{31b}o\u{31b}\u{301}c";
        assert_eq!(fold(decomposed), "tung buoc");
        assert_eq!(hedging_phrases_in(decomposed, &phrases), s(&["từng bước"]));
        // Whole words only: a phrase "khá" ("fairly") is not inside "triển khai".
        assert!(hedging_phrases_in("triển khai", &s(&["khá"])).is_empty());
        assert_eq!(hedging_phrases_in("kết quả khá", &s(&["khá"])), s(&["khá"]));
        assert!(hedging_phrases_in("trừng bước", &phrases).is_empty());
        // A phrase configured without diacritics matches text with them.
        assert_eq!(
            hedging_phrases_in("Cơ bản đáp ứng yêu cầu", &s(&["co ban dap ung"])),
            s(&["co ban dap ung"])
        );
        let mut c = Case::specific();
        c.assessment = "Chưa đạt yêu cầu, đang tiếp tục triển khai trên địa bàn".into();
        let a = c.assess();
        assert_eq!(codes(&a), [codes::HEDGING_WITHOUT_FIGURES]);
        assert_eq!(
            a.reasons[0].subjects,
            s(&["chưa đạt yêu cầu", "đang tiếp tục"])
        );
        // A figure in the obstacles also counts.
        c.obstacles = "Còn 2.068 người chưa kích hoạt".into();
        assert!(c.assess().reasons.is_empty());
    }

    #[test]
    fn every_reason_at_once_floors_at_zero() {
        let heavy = SpecificityConfig {
            no_assessment: 90,
            ..config()
        };
        let previous: HashMap<(&str, &str), f64> = [(("a", "1"), 1.0)].into_iter().collect();
        let observations = [("a", "1", 1.0)];
        let required_i = s(&["a", "b"]);
        let required_l = s(&["1", "2"]);
        let behind = s(&["a"]);
        let a = assess(
            &SpecificityInput {
                required_indicators: &required_i,
                required_localities: &required_l,
                observations: &observations,
                assessment: "khẩn trương",
                behind_target: &behind,
                previous: Some(&previous),
                ..Default::default()
            },
            &SpecificityConfig {
                identical_min_figures: 1,
                ..heavy
            },
        );
        assert_eq!(a.reasons.len(), 6);
        assert_eq!((a.score, a.vague), (0, true));
    }

    #[test]
    fn the_threshold_is_strict_and_configurable() {
        let mut c = Case::specific();
        c.assessment.clear(); // −20 → 80
        assert!(!c.assess().vague);
        let strict = SpecificityConfig {
            threshold: 81,
            ..config()
        };
        let observations = borrowed(&c.observations);
        let a = assess(
            &SpecificityInput {
                required_indicators: &c.required_indicators,
                required_localities: &c.required_localities,
                observations: &observations,
                proposals: &c.proposals,
                ..Default::default()
            },
            &strict,
        );
        assert_eq!((a.score, a.vague), (80, true));
        let at = SpecificityConfig {
            threshold: 80,
            ..config()
        };
        assert!(
            !assess(
                &SpecificityInput {
                    required_indicators: &c.required_indicators,
                    required_localities: &c.required_localities,
                    observations: &observations,
                    proposals: &c.proposals,
                    ..Default::default()
                },
                &at
            )
            .vague
        );
    }

    #[test]
    fn configuration_reads_partially_and_validates() {
        let c: SpecificityConfig =
            toml::from_str("threshold = 70\nhedging_phrases = [\"chung chung\"]").unwrap();
        assert_eq!((c.threshold, c.no_assessment), (70, 20));
        assert!(c.validate().is_ok());
        assert!(config().validate().is_ok());
        assert_eq!(
            SpecificityConfig {
                threshold: 101,
                ..config()
            }
            .validate(),
            Err(SpecificityConfigError::ThresholdOutOfRange(101))
        );
        assert!(matches!(
            SpecificityConfig {
                identical_share: 1.5,
                ..config()
            }
            .validate(),
            Err(SpecificityConfigError::IdenticalShareOutOfRange(_))
        ));
        assert!(matches!(
            SpecificityConfig {
                identical_share: f64::NAN,
                ..config()
            }
            .validate(),
            Err(SpecificityConfigError::IdenticalShareOutOfRange(_))
        ));
        assert_eq!(
            SpecificityConfig {
                hedging_phrases: s(&["ok", " , "]),
                ..config()
            }
            .validate(),
            Err(SpecificityConfigError::EmptyHedgingPhrase(1))
        );
    }
}
