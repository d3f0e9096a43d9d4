//! A panic in a handler answers INTERNAL for that call, never a dropped connection.
//!
//! Without this layer a panic unwinds through hyper's connection task: the connection, and every
//! other call multiplexed on it, ends with CANCELLED or a protocol error. [`CatchPanicLayer`]
//! catches it where the call's future or its response body is polled:
//! - in the handler (unary calls, or before a stream starts): a trailers-only response with
//!   `grpc-status` INTERNAL;
//! - while a streaming response is being produced: the stream ends with INTERNAL trailers.
//!
//! Each panic is logged at ERROR with the method and the panic message; the caller sees only
//! "internal error". [`ServiceHost`](crate::host::ServiceHost) installs it on every service.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body::{Frame, SizeHint};
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::Bytes;

/// What a caller is told when a handler panicked.
pub const PANIC_MESSAGE: &str = "internal error";

#[derive(Debug, Clone, Copy, Default)]
pub struct CatchPanicLayer;

impl<S> tower::Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CatchPanic { inner }
    }
}

#[derive(Debug, Clone)]
pub struct CatchPanic<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ReqBody> tower::Service<http::Request<ReqBody>> for CatchPanic<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let method: Arc<str> = Arc::from(request.uri().path());
        // The clone that was polled ready serves this call; a fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, clone);
        match catch_unwind(AssertUnwindSafe(|| ready.call(request))) {
            Ok(future) => Box::pin(Guarded {
                future: Box::pin(future),
                method,
            }),
            Err(payload) => {
                let response = internal_response(&method, payload.as_ref());
                Box::pin(std::future::ready(Ok(response)))
            }
        }
    }
}

/// The call's future, its panics caught.
struct Guarded<F> {
    future: Pin<Box<F>>,
    method: Arc<str>,
}

impl<F, E> Future for Guarded<F>
where
    F: Future<Output = Result<http::Response<Body>, E>>,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match catch_unwind(AssertUnwindSafe(|| this.future.as_mut().poll(cx))) {
            Ok(Poll::Ready(Ok(response))) => {
                let method = this.method.clone();
                Poll::Ready(Ok(response.map(|inner| {
                    Body::new(GuardedBody {
                        inner,
                        method,
                        failed: false,
                    })
                })))
            }
            Ok(other) => other,
            Err(payload) => Poll::Ready(Ok(internal_response(&this.method, payload.as_ref()))),
        }
    }
}

/// A response body (a stream's messages), its panics caught: the stream then ends with INTERNAL.
struct GuardedBody {
    inner: Body,
    method: Arc<str>,
    failed: bool,
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let this = &mut *self;
        if this.failed {
            return Poll::Ready(None);
        }
        match catch_unwind(AssertUnwindSafe(|| {
            Pin::new(&mut this.inner).poll_frame(cx)
        })) {
            Ok(frame) => frame,
            Err(payload) => {
                this.failed = true;
                log_panic(&this.method, payload.as_ref());
                let mut trailers = http::HeaderMap::new();
                match Status::internal(PANIC_MESSAGE).add_header(&mut trailers) {
                    Ok(()) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
                    Err(status) => Poll::Ready(Some(Err(status))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.failed {
            SizeHint::with_exact(0)
        } else {
            self.inner.size_hint()
        }
    }
}

fn internal_response(method: &str, payload: &(dyn Any + Send)) -> http::Response<Body> {
    log_panic(method, payload);
    Status::internal(PANIC_MESSAGE).into_http()
}

fn log_panic(method: &str, payload: &(dyn Any + Send)) {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)");
    tracing::error!(
        method,
        panic = message,
        "handler panicked; the call was answered INTERNAL"
    );
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body_util::BodyExt as _;
    use tower::{Layer as _, ServiceExt as _};

    use super::*;

    fn request(path: &str) -> http::Request<Body> {
        http::Request::builder()
            .uri(format!("http://localhost{path}"))
            .body(Body::empty())
            .unwrap()
    }

    /// `grpc-status` of a response: from its headers (trailers-only) or else its trailers.
    async fn grpc_status(response: http::Response<Body>) -> (String, Vec<Bytes>) {
        let (parts, body) = response.into_parts();
        if let Some(status) = parts.headers.get("grpc-status") {
            return (status.to_str().unwrap().to_owned(), Vec::new());
        }
        let collected = body.collect().await.expect("the body ends cleanly");
        let trailers = collected.trailers().cloned().expect("trailers");
        let status = trailers.get("grpc-status").unwrap().to_str().unwrap();
        (status.to_owned(), vec![collected.to_bytes()])
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_internal() {
        let service = CatchPanicLayer.layer(tower::service_fn(
            |request: http::Request<Body>| async move {
                if request.uri().path().ends_with("Explode") {
                    panic!("index out of bounds");
                }
                Ok::<_, Infallible>(Status::ok("").into_http::<Body>())
            },
        ));
        let response = service
            .clone()
            .oneshot(request("/p06.test.v1.Test/Explode"))
            .await
            .unwrap();
        let (status, _) = grpc_status(response).await;
        assert_eq!(status, (tonic::Code::Internal as i32).to_string());
        // The service goes on serving other calls.
        let response = service
            .oneshot(request("/p06.test.v1.Test/Fine"))
            .await
            .unwrap();
        assert_eq!(grpc_status(response).await.0, "0");
    }

    #[tokio::test]
    async fn a_panic_in_the_synchronous_part_of_call_answers_internal() {
        #[derive(Clone)]
        struct PanicsInCall;
        impl tower::Service<http::Request<Body>> for PanicsInCall {
            type Response = http::Response<Body>;
            type Error = Infallible;
            type Future = std::future::Ready<Result<http::Response<Body>, Infallible>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, _: http::Request<Body>) -> Self::Future {
                panic!("before any future exists")
            }
        }
        let response = CatchPanicLayer
            .layer(PanicsInCall)
            .oneshot(request("/p06.test.v1.Test/Call"))
            .await
            .unwrap();
        assert_eq!(grpc_status(response).await.0, "13");
    }

    #[tokio::test]
    async fn a_stream_that_panics_midway_ends_with_internal_trailers() {
        struct Exploding(u8);
        impl http_body::Body for Exploding {
            type Data = Bytes;
            type Error = Status;
            fn poll_frame(
                mut self: Pin<&mut Self>,
                _: &mut Context<'_>,
            ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
                self.0 += 1;
                if self.0 > 1 {
                    panic!("the second message explodes");
                }
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"first")))))
            }
        }
        let service =
            CatchPanicLayer.layer(tower::service_fn(|_: http::Request<Body>| async move {
                Ok::<_, Infallible>(
                    http::Response::builder()
                        .header("content-type", "application/grpc")
                        .body(Body::new(Exploding(0)))
                        .unwrap(),
                )
            }));
        let response = service
            .oneshot(request("/p06.test.v1.Test/Watch"))
            .await
            .unwrap();
        let (status, data) = grpc_status(response).await;
        assert_eq!(status, "13");
        assert_eq!(data, [Bytes::from_static(b"first")]);
    }
}
