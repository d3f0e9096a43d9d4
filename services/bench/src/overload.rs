//! Scenario `overload`: one agency floods while another agency and the task force work at a low
//! rate, against the aggregator child with its default limits (p06_kit::limits) and the agency
//! services with theirs.
//!
//! 1. Idle: health submits single-commune reports and the task force reads the province's
//!    consolidated status, each at a low steady rate; their latencies are the idle figures.
//!    Health's reports come from [`steady_reporters`] reporters (token subjects) in turn, each
//!    well within the default per-caller submission rate (`P06_LIMIT_SUBMIT_RATE`), as a
//!    province's health offices would send them.
//! 2. Flood: the same, while police keep `FLOOD_IN_FLIGHT` reports in flight from one token,
//!    resending at once whatever the answer (a hostile client: it ignores RetryInfo), through a
//!    police service of their own in another process ([`crate::flood`]), as in production.
//!
//! Printed: each one's p50/p99 against its idle figure, the flooder's answers by code and its
//! RESOURCE_EXHAUSTED share, the aggregator's RSS peak during the flood, and the acknowledged
//! reports lost — every OK receipt's request id must be stored (0 lost).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::GetConsolidatedStatusRequest;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::common::LocalityRef;
use p06_proto::health::health_reporting_service_client::HealthReportingServiceClient;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::figures::{self, Agency, AgencyReport, ReportKey, Week};
use crate::flood::{FloodProcess, FloodResult};
use crate::rig::{Rig, Tokens, authed, channel};
use crate::world::{EDITION, Province};

/// The flood's first report number: its series never meet the health reporter's.
const FLOOD_FIRST_REPORT: u64 = 1_000_000_000;
/// Calls per second of the steady agency and of the task force.
const STEADY_PER_SEC: f64 = 10.0;
/// Targets: the steady callers' p99 under the flood within 3× idle.
const TARGET_P99_RATIO: f64 = 3.0;

/// Health reporters needed so that each sends at most half the default per-caller submission
/// rate while together they send [`STEADY_PER_SEC`] reports a second (1 when that rate is off).
pub fn steady_reporters() -> usize {
    let rate = p06_kit::limits::LimitsConfig::default().submit_rate_per_second;
    if rate > 0.0 {
        (STEADY_PER_SEC / (rate / 2.0)).ceil().max(1.0) as usize
    } else {
        1
    }
}

/// The scenario's tokens: the flooder's among the reporters', the steady health reporters' and
/// the task-force viewer's.
pub struct Callers<'a> {
    pub tokens: &'a Tokens,
    pub health: &'a [String],
    pub viewer: &'a str,
    /// The flooding agency's police service's submission rate (`--flood-submit-rate`).
    pub flood_submit_rate: f64,
}

/// Receipts acknowledged (OK) during the scenario, by request id.
type Acknowledged = Arc<Mutex<Vec<String>>>;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

/// A steady caller's latencies and failures.
#[derive(Default)]
struct Steady {
    latency: Option<Histogram<u64>>,
    errors: u64,
    samples: Vec<String>,
}

impl Steady {
    fn record(&mut self, started: Instant, result: Result<(), String>) {
        match result {
            Ok(()) => {
                let us = started.elapsed().as_micros().max(1) as u64;
                self.latency
                    .get_or_insert_with(histogram)
                    .saturating_record(us);
            }
            Err(e) => {
                self.errors += 1;
                if self.samples.len() < 5 {
                    self.samples.push(e);
                }
            }
        }
    }

    fn q(&self, q: f64) -> u64 {
        self.latency.as_ref().map_or(0, |h| h.value_at_quantile(q))
    }

    fn json(&self) -> Value {
        json!({
            "calls": self.latency.as_ref().map_or(0, |h| h.len()),
            "errors": self.errors,
            "error_samples": self.samples,
            "p50_us": self.q(0.5),
            "p99_us": self.q(0.99),
            "max_us": self.latency.as_ref().map_or(0, |h| h.max()),
        })
    }
}

/// The single-commune report number `n` of `agency` (a new series or revision each time).
pub(crate) fn small_report(
    agency: Agency,
    province: &Province,
    n: u64,
    request_id: String,
) -> AgencyReport {
    let weeks = 26;
    let commune = &province.communes[(n as usize * 7) % province.communes.len()];
    figures::agency_report(
        &ReportKey {
            agency,
            province,
            week: Week::ago(78 - (n % weeks) as u32),
            request_id,
            revision: n / weeks + 1,
        },
        std::slice::from_ref(commune),
    )
}

