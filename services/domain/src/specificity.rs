//! The specificity score of a report: 0–100, with machine-readable reasons, to flag reports that are
//! "chung chung" (vague).
//!
//! Every rule is explainable and weighted by configuration ([`SpecificityConfig`]); the score is
//! `100 − Σ penalties`, floored at 0, and a report scoring below `threshold` is VAGUE. The rules:
//!
//! | code | when | penalty |
//! |---|---|---|
//! | `REQUIRED_INDICATORS_MISSING` | an indicator the obligation requires has no figure at all | `missing_indicators` × share missing (at least 1/4 of it) |
//! | `LOCALITIES_NOT_COVERED` | required localities (e.g. every commune) have no figure | `uncovered_localities` × share uncovered (at least 1/4 of it) |
//! | `NO_ASSESSMENT` | the assessment is empty or shorter than `min_assessment_chars` | `no_assessment` |
//! | `BEHIND_TARGET_WITHOUT_PROPOSAL` | some figure is below its target and no proposal is given | `behind_without_proposal` |
//! | `HEDGING_WITHOUT_FIGURES` | the narrative uses hedging phrases ("cơ bản hoàn thành"…) and contains no figure | `hedging` |
//! | `IDENTICAL_TO_PREVIOUS` | at least `identical_share` of the figures equal the previous period's | `identical` |
//!
//! Hedging phrases match case-insensitively with or without Vietnamese diacritics ("co ban hoan
//! thanh" matches "Cơ bản hoàn thành").

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// Weights, thresholds and phrases; every field has a documented default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpecificityConfig {
    /// Reports scoring below this are flagged VAGUE.
    pub threshold: u8,
    pub missing_indicators: u8,
    pub uncovered_localities: u8,
    pub no_assessment: u8,
    pub behind_without_proposal: u8,
    pub hedging: u8,
    pub identical: u8,
    pub min_assessment_chars: usize,
    /// Share (0–1) of figures equal to the previous period's that counts as "identical".
    pub identical_share: f64,
    /// Fewest comparable figures for the identical rule to apply.
    pub identical_min_figures: usize,
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

/// What the score is computed from (the caller gathers it from the report, the obligation, the
/// targets and the previous period).
#[derive(Debug, Clone, Default)]
pub struct SpecificityInput<'a> {
    /// Indicators the obligation requires.
    pub required_indicators: &'a [String],
    /// Localities the obligation requires figures for (codes).
    pub required_localities: &'a [String],
    /// (indicator, locality code, value) of the report.
    pub observations: &'a [(String, String, f64)],
    pub assessment: &'a str,
    pub obstacles: &'a str,
    pub proposals: &'a str,
    /// Indicators with at least one figure below its target.
    pub behind_target: &'a [String],
    /// The previous period's figures of the same series, by (indicator, locality code).
    pub previous: Option<&'a HashMap<(String, String), f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecificityReason {
    pub code: String,
    pub penalty: u8,
    pub explanation_en: String,
    pub explanation_vi: String,
    pub subjects: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecificityAssessment {
    pub score: u8,
    pub vague: bool,
    pub reasons: Vec<SpecificityReason>,
}

fn scaled(weight: u8, share: f64) -> u8 {
    let share = share.clamp(0.25, 1.0);
    (f64::from(weight) * share).round() as u8
}

/// At most this many subjects are listed in a reason (the count is in the explanation).
const MAX_SUBJECTS: usize = 20;

