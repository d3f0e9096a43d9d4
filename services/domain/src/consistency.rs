//! Consistency rules: figures that are accepted but flagged, like validation rules in DHIS2.
//!
//! - `STOCK_DECREASE`: a cumulative (stock) indicator lower than the same locality's previous figure;
//! - `TREND_JUMP`: with at least `trend_min_points` earlier figures, a change from the last one larger
//!   than `trend_factor` × the mean absolute period-to-period change of the history, and larger than
//!   `trend_min_change` (so tiny series are not flagged);
//! - `ABOVE_DENOMINATOR`: a value above its denominator (e.g. more activated accounts than
//!   permanent residents), the denominator taken from the same report or else the latest figure.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsistencyConfig {
    pub trend_min_points: usize,
    pub trend_factor: f64,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    StockDecrease,
    TrendJump,
    AboveDenominator,
}

impl FindingKind {
    pub fn code(self) -> &'static str {
        match self {
            FindingKind::StockDecrease => "STOCK_DECREASE",
            FindingKind::TrendJump => "TREND_JUMP",
            FindingKind::AboveDenominator => "ABOVE_DENOMINATOR",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: FindingKind,
    pub indicator: String,
    pub locality: String,
    pub value: f64,
    pub reference: f64,
    pub message_en: String,
    pub message_vi: String,
}

/// One figure with what it is compared against.
#[derive(Debug, Clone, Default)]
pub struct FigureContext<'a> {
    pub indicator: &'a str,
    pub locality: &'a str,
    pub value: f64,
    pub is_stock: bool,
    /// Earlier figures of the same indicator and locality, oldest first (the last is the previous).
    pub history: &'a [f64],
    /// The denominator's value for the same locality, if the indicator has one and it is known.
    pub denominator: Option<(&'a str, f64)>,
}

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
    if let Some(&previous) = figure.history.last() {
        if figure.is_stock && v < previous {
            push(
                FindingKind::StockDecrease,
                previous,
                format!("{i} in {l} fell from {previous} to {v}, but it is cumulative"),
                format!("{i} tại {l} giảm từ {previous} xuống {v} dù là số lũy kế"),
            );
        }
        if figure.history.len() >= config.trend_min_points {
            let steps: Vec<f64> = figure
                .history
                .windows(2)
                .map(|w| (w[1] - w[0]).abs())
                .collect();
            let mean = steps.iter().sum::<f64>() / steps.len() as f64;
            let change = (v - previous).abs();
            if change > config.trend_min_change && change > config.trend_factor * mean {
                push(
                    FindingKind::TrendJump,
                    previous,
                    format!("{i} in {l} changed by {change} against a usual {mean:.0} per period"),
                    format!(
                        "{i} tại {l} thay đổi {change}, trong khi mức thường là {mean:.0} mỗi kỳ"
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
}
