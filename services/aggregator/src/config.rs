//! Configuration of the aggregator, from flags or `P06_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

/// How the aggregator runs.
#[derive(Debug, Clone, clap::Args)]
pub struct AggregatorConfig {
    /// Address to listen on for gRPC (h2c).
    #[arg(long, env = "P06_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`. Default: a SQLite file in the data directory.
    #[arg(long, env = "P06_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Directory for the embedded SQLite database (created if missing).
    #[arg(long, env = "P06_DATA_DIR", default_value = ".p06")]
    pub data_dir: PathBuf,
    /// Apply pending migrations at start-up (guarded against concurrent runs on PostgreSQL).
    #[arg(long, env = "P06_AUTO_MIGRATE", default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_migrate: bool,
    /// Compliance rules (obligations, holidays, vagueness weights) as TOML; default: the built-in
    /// `services/aggregator/config/compliance.toml`.
    #[arg(long, env = "P06_COMPLIANCE_FILE")]
    pub compliance_file: Option<PathBuf>,
    /// Time zone of the provinces' reporting calendar.
    #[arg(long, env = "P06_TIME_ZONE", default_value = "Asia/Ho_Chi_Minh")]
    pub time_zone: chrono_tz::Tz,
    /// Most per-commune figures (and targets) the task-force views keep cached in memory, about
    /// 40 bytes each; 0 disables the cache. The default holds four as-of dates of a national data
    /// set (63 provinces × 20 indicators).
    #[arg(long, env = "P06_READ_CACHE_FIGURES", default_value_t = DEFAULT_READ_CACHE_FIGURES)]
    pub read_cache_figures: usize,
    #[command(flatten)]
    pub flags: FlagsConfig,
}

/// Default of `--read-cache-figures`.
pub const DEFAULT_READ_CACHE_FIGURES: usize = 1_000_000;

impl AggregatorConfig {
    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("p06.sqlite").display()
            ),
        }
    }

    /// A configuration for tests and embedding: the given database, an ephemeral port.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: Some(database_url.into()),
            data_dir: PathBuf::from(".p06"),
            auto_migrate: true,
            compliance_file: None,
            time_zone: chrono_tz::Asia::Ho_Chi_Minh,
            read_cache_figures: DEFAULT_READ_CACHE_FIGURES,
            flags: FlagsConfig::default(),
        }
    }
}

/// How flags are watched and kept: stream caps, the cursor read, retention.
#[derive(Debug, Clone, clap::Args)]
pub struct FlagsConfig {
    /// Most `WatchFlags` streams open at once in this process; one more is refused with
    /// RESOURCE_EXHAUSTED.
    #[arg(long, env = "P06_WATCH_STREAMS_MAX", default_value_t = 1_000)]
    pub watch_streams_max: usize,
    /// Most `WatchFlags` streams one token subject may hold open at once.
    #[arg(long, env = "P06_WATCH_STREAMS_PER_SUBJECT", default_value_t = 16)]
    pub watch_streams_per_subject: usize,
    /// How often (milliseconds) the flag table is read, by id, for flags raised by other
    /// replicas; flags raised by this process reach its watchers at commit.
    #[arg(long, env = "P06_FLAG_CURSOR_MS", default_value_t = 1_000)]
    pub flag_cursor_ms: u64,
    /// Resolved flags resolved more than this many days ago move from the flag table to the
    /// archive (`flag_archive`, listed by `ListFlags` with `archived`); 0 keeps them.
    #[arg(long, env = "P06_FLAG_RETENTION_DAYS", default_value_t = 90)]
    pub flag_retention_days: u32,
    /// How often (seconds) the retention job runs.
    #[arg(long, env = "P06_FLAG_RETENTION_EVERY_SECS", default_value_t = 3_600)]
    pub flag_retention_every_secs: u64,
}

impl Default for FlagsConfig {
    fn default() -> Self {
        FlagsConfig {
            watch_streams_max: 1_000,
            watch_streams_per_subject: 16,
            flag_cursor_ms: 1_000,
            flag_retention_days: 90,
            flag_retention_every_secs: 3_600,
        }
    }
}
