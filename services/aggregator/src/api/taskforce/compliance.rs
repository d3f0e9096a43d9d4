//! `GetComplianceBoard`: per obligation of a province, the periods expected, received, on time,
//! late, missing, pending and early, the vague reports and their reasons, the consistency flags,
//! and the open flags.
//!
//! The obligations' rows are a function of the province's reports, its consistency flags (raised
//! only by report commits, and counted whatever their state), its obligations and the deadlines
//! passed: they are kept at the province's read version (which report commits and obligation
//! changes advance) until the next deadline among them passes. The open flags are read live at
//! every call (the missing-report sweep and resolutions change them without a report).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use p06_domain::locality::Locality;
use p06_domain::schedule::deadline_passed;
use p06_domain::specificity::SpecificityReason;
use p06_kit::convert::{date_from_proto, duration};
use p06_proto::aggregation::{
    ComplianceBoard, GetComplianceBoardRequest, ObligationCompliance, ReasonCount,
};

use super::TaskForceApi;
use super::view_cache::ViewMap;
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

/// At most this many boards' rows are kept (one per province, window and agency asked).
const BOARDS_KEPT: usize = 256;

/// What the rows of a board depend on besides the instant.
#[derive(Hash, PartialEq, Eq)]
pub(super) struct BoardKey {
    version: i64,
    province: i64,
    from: NaiveDate,
    to: NaiveDate,
    agency: String,
}

/// The obligations' rows of a board, with the latest deadline among its expected periods and the
/// earliest among its pending ones: the rows hold at any instant after the first's second is
/// over and until the second's is (whichever way a test's clock moves).
pub(super) struct BoardRows {
    rows: Vec<ObligationCompliance>,
    last_passed: Option<DateTime<Utc>>,
    next_deadline: Option<DateTime<Utc>>,
}

impl BoardRows {
    fn hold_at(&self, now: DateTime<Utc>) -> bool {
        self.last_passed.is_none_or(|d| deadline_passed(d, now))
            && self.next_deadline.is_none_or(|d| !deadline_passed(d, now))
    }
}

/// The boards' rows by [`BoardKey`].
pub(super) type BoardCache = ViewMap<BoardKey, BoardRows>;

pub(super) fn board_cache() -> BoardCache {
    ViewMap::new(BOARDS_KEPT)
}

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
        let catalog = &self.state.catalog;
        let agency = (!req.agency.is_empty()).then_some(req.agency.as_str());
        let open_flags = self
            .state
            .store
            .open_flags(province.id, agency)
            .await?
            .iter()
            .map(|f| flag_to_proto(f, catalog))
            .collect();
        let now = self.state.clock.now();
        let key = BoardKey {
            version: self.read_version(province).await?,
            province: province.id,
            from,
            to,
            agency: req.agency,
        };
        let rows = match self.board_cache.get(&key).filter(|b| b.hold_at(now)) {
            Some(rows) => rows,
            None => {
                let rows = Arc::new(self.board_rows(province, &key, now).await?);
                self.board_cache.keep(key, rows.clone());
                rows
            }
        };
        Ok(ComplianceBoard {
            obligations: rows.rows.clone(),
            open_flags,
        })
    }

    /// The obligations' rows of the board `key` asks for (of `province`), as the database has
    /// them now.
    async fn board_rows(
        &self,
        province: &Locality,
        key: &BoardKey,
        now: DateTime<Utc>,
    ) -> Result<BoardRows, Error> {
        let BoardKey {
            from,
            to,
            ref agency,
            ..
        } = *key;
        let state = &self.state;
        let revisions = state.store.revisions_between(province.id, from, to).await?;
        let consistency = state
            .store
            .flag_counts(province.id, &CONSISTENCY_KINDS, from, to)
            .await?;
        let mut obligations = Vec::new();
        let (mut last_passed, mut next_deadline) = (None, None);
        for obligation in state.store.obligations_of(province.id).await? {
            if !agency.is_empty() && obligation.agency != *agency {
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
                if !deadline_passed(deadline, now) {
                    next_deadline = Some(next_deadline.map_or(deadline, |d| deadline.min(d)));
                    match first {
                        None => row.pending += 1,
                        Some(_) => row.early += 1,
                    }
                    continue;
                }
                row.expected += 1;
                last_passed = last_passed.max(Some(deadline));
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
        Ok(BoardRows {
            rows: obligations,
            last_passed,
            next_deadline,
        })
    }
}
