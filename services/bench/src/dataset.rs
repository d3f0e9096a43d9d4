//! The query data set: every commune of the chosen provinces × the 20 indicators × N weekly
//! periods (national default: 10,035 × 20 × 52 ≈ 10.4 million observations), one report per
//! agency, province and week, received on time (the Monday after the week, 10:00 in Vietnam).
//!
//! Loaded in bulk by `Store::bulk_import`, one call (one transaction) per province with all its
//! weeks (report rows, the read model and the province's roll-ups), or — `--load-via api`, to cross-check or when bulk
//! import is not available — through the aggregator's `IngestService/SubmitReport`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveTime, TimeZone as _, Utc};
use p06_aggregator::store::{BulkReport, Store};
use p06_proto::aggregation::ingest_service_client::IngestServiceClient;
use serde_json::{Value, json};

use crate::figures::{self, Agency, ReportKey, Week};
use crate::load::round3;
use crate::rig::{Tokens, authed};
use crate::world::Province;

/// How the data set is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Loader {
    /// `Store::bulk_import`, one call per province (the default).
    Bulk,
    /// `IngestService/SubmitReport` on the aggregator, `--concurrency` in flight (slow: for
    /// small data sets and cross-checks).
    Api,
}

/// What loading took.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub reports: u64,
    pub observations: u64,
    /// Wall time in all, generation included (overlapping the loading).
    pub total: Duration,
    /// Time inside the loader calls, summed over parallel calls.
    pub import: Duration,
    pub errors: u64,
    pub error_samples: Vec<String>,
}

impl Loaded {
    pub fn json(
        &self,
        loader: Loader,
        parallel: usize,
        provinces: &[Province],
        weeks: u32,
    ) -> Value {
        let communes: usize = provinces.iter().map(|p| p.communes.len()).sum();
        json!({
            "loader": match loader { Loader::Bulk => "bulk_import", Loader::Api => "submit_report" },
            "provinces": provinces.len(),
            "communes": communes,
            "indicators": Agency::ALL.iter().map(|a| a.indicators().len()).sum::<usize>(),
            "weeks": weeks,
            "reports": self.reports,
            "observations": self.observations,
            "parallel": parallel,
            "seconds": round3(self.total.as_secs_f64()),
            "seconds_in_loader_calls": round3(self.import.as_secs_f64()),
            "observations_per_sec": crate::load::round1(crate::load::per_sec(self.observations, self.total)),
            "errors": self.errors,
            "error_samples": self.error_samples,
        })
    }
}

/// The weeks of the data set, oldest first, ending with the last complete week.
pub fn weeks(count: u32) -> Vec<Week> {
    (1..=count).rev().map(Week::ago).collect()
}

fn received_at(week: &Week) -> chrono::DateTime<Utc> {
    let monday = week.end + chrono::Duration::days(1);
    // 10:00 in Vietnam (UTC+7) is 03:00 UTC.
    Utc.from_utc_datetime(&monday.and_time(NaiveTime::from_hms_opt(3, 0, 0).unwrap_or_default()))
}

