//! The compliance rules in the aggregator: configuration, and gathering what the domain rules need
//! (targets, the previous period, recent history) before a report is stored.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use p06_domain::consistency::{self, ConsistencyConfig, FigureContext, Finding};
use p06_domain::cross_agency::CrossAgencyBound;
use p06_domain::narrative::Claim;
use p06_domain::obligation::ObligationSpec;
use p06_domain::report::{CatalogView, IndicatorKind, ValidReport};
use p06_domain::schedule::{HolidayCalendar, Period};
use p06_domain::specificity::{self, SpecificityAssessment, SpecificityConfig, SpecificityInput};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::Error;
use crate::hash::{FastMap, FastSet, by_code};
use crate::store::compliance::{FlagFacts, NewFlag, series_key};

/// The built-in compliance configuration (`services/aggregator/config/compliance.toml`).
pub const DEFAULT_COMPLIANCE: &str = include_str!("../config/compliance.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct ComplianceConfig {
    #[serde(default = "default_sweep_every")]
    pub sweep_every_secs: u64,
    #[serde(default = "default_lookback")]
    pub missing_lookback_days: i64,
    #[serde(default)]
    pub holidays: HolidayCalendar,
    #[serde(default)]
    pub specificity: SpecificityConfig,
    #[serde(default)]
    pub consistency: ConsistencyConfig,
    #[serde(default, rename = "obligation")]
    pub obligations: Vec<ObligationSpec>,
    /// `indicator ≤ at_most` between indicators of two agencies, per locality, judged with the
    /// figures in force when a report is accepted (`CROSS_AGENCY_MISMATCH`).
    #[serde(default)]
    pub cross_agency_bounds: Vec<CrossAgencyBound>,
}

fn default_sweep_every() -> u64 {
    60
}

fn default_lookback() -> i64 {
    62
}

impl ComplianceConfig {
    pub fn parse(text: &str) -> Result<Self, Error> {
        let config: Self = toml::from_str(text)
            .map_err(|e| Error::Internal(format!("compliance configuration: {e}")))?;
        config.specificity.validate().map_err(|e| {
            Error::Internal(format!("compliance configuration, [specificity]: {e}"))
        })?;
        config.consistency.validate().map_err(|e| {
            Error::Internal(format!("compliance configuration, [consistency]: {e}"))
        })?;
        Ok(config)
    }

    /// The file at `path`, or the built-in default.
    pub fn load(path: Option<&Path>) -> Result<Self, Error> {
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| Error::Internal(format!("cannot read {}: {e}", path.display())))?;
                Self::parse(&text)
            }
            None => Self::parse(DEFAULT_COMPLIANCE),
        }
    }
}

/// Earlier periods of a figure the consistency rules look at.
const HISTORY_PERIODS: usize = 4;

/// The outcome of the rules for one report, computed before it is stored.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub deadline: DateTime<Utc>,
    pub specificity: SpecificityAssessment,
    pub findings: Vec<Finding>,
    /// The narrative's claims the report's figures contradict (NARRATIVE_MISMATCH), and those
    /// accepted with a note (a truncated percentage).
    pub narrative_mismatches: Vec<Claim>,
    pub narrative_notes: Vec<Claim>,
}

