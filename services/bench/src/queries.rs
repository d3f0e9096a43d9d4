//! Scenario 3, task-force queries over the loaded data set, each as of the last complete week:
//!
//! - `baseline_list_indicators`: CatalogService/ListIndicators of one indicator, the floor of
//!   any call to the aggregator;
//! - `status_province`: GetConsolidatedStatus of one province (the largest of the data set),
//!   whose communes have `vneid.l2.activated` targets (so the pace to target is computed: four
//!   more weeks of figures for that indicator);
//! - `status_province_known_at`: the same as known at 09:00 (Vietnam) on the Monday after the
//!   last week, an hour before its reports arrive (the meeting before the week's reports): figures
//!   computed on demand from the stored revisions (issue 24's target: within 300 ms);
//! - `status_country`: GetConsolidatedStatus of the whole country (`LocalityRef { 2024, "VN" }`,
//!   token scoped to province "VN");
//! - `progress_district`: ListLocalityProgress of one district's communes (the province's largest);
//! - `progress_province`: ListLocalityProgress of the province's communes (one page of ≤ 1,000);
//! - `compliance_board`: GetComplianceBoard of the province over the data set's weeks.
//!
//! Cold = the first call of each query after restarting the aggregator child (new process: empty
//! in-process state and connection pool; the OS page cache and PostgreSQL's shared buffers stay
//! warm), repeated `--cold-restarts` times. Warm = up to `--query-calls` calls one at a time,
//! bounded by the measurement time.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    GetComplianceBoardRequest, GetConsolidatedStatusRequest, ListLocalityProgressRequest,
    LocalityLevel,
};
use p06_proto::common::LocalityRef;
use serde_json::{Value, json};
use tonic::transport::{Channel, Endpoint};

use crate::figures::Week;
use crate::load::{self, Outcome, Plan};
use crate::rig::{Rig, authed};
use crate::world::{EDITION, Province};

/// The indicator ranked by the progress queries.
const PROGRESS_INDICATOR: &str = "vneid.l2.activated";

#[derive(Debug, Clone)]
pub enum Query {
    /// CatalogService/ListIndicators with one result: the aggregator's floor for any read call
    /// (transport, authentication, one small query).
    Baseline,
    StatusProvince {
        province: String,
    },
    StatusProvinceKnownAt {
        province: String,
    },
    StatusCountry,
    ProgressDistrict {
        district: String,
    },
    ProgressProvince {
        province: String,
    },
    ComplianceBoard {
        province: String,
        from: Week,
        to: Week,
    },
}

impl Query {
    pub fn name(&self) -> &'static str {
        match self {
            Query::Baseline => "baseline_list_indicators",
            Query::StatusProvince { .. } => "status_province",
            Query::StatusProvinceKnownAt { .. } => "status_province_known_at",
            Query::StatusCountry => "status_country",
            Query::ProgressDistrict { .. } => "progress_district",
            Query::ProgressProvince { .. } => "progress_province",
            Query::ComplianceBoard { .. } => "compliance_board",
        }
    }

    /// Calls the query; the units are what it answered (indicators, rows or obligations), and an
    /// empty answer over a loaded data set is an error.
    pub async fn call(&self, channel: Channel, token: &str, as_of: Week) -> load::OpResult {
        let mut client = TaskForceServiceClient::new(channel.clone())
            .max_decoding_message_size(p06_kit::host::MAX_MESSAGE_BYTES);
        let locality = |code: &str| {
            Some(LocalityRef {
                edition: EDITION.into(),
                code: code.into(),
            })
        };
        let status = |s: tonic::Status| format!("{:?}: {}", s.code(), s.message());
        let n = match self {
            Query::Baseline => {
                p06_proto::aggregation::catalog_service_client::CatalogServiceClient::new(
                    channel.clone(),
                )
                .list_indicators(authed(
                    p06_proto::aggregation::ListIndicatorsRequest {
                        page_size: 1,
                        ..Default::default()
                    },
                    token,
                ))
                .await
                .map_err(status)?
                .into_inner()
                .indicators
                .len()
            }
            Query::StatusProvince { .. }
            | Query::StatusProvinceKnownAt { .. }
            | Query::StatusCountry => {
                let code = match self {
                    Query::StatusProvince { province }
                    | Query::StatusProvinceKnownAt { province } => province.as_str(),
                    _ => p06_domain::locality::COUNTRY_CODE,
                };
                let known_at = matches!(self, Query::StatusProvinceKnownAt { .. })
                    .then(|| p06_kit::convert::timestamp(meeting(as_of)));
                client
                    .get_consolidated_status(authed(
                        GetConsolidatedStatusRequest {
                            locality: locality(code),
                            as_of: Some(date_to_proto(as_of.end)),
                            known_at,
                            ..Default::default()
                        },
                        token,
                    ))
                    .await
                    .map_err(status)?
                    .into_inner()
                    .indicators
                    .len()
            }
            Query::ProgressDistrict { district: parent }
            | Query::ProgressProvince { province: parent } => client
                .list_locality_progress(authed(
                    ListLocalityProgressRequest {
                        indicator_code: PROGRESS_INDICATOR.into(),
                        parent: locality(parent),
                        level: LocalityLevel::Commune as i32,
                        as_of: Some(date_to_proto(as_of.end)),
                        page_size: 1_000,
                        ..Default::default()
                    },
                    token,
                ))
                .await
                .map_err(status)?
                .into_inner()
                .rows
                .len(),
            Query::ComplianceBoard { province, from, to } => client
                .get_compliance_board(authed(
                    GetComplianceBoardRequest {
                        province: locality(province),
                        from: Some(date_to_proto(from.start)),
                        to: Some(date_to_proto(to.end)),
                        agency: String::new(),
                    },
                    token,
                ))
                .await
                .map_err(status)?
                .into_inner()
                .obligations
                .len(),
        };
        if n == 0 {
            return Err(format!(
                "{}: empty answer over a loaded data set",
                self.name()
            ));
        }
        Ok(n as u64)
    }
}