pub fn assess(input: &SpecificityInput<'_>, config: &SpecificityConfig) -> SpecificityAssessment {
    let mut reasons = Vec::new();
    let reported: HashSet<&str> = input
        .observations
        .iter()
        .map(|(i, _, _)| i.as_str())
        .collect();

    let missing: Vec<String> = input
        .required_indicators
        .iter()
        .filter(|i| !reported.contains(i.as_str()))
        .cloned()
        .collect();
    if !missing.is_empty() {
        let share = missing.len() as f64 / input.required_indicators.len() as f64;
        reasons.push(SpecificityReason {
            code: "REQUIRED_INDICATORS_MISSING".into(),
            penalty: scaled(config.missing_indicators, share),
            explanation_en: format!(
                "{} of {} required indicators have no figure: {}",
                missing.len(),
                input.required_indicators.len(),
                missing.join(", ")
            ),
            explanation_vi: format!(
                "{}/{} chỉ tiêu bắt buộc không có số liệu: {}",
                missing.len(),
                input.required_indicators.len(),
                missing.join(", ")
            ),
            subjects: missing,
        });
    }

    let covered: HashSet<&str> = input
        .observations
        .iter()
        .map(|(_, l, _)| l.as_str())
        .collect();
    let uncovered: Vec<String> = input
        .required_localities
        .iter()
        .filter(|l| !covered.contains(l.as_str()))
        .cloned()
        .collect();
    if !uncovered.is_empty() {
        let share = uncovered.len() as f64 / input.required_localities.len() as f64;
        reasons.push(SpecificityReason {
            code: "LOCALITIES_NOT_COVERED".into(),
            penalty: scaled(config.uncovered_localities, share),
            explanation_en: format!(
                "{} of {} required localities have no figures",
                uncovered.len(),
                input.required_localities.len()
            ),
            explanation_vi: format!(
                "{}/{} địa bàn bắt buộc không có số liệu",
                uncovered.len(),
                input.required_localities.len()
            ),
            subjects: uncovered.into_iter().take(MAX_SUBJECTS).collect(),
        });
    }

    if input.assessment.trim().chars().count() < config.min_assessment_chars {
        reasons.push(SpecificityReason {
            code: "NO_ASSESSMENT".into(),
            penalty: config.no_assessment,
            explanation_en: "the report gives no assessment against targets".into(),
            explanation_vi: "báo cáo không có đánh giá kết quả so với chỉ tiêu".into(),
            subjects: Vec::new(),
        });
    }

    if !input.behind_target.is_empty() && input.proposals.trim().is_empty() {
        reasons.push(SpecificityReason {
            code: "BEHIND_TARGET_WITHOUT_PROPOSAL".into(),
            penalty: config.behind_without_proposal,
            explanation_en: format!(
                "{} indicator(s) are behind target and no remedy is proposed",
                input.behind_target.len()
            ),
            explanation_vi: format!(
                "{} chỉ tiêu chưa đạt nhưng không có đề xuất, giải pháp",
                input.behind_target.len()
            ),
            subjects: input.behind_target.to_vec(),
        });
    }

    let narrative = format!(
        "{} {} {}",
        input.assessment, input.obstacles, input.proposals
    );
    let folded = fold(&narrative);
    let hedges: Vec<String> = config
        .hedging_phrases
        .iter()
        .filter(|phrase| folded.contains(&fold(phrase)))
        .cloned()
        .collect();
    if !hedges.is_empty() && !narrative.chars().any(|c| c.is_ascii_digit()) {
        reasons.push(SpecificityReason {
            code: "HEDGING_WITHOUT_FIGURES".into(),
            penalty: config.hedging,
            explanation_en: format!(
                "the narrative hedges ({}) without giving any figure",
                hedges.join("; ")
            ),
            explanation_vi: format!(
                "phần đánh giá dùng cụm từ chung chung ({}) mà không nêu số liệu",
                hedges.join("; ")
            ),
            subjects: hedges,
        });
    }

    if let Some(previous) = input.previous {
        let comparable: Vec<bool> = input
            .observations
            .iter()
            .filter_map(|(i, l, v)| previous.get(&(i.clone(), l.clone())).map(|p| p == v))
            .collect();
        let same = comparable.iter().filter(|s| **s).count();
        if comparable.len() >= config.identical_min_figures
            && same as f64 >= config.identical_share * comparable.len() as f64
        {
            reasons.push(SpecificityReason {
                code: "IDENTICAL_TO_PREVIOUS".into(),
                penalty: config.identical,
                explanation_en: format!(
                    "{same} of {} figures are identical to the previous period's",
                    comparable.len()
                ),
                explanation_vi: format!("{same}/{} số liệu giống hệt kỳ trước", comparable.len()),
                subjects: Vec::new(),
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

/// Lower-cases and strips Vietnamese diacritics (đ → d), collapsing whitespace.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        let base = strip(c.to_lowercase().next().unwrap_or(c));
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

    struct Case {
        required_indicators: Vec<String>,
        required_localities: Vec<String>,
        observations: Vec<(String, String, f64)>,
        assessment: String,
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
                proposals: "Tăng cường tổ lưu động tại các xã chưa đạt.".into(),
                behind: vec![],
                previous: None,
            }
        }

        fn assess(&self) -> SpecificityAssessment {
            assess(
                &SpecificityInput {
                    required_indicators: &self.required_indicators,
                    required_localities: &self.required_localities,
                    observations: &self.observations,
                    assessment: &self.assessment,
                    obstacles: "",
                    proposals: &self.proposals,
                    behind_target: &self.behind,
                    previous: self.previous.as_ref(),
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
}
