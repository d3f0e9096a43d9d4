//! Scenario 1, ingest: agency clients submit reports through the police, health and justice
//! services, which forward them to the aggregator child.
//!
//! - `province_reports`: a whole province per report (every commune × the obligation's indicators:
//!   9 police, 7 health or 4 justice), `--concurrency` in flight.
//! - `small_reports_1_in_flight` / `small_reports_high_load`: one commune per report.
//!
//! Every submission is a new report series (agency, province, week) or, once the weeks of a
//! stream are used up, a new revision of one. Weeks are Monday–Sunday in the past, visited oldest
//! first like real weekly reporting: province reports use the last 52 weeks of edition 2024 (the
//! weeks ending by 30 June 2025, the last day the aggregator accepts that edition), small reports
//! the 26 weeks before those, from Monday 1 January 2024 (so their history lookups do not see the
//! province data).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use p06_proto::aggregation::Receipt;
use p06_proto::health::health_reporting_service_client::HealthReportingServiceClient;
use p06_proto::justice::justice_reporting_service_client::JusticeReportingServiceClient;
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use serde_json::{Value, json};
use tonic::transport::Channel;

use crate::child::{PhasePeak, StoreCounts};
use crate::figures::{self, Agency, AgencyReport, ReportKey, Week};
use crate::load::{self, OpResult, Outcome, Plan, round3};
use crate::rig::{Rig, Tokens, authed};
use crate::world::Province;

/// Which series and week the `n`-th submission of a stream is about.
#[derive(Debug, Clone, Copy)]
pub struct Stream {
    oldest_weeks_ago: u32,
    weeks: u32,
}

/// One submission's series.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub agency: Agency,
    pub province: usize,
    pub week: Week,
    /// 1 for the first pass over the weeks, then 2, 3, … (new revisions).
    pub revision: u64,
    /// How many times all series have been visited before this one.
    pub round: u64,
}

impl Stream {
    pub const PROVINCE: Stream = Stream {
        oldest_weeks_ago: 52,
        weeks: 52,
    };
    pub const SMALL: Stream = Stream {
        oldest_weeks_ago: 78,
        weeks: 26,
    };

    pub fn job(&self, n: u64, provinces: usize) -> Job {
        let series = 3 * provinces.max(1) as u64;
        let s = n % series;
        let round = n / series;
        let weeks = u64::from(self.weeks);
        let offset = (round % weeks) as u32;
        Job {
            agency: Agency::ALL[(s % 3) as usize],
            province: (s / 3) as usize,
            week: Week::ago(self.oldest_weeks_ago - offset),
            revision: round / weeks + 1,
            round,
        }
    }
}

/// The ingest scenario's state across interleaved rounds.
pub struct Ingest {
    provinces: Arc<Vec<Province>>,
    tokens: Arc<Tokens>,
    province_seq: Arc<AtomicU64>,
    small_seq: Arc<AtomicU64>,
    pub province: Vec<Outcome>,
    pub small_low: Vec<Outcome>,
    pub small_high: Vec<Outcome>,
    pub memory: Option<PhasePeak>,
    /// The aggregator store's statements and reports during each measurement (warm-up
    /// included): province, small at 1 in flight, small at high load.
    counted: [StoreCounts; 3],
    /// Why a count could not be taken, if one could not.
    count_error: Option<String>,
}

impl Ingest {
    pub fn new(provinces: Arc<Vec<Province>>, tokens: Arc<Tokens>) -> Self {
        Ingest {
            provinces,
            tokens,
            province_seq: Arc::default(),
            small_seq: Arc::default(),
            province: Vec::new(),
            small_low: Vec::new(),
            small_high: Vec::new(),
            memory: None,
            counted: [StoreCounts::default(); 3],
            count_error: None,
        }
    }

    /// The child's store counts, or `None` (remembering why) when it did not answer.
    fn store_counts(&mut self, rig: &Rig) -> Option<StoreCounts> {
        match rig.aggregator.store_counts() {
            Ok(c) => Some(c),
            Err(e) => {
                self.count_error = Some(format!("{e:#}"));
                None
            }
        }
    }

    fn add_counts(&mut self, which: usize, before: Option<StoreCounts>, rig: &Rig) {
        let after = self.store_counts(rig);
        if let (Some(before), Some(after)) = (before, after) {
            let d = after.since(before);
            self.counted[which].statements += d.statements;
            self.counted[which].reports += d.reports;
        }
    }

    fn track_memory(&mut self, peak: PhasePeak) {
        self.memory = Some(match self.memory {
            Some(m) => m.max(peak),
            None => peak,
        });
    }

    /// One round of province reports.
    pub async fn province_reports(&mut self, rig: &Rig, plan: Plan) {
        let (provinces, tokens) = (self.provinces.clone(), self.tokens.clone());
        let channels = rig.channels.clone();
        let phase = rig.aggregator.begin_memory_phase();
        let counts = self.store_counts(rig);
        let outcome = load::drive(plan, &rig.meter, self.province_seq.clone(), move |n| {
            let job = Stream::PROVINCE.job(n, provinces.len());
            let p = &provinces[job.province];
            let report = figures::agency_report(
                &ReportKey {
                    agency: job.agency,
                    province: p,
                    week: job.week,
                    request_id: uuid::Uuid::new_v4().to_string(),
                    revision: job.revision,
                },
                &p.communes,
            );
            let units = (p.communes.len() * job.agency.indicators().len()) as u64;
            let lane = &channels[job.agency.name()];
            let channel = lane[(n % lane.len() as u64) as usize].clone();
            let token = tokens.reporter(job.agency, &p.code).to_owned();
            async move { submit(channel, report, &token).await.map(|_| units) }
        })
        .await;
        self.track_memory(rig.aggregator.end_memory_phase(&phase));
        self.add_counts(0, counts, rig);
        self.province.push(outcome);
    }

