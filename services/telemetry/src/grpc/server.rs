//! The server side: one `otel.kind = server` span per call, continuing the caller's trace.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use opentelemetry::trace::TraceContextExt as _;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::{Call, HeaderExtractor, Side, TracedBody, split};

/// Health checks are traced only when the caller sends a trace context: probes every few seconds
/// would otherwise be most of the traces.
const HEALTH_SERVICE: &str = "grpc.health.v1.Health";

/// Tower layer for `tonic::transport::Server::builder().layer(GrpcServerTraceLayer)`.
///
/// For every call it extracts the W3C `traceparent`/`tracestate` from the request headers with the
/// global propagator (a call without one starts a new trace), opens the span
/// `package.Service/Method` with `otel.kind = server`, `rpc.system = grpc`, `rpc.service`,
/// `rpc.method`, runs the inner service inside it, and records `rpc.grpc.status_code` and
/// `otel.status_code` (ERROR only for server-side failures, per the OpenTelemetry conventions) from
/// the trailers-only headers or the trailers. The call's end is logged with target `p06::grpc`:
/// refusals (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, UNAUTHENTICATED,
/// FAILED_PRECONDITION, OUT_OF_RANGE, CANCELLED) at INFO, overload and unavailability at WARN,
/// UNKNOWN/INTERNAL/DATA_LOSS at ERROR, success at DEBUG.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcServerTraceLayer;

impl<S> tower::Layer<S> for GrpcServerTraceLayer {
    type Service = GrpcServerTrace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcServerTrace { inner }
    }
}

/// The service made by [`GrpcServerTraceLayer`].
#[derive(Debug, Clone)]
pub struct GrpcServerTrace<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for GrpcServerTrace<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = http::Response<TracedBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let parent = opentelemetry::global::get_text_map_propagator(|p| {
            p.extract(&HeaderExtractor(request.headers()))
        });
        let span = server_span(request.uri().path(), parent);
        // The service that was polled ready handles this call; the clone waits for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let call_span = span.clone();
        Box::pin(
            async move {
                let result = inner.call(request).await;
                let call = Call::new(call_span, Side::Server);
                match result {
                    Ok(response) => Ok(call.wrap(response)),
                    Err(error) => {
                        call.fail("the service failed without a response");
                        Err(error)
                    }
                }
            }
            .instrument(span),
        )
    }
}

fn server_span(path: &str, parent: opentelemetry::Context) -> tracing::Span {
    let (service, method) = split(path);
    if service == HEALTH_SERVICE && !parent.span().span_context().is_valid() {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(
        "grpc.server",
        otel.name = %path.trim_start_matches('/'),
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
        rpc.grpc.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        otel.status_description = tracing::field::Empty,
    );
    // Always set, even when empty: a call without trace context is a new trace, never a child of
    // whatever span the serving task happens to run in.
    let _ = span.set_parent(parent);
    span
}
