//! Collecting finished spans in tests (feature `testing`).
//!
//! The global subscriber can be set once per process, and test binaries run many tests in one
//! process. So the first call installs the subscriber with a fan-out span processor, and every call
//! registers its own exporter with it: each test receives every span ended while it is registered
//! (spans of tests running in parallel included; select yours by trace id). Spans reach the
//! exporter synchronously when they end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use opentelemetry::trace::TraceId;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor, SpanData, SpanExporter,
    SpanProcessor,
};
use tracing_subscriber::EnvFilter;

use crate::{LogFormat, TelemetryError, TelemetryGuard};

type Sinks = Vec<(u64, Box<dyn SpanProcessor>)>;

static SINKS: Mutex<Sinks> = Mutex::new(Vec::new());
static NEXT_SINK: AtomicU64 = AtomicU64::new(1);
static RESOURCE: OnceLock<Resource> = OnceLock::new();
/// Whether this module installed the global subscriber (false: someone else had).
static INSTALLED: OnceLock<bool> = OnceLock::new();

fn sinks() -> std::sync::MutexGuard<'static, Sinks> {
    SINKS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Hands every ended span to each registered sink.
#[derive(Debug)]
struct FanOut;

impl SpanProcessor for FanOut {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        for (_, sink) in sinks().iter() {
            sink.on_end(span.clone());
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        let _ = RESOURCE.set(resource.clone());
    }
}

/// Unregisters its sink when dropped.
#[derive(Debug)]
pub(crate) struct SinkRegistration(u64);

impl Drop for SinkRegistration {
    fn drop(&mut self) {
        sinks().retain(|(id, _)| *id != self.0);
    }
}

/// Installs test telemetry (once per process; the first caller's `service_name` is the resource's
/// `service.name`) and sends every span that ends from now on, until the guard is dropped, to
/// `exporter`. Log lines go to the test writer, filtered by `RUST_LOG` (default `warn`).
///
/// Fails with [`TelemetryError::ForeignSubscriber`] if a global subscriber was set by other means
/// (e.g. [`crate::init`]) before the first call.
pub fn init_with_exporter<E: SpanExporter + 'static>(
    service_name: &str,
    exporter: E,
) -> Result<TelemetryGuard, TelemetryError> {
    let installed = *INSTALLED.get_or_init(|| {
        if tracing::dispatcher::has_been_set() {
            return false;
        }
        let provider = SdkTracerProvider::builder()
            .with_resource(crate::resource(service_name))
            .with_span_processor(FanOut)
            .build();
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
        crate::install(service_name, &provider, filter, LogFormat::Text, true)
    });
    if !installed {
        return Err(TelemetryError::ForeignSubscriber);
    }
    let mut processor = SimpleSpanProcessor::new(exporter);
    if let Some(resource) = RESOURCE.get() {
        processor.set_resource(resource);
    }
    let id = NEXT_SINK.fetch_add(1, Ordering::Relaxed);
    sinks().push((id, Box::new(processor)));
    Ok(TelemetryGuard {
        provider: None,
        sink: Some(SinkRegistration(id)),
    })
}

/// Spans collected for one test; stops collecting when dropped.
#[derive(Debug)]
pub struct TestSpans {
    exporter: InMemorySpanExporter,
    _guard: TelemetryGuard,
}

/// [`init_with_exporter`] with a fresh in-memory exporter.
///
/// # Panics
/// If a global subscriber was installed by other means first.
pub fn init_for_tests() -> TestSpans {
    let exporter = InMemorySpanExporter::default();
    let guard = init_with_exporter("p06-test", exporter.clone())
        .expect("test telemetry must be the process's first subscriber");
    TestSpans {
        exporter,
        _guard: guard,
    }
}

impl TestSpans {
    pub fn exporter(&self) -> &InMemorySpanExporter {
        &self.exporter
    }

    /// Every span that ended since this collector was created.
    pub fn finished(&self) -> Vec<SpanData> {
        self.exporter.get_finished_spans().unwrap_or_default()
    }

    /// The finished spans of one trace.
    pub fn trace(&self, trace_id: TraceId) -> Vec<SpanData> {
        let mut spans = self.finished();
        spans.retain(|s| s.span_context.trace_id() == trace_id);
        spans
    }

    /// Waits (up to `timeout`) until `done` holds for the finished spans, and returns them. Server
    /// spans end when the response's last frame is sent, a moment after the client has its answer.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[SpanData]) -> bool,
    ) -> Vec<SpanData> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let spans = self.finished();
            if done(&spans) || tokio::time::Instant::now() >= deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