/// Evaluates a validated report against its obligation.
pub async fn evaluate(
    state: &AppState,
    report: &ValidReport,
    obligation: &ObligationSpec,
) -> Result<Evaluation, Error> {
    let period = Period::new(report.period_start, report.period_end);
    let deadline =
        obligation
            .deadline
            .deadline(&period, state.time_zone, &state.compliance.holidays);
    let catalog = &state.catalog;
    let store = &state.store;

    let required_localities: Vec<String> = catalog
        .in_province(report.province.id)
        .filter(|l| l.level == obligation.level)
        .map(|l| l.code.clone())
        .collect();
    let observations: Vec<(&str, &str, f64)> = report
        .observations
        .iter()
        .map(|o| (o.indicator_code.as_str(), o.locality_code.as_str(), o.value))
        .collect();

    let mut localities: Vec<i64> = report.observations.iter().map(|o| o.locality_id).collect();
    localities.sort_unstable();
    localities.dedup();

    // Figures below their target (the nearest target due on or after the period's end).
    // The province's own targets too: the narrative quotes province-wide percentages of target.
    let mut target_localities = localities.clone();
    target_localities.push(report.province.id);
    let targets = store
        .own_targets_due_from(&target_localities, report.period_end)
        .await?;
    let targets_by_code = by_code(&targets);
    let mut behind: Vec<String> = report
        .observations
        .iter()
        .filter(|o| {
            targets_by_code
                .get(&(o.indicator_code.as_str(), o.locality_id))
                .is_some_and(|t| o.value < **t)
        })
        .map(|o| o.indicator_code.clone())
        .collect();
    behind.sort();
    behind.dedup();

    // History of each figure and its denominator: the latest values of the last periods (at most
    // `HISTORY_PERIODS`, looking back as many period lengths and one more), oldest first.
    let mut codes: Vec<String> = report
        .observations
        .iter()
        .flat_map(|o| {
            let denominator = catalog
                .indicator(&o.indicator_code)
                .and_then(|i| i.denominator.clone());
            std::iter::once(o.indicator_code.clone()).chain(denominator)
        })
        .collect();
    codes.sort();
    codes.dedup();
    let since = history_since(report.period_start, report.period_end);
    let history = store
        .history_before(
            report.province.id,
            &codes,
            &localities,
            since,
            report.period_start,
            HISTORY_PERIODS,
        )
        .await?;
    let previous: std::collections::HashMap<(&str, &str), f64> = history
        .iter()
        .filter_map(|((indicator, locality_id), values)| {
            let code = catalog.locality_by_id(*locality_id)?.code.as_str();
            Some(((indicator.as_str(), code), *values.last()?))
        })
        .collect();
    let previous_exists = !previous.is_empty();

    let specificity = specificity::assess(
        &SpecificityInput {
            required_indicators: &obligation.indicators,
            required_localities: &required_localities,
            observations: &observations,
            assessment: &report.narrative.assessment,
            obstacles: &report.narrative.obstacles,
            proposals: &report.narrative.proposals,
            behind_target: &behind,
            previous: previous_exists.then_some(&previous),
        },
        &state.compliance.specificity,
    );

    let in_report: FastMap<(&str, i64), f64> = report
        .observations
        .iter()
        .map(|o| ((o.indicator_code.as_str(), o.locality_id), o.value))
        .collect();
    let history_by_code = by_code(&history);
    let mut findings = Vec::new();
    for o in &report.observations {
        let Some(indicator) = catalog.indicator(&o.indicator_code) else {
            continue;
        };
        let past = history_by_code
            .get(&(o.indicator_code.as_str(), o.locality_id))
            .map_or(&[][..], |h| h.as_slice());
        let denominator = indicator.denominator.as_deref().and_then(|d| {
            in_report
                .get(&(d, o.locality_id))
                .copied()
                .or_else(|| {
                    history_by_code
                        .get(&(d, o.locality_id))
                        .and_then(|h| h.last().copied())
                })
                .map(|v| (d, v))
        });
        findings.extend(consistency::check(
            &FigureContext {
                indicator: &o.indicator_code,
                locality: &o.locality_code,
                value: o.value,
                is_stock: indicator.kind == IndicatorKind::Stock,
                history: past,
                denominator,
            },
            &state.compliance.consistency,
        ));
    }
    let required: FastSet<i64> = catalog
        .in_province(report.province.id)
        .filter(|l| l.level == obligation.level)
        .map(|l| l.id)
        .collect();
    let narrative = crate::narrative::check(
        report,
        &crate::narrative::figures(catalog, report, &required, &targets, &history),
    );
    Ok(Evaluation {
        deadline,
        specificity,
        findings,
        narrative_mismatches: narrative.mismatches().cloned().collect(),
        narrative_notes: narrative.notes().cloned().collect(),
    })
}

/// The first day the consistency rules' history of a report of this period looks back to:
/// [`HISTORY_PERIODS`] period lengths and one more before its start.
pub fn history_since(period_start: NaiveDate, period_end: NaiveDate) -> NaiveDate {
    let length = (period_end - period_start).num_days() + 1;
    period_start - chrono::Duration::days(length * (HISTORY_PERIODS as i64 + 1))
}