/// Runs `op` every 1/STEADY_PER_SEC seconds (one at a time) until `stop`.
async fn steady<F, Fut>(stop: Arc<AtomicBool>, op: F) -> Steady
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut out = Steady::default();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / STEADY_PER_SEC));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let started = Instant::now();
        let result = op(n).await;
        out.record(started, result);
        n += 1;
    }
    out
}

/// The health reporter and the task force at their steady rate for `duration`; police flood
/// meanwhile when `flood` is set. Returns (health, task force, flood counts).
async fn phase(
    rig: &Rig,
    callers: &Callers<'_>,
    province: &Province,
    duration: Duration,
    flood: bool,
    (seq, acknowledged): &(Arc<AtomicU64>, Acknowledged),
) -> anyhow::Result<Phase> {
    let stop = Arc::new(AtomicBool::new(false));
    let health_channel = rig.channels["health"][0].clone();
    let health_tokens = callers.health.to_vec();
    let health = {
        let (stop, seq, acknowledged, province) = (
            stop.clone(),
            seq.clone(),
            acknowledged.clone(),
            province.clone(),
        );
        tokio::spawn(async move {
            steady(stop, |_| {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let id = uuid::Uuid::new_v4().to_string();
                let AgencyReport::Health(report) =
                    small_report(Agency::Health, &province, n, id.clone())
                else {
                    unreachable!("a health report")
                };
                let mut client = HealthReportingServiceClient::new(health_channel.clone());
                let request = authed(report, &health_tokens[n as usize % health_tokens.len()]);
                let acknowledged = acknowledged.clone();
                async move {
                    client
                        .submit_health_report(request)
                        .await
                        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?;
                    acknowledged.lock().await.push(id);
                    Ok(())
                }
            })
            .await
        })
    };
    let taskforce = {
        let stop = stop.clone();
        let client = TaskForceServiceClient::new(channel(&rig.aggregator.url())?);
        let viewer = callers.viewer.to_owned();
        let code = province.code.clone();
        tokio::spawn(async move {
            steady(stop, |_| {
                let mut client = client.clone();
                let request = authed(
                    GetConsolidatedStatusRequest {
                        locality: Some(LocalityRef {
                            edition: EDITION.into(),
                            code: code.clone(),
                        }),
                        as_of: Some(date_to_proto(Week::ago(1).end)),
                        ..Default::default()
                    },
                    &viewer,
                );
                async move {
                    client
                        .get_consolidated_status(request)
                        .await
                        .map(|_| ())
                        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
                }
            })
            .await
        })
    };
    // The flood runs in a process of its own (crate::flood), started before and stopped after
    // the steady callers' measured time.
    let flooder = if flood {
        let url = rig.aggregator.url();
        let keys = rig.child_config.keys_dir.clone();
        let code = province.code.clone();
        let token = callers
            .tokens
            .reporter(Agency::Police, &province.code)
            .to_owned();
        let first = FLOOD_FIRST_REPORT;
        let rate = callers.flood_submit_rate;
        Some(
            tokio::task::spawn_blocking(move || {
                FloodProcess::start(&url, &keys, &code, &token, first, rate)
            })
            .await??,
        )
    } else {
        None
    };
    let cpu_start = rig.meter.snapshot();
    tokio::time::sleep(duration).await;
    let cpu = rig.meter.since(&cpu_start).await;
    stop.store(true, Ordering::Relaxed);
    let health = health.await?;
    let taskforce = taskforce.await?;
    let flood = match flooder {
        Some(process) => {
            let result = tokio::task::spawn_blocking(move || process.finish()).await??;
            acknowledged
                .lock()
                .await
                .extend(result.acknowledged.iter().cloned());
            Some(result)
        }
        None => None,
    };
    let cores = |d: Duration| crate::load::round3(d.as_secs_f64() / duration.as_secs_f64());
    let cpu_cores = json!({
        "aggregator": cpu.aggregator.map(cores),
        "postgres": cpu.postgres.map(cores),
        "bench": cores(cpu.bench),
        "flood_process": flood.as_ref().map(|f| f.cpu_cores),
    });
    Ok(Phase {
        health,
        taskforce,
        flood,
        cpu_cores,
    })
}

/// What one phase measured.
struct Phase {
    health: Steady,
    taskforce: Steady,
    flood: Option<FloodResult>,
    /// Cores used during the measured time: the aggregator child, PostgreSQL's server processes,
    /// the bench process (steady callers, agency services) and the flood process.
    cpu_cores: Value,
}

