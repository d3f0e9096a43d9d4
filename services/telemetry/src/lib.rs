//! Logging and tracing for every P06 service: `tracing` for spans and logs, exported as OpenTelemetry
//! traces (OTLP over gRPC to a collector, or as log lines, or not at all), with W3C trace context
//! carried in gRPC metadata so one submission is one trace across the agency service and the
//! aggregator.
//!
//! `init` installs the global subscriber once per process (`p06 up` hosts four services in one
//! process and calls it once; a second call leaves the first in place). Export is batched with a
//! bounded queue: a missing collector costs a log line, never a failed or slowed request.

mod exporter;
mod propagation;

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub use propagation::{GrpcServerTraceLayer, client_span, inject_context};

/// Default filter: INFO for P06, quieter for chatty dependencies (sqlx logs every statement at INFO).
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,h2=warn,tower=warn,hyper=warn";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    /// One JSON object per line, with the current span's fields (trace_id included).
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Traces {
    Off,
    /// Finished spans as log lines (target `p06::span`), for development without a collector.
    Stdout,
    /// OTLP over gRPC, e.g. `http://otel-collector:4317`.
    Otlp {
        endpoint: String,
    },
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub service_name: String,
    pub traces: Traces,
    pub log_format: LogFormat,
    pub log_filter: String,
}

impl TelemetryConfig {
    /// Reads `P06_TRACES` (off | stdout | otlp; default off, or otlp when `P06_OTLP_ENDPOINT` is set),
    /// `P06_OTLP_ENDPOINT` (default `http://127.0.0.1:4317`), `P06_LOG_FORMAT` (text | json) and
    /// `RUST_LOG`.
    pub fn from_env(service_name: &str) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let endpoint = var("P06_OTLP_ENDPOINT");
        let traces = match var("P06_TRACES").as_deref() {
            Some("stdout") => Traces::Stdout,
            Some("otlp") => Traces::Otlp {
                endpoint: endpoint.unwrap_or_else(|| "http://127.0.0.1:4317".into()),
            },
            Some(_) => Traces::Off,
            None => endpoint.map_or(Traces::Off, |endpoint| Traces::Otlp { endpoint }),
        };
        TelemetryConfig {
            service_name: service_name.to_owned(),
            traces,
            log_format: match var("P06_LOG_FORMAT").as_deref() {
                Some("json") => LogFormat::Json,
                _ => LogFormat::Text,
            },
            log_filter: var("RUST_LOG").unwrap_or_else(|| DEFAULT_FILTER.to_owned()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("bad log filter: {0}")]
    Filter(String),
    #[error("OTLP exporter: {0}")]
    Exporter(String),
}

/// Keeps telemetry running; flushes and shuts the exporter down on drop.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // shutdown() blocks its thread until the exporter is done: never on a runtime worker.
            let _ = std::thread::spawn(move || {
                let _ = provider.shutdown();
            })
            .join();
        }
    }
}

/// Installs the global subscriber and propagator for this process.
pub fn init(config: TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    let provider = match &config.traces {
        Traces::Off => None,
        Traces::Stdout => Some(provider(&config, |b| {
            b.with_span_processor(batch(exporter::LogExporter))
        })),
        Traces::Otlp { endpoint } => {
            use opentelemetry_otlp::WithExportConfig as _;
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .with_timeout(Duration::from_secs(5))
                .build()
                .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
            Some(provider(&config, |b| {
                b.with_span_processor(batch(exporter))
            }))
        }
    };
    install(&config, provider)
}

/// Installs telemetry exporting every finished span, synchronously, to `exporter` (tests).
#[cfg(feature = "testing")]
pub fn init_with_exporter(
    service_name: &str,
    exporter: opentelemetry_sdk::trace::InMemorySpanExporter,
) -> Result<TelemetryGuard, TelemetryError> {
    let config = TelemetryConfig {
        service_name: service_name.to_owned(),
        traces: Traces::Off,
        log_format: LogFormat::Text,
        log_filter: std::env::var("RUST_LOG").unwrap_or_else(|_| DEFAULT_FILTER.to_owned()),
    };
    let provider = provider(&config, |b| b.with_simple_exporter(exporter));
    install(&config, Some(provider))
}

/// A batch processor with a bounded queue: when the collector is slow or absent, spans are dropped,
/// requests are never held up.
fn batch<E: opentelemetry_sdk::trace::SpanExporter + 'static>(exporter: E) -> BatchSpanProcessor {
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(4_096)
                .with_scheduled_delay(Duration::from_secs(2))
                .build(),
        )
        .build()
}

fn provider(
    config: &TelemetryConfig,
    add_exporter: impl FnOnce(
        opentelemetry_sdk::trace::TracerProviderBuilder,
    ) -> opentelemetry_sdk::trace::TracerProviderBuilder,
) -> SdkTracerProvider {
    let builder = SdkTracerProvider::builder().with_resource(
        Resource::builder()
            .with_service_name(config.service_name.clone())
            .build(),
    );
    add_exporter(builder).build()
}

/// Colour codes only for a person at a terminal: never in a file, a pipe or a container log, nor
/// with `NO_COLOR` set (https://no-color.org).
fn colour_logs() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn install(
    config: &TelemetryConfig,
    provider: Option<SdkTracerProvider>,
) -> Result<TelemetryGuard, TelemetryError> {
    let filter = EnvFilter::try_new(&config.log_filter)
        .map_err(|e| TelemetryError::Filter(e.to_string()))?;
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(config.service_name.clone())));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let installed = match config.log_format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(colour_logs()),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(false)
                    .json()
                    .with_current_span(true)
                    .with_span_list(true),
            )
            .try_init(),
    };
    if installed.is_err() {
        // Already installed in this process; this provider would never see a span.
        return Ok(TelemetryGuard { provider: None });
    }
    if let Some(p) = &provider {
        opentelemetry::global::set_tracer_provider(p.clone());
    }
    tracing::debug!(service = %config.service_name, traces = ?config.traces, "telemetry initialised");
    Ok(TelemetryGuard { provider })
}
