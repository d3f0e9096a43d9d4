//! `p06.aggregation.v1.TaskForceService`: consolidated status, progress, children summaries, the
//! compliance board and flags, computed on demand from stored counts.

use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use p06_domain::locality::{COUNTRY_CODE, Locality};
use p06_domain::report::{CatalogView, Indicator};
use p06_domain::text::echo;
use p06_kit::convert::date_from_proto;
use p06_proto::aggregation::{
    self as pb, ComplianceBoard, ConsolidatedStatus, GetComplianceBoardRequest,
    GetConsolidatedStatusRequest, GetStatusTrendRequest, ListAuditRecordsRequest,
    ListAuditRecordsResponse, ListFlagsRequest, ListFlagsResponse, ListLocalityProgressRequest,
    ListLocalityProgressResponse, ListReportRevisionsRequest, ListReportRevisionsResponse,
    ListReportsRequest, ListReportsResponse, LocalityProgress, StatusTrend,
    SummarizeChildrenRequest, SummarizeChildrenResponse, WatchFlagsRequest,
    task_force_service_server::TaskForceService,
};
use p06_proto::common::{CalendarDate, LocalityRef};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

mod audit;
mod carried;
mod children;
mod compliance;
mod known;
mod pace;
mod progress;
mod reports;
mod snapshot;
mod status;
mod trend;
mod view_cache;

use super::{Caller, flag_to_proto, flag_watch, paging};
use crate::app::AppState;
use crate::error::Error;
use crate::flag_feed::StreamCap;
use crate::store::flags::{FlagFilter, FlagTable};
use known::Reads;
use pace::PaceReads;
use snapshot::{LiveReads, Snapshot};

pub struct TaskForceApi {
    state: Arc<AppState>,
    /// Targets' due dates, the indicators with targets and the views' paces, at the read
    /// version they were judged at (`pace::PaceCache`).
    pace_cache: pace::PaceCache,
    /// The compliance boards' rows, at the read version they were computed at.
    board_cache: compliance::BoardCache,
    /// The progress lists' ranked rows, at the read version they were computed at.
    ranked_cache: progress::RankedCache,
    /// The consolidated statuses, at the read version they were computed at.
    status_cache: status::StatusCache,
}

impl TaskForceApi {
    pub fn new(state: Arc<AppState>) -> Self {
        Self {
            state,
            pace_cache: pace::PaceCache::default(),
            board_cache: compliance::board_cache(),
            ranked_cache: progress::ranked_cache(),
            status_cache: status::status_cache(),
        }
    }
}

impl TaskForceApi {
    fn locality(
        &self,
        caller: &Caller,
        r: Option<&LocalityRef>,
        field: &str,
    ) -> Result<&Locality, Error> {
        let r = r.cloned().unwrap_or_default();
        let edition: p06_domain::locality::Edition = r
            .edition
            .parse()
            .map_err(|_| Error::invalid_field(&format!("{field}.edition"), "unknown edition"))?;
        let catalog = &self.state.catalog;
        if r.code == COUNTRY_CODE {
            caller.require_province(edition.as_str(), COUNTRY_CODE)?;
            return Ok(catalog.country(edition));
        }
        let locality = catalog.locality(edition, &r.code).ok_or_else(|| {
            super::unknown_locality(catalog, &format!("{field}.code"), edition, &r.code)
        })?;
        let province = catalog
            .locality_by_id(locality.province_id)
            .ok_or_else(|| Error::Internal("locality without province".into()))?;
        // The national task force reads every province of its edition.
        if !caller.owns_province(province.edition.as_str(), COUNTRY_CODE) {
            caller.require_province(province.edition.as_str(), &province.code)?;
        }
        Ok(locality)
    }

    fn indicator(&self, code: &str) -> Result<&Indicator, Error> {
        self.state.catalog.indicator(code).ok_or_else(|| {
            Error::invalid_field(
                "indicator_code",
                format!("unknown indicator {}", echo(code)),
            )
        })
    }

    fn as_of(&self, date: Option<&CalendarDate>) -> NaiveDate {
        date_from_proto(date).unwrap_or_else(|| self.state.today())
    }

    fn locality_to_proto(&self, l: &Locality) -> pb::Locality {
        super::locality_to_proto(&self.state.catalog, l)
    }
}

/// The request's `known_at`, when set.
fn known_at_of(ts: Option<&prost_types::Timestamp>) -> Result<Option<DateTime<Utc>>, Error> {
    ts.map(|ts| {
        p06_kit::convert::from_timestamp(ts)
            .ok_or_else(|| Error::invalid_field("known_at", "not a valid instant"))
    })
    .transpose()
}

/// Ranks rows by percent of target, lowest first; rows without one are not ranked.
fn rank(rows: &mut [LocalityProgress]) {
    let mut ranked: Vec<(usize, f64, String)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, r.percent_of_target?, r.locality.as_ref()?.code.clone())))
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.2.cmp(&b.2)));
    for (position, (i, _, _)) in ranked.into_iter().enumerate() {
        rows[i].rank = position as i32 + 1;
    }
}

type FlagStream = Pin<Box<dyn Stream<Item = Result<pb::Flag, Status>> + Send>>;

#[tonic::async_trait]
impl TaskForceService for TaskForceApi {
    async fn get_consolidated_status(
        &self,
        request: Request<GetConsolidatedStatusRequest>,
    ) -> Result<Response<ConsolidatedStatus>, Status> {
        let caller = Caller::of(&request)?;
        let status = self.status(&caller, request.into_inner()).await?;
        Ok(Response::new(ConsolidatedStatus::clone(&status)))
    }