    /// One round of single-commune reports at `plan.concurrency` in flight.
    pub async fn small_reports(&mut self, rig: &Rig, plan: Plan) {
        let (provinces, tokens) = (self.provinces.clone(), self.tokens.clone());
        let channels = rig.channels.clone();
        let phase = rig.aggregator.begin_memory_phase();
        let counts = self.store_counts(rig);
        let outcome = load::drive(plan, &rig.meter, self.small_seq.clone(), move |n| {
            let job = Stream::SMALL.job(n, provinces.len());
            let p = &provinces[job.province];
            let commune = &p.communes[(job.round as usize * 7 + job.province) % p.communes.len()];
            let report = figures::agency_report(
                &ReportKey {
                    agency: job.agency,
                    province: p,
                    week: job.week,
                    request_id: uuid::Uuid::new_v4().to_string(),
                    revision: job.revision,
                },
                std::slice::from_ref(commune),
            );
            let units = job.agency.indicators().len() as u64;
            let lane = &channels[job.agency.name()];
            let channel = lane[(n % lane.len() as u64) as usize].clone();
            let token = tokens.reporter(job.agency, &p.code).to_owned();
            async move { submit(channel, report, &token).await.map(|_| units) }
        })
        .await;
        self.track_memory(rig.aggregator.end_memory_phase(&phase));
        self.add_counts(if plan.concurrency == 1 { 1 } else { 2 }, counts, rig);
        if plan.concurrency == 1 {
            self.small_low.push(outcome);
        } else {
            self.small_high.push(outcome);
        }
    }

    pub fn province_outcome(&self) -> Option<Outcome> {
        Outcome::merged(self.province.clone())
    }

    pub fn small_low_outcome(&self) -> Option<Outcome> {
        Outcome::merged(self.small_low.clone())
    }

    pub fn small_high_outcome(&self) -> Option<Outcome> {
        Outcome::merged(self.small_high.clone())
    }

    /// The scenario's JSON object.
    pub fn json(&self, database: &Value, fsync: &[Value]) -> Value {
        let communes: usize = self.provinces.iter().map(|p| p.communes.len()).sum();
        let mut statements = serde_json::Map::new();
        let mut summary = Vec::new();
        for (name, counted) in [
            "province_reports",
            "small_reports_1_in_flight",
            "small_reports_high_load",
        ]
        .into_iter()
        .zip(self.counted)
        {
            if counted.reports == 0 {
                continue;
            }
            let per_report = round3(counted.statements as f64 / counted.reports as f64);
            statements.insert(
                name.into(),
                json!({
                    "statements": counted.statements,
                    "reports": counted.reports,
                    "statements_per_report": per_report,
                }),
            );
            summary.push(json!(format!(
                "statements per report, {name}: {per_report} ({} statements, {} reports stored; \
                 every statement of the aggregator's store, reads included, not BEGIN/COMMIT)",
                counted.statements, counted.reports
            )));
        }
        if let Some(e) = &self.count_error {
            summary.push(json!(format!("statement counts incomplete: {e}")));
        }
        let mut measurements = Vec::new();
        for (name, outcome) in [
            ("province_reports", self.province_outcome()),
            ("small_reports_1_in_flight", self.small_low_outcome()),
            ("small_reports_high_load", self.small_high_outcome()),
        ] {
            if let Some(o) = outcome {
                measurements.push(o.json(name, "observations"));
            }
        }
        json!({
            "scenario": "ingest",
            "database": database,
            "provinces": self.provinces.len(),
            "communes": communes,
            "measurements": measurements,
            "aggregator_memory": self.memory,
            "aggregator_peak_rss_kib": self.memory.map(|m| m.peak_kib()),
            "statements": statements,
            "summary": summary,
            "fsync_probes": fsync,
        })
    }
}

/// Submits a report to its agency service; an error names the gRPC status.
async fn submit(channel: Channel, report: AgencyReport, token: &str) -> OpResult {
    let receipt: Result<tonic::Response<Receipt>, tonic::Status> = match report {
        AgencyReport::Police(r) => {
            PoliceReportingServiceClient::new(channel)
                .submit_identity_report(authed(r, token))
                .await
        }
        AgencyReport::Health(r) => {
            HealthReportingServiceClient::new(channel)
                .submit_health_report(authed(r, token))
                .await
        }
        AgencyReport::Justice(r) => {
            JusticeReportingServiceClient::new(channel)
                .submit_civil_status_report(authed(r, token))
                .await
        }
    };
    match receipt {
        Ok(r) if r.get_ref().replayed => Err("a new request id was answered as a replay".into()),
        Ok(_) => Ok(0),
        Err(status) => Err(format!("{:?}: {}", status.code(), status.message())),
    }
}
