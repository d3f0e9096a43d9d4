//! Logging and tracing set-up shared by every P06 service.
//!
//! `init` installs the global `tracing` subscriber once per process (the `p06 up` process hosts four
//! services and calls it once): human-readable or JSON lines, filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Default filter: INFO for P06, quieter for chatty dependencies (sqlx logs every statement at INFO).
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,h2=warn,tower=warn,hyper=warn";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub service_name: String,
    pub log_format: LogFormat,
    pub log_filter: String,
}

impl TelemetryConfig {
    /// Reads `P06_LOG_FORMAT` (text | json) and `RUST_LOG`.
    pub fn from_env(service_name: &str) -> Self {
        TelemetryConfig {
            service_name: service_name.to_owned(),
            log_format: match std::env::var("P06_LOG_FORMAT").as_deref() {
                Ok("json") => LogFormat::Json,
                _ => LogFormat::Text,
            },
            log_filter: std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_FILTER.to_owned()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("bad log filter: {0}")]
    Filter(String),
}

/// Keeps telemetry running; flushes on drop.
#[derive(Debug)]
pub struct TelemetryGuard {
    _private: (),
}

/// Installs the global subscriber. A second call in the same process (tests) leaves the first one
/// in place.
pub fn init(config: TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    let filter = EnvFilter::try_new(&config.log_filter)
        .map_err(|e| TelemetryError::Filter(e.to_string()))?;
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match config.log_format {
        LogFormat::Text => registry.with(tracing_subscriber::fmt::layer()).try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true),
            )
            .try_init(),
    };
    if installed.is_ok() {
        tracing::debug!(service = %config.service_name, "telemetry initialised");
    }
    Ok(TelemetryGuard { _private: () })
}
