//! Command line and the settings derived from it (full run or `--smoke`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Scenario {
    /// Province reports and small single-commune reports through the agency services.
    Ingest,
    /// The transport (no-op gRPC) and storage (batched INSERT / COPY) ceilings, fsync probe.
    Ceilings,
    /// A national data set loaded in bulk, then task-force queries cold and warm.
    Queries,
    /// The web page (p06-web) over the query data set: concurrent viewers of the largest
    /// province's overview, communes and compliance pages, warm.
    Web,
    /// A province with `--flag-count` flags: ListFlags pages, 200 idle WatchFlags streams, one
    /// flag's fan-out.
    Flags,
    /// One agency floods while another agency and the task force work at a low rate.
    Overload,
}

#[derive(Debug, Parser)]
#[command(
    name = "p06-bench",
    about = "P06 benchmark: ingest and query throughput against the machine's own ceilings",
    after_help = "Prints one `BENCH {json}` line per scenario, then a readable summary; exits non-zero when any request failed."
)]
pub struct Cli {
    /// Scenarios to run (default: all). Ingest and ceilings run interleaved when both are chosen;
    /// web runs on the query scenario's data set (loaded for it alone when queries is not chosen).
    #[arg(value_enum)]
    pub scenarios: Vec<Scenario>,
    /// PostgreSQL server to create fresh databases on (`postgres://user@host:port/db`); default:
    /// fresh SQLite files.
    #[arg(long, env = "P06_BENCH_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Directory for the SQLite files (e.g. /dev/shm to compare CPU paths without fsync cost).
    #[arg(long)]
    pub db_dir: Option<PathBuf>,
    /// Seconds measured per measurement (split across --rounds); default 10, smoke 2.
    #[arg(long)]
    pub duration_secs: Option<f64>,
    /// Operations in flight for the high-load measurements; default 16, smoke 4.
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Interleaved rounds of ingest and ceilings (A B A B …); default 2, smoke 1.
    #[arg(long)]
    pub rounds: Option<u32>,
    /// Province codes (edition 2024) the ingest reports about; default all 63, smoke 48 and 64.
    #[arg(long, value_delimiter = ',')]
    pub provinces: Vec<String>,
    /// Province codes of the query data set; default all 63 (the national set), smoke 48 and 64.
    #[arg(long, value_delimiter = ',')]
    pub query_provinces: Vec<String>,
    /// Weeks of the query data set; default 52, smoke 4.
    #[arg(long)]
    pub query_weeks: Option<u32>,
    /// Warm calls per query (bounded by --duration-secs too); default 200, smoke 20.
    #[arg(long)]
    pub query_calls: Option<u64>,
    /// Concurrent viewers of each web page; default 32, smoke 4.
    #[arg(long)]
    pub web_viewers: Option<usize>,
    /// Aggregator restarts for cold calls; default 3, smoke 1.
    #[arg(long)]
    pub cold_restarts: Option<u32>,
    /// How the query data set is loaded.
    #[arg(long, value_enum, default_value = "bulk")]
    pub load_via: crate::dataset::Loader,
    /// Provinces loaded at once by bulk import (one transaction each).
    #[arg(long, default_value_t = 2)]
    pub load_parallel: usize,
    /// Flags of the `flags` scenario's province; default 100,000, smoke 2,000.
    #[arg(long)]
    pub flag_count: Option<usize>,
    /// `overload`: the submission rate (reports/s per caller) of the flooding agency's own police
    /// service; default the product's (`P06_LIMIT_SUBMIT_RATE`). A control: near 0 (e.g. 0.001)
    /// lets only its burst (10) through, so what remains of the flood is its processes' CPU; 0 turns it
    /// off there, leaving the aggregator's own rate as the only defence.
    #[arg(long)]
    pub flood_submit_rate: Option<f64>,
    /// Short everything: seconds in all, same code paths (CI).
    #[arg(long)]
    pub smoke: bool,
    /// Forward every log line of the aggregator child to stderr.
    #[arg(long)]
    pub verbose: bool,
}

