//! W3C trace context across gRPC hops, and the gRPC status on the spans of both ends.
//!
//! Where the status is: a call that fails before any message (most refusals) is a "trailers-only"
//! response with `grpc-status` in the response headers; every other call — OK unary answers,
//! streams, errors after the first message — carries it in the trailers at the end of the body.
//! [`TracedBody`] wraps the response body to read it there, so the span closes when the last
//! frame has been sent (or received) and long streams get their true duration.

pub(crate) mod client;
pub(crate) mod server;

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use opentelemetry::propagation::{Extractor, Injector};
use tonic::Code;

/// `/package.Service/Method` → (`package.Service`, `Method`).
pub(crate) fn split(path: &str) -> (&str, &str) {
    let path = path.trim_start_matches('/');
    path.split_once('/').unwrap_or((path, ""))
}

/// How a call ended, as far as logs and alerting are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrpcOutcome {
    Ok,
    /// The caller's doing, an expected answer (bad input, unknown entity, denied token,
    /// precondition, the caller cancelling): logged at INFO.
    Refused,
    /// Overload, timeouts, unavailability, conflicts: logged at WARN.
    Transient,
    /// A server fault (UNKNOWN, INTERNAL, DATA_LOSS): logged at ERROR.
    Fault,
}

/// Classifies a status code (server side).
pub fn classify(code: Code) -> GrpcOutcome {
    match code {
        Code::Ok => GrpcOutcome::Ok,
        Code::Cancelled
        | Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::PermissionDenied
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::Unauthenticated => GrpcOutcome::Refused,
        Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Aborted
        | Code::Unimplemented
        | Code::Unavailable => GrpcOutcome::Transient,
        Code::Unknown | Code::Internal | Code::DataLoss => GrpcOutcome::Fault,
    }
}

/// OpenTelemetry semantic conventions: a server span is in error only for these codes (the
/// others are the client's problem); a client span for every non-OK code.
fn server_span_error(code: Code) -> bool {
    matches!(
        code,
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    )
}

pub(crate) struct HeaderExtractor<'a>(pub(crate) &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

pub(crate) struct HeaderInjector<'a>(pub(crate) &'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// `grpc-status` and the (percent-decoded, shortened) `grpc-message` of a header or trailer map.
fn status_of(headers: &http::HeaderMap) -> Option<(Code, String)> {
    let code = Code::from_bytes(headers.get("grpc-status")?.as_bytes());
    let message = headers
        .get("grpc-message")
        .map(|v| percent_decode(v.as_bytes()))
        .unwrap_or_default();
    Some((code, message))
}

const MAX_MESSAGE_CHARS: usize = 200;

fn percent_decode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out)
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Server,
    Client,
}

/// A call whose status is not known yet; recording it ends the span (unless others hold it).
#[derive(Debug)]
pub(crate) struct Call {
    span: tracing::Span,
    side: Side,
}

impl Call {
    pub(crate) fn new(span: tracing::Span, side: Side) -> Self {
        Call { span, side }
    }

    /// Wraps the response: records the status now if it is in the headers (trailers-only
    /// response), or when the trailers come by.
    pub(crate) fn wrap<B>(self, response: http::Response<B>) -> http::Response<TracedBody<B>> {
        let status = status_of(response.headers());
        let call = match status {
            Some((code, message)) => {
                self.finish(code, &message);
                None
            }
            None => Some(self),
        };
        response.map(|body| TracedBody {
            inner: Box::pin(body),
            call,
        })
    }

    pub(crate) fn finish(self, code: Code, message: &str) {
        let span = &self.span;
        span.record("rpc.grpc.status_code", code as i64);
        let error = match self.side {
            Side::Server => server_span_error(code),
            Side::Client => code != Code::Ok,
        };
        if code == Code::Ok {
            span.record("otel.status_code", "OK");
        } else if error {
            span.record("otel.status_code", "ERROR");
            let description = if message.is_empty() {
                code.description()
            } else {
                message
            };
            span.record("otel.status_description", description);
        }
        if self.side == Side::Client {
            // The caller gets the status and decides what it means.
            tracing::debug!(target: "p06::grpc", parent: span, grpc.code = ?code, "call returned");
            return;
        }
        match classify(code) {
            GrpcOutcome::Ok => {
                tracing::debug!(target: "p06::grpc", parent: span, "call finished");
            }
            GrpcOutcome::Refused => tracing::info!(
                target: "p06::grpc", parent: span,
                grpc.code = ?code, grpc.message = message, "call refused"
            ),
            GrpcOutcome::Transient => tracing::warn!(
                target: "p06::grpc", parent: span,
                grpc.code = ?code, grpc.message = message, "call failed"
            ),
            GrpcOutcome::Fault => tracing::error!(
                target: "p06::grpc", parent: span,
                grpc.code = ?code, grpc.message = message, "call failed"
            ),
        }
    }

    /// The inner service failed without an HTTP response (transport error on the client side).
    pub(crate) fn fail(self, what: &str) {
        self.span.record("otel.status_code", "ERROR");
        self.span.record("otel.status_description", what);
        tracing::debug!(target: "p06::grpc", parent: &self.span, "{what}");
    }
}

/// A response body that records the call's gRPC status from the trailers on the call's span.
/// If it is dropped before the end, the call counts as CANCELLED.
pub struct TracedBody<B> {
    inner: Pin<Box<B>>,
    call: Option<Call>,
}

impl<B> std::fmt::Debug for TracedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedBody")
            .field("pending_status", &self.call.is_some())
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for TracedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let polled = this.inner.as_mut().poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref()
                    && let Some(call) = this.call.take()
                {
                    match status_of(trailers) {
                        Some((code, message)) => call.finish(code, &message),
                        None => call.fail("trailers without grpc-status"),
                    }
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(call) = this.call.take() {
                    call.fail("response body failed");
                }
            }
            Poll::Ready(None) => {
                if let Some(call) = this.call.take() {
                    call.fail("response ended without grpc-status");
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for TracedBody<B> {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call.finish(Code::Cancelled, "response dropped before its end");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_service_and_method() {
        assert_eq!(
            split("/p06.aggregation.v1.IngestService/SubmitReport"),
            ("p06.aggregation.v1.IngestService", "SubmitReport")
        );
        assert_eq!(split("/odd"), ("odd", ""));
    }

    #[test]
    fn refusals_are_not_faults() {
        for code in [
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::FailedPrecondition,
        ] {
            assert_eq!(classify(code), GrpcOutcome::Refused, "{code:?}");
            assert!(!server_span_error(code));
        }
        assert_eq!(classify(Code::Internal), GrpcOutcome::Fault);
        assert_eq!(classify(Code::Unavailable), GrpcOutcome::Transient);
        assert!(server_span_error(Code::Internal));
    }

    #[test]
    fn status_comes_from_headers_with_decoded_message() {
        let mut headers = http::HeaderMap::new();
        assert!(status_of(&headers).is_none());
        headers.insert("grpc-status", "3".parse().unwrap());
        headers.insert(
            "grpc-message",
            "period%20ends%20before%20it%20starts%3A%20%E2%9C%93%".parse().unwrap(),
        );
        let (code, message) = status_of(&headers).unwrap();
        assert_eq!(code, Code::InvalidArgument);
        assert_eq!(message, "period ends before it starts: ✓%");
    }
}
