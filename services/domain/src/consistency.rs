//! Consistency rules: figures that are accepted but flagged, like validation rules in DHIS2.
//!
//! Each figure (one indicator at one locality in one report) is checked with its own context
//! ([`FigureContext`]): its earlier values, oldest first, and its denominator's value. The rules:
//!
//! - `STOCK_DECREASE`: a cumulative (stock) indicator lower than the same locality's previous
//!   figure (the last of `history`). Flows may go down; equal is fine.
//! - `TREND_JUMP`: with at least `trend_min_points` [3] earlier figures, let *mean* be the mean
//!   absolute period-to-period change over the history (|h₁−h₀|, |h₂−h₁|, …) and *change* =
//!   |value − previous|. Flagged when change > `trend_factor` [5] × mean **and** change >
//!   `trend_min_change` [100], so tiny series (1, 2, 1 → 60) are not flagged. A flat history
//!   (mean 0) flags any change above the minimum. Both directions count.
//! - `ABOVE_DENOMINATOR`: a value strictly above its denominator (e.g. more activated accounts than
//!   permanent residents); the caller supplies the denominator from the same report, or else the
//!   latest known figure.
//!
//! Non-finite values never raise a finding (validation refuses them upstream).

use serde::{Deserialize, Serialize};

/// Parameters of the trend rule (defaults in brackets in the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsistencyConfig {
    /// Fewest earlier figures for the trend rule to apply (at least 2). Default 3.
    pub trend_min_points: usize,
    /// How many times the usual change a jump must exceed. Default 5.
    pub trend_factor: f64,
    /// Smallest absolute change that can be a jump. Default 100.
    pub trend_min_change: f64,
}

impl Default for ConsistencyConfig {
    fn default() -> Self {
        ConsistencyConfig {
            trend_min_points: 3,
            trend_factor: 5.0,
            trend_min_change: 100.0,
        }
    }
}

/// A configuration that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConsistencyConfigError {
    #[error("trend_min_points {0} must be at least 2 (one period-to-period change)")]
    TooFewTrendPoints(usize),
    #[error("trend_factor {0} must be a positive number")]
    BadTrendFactor(f64),
    #[error("trend_min_change {0} must be a number ≥ 0")]
    BadTrendMinChange(f64),
}

impl ConsistencyConfig {
    pub fn validate(&self) -> Result<(), ConsistencyConfigError> {
        if self.trend_min_points < 2 {
            return Err(ConsistencyConfigError::TooFewTrendPoints(
                self.trend_min_points,
            ));
        }
        if !(self.trend_factor.is_finite() && self.trend_factor > 0.0) {
            return Err(ConsistencyConfigError::BadTrendFactor(self.trend_factor));
        }
        if !(self.trend_min_change.is_finite() && self.trend_min_change >= 0.0) {
            return Err(ConsistencyConfigError::BadTrendMinChange(
                self.trend_min_change,
            ));
        }
        Ok(())
    }
}

/// Which rule a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingKind {
    StockDecrease,
    TrendJump,
    AboveDenominator,
}

impl FindingKind {
    pub const ALL: [FindingKind; 3] = [
        FindingKind::StockDecrease,
        FindingKind::TrendJump,
        FindingKind::AboveDenominator,
    ];

    /// The stable code, also the flag kind.
    pub fn code(self) -> &'static str {
        match self {
            FindingKind::StockDecrease => "STOCK_DECREASE",
            FindingKind::TrendJump => "TREND_JUMP",
            FindingKind::AboveDenominator => "ABOVE_DENOMINATOR",
        }
    }
}

/// One figure accepted but flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub indicator: String,
    /// Locality code.
    pub locality: String,
    pub value: f64,
    /// What the value was compared with: the previous figure (stock decrease, trend jump) or the
    /// denominator.
    pub reference: f64,
    pub message_en: String,
    pub message_vi: String,
}

/// The name the issue uses for a [`Finding`].
pub type ConsistencyFinding = Finding;

/// One figure with what it is compared against.
#[derive(Debug, Clone, Default)]
pub struct FigureContext<'a> {
    pub indicator: &'a str,
    /// Locality code.
    pub locality: &'a str,
    pub value: f64,
    /// Whether the indicator is cumulative (a stock) rather than a count within the period (a flow).
    pub is_stock: bool,
    /// Earlier figures of the same indicator and locality, oldest first (the last is the previous),
    /// at most one per period (the latest revision of each).
    pub history: &'a [f64],
    /// The denominator's code and value for the same locality, if the indicator has one and it is
    /// known.
    pub denominator: Option<(&'a str, f64)>,
}

