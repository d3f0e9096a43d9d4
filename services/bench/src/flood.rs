//! The overload scenario's flooding agency in a process of its own (this binary re-executed as
//! `flood`): a police service with its default limits (but for `--flood-submit-rate`), forwarding
//! to the aggregator child like the deployed one, and a hostile client keeping [`FLOOD_IN_FLIGHT`] reports in flight against
//! it from one token, resending at once whatever the answer (it ignores RetryInfo).
//!
//! In production the flooding agency's systems and its police service run on other machines and
//! pods than the health service; in one process with the bench's health service, they would share
//! one tokio runtime, whose tasks are not scheduled fairly between tenants, and the health figures
//! would measure that runtime rather than the limits. Here the kernel shares the two cores between
//! processes, as between pods on one node; the flood process runs at niceness [`FLOOD_NICE`],
//! since most of its CPU is the hostile client's, which in production is not on the services'
//! cores at all.
//!
//! Protocol: the child prints [`FLOODING`] once its workers run, floods until its stdin closes,
//! then prints one [`RESULT_PREFIX`] line with its counts (JSON) and exits.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use anyhow::{Context as _, bail};
use clap::Parser;
use p06_kit::forward::{AggregatorClient, ForwardConfig};
use p06_kit::host::ServiceHost;
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tonic::Code;

use crate::figures::{Agency, AgencyReport};
use crate::rig::{authed, channel};

/// Reports the flooding agency keeps in flight.
pub const FLOOD_IN_FLIGHT: usize = 64;
/// Connections the hostile client spreads its calls over.
const LANES: usize = 8;
/// The line announcing that the flood runs.
pub const FLOODING: &str = "P06_BENCH_FLOODING";
/// The prefix of the result line.
pub const RESULT_PREFIX: &str = "P06_BENCH_FLOOD ";
/// The flood process's niceness (see [`FloodProcess::start`]).
pub const FLOOD_NICE: &str = "10";
/// The token the flood uses (an environment variable, not an argument: not in `ps`).
const TOKEN_VAR: &str = "P06_BENCH_FLOOD_TOKEN";

#[derive(Parser)]
#[command(
    name = "p06-bench flood",
    about = "The overload scenario's flooding agency"
)]
pub struct FloodArgs {
    /// The aggregator the police service forwards to.
    #[arg(long)]
    aggregator_url: String,
    /// The bench's development keys (the police service trusts them).
    #[arg(long)]
    keys_dir: PathBuf,
    /// The province reported on (edition 2024).
    #[arg(long)]
    province: String,
    /// First report number (distinct from the steady callers').
    #[arg(long)]
    first: u64,
    /// The police service's submission rate (reports/s per caller; `--flood-submit-rate`).
    #[arg(long)]
    submit_rate: f64,
}

/// The flooder's answers, and the request ids of the reports acknowledged (OK).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FloodResult {
    pub ok: u64,
    pub resource_exhausted: u64,
    pub other: u64,
    pub other_sample: Option<String>,
    pub acknowledged: Vec<String>,
    /// The flood process's peak resident memory (`VmHWM`): a police service under a flood, plus
    /// the hostile client.
    pub peak_rss_kib: u64,
    /// Cores the flood process used while flooding (CPU time ÷ wall time): the hostile client's
    /// and its police service's share of the machine.
    #[serde(default)]
    pub cpu_cores: f64,
}

impl FloodResult {
    pub fn json(&self) -> serde_json::Value {
        let all = (self.ok + self.resource_exhausted + self.other).max(1);
        serde_json::json!({
            "in_flight": FLOOD_IN_FLIGHT,
            "process": "its own (police service and hostile client)",
            "nice": FLOOD_NICE,
            "ok": self.ok,
            "resource_exhausted": self.resource_exhausted,
            "other": self.other,
            "other_sample": self.other_sample,
            "resource_exhausted_share":
                crate::load::round3(self.resource_exhausted as f64 / all as f64),
            "process_peak_rss_kib": self.peak_rss_kib,
            "process_cpu_cores": self.cpu_cores,
        })
    }
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    exhausted: AtomicU64,
    other: AtomicU64,
    sample: Mutex<Option<String>>,
    acknowledged: Mutex<Vec<String>>,
}

/// The child's entry point.
pub fn run(args: impl IntoIterator<Item = String>) -> anyhow::Result<()> {
    let args = FloodArgs::parse_from(args);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(flood(args))
}

