//! Logging and tracing for every P06 service: `tracing` for spans and logs, exported as OpenTelemetry
//! traces (OTLP over gRPC to a collector, as log lines, or not at all), with W3C trace context
//! carried in gRPC metadata so that one submission is one trace across the agency service and the
//! aggregator.
//!
//! * [`init`] installs the process-wide subscriber once (`p06 up` hosts four services in one process
//!   and calls it once; a later call leaves the first installation in place and returns a no-op
//!   guard).
//! * Export is batched on the SDK's own thread with a bounded queue and an export timeout: a slow or
//!   absent collector costs dropped spans and one warning, never a failed or slowed request.
//! * Even with `P06_TRACES=off` spans get trace ids (no exporter, nothing leaves the process), so
//!   an incoming `traceparent` still flows on to the aggregator and JSON logs carry `trace_id`.
//! * [`GrpcServerTraceLayer`] continues the caller's trace on the server; [`GrpcClientTraceLayer`],
//!   [`client_span`] + [`inject_context`], or [`interceptor`] carry it to the next hop.

mod exporter;
mod grpc;
mod json;
#[cfg(feature = "testing")]
mod testing;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use tracing::dispatcher::WeakDispatch;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

pub use grpc::client::{
    GrpcClientTrace, GrpcClientTraceLayer, client_span, inject_context, inject_current_context,
    interceptor,
};
pub use grpc::server::{GrpcServerTrace, GrpcServerTraceLayer};
pub use grpc::{GrpcOutcome, TracedBody, classify};
#[cfg(feature = "testing")]
pub use testing::{TestSpans, init_for_tests, init_with_exporter};

/// Default log filter: INFO for P06, quieter for chatty dependencies (sqlx logs every statement at
/// INFO).
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,h2=warn,tower=warn,hyper=warn";

/// What becomes a span, independent of `RUST_LOG` (which only filters log lines): INFO spans, and
/// nothing from the transport and SQL crates or from the exporter itself, so exporting a batch
/// never produces spans of its own.
const TRACE_FILTER: &str = "info,h2=off,hyper=off,hyper_util=off,tower=off,tonic=off,sqlx=off,\
                            sea_orm=off,opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off";

/// OTLP endpoint when `P06_TRACES=otlp` and no `P06_OTLP_ENDPOINT` is given.
pub const DEFAULT_OTLP_ENDPOINT: &str = "http://127.0.0.1:4317";