/// Applies every rule to one figure; findings come in the order stock decrease, trend jump, above
/// denominator.
pub fn check(figure: &FigureContext<'_>, config: &ConsistencyConfig) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut push = |kind, reference: f64, en: String, vi: String| {
        findings.push(Finding {
            kind,
            indicator: figure.indicator.to_owned(),
            locality: figure.locality.to_owned(),
            value: figure.value,
            reference,
            message_en: en,
            message_vi: vi,
        })
    };
    let (i, l, v) = (figure.indicator, figure.locality, figure.value);
    if !v.is_finite() {
        return findings;
    }
    if let Some(&previous) = figure.history.last() {
        if figure.is_stock && v < previous {
            push(
                FindingKind::StockDecrease,
                previous,
                format!("{i} in {l} fell from {previous} to {v}, but it is cumulative"),
                format!("{i} tại {l} giảm từ {previous} xuống {v} dù là số lũy kế"),
            );
        }
        if let Some(mean) = mean_step(figure.history, config.trend_min_points) {
            let change = (v - previous).abs();
            if change > config.trend_min_change && change > config.trend_factor * mean {
                push(
                    FindingKind::TrendJump,
                    previous,
                    format!(
                        "{i} in {l} changed by {change} (from {previous} to {v}) against a usual \
                         {mean:.0} per period"
                    ),
                    format!(
                        "{i} tại {l} thay đổi {change} (từ {previous} thành {v}), trong khi mức \
                         thường là {mean:.0} mỗi kỳ"
                    ),
                );
            }
        }
    }
    if let Some((name, denominator)) = figure.denominator
        && v > denominator
    {
        push(
            FindingKind::AboveDenominator,
            denominator,
            format!("{i} in {l} is {v}, above its denominator {name} ({denominator})"),
            format!("{i} tại {l} là {v}, vượt mẫu số {name} ({denominator})"),
        );
    }
    findings
}

