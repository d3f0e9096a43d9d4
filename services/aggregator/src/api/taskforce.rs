//! `p06.aggregation.v1.TaskForceService`: consolidated status, progress, children summaries, the
//! compliance board and flags, computed on demand from stored counts.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::pin::Pin;
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate};
use p06_domain::locality::{Level, Locality};
use p06_domain::obligation::parse_province;
use p06_domain::report::{CatalogView, Indicator, IndicatorKind};
use p06_domain::rollup::{self, Figure, Tree};
use p06_domain::specificity::SpecificityReason;
use p06_kit::convert::{date_from_proto, date_to_proto, duration};
use p06_proto::aggregation::{
    self as pb, ChildSummary, ComplianceBoard, ConsolidatedStatus, GetComplianceBoardRequest,
    GetConsolidatedStatusRequest, IndicatorStatus, ListFlagsRequest, ListFlagsResponse,
    ListLocalityProgressRequest, ListLocalityProgressResponse, LocalityLevel, LocalityProgress,
    ObligationCompliance, ProgressOrder, ReasonCount, SummarizeChildrenRequest,
    SummarizeChildrenResponse, WatchFlagsRequest, task_force_service_server::TaskForceService,
};
use p06_proto::common::{CalendarDate, LocalityRef};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::{Caller, flag_to_proto, paging};
use crate::app::AppState;
use crate::catalog::Catalog;
use crate::error::Error;

pub struct TaskForceApi {
    state: Arc<AppState>,
}

impl TaskForceApi {
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

impl Tree for Catalog {
    fn children(&self, id: i64) -> Vec<i64> {
        Catalog::children(self, id).map(|l| l.id).collect()
    }
}

/// Every figure of a province as of a date: stocks at their latest period, flows summed.
struct Snapshot {
    figures: HashMap<String, HashMap<i64, Figure>>,
    reports: HashMap<String, HashMap<i64, HashSet<i64>>>,
    targets: HashMap<(String, i64), f64>,
}

impl Snapshot {
    fn of(&self, indicator: &str) -> HashMap<i64, Figure> {
        self.figures.get(indicator).cloned().unwrap_or_default()
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
        let edition = r
            .edition
            .parse()
            .map_err(|_| Error::invalid_field(&format!("{field}.edition"), "unknown edition"))?;
        let catalog = &self.state.catalog;
        let locality = catalog.locality(edition, &r.code).ok_or_else(|| {
            Error::invalid_field(&format!("{field}.code"), "no such locality in this edition")
        })?;
        let province = catalog
            .locality_by_id(locality.province_id)
            .ok_or_else(|| Error::Internal("locality without province".into()))?;
        caller.require_province(province.edition.as_str(), &province.code)?;
        Ok(locality)
    }

    fn indicator(&self, code: &str) -> Result<&Indicator, Error> {
        self.state.catalog.indicator(code).ok_or_else(|| {
            Error::invalid_field("indicator_code", format!("unknown indicator {code:?}"))
        })
    }

    fn as_of(&self, date: Option<&CalendarDate>) -> NaiveDate {
        date_from_proto(date).unwrap_or_else(|| self.state.today())
    }

    async fn snapshot(
        &self,
        province_id: i64,
        as_of: NaiveDate,
        flow_from: Option<NaiveDate>,
    ) -> Result<Snapshot, Error> {
        let store = &self.state.store;
        let catalog = &self.state.catalog;
        let mut figures: HashMap<String, HashMap<i64, Figure>> = HashMap::new();
        let mut reports: HashMap<String, HashMap<i64, HashSet<i64>>> = HashMap::new();
        let is_flow = |code: &str| {
            catalog
                .indicator(code)
                .is_some_and(|i| i.kind == IndicatorKind::Flow)
        };
        for row in store.latest_figures(province_id, as_of).await? {
            if is_flow(&row.indicator_code) {
                continue;
            }
            figures
                .entry(row.indicator_code.clone())
                .or_default()
                .insert(
                    row.locality_id,
                    Figure {
                        value: row.value,
                        as_of: row.period_end,
                    },
                );
            reports
                .entry(row.indicator_code)
                .or_default()
                .entry(row.locality_id)
                .or_default()
                .insert(row.report_id);
        }
        let from = flow_from
            .unwrap_or_else(|| NaiveDate::from_ymd_opt(as_of.year(), 1, 1).unwrap_or(as_of));
        for row in store.figures_within(province_id, from, as_of).await? {
            if !is_flow(&row.indicator_code) {
                continue;
            }
            let figure = figures
                .entry(row.indicator_code.clone())
                .or_default()
                .entry(row.locality_id)
                .or_insert(Figure {
                    value: 0.0,
                    as_of: row.period_end,
                });
            figure.value += row.value;
            figure.as_of = figure.as_of.max(row.period_end);
            reports
                .entry(row.indicator_code)
                .or_default()
                .entry(row.locality_id)
                .or_default()
                .insert(row.report_id);
        }
        let targets = store.targets_due_from(province_id, as_of).await?;
        Ok(Snapshot {
            figures,
            reports,
            targets,
        })
    }