/// A query with the token it is called with.
pub struct Case {
    pub query: Query,
    pub token: String,
    pub cold_us: Vec<u64>,
    pub cold_errors: Vec<String>,
    pub warm: Option<Outcome>,
}

/// The queries of the scenario about `province` (and its largest district).
pub fn cases(
    keys: &crate::setup::Keys,
    province: &Province,
    weeks: &[Week],
) -> anyhow::Result<Vec<Case>> {
    let viewer = crate::rig::viewer(keys, &province.code)?;
    let national = crate::rig::viewer(keys, p06_domain::locality::COUNTRY_CODE)?;
    let (from, to) = (weeks[0], weeks[weeks.len() - 1]);
    let case = |query, token: &String| Case {
        query,
        token: token.clone(),
        cold_us: Vec::new(),
        cold_errors: Vec::new(),
        warm: None,
    };
    Ok(vec![
        case(Query::Baseline, &viewer),
        case(
            Query::StatusProvince {
                province: province.code.clone(),
            },
            &viewer,
        ),
        case(
            Query::StatusProvinceKnownAt {
                province: province.code.clone(),
            },
            &viewer,
        ),
        case(Query::StatusCountry, &national),
        case(
            Query::ProgressDistrict {
                district: province.largest_district().code.clone(),
            },
            &viewer,
        ),
        case(
            Query::ProgressProvince {
                province: province.code.clone(),
            },
            &viewer,
        ),
        case(
            Query::ComplianceBoard {
                province: province.code.clone(),
                from,
                to,
            },
            &viewer,
        ),
    ])
}

/// The instant `status_province_known_at` asks for: 02:00 UTC (09:00 in Vietnam) on the Monday
/// after `week`, an hour before the data set's reports of that week are received (03:00 UTC).
pub fn meeting(week: Week) -> chrono::DateTime<chrono::Utc> {
    let monday = week.end + chrono::Duration::days(1);
    monday.and_hms_opt(2, 0, 0).unwrap_or_default().and_utc()
}

/// Targets of `vneid.l2.activated` for every commune of `province`, due half a year after the
/// last week (so the status computes each commune's pace).
pub async fn set_targets(
    store: &p06_aggregator::store::Store,
    province: &Province,
    last: Week,
) -> anyhow::Result<()> {
    let catalog = store.load_catalog().await?;
    let due = last.end + chrono::Duration::days(182);
    let targets: Vec<p06_aggregator::store::TargetUpsert> = province
        .communes
        .iter()
        .map(|c| p06_aggregator::store::TargetUpsert {
            indicator_code: PROGRESS_INDICATOR.into(),
            locality_id: c.id,
            due_date: due,
            // Spread so that some communes are met, some on track and some behind.
            value: 2_000.0 + (c.seed % 7) as f64 * 1_000.0,
        })
        .collect();
    store
        .upsert_targets(
            &catalog,
            province.id,
            "bench-targets",
            "bench-targets",
            &targets,
            chrono::Utc::now(),
        )
        .await?;
    Ok(())
}

/// A connected channel to the aggregator (so no connection set-up is timed).
pub async fn connect(rig: &Rig) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(rig.aggregator.url())?
        .tcp_nodelay(true)
        .connect()
        .await?)
}

/// One cold call of every case, right after a restart of the aggregator.
pub async fn cold_round(rig: &Rig, cases: &mut [Case], as_of: Week) -> anyhow::Result<()> {
    let channel = connect(rig).await?;
    for case in cases {
        let t0 = Instant::now();
        let result = case.query.call(channel.clone(), &case.token, as_of).await;
        let us = t0.elapsed().as_micros() as u64;
        match result {
            Ok(_) => case.cold_us.push(us),
            Err(e) => case.cold_errors.push(e),
        }
    }
    Ok(())
}

/// The warm calls of every case, one at a time.
pub async fn warm(rig: &Rig, cases: &mut [Case], plan: Plan, as_of: Week) -> anyhow::Result<()> {
    let channel = connect(rig).await?;
    for case in cases {
        let (query, token, channel) = (case.query.clone(), case.token.clone(), channel.clone());
        let outcome = load::drive(plan, &rig.meter, Arc::new(AtomicU64::new(0)), move |_| {
            let (query, token, channel) = (query.clone(), token.clone(), channel.clone());
            async move { query.call(channel, &token, as_of).await }
        })
        .await;
        case.warm = Some(outcome);
    }
    Ok(())
}

impl Case {
    pub fn errors(&self) -> u64 {
        self.cold_errors.len() as u64 + self.warm.as_ref().map_or(0, |w| w.errors)
    }

    pub fn json(&self) -> Value {
        let mut out = match &self.warm {
            Some(w) => w.json(self.query.name(), "answer_items"),
            None => json!({ "name": self.query.name() }),
        };
        out["cold_us"] = json!(self.cold_us);
        out["cold_errors"] = json!(self.cold_errors);
        out["query"] = json!(format!("{:?}", self.query));
        out
    }
}
