//! The closed-loop load generator: `concurrency` workers each issue one operation at a time, for a
//! warm-up (not recorded) and then a bounded time (or number of operations); every operation's
//! latency goes into an HDR histogram (µs, 3 significant digits).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::cpu::{CpuDelta, Meter};

/// How long and how hard to drive one measurement.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Operations in flight at once.
    pub concurrency: usize,
    /// Unrecorded time before the measurement.
    pub warmup: Duration,
    /// Recorded time: operations started within it are measured.
    pub duration: Duration,
    /// Stop after this many recorded operations, when set.
    pub max_ops: Option<u64>,
}

impl Plan {
    pub fn new(concurrency: usize, warmup: Duration, duration: Duration) -> Self {
        Plan {
            concurrency: concurrency.max(1),
            warmup,
            duration,
            max_ops: None,
        }
    }

    pub fn at_most(mut self, ops: u64) -> Self {
        self.max_ops = Some(ops);
        self
    }
}

/// What an operation did: how many units of work (observations, rows, …) it carried.
pub type OpResult = Result<u64, String>;

/// The figures of one measurement (possibly several rounds merged).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub concurrency: usize,
    /// Operations completed successfully within the measurement.
    pub ops: u64,
    /// Operations that failed (must be 0).
    pub errors: u64,
    /// The first few error messages.
    pub error_samples: Vec<String>,
    /// Units of work carried by the successful operations.
    pub units: u64,
    /// From the end of the warm-up to the end of the last measured operation.
    pub elapsed: Duration,
    /// Latency of successful operations, µs.
    pub latency: Histogram<u64>,
    pub cpu: CpuDelta,
    /// Operations per second of each round, to show the spread.
    pub round_rates: Vec<f64>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

impl Outcome {
    fn empty(concurrency: usize) -> Self {
        Outcome {
            concurrency,
            ops: 0,
            errors: 0,
            error_samples: Vec::new(),
            units: 0,
            elapsed: Duration::ZERO,
            latency: histogram(),
            cpu: CpuDelta::default(),
            round_rates: Vec::new(),
        }
    }

    /// Adds another round of the same measurement.
    pub fn merge(&mut self, other: Outcome) {
        self.ops += other.ops;
        self.errors += other.errors;
        for e in other.error_samples {
            if self.error_samples.len() < 5 {
                self.error_samples.push(e);
            }
        }
        self.units += other.units;
        self.elapsed += other.elapsed;
        self.latency
            .add(&other.latency)
            .expect("histograms with the same bounds");
        self.cpu.add(&other.cpu);
        self.round_rates.extend(other.round_rates);
    }

    pub fn merged(rounds: Vec<Outcome>) -> Option<Outcome> {
        let mut rounds = rounds.into_iter();
        let mut first = rounds.next()?;
        for r in rounds {
            first.merge(r);
        }
        Some(first)
    }

    pub fn ops_per_sec(&self) -> f64 {
        per_sec(self.ops, self.elapsed)
    }

    pub fn units_per_sec(&self) -> f64 {
        per_sec(self.units, self.elapsed)
    }

    /// Latency quantile in µs (0 when nothing was measured).
    pub fn quantile_us(&self, q: f64) -> u64 {
        if self.latency.is_empty() {
            0
        } else {
            self.latency.value_at_quantile(q)
        }
    }

    fn cpu_per_op(&self, cpu: Option<Duration>) -> Value {
        match cpu {
            Some(cpu) if self.ops > 0 => json!(round1(cpu.as_secs_f64() * 1e6 / self.ops as f64)),
            _ => Value::Null,
        }
    }

    /// The measurement as a JSON object named `name`, in `unit`s of work.
    pub fn json(&self, name: &str, unit: &str) -> Value {
        json!({
            "name": name,
            "concurrency": self.concurrency,
            "ops": self.ops,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "seconds": round3(self.elapsed.as_secs_f64()),
            "ops_per_sec": round1(self.ops_per_sec()),
            "round_ops_per_sec": self.round_rates.iter().map(|r| round1(*r)).collect::<Vec<_>>(),
            "unit": unit,
            "units_per_op": if self.ops > 0 { round1(self.units as f64 / self.ops as f64) } else { 0.0 },
            "units_per_sec": round1(self.units_per_sec()),
            "latency_us": {
                "p50": self.quantile_us(0.50),
                "p95": self.quantile_us(0.95),
                "p99": self.quantile_us(0.99),
                "max": if self.latency.is_empty() { 0 } else { self.latency.max() },
                "mean": round1(if self.latency.is_empty() { 0.0 } else { self.latency.mean() }),
            },
            "cpu_us_per_op": {
                "aggregator": self.cpu_per_op(self.cpu.aggregator),
                "bench": self.cpu_per_op(Some(self.cpu.bench)),
                "postgres": self.cpu_per_op(self.cpu.postgres),
            },
        })
    }
}

pub fn per_sec(n: u64, elapsed: Duration) -> f64 {
    if elapsed.is_zero() {
        0.0
    } else {
        n as f64 / elapsed.as_secs_f64()
    }
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Runs `op(sequence number)` from `plan.concurrency` workers; sequence numbers are unique and
/// increase across the warm-up and the measurement.
pub async fn drive<F, Fut>(plan: Plan, meter: &Meter, seq: Arc<AtomicU64>, op: F) -> Outcome
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = OpResult> + Send + 'static,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let measure_from = started + plan.warmup;
    let until = measure_from + plan.duration;
    let claimed = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::with_capacity(plan.concurrency);
    for _ in 0..plan.concurrency {
        let (op, seq, claimed) = (op.clone(), seq.clone(), claimed.clone());
        workers.push(tokio::spawn(async move {
            let mut out = Outcome::empty(1);
            loop {
                let now = Instant::now();
                if now >= until {
                    break;
                }
                let measured = now >= measure_from;
                if measured
                    && let Some(max) = plan.max_ops
                    && claimed.fetch_add(1, Ordering::Relaxed) >= max
                {
                    break;
                }
                let n = seq.fetch_add(1, Ordering::Relaxed);
                // Preparing the request (the closure's synchronous part) is not timed.
                let pending = op(n);
                let t0 = Instant::now();
                let result = pending.await;
                if !measured {
                    continue;
                }
                match result {
                    Ok(units) => {
                        let us = t0.elapsed().as_micros().max(1) as u64;
                        out.latency.saturating_record(us);
                        out.ops += 1;
                        out.units += units;
                    }
                    Err(e) => {
                        out.errors += 1;
                        if out.error_samples.len() < 5 {
                            out.error_samples.push(e);
                        }
                    }
                }
            }
            out
        }));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu_start = meter.snapshot();
    let mut total = Outcome::empty(plan.concurrency);
    for w in workers {
        match w.await {
            Ok(out) => total.merge(out),
            Err(e) => {
                total.errors += 1;
                total.error_samples.push(format!("worker failed: {e}"));
            }
        }
    }
    total.elapsed = measure_from.elapsed();
    total.cpu = meter.since(&cpu_start).await;
    total.round_rates = vec![total.ops_per_sec()];
    total
}