/// Raises a MISSING flag for every period of every obligation whose deadline has passed with no
/// report, looking back `missing_lookback_days`; periods outside the interval of the province's
/// edition are not expected. Safe to run from several replicas at once: each
/// flag has a unique dedupe key, so exactly one insert wins; returns how many this call raised.
pub async fn sweep_missing(state: &AppState, now: DateTime<Utc>) -> Result<usize, Error> {
    let today = now.with_timezone(&state.time_zone).date_naive();
    let from = today - chrono::Duration::days(state.compliance.missing_lookback_days);
    let mut raised = 0;
    for (province_id, obligation) in state.store.obligation_bindings().await? {
        let Some(province) = state.catalog.locality_by_id(province_id) else {
            continue;
        };
        for period in obligation.cadence.periods_ending_between(from, today) {
            // Nobody reports a period in units that were not in force then.
            if !obligation.expects(&period)
                || !state.catalog.edition_covers(province.edition, period.end)
            {
                continue;
            }
            let deadline =
                obligation
                    .deadline
                    .deadline(&period, state.time_zone, &state.compliance.holidays);
            if !p06_domain::schedule::deadline_passed(deadline, now)
                || state
                    .store
                    .series_reported(
                        &obligation.agency,
                        &obligation.code,
                        province.id,
                        period.start,
                    )
                    .await?
            {
                continue;
            }
            let series = series_key(
                &obligation.agency,
                &obligation.code,
                province.id,
                period.start,
            );
            let flag = NewFlag {
                kind: "MISSING".into(),
                agency: obligation.agency.clone(),
                obligation: obligation.code.clone(),
                province_id: province.id,
                period_start: period.start,
                period_end: period.end,
                report_id: None,
                indicator_code: None,
                locality_id: None,
                message: format!(
                    "no report for {period} by the deadline {}",
                    deadline
                        .with_timezone(&state.time_zone)
                        .format("%Y-%m-%d %H:%M:%S %:z")
                ),
                details: FlagFacts {
                    deadline: Some(deadline.with_timezone(&Utc)),
                    ..FlagFacts::default()
                }
                .to_details(),
                dedupe_key: format!("MISSING|{series}"),
            };
            if state
                .store
                .raise(&flag, "missing-sweep", now)
                .await?
                .is_some()
            {
                raised += 1;
                // A report that committed between the check and the flag resolves it at once.
                if state
                    .store
                    .series_reported(
                        &obligation.agency,
                        &obligation.code,
                        province.id,
                        period.start,
                    )
                    .await?
                {
                    state
                        .store
                        .resolve(&flag.dedupe_key, "missing-sweep", "reported meanwhile", now)
                        .await?;
                }
            }
        }
    }
    Ok(raised)
}

/// Resolved flags per retention transaction.
const ARCHIVE_BATCH: u64 = 1_000;

/// Moves the flags resolved more than the retention period before `now` to the archive (kept for
/// audit, listed by `ListFlags` with `archived`); returns how many moved. Open flags stay.
pub async fn archive_flags(state: &AppState, now: DateTime<Utc>) -> Result<u64, Error> {
    let days = state.flag_feed.config.flag_retention_days;
    if days == 0 {
        return Ok(0);
    }
    let cutoff = now - chrono::Duration::days(i64::from(days));
    state
        .store
        .archive_resolved_flags(cutoff, ARCHIVE_BATCH, now)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_configuration_parses() {
        let config = ComplianceConfig::parse(DEFAULT_COMPLIANCE).unwrap();
        assert_eq!(config.obligations.len(), 4);
        let bounds: Vec<String> = config.cross_agency_bounds.iter().map(|b| b.key()).collect();
        assert_eq!(
            bounds,
            [
                "bhyt.cards.integrated<=vneid.l2.activated",
                "health_book.integrated<=vneid.l2.activated"
            ]
        );
        assert_eq!(config.specificity.threshold, 60);
        assert!(config.holidays.0.contains(&"2025-01-29".parse().unwrap()));
    }
}