async fn flood(args: FloodArgs) -> anyhow::Result<()> {
    let token = std::env::var(TOKEN_VAR).with_context(|| format!("{TOKEN_VAR} is not set"))?;
    let provinces = crate::world::provinces()?;
    let province =
        crate::world::select(&provinces, std::slice::from_ref(&args.province))?.remove(0);
    let auth = p06_auth::DevKeys::load_or_create(&args.keys_dir)?.authenticator()?;
    let forward = AggregatorClient::new(ForwardConfig::new(args.aggregator_url.clone()))?;
    // Its police service's limits: the defaults, but for the submission rate asked.
    let limits = p06_kit::limits::LimitsConfig {
        submit_rate_per_second: args.submit_rate,
        ..p06_kit::limits::LimitsConfig::default()
    }
    .checked()?;
    let police = ServiceHost::new(auth)
        .with_limits(limits)
        .with_service(p06_police::PoliceApi::new(forward).into_server())
        .spawn(([127, 0, 0, 1], 0).into())
        .await?;
    let lanes = (0..LANES)
        .map(|_| channel(&police.url()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let stop = Arc::new(AtomicBool::new(false));
    let seq = Arc::new(AtomicU64::new(args.first));
    let counts = Arc::new(Counts::default());
    let mut workers = Vec::new();
    for w in 0..FLOOD_IN_FLIGHT {
        let (stop, seq, counts, province, token) = (
            stop.clone(),
            seq.clone(),
            counts.clone(),
            province.clone(),
            token.clone(),
        );
        let channel = lanes[w % lanes.len()].clone();
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let id = uuid::Uuid::new_v4().to_string();
                let AgencyReport::Police(report) =
                    crate::overload::small_report(Agency::Police, &province, n, id.clone())
                else {
                    unreachable!("a police report")
                };
                let answer = PoliceReportingServiceClient::new(channel.clone())
                    .submit_identity_report(authed(report, &token))
                    .await;
                match answer {
                    Ok(_) => {
                        counts.ok.fetch_add(1, Ordering::Relaxed);
                        counts.acknowledged.lock().await.push(id);
                    }
                    Err(s) if s.code() == Code::ResourceExhausted => {
                        counts.exhausted.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(s) => {
                        counts.other.fetch_add(1, Ordering::Relaxed);
                        let mut sample = counts.sample.lock().await;
                        if sample.is_none() {
                            *sample = Some(format!("{:?}: {}", s.code(), s.message()));
                        }
                    }
                }
            }
        }));
    }
    let flooding = (
        std::time::Instant::now(),
        crate::procfs::cpu_time(std::process::id()).unwrap_or_default(),
    );
    println!("{FLOODING}");
    std::io::stdout().flush()?;
    // Until the parent closes stdin (or dies).
    tokio::task::spawn_blocking(|| {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin().lock();
        while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(n) if n > 0) {}
    })
    .await?;
    let cpu_cores = crate::procfs::cpu_time(std::process::id())
        .unwrap_or_default()
        .saturating_sub(flooding.1)
        .as_secs_f64()
        / flooding.0.elapsed().as_secs_f64().max(1e-3);
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await?;
    }
    police.shutdown().await?;
    let counts =
        Arc::try_unwrap(counts).map_err(|_| anyhow::anyhow!("workers still hold counts"))?;
    let result = FloodResult {
        ok: counts.ok.into_inner(),
        resource_exhausted: counts.exhausted.into_inner(),
        other: counts.other.into_inner(),
        other_sample: counts.sample.into_inner(),
        acknowledged: counts.acknowledged.into_inner(),
        peak_rss_kib: crate::procfs::memory(std::process::id()).map_or(0, |m| m.hwm_kib),
        cpu_cores: crate::load::round3(cpu_cores),
    };
    println!("{RESULT_PREFIX}{}", serde_json::to_string(&result)?);
    std::io::stdout().flush()?;
    Ok(())
}

/// A running flood child.
pub struct FloodProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: std::io::BufReader<ChildStdout>,
}

impl FloodProcess {
    /// Starts the flood against `aggregator_url` as `token` and returns once it runs.
    pub fn start(
        aggregator_url: &str,
        keys_dir: &std::path::Path,
        province: &str,
        token: &str,
        first: u64,
        submit_rate: f64,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the bench binary")?;
        // At a lower CPU priority (coreutils `nice`): the hostile client would run on the agency's
        // own machines, not on the two cores the services under test share here.
        let mut child = Command::new("nice")
            .args(["-n", FLOOD_NICE])
            .arg(exe)
            .arg("flood")
            .args(["--aggregator-url", aggregator_url])
            .arg("--keys-dir")
            .arg(keys_dir)
            .args(["--province", province])
            .args(["--first", &first.to_string()])
            .args(["--submit-rate", &submit_rate.to_string()])
            .env(TOKEN_VAR, token)
            // The police service's limits at their defaults, whatever the calling shell set.
            .env_remove("P06_LIMIT_RATE")
            .env_remove("P06_JWT_KEYS")
            .env_remove("P06_AUTH_MODE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the flood child")?;
        let stdin = child.stdin.take();
        let mut stdout = std::io::BufReader::new(child.stdout.take().context("child stdout")?);
        let mut line = String::new();
        loop {
            line.clear();
            if stdout.read_line(&mut line)? == 0 {
                let status = child.wait()?;
                bail!("the flood child exited before flooding: {status}");
            }
            if line.trim() == FLOODING {
                break;
            }
        }
        Ok(FloodProcess {
            child,
            stdin,
            stdout,
        })
    }

    /// Stops the flood and returns its counts.
    pub fn finish(mut self) -> anyhow::Result<FloodResult> {
        drop(self.stdin.take());
        let mut line = String::new();
        let result = loop {
            line.clear();
            if self.stdout.read_line(&mut line)? == 0 {
                let status = self.child.wait()?;
                bail!("the flood child ended without its result: {status}");
            }
            if let Some(json) = line.trim().strip_prefix(RESULT_PREFIX) {
                break serde_json::from_str(json).context("the flood child's result")?;
            }
        };
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the flood child ended with {status}");
        }
        Ok(result)
    }
}

impl Drop for FloodProcess {
    fn drop(&mut self) {
        if self.stdin.take().is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