    /// The finest-level localities at or below `root` (communes, or `root` itself at the bottom).
    fn finest_below<'a>(&'a self, root: &'a Locality) -> Vec<&'a Locality> {
        let below = self.state.catalog.descendants(root.id);
        let finest = below.iter().map(|l| l.level).max();
        match finest {
            Some(level) => below.into_iter().filter(|l| l.level == level).collect(),
            None => vec![root],
        }
    }

    /// A locality's target: its own, else the sum of the targets of the finest localities below it.
    fn target(&self, snapshot: &Snapshot, indicator: &str, locality: &Locality) -> Option<f64> {
        if let Some(t) = snapshot.targets.get(&(indicator.to_owned(), locality.id)) {
            return Some(*t);
        }
        let sum: Vec<f64> = self
            .finest_below(locality)
            .iter()
            .filter_map(|l| snapshot.targets.get(&(indicator.to_owned(), l.id)).copied())
            .collect();
        (!sum.is_empty()).then(|| sum.iter().sum())
    }

    fn progress(
        &self,
        snapshot: &Snapshot,
        earlier: Option<&Snapshot>,
        indicator: &Indicator,
        locality: &Locality,
    ) -> LocalityProgress {
        let figures = snapshot.of(&indicator.code);
        let denominators = indicator
            .denominator
            .as_deref()
            .map(|d| snapshot.of(d))
            .unwrap_or_default();
        let rolled = rollup::roll_up(&self.state.catalog, locality.id, &figures, &denominators);
        let target = self.target(snapshot, &indicator.code, locality);
        let value = rolled.as_ref().map(|r| r.value);
        let change = earlier.and_then(|e| {
            let before = rollup::roll_up(
                &self.state.catalog,
                locality.id,
                &e.of(&indicator.code),
                &HashMap::new(),
            )?;
            Some(value? - before.value)
        });
        LocalityProgress {
            locality: Some(self.locality_to_proto(locality)),
            value,
            target,
            percent_of_target: value.zip(target).and_then(|(v, t)| rollup::percent(v, t)),
            denominator_value: rolled
                .as_ref()
                .filter(|r| r.paired_denominator > 0.0)
                .map(|r| r.paired_denominator),
            percent_of_denominator: rolled.as_ref().and_then(|r| r.denominator_percent()),
            change,
            rank: 0,
            as_of: rolled.and_then(|r| r.oldest_as_of).map(date_to_proto),
        }
    }