/// The mean absolute period-to-period change of `history`, when it has at least `min_points`
/// (and at least 2) finite values.
fn mean_step(history: &[f64], min_points: usize) -> Option<f64> {
    if history.len() < min_points.max(2) || history.iter().any(|h| !h.is_finite()) {
        return None;
    }
    let total: f64 = history.windows(2).map(|w| (w[1] - w[0]).abs()).sum();
    Some(total / (history.len() - 1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(f: &FigureContext<'_>) -> Vec<FindingKind> {
        check(f, &ConsistencyConfig::default())
            .into_iter()
            .map(|f| f.kind)
            .collect()
    }

    #[test]
    fn each_rule() {
        let base = FigureContext {
            indicator: "vneid.l2.activated",
            locality: "23680",
            value: 109.0,
            is_stock: true,
            ..Default::default()
        };
        assert!(kinds(&base).is_empty());
        assert_eq!(
            kinds(&FigureContext {
                history: &[120.0],
                ..base.clone()
            }),
            [FindingKind::StockDecrease]
        );
        assert!(
            kinds(&FigureContext {
                history: &[120.0],
                is_stock: false,
                ..base.clone()
            })
            .is_empty()
        );
        assert_eq!(
            kinds(&FigureContext {
                history: &[10.0, 20.0, 30.0],
                value: 900.0,
                ..base.clone()
            }),
            [FindingKind::TrendJump]
        );
        assert!(
            kinds(&FigureContext {
                history: &[10.0, 20.0, 30.0],
                value: 45.0,
                ..base.clone()
            })
            .is_empty()
        );
        assert_eq!(
            kinds(&FigureContext {
                denominator: Some(("residents.permanent", 100.0)),
                ..base.clone()
            }),
            [FindingKind::AboveDenominator]
        );
    }

    fn figure(value: f64, history: &[f64]) -> FigureContext<'_> {
        FigureContext {
            indicator: "vneid.l2.activated",
            locality: "23680",
            value,
            is_stock: true,
            history,
            denominator: None,
        }
    }

    #[test]
    fn stock_decrease_only_for_stocks_and_only_when_lower() {
        assert!(kinds(&figure(120.0, &[120.0])).is_empty());
        let f = check(
            &figure(119.0, &[100.0, 120.0]),
            &ConsistencyConfig::default(),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].kind, f[0].value, f[0].reference),
            (FindingKind::StockDecrease, 119.0, 120.0)
        );
        assert_eq!(
            f[0].message_en,
            "vneid.l2.activated in 23680 fell from 120 to 119, but it is cumulative"
        );
        assert!(f[0].message_vi.contains("giảm từ 120 xuống 119"));
    }

    #[test]
    fn trend_jumps_need_enough_history_and_a_real_size() {
        // Two earlier points are not enough (default 3).
        assert!(kinds(&figure(6_000.0, &[1_000.0, 1_010.0])).is_empty());
        // 1,000 → 1,010 → 1,020 then 6,000: change 4,980 ≫ 5 × 10.
        let f = check(
            &figure(6_000.0, &[1_000.0, 1_010.0, 1_020.0]),
            &ConsistencyConfig::default(),
        );
        assert_eq!(
            f.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [FindingKind::TrendJump]
        );
        assert_eq!(f[0].reference, 1_020.0);
        assert!(
            f[0].message_en.contains("changed by 4980"),
            "{}",
            f[0].message_en
        );
        // Exactly 5 × the usual change is not "more than": 1,020 + 50 with minimum 0.
        let no_min = ConsistencyConfig {
            trend_min_change: 0.0,
            ..ConsistencyConfig::default()
        };
        assert!(check(&figure(1_070.0, &[1_000.0, 1_010.0, 1_020.0]), &no_min).is_empty());
        assert_eq!(
            check(&figure(1_071.0, &[1_000.0, 1_010.0, 1_020.0]), &no_min).len(),
            1
        );
        // A tiny series is not flagged even when the jump is many times the usual change.
        assert!(kinds(&figure(60.0, &[1.0, 2.0, 3.0])).is_empty());
        // A flat history flags any change above the minimum, both directions (a flow here).
        let flow = FigureContext {
            is_stock: false,
            ..figure(300.0, &[500.0, 500.0, 500.0])
        };
        assert_eq!(kinds(&flow), [FindingKind::TrendJump]);
        // A stock that drops sharply is both.
        assert_eq!(
            kinds(&figure(100.0, &[1_000.0, 1_010.0, 1_020.0])),
            [FindingKind::StockDecrease, FindingKind::TrendJump]
        );
    }

    #[test]
    fn above_the_denominator_but_not_at_it() {
        let at = FigureContext {
            denominator: Some(("residents.permanent", 5_908.0)),
            ..figure(5_908.0, &[])
        };
        assert!(kinds(&at).is_empty());
        let above = FigureContext {
            value: 6_000.0,
            ..at.clone()
        };
        let f = check(&above, &ConsistencyConfig::default());
        assert_eq!(
            (f[0].kind, f[0].reference),
            (FindingKind::AboveDenominator, 5_908.0)
        );
        assert_eq!(
            f[0].message_en,
            "vneid.l2.activated in 23680 is 6000, above its denominator residents.permanent (5908)"
        );
        assert!(
            f[0].message_vi
                .contains("vượt mẫu số residents.permanent (5908)")
        );
    }

    #[test]
    fn non_finite_values_raise_nothing() {
        assert!(kinds(&figure(f64::NAN, &[1.0, 2.0, 3.0])).is_empty());
        assert!(kinds(&figure(5_000.0, &[1.0, f64::NAN, 3.0])).is_empty());
    }

    #[test]
    fn configuration_reads_partially_and_validates() {
        let c: ConsistencyConfig = toml::from_str("trend_factor = 3.0").unwrap();
        assert_eq!((c.trend_min_points, c.trend_factor), (3, 3.0));
        assert!(c.validate().is_ok());
        assert_eq!(
            ConsistencyConfig {
                trend_min_points: 1,
                ..c.clone()
            }
            .validate(),
            Err(ConsistencyConfigError::TooFewTrendPoints(1))
        );
        assert!(
            ConsistencyConfig {
                trend_factor: 0.0,
                ..c.clone()
            }
            .validate()
            .is_err()
        );
        assert!(
            ConsistencyConfig {
                trend_min_change: -1.0,
                ..c
            }
            .validate()
            .is_err()
        );
        assert_eq!(
            FindingKind::ALL.map(FindingKind::code),
            ["STOCK_DECREASE", "TREND_JUMP", "ABOVE_DENOMINATOR"]
        );
    }
}
