//! `GetComplianceBoard`: per obligation of a province, the periods expected, received, on time,
//! late, missing, pending and early, the vague reports and their reasons, the consistency flags,
//! and the open flags.

use std::collections::BTreeMap;

use chrono::Duration;
use p06_domain::specificity::SpecificityReason;
use p06_kit::convert::{date_from_proto, duration};
use p06_proto::aggregation::{
    ComplianceBoard, GetComplianceBoardRequest, ObligationCompliance, ReasonCount,
};

use super::TaskForceApi;
use crate::api::{Caller, flag_to_proto};
use crate::error::Error;

/// The kinds of flag the compliance board counts as consistency findings: a report's figures
/// against their own history or denominator, and against another agency's (a cross-agency
/// bound, counted on the report that raised it).
const CONSISTENCY_KINDS: [&str; 4] = [
    "STOCK_DECREASE",
    "TREND_JUMP",
    "ABOVE_DENOMINATOR",
    "CROSS_AGENCY_MISMATCH",
];

impl TaskForceApi {
    pub(super) async fn compliance_board(
        &self,
        caller: &Caller,
        req: GetComplianceBoardRequest,
    ) -> Result<ComplianceBoard, Error> {
        let province = self.locality(caller, req.province.as_ref(), "province")?;
        if province.id < 0 {
            return Err(Error::invalid_field("province.code", "name one province"));
        }
        let to = self.as_of(req.to.as_ref());
        let from = date_from_proto(req.from.as_ref())
            .unwrap_or(to - Duration::days(p06_kit::convert::COMPLIANCE_WINDOW_DAYS));
        if to < from {
            return Err(Error::invalid_field("to", "ends before from"));
        }
        let state = &self.state;
        let now = state.clock.now();
        let revisions = state.store.revisions_between(province.id, from, to).await?;
        let consistency = state
            .store
            .flag_counts(province.id, &CONSISTENCY_KINDS, from, to)
            .await?;
        let mut obligations = Vec::new();
        for obligation in state.store.obligations_of(province.id).await? {
            if !req.agency.is_empty() && obligation.agency != req.agency {
                continue;
            }
            let mut row = ObligationCompliance {
                obligation: obligation.code.clone(),
                agency: obligation.agency.clone(),
                ..Default::default()
            };
            let mut lateness = Vec::new();
            let mut reasons: BTreeMap<String, i32> = BTreeMap::new();
            for period in obligation.cadence.periods_ending_between(from, to) {
                if !obligation.expects(&period)
                    || !state.catalog.edition_covers(province.edition, period.end)
                {
                    continue;
                }
                let deadline = obligation.deadline.deadline(
                    &period,
                    state.time_zone,
                    &state.compliance.holidays,
                );
                let series: Vec<_> = revisions
                    .iter()
                    .filter(|r| {
                        r.obligation == obligation.code
                            && r.agency == obligation.agency
                            && r.period_start == period.start
                    })
                    .collect();
                let first = series.iter().find(|r| r.revision == 1);
                // Only periods whose deadline second is over are expected; the others are pending
                // (nothing yet) or early (already received), and count in no rate.
                if !p06_domain::schedule::deadline_passed(deadline, now) {
                    match first {
                        None => row.pending += 1,
                        Some(_) => row.early += 1,
                    }
                    continue;
                }
                row.expected += 1;
                let Some(first) = first else {
                    row.missing += 1;
                    continue;
                };
                row.received += 1;
                match first.lateness_seconds {
                    Some(seconds) if first.timeliness.as_deref() == Some("LATE") => {
                        row.late += 1;
                        lateness.push(seconds);
                    }
                    _ => row.on_time += 1,
                }
                let latest = series.last().expect("a series has its first revision");
                if latest
                    .specificity_score
                    .is_some_and(|s| s < i32::from(state.compliance.specificity.threshold))
                {
                    row.vague += 1;
                    let parsed: Vec<SpecificityReason> = latest
                        .specificity_reasons
                        .as_deref()
                        .and_then(|j| serde_json::from_str(j).ok())
                        .unwrap_or_default();
                    for reason in parsed {
                        *reasons.entry(reason.code).or_default() += 1;
                    }
                }
                row.consistency_flags += consistency
                    .get(&(obligation.code.clone(), period.start))
                    .copied()
                    .unwrap_or(0) as i32;
            }
            if !lateness.is_empty() {
                let mean = lateness.iter().sum::<i64>() / lateness.len() as i64;
                row.mean_lateness = Some(duration(Duration::seconds(mean)));
                row.worst_lateness = lateness
                    .iter()
                    .max()
                    .map(|s| duration(Duration::seconds(*s)));
            }
            let mut top: Vec<(String, i32)> = reasons.into_iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            row.top_vague_reasons = top
                .into_iter()
                .take(3)
                .map(|(code, count)| ReasonCount { code, count })
                .collect();
            if row.expected > 0 {
                row.reporting_rate = f64::from(row.received) / f64::from(row.expected);
                row.on_time_rate = f64::from(row.on_time) / f64::from(row.expected);
            }
            obligations.push(row);
        }
        let catalog = &self.state.catalog;
        let open_flags = state
            .store
            .open_flags(
                province.id,
                (!req.agency.is_empty()).then_some(req.agency.as_str()),
            )
            .await?
            .iter()
            .map(|f| flag_to_proto(f, catalog))
            .collect();
        Ok(ComplianceBoard {
            obligations,
            open_flags,
        })
    }
}
