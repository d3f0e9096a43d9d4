//! A span exporter that writes finished spans as log lines (`P06_TRACES=stdout`).

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

#[derive(Debug, Default)]
pub struct LogExporter;

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
                trace_id = %span.span_context.trace_id(),
                span_id = %span.span_context.span_id(),
                parent_span_id = %span.parent_span_id,
                duration_us = duration.as_micros() as u64,
                attributes = %attributes.join(" "),
                "span"
            );
        }
        Ok(())
    }
}
