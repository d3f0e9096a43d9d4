//! The client side: an `otel.kind = client` span per outgoing call, whose context travels in the
//! request metadata (`traceparent`, `tracestate`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use opentelemetry::propagation::Injector;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::{Call, HeaderInjector, Side, TracedBody, split};

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// Writes `span`'s trace context (`traceparent`, `tracestate`) into outgoing metadata, replacing
/// any the request already had.
pub fn inject_context(span: &tracing::Span, metadata: &mut MetadataMap) {
    let cx = span.context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut MetadataInjector(metadata))
    });
}

/// [`inject_context`] with the current span.
pub fn inject_current_context(metadata: &mut MetadataMap) {
    inject_context(&tracing::Span::current(), metadata);
}

/// A tonic interceptor that injects the current span's context:
/// `FooClient::with_interceptor(channel, p06_telemetry::interceptor)`. It creates no client span;
/// use [`GrpcClientTraceLayer`] or [`client_span`] for that.
#[allow(clippy::result_large_err)] // the signature tonic's `Interceptor` wants
pub fn interceptor(
    mut request: tonic::Request<()>,
) -> Result<tonic::Request<()>, tonic::Status> {
    inject_current_context(request.metadata_mut());
    Ok(request)
}

/// A client span for an outgoing call to `/package.Service/Method`, child of the current span.
/// Instrument the call's future with it and inject its context:
///
/// ```ignore
/// let span = p06_telemetry::client_span("/p06.aggregation.v1.IngestService/SubmitReport");
/// p06_telemetry::inject_context(&span, request.metadata_mut());
/// client.submit_report(request).instrument(span).await
/// ```
///
/// Its status fields (`rpc.grpc.status_code`, `otel.status_code`) are filled only by
/// [`GrpcClientTraceLayer`]; with this manual form the span says where the call went and how long
/// it took.
pub fn client_span(path: &str) -> tracing::Span {
    let (service, method) = split(path);
    tracing::info_span!(
        "grpc.client",
        otel.name = %path.trim_start_matches('/'),
        otel.kind = "client",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
        rpc.grpc.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        otel.status_description = tracing::field::Empty,
    )
}

/// Tower layer around a `tonic::transport::Channel`: every call gets a [`client_span`] (child of
/// the current span), its context is injected into the request headers, and the gRPC status is
/// recorded on it from the response headers or trailers.
///
/// ```ignore
/// let channel = tower::ServiceBuilder::new().layer(p06_telemetry::GrpcClientTraceLayer).service(channel);
/// let client = IngestServiceClient::new(channel);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcClientTraceLayer;

impl<S> tower::Layer<S> for GrpcClientTraceLayer {
    type Service = GrpcClientTrace<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcClientTrace { inner }
    }
}

/// The service made by [`GrpcClientTraceLayer`].
#[derive(Debug, Clone)]
pub struct GrpcClientTrace<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for GrpcClientTrace<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = http::Response<TracedBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        let span = client_span(request.uri().path());
        let cx = span.context();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(&cx, &mut HeaderInjector(request.headers_mut()))
        });
        let response = span.in_scope(|| self.inner.call(request));
        let call = Call::new(span.clone(), Side::Client);
        Box::pin(
            async move {
                match response.await {
                    Ok(response) => Ok(call.wrap(response)),
                    Err(error) => {
                        call.fail("transport error");
                        Err(error)
                    }
                }
            }
            .instrument(span),
        )
    }
}
