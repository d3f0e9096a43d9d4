//! `p06.aggregation.v1.TaskForceService`: consolidated status, progress, children summaries, the
//! compliance board and flags, computed on demand from stored counts.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use p06_domain::locality::{COUNTRY_CODE, Level, Locality};
use p06_domain::report::{CatalogView, Indicator};
use p06_domain::rollup;
use p06_domain::text::echo;
use p06_kit::convert::{date_from_proto, date_to_proto};
use p06_proto::aggregation::{
    self as pb, ComplianceBoard, ConsolidatedStatus, GetComplianceBoardRequest,
    GetConsolidatedStatusRequest, GetStatusTrendRequest, IndicatorStatus, ListAuditRecordsRequest,
    ListAuditRecordsResponse, ListFlagsRequest, ListFlagsResponse, ListLocalityProgressRequest,
    ListLocalityProgressResponse, ListReportRevisionsRequest, ListReportRevisionsResponse,
    ListReportsRequest, ListReportsResponse, LocalityLevel, LocalityProgress, ProgressOrder,
    StatusTrend, SummarizeChildrenRequest, SummarizeChildrenResponse, WatchFlagsRequest,
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
mod reports;
mod snapshot;
mod trend;

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
}

impl TaskForceApi {
    pub fn new(state: Arc<AppState>) -> Self {
        Self {
            state,
            pace_cache: pace::PaceCache::default(),
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
        let req = request.into_inner();
        let locality = self.locality(&caller, req.locality.as_ref(), "locality")?;
        let as_of = self.as_of(req.as_of.as_ref());
        let flow_from = date_from_proto(req.flow_from.as_ref());
        let catalog = &self.state.catalog;
        let finest = self.finest_below(locality);
        // Units that report at the bottom of the tree: what "expected" counts.
        let expected = if locality.id < 0 {
            catalog
                .descendants(locality.id)
                .iter()
                .filter(|l| !catalog.has_children(l.id))
                .count()
        } else {
            finest.len()
        };
        let mut rolled: Vec<&Locality> = vec![locality];
        if locality.id < 0 {
            rolled.extend(finest.iter().copied());
        }
        let requested = (!req.indicator_codes.is_empty()).then_some(req.indicator_codes.as_slice());
        let known_at = known_at_of(req.known_at.as_ref())?;
        let weeks = pace::weeks(req.pace_weeks)?;
        let with_pace = match req.omit_pace {
            true => Vec::new(),
            false => {
                let among: Vec<String> = match requested {
                    Some(codes) => codes.to_vec(),
                    None => catalog
                        .indicators()
                        .iter()
                        .map(|i| i.code.clone())
                        .collect(),
                };
                self.indicators_with_targets(locality, as_of, &among)
                    .await?
            }
        };
        let dates = pace::dates(as_of, weeks);
        let reads = Reads {
            dates: &dates,
            flow_from,
            totals_for: &rolled,
            indicators: requested,
            later: &with_pace,
            known_at,
        };
        let snapshots = self.snapshots(locality, &reads).await?;
        let snapshot = &snapshots[0];
        let dues = self
            .dues(locality, &rolled, as_of, &with_pace, snapshot.version)
            .await?;
        // The lowest rows carry their change too: the earlier snapshot covers what they need
        // (the province's figures; for the country, its provinces' totals).
        let earlier = match date_from_proto(req.compare_to.as_ref()) {
            Some(date) => {
                let reads = Reads {
                    dates: &[date],
                    later: &[],
                    ..reads
                };
                self.snapshots(locality, &reads).await?.pop()
            }
            None => None,
        };
        let pace_reads = PaceReads {
            snapshots: &snapshots,
            dues: &dues,
            flow_from,
            weeks,
        };
        // Every finest locality's pace and the scope's, per indicator with a pace: judged once
        // per read version (cached), looked up below.
        let mut paced_units = finest.clone();
        paced_units.push(locality);
        let mut paces: HashMap<&str, Arc<pace::Paces>> = HashMap::new();
        for code in &with_pace {
            let indicator = self.indicator(code)?;
            let computed = self.paces(locality, &pace_reads, indicator, &paced_units);
            paces.insert(code.as_str(), computed);
        }
        let paced = |indicator: &Indicator, l: &Locality| {
            paces.get(indicator.code.as_str())?.get(&l.id).cloned()
        };
        let lowest_count = match req.lowest_count {
            0 => 5,
            n => n.clamp(1, 50) as usize,
        };
        let codes: Vec<String> = if req.indicator_codes.is_empty() {
            let mut with_data: BTreeSet<String> = snapshot.figures.keys().cloned().collect();
            with_data.extend(
                snapshot
                    .totals
                    .totals
                    .iter()
                    .filter(|((id, _), t)| *id == locality.id && t.units > 0)
                    .map(|((_, code), _)| code.clone()),
            );
            // In the catalog's display order: the headline first.
            catalog
                .indicators()
                .iter()
                .filter(|i| with_data.contains(&i.code))
                .map(|i| i.code.clone())
                .collect()
        } else {
            for code in &req.indicator_codes {
                self.indicator(code)?;
            }
            req.indicator_codes.clone()
        };
        // The indicators with a target anywhere in the snapshot: only theirs are looked up for
        // every finest locality below (a look-up that finds nothing costs as much as one that does).
        let targeted: HashSet<&str> = snapshot
            .targets
            .keys()
            .map(|(code, _)| code.as_str())
            .chain(snapshot.totals.target_sums.keys().map(|(_, c)| c.as_str()))
            .collect();
        let mut indicators = Vec::with_capacity(codes.len());
        for code in &codes {
            let indicator = self.indicator(code)?;
            let totals = self.progress(snapshot, earlier.as_ref(), indicator, locality);
            let measure = self.measure(snapshot, indicator, locality);
            let reporting = if locality.id < 0 || catalog.has_children(locality.id) {
                measure
                    .as_ref()
                    .map_or(0, |m| m.units as usize)
                    .min(expected)
            } else {
                usize::from(measure.is_some())
            };
            // Counted over every finest locality; full rows are built for the lowest only.
            let (mut with_target, mut meeting) = (0, 0);
            let mut ranked: Vec<(f64, &Locality)> = Vec::new();
            let mut by_pace: BTreeMap<i32, i32> = BTreeMap::new();
            let with_targets: &[&Locality] = match targeted.contains(code.as_str()) {
                true => &finest,
                false => &[],
            };
            for l in with_targets {
                let Some(target) = self.target(snapshot, &indicator.code, l) else {
                    continue;
                };
                with_target += 1;
                if let Some(p) = paced(indicator, l) {
                    *by_pace.entry(p.status).or_default() += 1;
                }
                let Some(value) = self.measure(snapshot, indicator, l).map(|m| m.value) else {
                    continue;
                };
                if value >= target {
                    meeting += 1;
                }
                if let Some(pct) = rollup::percent(value, target) {
                    ranked.push((pct, l));
                }
            }
            ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
            let lowest: Vec<LocalityProgress> = ranked
                .iter()
                .take(lowest_count)
                .enumerate()
                .map(|(position, (_, l))| LocalityProgress {
                    rank: position as i32 + 1,
                    pace: paced(indicator, l),
                    ..self.progress(snapshot, earlier.as_ref(), indicator, l)
                })
                .collect();
            indicators.push(IndicatorStatus {
                indicator_code: code.clone(),
                name_vi: indicator.name_vi.clone(),
                name_en: indicator.name_en.clone(),
                value: totals.value,
                target: totals.target,
                percent_of_target: totals.percent_of_target,
                denominator_code: indicator.denominator.clone().unwrap_or_default(),
                denominator_value: totals.denominator_value,
                percent_of_denominator: totals.percent_of_denominator,
                change: totals.change,
                localities_meeting_target: meeting,
                localities_with_target: with_target,
                localities_reporting: reporting as i32,
                localities_expected: expected as i32,
                localities_without_data: (expected - reporting) as i32,
                lowest,
                oldest_as_of: totals.as_of,
                locality_completeness: if expected == 0 {
                    0.0
                } else {
                    reporting as f64 / expected as f64
                },
                reports_included: measure.map_or(0, |m| m.reports) as i32,
                pace: paced(indicator, locality),
                split_units: totals.split_units,
                uncarried_units: totals.uncarried_units,
                localities_by_pace: by_pace
                    .into_iter()
                    .map(|(status, count)| pb::PaceStatusCount { status, count })
                    .collect(),
            });
        }
        Ok(Response::new(ConsolidatedStatus {
            locality: Some(self.locality_to_proto(locality)),
            as_of: Some(date_to_proto(as_of)),
            indicators,
            carried_from_edition: carried::CarriedFrom::edition_year(snapshot.carried.as_deref()),
        }))
    }

    async fn list_locality_progress(
        &self,
        request: Request<ListLocalityProgressRequest>,
    ) -> Result<Response<ListLocalityProgressResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let parent = self.locality(&caller, req.parent.as_ref(), "parent")?;
        let indicator = self.indicator(&req.indicator_code)?;
        let level = match LocalityLevel::try_from(req.level).unwrap_or(LocalityLevel::Unspecified) {
            LocalityLevel::Province => Level::Province,
            LocalityLevel::District => Level::District,
            _ => Level::Commune,
        };
        let as_of = self.as_of(req.as_of.as_ref());
        let catalog = &self.state.catalog;
        let listed: Vec<&Locality> = if parent.id < 0 {
            catalog.children(parent.id).collect()
        } else {
            catalog
                .descendants(parent.id)
                .into_iter()
                .filter(|l| l.level == level)
                .collect()
        };
        let only = std::slice::from_ref(&indicator.code);
        let known_at = known_at_of(req.known_at.as_ref())?;
        let weeks = pace::weeks(req.pace_weeks)?;
        let mut statuses = Vec::with_capacity(req.pace_statuses.len());
        for (i, &status) in req.pace_statuses.iter().enumerate() {
            match pb::PaceStatus::try_from(status) {
                Ok(s) if s != pb::PaceStatus::Unspecified => statuses.push(status),
                _ => {
                    return Err(Error::invalid_field(
                        &format!("pace_statuses[{i}]"),
                        "MET, ON_TRACK, AT_RISK, OFF_TRACK or NO_TREND",
                    )
                    .into());
                }
            }
        }
        let with_pace = self.indicators_with_targets(parent, as_of, only).await?;
        let dates = pace::dates(as_of, weeks);
        let reads = Reads {
            dates: &dates,
            flow_from: None,
            totals_for: &listed,
            indicators: Some(only),
            later: &with_pace,
            known_at,
        };
        let snapshots = self.snapshots(parent, &reads).await?;
        let dues = self
            .dues(parent, &listed, as_of, &with_pace, snapshots[0].version)
            .await?;
        let earlier = match date_from_proto(req.compare_to.as_ref()) {
            Some(date) => {
                let reads = Reads {
                    dates: &[date],
                    later: &[],
                    ..reads
                };
                self.snapshots(parent, &reads).await?.pop()
            }
            None => None,
        };
        let paces = match with_pace.is_empty() {
            true => Arc::default(),
            false => {
                let pace_reads = PaceReads {
                    snapshots: &snapshots,
                    dues: &dues,
                    flow_from: None,
                    weeks,
                };
                self.paces(parent, &pace_reads, indicator, &listed)
            }
        };
        let carried_from_edition =
            carried::CarriedFrom::edition_year(snapshots[0].carried.as_deref());
        let mut rows: Vec<LocalityProgress> = listed
            .into_iter()
            .map(|l| LocalityProgress {
                pace: paces.get(&l.id).cloned(),
                ..self.progress(&snapshots[0], earlier.as_ref(), indicator, l)
            })
            .collect();
        rank(&mut rows);
        rows.retain(|r| {
            let pct = r.percent_of_target;
            let status = r.pace.as_ref().map(|p| p.status);
            (statuses.is_empty() || status.is_some_and(|s| statuses.contains(&s)))
                && (!req.only_no_data || r.value.is_none())
                && req.below_percent.is_none_or(|b| pct.is_some_and(|p| p < b))
                && req.above_percent.is_none_or(|a| pct.is_some_and(|p| p > a))
        });
        let code = |r: &LocalityProgress| {
            r.locality
                .as_ref()
                .map(|l| l.code.clone())
                .unwrap_or_default()
        };
        match ProgressOrder::try_from(req.order).unwrap_or(ProgressOrder::Unspecified) {
            ProgressOrder::PercentDesc => rows.sort_by(|a, b| {
                b.percent_of_target
                    .unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&a.percent_of_target.unwrap_or(f64::NEG_INFINITY))
            }),
            ProgressOrder::ValueDesc => rows.sort_by(|a, b| {
                b.value
                    .unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&a.value.unwrap_or(f64::NEG_INFINITY))
            }),
            ProgressOrder::Code => rows.sort_by_key(code),
            _ => rows.sort_by_key(|r| (r.rank == 0, r.rank, code(r))),
        }
        let total_size = rows.len() as i32;
        let (rows, next_page_token) =
            paging::page("progress", &rows, req.page_size, &req.page_token)?;
        Ok(Response::new(ListLocalityProgressResponse {
            rows,
            next_page_token,
            total_size,
            carried_from_edition,
        }))
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