fn ratio(flood: &Steady, idle: &Steady) -> Value {
    let (f, i) = (flood.q(0.99), idle.q(0.99));
    if i == 0 {
        Value::Null
    } else {
        // Two decimals, exactly as printed (38.3 / 10 would print 3.8299999999999996).
        json!((f as f64 / i as f64 * 100.0).round() / 100.0)
    }
}

/// Request ids of `acknowledged` that are not stored.
async fn lost(rig: &Rig, acknowledged: &[String]) -> anyhow::Result<u64> {
    use sea_orm::ConnectionTrait as _;
    let db = rig.store.connection();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT request_id FROM report".to_owned(),
        ))
        .await?;
    let stored: HashSet<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<String>("", "request_id").ok())
        .collect();
    Ok(acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .count() as u64)
}

/// Runs the scenario on `rig` (a fresh database) with `duration` per phase.
pub async fn run(
    rig: &Rig,
    callers: &Callers<'_>,
    province: &Province,
    duration: Duration,
    database: &Value,
) -> anyhow::Result<(Value, u64, Vec<String>)> {
    let shared: (Arc<AtomicU64>, Acknowledged) = Default::default();
    let limits = p06_kit::limits::LimitsConfig::default();
    let idle = phase(rig, callers, province, duration, false, &shared).await?;
    let memory = rig.aggregator.begin_memory_phase();
    let flooded = phase(rig, callers, province, duration, true, &shared).await?;
    let cpu_cores = json!({ "idle": idle.cpu_cores, "flood": flooded.cpu_cores });
    let (health_idle, tf_idle) = (idle.health, idle.taskforce);
    let (health_flood, tf_flood, flood) = (flooded.health, flooded.taskforce, flooded.flood);
    let peak = rig.aggregator.end_memory_phase(&memory);
    let acknowledged = shared.1.lock().await.clone();
    let lost = lost(rig, &acknowledged).await?;
    let flood = flood.unwrap_or_default();
    let health_ratio = ratio(&health_flood, &health_idle);
    let tf_ratio = ratio(&tf_flood, &tf_idle);
    let meets = |r: &Value| r.as_f64().is_some_and(|r| r <= TARGET_P99_RATIO);
    let rss_ok = peak.peak_kib() <= crate::run::TARGET_RSS_KIB;
    let errors = health_idle.errors + tf_idle.errors + health_flood.errors + tf_flood.errors + lost;
    let mut samples: Vec<String> = [&health_idle, &tf_idle, &health_flood, &tf_flood]
        .iter()
        .flat_map(|s| s.samples.clone())
        .collect();
    if lost > 0 {
        samples.insert(0, format!("{lost} acknowledged reports not stored"));
    }
    let value = json!({
        "scenario": "overload",
        "database": database,
        "province": province.code,
        "seconds_per_phase": crate::load::round3(duration.as_secs_f64()),
        "steady_calls_per_sec": STEADY_PER_SEC,
        "flooder": "police, one token, single-commune reports, resent at once whatever the answer, through its own police service in a separate process",
        "steady_agency": "health, single-commune reports",
        "steady_reporters": callers.health.len(),
        "limits": {
            "rate_per_sec": limits.rate_per_second,
            "burst": limits.burst,
            "submit_rate_per_sec": limits.submit_rate_per_second,
            "submit_burst": limits.submit_burst,
            "in_flight": limits.in_flight,
            "agency_in_flight": limits.agency_in_flight,
            "flood_police_submit_rate_per_sec": callers.flood_submit_rate,
        },
        "taskforce": "GetConsolidatedStatus of the province",
        "health": { "idle": health_idle.json(), "flood": health_flood.json(), "p99_ratio": health_ratio },
        "taskforce_status": { "idle": tf_idle.json(), "flood": tf_flood.json(), "p99_ratio": tf_ratio },
        "flood": flood.json(),
        "cpu_cores": cpu_cores,
        "aggregator_memory": peak,
        "aggregator_peak_rss_kib": peak.peak_kib(),
        "acknowledged": acknowledged.len(),
        "acknowledged_lost": lost,
        "targets": {
            "p99_ratio_max": TARGET_P99_RATIO,
            "peak_rss_kib_max": crate::run::TARGET_RSS_KIB,
            "lost": 0,
        },
        "meets_targets": meets(&health_ratio) && meets(&tf_ratio) && rss_ok && lost == 0,
    });
    Ok((value, errors, samples))
}
