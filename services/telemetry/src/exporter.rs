//! Span exporters: finished spans as log lines (`P06_TRACES=stdout`), and a wrapper that reports
//! export failures once instead of failing silently (the SDK's own diagnostics are compiled out).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Writes every finished span as one INFO event with target `p06::span`.
#[derive(Debug, Default)]
pub(crate) struct LogExporter;

impl SpanExporter for LogExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        for span in batch {
            let duration = span
                .end_time
                .duration_since(span.start_time)
                .unwrap_or_default();
            let attributes: Vec<String> = span
                .attributes
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect();
            tracing::info!(
                target: "p06::span",
                name = %span.name,
                kind = ?span.span_kind,
                trace_id = %span.span_context.trace_id(),
                span_id = %span.span_context.span_id(),
                parent_span_id = %span.parent_span_id,
                status = ?span.status,
                duration_us = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
                attributes = %attributes.join(" "),
                "span"
            );
        }
        Ok(())
    }
}

/// Logs the first failed export (a WARN with the reason) and the recovery; spans of failed
/// batches are dropped, never retried into an unbounded backlog.
#[derive(Debug)]
pub(crate) struct Reporting<E> {
    inner: E,
    destination: String,
    failing: AtomicBool,
}

impl<E> Reporting<E> {
    pub(crate) fn new(inner: E, destination: &str) -> Self {
        Reporting {
            inner,
            destination: destination.to_owned(),
            failing: AtomicBool::new(false),
        }
    }
}

impl<E: SpanExporter> SpanExporter for Reporting<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let result = self.inner.export(batch).await;
        match &result {
            Err(error) if !self.failing.swap(true, Ordering::Relaxed) => tracing::warn!(
                target: "p06::telemetry",
                destination = %self.destination,
                %error,
                spans,
                "trace export failed; spans are dropped until it succeeds again"
            ),
            Ok(()) if self.failing.swap(false, Ordering::Relaxed) => tracing::info!(
                target: "p06::telemetry",
                destination = %self.destination,
                "trace export works again"
            ),
            _ => {}
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
