//! `ListReports` and `ListReportRevisions`: the stored reports behind the task force's views,
//! scoped by province like every task-force read.

use p06_domain::revision;
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::{
    ListReportRevisionsRequest, ListReportRevisionsResponse, ListReportsRequest,
    ListReportsResponse, ObservationChange, ReportRevision, ReportSummary,
};
use p06_proto::common;

use super::{TaskForceApi, check_filter};
use crate::api::{Caller, paging, receipt_to_proto};
use crate::catalog::Catalog;
use crate::error::Error;
use crate::store::{ReportFilter, ReportListing, Stored};

impl TaskForceApi {
    pub(super) async fn reports(
        &self,
        caller: &Caller,
        req: ListReportsRequest,
    ) -> Result<ListReportsResponse, Error> {
        let province = self.locality(caller, req.province.as_ref(), "province")?;
        if province.id < 0 || province.province_id != province.id {
            return Err(Error::invalid_field("province.code", "name one province"));
        }
        check_filter("agency", &req.agency)?;
        check_filter("obligation", &req.obligation)?;
        let size = paging::page_size(req.page_size)?;
        let offset = paging::decode_token("reports", &req.page_token)?;
        let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let (agency, obligation) = (optional(&req.agency), optional(&req.obligation));
        let filter = ReportFilter {
            province_id: province.id,
            agency: agency.as_deref(),
            obligation: obligation.as_deref(),
            period_end_from: req
                .from
                .as_ref()
                .and_then(|d| p06_kit::convert::date_from_proto(Some(d))),
            period_end_to: req
                .to
                .as_ref()
                .and_then(|d| p06_kit::convert::date_from_proto(Some(d))),
        };
        let (rows, more) = self.state.store.reports(&filter, offset, size).await?;
        let catalog = &self.state.catalog;
        let reports: Vec<ReportSummary> = rows.iter().map(|r| summary(r, catalog)).collect();
        let next_page_token = paging::next_token("reports", offset, reports.len(), size, more);
        Ok(ListReportsResponse {
            reports,
            next_page_token,
        })
    }

    pub(super) async fn report_revisions(
        &self,
        caller: &Caller,
        req: ListReportRevisionsRequest,
    ) -> Result<ListReportRevisionsResponse, Error> {
        // The caller may read the province named (PERMISSION_DENIED otherwise) …
        let province = self.locality(caller, req.province.as_ref(), "province")?;
        if province.id < 0 || province.province_id != province.id {
            return Err(Error::invalid_field("province.code", "name one province"));
        }
        let name = req.name;
        let id: i64 = name
            .strip_prefix("reports/")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| Error::invalid_field("name", "expected reports/{id}"))?;
        // … and a report of another province is indistinguishable from a missing one.
        let not_found = || Error::NotFound(format!("{name} not found in this province"));
        let series = self
            .state
            .store
            .report_series(id)
            .await?
            .filter(|s| {
                s.first()
                    .is_some_and(|r| r.listing.province_id == province.id)
            })
            .ok_or_else(not_found)?;
        let catalog = &self.state.catalog;
        let code_of = |id: i64| {
            catalog
                .locality_by_id(id)
                .map(|l| l.code.clone())
                .unwrap_or_default()
        };
        let keyed = |obs: &[(String, i64, f64)]| -> Figures {
            obs.iter()
                .map(|(indicator, locality, value)| {
                    ((indicator.clone(), code_of(*locality)), *value)
                })
                .collect()
        };
        let mut revisions = Vec::with_capacity(series.len());
        let mut previous: Option<(Figures, &[String; 3])> = None;
        for rev in &series {
            let figures = keyed(&rev.observations);
            let (changes, narrative_changed) = match &previous {
                None => (Vec::new(), false),
                Some((before, narrative)) => (
                    revision::changes(before, &figures)
                        .into_iter()
                        .map(|c| ObservationChange {
                            indicator_code: c.key.0,
                            locality_code: c.key.1,
                            before: c.before,
                            after: c.after,
                        })
                        .collect(),
                    *narrative != &rev.narrative,
                ),
            };
            revisions.push(ReportRevision {
                report: Some(summary(&rev.listing, catalog)),
                changes,
                narrative_changed,
            });
            previous = Some((figures, &rev.narrative));
        }
        Ok(ListReportRevisionsResponse { revisions })
    }
}

/// (indicator code, locality code): what a figure is of.
type Figure = (String, String);
/// A revision's figures by what they are of.
type Figures = Vec<(Figure, f64)>;

/// A stored revision on the wire, without observations or flags.
fn summary(r: &ReportListing, catalog: &Catalog) -> ReportSummary {
    let receipt = receipt_to_proto(
        &Stored {
            receipt: r.receipt.clone(),
            flags: Vec::new(),
            replayed: false,
        },
        catalog,
    );
    ReportSummary {
        name: format!("reports/{}", r.receipt.id),
        agency: r.agency.clone(),
        obligation: r.obligation.clone(),
        period: Some(common::Period {
            start: Some(date_to_proto(r.period_start)),
            end: Some(date_to_proto(r.period_end)),
        }),
        receipt: Some(receipt),
        submitted_by: r.submitted_by.clone(),
        observation_count: i32::try_from(r.observation_count).unwrap_or(i32::MAX),
    }
}