/// Loads with `Store::bulk_import`, one call per province, `parallel` provinces at a time (their
/// rows are generated inside the task, so generation overlaps loading). The catalog is loaded from
/// the database first, as the aggregator does at start-up.
pub async fn load_bulk(
    store: Arc<Store>,
    provinces: &[Province],
    weeks: &[Week],
    parallel: usize,
) -> Loaded {
    let started = Instant::now();
    let mut loaded = Loaded::default();
    let catalog = match store.load_catalog().await {
        Ok(c) => Arc::new(c),
        Err(e) => {
            loaded.errors = 1;
            loaded
                .error_samples
                .push(format!("loading the catalog: {e}"));
            return loaded;
        }
    };
    let weeks: Arc<Vec<Week>> = Arc::new(weeks.to_vec());
    let mut running = tokio::task::JoinSet::new();
    let mut pending = provinces.iter().cloned();
    loop {
        while running.len() < parallel.max(1) && loaded.errors == 0 {
            let Some(p) = pending.next() else { break };
            let (store, catalog, weeks) = (store.clone(), catalog.clone(), weeks.clone());
            running.spawn(async move {
                let reports = province_reports(&p, &weeks);
                let rows: u64 = reports.iter().map(|r| r.observations.len() as u64).sum();
                let t0 = Instant::now();
                let result = store.bulk_import(&catalog, p.id, &reports).await;
                (p.code, reports.len() as u64, rows, t0.elapsed(), result)
            });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        match done {
            Ok((_, reports, rows, took, Ok(_))) => {
                loaded.import += took;
                loaded.reports += reports;
                loaded.observations += rows;
            }
            Ok((code, _, _, took, Err(e))) => {
                loaded.import += took;
                loaded.errors += 1;
                if loaded.error_samples.len() < 5 {
                    loaded.error_samples.push(format!("province {code}: {e}"));
                }
            }
            Err(e) => {
                loaded.errors += 1;
                loaded.error_samples.push(format!("load task failed: {e}"));
            }
        }
    }
    loaded.total = started.elapsed();
    loaded
}

/// One province's reports: every week × agency, all its communes.
fn province_reports(p: &Province, weeks: &[Week]) -> Vec<BulkReport> {
    let mut reports = Vec::with_capacity(weeks.len() * 3);
    for week in weeks {
        for agency in Agency::ALL {
            reports.push(BulkReport {
                agency: agency.name().into(),
                obligation: agency.obligation().into(),
                province_id: p.id,
                period_start: week.start,
                period_end: week.end,
                received_at: received_at(week),
                observations: figures::rows(agency, &p.communes, week),
            });
        }
    }
    reports
}

/// Loads through `IngestService/SubmitReport` of the aggregator at `url`, `concurrency` in flight.
pub async fn load_api(
    url: &str,
    tokens: Arc<Tokens>,
    provinces: &[Province],
    weeks: &[Week],
    concurrency: usize,
) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    let channel = crate::rig::channel(url)?;
    let mut loaded = Loaded::default();
    let mut running = tokio::task::JoinSet::new();
    let mut jobs = Vec::new();
    for week in weeks {
        for p in provinces {
            for agency in Agency::ALL {
                jobs.push((p.clone(), *week, agency));
            }
        }
    }
    let record =
        |loaded: &mut Loaded, r: Result<Result<u64, String>, tokio::task::JoinError>| match r {
            Ok(Ok(n)) => {
                loaded.reports += 1;
                loaded.observations += n;
            }
            Ok(Err(e)) => {
                loaded.errors += 1;
                if loaded.error_samples.len() < 5 {
                    loaded.error_samples.push(e);
                }
            }
            Err(e) => loaded.errors += u64::from(!e.is_cancelled()),
        };
    for (p, week, agency) in jobs {
        while running.len() >= concurrency.max(1) {
            if let Some(r) = running.join_next().await {
                record(&mut loaded, r);
            }
        }
        let request = figures::forwarded(figures::agency_report(
            &ReportKey {
                agency,
                province: &p,
                week,
                request_id: uuid::Uuid::new_v4().to_string(),
                revision: 1,
            },
            &p.communes,
        ));
        let token = tokens.reporter(agency, &p.code).to_owned();
        let channel = channel.clone();
        running.spawn(async move {
            let n = request.observations.len() as u64;
            IngestServiceClient::new(channel)
                .max_encoding_message_size(p06_kit::host::MAX_MESSAGE_BYTES)
                .submit_report(authed(request, &token))
                .await
                .map(|_| n)
                .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
        });
    }
    while let Some(r) = running.join_next().await {
        record(&mut loaded, r);
    }
    loaded.total = started.elapsed();
    loaded.import = loaded.total;
    Ok(loaded)
}