    async fn list_locality_progress(
        &self,
        request: Request<ListLocalityProgressRequest>,
    ) -> Result<Response<ListLocalityProgressResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.locality_progress(&caller, request.into_inner())
                .await?,
        ))
    }

    async fn summarize_children(
        &self,
        request: Request<SummarizeChildrenRequest>,
    ) -> Result<Response<SummarizeChildrenResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.children_summary(&caller, request.into_inner()).await?,
        ))
    }

    async fn get_compliance_board(
        &self,
        request: Request<GetComplianceBoardRequest>,
    ) -> Result<Response<ComplianceBoard>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.compliance_board(&caller, request.into_inner()).await?,
        ))
    }

    async fn list_flags(
        &self,
        request: Request<ListFlagsRequest>,
    ) -> Result<Response<ListFlagsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let province = self.locality(&caller, req.province.as_ref(), "province")?;
        if province.id < 0 {
            return Err(Error::invalid_field("province.code", "name one province").into());
        }
        check_filter("kind", &req.kind)?;
        check_filter("state", &req.state)?;
        check_filter("agency", &req.agency)?;
        let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let filter = FlagFilter {
            kind: optional(&req.kind),
            state: optional(&req.state),
            agency: optional(&req.agency),
        };
        let (table, listing) = if req.archived {
            (FlagTable::Archive, "flag_archive")
        } else {
            (FlagTable::Hot, "flags")
        };
        let size = paging::page_size(req.page_size)?;
        let before = paging::decode_key_token(listing, &req.page_token)?;
        // One row beyond the page tells whether another page follows.
        let mut rows = self
            .state
            .store
            .flags_page(table, province.id, &filter, before, size + 1)
            .await?;
        let more = rows.len() as u64 > size;
        rows.truncate(size as usize);
        let next_page_token = match rows.last() {
            Some(last) if more => paging::key_token(listing, last.id),
            _ => String::new(),
        };
        let catalog = &self.state.catalog;
        Ok(Response::new(ListFlagsResponse {
            flags: rows.iter().map(|f| flag_to_proto(f, catalog)).collect(),
            next_page_token,
        }))
    }

    async fn list_reports(
        &self,
        request: Request<ListReportsRequest>,
    ) -> Result<Response<ListReportsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.reports(&caller, request.into_inner()).await?,
        ))
    }

    async fn get_status_trend(
        &self,
        request: Request<GetStatusTrendRequest>,
    ) -> Result<Response<StatusTrend>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.status_trend(&caller, request.into_inner()).await?,
        ))
    }

    async fn list_audit_records(
        &self,
        request: Request<ListAuditRecordsRequest>,
    ) -> Result<Response<ListAuditRecordsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.audit_records(&caller, request.into_inner()).await?,
        ))
    }

    async fn list_report_revisions(
        &self,
        request: Request<ListReportRevisionsRequest>,
    ) -> Result<Response<ListReportRevisionsResponse>, Status> {
        let caller = Caller::of(&request)?;
        Ok(Response::new(
            self.report_revisions(&caller, request.into_inner()).await?,
        ))
    }

    type WatchFlagsStream = FlagStream;

    async fn watch_flags(
        &self,
        request: Request<WatchFlagsRequest>,
    ) -> Result<Response<FlagStream>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let province_id = self
            .locality(&caller, req.province.as_ref(), "province")?
            .id;
        if province_id < 0 {
            return Err(Error::invalid_field("province.code", "name one province").into());
        }
        check_filter("kind", &req.kind)?;
        let after = match req.after.as_str() {
            "" => None,
            name => Some(
                name.strip_prefix("flags/")
                    .and_then(|id| id.parse::<i64>().ok())
                    .filter(|id| *id >= 0)
                    .ok_or_else(|| {
                        Error::invalid_field("after", format!("{} is not flags/{{id}}", echo(name)))
                    })?,
            ),
        };
        let feed = &self.state.flag_feed;
        if feed.is_closing() {
            return Err(Status::unavailable(
                "the aggregator is shutting down; reconnect to watch flags",
            ));
        }
        let slot = feed.open_stream(caller.subject()).map_err(|cap| {
            tracing::info!(subject = caller.subject(), %cap, "WatchFlags refused");
            stream_cap_status(&cap)
        })?;
        let flags = flag_watch::watch(
            self.state.clone(),
            flag_watch::WatchRequest {
                province_id,
                kind: (!req.kind.is_empty()).then_some(req.kind),
                include_open: req.include_open,
                after,
            },
            slot,
        );
        // The stream ends with UNAUTHENTICATED when the caller's token expires.
        Ok(Response::new(Box::pin(p06_auth::until_expiry(
            flags, &caller.0,
        ))))
    }
}

/// RESOURCE_EXHAUSTED naming the cap, with a `QuotaFailure` detail (subject: the token subject or
/// the process).
fn stream_cap_status(cap: &StreamCap) -> Status {
    use tonic_types::{ErrorDetails, StatusExt as _};
    let subject = match cap {
        StreamCap::PerSubject { subject, .. } => format!("subjects/{subject}"),
        StreamCap::PerProcess { .. } => "process".to_owned(),
    };
    let details = ErrorDetails::with_quota_failure_violation(subject, cap.to_string());
    Status::with_error_details(
        tonic::Code::ResourceExhausted,
        p06_kit::status::bounded_message(cap.to_string()),
        details,
    )
}

/// A filter's text, checked as stored text before it reaches a query (a NUL fails on PostgreSQL).
fn check_filter(field: &str, value: &str) -> Result<(), Error> {
    p06_domain::text::check(field, value, p06_domain::report::MAX_CODE_CHARS)
        .map_err(|v| Error::invalid(vec![v]))
}