/// How long one export to the collector may take before the batch is dropped.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// Upper bound for flushing at shutdown.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the event's fields, its spans, and the `trace_id` and
    /// `span_id` of the current span.
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Traces {
    /// Spans (and trace ids) exist in the process; nothing is exported.
    Off,
    /// Finished spans as log lines (target `p06::span`), for development without a collector.
    Stdout,
    /// OTLP over gRPC, e.g. `http://otel-collector:4317`.
    Otlp { endpoint: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// OpenTelemetry `service.name`, e.g. `p06-aggregator`.
    pub service_name: String,
    pub traces: Traces,
    pub log_format: LogFormat,
    /// `EnvFilter` directives for log lines.
    pub log_filter: String,
}

impl TelemetryConfig {
    /// Reads `P06_TRACES` (off | stdout | otlp; default off, or otlp when `P06_OTLP_ENDPOINT` is
    /// set), `P06_OTLP_ENDPOINT` (default [`DEFAULT_OTLP_ENDPOINT`]), `P06_LOG_FORMAT` (text | json;
    /// default text) and `RUST_LOG` (default [`DEFAULT_FILTER`]).
    pub fn from_env(service_name: &str) -> Self {
        Self::from_lookup(service_name, |name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables read through `var` (tests, or a CLI that
    /// gathers its settings elsewhere). Unknown values fall back to the default with a note on
    /// stderr (logging is not set up yet at this point).
    pub fn from_lookup(service_name: &str, var: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let endpoint = var("P06_OTLP_ENDPOINT");
        let traces = match var("P06_TRACES").map(|v| v.to_ascii_lowercase()).as_deref() {
            Some("stdout") => Traces::Stdout,
            Some("otlp") => Traces::Otlp {
                endpoint: endpoint.unwrap_or_else(|| DEFAULT_OTLP_ENDPOINT.to_owned()),
            },
            Some("off" | "none" | "false") => Traces::Off,
            Some(other) => {
                eprintln!("P06_TRACES={other:?} is not off|stdout|otlp; traces are off");
                Traces::Off
            }
            None => endpoint.map_or(Traces::Off, |endpoint| Traces::Otlp { endpoint }),
        };
        let log_format = match var("P06_LOG_FORMAT").map(|v| v.to_ascii_lowercase()).as_deref() {
            Some("json") => LogFormat::Json,
            None | Some("text") => LogFormat::Text,
            Some(other) => {
                eprintln!("P06_LOG_FORMAT={other:?} is not text|json; logging as text");
                LogFormat::Text
            }
        };
        TelemetryConfig {
            service_name: service_name.to_owned(),
            traces,
            log_format,
            log_filter: var("RUST_LOG").unwrap_or_else(|| DEFAULT_FILTER.to_owned()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("bad log filter {filter:?}: {reason}")]
    Filter { filter: String, reason: String },
    #[error("OTLP exporter for {endpoint}: {reason}")]
    Exporter { endpoint: String, reason: String },
    #[error("the OTLP exporter needs a Tokio runtime: call init from within one")]
    NoRuntime,
    #[error("a global tracing subscriber was installed by someone else; test spans cannot be collected")]
    ForeignSubscriber,
}

/// Keeps telemetry running. Flushes and shuts the exporter down on drop (bounded by a timeout) or,
/// better in async code, with [`TelemetryGuard::shutdown`].
#[must_use = "dropping the guard shuts the exporter down"]
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    #[cfg(feature = "testing")]
    sink: Option<testing::SinkRegistration>,
}

impl TelemetryGuard {
    fn with_provider(provider: Option<SdkTracerProvider>) -> Self {
        TelemetryGuard {
            provider,
            #[cfg(feature = "testing")]
            sink: None,
        }
    }

    /// Whether this guard owns the exporter (false when telemetry was already initialised).
    pub fn is_active(&self) -> bool {
        self.provider.is_some()
    }

    /// Flushes the remaining spans and stops the exporter without blocking a runtime thread: the
    /// SDK's blocking shutdown runs on its own thread while this future waits. Use this at the end
    /// of `main` in a current-thread runtime, where dropping the guard cannot wait for the flush.
    pub async fn shutdown(mut self) {
        if let Some(provider) = self.provider.take() {
            let (done, finished) = tokio::sync::oneshot::channel();
            if spawn_shutdown(provider, move || {
                let _ = done.send(());
            }) {
                let _ = tokio::time::timeout(SHUTDOWN_TIMEOUT * 2, finished).await;
            }
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let Some(provider) = self.provider.take() else {
            return;
        };
        // `shutdown()` blocks its thread until the batch is exported, and the OTLP exporter's
        // connection is driven by the Tokio runtime: run it on a thread of its own, and wait for it
        // only where waiting cannot starve that runtime.
        let (done, finished) = std::sync::mpsc::channel();
        if !spawn_shutdown(provider, move || {
            let _ = done.send(());
        }) {
            return;
        }
        let wait = || {
            let _ = finished.recv_timeout(SHUTDOWN_TIMEOUT * 2);
        };
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            // Blocking the only runtime thread would stall the export until its timeout; the
            // flush carries on in the background (await `shutdown()` to wait for it).
            Ok(tokio::runtime::RuntimeFlavor::CurrentThread) => {}
            Ok(_) => tokio::task::block_in_place(wait),
            Err(_) => wait(),
        }
    }
}

/// Runs `provider.shutdown()` on a dedicated thread, then `done`. False if no thread could start.
fn spawn_shutdown(provider: SdkTracerProvider, done: impl FnOnce() + Send + 'static) -> bool {
    std::thread::Builder::new()
        .name("p06-telemetry-shutdown".into())
        .spawn(move || {
            let _ = provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT);
            done();
        })
        .is_ok()
}

/// Installs the global subscriber (log lines + OpenTelemetry layer) and the W3C propagator for
/// this process, with the exporter chosen by `config`. Call it once, early in `main`, inside the
/// Tokio runtime; keep the guard until the end. If telemetry is already installed in this process,
/// nothing changes and the returned guard is inactive.
pub fn init(config: TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    let log_filter = log_filter(&config.log_filter)?;
    if tracing::dispatcher::has_been_set() {
        return Ok(TelemetryGuard::default());
    }
    let resource = resource(&config.service_name);
    let provider = match &config.traces {
        Traces::Off => SdkTracerProvider::builder().with_resource(resource).build(),
        Traces::Stdout => SdkTracerProvider::builder()
            .with_resource(resource)
            .with_span_processor(batch(exporter::Reporting::new(
                exporter::LogExporter,
                "stdout",
            )))
            .build(),
        Traces::Otlp { endpoint } => {
            use opentelemetry_otlp::WithExportConfig as _;
            // tonic's lazily connecting channel spawns its worker on the current runtime.
            tokio::runtime::Handle::try_current().map_err(|_| TelemetryError::NoRuntime)?;
            let otlp = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .with_timeout(EXPORT_TIMEOUT)
                .build()
                .map_err(|e| TelemetryError::Exporter {
                    endpoint: endpoint.clone(),
                    reason: e.to_string(),
                })?;
            SdkTracerProvider::builder()
                .with_resource(resource)
                .with_span_processor(batch(exporter::Reporting::new(otlp, endpoint)))
                .build()
        }
    };
    let installed = install(
        &config.service_name,
        &provider,
        log_filter,
        config.log_format,
        false,
    );
    if !installed {
        // Lost a race with another init; that one stays in charge.
        let _ = provider.shutdown();
        return Ok(TelemetryGuard::default());
    }
    tracing::debug!(service = %config.service_name, traces = ?config.traces, "telemetry initialised");
    Ok(TelemetryGuard::with_provider(Some(provider)))
}

fn log_filter(directives: &str) -> Result<EnvFilter, TelemetryError> {
    EnvFilter::try_new(directives).map_err(|e| TelemetryError::Filter {
        filter: directives.to_owned(),
        reason: e.to_string(),
    })
}

fn resource(service_name: &str) -> Resource {
    Resource::builder()
        .with_service_name(service_name.to_owned())
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A batch processor with a bounded queue: when the collector is slow or absent, spans are dropped
/// (the SDK counts them), requests are never held up. Exports run on the SDK's own thread.
fn batch<E: opentelemetry_sdk::trace::SpanExporter + 'static>(exporter: E) -> BatchSpanProcessor {
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(4_096)
                .with_max_export_batch_size(512)
                .with_scheduled_delay(Duration::from_secs(2))
                .build(),
        )
        .build()
}

/// Sets the propagator and the global subscriber; false if a subscriber was already set.
fn install(
    service_name: &str,
    provider: &SdkTracerProvider,
    log_filter: EnvFilter,
    format: LogFormat,
    test_writer: bool,
) -> bool {
    let trace_filter = EnvFilter::new(TRACE_FILTER);
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service_name.to_owned()))
        .with_filter(trace_filter);
    let dispatch = Arc::new(OnceLock::<WeakDispatch>::new());
    let fmt = match (format, test_writer) {
        (LogFormat::Text, false) => tracing_subscriber::fmt::layer().boxed(),
        (LogFormat::Text, true) => tracing_subscriber::fmt::layer().with_test_writer().boxed(),
        (LogFormat::Json, test) => {
            let layer = tracing_subscriber::fmt::layer()
                .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                .event_format(json::JsonWithTraceIds::new(dispatch.clone()));
            if test {
                layer.with_test_writer().boxed()
            } else {
                layer.boxed()
            }
        }
    };
    let subscriber = tracing_subscriber::registry()
        .with(otel)
        .with(json::DispatchSlot::new(dispatch))
        .with(fmt.with_filter(log_filter));
    if subscriber.try_init().is_err() {
        return false;
    }
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    true
}