    fn locality_to_proto(&self, l: &Locality) -> pb::Locality {
        super::locality_to_proto(&self.state.catalog, l)
    }
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
        let snapshot = self
            .snapshot(locality.province_id, as_of, flow_from)
            .await?;
        let earlier = match date_from_proto(req.compare_to.as_ref()) {
            Some(date) => Some(self.snapshot(locality.province_id, date, flow_from).await?),
            None => None,
        };
        let lowest_count = match req.lowest_count {
            0 => 5,
            n => n.clamp(1, 50) as usize,
        };
        let catalog = &self.state.catalog;
        let codes: Vec<String> = if req.indicator_codes.is_empty() {
            let mut with_data: Vec<String> = snapshot.figures.keys().cloned().collect();
            with_data.sort();
            with_data
        } else {
            for code in &req.indicator_codes {
                self.indicator(code)?;
            }
            req.indicator_codes.clone()
        };
        let finest = self.finest_below(locality);
        let mut indicators = Vec::with_capacity(codes.len());
        for code in &codes {
            let indicator = self.indicator(code)?;
            let totals = self.progress(&snapshot, earlier.as_ref(), indicator, locality);
            let figures = snapshot.of(code);
            let mut rows: Vec<LocalityProgress> = finest
                .iter()
                .map(|l| self.progress(&snapshot, None, indicator, l))
                .collect();
            let reporting = finest
                .iter()
                .filter(|l| figures.contains_key(&l.id))
                .count();
            let with_target: Vec<&LocalityProgress> =
                rows.iter().filter(|r| r.target.is_some()).collect();
            let meeting = with_target
                .iter()
                .filter(|r| r.value.zip(r.target).is_some_and(|(v, t)| v >= t))
                .count();
            let with_target = with_target.len();
            rank(&mut rows);
            let mut lowest: Vec<LocalityProgress> =
                rows.into_iter().filter(|r| r.rank > 0).collect();
            lowest.sort_by_key(|r| r.rank);
            lowest.truncate(lowest_count);
            let contributing = rollup::contributing_units(catalog, locality.id, &figures);
            let reports: HashSet<i64> = contributing
                .iter()
                .filter_map(|id| snapshot.reports.get(code)?.get(id))
                .flatten()
                .copied()
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
                localities_meeting_target: meeting as i32,
                localities_with_target: with_target as i32,
                localities_reporting: reporting as i32,
                localities_expected: finest.len() as i32,
                localities_without_data: (finest.len() - reporting) as i32,
                lowest,
                oldest_as_of: totals.as_of,
                locality_completeness: if finest.is_empty() {
                    0.0
                } else {
                    reporting as f64 / finest.len() as f64
                },
                reports_included: reports.len() as i32,
            });
        }
        Ok(Response::new(ConsolidatedStatus {
            locality: Some(self.locality_to_proto(locality)),
            as_of: Some(date_to_proto(as_of)),
            indicators,
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
        let snapshot = self.snapshot(parent.province_id, as_of, None).await?;
        let earlier = match date_from_proto(req.compare_to.as_ref()) {
            Some(date) => Some(self.snapshot(parent.province_id, date, None).await?),
            None => None,
        };
        let mut rows: Vec<LocalityProgress> = self
            .state
            .catalog
            .descendants(parent.id)
            .into_iter()
            .filter(|l| l.level == level)
            .map(|l| self.progress(&snapshot, earlier.as_ref(), indicator, l))
            .collect();
        rank(&mut rows);
        rows.retain(|r| {
            let pct = r.percent_of_target;
            (!req.only_no_data || r.value.is_none())
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
        }))
    }

    async fn summarize_children(
        &self,
        request: Request<SummarizeChildrenRequest>,
    ) -> Result<Response<SummarizeChildrenResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let parent = self.locality(&caller, req.parent.as_ref(), "parent")?;
        let indicator = self.indicator(&req.indicator_code)?;
        if !req.threshold_percent.is_finite() || req.threshold_percent < 0.0 {
            return Err(Error::invalid_field(
                "threshold_percent",
                "a percentage of target, e.g. 50",
            )
            .into());
        }
        let snapshot = self
            .snapshot(parent.province_id, self.as_of(req.as_of.as_ref()), None)
            .await?;
        let mut children: Vec<&Locality> = self.state.catalog.children(parent.id).collect();
        children.sort_by(|a, b| a.code.cmp(&b.code));
        let mut out = Vec::with_capacity(children.len());
        for child in children {
            let finest = self.finest_below(child);
            let rows: Vec<LocalityProgress> = finest
                .iter()
                .map(|l| self.progress(&snapshot, None, indicator, l))
                .collect();
            out.push(ChildSummary {
                child: Some(self.progress(&snapshot, None, indicator, child)),
                below_threshold: rows
                    .iter()
                    .filter(|r| {
                        r.percent_of_target
                            .is_some_and(|p| p < req.threshold_percent)
                    })
                    .count() as i32,
                with_target: rows.iter().filter(|r| r.target.is_some()).count() as i32,
                without_data: rows.iter().filter(|r| r.value.is_none()).count() as i32,
                total: rows.len() as i32,
            });
        }
        Ok(Response::new(SummarizeChildrenResponse { children: out }))
    }

    async fn get_compliance_board(
        &self,
        request: Request<GetComplianceBoardRequest>,
    ) -> Result<Response<ComplianceBoard>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let province = self.locality(&caller, req.province.as_ref(), "province")?;
        let to = self.as_of(req.to.as_ref());
        let from = date_from_proto(req.from.as_ref()).unwrap_or(to - Duration::days(30));
        if to < from {
            return Err(Error::invalid_field("to", "ends before from").into());
        }
        let state = &self.state;
        let now = state.clock.now();
        let revisions = state.store.revisions_between(province.id, from, to).await?;
        let flags = state.store.flags(province.id, None, None).await?;
        let mut obligations = Vec::new();
        for obligation in state.store.obligations().await? {
            let binds = obligation
                .provinces
                .iter()
                .any(|p| parse_province(p) == Some((province.edition, province.code.as_str())));
            if !binds || (!req.agency.is_empty() && obligation.agency != req.agency) {
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
                let Some(first) = series.iter().find(|r| r.revision == 1) else {
                    if deadline < now {
                        row.expected += 1;
                        row.missing += 1;
                    } else {
                        row.pending += 1;
                    }
                    continue;
                };
                row.expected += 1;
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
                row.consistency_flags += flags
                    .iter()
                    .filter(|f| {
                        f.obligation == obligation.code
                            && f.period_start == period.start
                            && ["STOCK_DECREASE", "TREND_JUMP", "ABOVE_DENOMINATOR"]
                                .contains(&f.kind.as_str())
                    })
                    .count() as i32;
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
        let open_flags = flags
            .iter()
            .filter(|f| f.state == "OPEN" && (req.agency.is_empty() || f.agency == req.agency))
            .map(|f| flag_to_proto(f, catalog))
            .collect();
        Ok(Response::new(ComplianceBoard {
            obligations,
            open_flags,
        }))
    }

    async fn list_flags(
        &self,
        request: Request<ListFlagsRequest>,
    ) -> Result<Response<ListFlagsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let req = request.into_inner();
        let province = self.locality(&caller, req.province.as_ref(), "province")?;
        let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let rows = self
            .state
            .store
            .flags(
                province.id,
                optional(&req.kind).as_deref(),
                optional(&req.state).as_deref(),
            )
            .await?;
        let catalog = &self.state.catalog;
        let flags: Vec<pb::Flag> = rows
            .iter()
            .filter(|f| req.agency.is_empty() || f.agency == req.agency)
            .rev()
            .map(|f| flag_to_proto(f, catalog))
            .collect();
        let (flags, next_page_token) =
            paging::page("flags", &flags, req.page_size, &req.page_token)?;
        Ok(Response::new(ListFlagsResponse {
            flags,
            next_page_token,
        }))
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
        let state = self.state.clone();
        let kind = (!req.kind.is_empty()).then_some(req.kind);
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        // Polls the flag table, so flags raised by any replica reach every watcher.
        tokio::spawn(async move {
            // Flags with an id above `seen` are new; the first round sends the open ones when asked.
            let mut seen: Option<i64> = None;
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
            loop {
                tick.tick().await;
                if tx.is_closed() {
                    return;
                }
                let rows = match state.store.flags(province_id, kind.as_deref(), None).await {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::warn!(error = %e, "flag watch poll failed; retrying");
                        continue;
                    }
                };
                let newest = rows.iter().map(|f| f.id).max().unwrap_or(0);
                let fresh: Vec<_> = match seen {
                    Some(seen) => rows.iter().filter(|f| f.id > seen).collect(),
                    None if req.include_open => rows.iter().filter(|f| f.state == "OPEN").collect(),
                    None => Vec::new(),
                };
                for f in fresh {
                    if tx.send(Ok(flag_to_proto(f, &state.catalog))).await.is_err() {
                        return;
                    }
                }
                seen = Some(seen.unwrap_or(0).max(newest));
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}
