//! The tower layer that authenticates every call before its body is read, applies the RPC table and
//! hands the [`Principal`](crate::Principal) to the handler as a request extension.
//!
//! ```ignore
//! let auth = p06_auth::authenticator_for(p06_auth::AuthConfig::from_env()?, &data_dir)?;
//! tonic::transport::Server::builder()
//!     .layer(p06_auth::AuthLayer::new(auth))
//!     .add_service(IngestServiceServer::new(ingest))
//!     .serve(addr).await?;
//! // in a handler:
//! let caller = request.extensions().get::<p06_auth::Principal>().ok_or_else(|| Status::unauthenticated(""))?;
//! ```
//!
//! Per request, using only the URI path and the headers:
//! 1. a [`Access::Public`] path passes untouched;
//! 2. otherwise the bearer token is validated (`UNAUTHENTICATED` when it fails);
//! 3. the path's table rule is applied (`PERMISSION_DENIED` when missing from the table or not
//!    allowed);
//! 4. the [`Principal`](crate::Principal) is inserted into the request extensions and the inner
//!    service is called.
//!
//! A refusal answers a trailers-only gRPC response (`grpc-status`, `grpc-message` headers) and never
//! calls the inner service, so no handler runs and no request body is read. With `tonic-web`, put
//! this layer after (inside) `GrpcWebLayer` so refusals are translated for browsers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::error::AuthError;
use crate::table::{Access, access_for, authorize};
use crate::validate::Authenticator;

/// Copies the caller's `authorization` metadata onto an outgoing request, unchanged (agency
/// service → aggregator: the aggregator re-validates the caller's own token). Returns whether
/// there was one to copy.
pub fn forward_authorization<T>(incoming: &MetadataMap, outgoing: &mut tonic::Request<T>) -> bool {
    match incoming.get("authorization") {
        Some(token) => {
            outgoing
                .metadata_mut()
                .insert("authorization", token.clone());
            true
        }
        None => false,
    }
}

#[derive(Clone)]
pub struct AuthLayer {
    authenticator: Arc<Authenticator>,
}

impl AuthLayer {
    pub fn new(authenticator: Arc<Authenticator>) -> Self {
        Self { authenticator }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    authenticator: Arc<Authenticator>,
}

impl<S> AuthService<S> {
    fn check<B>(&self, request: &mut http::Request<B>) -> Result<(), Status> {
        let path = request.uri().path();
        let access = access_for(path);
        if access == Some(Access::Public) {
            return Ok(());
        }
        let principal = self.authenticator.authenticate_headers(request.headers())?;
        let refuse = |e: AuthError| {
            tracing::info!(
                reason = %e,
                method = path,
                subject = %principal.subject,
                token_id = principal.token_id.as_deref().unwrap_or("-"),
                "call refused"
            );
            e
        };
        let Some(access) = access else {
            tracing::warn!(method = path, "method missing from the RPC table: refused");
            return Err(refuse(AuthError::forbidden()).into());
        };
        authorize(&principal, access).map_err(refuse)?;
        request.extensions_mut().insert(principal);
        Ok(())
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for AuthService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        match self.check(&mut request) {
            Ok(()) => {
                // The clone that was polled ready serves this call; a fresh clone waits for the next.
                let clone = self.inner.clone();
                let mut ready = std::mem::replace(&mut self.inner, clone);
                Box::pin(ready.call(request))
            }
            Err(status) => Box::pin(async move { Ok(status.into_http()) }),
        }
    }
}
