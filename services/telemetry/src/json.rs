//! JSON log lines that carry the OpenTelemetry `trace_id` and `span_id` of the event's span, so a
//! log search and the trace view meet.
//!
//! tracing-opentelemetry keeps its per-span data private; the supported way in is
//! [`tracing_opentelemetry::get_otel_context`], which needs the subscriber's `Dispatch`.
//! [`DispatchSlot`] is a do-nothing layer that captures it (weakly) when the subscriber is
//! registered, and [`JsonWithTraceIds`] reads it while formatting.

use std::fmt;
use std::sync::{Arc, OnceLock};

use opentelemetry::trace::TraceContextExt as _;
use serde_json::{Map, Value};
use tracing::dispatcher::WeakDispatch;
use tracing::field::{Field, Visit};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime as _, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

type Slot = Arc<OnceLock<WeakDispatch>>;

/// Remembers the dispatcher this layer stack was registered with.
pub(crate) struct DispatchSlot(Slot);

impl DispatchSlot {
    pub(crate) fn new(slot: Slot) -> Self {
        DispatchSlot(slot)
    }
}

impl<S: Subscriber> Layer<S> for DispatchSlot {
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.0.set(subscriber.downgrade());
    }
}

/// One JSON object per line: `timestamp`, `level`, `target`, `fields` (with `message`), `span` (the
/// innermost span's name and fields), `spans` (root first), `trace_id`, `span_id`.
pub(crate) struct JsonWithTraceIds {
    dispatch: Slot,
}

impl JsonWithTraceIds {
    pub(crate) fn new(dispatch: Slot) -> Self {
        JsonWithTraceIds { dispatch }
    }
}

impl<S> FormatEvent<S, JsonFields> for JsonWithTraceIds
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut line = Map::new();
        let mut timestamp = String::new();
        if SystemTime.format_time(&mut Writer::new(&mut timestamp)).is_ok() {
            line.insert("timestamp".into(), timestamp.into());
        }
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("target".into(), meta.target().into());
        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));
        line.insert("fields".into(), fields.into());

        // Trace ids first: looking them up takes the span's extensions, which must not be held.
        let ids = self.trace_ids(ctx);
        if let Some(scope) = ctx.event_scope() {
            let spans: Vec<Value> = scope
                .from_root()
                .map(|span| {
                    let extensions = span.extensions();
                    let mut object = extensions
                        .get::<FormattedFields<JsonFields>>()
                        .and_then(|f| serde_json::from_str::<Map<String, Value>>(&f.fields).ok())
                        .unwrap_or_default();
                    object.insert("name".into(), span.name().into());
                    Value::Object(object)
                })
                .collect();
            if let Some(current) = spans.last() {
                line.insert("span".into(), current.clone());
            }
            line.insert("spans".into(), spans.into());
        }
        if let Some((trace_id, span_id)) = ids {
            line.insert("trace_id".into(), trace_id.into());
            line.insert("span_id".into(), span_id.into());
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

impl JsonWithTraceIds {
    /// The ids of the innermost span in the event's scope that the OpenTelemetry layer tracks.
    fn trace_ids<S>(&self, ctx: &FmtContext<'_, S, JsonFields>) -> Option<(String, String)>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let dispatch = self.dispatch.get()?.upgrade()?;
        let ids: Vec<_> = ctx.event_scope()?.map(|span| span.id()).collect();
        ids.iter().find_map(|id| {
            let cx = tracing_opentelemetry::get_otel_context(id, &dispatch)?;
            let span = cx.span();
            let sc = span.span_context();
            sc.is_valid()
                .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
        })
    }
}

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Mutex;

    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_carry_trace_and_span_ids() {
        let provider = SdkTracerProvider::builder().build();
        let buffer = Buffer::default();
        let slot = Slot::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(DispatchSlot::new(slot.clone()))
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(JsonWithTraceIds::new(slot))
                    .with_writer(move || writer.clone()),
            );
        let (outer_ids, inner_ids) = tracing::subscriber::with_default(subscriber, || {
            use tracing_opentelemetry::OpenTelemetrySpanExt as _;
            tracing::info!("outside any span");
            let outer = tracing::info_span!("outer", province = "2025/52");
            let _outer = outer.enter();
            tracing::info!(count = 3_u64, "in outer");
            let inner = tracing::info_span!("inner");
            let _inner = inner.enter();
            tracing::warn!("in inner");
            let ids = |s: &tracing::Span| {
                let cx = s.context();
                let sc = cx.span().span_context().clone();
                (sc.trace_id().to_string(), sc.span_id().to_string())
            };
            (ids(&outer), ids(&inner))
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].get("trace_id").is_none());
        assert_eq!(lines[0]["fields"]["message"], "outside any span");
        assert_eq!(lines[1]["trace_id"], outer_ids.0.as_str());
        assert_eq!(lines[1]["span_id"], outer_ids.1.as_str());
        assert_eq!(lines[1]["fields"]["count"], 3);
        assert_eq!(lines[1]["span"]["province"], "2025/52");
        assert_eq!(lines[2]["trace_id"], outer_ids.0.as_str());
        assert_eq!(lines[2]["span_id"], inner_ids.1.as_str());
        assert_eq!(lines[2]["level"], "WARN");
        assert_eq!(lines[2]["spans"][0]["name"], "outer");
        assert_eq!(lines[2]["spans"][1]["name"], "inner");
    }
}