/// Everything the scenarios need to know, defaults resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub scenarios: Vec<Scenario>,
    pub database_url: Option<String>,
    pub db_dir: Option<PathBuf>,
    /// Measured time of one measurement in one round.
    pub slice: Duration,
    pub warmup: Duration,
    pub rounds: u32,
    pub concurrency: usize,
    pub provinces: Vec<String>,
    pub query_provinces: Vec<String>,
    pub query_weeks: u32,
    pub query_calls: u64,
    pub cold_restarts: u32,
    pub web_viewers: usize,
    pub fsync_probe: Duration,
    pub load_via: crate::dataset::Loader,
    pub load_parallel: usize,
    pub flag_count: usize,
    pub flood_submit_rate: f64,
    pub smoke: bool,
    pub verbose: bool,
}

impl Settings {
    pub fn from_cli(cli: Cli) -> Settings {
        let smoke = cli.smoke;
        fn pick<T>(smoke: bool, full: T, short: T) -> T {
            if smoke { short } else { full }
        }
        let mut scenarios = cli.scenarios;
        if scenarios.is_empty() {
            scenarios = vec![
                Scenario::Ingest,
                Scenario::Ceilings,
                Scenario::Queries,
                Scenario::Web,
                Scenario::Flags,
                Scenario::Overload,
            ];
        }
        scenarios.sort();
        scenarios.dedup();
        let duration = cli.duration_secs.unwrap_or(pick(smoke, 10.0, 2.0)).max(0.1);
        let rounds = cli.rounds.unwrap_or(pick(smoke, 2, 1)).max(1);
        let slice = Duration::from_secs_f64(duration / f64::from(rounds));
        let smoke_provinces = || vec!["48".to_owned(), "64".to_owned()];
        Settings {
            scenarios,
            database_url: cli.database_url,
            db_dir: cli.db_dir,
            slice,
            warmup: (slice / 5).min(Duration::from_secs(1)),
            rounds,
            concurrency: cli.concurrency.unwrap_or(pick(smoke, 16, 4)).max(1),
            provinces: if cli.provinces.is_empty() && smoke {
                smoke_provinces()
            } else {
                cli.provinces
            },
            query_provinces: if cli.query_provinces.is_empty() && smoke {
                smoke_provinces()
            } else {
                cli.query_provinces
            },
            query_weeks: cli.query_weeks.unwrap_or(pick(smoke, 52, 4)).max(1),
            query_calls: cli.query_calls.unwrap_or(pick(smoke, 200, 20)).max(1),
            flag_count: cli
                .flag_count
                .unwrap_or(pick(smoke, 100_000, 2_000))
                .max(1_000),
            flood_submit_rate: cli
                .flood_submit_rate
                .unwrap_or_else(|| p06_kit::limits::LimitsConfig::default().submit_rate_per_second),
            cold_restarts: cli.cold_restarts.unwrap_or(pick(smoke, 3, 1)).max(1),
            web_viewers: cli.web_viewers.unwrap_or(pick(smoke, 32, 4)).max(1),
            load_via: cli.load_via,
            load_parallel: cli.load_parallel.max(1),
            fsync_probe: pick(smoke, Duration::from_secs(1), Duration::from_millis(300)),
            smoke,
            verbose: cli.verbose,
        }
    }

    /// The settings as printed with every scenario.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "smoke": self.smoke,
            "seconds_per_measurement": crate::load::round3(self.duration().as_secs_f64()),
            "rounds": self.rounds,
            "warmup_seconds": crate::load::round3(self.warmup.as_secs_f64()),
            "concurrency": self.concurrency,
            "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        })
    }

    pub fn runs(&self, s: Scenario) -> bool {
        self.scenarios.contains(&s)
    }

    /// Total measured time of one measurement.
    pub fn duration(&self) -> Duration {
        self.slice * self.rounds
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
